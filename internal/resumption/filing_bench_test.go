package resumption

import (
	"sync/atomic"
	"testing"

	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db/dbtest"
)

// BenchmarkFileReport files daily reports through the service from
// parallel writers (16 per GOMAXPROCS; run it with -cpu 1, as the server
// runs pinned to one core), 100 units in turn, on a real clock so that
// every filing is a new moment. It reports the CPU time of a filing (the
// process's, so it holds on a shared machine better than ns/op) and the
// filings per write transaction that SQLite's group commit made: the
// profile of a filing without HTTP.
//
//	go test -run '^$' -bench BenchmarkFileReport -cpu 1 -benchtime 5s -cpuprofile /tmp/f.prof ./internal/resumption/
func BenchmarkFileReport(b *testing.B) {
	for _, kind := range dbtest.Kinds() {
		b.Run(kind, func(b *testing.B) {
			d := dbtest.Open(b, kind, clock.Real{})
			f := newFixture(b, d, clock.Real{})
			keys := make([]string, 100)
			for i := range keys {
				keys[i] = f.enterprise(urbanStreets[i%len(urbanStreets)], Categories[i%len(Categories)]).Key
			}
			p := f.officer(auth.HQStaff, "430200")
			date := clock.Real{}.Now().In(clock.Shanghai).Format(DateLayout)
			var n atomic.Int64
			txs0, writes0 := d.GroupStats()
			cpu0 := dbtest.ProcessCPU()
			b.SetParallelism(16)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := int(n.Add(1))
					if _, err := f.svc.FileReport(f.ctx, p, keys[i%len(keys)], reportIn(date, Resumed, i%100, 100, i%100)); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64((dbtest.ProcessCPU()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
			if txs, writes := d.GroupStats(); txs > txs0 {
				b.ReportMetric(float64(writes-writes0)/float64(txs-txs0), "filings/tx")
			}
		})
	}
}
