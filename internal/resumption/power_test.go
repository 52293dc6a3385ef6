package resumption

import (
	"math"
	"strings"
	"testing"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/db/dbtest"
	"tongxin/internal/errs"
)

func TestParsePowerScope(t *testing.T) {
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{"city_industrial", "city_industrial", true},
		{" city_industrial ", "city_industrial", true},
		{"park:株洲高新区", "park:株洲高新区", true},
		{"park: 株洲高新区 ", "park:株洲高新区", true},
		{"district_industrial:430203", "district_industrial:430203", true},
		{"", "", false},
		{"city", "", false},
		{"city_industrial:430200", "", false},
		{"park:", "", false},
		{"park:a\nb", "", false},
		{"park:" + strings.Repeat("园", MaxPowerNameLen+1), "", false},
		{"district_industrial:", "", false},
		{"PARK:x", "", false},
	} {
		ps, err := parsePowerScope(c.in)
		if c.ok && (err != nil || ps.String() != c.want) {
			t.Errorf("%q: %v %v", c.in, ps, err)
		}
		if !c.ok && !errs.Is(err, errs.Invalid) {
			t.Errorf("%q: want invalid, got %v %v", c.in, ps, err)
		}
	}
}

func TestPutBaseline(t *testing.T) {
	clk := testClock()
	dbtest.Each(t, clk, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, clk)
		f.at(testBase) // the clock is shared by the SQLite and PostgreSQL runs
		hq := f.officer(auth.HQStaff, "430200")
		tianyuan := f.officer(auth.HQStaff, "430211")
		put := func(p *auth.Principal, scope string, in BaselineInput) (*Baseline, error) {
			return f.svc.PutBaseline(f.ctx, p, scope, in)
		}
		b, err := put(hq, ScopeCityIndustrial, BaselineInput{AreaCode: "430200", BaselineKW: 66196870, Reference: "2022年10月日均最大负荷"})
		if err != nil {
			t.Fatal(err)
		}
		if b.Scope != ScopeCityIndustrial || b.Name != "全市工业" || b.AreaCode != "430200" || !b.UpdatedAt.Equal(testBase) {
			t.Errorf("baseline %+v", b)
		}
		b, err = put(hq, "district_industrial:430203", BaselineInput{BaselineKW: 800000})
		if err != nil || b.AreaCode != "430203" || b.Name != "芦淞区工业" {
			t.Errorf("district baseline %+v %v", b, err)
		}
		if _, err := put(tianyuan, "park:株洲高新区", BaselineInput{AreaCode: "430211", Name: "株洲高新区（天元园）", BaselineKW: 356000}); err != nil {
			t.Fatal(err)
		}
		if _, err := put(hq, "park:田心高科园", BaselineInput{AreaCode: "430204003", BaselineKW: 226750}); err != nil {
			t.Fatal(err)
		}

		for _, c := range []struct {
			name  string
			p     *auth.Principal
			scope string
			in    BaselineInput
			kind  errs.Kind
			code  string
		}{
			{"bad scope", hq, "power", BaselineInput{AreaCode: "430200", BaselineKW: 1}, errs.Invalid, "bad_scope"},
			{"zero", hq, "park:x", BaselineInput{AreaCode: "430203", BaselineKW: 0}, errs.Invalid, "invalid_baseline"},
			{"negative", hq, "park:x", BaselineInput{AreaCode: "430203", BaselineKW: -5}, errs.Invalid, "invalid_baseline"},
			{"NaN", hq, "park:x", BaselineInput{AreaCode: "430203", BaselineKW: math.NaN()}, errs.Invalid, "invalid_baseline"},
			{"infinite", hq, "park:x", BaselineInput{AreaCode: "430203", BaselineKW: math.Inf(1)}, errs.Invalid, "invalid_baseline"},
			{"no area", hq, "park:x", BaselineInput{BaselineKW: 1}, errs.Invalid, "invalid_baseline"},
			{"long reference", hq, "park:x", BaselineInput{AreaCode: "430203", BaselineKW: 1, Reference: strings.Repeat("参", MaxReferenceLen+1)}, errs.Invalid, "invalid_baseline"},
			{"unknown area", hq, "park:x", BaselineInput{AreaCode: "430299", BaselineKW: 1}, errs.NotFound, "area_not_found"},
			{"city on a district", hq, ScopeCityIndustrial, BaselineInput{AreaCode: "430203", BaselineKW: 1}, errs.Invalid, "invalid_baseline"},
			{"district on a street", hq, "district_industrial:430203001", BaselineInput{BaselineKW: 1}, errs.Invalid, "invalid_baseline"},
			{"district code mismatch", hq, "district_industrial:430203", BaselineInput{AreaCode: "430204", BaselineKW: 1}, errs.Invalid, "invalid_baseline"},
			{"outside the caller's area", tianyuan, "park:x", BaselineInput{AreaCode: "430204", BaselineKW: 1}, errs.NotFound, "area_not_found"},
			{"city by a district", tianyuan, ScopeCityIndustrial, BaselineInput{AreaCode: "430200", BaselineKW: 1}, errs.NotFound, "area_not_found"},
			{"taking another district's park", tianyuan, "park:田心高科园", BaselineInput{AreaCode: "430211", BaselineKW: 1}, errs.NotFound, "baseline_not_found"},
			{"reader only", f.officer(auth.DistrictOfficer, "430203"), "park:x", BaselineInput{AreaCode: "430203", BaselineKW: 1}, errs.Forbidden, "forbidden"},
			{"anonymous", nil, "park:x", BaselineInput{AreaCode: "430203", BaselineKW: 1}, errs.Unauthorized, ""},
		} {
			_, err := put(c.p, c.scope, c.in)
			if !errs.Is(err, c.kind) || (c.code != "" && errs.As(err).Code != c.code) {
				t.Errorf("%s: %v", c.name, err)
			}
		}

		// Replacing keeps one row, audits both.
		f.at(testBase.Add(3600e9))
		b, err = put(hq, ScopeCityIndustrial, BaselineInput{AreaCode: "430200", Name: "全市工业用电", BaselineKW: 66000000})
		if err != nil || b.BaselineKW != 66000000 || !b.UpdatedAt.Equal(testBase.Add(3600e9)) {
			t.Fatalf("replace: %+v %v", b, err)
		}
		if n := f.count(`SELECT COUNT(*) FROM power_baselines WHERE scope = $1`, ScopeCityIndustrial); n != 1 {
			t.Errorf("%d rows", n)
		}
		if n := f.audits("power.baseline.put"); n != 5 {
			t.Errorf("%d audit rows", n)
		}
		if n := f.count(`SELECT COUNT(*) FROM audit_log WHERE action = 'power.baseline.put' AND object_id = $1 AND summary LIKE '%原为 66196870 千瓦%'`,
			ScopeCityIndustrial); n != 1 {
			t.Errorf("replacement summary: %d", n)
		}

		list, err := f.svc.Baselines(f.ctx, f.sys)
		if err != nil {
			t.Fatal(err)
		}
		var scopes []string
		for _, b := range list {
			scopes = append(scopes, b.Scope)
		}
		if strings.Join(scopes, " ") != "city_industrial district_industrial:430203 park:株洲高新区 park:田心高科园" {
			t.Errorf("baselines %v", scopes)
		}
		// A district sees the city's baseline and its own, not the
		// others'.
		for _, c := range []struct {
			p    *auth.Principal
			want string
		}{
			{f.officer(auth.DistrictOfficer, "430203"), "city_industrial district_industrial:430203"},
			{f.officer(auth.StreetOfficer, "430204003"), "city_industrial park:田心高科园"},
			{tianyuan, "city_industrial park:株洲高新区"},
		} {
			list, err := f.svc.Baselines(f.ctx, c.p)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, b := range list {
				got = append(got, b.Scope)
			}
			if strings.Join(got, " ") != c.want {
				t.Errorf("%s sees %v", c.p.Username, got)
			}
		}
		_, err = f.svc.Baselines(f.ctx, f.contact("x"))
		mustErr(t, err, errs.Forbidden, "")
	})
}

func TestAddReading(t *testing.T) {
	clk := testClock()
	dbtest.Each(t, clk, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, clk)
		f.at(testBase) // the clock is shared by the SQLite and PostgreSQL runs
		hq := f.officer(auth.HQStaff, "430200")
		tianyuan := f.officer(auth.HQStaff, "430211")
		for _, b := range []struct {
			scope, area string
			kw          float64
		}{{ScopeCityIndustrial, "430200", 66196870}, {"park:田心高科园", "430204", 226750}, {"park:株洲高新区", "430211", 356000}} {
			if _, err := f.svc.PutBaseline(f.ctx, hq, b.scope, BaselineInput{AreaCode: b.area, BaselineKW: b.kw}); err != nil {
				t.Fatal(err)
			}
		}
		f.at(nov22(20, 9, 0))
		r, err := f.svc.AddReading(f.ctx, hq, ReadingInput{Scope: " city_industrial", Date: "2022-11-19", MaxLoadKW: 59000000})
		if err != nil {
			t.Fatal(err)
		}
		if r.Scope != ScopeCityIndustrial || r.Date != "2022-11-19" || !r.FiledAt.Equal(nov22(20, 9, 0)) || r.FiledBy != hq.Username {
			t.Errorf("reading %+v", r)
		}
		// A correction of the same day is a new version.
		f.at(nov22(20, 11, 0))
		if _, err := f.svc.AddReading(f.ctx, hq, ReadingInput{Scope: ScopeCityIndustrial, Date: "2022-11-19", MaxLoadKW: 59650000}); err != nil {
			t.Fatal(err)
		}
		f.at(nov22(20, 12, 0))
		if _, err := f.svc.AddReading(f.ctx, tianyuan, ReadingInput{Scope: "park:株洲高新区", Date: "2022-11-20", MaxLoadKW: 320000}); err != nil {
			t.Fatal(err)
		}
		if n := f.count(`SELECT COUNT(*) FROM power_readings WHERE scope = 'city_industrial' AND reading_date = '2022-11-19'`); n != 2 {
			t.Errorf("%d versions", n)
		}
		if n := f.audits("power.reading.add"); n != 3 {
			t.Errorf("%d audit rows", n)
		}

		for _, c := range []struct {
			name string
			p    *auth.Principal
			in   ReadingInput
			kind errs.Kind
			code string
		}{
			{"future", hq, ReadingInput{ScopeCityIndustrial, "2022-11-21", 1}, errs.Invalid, "invalid_reading"},
			{"bad date", hq, ReadingInput{ScopeCityIndustrial, "2022-11-31", 1}, errs.Invalid, "invalid_reading"},
			{"slashes", hq, ReadingInput{ScopeCityIndustrial, "2022/11/19", 1}, errs.Invalid, "invalid_reading"},
			{"negative", hq, ReadingInput{ScopeCityIndustrial, "2022-11-19", -1}, errs.Invalid, "invalid_reading"},
			{"NaN", hq, ReadingInput{ScopeCityIndustrial, "2022-11-19", math.NaN()}, errs.Invalid, "invalid_reading"},
			{"bad scope", hq, ReadingInput{"town", "2022-11-19", 1}, errs.Invalid, "bad_scope"},
			{"no baseline", hq, ReadingInput{"park:无名园", "2022-11-19", 1}, errs.NotFound, "baseline_not_found"},
			{"another district's park", tianyuan, ReadingInput{"park:田心高科园", "2022-11-19", 1}, errs.NotFound, "baseline_not_found"},
			{"the city by a district", tianyuan, ReadingInput{ScopeCityIndustrial, "2022-11-19", 1}, errs.NotFound, "baseline_not_found"},
			{"reader only", f.officer(auth.DistrictOfficer, "430204"), ReadingInput{"park:田心高科园", "2022-11-19", 1}, errs.Forbidden, ""},
		} {
			_, err := f.svc.AddReading(f.ctx, c.p, c.in)
			if !errs.Is(err, c.kind) || (c.code != "" && errs.As(err).Code != c.code) {
				t.Errorf("%s: %v", c.name, err)
			}
		}
		e := errs.As(func() error {
			_, err := f.svc.AddReading(f.ctx, hq, ReadingInput{ScopeCityIndustrial, "x", -1})
			return err
		}())
		if e == nil || len(e.Fields) != 2 || e.Fields[0].Field != "date" || e.Fields[1].Field != "max_load_kw" {
			t.Errorf("fields: %+v", e)
		}

		// As of a moment: the latest date not after the day, the latest
		// version filed by then.
		f.at(nov22(22, 9, 0))
		power := func(at string) []PowerStat {
			t.Helper()
			st, err := f.svc.Stats(f.ctx, f.sys, StatsQuery{At: statsTime(t, at)})
			if err != nil {
				t.Fatal(err)
			}
			return st.Power
		}
		if p := power("2022-11-20T08:00:00+08:00"); len(p) != 0 {
			t.Errorf("before any filing: %+v", p)
		}
		if p := power("2022-11-20T10:00:00+08:00"); len(p) != 1 || p[0].MaxLoadKW != 59000000 || p[0].Recovery != 0.8913 {
			t.Errorf("at 10:00: %+v", p)
		}
		p := power("2022-11-20T17:00:00+08:00")
		if len(p) != 2 || p[0].MaxLoadKW != 59650000 || p[0].Recovery != 0.9011 || p[0].Name != "全市工业" ||
			p[1].Scope != "park:株洲高新区" || p[1].Date != "2022-11-20" || p[1].BaselineKW != 356000 {
			t.Errorf("at 17:00: %+v", p)
		}
		// On 11-19 itself the park's reading of 11-20 does not exist yet.
		if p := power("2022-11-19T23:59:59+08:00"); len(p) != 0 {
			t.Errorf("on 11-19: %+v", p)
		}
	})
}

// TestPowerInStats checks which baselines belong to a query: those of
// areas inside the queried subtrees and of the areas above them.
func TestPowerInStats(t *testing.T) {
	clk := testClock()
	dbtest.Each(t, clk, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, clk)
		f.at(testBase) // the clock is shared by the SQLite and PostgreSQL runs
		for _, b := range []struct{ scope, area string }{
			{ScopeCityIndustrial, "430200"}, {"district_industrial:430203", "430203"}, {"district_industrial:430204", "430204"},
			{"park:建设园", "430203001"}, {"park:贺家土园", "430203002"}, {"park:栗雨园", "430211003"},
		} {
			if _, err := f.svc.PutBaseline(f.ctx, f.sys, b.scope, BaselineInput{AreaCode: b.area, BaselineKW: 1000}); err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.AddReading(f.ctx, f.sys, ReadingInput{Scope: b.scope, Date: "2022-11-20", MaxLoadKW: 900}); err != nil {
				t.Fatal(err)
			}
		}
		for _, c := range []struct {
			p     *auth.Principal
			areas []string
			want  string
		}{
			{f.sys, []string{"430203001"}, "city_industrial district_industrial:430203 park:建设园"},
			{f.sys, []string{"430203"}, "city_industrial district_industrial:430203 park:建设园 park:贺家土园"},
			{f.sys, []string{"430203001", "430211"}, "city_industrial district_industrial:430203 park:建设园 park:栗雨园"},
			{f.sys, nil, "city_industrial district_industrial:430203 district_industrial:430204 park:建设园 park:栗雨园 park:贺家土园"},
			{f.officer(auth.DistrictOfficer, "430204"), nil, "city_industrial district_industrial:430204"},
			{f.contact("x"), nil, ""},
			// A contact or a liaison reaches enterprises, not areas: naming
			// a district shows their own units in it, never its power load.
			{f.contact("x"), []string{"430204"}, ""},
		} {
			st, err := f.svc.Stats(f.ctx, c.p, StatsQuery{Areas: c.areas})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range st.Power {
				got = append(got, p.Scope)
				if p.Recovery != 0.9 || p.Date != "2022-11-20" {
					t.Errorf("%+v", p)
				}
			}
			if strings.Join(got, " ") != c.want {
				t.Errorf("%v: %v", c.areas, got)
			}
		}
	})
}

// statsTime parses an RFC 3339 time.
func statsTime(t testing.TB, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return at
}
