//go:build unix

package resumption

import (
	"context"
	"fmt"
	"testing"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db/dbtest"
)

// BenchmarkBreakdown measures the breakdowns of the benchmark city (10,000
// units, 900,000 reports, see benchLoad) with power data: baselines of the
// city's industry, of the four urban districts and of a park in each of
// their twelve streets, each with benchDays days of readings. A breakdown
// used to read the baselines and one reading per baseline again for every
// row (areas × (1 + baselines) queries); it now reads them once.
//
//	go test -run '^$' -bench BenchmarkBreakdown -benchtime 5x ./internal/resumption/
//
// runs it on SQLite, and on PostgreSQL too when TONGXIN_TEST_POSTGRES is set.
// Beside the time per call it reports the process's CPU time per call
// (cpu-ms/op), which on PostgreSQL leaves out the server's.
func BenchmarkBreakdown(b *testing.B) {
	for _, kind := range dbtest.Kinds() {
		b.Run(kind, func(b *testing.B) {
			clk := clock.NewManual(benchAt.Add(24 * time.Hour))
			d := dbtest.Open(b, kind, clk)
			f := newFixture(b, d, clk)
			benchLoad(b, d)
			benchPower(b, f)
			if kind == "postgres" {
				if err := d.Exec(f.ctx, `ANALYZE`); err != nil {
					b.Fatal(err)
				}
			}
			ctx := context.Background()
			hq := f.officer(auth.HQStaff, "430200")
			urban := StatsQuery{Areas: urbanDistrictCodes, At: benchAt}
			parts, err := f.svc.Breakdown(ctx, hq, urban, LevelStreet)
			if err != nil {
				b.Fatal(err)
			}
			if len(parts) != len(urbanStreets) || len(parts[0].Stats.Power) != 3 {
				b.Fatalf("breakdown looks wrong: %d rows, %+v", len(parts), parts[0].Stats.Power)
			}
			for _, c := range []struct {
				name  string
				q     StatsQuery
				level string
			}{
				{"street-urban", urban, LevelStreet},
				{"street-city", StatsQuery{At: benchAt}, LevelStreet},
				{"district-city", StatsQuery{At: benchAt}, LevelDistrict},
			} {
				b.Run(c.name, func(b *testing.B) {
					cpu := dbtest.ProcessCPU()
					for b.Loop() {
						if _, err := f.svc.Breakdown(ctx, hq, c.q, c.level); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64((dbtest.ProcessCPU()-cpu).Microseconds())/1000/float64(b.N), "cpu-ms/op")
				})
			}
		})
	}
}

// benchPower sets the baselines of benchBreakdown and files benchDays days
// of readings for each.
func benchPower(b *testing.B, f *fixture) {
	b.Helper()
	put := func(scope, areaCode string) {
		if _, err := f.svc.PutBaseline(f.ctx, f.sys, scope, BaselineInput{AreaCode: areaCode, BaselineKW: 1000}); err != nil {
			b.Fatalf("baseline %s: %v", scope, err)
		}
	}
	scopes := []string{ScopeCityIndustrial}
	put(ScopeCityIndustrial, "430200")
	for _, c := range urbanDistrictCodes {
		scope := ScopeDistrictIndustrial + ":" + c
		put(scope, c)
		scopes = append(scopes, scope)
	}
	for i, c := range urbanStreets {
		scope := fmt.Sprintf("%s:园区%d", ScopePark, i)
		put(scope, c)
		scopes = append(scopes, scope)
	}
	var rs []FiledReading
	first := benchAt.AddDate(0, 0, -(benchDays - 1))
	for day := range benchDays {
		date := first.AddDate(0, 0, day)
		filed := time.Date(date.Year(), date.Month(), date.Day(), 10, 0, 0, 0, clock.Shanghai)
		for i, scope := range scopes {
			rs = append(rs, FiledReading{FiledAt: filed, ReadingInput: ReadingInput{Scope: scope, Date: date.Format(DateLayout),
				MaxLoadKW: float64(500 + (day*7+i*13)%500)}})
		}
	}
	if _, err := f.svc.BulkReadings(f.ctx, f.sys, rs, "bench"); err != nil {
		b.Fatalf("readings: %v", err)
	}
}
