package resumption

import (
	"strings"
	"testing"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/db/dbtest"
)

func TestBriefingTimes(t *testing.T) {
	for _, c := range []struct {
		h, m   int
		zh, en string
	}{
		{17, 0, "11月20日下午5点", "5 p.m. on 20 November"},
		{17, 30, "11月20日下午5点30分", "5:30 p.m. on 20 November"},
		{9, 5, "11月20日上午9点5分", "9:05 a.m. on 20 November"},
		{12, 0, "11月20日中午12点", "12 p.m. on 20 November"},
		{0, 30, "11月20日凌晨0点30分", "12:30 a.m. on 20 November"},
		{20, 0, "11月20日晚上8点", "8 p.m. on 20 November"},
	} {
		at := nov22(20, c.h, c.m).UTC() // shown in Shanghai whatever the zone
		if got := timeZH(at); got != c.zh {
			t.Errorf("timeZH %02d:%02d = %s, want %s", c.h, c.m, got, c.zh)
		}
		if got := timeEN(at); got != c.en {
			t.Errorf("timeEN %02d:%02d = %s, want %s", c.h, c.m, got, c.en)
		}
	}
	if dateZH("2022-11-19") != "11月19日" || dateEN("2022-11-19") != "19 November" || dateZH("x") != "x" {
		t.Error("dates")
	}
}

func TestBriefingNumbers(t *testing.T) {
	for _, c := range []struct {
		a, b float64
		dec  int
		want string
	}{
		{632, 735, 0, "86"}, {1349, 1775, 0, "76"}, {197, 209, 1, "94.3"}, {16644, 21504, 1, "77.4"},
		{1, 1, 1, "100"}, {0, 5, 0, "0"}, {1, 3, 1, "33.3"}, {2, 3, 0, "67"}, {5, 0, 1, "0"}, {19, 20, 1, "95"},
	} {
		if got := pctText(c.a, c.b, c.dec); got != c.want {
			t.Errorf("pctText(%v, %v, %d) = %s, want %s", c.a, c.b, c.dec, got, c.want)
		}
	}
	for _, c := range []struct {
		load, base float64
		want       string
	}{{59650000, 66196870, "90.11"}, {527100, 582750, "90.45"}, {1, 1, "100.00"}, {9, 10, "90.00"}} {
		if got := recoveryText(c.load, c.base); got != c.want {
			t.Errorf("recoveryText(%v, %v) = %s, want %s", c.load, c.base, got, c.want)
		}
	}
	for kw, want := range map[float64]string{59650000: "5965", 527100: "52.71", 527000: "52.7", 12340: "1.23", 500: "0.05", 0: "0"} {
		if got := wanText(kw); got != want {
			t.Errorf("wanText(%v) = %s, want %s", kw, got, want)
		}
	}
	for kw, want := range map[float64]string{59650000: "59.65 million kW", 527100: "527,100 kW", 1e6: "1 million kW", 999.6: "1,000 kW"} {
		if got := loadEN(kw); got != want {
			t.Errorf("loadEN(%v) = %s, want %s", kw, got, want)
		}
	}
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 16644: "16,644", 1234567: "1,234,567", -1234: "-1,234"} {
		if got := grouped(n); got != want {
			t.Errorf("grouped(%d) = %s, want %s", n, got, want)
		}
	}
}

func TestAreaPhrases(t *testing.T) {
	ref := func(code, name, level string) areaRef { return areaRef{Code: code, Name: name, Level: level} }
	hetang, lusong := ref("430202", "荷塘区", "district"), ref("430203", "芦淞区", "district")
	shifeng, tianyuan := ref("430204", "石峰区", "district"), ref("430211", "天元区", "district")
	lukou, city := ref("430212", "渌口区", "district"), ref("430200", "株洲市", "city")
	for _, c := range []struct {
		areas  []areaRef
		zh, en string
	}{
		{[]areaRef{hetang, lusong, shifeng, tianyuan}, "城区", "the urban districts"},
		{[]areaRef{tianyuan, shifeng, hetang, lusong}, "城区", "the urban districts"},
		{[]areaRef{hetang, lusong, shifeng}, "荷塘区、芦淞区、石峰区", "荷塘区, 芦淞区, 石峰区"},
		{[]areaRef{hetang, lusong, shifeng, tianyuan, lukou}, "荷塘区、芦淞区、石峰区、天元区、渌口区", "荷塘区, 芦淞区, 石峰区, 天元区, 渌口区"},
		{[]areaRef{city}, "全市", "the city"},
		{[]areaRef{lusong}, "芦淞区", "芦淞区"},
		{nil, "", ""},
	} {
		zh, en := areaPhrases(c.areas)
		if zh != c.zh || en != c.en {
			t.Errorf("%v: %q %q", c.areas, zh, en)
		}
	}
}

// briefingStats builds Stats with the given figures for the sentence
// tests.
func briefingStats(projects, projResumed, expected, onSite, four, fourResumed, ind, indResumed int, power ...PowerStat) *Stats {
	var t tally
	t.total[5], t.resumed[5], t.expected[5], t.onSite[5] = projects, projResumed, expected, onSite
	t.total[4], t.resumed[4] = four, fourResumed
	t.total[0], t.resumed[0] = ind, indResumed
	t.reported[5], t.reported[4], t.reported[0] = projects, four, ind // every unit reported
	return t.stats(momentOf(nov22(20, 17, 0)), "430203", power)
}

func TestBriefingSentences(t *testing.T) {
	city := PowerStat{Scope: ScopeCityIndustrial, Name: "全市工业", Date: "2022-11-19", MaxLoadKW: 59650000, BaselineKW: 66196870}
	park := func(name string, date string, load, base float64) PowerStat {
		return PowerStat{Scope: "park:" + name, Name: name, Date: date, MaxLoadKW: load, BaselineKW: base}
	}
	for _, c := range []struct {
		name   string
		st     *Stats
		zh, en string
	}{
		{"everything", briefingStats(209, 197, 21504, 16644, 1775, 1349, 735, 632, city,
			park("株洲高新区", "2022-11-19", 322100, 356000), park("田心高科园", "2022-11-19", 205000, 226750)),
			"截至11月20日下午5点，芦淞区复工项目共计197个，复工率为94.3%，累计到位员工16644人，到位率为77.4%。" +
				"同时，重点行业“四上”企业复工复产累计1349家，复工复产率为76%，其中规模以上工业企业632家，复工复产率达86%。" +
				"从电力数据来看，截至11月19日，全市工业负荷最大值为5965万千瓦，已恢复至疫情前的90.11%，园区总负荷最大值为52.71万千瓦，恢复至疫情前的90.45%。",
			"As of 5 p.m. on 20 November, 197 projects in 芦淞区 had resumed work, a resumption rate of 94.3%, with 16,644 workers on site, " +
				"an on-site rate of 77.4%. Meanwhile, 1,349 \"four above\" enterprises in key sectors had resumed work and production, a rate of 76%, " +
				"including 632 above-scale industrial enterprises, a rate of 86%. According to power data, as of 19 November, the city's maximum " +
				"industrial load was 59.65 million kW, back to 90.11% of the pre-epidemic level, and the industrial parks' total maximum load was " +
				"527,100 kW, back to 90.45% of the pre-epidemic level."},
		{"no projects, no power", briefingStats(0, 0, 0, 0, 10, 7, 4, 3),
			"截至11月20日下午5点，芦淞区重点行业“四上”企业复工复产累计7家，复工复产率为70%，其中规模以上工业企业3家，复工复产率达75%。",
			"As of 5 p.m. on 20 November, 7 \"four above\" enterprises in key sectors in 芦淞区 had resumed work and production, a rate of 70%, " +
				"including 3 above-scale industrial enterprises, a rate of 75%."},
		{"projects without staff, four above without industry", briefingStats(3, 3, 0, 0, 2, 1, 0, 0),
			"截至11月20日下午5点，芦淞区复工项目共计3个，复工率为100%。同时，重点行业“四上”企业复工复产累计1家，复工复产率为50%。",
			"As of 5 p.m. on 20 November, 3 projects in 芦淞区 had resumed work, a resumption rate of 100%. Meanwhile, 1 \"four above\" " +
				"enterprises in key sectors had resumed work and production, a rate of 50%."},
		{"nothing", briefingStats(0, 0, 0, 0, 0, 0, 0, 0),
			"截至11月20日下午5点，芦淞区暂无企业和项目复工复产数据。",
			"As of 5 p.m. on 20 November, no enterprise or project in 芦淞区 had reported on its resumption of work."},
		{"one park, another day", briefingStats(0, 0, 0, 0, 0, 0, 0, 0, city, park("株洲高新区", "2022-11-18", 322100, 356000)),
			"截至11月20日下午5点，芦淞区暂无企业和项目复工复产数据。从电力数据来看，截至11月19日，全市工业负荷最大值为5965万千瓦，已恢复至疫情前的90.11%，" +
				"截至11月18日，株洲高新区负荷最大值为32.21万千瓦，恢复至疫情前的90.48%。",
			"As of 5 p.m. on 20 November, no enterprise or project in 芦淞区 had reported on its resumption of work. According to power data, " +
				"as of 19 November, the city's maximum industrial load was 59.65 million kW, back to 90.11% of the pre-epidemic level, and as of " +
				"18 November, the maximum load of 株洲高新区 was 322,100 kW, back to 90.48% of the pre-epidemic level."},
		{"a district's load", briefingStats(0, 0, 0, 0, 1, 1, 1, 1, PowerStat{Scope: "district_industrial:430203", Name: "芦淞区工业",
			Date: "2022-11-19", MaxLoadKW: 800000, BaselineKW: 1000000}),
			"截至11月20日下午5点，芦淞区重点行业“四上”企业复工复产累计1家，复工复产率为100%，其中规模以上工业企业1家，复工复产率达100%。" +
				"从电力数据来看，截至11月19日，芦淞区工业负荷最大值为80万千瓦，已恢复至疫情前的80.00%。",
			"As of 5 p.m. on 20 November, 1 \"four above\" enterprises in key sectors in 芦淞区 had resumed work and production, a rate of 100%, " +
				"including 1 above-scale industrial enterprises, a rate of 100%. According to power data, as of 19 November, the maximum load of " +
				"芦淞区工业 was 800,000 kW, back to 80.00% of the pre-epidemic level."},
	} {
		if got := briefingZH(c.st, "芦淞区"); got != c.zh {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.zh)
		}
		if got := briefingEN(c.st, "芦淞区"); got != c.en {
			t.Errorf("%s (en):\n got %s\nwant %s", c.name, got, c.en)
		}
	}
}

// TestBriefingService checks the area phrase and the time through the
// service.
func TestBriefingService(t *testing.T) {
	clk := testClock()
	dbtest.Each(t, clk, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, clk)
		f.at(nov22(20, 9, 0))
		p1 := f.project("XM-BRIEF-1", "430203001").Key
		f.project("XM-BRIEF-2", "430204001")
		f.report(p1, "2022-11-20", Resumed, 80, 120, 90)
		f.at(nov22(20, 18, 0))
		for _, c := range []struct {
			p     *auth.Principal
			areas []string
			at    time.Time
			date  string
			zh    string
		}{
			{f.officer(auth.DistrictOfficer, "430203"), nil, nov22(20, 17, 0), "",
				"截至11月20日下午5点，芦淞区复工项目共计1个，复工率为100%，累计到位员工90人，到位率为75%。"},
			{f.sys, []string{"430200"}, nov22(20, 17, 30), "",
				"截至11月20日下午5点30分，全市复工项目共计1个，复工率为50%，累计到位员工90人，到位率为75%。"},
			// Before any report the projects have no data, not 0%.
			{f.sys, nil, nov22(20, 8, 0), "",
				"截至11月20日上午8点，全市暂无企业和项目复工复产数据。"},
			{f.sys, []string{"430204001", "430203"}, time.Time{}, "",
				"截至11月20日晚上6点，井龙街道、芦淞区复工项目共计1个，复工率为50%，累计到位员工90人，到位率为75%。"},
			// By report date the paragraph names the date, not a time.
			{f.sys, []string{"430203"}, time.Time{}, "2022-11-20",
				"截至11月20日，芦淞区复工项目共计1个，复工率为100%，累计到位员工90人，到位率为75%。"},
			{f.sys, []string{"430203"}, time.Time{}, "2022-11-19",
				"截至11月19日，芦淞区暂无企业和项目复工复产数据。"},
		} {
			b, err := f.svc.Briefing(f.ctx, c.p, StatsQuery{Areas: c.areas, At: c.at, Date: c.date})
			if err != nil {
				t.Fatal(err)
			}
			if b.ZH != c.zh {
				t.Errorf("%v:\n got %s\nwant %s", c.areas, b.ZH, c.zh)
			}
			if b.Stats == nil || b.Area != b.Stats.Area || !b.AsOf.Equal(b.Stats.AsOf) || !strings.HasPrefix(b.EN, "As of ") {
				t.Errorf("briefing %+v", b)
			}
		}
	})
}
