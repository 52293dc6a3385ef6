package resumption

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
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

// urbanDistrictCodes are the seed's 城区.
var urbanDistrictCodes = []string{"430202", "430203", "430204", "430211"}

// urbanStreets are the demo city's streets in the four urban districts.
var urbanStreets = []string{"430202001", "430202002", "430202003", "430203001", "430203002", "430203003",
	"430204001", "430204002", "430204003", "430211001", "430211002", "430211003"}

// nov22 builds a time in Asia/Shanghai on a day of November 2022.
func nov22(day, hour, minute int) time.Time {
	return time.Date(2022, 11, day, hour, minute, 0, 0, clock.Shanghai)
}

// seedUnit is a unit of the seed city and how it reports.
type seedUnit struct {
	key, kind, area string
	cats            []string
	isKey           bool
	// final is the status of its latest report at 2022-11-20 17:00; ""
	// when it has none then.
	final                      Status
	capacity, expected, onSite int
	onlyOld                    bool // its latest report is dated 11-18
	prevDay                    bool // also an 11-19 report saying the opposite
	revised                    bool // 11-20 first filed suspended, revised at exactly 17:00
	lateFlip                   bool // re-filed suspended for 11-20 at 18:00
	lateNew                    bool // first report for 11-20 at 18:00 (resumed)
	outside                    bool // in a district outside the 城区
}

// seedCity is a city whose 城区 totals are the seed's: 735 above-scale
// industrial enterprises of which 632 resumed, 1,775 "四上" of which 1,349,
// 209 projects of which 197, 21,504 project staff expected and 16,644 on
// site; plus units elsewhere that must not count.
func seedCity(f *fixture) []seedUnit {
	var units []seedUnit
	n := 0
	next := func() string { n++; return urbanStreets[n%len(urbanStreets)] }
	// Above-scale industry: 632 working, 90 suspended, 13 not reported
	// by 17:00 (they report at 18:00). Every twelfth is also trade.
	for i := range 735 {
		u := seedUnit{kind: "企业", area: next(), cats: []string{"规上工业"}, isKey: i%10 == 0,
			expected: 50 + i%50, capacity: 40 + i%60}
		if i%12 == 5 {
			u.cats = append(u.cats, "限上批零住餐")
		}
		switch {
		case i < 632:
			u.final = Resumed
			if i%19 == 0 {
				u.final = Partial
			}
			u.onSite = u.expected * 3 / 4
			u.onlyOld = i%7 == 3
			u.revised = !u.onlyOld && i%13 == 2
			u.lateFlip = i%30 == 4
		case i < 722:
			u.final, u.capacity = Suspended, 0
		default:
			u.lateNew, u.capacity = true, 0
		}
		u.prevDay = u.final != "" && !u.onlyOld && i%5 == 1
		units = append(units, u)
	}
	// The other three "四上" categories: 1,040 units, 717 working; ten
	// services firms never report.
	for _, c := range []struct {
		cat            string
		total, working int
	}{{"资质等级建筑业和房地产开发经营业", 300, 210}, {"限上批零住餐", 400, 270}, {"规上服务业", 340, 237}} {
		for i := range c.total {
			u := seedUnit{kind: "企业", area: next(), cats: []string{c.cat}, isKey: i%25 == 0, expected: 20 + i%30, capacity: 30 + i%70}
			switch {
			case i < c.working:
				u.final, u.onSite = Resumed, u.expected/2
			case c.cat == "规上服务业" && i >= c.total-10:
				u.capacity = 0
			default:
				u.final, u.capacity = Suspended, 0
			}
			u.prevDay = u.final != "" && i%6 == 2
			units = append(units, u)
		}
	}
	// Projects: 197 working, 12 suspended; staff expected sums to 21,504,
	// on site to 16,644.
	for i := range 209 {
		u := seedUnit{kind: "项目", area: next(), expected: 102, capacity: 70}
		if i < 186 {
			u.expected = 103
		}
		if i < 197 {
			u.final, u.onSite = Resumed, 84
			if i < 96 {
				u.onSite = 85
			}
			u.onlyOld = i%20 == 7
		} else {
			u.final, u.capacity = Suspended, 0
			u.lateFlip = i < 202 // re-filed resumed after 17:00
		}
		u.prevDay = !u.onlyOld && i%4 == 1
		units = append(units, u)
	}
	// Small firms outside the "四上": not in any category group; five
	// never report.
	for i := range 50 {
		u := seedUnit{kind: "企业", area: next(), isKey: i%5 == 0, expected: 10, capacity: 50}
		if i < 45 {
			u.final, u.onSite = Resumed, 8
			if i%2 == 1 {
				u.final, u.onSite, u.capacity = Suspended, 0, 0
			}
		}
		units = append(units, u)
	}
	// Elsewhere: 渌口区 and 醴陵市, all working, big numbers.
	for i := range 40 {
		units = append(units, seedUnit{kind: "企业", area: "430212001", cats: []string{"规上工业", "规上服务业"}, final: Resumed,
			expected: 500, onSite: 500, capacity: 100, outside: true, isKey: i%2 == 0})
	}
	for range 5 {
		units = append(units, seedUnit{kind: "项目", area: "430281001", final: Resumed, expected: 1000, onSite: 1000,
			capacity: 100, outside: true})
	}
	for i := range units {
		if units[i].kind == "项目" {
			units[i].key = fmt.Sprintf("ZZXM-2022-%04d", i)
		} else {
			units[i].key = f.key(units[i].area)
		}
	}
	return units
}

// statsImportCSV imports CSV lines (the first is the header) through the
// service, as the system, and fails on any rejected row.
func statsImportCSV(f *fixture, reports bool, lines []string) {
	f.t.Helper()
	if len(lines) < 2 {
		return
	}
	data := []byte(strings.Join(lines, "\r\n") + "\r\n")
	var res *ImportResult
	var err error
	if reports {
		res, err = f.svc.ImportReports(f.ctx, f.sys, data, false)
	} else {
		res, err = f.svc.ImportEnterprises(f.ctx, f.sys, data, false)
	}
	if err != nil {
		if e := errs.As(err); e != nil && len(e.Fields) > 0 {
			f.t.Fatalf("import: %v; first errors: %+v", err, e.Fields[:min(5, len(e.Fields))])
		}
		f.t.Fatalf("import: %v", err)
	}
	if res.Accepted != len(lines)-1 || res.Rejected != 0 {
		f.t.Fatalf("import: %+v, want %d accepted", res, len(lines)-1)
	}
}

const seedReportHeader = "统一社会信用代码/项目编码,日期,状态,产能,应到岗人数,实际到岗人数,闭环生产,备注"

func seedReportLine(key, date string, st Status, capacity, expected, onSite int) string {
	return fmt.Sprintf("%s,%s,%s,%d,%d,%d,否,", key, date, statusZh[st], capacity, expected, onSite)
}

func statsOpposite(st Status) Status {
	if st.Working() {
		return Suspended
	}
	return Resumed
}

// loadSeedCity registers the seed city from CSV files through the
// service and files its reports and power data, moving the clock.
func loadSeedCity(f *fixture) []seedUnit {
	f.t.Helper()
	units := seedCity(f)
	f.at(nov22(17, 9, 0))
	registerSeedCity(f, units)

	phase := func(at time.Time, pick func(u seedUnit) (string, Status, int, int, int, bool)) {
		f.at(at)
		lines := []string{seedReportHeader}
		for _, u := range units {
			if date, st, capacity, expected, onSite, ok := pick(u); ok {
				lines = append(lines, seedReportLine(u.key, date, st, capacity, expected, onSite))
			}
		}
		statsImportCSV(f, true, lines)
	}
	// 11-18: the units whose latest report stays the one of that day.
	phase(nov22(18, 10, 0), func(u seedUnit) (string, Status, int, int, int, bool) {
		return "2022-11-18", u.final, u.capacity, u.expected, u.onSite, u.onlyOld
	})
	// 11-19: reports saying the opposite of 11-20's, with other staff.
	phase(nov22(19, 16, 0), func(u seedUnit) (string, Status, int, int, int, bool) {
		return "2022-11-19", statsOpposite(u.final), 10, u.expected + 7, 1, u.prevDay
	})
	// 11-20 morning: the day's reports; the revised ones first say
	// suspended.
	phase(nov22(20, 9, 0), func(u seedUnit) (string, Status, int, int, int, bool) {
		if u.revised {
			return "2022-11-20", Suspended, 0, u.expected, 0, true
		}
		return "2022-11-20", u.final, u.capacity, u.expected, u.onSite, u.final != "" && !u.onlyOld
	})
	// Exactly 17:00: the revisions, which count.
	phase(nov22(20, 17, 0), func(u seedUnit) (string, Status, int, int, int, bool) {
		return "2022-11-20", u.final, u.capacity, u.expected, u.onSite, u.revised
	})
	// 18:00: later filings that must not change the answer for 17:00.
	phase(nov22(20, 18, 0), func(u seedUnit) (string, Status, int, int, int, bool) {
		switch {
		case u.lateFlip:
			return "2022-11-20", statsOpposite(u.final), 5, u.expected, 0, true
		case u.lateNew:
			return "2022-11-20", Resumed, 60, u.expected, u.expected, true
		}
		return "", "", 0, 0, 0, false
	})
	// The next day: reports of 11-21.
	phase(nov22(21, 9, 0), func(u seedUnit) (string, Status, int, int, int, bool) {
		return "2022-11-21", Suspended, 0, u.expected, 0, u.final.Working() && !u.outside && len(u.key)%2 == 0
	})

	// Power: baselines, the readings of 11-19 filed on the morning of
	// 11-20, and corrections filed after 17:00.
	f.at(nov22(20, 9, 30))
	for _, b := range []struct {
		scope, area, name string
		baseline          float64
		loads             map[string]float64
	}{
		{ScopeCityIndustrial, "430200", "全市工业", 66196870, map[string]float64{"2022-11-18": 50000000, "2022-11-19": 59650000}},
		{"park:株洲高新区", "430211", "株洲高新区", 356000, map[string]float64{"2022-11-19": 322100}},
		{"park:田心高科园", "430204", "田心高科园", 226750, map[string]float64{"2022-11-19": 205000}},
		{"park:渌口工业园", "430212", "渌口工业园", 100000, map[string]float64{"2022-11-19": 99000}},
	} {
		if _, err := f.svc.PutBaseline(f.ctx, f.sys, b.scope, BaselineInput{AreaCode: b.area, Name: b.name, BaselineKW: b.baseline,
			Reference: "2022年10月日均最大负荷"}); err != nil {
			f.t.Fatalf("baseline %s: %v", b.scope, err)
		}
		for _, date := range []string{"2022-11-18", "2022-11-19"} {
			if load, ok := b.loads[date]; ok {
				if _, err := f.svc.AddReading(f.ctx, f.sys, ReadingInput{Scope: b.scope, Date: date, MaxLoadKW: load}); err != nil {
					f.t.Fatalf("reading %s %s: %v", b.scope, date, err)
				}
			}
		}
	}
	f.at(nov22(20, 18, 5))
	for _, r := range []ReadingInput{{ScopeCityIndustrial, "2022-11-19", 60000000}, {ScopeCityIndustrial, "2022-11-20", 61000000},
		{"park:株洲高新区", "2022-11-20", 350000}} {
		if _, err := f.svc.AddReading(f.ctx, f.sys, r); err != nil {
			f.t.Fatalf("late reading: %v", err)
		}
	}
	return units
}

// registerSeedCity imports the seed city's units from a CSV file.
func registerSeedCity(f *fixture, units []seedUnit) {
	f.t.Helper()
	lines := []string{"统一社会信用代码,项目编码,类型,名称,区域编码,园区,类别,重点,职工人数"}
	for i, u := range units {
		key := map[bool]string{true: "是", false: "否"}[u.isKey]
		if u.kind == "项目" {
			lines = append(lines, fmt.Sprintf(",%s,项目,项目%d,%s,,,%s,%d", u.key, i, u.area, key, u.expected))
		} else {
			lines = append(lines, fmt.Sprintf("%s,,企业,企业%d,%s,,%s,%s,%d", u.key, i, u.area, strings.Join(u.cats, ";"), key, u.expected))
		}
	}
	statsImportCSV(f, false, lines)
}

// statsRound rounds x to dec decimals.
func statsRound(x float64, dec int) float64 {
	p := math.Pow10(dec)
	return math.Round(x*p) / p
}

func statsWantGroup(t *testing.T, st *Stats, g string, total, resumed int) {
	t.Helper()
	got := st.Group(g)
	if got.Total != total || got.Resumed != resumed {
		t.Errorf("%s: %d of %d resumed, want %d of %d", g, got.Resumed, got.Total, resumed, total)
	}
}

const seedBriefing = "截至11月20日下午5点，城区复工项目共计197个，复工率为94.3%，累计到位员工16644人，到位率为77.4%。" +
	"同时，重点行业“四上”企业复工复产累计1349家，复工复产率为76%，其中规模以上工业企业632家，复工复产率达86%。" +
	"从电力数据来看，截至11月19日，全市工业负荷最大值为5965万千瓦，已恢复至疫情前的90.11%，" +
	"园区总负荷最大值为52.71万千瓦，恢复至疫情前的90.45%。"

// TestSeedFigures loads a city from files whose totals are the seed's and
// checks that the four urban districts at 2022-11-20 17:00 +08:00 give
// exactly the newspaper's figures, whatever was filed later.
func TestSeedFigures(t *testing.T) {
	clk := testClock()
	dbtest.Each(t, clk, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, clk)
		units := loadSeedCity(f)
		at, err := time.Parse(time.RFC3339, "2022-11-20T17:00:00+08:00")
		if err != nil {
			t.Fatal(err)
		}
		f.at(nov22(22, 9, 0))
		st, err := f.svc.Stats(f.ctx, f.sys, StatsQuery{Areas: urbanDistrictCodes, At: at})
		if err != nil {
			t.Fatal(err)
		}
		if st.Area != "430202,430203,430204,430211" || !st.AsOf.Equal(at) {
			t.Errorf("area %q as of %v", st.Area, st.AsOf)
		}
		statsWantSeed(t, st)
		// Every other figure, counted from the plan of the city.
		var want tally
		for _, u := range units {
			if u.outside {
				continue
			}
			row := unitRow{kind: map[string]string{"项目": "project", "企业": "enterprise"}[u.kind], isKey: u.isKey,
				has: u.final != "", status: u.final, capacity: u.capacity, expected: u.expected, onS: u.onSite}
			for _, c := range u.cats {
				cat, _ := ParseCategory(c)
				row.cats |= 1 << slices.Index(Categories, cat)
			}
			want.add(&row)
		}
		if w := want.stats(momentOf(at), st.Area, st.Power); !statsJSONEqual(t, w, st) {
			t.Errorf("stats differ from the plan:\n got %s\nwant %s", statsJSON(t, st), statsJSON(t, w))
		}
		if st.NotReported != 28 {
			t.Errorf("not reported %d, want 13 + 10 + 5", st.NotReported)
		}
		if len(st.Power) != 3 || st.Power[0].Scope != ScopeCityIndustrial || st.Power[0].Date != "2022-11-19" ||
			st.Power[0].MaxLoadKW != 59650000 || st.Power[0].Recovery != 0.9011 {
			t.Errorf("power %+v", st.Power)
		}
		if pt, ok := st.ParksTotal(); !ok || pt.MaxLoadKW != 527100 || statsRound(pt.MaxLoadKW/pt.BaselineKW, 4) != 0.9045 {
			t.Errorf("parks total %+v", pt)
		}

		// Repeated and nested codes count each unit once.
		again, err := f.svc.Stats(f.ctx, f.sys, StatsQuery{Areas: []string{"430211", "430202,430203", "430204", "430203001", "430202"}, At: at})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(again.Groups, st.Groups) || !slices.Equal(again.Staff, st.Staff) {
			t.Errorf("repeated areas: %+v", again.Groups)
		}

		b, err := f.svc.Briefing(f.ctx, f.sys, StatsQuery{Areas: urbanDistrictCodes, At: at})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{"632家", "86%", "1349家", "76%", "197个", "94.3%", "16644人", "77.4%",
			"5965万千瓦", "90.11%", "52.71万千瓦", "90.45%"} {
			if !strings.Contains(b.ZH, s) {
				t.Errorf("briefing lacks %q: %s", s, b.ZH)
			}
		}
		if b.ZH != seedBriefing {
			t.Errorf("briefing:\n got %s\nwant %s", b.ZH, seedBriefing)
		}
		for _, s := range []string{"5 p.m. on 20 November", "197 projects in the urban districts", "94.3%", "16,644 workers", "77.4%",
			"1,349", "76%", "632 above-scale industrial", "86%", "as of 19 November", "59.65 million kW", "90.11%", "527,100 kW", "90.45%"} {
			if !strings.Contains(b.EN, s) {
				t.Errorf("English briefing lacks %q: %s", s, b.EN)
			}
		}

		// Later the same evening the later filings count.
		late, err := f.svc.Stats(f.ctx, f.sys, StatsQuery{Areas: urbanDistrictCodes, At: nov22(20, 18, 30)})
		if err != nil {
			t.Fatal(err)
		}
		flips := 0
		for i, u := range units {
			if i < 735 && u.lateFlip {
				flips++
			}
		}
		statsWantGroup(t, late, string(IndustrialAboveScale), 735, 632-flips+13)
		statsWantGroup(t, late, GroupProject, 209, 202)
		if late.Power[0].MaxLoadKW != 61000000 || late.Power[0].Date != "2022-11-20" {
			t.Errorf("late power %+v", late.Power[0])
		}
		// The whole city counts the units elsewhere too.
		city, err := f.svc.Stats(f.ctx, f.sys, StatsQuery{Areas: []string{"430200"}, At: at})
		if err != nil {
			t.Fatal(err)
		}
		statsWantGroup(t, city, string(IndustrialAboveScale), 775, 672)
		statsWantGroup(t, city, GroupProject, 214, 202)
		if len(city.Power) != 4 {
			t.Errorf("city power: %+v", city.Power)
		}
	})
}

func statsJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func statsJSONEqual(t testing.TB, a, b any) bool { return statsJSON(t, a) == statsJSON(t, b) }

// asOfCity is a small city whose reports exercise "as of": versions,
// dates, late filings.
type asOfCity struct {
	e1, e2, e3, e4, p1 string
}

func loadAsOfCity(t *testing.T, f *fixture) asOfCity {
	t.Helper()
	c := asOfCity{}
	f.at(nov22(17, 9, 0))
	c.e1 = f.enterprise("430203001", IndustrialAboveScale).Key
	c.e2 = f.enterprise("430204001", IndustrialAboveScale, ServicesAboveScale).Key
	c.e3 = f.enterprise("430203002", TradeCateringAboveQuota).Key
	e4 := f.enterprise("430212001", IndustrialAboveScale)
	c.e4 = e4.Key
	in := EnterpriseInput{Key: c.e4, Kind: KindEnterprise, Name: e4.Name, AreaCode: e4.AreaCode, Categories: []string{"规上工业"}, IsKey: true}
	f.save(in)
	c.p1 = f.project("XM-ASOF-1", "430211001").Key

	// e1: 11-19 resumed; 11-20 suspended at 09:00, partial at 16:59,
	// suspended again one millisecond after 17:00.
	f.reportAt(nov22(19, 10, 0), c.e1, "2022-11-19", Resumed, 90, 100, 90)
	f.reportAt(nov22(20, 9, 0), c.e1, "2022-11-20", Suspended, 0, 100, 0)
	f.reportAt(nov22(20, 16, 59), c.e1, "2022-11-20", Partial, 40, 100, 60)
	f.reportAt(nov22(20, 17, 0).Add(time.Millisecond), c.e1, "2022-11-20", Suspended, 0, 100, 0)
	// e2: 11-18 suspended; its 11-19 report filed only at 18:30 on 11-20,
	// its 11-20 report on 11-21.
	f.reportAt(nov22(18, 10, 0), c.e2, "2022-11-18", Suspended, 0, 50, 0)
	f.reportAt(nov22(20, 18, 30), c.e2, "2022-11-19", Resumed, 70, 50, 45)
	f.reportAt(nov22(21, 9, 0), c.e2, "2022-11-20", Resumed, 80, 50, 50)
	// p1: 11-20 resumed; a report dated 11-21 slipped in before 17:00 on
	// 11-20 (written directly: the service refuses future dates).
	f.reportAt(nov22(20, 8, 0), c.p1, "2022-11-20", Resumed, 60, 100, 80)
	if _, err := f.d.WritePool().ExecContext(f.ctx, `INSERT INTO resumption_reports (enterprise_id, report_date, status,
		capacity_pct, staff_expected, staff_on_site, closed_loop, note, filed_at, filed_by)
		SELECT id, '2022-11-21', 'suspended', 0, 100, 0, FALSE, '', $1, 'test' FROM enterprises WHERE ekey = $2`,
		nov22(20, 12, 0).UnixMilli(), c.p1); err != nil {
		t.Fatal(err)
	}
	f.rebuildDays()
	// e4 (渌口区): resumed.
	f.reportAt(nov22(20, 8, 0), c.e4, "2022-11-20", Resumed, 100, 30, 30)
	return c
}

func TestStatsAsOf(t *testing.T) {
	clk := testClock()
	dbtest.Each(t, clk, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, clk)
		c := loadAsOfCity(t, f)
		f.at(nov22(22, 9, 0))
		stats := func(p *auth.Principal, at time.Time, areas ...string) *Stats {
			t.Helper()
			st, err := f.svc.Stats(f.ctx, p, StatsQuery{Areas: areas, At: at})
			if err != nil {
				t.Fatal(err)
			}
			return st
		}
		at := nov22(20, 17, 0)
		st := stats(f.sys, at, urbanDistrictCodes...)
		// e1 partial (the version of 16:59), e2 suspended (11-18), e3
		// never reported, p1 resumed (its 11-21 report is after the day).
		statsWantGroup(t, st, string(IndustrialAboveScale), 2, 1)
		statsWantGroup(t, st, string(ServicesAboveScale), 1, 0)
		statsWantGroup(t, st, string(TradeCateringAboveQuota), 1, 0)
		statsWantGroup(t, st, GroupFourAbove, 3, 1)
		statsWantGroup(t, st, GroupProject, 1, 1)
		statsWantGroup(t, st, GroupKey, 0, 0)
		if st.NotReported != 1 || st.CapacityAvg != 50 {
			t.Errorf("not reported %d, capacity %v", st.NotReported, st.CapacityAvg)
		}
		if s := st.StaffOf(GroupFourAbove); s.Expected != 150 || s.OnSite != 60 || s.Rate != 0.4 {
			t.Errorf("four above staff %+v", s)
		}
		if s := st.StaffOf(GroupProject); s.Expected != 100 || s.OnSite != 80 || s.Rate != 0.8 {
			t.Errorf("project staff %+v", s)
		}
		if len(st.Groups) != 7 || len(st.Staff) != 7 || st.Groups[4].Group != GroupFourAbove || st.Groups[6].Group != GroupKey {
			t.Errorf("groups %+v", st.Groups)
		}
		// One millisecond later e1's last version counts.
		statsWantGroup(t, stats(f.sys, at.Add(time.Millisecond), urbanDistrictCodes...), string(IndustrialAboveScale), 2, 0)
		// At 19:00 e2's late 11-19 report counts; on 11-21 its 11-20
		// report, and p1's 11-21 report.
		later := stats(f.sys, nov22(20, 19, 0), urbanDistrictCodes...)
		statsWantGroup(t, later, string(IndustrialAboveScale), 2, 1)
		statsWantGroup(t, later, string(ServicesAboveScale), 1, 1)
		next := stats(f.sys, nov22(21, 10, 0), urbanDistrictCodes...)
		statsWantGroup(t, next, GroupProject, 1, 0)
		statsWantGroup(t, next, GroupFourAbove, 3, 1)
		// Before anything was filed nothing is reported.
		if early := stats(f.sys, nov22(17, 12, 0)); early.NotReported != 5 || early.Area != "430200" {
			t.Errorf("early: %d not reported, area %q", early.NotReported, early.Area)
		}
		// The whole city (empty areas for the system) includes e4.
		city := stats(f.sys, at)
		statsWantGroup(t, city, string(IndustrialAboveScale), 3, 2)
		statsWantGroup(t, city, GroupKey, 1, 1)

		// Reach: a district officer sees their district by default, may
		// query inside it and nowhere else.
		lusong := f.officer(auth.DistrictOfficer, "430203")
		if st := stats(lusong, at); st.Area != "430203" || st.Group(GroupFourAbove).Total != 2 {
			t.Errorf("district officer: %s %+v", st.Area, st.Groups)
		}
		if st := stats(lusong, at, "430203002"); st.Group(GroupFourAbove).Total != 1 {
			t.Errorf("street inside reach: %+v", st.Groups)
		}
		for _, areas := range [][]string{{"430204"}, {"430200"}, {"430203", "430211"}, {"999999"}} {
			_, err := f.svc.Stats(f.ctx, lusong, StatsQuery{Areas: areas, At: at})
			mustErr(t, err, errs.NotFound, "area_not_found")
		}
		_, err := f.svc.Stats(f.ctx, f.sys, StatsQuery{Areas: []string{"430299"}, At: at})
		mustErr(t, err, errs.NotFound, "area_not_found")
		_, err = f.svc.Stats(f.ctx, f.officer(auth.Volunteer, "430203"), StatsQuery{At: at})
		mustErr(t, err, errs.Forbidden, "")
		_, err = f.svc.Stats(f.ctx, nil, StatsQuery{At: at})
		mustErr(t, err, errs.Unauthorized, "")
		// An enterprise contact counts only their enterprise.
		if st := stats(f.contact(c.e1), at); st.Group(GroupFourAbove).Total != 1 || st.Group(GroupFourAbove).Resumed != 1 {
			t.Errorf("contact: %+v", st.Groups)
		}
		// A liaison counts only the enterprises assigned to them.
		li := f.liaison("li_asof", "430204")
		f.assign("li_asof", c.e2)
		if st := stats(li, at); st.Group(GroupFourAbove).Total != 1 || st.Group(GroupProject).Total != 0 {
			t.Errorf("liaison: %+v", st.Groups)
		}
		if st := stats(li, at, "430203"); st.Group(GroupFourAbove).Total != 0 {
			t.Errorf("liaison elsewhere: %+v", st.Groups)
		}
	})
}

func TestNotResumed(t *testing.T) {
	clk := testClock()
	dbtest.Each(t, clk, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, clk)
		c := loadAsOfCity(t, f)
		f.at(nov22(20, 9, 30))
		in := reportIn("2022-11-20", Suspended, 0, 10, 0)
		in.Note = "片区封控"
		if _, err := f.svc.FileReport(f.ctx, f.sys, c.e3, in); err != nil {
			t.Fatal(err)
		}
		f.at(nov22(22, 9, 0))
		list, err := f.svc.NotResumed(f.ctx, f.sys, StatsQuery{Areas: urbanDistrictCodes, At: nov22(20, 17, 0)})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, u := range list {
			got = append(got, u.Key+" "+u.Reason+" "+u.LastDate+" "+string(u.Status)+" "+u.Note+" "+u.AreaCode)
		}
		want := []string{
			c.e3 + " suspended 2022-11-20 suspended 片区封控 430203002",
			c.e2 + " suspended 2022-11-18 suspended  430204001",
		}
		if !slices.Equal(got, want) {
			t.Errorf("not resumed:\n got %q\nwant %q", got, want)
		}
		if len(list) == 2 && (list[1].AreaName != "井龙街道" || !slices.Equal(list[1].Categories, []Category{IndustrialAboveScale, ServicesAboveScale})) {
			t.Errorf("unit detail %+v", list[1])
		}
		// Before 09:30 e3 had no report: not reported.
		list, err = f.svc.NotResumed(f.ctx, f.sys, StatsQuery{Areas: []string{"430203"}, At: nov22(20, 9, 0)})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 || list[0].Key != c.e1 || list[0].Reason != ReasonSuspended || list[1].Key != c.e3 ||
			list[1].Reason != ReasonNotReported || list[1].LastDate != "" || list[1].Status != "" {
			t.Errorf("at 09:00: %+v", list)
		}
		if b, _ := json.Marshal(list[1]); !strings.Contains(string(b), `"area_code":"430203002"`) || !strings.Contains(string(b), `"last_date":""`) {
			t.Errorf("JSON: %s", b)
		}
	})
}

func TestBreakdown(t *testing.T) {
	clk := testClock()
	dbtest.Each(t, clk, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, clk)
		c := loadAsOfCity(t, f)
		f.at(nov22(20, 9, 0))
		if _, err := f.svc.PutBaseline(f.ctx, f.sys, ScopeCityIndustrial, BaselineInput{AreaCode: "430200", BaselineKW: 1000}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.PutBaseline(f.ctx, f.sys, "park:株洲高新区", BaselineInput{AreaCode: "430211", BaselineKW: 100}); err != nil {
			t.Fatal(err)
		}
		for _, r := range []ReadingInput{{ScopeCityIndustrial, "2022-11-19", 900}, {"park:株洲高新区", "2022-11-19", 95}} {
			if _, err := f.svc.AddReading(f.ctx, f.sys, r); err != nil {
				t.Fatal(err)
			}
		}
		f.at(nov22(22, 9, 0))
		at := nov22(20, 17, 0)
		list, err := f.svc.Breakdown(f.ctx, f.sys, StatsQuery{Areas: []string{"430200"}, At: at}, LevelDistrict)
		if err != nil {
			t.Fatal(err)
		}
		var codes []string
		var sum tally
		for _, a := range list {
			codes = append(codes, a.Code)
			for i, g := range a.Stats.Groups {
				sum.total[i] += g.Total
				sum.resumed[i] += g.Resumed
				sum.reported[i] += g.Reported
			}
		}
		if !slices.Equal(codes, []string{"430202", "430203", "430204", "430211", "430212", "430223", "430224", "430225", "430281"}) {
			t.Errorf("districts %v", codes)
		}
		city, err := f.svc.Stats(f.ctx, f.sys, StatsQuery{Areas: []string{"430200"}, At: at})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(sum.groups()[:6], city.Groups[:6]) {
			t.Errorf("districts sum to %+v, city %+v", sum.groups(), city.Groups)
		}
		byCode := map[string]AreaStats{}
		for _, a := range list {
			byCode[a.Code] = a
		}
		if a := byCode["430203"]; a.Name != "芦淞区" || a.Stats.Area != "430203" || a.Stats.Group(GroupFourAbove).Total != 2 ||
			a.Stats.NotReported != 1 || len(a.Stats.Power) != 1 {
			t.Errorf("芦淞区: %+v %+v", a, a.Stats)
		}
		if a := byCode["430211"]; len(a.Stats.Power) != 2 || a.Stats.Power[1].Scope != "park:株洲高新区" || a.Stats.Group(GroupProject).Resumed != 1 {
			t.Errorf("天元区: %+v", a.Stats)
		}

		streets, err := f.svc.Breakdown(f.ctx, f.sys, StatsQuery{Areas: []string{"430203"}, At: at}, LevelStreet)
		if err != nil {
			t.Fatal(err)
		}
		if len(streets) != 3 || streets[0].Code != "430203001" || streets[0].Name != "建设街道" ||
			streets[0].Stats.Group(string(IndustrialAboveScale)).Resumed != 1 || streets[1].Stats.NotReported != 1 {
			t.Errorf("streets of 芦淞区: %+v", streets)
		}
		// A street officer's breakdown by district is their street.
		street := f.officer(auth.StreetOfficer, "430203001")
		own, err := f.svc.Breakdown(f.ctx, street, StatsQuery{At: at}, LevelDistrict)
		if err != nil {
			t.Fatal(err)
		}
		if len(own) != 1 || own[0].Code != "430203001" || own[0].Stats.Group(GroupFourAbove).Total != 1 {
			t.Errorf("street officer: %+v", own)
		}
		// A contact's breakdown holds their enterprise's district only.
		mine, err := f.svc.Breakdown(f.ctx, f.contact(c.e2), StatsQuery{At: at}, LevelStreet)
		if err != nil {
			t.Fatal(err)
		}
		if len(mine) != 1 || mine[0].Code != "430204001" || mine[0].Stats.Group(GroupFourAbove).Total != 1 {
			t.Errorf("contact: %+v", mine)
		}
		_, err = f.svc.Breakdown(f.ctx, f.sys, StatsQuery{At: at}, "community")
		mustErr(t, err, errs.Invalid, "bad_level")
		_, err = f.svc.Breakdown(f.ctx, street, StatsQuery{Areas: []string{"430203"}, At: at}, LevelStreet)
		mustErr(t, err, errs.NotFound, "area_not_found")
	})
}

func TestTrend(t *testing.T) {
	clk := testClock()
	dbtest.Each(t, clk, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, clk)
		loadAsOfCity(t, f)
		f.at(nov22(22, 9, 0))
		q := StatsQuery{Areas: urbanDistrictCodes, At: nov22(21, 10, 0)}
		days, err := f.svc.Trend(f.ctx, f.sys, q, 4)
		if err != nil {
			t.Fatal(err)
		}
		if len(days) != 4 {
			t.Fatalf("%d days", len(days))
		}
		// Each day is its report date as known at the query's moment.
		for i, day := range days {
			st, err := f.svc.Stats(f.ctx, f.sys, StatsQuery{Areas: q.Areas, At: q.At, Date: fmt.Sprintf("2022-11-%d", 18+i)})
			if err != nil {
				t.Fatal(err)
			}
			if day.Date != fmt.Sprintf("2022-11-%d", 18+i) || !slices.Equal(day.Groups, st.Groups) || !slices.Equal(day.Staff, st.Staff) {
				t.Errorf("day %d: %+v, stats %+v", i, day, st.Groups)
			}
		}
		// e2's 11-19 report, filed only on the evening of 11-20, counts
		// for 11-19: two of two industrial units resumed that day. p1
		// reported first for 11-20 and has no data before.
		if days[2].Groups[0].Resumed != 1 || days[1].Groups[0].Resumed != 2 || days[0].Groups[0].Resumed != 0 {
			t.Errorf("industrial by day: %+v", days)
		}
		if g := days[1].Groups[5]; g.Group != GroupProject || g.HasRate() || statsJSON(t, g) != `{"group":"project","total":1,"resumed":0,"reported":0,"rate":null}` {
			t.Errorf("projects on 11-19: %s", statsJSON(t, g))
		}
		if g := days[2].Groups[5]; !g.HasRate() || g.Rate != 1 {
			t.Errorf("projects on 11-20: %+v", g)
		}
		// As known at 17:00 on 11-20, e2's 11-19 report was not filed yet.
		early, err := f.svc.Trend(f.ctx, f.sys, StatsQuery{Areas: q.Areas, At: nov22(20, 17, 0)}, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(early) != 2 || early[1].Date != "2022-11-20" || early[0].Groups[0].Resumed != 1 {
			t.Errorf("trend as known at 17:00: %+v", early)
		}
		// date= ends the trend on that date.
		byDate, err := f.svc.Trend(f.ctx, f.sys, StatsQuery{Areas: q.Areas, Date: "2022-11-19"}, 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(byDate) != 3 || byDate[0].Date != "2022-11-17" || byDate[2].Date != "2022-11-19" || !slices.Equal(byDate[2].Groups, days[1].Groups) {
			t.Errorf("trend to 11-19: %+v", byDate)
		}
		for _, n := range []int{0, -1, 91} {
			_, err := f.svc.Trend(f.ctx, f.sys, q, n)
			mustErr(t, err, errs.Invalid, "bad_days")
		}
		_, err = f.svc.Trend(f.ctx, f.officer(auth.DistrictOfficer, "430203"), StatsQuery{Areas: []string{"430204"}}, 3)
		mustErr(t, err, errs.NotFound, "area_not_found")
	})
}

// TestStatsAPI drives the statistics and power routes through handlers.
func TestStatsAPI(t *testing.T) {
	clk := testClock()
	d := dbtest.Open(t, "sqlite", clk)
	f := newFixture(t, d, clk)
	loadAsOfCity(t, f)
	f.at(nov22(22, 9, 0))
	a := &web.Adapter{Log: slog.New(slog.DiscardHandler)}
	api := NewAPI(f.svc)
	mux := http.NewServeMux()
	for pattern, h := range map[string]web.Handler{
		"GET /api/v1/resumption/stats":        api.Stats,
		"GET /api/v1/resumption/stats.xlsx":   api.ExportStats,
		"GET /api/v1/resumption/breakdown":    api.Breakdown,
		"GET /api/v1/resumption/trend":        api.Trend,
		"GET /api/v1/resumption/not-resumed":  api.NotResumed,
		"GET /api/v1/resumption/briefing":     api.Briefing,
		"GET /api/v1/power/baselines":         api.Baselines,
		"PUT /api/v1/power/baselines/{scope}": api.PutBaseline,
		"POST /api/v1/power/readings":         api.AddReading,
	} {
		mux.Handle(pattern, a.H(h))
	}
	hq := f.officer(auth.HQStaff, "430200")
	lusong := f.officer(auth.DistrictOfficer, "430203")
	do := func(p *auth.Principal, method, target, body string) *httptest.ResponseRecorder {
		t.Helper()
		r := httptest.NewRequest(method, target, strings.NewReader(body))
		if body != "" {
			r.Header.Set("Content-Type", "application/json")
		}
		if p != nil {
			r = r.WithContext(web.WithPrincipal(r.Context(), p))
		}
		w := httptest.NewRecorder()
		apitest.Handler(t, mux).ServeHTTP(w, r)
		return w
	}
	const at = "at=2022-11-20T17:00:00%2B08:00"
	const urban = "area=430202&area=430203&area=430204&area=430211"

	w := do(hq, "GET", "/api/v1/resumption/stats?"+urban+"&"+at, "")
	if w.Code != 200 {
		t.Fatalf("stats: %d %s", w.Code, w.Body)
	}
	for _, s := range []string{`"as_of":"2022-11-20T09:00:00Z"`, `"area":"430202,430203,430204,430211"`,
		`{"group":"industrial_above_scale","total":2,"resumed":1,"reported":2,"rate":0.5}`, `{"group":"project","expected":100,"on_site":80,"rate":0.8}`,
		`"capacity_avg":50`, `"not_reported":1`, `"power":[]`} {
		if !strings.Contains(w.Body.String(), s) {
			t.Errorf("stats lacks %s: %s", s, w.Body)
		}
	}
	for _, c := range []struct {
		p      *auth.Principal
		target string
		status int
		code   string
	}{
		{hq, "/api/v1/resumption/stats?at=yesterday", 400, "bad_at"},
		{hq, "/api/v1/resumption/stats?at=2022-11-20", 400, "bad_at"},
		{lusong, "/api/v1/resumption/stats?area=430204", 404, "area_not_found"},
		{nil, "/api/v1/resumption/stats", 401, "unauthenticated"},
		{f.officer(auth.Volunteer, "430203"), "/api/v1/resumption/stats", 403, "forbidden"},
		{hq, "/api/v1/resumption/breakdown?level=grid", 400, "bad_level"},
		{hq, "/api/v1/resumption/trend?days=abc", 400, "bad_days"},
		{hq, "/api/v1/resumption/trend?days=91", 400, "bad_days"},
		{hq, "/api/v1/resumption/briefing?at=now", 400, "bad_at"},
		{hq, "/api/v1/resumption/stats.xlsx?level=x", 400, "bad_level"},
	} {
		w := do(c.p, "GET", c.target, "")
		if w.Code != c.status || !strings.Contains(w.Body.String(), `"code":"`+c.code+`"`) {
			t.Errorf("%s: %d %s", c.target, w.Code, w.Body)
		}
	}
	// Default moment: now (the clock).
	w = do(lusong, "GET", "/api/v1/resumption/stats", "")
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"as_of":"2022-11-22T01:00:00Z"`) || !strings.Contains(w.Body.String(), `"area":"430203"`) {
		t.Errorf("default stats: %d %s", w.Code, w.Body)
	}

	// Power routes, on the morning of 11-20.
	f.at(nov22(20, 9, 0))
	w = do(hq, "PUT", "/api/v1/power/baselines/"+ScopeCityIndustrial, `{"area_code":"430200","name":"全市工业","baseline_kw":66196870,"reference":"2022年10月日均最大负荷"}`)
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"scope":"city_industrial"`) || !strings.Contains(w.Body.String(), `"baseline_kw":66196870`) {
		t.Fatalf("put baseline: %d %s", w.Code, w.Body)
	}
	w = do(hq, "PUT", "/api/v1/power/baselines/park:%E7%94%B0%E5%BF%83%E9%AB%98%E7%A7%91%E5%9B%AD", `{"area_code":"430204","baseline_kw":226750}`)
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"scope":"park:田心高科园"`) || !strings.Contains(w.Body.String(), `"name":"田心高科园"`) {
		t.Fatalf("put park baseline: %d %s", w.Code, w.Body)
	}
	if w := do(hq, "PUT", "/api/v1/power/baselines/city_industrial", `{"area_code":"430200","baseline_kw":1,"extra":1}`); w.Code != 400 {
		t.Errorf("unknown field: %d", w.Code)
	}
	if w := do(lusong, "PUT", "/api/v1/power/baselines/city_industrial", `{"area_code":"430200","baseline_kw":1}`); w.Code != 403 {
		t.Errorf("district officer puts a baseline: %d", w.Code)
	}
	w = do(hq, "POST", "/api/v1/power/readings", `{"scope":"city_industrial","date":"2022-11-19","max_load_kw":59650000}`)
	if w.Code != 201 || !strings.Contains(w.Body.String(), `"max_load_kw":59650000`) || !strings.Contains(w.Body.String(), `"filed_by":"officer_hq_staff"`) {
		t.Fatalf("add reading: %d %s", w.Code, w.Body)
	}
	if w := do(hq, "POST", "/api/v1/power/readings", `{"scope":"park:无名园","date":"2022-11-19","max_load_kw":1}`); w.Code != 404 {
		t.Errorf("reading without baseline: %d %s", w.Code, w.Body)
	}
	if w := do(hq, "POST", "/api/v1/power/readings", `{"scope":"city_industrial","date":"2022-11-21","max_load_kw":1}`); w.Code != 400 {
		t.Errorf("future reading: %d %s", w.Code, w.Body)
	}
	w = do(lusong, "GET", "/api/v1/power/baselines", "")
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"scope":"city_industrial"`) || strings.Contains(w.Body.String(), "田心") {
		t.Errorf("baselines of 芦淞区: %d %s", w.Code, w.Body)
	}

	w = do(hq, "GET", "/api/v1/resumption/breakdown?"+at, "")
	if w.Code != 200 || !strings.Contains(w.Body.String(), `{"items":[{"code":"430202","name":"荷塘区","stats":{`) {
		t.Errorf("breakdown: %d %s", w.Code, w.Body)
	}
	w = do(hq, "GET", "/api/v1/resumption/trend?days=2&"+urban+"&"+at, "")
	if w.Code != 200 || !strings.Contains(w.Body.String(), `{"items":[{"date":"2022-11-19","groups":[`) || !strings.Contains(w.Body.String(), `{"date":"2022-11-20"`) {
		t.Errorf("trend: %d %s", w.Code, w.Body)
	}
	w = do(hq, "GET", "/api/v1/resumption/not-resumed?"+urban+"&"+at, "")
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"reason":"not_reported"`) || !strings.Contains(w.Body.String(), `"reason":"suspended"`) {
		t.Errorf("not resumed: %d %s", w.Code, w.Body)
	}
	w = do(hq, "GET", "/api/v1/resumption/briefing?"+urban+"&"+at, "")
	var b Briefing
	if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &b) != nil || !strings.HasPrefix(b.ZH, "截至11月20日下午5点，城区复工项目共计1个，复工率为100%") ||
		!strings.Contains(b.ZH, "全市工业负荷最大值为5965万千瓦，已恢复至疫情前的90.11%") || b.Stats == nil || b.Area != "430202,430203,430204,430211" {
		t.Errorf("briefing: %d %s", w.Code, w.Body)
	}

	w = do(hq, "GET", "/api/v1/resumption/stats.xlsx?"+urban+"&"+at, "")
	if w.Code != 200 || w.Header().Get("Content-Type") != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" ||
		!strings.Contains(w.Header().Get("Content-Disposition"), "resumption-stats-20221120-1700.xlsx") {
		t.Fatalf("xlsx: %d %v", w.Code, w.Header())
	}
	x, err := excelize.OpenReader(bytes.NewReader(w.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if got := x.GetSheetList(); !slices.Equal(got, []string{"概况", "复工复产", "到岗", "电力", "分区"}) {
		t.Errorf("sheets %v", got)
	}
	rows, _ := x.GetRows("复工复产")
	if len(rows) != 8 || !slices.Equal(rows[1][:4], []string{"规上工业", "industrial_above_scale", "2", "1"}) {
		t.Errorf("groups sheet %v", rows)
	}
	rows, _ = x.GetRows("电力")
	if len(rows) != 2 || rows[1][1] != ScopeCityIndustrial || rows[1][3] != "59650000" {
		t.Errorf("power sheet %v", rows)
	}
	rows, _ = x.GetRows("分区")
	if len(rows) != 1+4*7 || rows[1][0] != "430202" {
		t.Errorf("breakdown sheet: %d rows", len(rows))
	}
}

// TestLatestStrategiesAgree checks both ways of finding the latest
// reports — whole days scanned, units probed one by one — against a
// direct reading of every version, on random histories with late
// filings, corrections, versions filed in the same millisecond and
// reports dated after their filing.
func TestLatestStrategiesAgree(t *testing.T) {
	clk := testClock()
	dbtest.Each(t, clk, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, clk)
		rnd := rand.New(rand.NewPCG(20, 11))
		type version struct {
			eid, id, filed int64
			date           string
		}
		var all []version
		var ids []int64
		for i := range 40 {
			e := f.enterprise(urbanStreets[i%len(urbanStreets)], Categories[i%4])
			var eid int64
			if err := d.ReadPool().QueryRowContext(f.ctx, `SELECT id FROM enterprises WHERE ekey = $1`, e.Key).Scan(&eid); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, eid)
			for range rnd.IntN(7) {
				day := 14 + rnd.IntN(7)
				filed := nov22(day, 0, 0).Add(time.Duration(rnd.IntN(60*60)) * time.Minute).UnixMilli()
				if rnd.IntN(8) == 0 {
					filed = nov22(day, 0, 0).Add(-3 * time.Hour).UnixMilli() // dated after its filing
				}
				copies := 1 + rnd.IntN(4)/3 // now and then two versions in the same millisecond
				for range copies {
					v := version{eid: eid, filed: filed, date: fmt.Sprintf("2022-11-%d", day)}
					st := []string{"resumed", "partial", "suspended"}[rnd.IntN(3)]
					if err := d.WritePool().QueryRowContext(f.ctx, `INSERT INTO resumption_reports (enterprise_id, report_date, status,
						capacity_pct, staff_expected, staff_on_site, closed_loop, note, filed_at, filed_by)
						VALUES ($1, $2, $3, 50, 10, 5, FALSE, '', $4, 'test') RETURNING id`, eid, v.date, st, filed).Scan(&v.id); err != nil {
						t.Fatal(err)
					}
					all = append(all, v)
				}
			}
		}
		moments := []time.Time{nov22(13, 12, 0), nov22(23, 0, 0)}
		for h := 0; h < 10*24; h += 5 {
			moments = append(moments, nov22(14, 0, 0).Add(time.Duration(h)*time.Hour))
		}
		for _, v := range all[:20] {
			moments = append(moments, time.UnixMilli(v.filed), time.UnixMilli(v.filed-1))
		}
		sc := &statsScope{vis: visibility{all: true}}
		for _, at := range moments {
			m := momentOf(at)
			want := map[int64]version{}
			for _, v := range all {
				if v.date > m.date || v.filed > m.ms {
					continue
				}
				w, ok := want[v.eid]
				if !ok || v.date > w.date || v.date == w.date && (v.filed > w.filed || v.filed == w.filed && v.id > w.id) {
					want[v.eid] = v
				}
			}
			for _, scan := range []bool{true, false} {
				err := d.Read(f.ctx, func(tx *db.Tx) error {
					units, err := scopeUnits(f.ctx, tx, sc, false)
					if err != nil {
						return err
					}
					if len(units) != len(ids) {
						t.Fatalf("%d units", len(units))
					}
					if err := attachLatestBy(f.ctx, tx, units, m, true, scan); err != nil {
						return err
					}
					for _, u := range units {
						w, ok := want[u.id]
						if u.has != ok || ok && (u.repID != w.id || u.date != w.date || u.filedAt != w.filed) {
							t.Errorf("at %v (scan %v) unit %d: has %v report %d %s, want %v %+v", at, scan, u.id, u.has, u.repID, u.date, ok, w)
						}
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}

// statsWantSeed checks the seed's figures of 2022-11-20 in the four urban
// districts: 632 of 735 above-scale industrial enterprises, 1,349 of 1,775
// "四上", 197 of 209 projects with 16,644 of 21,504 workers, and the rates
// rounded as the newspaper rounds them.
func statsWantSeed(t *testing.T, st *Stats) {
	t.Helper()
	statsWantGroup(t, st, string(IndustrialAboveScale), 735, 632)
	statsWantGroup(t, st, GroupFourAbove, 1775, 1349)
	statsWantGroup(t, st, GroupProject, 209, 197)
	if s := st.StaffOf(GroupProject); s.Expected != 21504 || s.OnSite != 16644 {
		t.Errorf("project staff %d of %d, want 16644 of 21504", s.OnSite, s.Expected)
	}
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"industrial 86%", statsRound(st.Group(string(IndustrialAboveScale)).Rate, 2), 0.86},
		{"four above 76%", statsRound(st.Group(GroupFourAbove).Rate, 2), 0.76},
		{"projects 94.3%", statsRound(st.Group(GroupProject).Rate, 3), 0.943},
		{"staff 77.4%", statsRound(st.StaffOf(GroupProject).Rate, 3), 0.774},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %v", c.name, c.got)
		}
	}
}
