//go:build unix

package checkpoint

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/db/dbtest"
	"tongxin/internal/passtoken"
)

// BenchmarkScanLog is the cost of writing scans to SQLite per scan, by the
// number of scans per transaction: "answer" as the direct path does
// (insertScans, answering each scan with its row), "load" as the journal's
// loader does (loadScans). cpu-ns/op is the process's CPU time a scan
// (user and system: the database's work, the checkpointer's included);
// ns/op is the wall clock's, which for "load" counts the loader's pauses
// between statements (loadYield, which the runtime's timers stretch to up
// to a millisecond in a process with nothing else to run), so that it says
// little of the cost. In this otherwise idle process each pause also costs
// the scheduler's spinning for work, which a busy server does not pay:
// load-256 used 11.3 µs of CPU a scan against answer-256's 9.0 in one run,
// though it does less. docs/benchmarks.md explains from these figures why
// online scans are journaled. "random-256" loads as "load-256" does, with
// client ids in no order (UUIDs of version 4) rather than in time order,
// as the scan page's are (version 7).
func BenchmarkScanLog(b *testing.B) {
	clk := clock.NewManual(testBase)
	d := dbtest.Open(b, "sqlite", clk)
	f := newFixture(b, d, clk)
	c := f.checkpoint("株洲大桥", Bridge, "430211001")
	cl := claims("P1", "430211")
	info := passInfo(&cl, passtoken.OK)
	ctx := context.Background()
	var n int64
	var shown shownIDs
	type run struct {
		mode string
		rows int
	}
	var runs []run
	for _, mode := range []string{"answer", "load"} {
		for _, g := range []int{1, 4, 16, 256, 1024} {
			runs = append(runs, run{mode, g})
		}
	}
	for _, r := range append(runs, run{"random", 256}) {
		mode, g := r.mode, r.rows
		b.Run(fmt.Sprintf("%s-%d", mode, g), func(b *testing.B) {
			rows := make([]*scanRow, g)
			cpu := dbtest.ProcessCPU()
			for i := 0; i < b.N; i += g {
				for j := range rows {
					n++
					id := fmt.Sprintf("bench-%012d", n)
					if mode == "random" {
						id = fmt.Sprintf("%016x%016x", rand.Uint64(), rand.Uint64())
					}
					rows[j] = &scanRow{checkpoint: c.ID, clientID: id, claims: info, reason: passtoken.OK,
						scannedAt: testBase.Add(time.Duration(n) * time.Millisecond), officer: "kakou"}
				}
				err := d.Write(ctx, func(tx *db.Tx) error {
					if mode != "answer" {
						return loadScans(ctx, tx, &shown, rows)
					}
					_, err := insertScans(ctx, tx, &shown, rows, false)
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(dbtest.ProcessCPU()-cpu)/float64(b.N), "cpu-ns/op")
		})
	}
}
