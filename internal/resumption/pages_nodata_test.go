package resumption

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"tongxin/internal/testcity"
	"tongxin/internal/web"
)

// The statistics page by report date, and "no data" where nobody
// reported: the project (never reports) shows "—", its chart points are
// null and its export cells empty.
func TestStatsPageByDate(t *testing.T) {
	e := newPagesEnv(t)
	w := e.get("/resumption?date=2022-11-19", planHQ)
	testcity.Sees(t, w, 200, []string{
		"填报日期：2022-11-19 · 截至 2022-11-20 18:00 已收到的日报",
		`<input id="date" name="date" type="date" value="2022-11-19">`, `<input id="at" name="at" type="datetime-local" value="">`,
		// On 11-19 only CRRC had reported: 1 of 3 industrial units.
		`<td class="num" data-label="复工率"><strong>33.3%</strong></td>`,
		`<th scope="row">项目</th>`, `<span class="no-data" title="无数据" aria-label="无数据">—</span>`,
		"截至11月19日，全市重点行业“四上”企业复工复产累计1家",
		`href="/resumption.xlsx?date=2022-11-19"`, `href="/resumption/not-resumed?date=2022-11-19"`,
	}, []string{"截至11月19日，全市复工项目"})
	// The project row: total 1, none resumed, no rate.
	if !regexp.MustCompile(`<th scope="row">项目</th>\s*<td class="num" data-label="总数">1</td>\s*<td class="num" data-label="已复工">0</td>\s*<td class="num" data-label="复工率"><strong><span class="no-data"`).MatchString(w.Body.String()) {
		t.Error("the project row does not show — for its rate")
	}
	if loc := regexp.MustCompile(`[^0-9.]0\.0%`).FindStringIndex(w.Body.String()); loc != nil {
		t.Errorf("a 0.0%% on the page: %s", w.Body.String()[max(0, loc[0]-300):loc[1]])
	}
	m := regexp.MustCompile(`(?s)<script type="application/json" id="chart-data">(.*?)</script>`).FindStringSubmatch(w.Body.String())
	if m == nil {
		t.Fatal("no chart data")
	}
	var charts []pageChartSpec
	if err := json.Unmarshal([]byte(m[1]), &charts); err != nil {
		t.Fatal(err)
	}
	trend := charts[1]
	if trend.ID != "chart-trend" || len(trend.Categories) != 14 || trend.Categories[13] != "11-19" || trend.Series[2].Name != "项目" {
		t.Fatalf("trend chart: %+v", trend)
	}
	for i, v := range trend.Series[2].Data {
		if v != nil {
			t.Errorf("project point %d: %v, want null", i, *v)
		}
	}
	// Industrial: no report before 11-19 (a gap), 33.3% on 11-19.
	if ind := trend.Series[0].Data; ind[12] != nil || ind[13] == nil || *ind[13] != 33.3 {
		t.Errorf("industrial points: %v %v", ind[12], ind[13])
	}
	if !strings.Contains(m[1], `"data":[null,null`) {
		t.Errorf("chart JSON without null points: %s", m[1])
	}

	testcity.Sees(t, e.get("/resumption?date=2022-11-31", planHQ), 400, []string{"date 须为日期"}, nil)
	testcity.Sees(t, e.get("/resumption?date=2022-11-21", planHQ), 400, []string{"date 不能晚于"}, nil)
	testcity.Sees(t, e.do("GET", "/resumption?date=2022-11-19", planHQ, web.LangEN, nil), 200,
		[]string{"Reports dated 2022-11-19 · as received by 2022-11-20 18:00", `title="no data"`, "As of 19 November"}, nil)
	testcity.Sees(t, e.get("/resumption/not-resumed?date=2022-11-19", planHQ), 200,
		[]string{"填报日期：2022-11-19", "未填报 3 家，停工 0 家", `href="/resumption?date=2022-11-19"`}, nil)

	// The export: the project's rate cells are empty, not 0.
	x := e.get("/resumption.xlsx?date=2022-11-19", planHQ)
	if cd := x.Header().Get("Content-Disposition"); !strings.Contains(cd, "resumption-20221119.xlsx") {
		t.Errorf("file name: %s", cd)
	}
	for _, row := range pageXLSXRows(t, x, "复工复产")[1:] {
		if row[0] == "项目" && (len(row) != 4 || row[2] != "1" || row[3] != "0") {
			t.Errorf("project row: %q", row)
		}
	}
	rows := pageXLSXRows(t, x, "近期趋势")
	cell := func(r, c int) string {
		if r < len(rows) && c < len(rows[r]) {
			return rows[r][c]
		}
		return ""
	}
	// 11-19: industrial, four above and staff, no project; 11-18 nothing.
	if len(rows) != 15 || cell(14, 0) != "2022-11-19" || cell(14, 1) == "" || cell(14, 3) != "" || cell(14, 4) == "" ||
		cell(13, 0) != "2022-11-18" || cell(13, 1) != "" || cell(13, 4) != "" {
		t.Errorf("trend sheet: %q", rows)
	}
	nr := e.get("/resumption/not-resumed.xlsx?date=2022-11-19", planHQ)
	if cd := nr.Header().Get("Content-Disposition"); !strings.Contains(cd, "not-resumed-20221119.xlsx") {
		t.Errorf("file name: %s", cd)
	}
}
