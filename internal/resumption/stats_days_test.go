package resumption

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/db/dbtest"
)

// dayAreas are the areas the random city's units live in and move
// between: urban streets and a street of 渌口区.
var dayAreas = append([]string{"430212001"}, urbanStreets...)

// randomDayCity registers units and files, corrects and backfills reports
// over three weeks through the service (one by one, in bulk and by
// import files), editing
// units' areas, categories and key flags on the way. It returns the
// units' keys.
func randomDayCity(t *testing.T, f *fixture, rnd *rand.Rand) []string {
	var keys []string
	f.at(nov22(1, 8, 0))
	for i := range 40 {
		a := dayAreas[rnd.IntN(len(dayAreas))]
		if i%9 == 8 {
			keys = append(keys, f.project(fmt.Sprintf("XM-DAY-%03d", i), a).Key)
			continue
		}
		var cats []Category
		for _, c := range Categories {
			if rnd.IntN(3) == 0 {
				cats = append(cats, c)
			}
		}
		keys = append(keys, f.enterprise(a, cats...).Key)
	}
	randomIn := func(date string) ReportInput {
		st := []Status{Resumed, Partial, Suspended}[rnd.IntN(3)]
		expected := rnd.IntN(50)
		return reportIn(date, st, rnd.IntN(101), expected, rnd.IntN(expected+1))
	}
	for day := 1; day <= 21; day++ {
		now := nov22(day, 9, 0)
		for step := range 12 {
			now = now.Add(time.Duration(1+rnd.IntN(40)) * time.Minute)
			f.at(now)
			date := now.Format(DateLayout)
			back := now.AddDate(0, 0, -rnd.IntN(10)).Format(DateLayout)
			key := keys[rnd.IntN(len(keys))]
			switch op := rnd.IntN(10); {
			case op < 5: // today's report, or a correction of it
				if _, err := f.svc.FileReport(f.ctx, f.sys, key, randomIn(date)); err != nil {
					t.Fatal(err)
				}
			case op < 7: // a backfill for a past date
				if _, err := f.svc.FileReport(f.ctx, f.sys, key, randomIn(back)); err != nil {
					t.Fatal(err)
				}
			case op < 8 && step%2 == 0: // an import file of a few units, dated back
				lines := []string{reportsImportHeader}
				for _, k := range rnd.Perm(len(keys))[:1+rnd.IntN(4)] {
					in := randomIn(now.AddDate(0, 0, -rnd.IntN(6)).Format(DateLayout))
					lines = append(lines, fmt.Sprintf("%s,%s,%s,%d,%d,%d,N,", keys[k], in.Date, in.Status, *in.CapacityPct,
						*in.StaffExpected, *in.StaffOnSite))
				}
				if res, err := f.svc.ImportReports(f.ctx, f.sys, csvFile(lines...), false); err != nil || res.Accepted != len(lines)-1 {
					t.Fatalf("import: %+v %v", res, err)
				}
			case op < 8: // in bulk, some filed earlier today, dated back
				var rs []FiledReport
				for range 1 + rnd.IntN(6) {
					at := now.Add(-time.Duration(rnd.IntN(60)) * time.Minute)
					d := at.AddDate(0, 0, -rnd.IntN(4)).Format(DateLayout)
					rs = append(rs, FiledReport{Key: keys[rnd.IntN(len(keys))], FiledAt: at, ReportInput: randomIn(d)})
				}
				if _, err := f.svc.BulkFile(f.ctx, f.sys, rs, fmt.Sprintf("测试 %d-%d", day, step)); err != nil {
					t.Fatal(err)
				}
			default: // an edit: area, categories, key flag
				e, err := f.svc.Get(f.ctx, f.sys, key)
				if err != nil {
					t.Fatal(err)
				}
				in := EnterpriseInput{Key: e.Key, Kind: e.Kind, Name: e.Name, AreaCode: e.AreaCode, IsKey: e.IsKey,
					Employees: e.Employees}
				for _, c := range e.Categories {
					in.Categories = append(in.Categories, string(c))
				}
				switch rnd.IntN(3) {
				case 0:
					in.AreaCode = dayAreas[rnd.IntN(len(dayAreas))]
				case 1:
					if e.Kind == KindEnterprise {
						in.Categories = []string{string(Categories[rnd.IntN(4)])}
						if rnd.IntN(3) == 0 {
							in.Categories = nil
						}
					}
				default:
					in.IsKey = !in.IsKey
				}
				f.save(in)
			}
		}
	}
	return keys
}

// TestDayFiguresEqualPerUnit: on a random city with backfills,
// corrections, bulk filings and edits, the statistics, breakdowns and
// trends from the per-day figures equal those counted unit by unit, for
// every day and several scopes; and the figures kept by the filings equal
// those the migration computes from the reports.
func TestDayFiguresEqualPerUnit(t *testing.T) {
	clk := testClock()
	dbtest.Each(t, clk, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, clk)
		randomDayCity(t, f, rand.New(rand.NewPCG(13, 4)))
		f.at(nov22(22, 10, 0))
		slow := *f.svc
		slow.perUnitStats = true
		scopes := []struct {
			name string
			p    *auth.Principal
			q    StatsQuery
		}{
			{"city", f.sys, StatsQuery{}},
			{"district officer", f.officer(auth.DistrictOfficer, "430202"), StatsQuery{}},
			{"two officers' districts", f.officer(auth.HQStaff, "430203", "430212"), StatsQuery{}},
			{"street", f.sys, StatsQuery{Areas: []string{"430204002"}}},
			{"urban", f.sys, StatsQuery{Areas: urbanDistrictCodes}},
			{"nested", f.sys, StatsQuery{Areas: []string{"430211", "430211001", "430212001"}}},
		}
		checked := 0
		for _, sc := range scopes {
			for day := 1; day <= 22; day++ {
				q := sc.q
				q.Date = nov22(day, 0, 0).Format(DateLayout)
				fast, err := f.svc.Stats(f.ctx, sc.p, q)
				if err != nil {
					t.Fatal(err)
				}
				want, err := slow.Stats(f.ctx, sc.p, q)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(fast, want) {
					t.Fatalf("%s %s: per-day figures\n%+v\nper unit\n%+v", sc.name, q.Date, fast, want)
				}
				for _, level := range []string{LevelDistrict, LevelStreet} {
					fb, err := f.svc.Breakdown(f.ctx, sc.p, q, level)
					if err != nil {
						t.Fatal(err)
					}
					wb, err := slow.Breakdown(f.ctx, sc.p, q, level)
					if err != nil {
						t.Fatal(err)
					}
					if !reflect.DeepEqual(fb, wb) {
						t.Fatalf("%s %s by %s: breakdowns differ", sc.name, q.Date, level)
					}
				}
				fn, err := f.svc.NotResumed(f.ctx, sc.p, q)
				if err != nil {
					t.Fatal(err)
				}
				wn, err := slow.NotResumed(f.ctx, sc.p, q)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(fn, wn) {
					t.Fatalf("%s %s: lists of units not resumed differ\n%+v\n%+v", sc.name, q.Date, fn, wn)
				}
				checked += fast.Group(GroupFourAbove).Reported
			}
			q := sc.q
			for _, days := range []int{1, 14, 30} {
				ft, err := f.svc.Trend(f.ctx, sc.p, q, days)
				if err != nil {
					t.Fatal(err)
				}
				wt, err := slow.Trend(f.ctx, sc.p, q, days)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(ft, wt) {
					t.Fatalf("%s: %d-day trends differ\n%+v\n%+v", sc.name, days, ft, wt)
				}
			}
		}
		if checked == 0 {
			t.Fatal("no unit reported: the comparison proves nothing")
		}
		// The fast path was taken: the moment is after every filing.
		err := d.Read(f.ctx, func(tx *db.Tx) error {
			sc, err := resolveScope(f.ctx, tx, f.sys, nil, "test")
			if err != nil {
				return err
			}
			ok, err := f.svc.dayPathOK(f.ctx, tx, sc, momentOf(f.svc.Now()))
			if err == nil && !ok {
				t.Error("the per-day figures were not used")
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		checkDeltasRebuild(t, f)
	})
}

// dayDeltas reads resumption_day_deltas without its zero rows.
func dayDeltas(t *testing.T, f *fixture) map[dayKey]dayFig {
	t.Helper()
	out := map[dayKey]dayFig{}
	rows, err := f.d.ReadPool().QueryContext(f.ctx, `SELECT report_date, area_code, sig, reported, resumed, staff_expected,
		staff_on_site, capacity_sum, capacity_n, units FROM resumption_day_deltas`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var k dayKey
		var sig int
		var x dayFig
		if err := rows.Scan(&k.date, &k.area, &sig, &x[0], &x[1], &x[2], &x[3], &x[4], &x[5], &x[6]); err != nil {
			t.Fatal(err)
		}
		k.sig = uint8(sig)
		if x != (dayFig{}) {
			out[k] = x
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// latestReports reads resumption_latest.
func latestReports(t *testing.T, f *fixture) map[int64]int64 {
	t.Helper()
	out := map[int64]int64{}
	rows, err := f.d.ReadPool().QueryContext(f.ctx, `SELECT enterprise_id, report_id FROM resumption_latest`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var e, r int64
		if err := rows.Scan(&e, &r); err != nil {
			t.Fatal(err)
		}
		out[e] = r
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// checkDeltasRebuild compares the deltas kept by the filings with those
// the migration's statement computes from the reports.
func checkDeltasRebuild(t *testing.T, f *fixture) {
	t.Helper()
	kept, keptLatest := dayDeltas(t, f), latestReports(t, f)
	if len(kept) == 0 || len(keptLatest) == 0 {
		t.Fatal("no per-day figures kept")
	}
	f.rebuildDays()
	if built := dayDeltas(t, f); !reflect.DeepEqual(kept, built) {
		t.Fatalf("kept %d rows, rebuilt %d, and they differ", len(kept), len(built))
	}
	if built := latestReports(t, f); !reflect.DeepEqual(keptLatest, built) {
		t.Fatalf("latest reports: kept %d, rebuilt %d, and they differ", len(keptLatest), len(built))
	}
}

// TestDayFiguresConcurrentFilings: filings of the same units from many
// goroutines at once (on PostgreSQL, truly concurrent transactions) keep
// the per-day figures equal to what the reports say.
func TestDayFiguresConcurrentFilings(t *testing.T) {
	clk := testClock()
	dbtest.Each(t, clk, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, clk)
		var keys []string
		for i := range 4 {
			keys = append(keys, f.enterprise(urbanStreets[i], IndustrialAboveScale).Key)
		}
		var wg sync.WaitGroup
		errc := make(chan error, 8)
		for g := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rnd := rand.New(rand.NewPCG(uint64(g), 7))
				for i := range 15 {
					date := nov22(14+rnd.IntN(7), 0, 0).Format(DateLayout)
					st := []Status{Resumed, Suspended}[rnd.IntN(2)]
					_, err := f.svc.FileReport(context.Background(), f.sys, keys[(g+i)%len(keys)], reportIn(date, st, 50, 10, rnd.IntN(11)))
					if err != nil {
						errc <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			t.Fatal(err)
		}
		checkDeltasRebuild(t, f)
	})
}

// TestDayFiguresFilingBehindALaterVersion: a filing is worked out from
// the read before it alone (fileDayChange), so the cases where the new
// version is not the effective report — a version of its date filed
// later (a clock that went back, another instance's clock), or one filed
// in the same millisecond before it — and where the unit has a later
// report date keep the figures and the latest reports equal to what the
// reports say.
func TestDayFiguresFilingBehindALaterVersion(t *testing.T) {
	clk := testClock()
	dbtest.Each(t, clk, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, clk)
		a := f.enterprise(urbanStreets[0], IndustrialAboveScale).Key
		b := f.enterprise(urbanStreets[1], ServicesAboveScale).Key
		nov19, nov20 := nov22(19, 0, 0).Format(DateLayout), nov22(20, 0, 0).Format(DateLayout)
		f.reportAt(nov22(20, 10, 0), a, nov20, Resumed, 80, 10, 8)
		f.reportAt(nov22(20, 9, 0), a, nov20, Suspended, 0, 10, 0) // behind the 10:00 version
		f.reportAt(nov22(20, 9, 30), a, nov19, Partial, 40, 10, 4) // before a later date, behind nothing
		f.reportAt(nov22(20, 8, 0), a, nov19, Resumed, 90, 10, 9)  // behind the 09:30 version and before a later date
		rs, err := f.svc.Reports(f.ctx, f.sys, a, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) != 2 || rs[0].Status != Resumed || rs[1].Status != Partial {
			t.Fatalf("reports of a: %+v", rs)
		}
		checkDeltasRebuild(t, f)
		f.reportAt(nov22(20, 10, 0), a, nov20, Suspended, 0, 10, 0) // the same millisecond as the latest: the greater id wins
		f.reportAt(nov22(20, 9, 0), b, nov20, Resumed, 100, 5, 5)
		f.reportAt(nov22(20, 8, 0), b, nov19, Suspended, 0, 5, 0) // before b's later date
		rs, err = f.svc.Reports(f.ctx, f.sys, a, 0)
		if err != nil {
			t.Fatal(err)
		}
		if rs[0].Status != Suspended {
			t.Fatalf("reports of a: %+v", rs)
		}
		checkDeltasRebuild(t, f)
	})
}

// TestDayFiguresBackfillIsTheMigrations: rebuildDayFigures runs the
// statements of migration 0015.
func TestDayFiguresBackfillIsTheMigrations(t *testing.T) {
	ms, err := db.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.Version == 15 {
			if !strings.Contains(m.SQL, dayFiguresBackfill) {
				t.Fatal("migration 0015 does not hold day_figures_backfill.sql")
			}
			return
		}
	}
	t.Fatal("no migration 0015")
}

// TestNotResumedPages: following the pages' cursors visits every unit of
// the list once, in order, pageNotResumedSize at most a page; a cursor of
// a unit that left the list continues after its place.
func TestNotResumedPages(t *testing.T) {
	var units []Unit
	for i := range 2*pageNotResumedSize + 37 {
		units = append(units, Unit{AreaCode: fmt.Sprintf("43020%d00%d", i%3, i%7), Key: fmt.Sprintf("K%04d", i)})
	}
	slices.SortFunc(units, func(a, b Unit) int { return strings.Compare(notResumedCursor(a), notResumedCursor(b)) })
	var seen []Unit
	after, pages := "", 0
	for {
		page, next := notResumedPage(units, after)
		if len(page) > pageNotResumedSize || len(page) == 0 {
			t.Fatalf("page of %d units", len(page))
		}
		seen = append(seen, page...)
		pages++
		if next == "" {
			break
		}
		after = next
	}
	if pages != 3 || !reflect.DeepEqual(seen, units) {
		t.Fatalf("%d pages, %d units seen of %d", pages, len(seen), len(units))
	}
	// The unit at the cursor is gone: the next page starts after its place.
	cut := units[pageNotResumedSize-1]
	rest := slices.Delete(slices.Clone(units), pageNotResumedSize-1, pageNotResumedSize)
	if page, _ := notResumedPage(rest, notResumedCursor(cut)); page[0].Key != units[pageNotResumedSize].Key {
		t.Fatalf("after a vanished unit: %+v", page[0])
	}
	if page, _ := notResumedPage(units, "garbage"); page[0].Key != units[0].Key {
		t.Fatal("a malformed cursor does not start at the beginning")
	}
}

// TestCategoryBitsInSQL: the SQL that computes signatures gives category
// i the bit i of Categories, as sigOf does.
func TestCategoryBitsInSQL(t *testing.T) {
	for i, c := range Categories {
		want := fmt.Sprintf("WHEN '%s' THEN %d", c, 1<<i)
		if !strings.Contains(catBitsSQL, want) || !strings.Contains(dayFiguresBackfill, want) {
			t.Errorf("%s is not bit %d in the SQL", c, i)
		}
	}
}
