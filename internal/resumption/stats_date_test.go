package resumption

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"tongxin/internal/apispec/apitest"
	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/db/dbtest"
	"tongxin/internal/errs"
	"tongxin/internal/web"
)

// backfillReport is one report of the backfilled seed city.
type backfillReport struct {
	date                    string
	status                  Status
	capacity, expected, onS int
}

// backfillPlan lists the final reports a unit of the seed city has when
// its history is imported after the fact: 11-18 (its latest for some, the
// opposite of 11-20 for others), 11-20 (as the HQ counted at 17:00) and
// 11-21 (some stop again; those that had not reported by 17:00 resume).
func backfillPlan(u seedUnit) []backfillReport {
	var out []backfillReport
	switch {
	case u.onlyOld:
		out = append(out, backfillReport{"2022-11-18", u.final, u.capacity, u.expected, u.onSite})
	case u.prevDay:
		out = append(out, backfillReport{"2022-11-18", statsOpposite(u.final), 10, u.expected + 7, 1})
	}
	if u.final != "" && !u.onlyOld {
		out = append(out, backfillReport{"2022-11-20", u.final, u.capacity, u.expected, u.onSite})
	}
	switch {
	case u.final.Working() && !u.outside && len(u.key)%2 == 0:
		out = append(out, backfillReport{"2022-11-21", Suspended, 0, u.expected, 0})
	case u.lateNew:
		out = append(out, backfillReport{"2022-11-21", Resumed, 60, u.expected, u.expected})
	}
	return out
}

// backfillWant counts the urban units as the plan says they stand on a
// report date.
func backfillWant(units []seedUnit, date string) tally {
	var t tally
	for _, u := range units {
		if u.outside {
			continue
		}
		row := unitRow{kind: map[string]string{"项目": "project", "企业": "enterprise"}[u.kind], isKey: u.isKey}
		for _, c := range u.cats {
			cat, _ := ParseCategory(c)
			row.cats |= 1 << slices.Index(Categories, cat)
		}
		for _, r := range backfillPlan(u) {
			if r.date <= date {
				row.has, row.status, row.capacity, row.expected, row.onS = true, r.status, r.capacity, r.expected, r.onS
			}
		}
		t.add(&row)
	}
	return t
}

// loadBackfilledSeedCity registers the seed city and imports its reports
// of 11-18, 11-20 and 11-21 on today, 2022-12-06: first the revised units'
// first 11-20 version (suspended), five minutes later their revision.
// It returns the units and the moment between the two imports.
func loadBackfilledSeedCity(f *fixture) ([]seedUnit, time.Time) {
	f.t.Helper()
	units := seedCity(f)
	f.at(time.Date(2022, 11, 17, 9, 0, 0, 0, clock.Shanghai))
	registerSeedCity(f, units)
	f.at(time.Date(2022, 12, 6, 10, 0, 0, 0, clock.Shanghai))
	lines := []string{seedReportHeader}
	var revisions []string
	for _, u := range units {
		for _, r := range backfillPlan(u) {
			if r.date == "2022-11-20" && u.revised {
				lines = append(lines, seedReportLine(u.key, r.date, Suspended, 0, r.expected, 0))
				revisions = append(revisions, seedReportLine(u.key, r.date, r.status, r.capacity, r.expected, r.onS))
				continue
			}
			lines = append(lines, seedReportLine(u.key, r.date, r.status, r.capacity, r.expected, r.onS))
		}
	}
	statsImportCSV(f, true, lines)
	f.at(time.Date(2022, 12, 6, 10, 5, 0, 0, clock.Shanghai))
	statsImportCSV(f, true, append([]string{seedReportHeader}, revisions...))
	f.at(time.Date(2022, 12, 6, 11, 0, 0, 0, clock.Shanghai))
	return units, time.Date(2022, 12, 6, 10, 2, 0, 0, clock.Shanghai)
}

// TestSeedFiguresByReportDate imports the seed city's reports weeks after
// the fact and asks for the figures of 2022-11-20: the newspaper's, with
// the 11-21 reports not counted.
func TestSeedFiguresByReportDate(t *testing.T) {
	clk := testClock()
	dbtest.Each(t, clk, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, clk)
		units, between := loadBackfilledSeedCity(f)
		stats := func(q StatsQuery) *Stats {
			t.Helper()
			q.Areas = urbanDistrictCodes
			st, err := f.svc.Stats(f.ctx, f.sys, q)
			if err != nil {
				t.Fatal(err)
			}
			return st
		}
		st := stats(StatsQuery{Date: "2022-11-20"})
		if st.Date != "2022-11-20" || !st.AsOf.Equal(clk.Now()) {
			t.Errorf("date %q as of %v", st.Date, st.AsOf)
		}
		statsWantSeed(t, st)
		if st.NotReported != 28 {
			t.Errorf("not reported %d, want 13 + 10 + 5", st.NotReported)
		}
		want := backfillWant(units, "2022-11-20")
		if !slices.Equal(st.Groups, want.groups()) || !slices.Equal(st.Staff, want.staff()) {
			t.Errorf("11-20 differs from the plan:\n got %+v\nwant %+v", st.Groups, want.groups())
		}

		// Without date= the moment's day counts, 12-06: the 11-21 reports.
		now := stats(StatsQuery{})
		want = backfillWant(units, "2022-11-21")
		if now.Date != "" || !slices.Equal(now.Groups, want.groups()) || now.Group(string(IndustrialAboveScale)).Resumed == 632 {
			t.Errorf("now: %+v, want %+v", now.Groups, want.groups())
		}
		if d21 := stats(StatsQuery{Date: "2022-11-21"}); !slices.Equal(d21.Groups, now.Groups) {
			t.Errorf("11-21: %+v", d21.Groups)
		}
		// 11-19: the 11-18 reports only.
		want = backfillWant(units, "2022-11-19")
		if d19 := stats(StatsQuery{Date: "2022-11-19"}); !slices.Equal(d19.Groups, want.groups()) || !slices.Equal(d19.Staff, want.staff()) {
			t.Errorf("11-19: %+v, want %+v", d19.Groups, want.groups())
		}
		// date with at: as known between the two imports, the revised
		// units still said suspended.
		revised := 0
		for i, u := range units {
			if i < 735 && u.revised {
				revised++
			}
		}
		mid := stats(StatsQuery{Date: "2022-11-20", At: between})
		statsWantGroup(t, mid, string(IndustrialAboveScale), 735, 632-revised)
		if revised == 0 || !mid.AsOf.Equal(between.UTC()) || mid.Date != "2022-11-20" {
			t.Errorf("between the imports: %d revised, %+v", revised, mid)
		}
		// Before the import nothing was known: no data, not 0%.
		before := stats(StatsQuery{Date: "2022-11-20", At: time.Date(2022, 12, 6, 9, 0, 0, 0, clock.Shanghai)})
		for _, g := range before.Groups {
			if g.HasRate() || g.Total == 0 || strings.Contains(statsJSON(t, g), `"rate":0`) || !strings.Contains(statsJSON(t, g), `"rate":null`) {
				t.Errorf("before the import: %s", statsJSON(t, g))
			}
		}
		if js := statsJSON(t, before); !strings.Contains(js, `"capacity_avg":null`) || before.HasCapacity() {
			t.Errorf("before the import, capacity: %s", js)
		}
		if !st.HasCapacity() || !strings.Contains(statsJSON(t, st), fmt.Sprintf(`"capacity_avg":%v`, st.CapacityAvg)) {
			t.Errorf("capacity on 11-20: %v", st.CapacityAvg)
		}
		urbanUnits := 0
		for _, u := range units {
			if !u.outside {
				urbanUnits++
			}
		}
		if before.NotReported != urbanUnits {
			t.Errorf("before the import: %d not reported, want all %d", before.NotReported, urbanUnits)
		}

		for _, q := range []StatsQuery{{Date: "2022-11-31"}, {Date: "20221120"}, {Date: "2022-12-07"},
			{Date: "2022-11-21", At: time.Date(2022, 11, 20, 17, 0, 0, 0, clock.Shanghai)}} {
			_, err := f.svc.Stats(f.ctx, f.sys, q)
			mustErr(t, err, errs.Invalid, "bad_date")
		}
		_, err := f.svc.Trend(f.ctx, f.sys, StatsQuery{Date: "2022-12-07"}, 3)
		mustErr(t, err, errs.Invalid, "bad_date")

		backfillAPI(t, f, units)
	})
}

// backfillAPI asks the statistics routes for the backfilled city's
// figures of 2022-11-20 with date=.
func backfillAPI(t *testing.T, f *fixture, units []seedUnit) {
	api := NewAPI(f.svc)
	mux := http.NewServeMux()
	a := &web.Adapter{Log: slog.New(slog.DiscardHandler)}
	for pattern, h := range map[string]web.Handler{
		"GET /api/v1/resumption/stats":       api.Stats,
		"GET /api/v1/resumption/stats.xlsx":  api.ExportStats,
		"GET /api/v1/resumption/breakdown":   api.Breakdown,
		"GET /api/v1/resumption/trend":       api.Trend,
		"GET /api/v1/resumption/not-resumed": api.NotResumed,
		"GET /api/v1/resumption/briefing":    api.Briefing,
	} {
		mux.Handle(pattern, a.H(h))
	}
	hq := f.officer(auth.HQStaff, "430200")
	get := func(target string, into any) *httptest.ResponseRecorder {
		t.Helper()
		r := httptest.NewRequest("GET", target, nil)
		r = r.WithContext(web.WithPrincipal(r.Context(), hq))
		w := httptest.NewRecorder()
		apitest.Handler(t, mux).ServeHTTP(w, r)
		if into != nil {
			if w.Code != 200 {
				t.Fatalf("%s: %d %s", target, w.Code, w.Body)
			}
			if err := json.Unmarshal(w.Body.Bytes(), into); err != nil {
				t.Fatalf("%s: %v", target, err)
			}
		}
		return w
	}
	const urban = "area=430202&area=430203&area=430204&area=430211"
	var st Stats
	get("/api/v1/resumption/stats?"+urban+"&date=2022-11-20", &st)
	if st.Date != "2022-11-20" || st.Group(string(IndustrialAboveScale)).Resumed != 632 || st.Group(GroupFourAbove).Resumed != 1349 ||
		st.Group(GroupProject).Resumed != 197 || st.StaffOf(GroupProject).OnSite != 16644 {
		t.Errorf("stats by date: %+v", st)
	}
	var b Briefing
	get("/api/v1/resumption/briefing?"+urban+"&date=2022-11-20", &b)
	if want := "截至11月20日，城区复工项目共计197个，复工率为94.3%，累计到位员工16644人，到位率为77.4%。" +
		"同时，重点行业“四上”企业复工复产累计1349家，复工复产率为76%，其中规模以上工业企业632家，复工复产率达86%。"; b.ZH != want {
		t.Errorf("briefing:\n got %s\nwant %s", b.ZH, want)
	}
	if !strings.HasPrefix(b.EN, "As of 20 November, 197 projects in the urban districts") {
		t.Errorf("English briefing: %s", b.EN)
	}
	var trend struct{ Items []DayStats }
	get("/api/v1/resumption/trend?"+urban+"&date=2022-11-21&days=4", &trend)
	want21 := backfillWant(units, "2022-11-21")
	if len(trend.Items) != 4 || trend.Items[0].Date != "2022-11-18" || !slices.Equal(trend.Items[2].Groups, st.Groups) ||
		!slices.Equal(trend.Items[3].Groups, want21.groups()) {
		t.Errorf("trend: %+v", trend.Items)
	}
	var parts struct{ Items []AreaStats }
	get("/api/v1/resumption/breakdown?"+urban+"&date=2022-11-20", &parts)
	sum := 0
	for _, p := range parts.Items {
		sum += p.Stats.Group(string(IndustrialAboveScale)).Resumed
	}
	if len(parts.Items) != 4 || sum != 632 {
		t.Errorf("breakdown: %d districts, %d resumed", len(parts.Items), sum)
	}
	var nr struct{ Items []Unit }
	get("/api/v1/resumption/not-resumed?"+urban+"&date=2022-11-20", &nr)
	notResumed := 0 // urban units whose latest report by 11-20 is missing or says suspended
	for _, u := range units {
		working := false
		for _, r := range backfillPlan(u) {
			if r.date <= "2022-11-20" {
				working = r.status.Working()
			}
		}
		if !u.outside && !working {
			notResumed++
		}
	}
	if len(nr.Items) != notResumed {
		t.Errorf("not resumed: %d, want %d", len(nr.Items), notResumed)
	}

	w := get("/api/v1/resumption/stats.xlsx?"+urban+"&date=2022-11-20", nil)
	if w.Code != 200 || !strings.Contains(w.Header().Get("Content-Disposition"), "resumption-stats-20221120.xlsx") {
		t.Fatalf("xlsx: %d %v", w.Code, w.Header())
	}
	x, err := excelize.OpenReader(bytes.NewReader(w.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if rows, _ := x.GetRows("复工复产"); len(rows) < 2 || !slices.Equal(rows[1][:4], []string{"规上工业", "industrial_above_scale", "735", "632"}) {
		t.Errorf("groups sheet: %q", rows)
	}
	if v, _ := x.GetCellValue("概况", "B3"); v != "2022-11-20" {
		t.Errorf("report date cell: %q", v)
	}
	// Before the import: the rate cells are empty, not 0%.
	w = get("/api/v1/resumption/stats.xlsx?"+urban+"&date=2022-11-20&at=2022-12-06T09:00:00%2B08:00", nil)
	y, err := excelize.OpenReader(bytes.NewReader(w.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer y.Close()
	if rows, _ := y.GetRows("复工复产"); len(rows) != 8 || len(rows[1]) != 4 || rows[1][2] != "735" {
		t.Errorf("groups sheet without data: %q", rows)
	}

	for _, target := range []string{"/api/v1/resumption/stats?date=20221120", "/api/v1/resumption/stats?date=2022-12-07",
		"/api/v1/resumption/trend?date=2022-13-01", "/api/v1/resumption/briefing?date=x", "/api/v1/resumption/not-resumed?date=2022-02-30",
		"/api/v1/resumption/breakdown?date=2022-11-21&at=2022-11-20T17:00:00%2B08:00", "/api/v1/resumption/stats.xlsx?date=1"} {
		if w := get(target, nil); w.Code != 400 || !strings.Contains(w.Body.String(), `"code":"bad_date"`) || !strings.Contains(w.Body.String(), `"field":"date"`) {
			t.Errorf("%s: %d %s", target, w.Code, w.Body)
		}
	}
}
