package masstest

import (
	"fmt"
	"testing"

	"tongxin/internal/clock"
	"tongxin/internal/db/dbtest"
	"tongxin/internal/testcity"
)

// BenchmarkRecordSamplesBatch records a batch of 1,000 samples (every
// resident of a 400-household estate, ten to a tube) into a new round each
// time, in process: for profiling the batch path, not for the figures
// (those come from tongxin-load, docs/benchmarks.md).
//
//	go test -run '^$' -bench BenchmarkRecordSamplesBatch -benchtime 20x -cpuprofile /tmp/cpu.out ./internal/masstest/
func BenchmarkRecordSamplesBatch(b *testing.B) {
	for _, kind := range dbtest.Kinds() {
		b.Run(kind, func(b *testing.B) {
			clk := clock.NewManual(testcity.Base)
			f := newFixture(b, dbtest.Open(b, kind, clk), clk)
			people := f.estateOf(dayuan, "大园小区", 400)[:1000]
			c, err := f.svc.CreateCampaign(f.Ctx, f.Sys, CampaignInput{Name: "全员核酸检测", AreaCode: dayuan})
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				b.StopTimer()
				r := f.nextRound(c.ID)
				in := make([]SampleInput, len(people))
				for i, s := range people {
					in[i] = SampleInput{ClientID: fmt.Sprintf("b%d-%d", r.ID, i), Resident: s.code,
						Tube: fmt.Sprintf("B%d-%d", r.ID, i/10), PoolSize: 10, Mode: AtSite}
				}
				b.StartTimer()
				res, err := f.svc.RecordSamples(f.Ctx, f.Sys, fmt.Sprint(r.ID), in)
				if err != nil {
					b.Fatal(err)
				}
				for i := range res {
					if res[i].Status != Created {
						b.Fatalf("record %d: %+v", i, res[i])
					}
				}
			}
		})
	}
}
