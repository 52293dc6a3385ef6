package masstest

import (
	"fmt"
	"sync"
	"testing"
)

// Collectors at once, as at a site at peak: each resident sent by two
// devices (one a retry under the same client id, one another device),
// into shared 10-person tubes. Each resident is stored once, no tube
// holds more than ten, each tube's count is its samples, and the kept
// coverage is the coverage rebuilt from the samples.
func TestConcurrentSamplesFillTubesExactly(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		people := f.estateOf(dayuan, "大园小区", 60)
		r := f.round(dayuan)
		var wg sync.WaitGroup
		errc := make(chan error, 64)
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				for i, s := range people {
					if i%4 != g%4 {
						continue
					}
					// Tubes are shared by the goroutines: 12 people go for
					// each tube of ten, so some are refused as full.
					in := SampleInput{ClientID: fmt.Sprintf("dev%d-%s", g/4, s.code), Resident: s.code,
						Tube: fmt.Sprintf("C-%d", i/12), PoolSize: 10, Mode: AtSite}
					if _, err := f.svc.RecordSamples(f.Ctx, f.Sys, fmt.Sprint(r.ID), []SampleInput{in}); err != nil {
						errc <- err
						return
					}
				}
			}(g)
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			t.Fatal(err)
		}
		if n := f.Count(`SELECT COUNT(*) FROM testing_tubes WHERE filled > pool_size OR filled <>
			(SELECT COUNT(*) FROM testing_samples s WHERE s.tube_id = testing_tubes.id)`); n != 0 {
			t.Fatalf("%d tubes whose count is not their samples", n)
		}
		if n := f.Count(`SELECT COUNT(*) FROM (SELECT resident_id FROM testing_samples GROUP BY resident_id HAVING COUNT(*) > 1) x`); n != 0 {
			t.Fatalf("%d residents stored twice", n)
		}
		if kept, again := f.tallySnapshot(r.ID), f.rebuilt(r); kept != again {
			t.Fatalf("kept tally\n%s\nrebuilt\n%s", kept, again)
		}
	})
}
