package resumption

import (
	"context"
	"fmt"
	"testing"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/db/dbtest"
)

// Benchmark size: the 10,000 enterprises with 90 days of daily
// reports.
const (
	benchUnits = 10000
	benchDays  = 90
)

// benchAt is the moment the benchmark asks about: the last day, 17:00.
var benchAt = time.Date(2022, 11, 20, 17, 0, 0, 0, clock.Shanghai)

// benchLoad writes the benchmark city straight into the tables with
// multi-row INSERTs in a few big transactions (the service would take far
// too long for 900,000 reports): benchUnits units over the streets of the
// four urban districts with mixed categories, and one report a day for
// benchDays days each, filed at 09:00 of its day plus some seconds.
func benchLoad(b *testing.B, d *db.DB) {
	b.Helper()
	ctx := context.Background()
	now := benchAt.UnixMilli()
	// i%10: 0–3 industry, 4 industry and trade, 5 construction, 6 trade,
	// 7 services, 8 a project, 9 a small firm outside the "四上".
	dbtest.Insert(b, d, `INSERT INTO enterprises (ekey, kind, name, area_code, is_key, employees, created_at, updated_at) VALUES `, benchUnits,
		func(i int) string {
			kind := "enterprise"
			if i%10 == 8 {
				kind = "project"
			}
			return fmt.Sprintf("('BENCH%08d', '%s', '单位%d', '%s', %t, 100, %d, %d)", i, kind, i, urbanStreets[i%len(urbanStreets)],
				i%20 == 0, now, now)
		})
	ids := make([]int64, 0, benchUnits)
	rows, err := d.ReadPool().QueryContext(ctx, `SELECT id FROM enterprises WHERE ekey LIKE 'BENCH%' ORDER BY ekey`)
	if err != nil {
		b.Fatal(err)
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			b.Fatal(err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if len(ids) != benchUnits {
		b.Fatalf("%d enterprises", len(ids))
	}
	type cat struct {
		id  int64
		cat Category
	}
	var cats []cat
	for i, id := range ids {
		switch i % 10 {
		case 0, 1, 2, 3:
			cats = append(cats, cat{id, IndustrialAboveScale})
		case 4:
			cats = append(cats, cat{id, IndustrialAboveScale}, cat{id, TradeCateringAboveQuota})
		case 5:
			cats = append(cats, cat{id, ConstructionRealEstate})
		case 6:
			cats = append(cats, cat{id, TradeCateringAboveQuota})
		case 7:
			cats = append(cats, cat{id, ServicesAboveScale})
		}
	}
	dbtest.Insert(b, d, `INSERT INTO enterprise_categories (enterprise_id, category) VALUES `, len(cats), func(i int) string {
		return fmt.Sprintf("(%d, '%s')", cats[i].id, cats[i].cat)
	})
	first := benchAt.AddDate(0, 0, -(benchDays - 1))
	dbtest.Insert(b, d, `INSERT INTO resumption_reports (enterprise_id, report_date, status, capacity_pct, staff_expected, staff_on_site,
		closed_loop, note, filed_at, filed_by) VALUES `, benchUnits*benchDays, func(n int) string {
		day, i := n/benchUnits, n%benchUnits
		date := first.AddDate(0, 0, day)
		filed := time.Date(date.Year(), date.Month(), date.Day(), 9, 0, i%3600, 0, clock.Shanghai).UnixMilli()
		st, capacity, onSite := "resumed", 60+(i+day)%40, 70+(i+day)%30
		switch (i*7 + day*13) % 10 {
		case 7:
			st, capacity = "partial", 30
		case 8, 9:
			st, capacity, onSite = "suspended", 0, 0
		}
		return fmt.Sprintf("(%d, '%s', '%s', %d, 100, %d, FALSE, '', %d, 'bench')", ids[i], date.Format(DateLayout), st, capacity,
			onSite, filed)
	})
}

// BenchmarkStats measures the statistics of 10,000 units with 900,000
// reports (the target: well under 100 ms) beside two limits on the
// same data: a bare count of the report table and a plain indexed join of
// every unit with its report of the day. The per-day figures are computed
// by migration 0015's statements after the load (logged with their time);
// the -per-unit runs take the per-unit path on the same data, as before
// the figures existed.
//
//	go test -run '^$' -bench BenchmarkStats -benchtime 2x ./internal/resumption/
//
// runs it on SQLite, and on PostgreSQL too when TONGXIN_TEST_POSTGRES is set.
func BenchmarkStats(b *testing.B) {
	for _, kind := range dbtest.Kinds() {
		b.Run(kind, func(b *testing.B) {
			clk := clock.NewManual(benchAt.Add(24 * time.Hour))
			d := dbtest.Open(b, kind, clk)
			f := newFixture(b, d, clk)
			start := time.Now()
			benchLoad(b, d)
			if kind == "postgres" {
				// What autovacuum does shortly after a bulk load.
				if err := d.Exec(f.ctx, `ANALYZE`); err != nil {
					b.Fatal(err)
				}
			}
			b.Logf("%s: loaded %d units and %d reports in %v", kind, benchUnits, benchUnits*benchDays, time.Since(start).Round(time.Millisecond))
			// The per-day figures as migration 0015 computes them from
			// the reports already there.
			start = time.Now()
			if err := d.Write(f.ctx, func(tx *db.Tx) error { return rebuildDayFigures(f.ctx, tx) }); err != nil {
				b.Fatal(err)
			}
			if kind == "postgres" {
				if err := d.Exec(f.ctx, `ANALYZE resumption_day_deltas`); err != nil {
					b.Fatal(err)
				}
			}
			var deltaRows int
			if err := d.ReadPool().QueryRowContext(f.ctx, `SELECT count(*) FROM resumption_day_deltas`).Scan(&deltaRows); err != nil {
				b.Fatal(err)
			}
			b.Logf("%s: migration 0015's backfill: %d rows in %v", kind, deltaRows, time.Since(start).Round(time.Millisecond))
			ctx := context.Background()
			perUnit := *f.svc
			perUnit.perUnitStats = true
			urban := StatsQuery{Areas: urbanDistrictCodes, At: benchAt}
			hq := f.officer(auth.HQStaff, "430200")

			st, err := f.svc.Stats(ctx, f.sys, urban)
			if err != nil {
				b.Fatal(err)
			}
			if g := st.Group(GroupFourAbove); g.Total != benchUnits*8/10 || g.Resumed == 0 || st.NotReported != 0 {
				b.Fatalf("stats look wrong: %+v", st.Groups)
			}

			b.Run("stats", func(b *testing.B) {
				for b.Loop() {
					if _, err := f.svc.Stats(ctx, f.sys, urban); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("stats-per-unit", func(b *testing.B) {
				for b.Loop() {
					if _, err := perUnit.Stats(ctx, f.sys, urban); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("stats-officer", func(b *testing.B) {
				for b.Loop() {
					if _, err := f.svc.Stats(ctx, hq, StatsQuery{At: benchAt}); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("breakdown-street", func(b *testing.B) {
				for b.Loop() {
					if _, err := f.svc.Breakdown(ctx, hq, urban, LevelStreet); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("breakdown-street-per-unit", func(b *testing.B) {
				for b.Loop() {
					if _, err := perUnit.Breakdown(ctx, hq, urban, LevelStreet); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("not-resumed-per-unit", func(b *testing.B) {
				for b.Loop() {
					if _, err := perUnit.NotResumed(ctx, hq, urban); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("not-resumed", func(b *testing.B) {
				for b.Loop() {
					if _, err := f.svc.NotResumed(ctx, hq, urban); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("trend-7", func(b *testing.B) {
				for b.Loop() {
					if _, err := f.svc.Trend(ctx, hq, urban, 7); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("trend-90", func(b *testing.B) {
				for b.Loop() {
					if _, err := f.svc.Trend(ctx, hq, urban, 90); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("trend-90-per-unit", func(b *testing.B) {
				for b.Loop() {
					if _, err := perUnit.Trend(ctx, hq, urban, 90); err != nil {
						b.Fatal(err)
					}
				}
			})
			// Limits: a bare count of the 900,000 reports, and every unit
			// joined with its report of the day through the same index,
			// scanned in Go.
			b.Run("limit-count", func(b *testing.B) {
				for b.Loop() {
					var n int
					if err := d.ReadPool().QueryRowContext(ctx, `SELECT count(*) FROM resumption_reports`).Scan(&n); err != nil || n != benchUnits*benchDays {
						b.Fatal(n, err)
					}
				}
			})
			b.Run("limit-day-join", func(b *testing.B) {
				for b.Loop() {
					rows, err := d.ReadPool().QueryContext(ctx, `SELECT e.id, e.kind, r.status, r.staff_expected, r.staff_on_site
						FROM enterprises e JOIN resumption_reports r ON r.enterprise_id = e.id AND r.report_date = $1`,
						benchAt.Format(DateLayout))
					if err != nil {
						b.Fatal(err)
					}
					n := 0
					for rows.Next() {
						var id int64
						var kind, status string
						var expected, onSite int
						if err := rows.Scan(&id, &kind, &status, &expected, &onSite); err != nil {
							b.Fatal(err)
						}
						n++
					}
					rows.Close()
					if n != benchUnits {
						b.Fatal(n)
					}
				}
			})
		})
	}
}
