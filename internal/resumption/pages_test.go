package resumption

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db/dbtest"
	"tongxin/internal/testcity"
	"tongxin/internal/web"
)

const pageKeyProject = "ZZXM-2022-0197" // 芦淞区 建设街道, never reports

// pageNow is the pages' clock: 2022-11-20 18:00 in Shanghai.
var pageNow = time.Date(2022, 11, 20, 18, 0, 0, 0, clock.Shanghai)

type pagesEnv struct {
	*planEnv
	mux *http.ServeMux
}

// newPagesEnv builds the plan fixture on a clock at pageNow, adds a
// project, today's reports (CRRC resumed, 千金 partial, 欧微 suspended, the
// project none), a power baseline with a reading and one plan, and mounts
// the pages as the lead does.
func newPagesEnv(t *testing.T) *pagesEnv {
	t.Helper()
	clk := clock.NewManual(pageNow.AddDate(0, 0, -1))
	d := dbtest.Open(t, "sqlite", clk)
	e := newPlanEnv(t, d)
	ctx := context.Background()
	sys := auth.System()
	if _, _, err := e.svc.Save(ctx, sys, EnterpriseInput{Key: pageKeyProject, Kind: KindProject, Name: "建设街道老旧小区改造项目",
		AreaCode: "430203001", Employees: 160, ContactName: "项目部"}); err != nil {
		t.Fatal(err)
	}
	n := func(v int) *int { return &v }
	for _, r := range []struct {
		key  string
		in   ReportInput
		date string
	}{
		{planKeyCRRC, ReportInput{Status: Resumed, CapacityPct: n(80), StaffExpected: n(3000), StaffOnSite: n(2640), ClosedLoop: true}, "2022-11-19"},
		{planKeyCRRC, ReportInput{Status: Resumed, CapacityPct: n(85), StaffExpected: n(3000), StaffOnSite: n(2700), ClosedLoop: true}, "2022-11-20"},
		{planKeyQianjin, ReportInput{Status: Partial, CapacityPct: n(50), StaffExpected: n(2000), StaffOnSite: n(1000)}, "2022-11-20"},
		{planKeyOuwei, ReportInput{Status: Suspended, CapacityPct: n(0), StaffExpected: n(400), StaffOnSite: n(0), Note: "片区封控"}, "2022-11-20"},
	} {
		r.in.Date = r.date
		if r.date == "2022-11-20" {
			clk.Set(pageNow) // yesterday's report was filed yesterday
		}
		if _, err := e.svc.FileReport(ctx, sys, r.key, r.in); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.svc.PutBaseline(ctx, sys, "city_industrial", BaselineInput{AreaCode: "430200", Name: "全市工业", BaselineKW: 66196870}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AddReading(ctx, sys, ReadingInput{Scope: "city_industrial", Date: "2022-11-19", MaxLoadKW: 59650000}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SubmitPlan(ctx, planContact(planKeyCRRC), PlanInput{SubjectKind: PlanEnterprise, Subject: planKeyCRRC,
		Title: "中车一企一策", FileName: "一企一策.pdf", File: planPDF()}); err != nil {
		t.Fatal(err)
	}

	site := testcity.NewSite(t, NavItems(), Templates)
	pg := NewPages(e.svc, site.Render, nil)
	site.Mount(map[string]web.Handler{
		"GET /enterprises":                 pg.EnterpriseList,
		"GET /enterprises.xlsx":            pg.EnterpriseExport,
		"GET /enterprises/{key}":           pg.EnterpriseDetail,
		"GET /enterprises/{key}/report":    pg.ReportForm,
		"POST /enterprises/{key}/report":   pg.ReportSubmit,
		"GET /resumption":                  pg.StatsPage,
		"GET /resumption.xlsx":             pg.StatsExport,
		"GET /resumption/not-resumed":      pg.NotResumedPage,
		"GET /resumption/not-resumed.xlsx": pg.NotResumedExport,
		"POST /enterprises/{key}/plans":    pg.PlanSubmit,
		"POST /plans/{id}/review":          pg.PlanReview,
		"GET /plans/missing":               pg.PlansMissingPage,
	})
	return &pagesEnv{planEnv: e, mux: site.Mux}
}

func (e *pagesEnv) do(method, target string, p *auth.Principal, lang string, form url.Values) *httptest.ResponseRecorder {
	return testcity.Serve(e.mux, testcity.Request{Method: method, Target: target, As: p, Lang: lang, Form: form})
}

func (e *pagesEnv) get(target string, p *auth.Principal) *httptest.ResponseRecorder {
	return e.do("GET", target, p, "", nil)
}

// pageXLSXRows parses an XLSX answer and returns the rows of its sheet.
func pageXLSXRows(t *testing.T, w *httptest.ResponseRecorder, sheet string) [][]string {
	t.Helper()
	if w.Code != 200 || w.Header().Get("Content-Type") != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" {
		t.Fatalf("export: %d %s\n%s", w.Code, w.Header().Get("Content-Type"), w.Body.String())
	}
	if cd := w.Header().Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment; ") || !strings.Contains(cd, ".xlsx") {
		t.Errorf("Content-Disposition %q", cd)
	}
	f, err := excelize.OpenReader(bytes.NewReader(w.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if sheet == "" {
		sheet = f.GetSheetName(0)
	}
	rows, err := f.GetRows(sheet)
	if err != nil {
		t.Fatalf("sheet %q: %v (sheets %v)", sheet, err, f.GetSheetList())
	}
	return rows
}

func TestNavItems(t *testing.T) {
	items := NavItems()
	if len(items) != 2 || items[0].Path != "/resumption" || items[0].Perm != auth.ResumptionRead || items[1].Path != "/enterprises" {
		t.Fatalf("%+v", items)
	}
}

func TestEnterpriseListPage(t *testing.T) {
	e := newPagesEnv(t)
	all := []string{"中车株洲车辆有限公司", "株洲千金药业股份有限公司", "湖南欧微时尚集团", "建设街道老旧小区改造项目"}
	testcity.Sees(t, e.get("/enterprises", planHQ), 200, append([]string{"<h1>企业名录</h1>",
		`<a href="/enterprises/` + planKeyCRRC + `">中车株洲车辆有限公司</a>`, "139****0001", "规上工业、限上批零住餐",
		`<span class="badge key">重点</span>`, `href="/enterprises.xlsx"`, `<option value="芦淞区">430203</option>`,
		`<a class="button small" href="/enterprises/` + planKeyCRRC + `/report">填报</a>`}, all...), []string{"13907330001"})
	// Each caller sees only the units they reach.
	testcity.Sees(t, e.get("/enterprises", planLusong), 200, []string{"湖南欧微时尚集团", "建设街道老旧小区改造项目"},
		[]string{"中车株洲车辆有限公司", "千金药业", "石峰区"})
	testcity.Sees(t, e.get("/enterprises", planContact(planKeyCRRC)), 200, []string{"中车株洲车辆有限公司", "/enterprises/" + planKeyCRRC + "/report"},
		[]string{"千金药业", "欧微", "老旧小区", "<datalist"})
	testcity.Sees(t, e.get("/enterprises", e.liaison), 200, []string{"中车株洲车辆有限公司"}, []string{"千金药业", "欧微", "老旧小区"})
	testcity.Sees(t, e.get("/enterprises", planHelper), 403, []string{"没有执行此操作的权限"}, []string{"中车"})
	testcity.Sees(t, e.get("/enterprises", nil), 401, []string{"/login?next=%2Fenterprises"}, nil)

	// Filters.
	testcity.Sees(t, e.get("/enterprises?category=four_above", planHQ), 200, []string{"中车", "千金", "欧微"}, []string{"老旧小区"})
	testcity.Sees(t, e.get("/enterprises?category=%E9%99%90%E4%B8%8A%E6%89%B9%E9%9B%B6%E4%BD%8F%E9%A4%90", planHQ), 200, // 限上批零住餐
		[]string{"欧微", `<option value="trade_catering_above_quota" selected>`}, []string{"中车", "千金"})
	testcity.Sees(t, e.get("/enterprises?kind=project", planHQ), 200, []string{"老旧小区"}, []string{"中车", "千金", "欧微"})
	testcity.Sees(t, e.get("/enterprises?key_only=1", planHQ), 200, []string{"中车"}, []string{"千金", "欧微", "老旧小区"})
	testcity.Sees(t, e.get("/enterprises?area=430211", planHQ), 200, []string{"千金"}, []string{"中车", "欧微", "老旧小区"})
	// An area by its name, as the list of names offers it; the export too.
	testcity.Sees(t, e.get("/enterprises?area="+url.QueryEscape("天元区"), planHQ), 200,
		[]string{"千金", `value="天元区"`, `<option value="天元区">430211</option>`}, []string{"中车", "欧微", "老旧小区"})
	if rows := pageXLSXRows(t, e.get("/enterprises.xlsx?area="+url.QueryEscape("天元区"), planHQ), ""); len(rows) != 2 || !strings.Contains(strings.Join(rows[1], " "), "千金") {
		t.Errorf("export by area name: %v", rows)
	}
	testcity.Sees(t, e.get("/enterprises?area="+url.QueryEscape("天元"), planHQ), 400, []string{"没有名为“天元”的区划"}, []string{"千金"})
	// A name outside the caller's reach is no name at all.
	testcity.Sees(t, e.get("/enterprises?area="+url.QueryEscape("天元区"), planLusong), 400, []string{"没有名为“天元区”的区划"}, []string{"千金"})
	testcity.Sees(t, e.get("/enterprises?park=%E7%94%B0%E5%BF%83%E9%AB%98%E7%A7%91%E5%9B%AD", planHQ), 200, []string{"中车"}, []string{"千金", "欧微"})
	w := e.get("/enterprises?q=%E5%8D%83%E9%87%91&kind=enterprise", planHQ)
	testcity.Sees(t, w, 200, []string{"千金", `value="千金"`, `href="/enterprises.xlsx?kind=enterprise&amp;q=%E5%8D%83%E9%87%91"`}, []string{"中车", "欧微"})
	testcity.Sees(t, e.get("/enterprises?category=nonsense", planHQ), 400, []string{"未知类别", `<div class="alert error"`}, []string{"中车"})
	testcity.Sees(t, e.get("/enterprises?area=999999", planHQ), 400, []string{"区域 999999 不存在"}, []string{"中车"})
	testcity.Sees(t, e.get("/enterprises?q=%3Cscript%3E", planHQ), 200, []string{"没有符合条件的企业", `value="&lt;script&gt;"`}, []string{"<script>"})
	testcity.Sees(t, e.do("GET", "/enterprises", planHQ, web.LangEN, nil), 200, []string{"<h1>Enterprises</h1>", "Above-scale industry", "Export XLSX"},
		[]string{"企业名录"})
}

func TestEnterpriseListPaging(t *testing.T) {
	e := newPagesEnv(t)
	ctx := context.Background()
	for i := 0; i < 55; i++ {
		key := "PG-" + string(rune('A'+i/26)) + string(rune('A'+i%26))
		if _, _, err := e.svc.Save(ctx, auth.System(), EnterpriseInput{Key: key, Kind: KindProject, Name: "分页项目" + key,
			AreaCode: "430202001"}); err != nil {
			t.Fatal(err)
		}
	}
	w := e.get("/enterprises?kind=project", planHQ)
	testcity.Sees(t, w, 200, []string{"分页项目PG-AA", `href="/enterprises?after=`}, []string{"分页项目PG-BZ"})
	next := regexp.MustCompile(`href="(/enterprises\?after=[^"]+)"`).FindStringSubmatch(w.Body.String())
	if next == nil {
		t.Fatal("no next page link")
	}
	w = e.get(strings.ReplaceAll(next[1], "&amp;", "&"), planHQ)
	testcity.Sees(t, w, 200, []string{"分页项目PG-CC", "建设街道老旧小区改造项目"}, []string{"分页项目PG-AA<", `href="/enterprises?after=`})

	// The export holds every page.
	rows := pageXLSXRows(t, e.get("/enterprises.xlsx?kind=project", planHQ), "")
	if len(rows) != 1+56 {
		t.Errorf("export rows %d, want 57", len(rows))
	}
}

func TestEnterpriseExport(t *testing.T) {
	e := newPagesEnv(t)
	rows := pageXLSXRows(t, e.get("/enterprises.xlsx", planHQ), "企业名录")
	header := []string{"信用代码/项目编码", "名称", "类型", "区划编码", "区划", "园区", "统计类别", "重点", "职工人数", "联系人", "联系电话", "闭环生产", "驻企联络员"}
	if len(rows) != 5 || !slices.Equal(rows[0], header) {
		t.Fatalf("rows: %q", rows)
	}
	var crrc []string
	for _, r := range rows[1:] {
		if r[0] == planKeyCRRC {
			crrc = r
		}
	}
	want := []string{planKeyCRRC, "中车株洲车辆有限公司", "企业", "430204003", "清水塘街道", "田心高科园", "规上工业", "是", "3200", "调度",
		"139****0001", "否", "lly"}
	if !slices.Equal(crrc, want) {
		t.Errorf("CRRC row %q\nwant %q", crrc, want)
	}
	// Filters apply, and the caller's reach.
	if rows := pageXLSXRows(t, e.get("/enterprises.xlsx?kind=project", planHQ), ""); len(rows) != 2 || rows[1][0] != pageKeyProject {
		t.Errorf("filtered export: %q", rows)
	}
	if rows := pageXLSXRows(t, e.get("/enterprises.xlsx", planContact(planKeyOuwei)), ""); len(rows) != 2 || rows[1][0] != planKeyOuwei {
		t.Errorf("contact's export: %q", rows)
	}
	if rows := pageXLSXRows(t, e.do("GET", "/enterprises.xlsx", planHQ, web.LangEN, nil), ""); rows[0][1] != "Name" {
		t.Errorf("English header: %q", rows[0])
	}
	testcity.Sees(t, e.get("/enterprises.xlsx", planHelper), 403, nil, nil)
}

func TestEnterpriseDetailPage(t *testing.T) {
	e := newPagesEnv(t)
	contact := planContact(planKeyCRRC)
	testcity.Sees(t, e.get("/enterprises/"+planKeyCRRC, contact), 200, []string{
		"<title>中车株洲车辆有限公司 · 同心</title>", "<h1>中车株洲车辆有限公司</h1>", "统一社会信用代码", "清水塘街道", "田心高科园",
		"规上工业", "139****0001", "lly", `<span class="badge key">重点</span>`,
		"中车一企一策", `<span class="badge submitted">待审核</span>`, `href="/api/v1/plans/1/file"`, "一企一策.pdf",
		"复工日报（最近 2 个日期）", "2022-11-20", "2022-11-19", "85%", "2700", `<span class="badge resumed">已复工</span>`,
		`href="/enterprises/` + planKeyCRRC + `/report">修改今日日报</a>`,
		`href="/enterprises/` + planKeyCRRC + `?versions=2022-11-20#versions"`,
	}, []string{"13907330001"})
	testcity.Sees(t, e.get("/enterprises/"+planKeyOuwei, planHQ), 200, []string{"片区封控", "停工", "尚未提交一企一策", "规上工业、限上批零住餐",
		"未分配", "修改今日日报"}, nil)
	testcity.Sees(t, e.get("/enterprises/"+pageKeyProject, planLusong), 200, []string{"项目编码", "还没有复工日报", "填报今日日报"}, nil)
	// A reader without the right to report gets no link.
	commander := planAreaPrincipal(auth.HQCommander, "430200", "/430200/")
	testcity.Sees(t, e.get("/enterprises/"+planKeyCRRC, commander), 200, []string{"中车一企一策"}, []string{"/report\""})
	// Out of reach: 404 with the Chinese message, never the enterprise.
	testcity.Sees(t, e.get("/enterprises/"+planKeyQianjin, contact), 404, []string{"企业不存在"}, []string{"千金药业"})
	testcity.Sees(t, e.get("/enterprises/"+planKeyCRRC, planLusong), 404, []string{"企业不存在"}, []string{"中车"})
	testcity.Sees(t, e.get("/enterprises/"+planKeyQianjin, e.liaison), 404, []string{"企业不存在"}, nil)
	testcity.Sees(t, e.get("/enterprises/NOPE", planHQ), 404, []string{"企业不存在"}, nil)

	// Versions of a date.
	ctx := context.Background()
	n := func(v int) *int { return &v }
	if _, err := e.svc.FileReport(ctx, auth.System(), planKeyCRRC, ReportInput{Date: "2022-11-20", Status: Partial, CapacityPct: n(60),
		StaffExpected: n(3000), StaffOnSite: n(2000), Note: "更正"}); err != nil {
		t.Fatal(err)
	}
	w := e.get("/enterprises/"+planKeyCRRC+"?versions=2022-11-20", contact)
	testcity.Sees(t, w, 200, []string{`id="versions"`, "2022-11-20 的全部填报版本", "更正", `<span class="badge approved">当前</span>`}, nil)
	if c := strings.Count(w.Body.String(), `<span class="badge resumed">已复工</span>`); c != 2 {
		t.Errorf("the earlier version and yesterday's report: %d resumed badges", c)
	}
	testcity.Sees(t, e.get("/enterprises/"+planKeyCRRC+"?versions=2022-13-01", contact), 400, []string{"日期须为 YYYY-MM-DD 格式"}, nil)
}

func TestReportFormPage(t *testing.T) {
	e := newPagesEnv(t)
	contact := planContact(planKeyQianjin)
	target := "/enterprises/" + planKeyQianjin + "/report"
	// Today's report exists: the form holds it.
	testcity.Sees(t, e.get(target, contact), 200, []string{
		"<h1>复工日报</h1>", `name="date" type="date" value="2022-11-20" max="2022-11-20"`,
		`<input type="radio" name="status" value="partial" checked required><span>部分复工</span>`,
		`<span>已复工</span>`, `<span>停工</span>`, `name="capacity_pct" type="number" inputmode="numeric" min="0" max="100" step="1" value="50"`,
		`value="2000"`, `value="1000"`, "该日已有日报",
	}, nil)
	// The project never reported: an empty form dated today.
	testcity.Sees(t, e.get("/enterprises/"+pageKeyProject+"/report", planLusong), 200, []string{`value="2022-11-20"`},
		[]string{" checked", "该日已有日报"})

	bad := url.Values{"date": {"2022-11-21"}, "capacity_pct": {"150"}, "staff_expected": {"10"}, "staff_on_site": {"12"},
		"note": {strings.Repeat("长", 501)}}
	w := e.do("POST", target, contact, "", bad)
	testcity.Sees(t, w, 400, []string{
		`<div class="alert error" role="alert">请按提示修改标出的字段</div>`,
		"不能填报未来日期", "状态须为", "产能须在 0 到 100 之间", "实际到岗人数不能多于应到岗人数", "备注不能超过 500 个字",
		`value="2022-11-21"`, `value="150"`, `aria-invalid="true"`,
	}, nil)
	w = e.do("POST", target, contact, "", url.Values{"date": {"2022-11-20"}, "status": {"resumed"}, "capacity_pct": {"八十"},
		"staff_expected": {""}, "staff_on_site": {"5"}})
	testcity.Sees(t, w, 400, []string{"请填写整数", "请填写应到岗人数", `value="八十"`, `value="resumed" checked`}, nil)
	// English keeps the page in English around the service's messages.
	w = e.do("POST", target, contact, web.LangEN, url.Values{"date": {"2022-11-20"}, "status": {"resumed"}, "capacity_pct": {"101"},
		"staff_expected": {"1"}, "staff_on_site": {"1"}})
	testcity.Sees(t, w, 400, []string{"Please correct the marked fields", "<h1>Daily report</h1>"}, nil)

	w = e.do("POST", target, contact, "", url.Values{"date": {"2022-11-20"}, "status": {"resumed"}, "capacity_pct": {"90"},
		"staff_expected": {"2000"}, "staff_on_site": {"1900"}, "closed_loop": {"1"}, "note": {" 全面复工 "}})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/enterprises/"+planKeyQianjin {
		t.Fatalf("submit: %d %q\n%s", w.Code, w.Header().Get("Location"), w.Body)
	}
	if c := w.Result().Cookies(); len(c) == 0 || c[0].Name != "flash" {
		t.Errorf("no flash cookie: %v", c)
	}
	reps, err := e.svc.Reports(context.Background(), contact, planKeyQianjin, 1)
	if err != nil || len(reps) != 1 || reps[0].Status != Resumed || reps[0].StaffOnSite != 1900 || !reps[0].ClosedLoop ||
		reps[0].Note != "全面复工" || reps[0].FiledBy != contact.Username {
		t.Fatalf("filed: %+v %v", reps, err)
	}
	rw := testcity.Serve(e.mux, testcity.Request{Target: "/enterprises/" + planKeyQianjin, As: contact,
		Cookies: []*http.Cookie{{Name: "flash", Value: "flash.report_filed"}}})
	testcity.Sees(t, rw, 200, []string{`<p class="flash" role="status">复工日报已提交</p>`, "全面复工"}, nil)

	// Who may not report: another contact (404), a reader without the
	// right (403), anonymous (401).
	testcity.Sees(t, e.get(target, planContact(planKeyCRRC)), 404, []string{"企业不存在"}, nil)
	testcity.Sees(t, e.do("POST", target, planContact(planKeyCRRC), "", url.Values{"date": {"2022-11-20"}}), 404, []string{"企业不存在"}, nil)
	commander := planAreaPrincipal(auth.HQCommander, "430200", "/430200/")
	testcity.Sees(t, e.get(target, commander), 403, []string{"不能为该企业填报"}, nil)
	testcity.Sees(t, e.get(target, nil), 401, nil, nil)
	// A liaison reports for the enterprise assigned.
	testcity.Sees(t, e.get("/enterprises/"+planKeyCRRC+"/report", e.liaison), 200, []string{"<h1>复工日报</h1>"}, nil)
}

func TestStatsPage(t *testing.T) {
	testcity.Assets(t) // the page names the ECharts file, fingerprinted from the vendor files
	e := newPagesEnv(t)
	w := e.get("/resumption", planHQ)
	testcity.Sees(t, w, 200, []string{
		"<h1>复工复产统计</h1>", "统计时点：2022-11-20 18:00", `<input id="at" name="at" type="datetime-local" value="2022-11-20T18:00">`,
		`<input type="checkbox" name="area" value="430203"> 芦淞区`,
		`href="/resumption?area=430202&amp;area=430203&amp;area=430204&amp;area=430211">城区</a>`,
		// Figures: 3 above-scale industrial units, 2 resumed (中车, 千金 partial); the project not reported.
		`<th scope="row">规上工业</th>`, `<td class="num" data-label="总数">3</td>`, `<td class="num" data-label="复工率"><strong>66.7%</strong></td>`,
		`<th scope="row">项目</th>`, "未填报单位", "1 家", "全市工业", "90.1%", "59650000",
		"截至", `<section class="panel briefing">`,
		// Breakdown by district and the trend.
		`<th scope="row">石峰区 <span class="mono muted small">430204</span></th>`, "近 14 日数据",
		// Charts: data as JSON, ECharts and the drawing script as files.
		`<script type="application/json" id="chart-data">`, `id="chart-districts"`, `id="chart-trend"`,
		`id="chart-staff"`, `id="chart-power"`, `/static/js/charts.`, `/static/vendor/echarts.min.`,
		`href="/resumption.xlsx"`, `href="/resumption/not-resumed"`,
	}, nil)
	m := regexp.MustCompile(`(?s)<script type="application/json" id="chart-data">(.*?)</script>`).FindStringSubmatch(w.Body.String())
	if m == nil {
		t.Fatal("no chart data")
	}
	var charts []pageChartSpec
	if err := json.Unmarshal([]byte(m[1]), &charts); err != nil {
		t.Fatalf("chart data is not JSON: %v\n%s", err, m[1])
	}
	if len(charts) != 4 || charts[0].ID != "chart-districts" || len(charts[1].Categories) != 14 || charts[1].Categories[13] != "11-20" {
		t.Fatalf("charts: %+v", charts)
	}
	if i := slices.Index(charts[0].Categories, "石峰区"); i < 0 || charts[0].Series[0].Data[i] == nil || *charts[0].Series[0].Data[i] != 100 {
		t.Errorf("石峰区's industrial rate in the chart: %+v", charts[0])
	}
	if strings.Contains(w.Body.String(), "<script>") {
		t.Error("an inline script")
	}

	// The urban districts and an earlier moment: before today's reports
	// only CRRC's report of the 19th counts.
	w = e.get("/resumption?area=430202&area=430203&area=430204&area=430211&at=2022-11-19T18%3A00", planHQ)
	testcity.Sees(t, w, 200, []string{"统计时点：2022-11-19 18:00", `class="button small current"`, `value="430203" checked`,
		`<td class="num" data-label="复工率"><strong>33.3%</strong></td>`}, nil)
	// A district officer: no 城区 shortcut, the district's figures only.
	testcity.Sees(t, e.get("/resumption", planLusong), 200, []string{"芦淞区", `<th scope="row">项目</th>`}, []string{">城区</a>", "石峰区"})
	testcity.Sees(t, e.get("/resumption?area=430204", planLusong), 404, []string{"区划不存在"}, nil)
	testcity.Sees(t, e.get("/resumption?at=yesterday", planHQ), 400, []string{"统计时点格式不正确"}, nil)
	// Contacts see their own enterprise's figures.
	testcity.Sees(t, e.get("/resumption", planContact(planKeyOuwei)), 200, []string{"<h1>复工复产统计</h1>"}, []string{`name="area"`})
	testcity.Sees(t, e.get("/resumption", planHelper), 403, nil, nil)
	testcity.Sees(t, e.do("GET", "/resumption", planHQ, web.LangEN, nil), 200, []string{"Resumption statistics", "As of 2022-11-20 18:00"}, nil)
}

func TestStatsExport(t *testing.T) {
	e := newPagesEnv(t)
	w := e.get("/resumption.xlsx?area=430204&area=430211", planHQ)
	groups := pageXLSXRows(t, w, "复工复产")
	if len(groups) < 2 || groups[1][0] != "规上工业" || groups[1][2] != "2" || groups[1][3] != "2" {
		t.Errorf("groups sheet: %q", groups)
	}
	trend := pageXLSXRows(t, w, "近期趋势")
	if len(trend) != 15 || trend[14][0] != "2022-11-20" || trend[0][1] != "规上工业" {
		t.Errorf("trend sheet: %q", trend)
	}
	parts := pageXLSXRows(t, w, "分区")
	if len(parts) < 2 {
		t.Errorf("breakdown sheet: %q", parts)
	}
	testcity.Sees(t, e.get("/resumption.xlsx?area=430204", planLusong), 404, nil, nil)
}

func TestNotResumedPage(t *testing.T) {
	e := newPagesEnv(t)
	testcity.Sees(t, e.get("/resumption/not-resumed", planHQ), 200, []string{
		"<h1>未复工及未填报单位</h1>", "未填报 1 家，停工 1 家",
		`<a href="/enterprises/` + planKeyOuwei + `">湖南欧微时尚集团</a>`, `<span class="badge suspended">停工</span>`, "片区封控",
		`<a href="/enterprises/` + pageKeyProject + `">建设街道老旧小区改造项目</a>`, `<span class="badge not_reported">未填报</span>`,
		`href="/resumption/not-resumed.xlsx"`,
	}, []string{"中车", "千金"})
	testcity.Sees(t, e.get("/resumption/not-resumed?area=430211", planHQ), 200, []string{"所有单位均已复工"}, []string{"欧微"})
	// Before any report, every unit is listed as not reported.
	testcity.Sees(t, e.get("/resumption/not-resumed?at=2022-11-18T12%3A00", planHQ), 200, []string{"未填报 4 家，停工 0 家", "中车", "千金"}, nil)
	testcity.Sees(t, e.get("/resumption/not-resumed", planContact(planKeyCRRC)), 200, []string{"所有单位均已复工"}, []string{"欧微"})

	rows := pageXLSXRows(t, e.get("/resumption/not-resumed.xlsx", planHQ), "")
	if len(rows) != 3 || rows[0][6] != "原因" {
		t.Fatalf("export: %q", rows)
	}
	got := map[string][]string{}
	for _, r := range rows[1:] {
		got[r[0]] = r
	}
	if r := got[planKeyOuwei]; r == nil || r[6] != "停工" || r[7] != "2022-11-20" || r[8] != "片区封控" {
		t.Errorf("欧微 row: %q", r)
	}
	if r := got[pageKeyProject]; r == nil || r[6] != "未填报" || r[2] != "项目" {
		t.Errorf("project row: %q", r)
	}
}

// upload posts a plan upload form (title, and a file when name is set) as
// a browser does.
func (e *pagesEnv) upload(key string, p *auth.Principal, lang, title, name string, file []byte) *httptest.ResponseRecorder {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("title", title)
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(file)
	mw.Close()
	return testcity.Serve(e.mux, testcity.Request{Method: "POST", Target: "/enterprises/" + key + "/plans", As: p, Lang: lang,
		Body: buf.Bytes(), Header: map[string]string{"Content-Type": mw.FormDataContentType()}})
}

func pageStoredFiles(t *testing.T, dir string) int {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return len(entries)
}

func TestPlanPages(t *testing.T) {
	e := newPagesEnv(t)
	ctx := context.Background()
	contact := planContact(planKeyQianjin)
	detail := "/enterprises/" + planKeyQianjin
	form := `action="/enterprises/` + planKeyQianjin + `/plans" enctype="multipart/form-data"`

	// The upload form for the contact and a manager, not for a reader.
	testcity.Sees(t, e.get(detail, contact), 200, []string{"上传一企一策", form, `name="file" type="file"`}, []string{"/review\""})
	testcity.Sees(t, e.get(detail, planHQ), 200, []string{form}, nil)
	commander := planAreaPrincipal(auth.HQCommander, "430200", "/430200/")
	testcity.Sees(t, e.get(detail, commander), 200, nil, []string{form})
	// A manager reviews CRRC's pending version; its contact cannot.
	crrc := "/enterprises/" + planKeyCRRC
	testcity.Sees(t, e.get(crrc, planHQ), 200, []string{`action="/plans/1/review"`, `name="next" value="` + crrc + `"`,
		`value="approve">通过</button>`, `value="reject">退回</button>`}, nil)
	testcity.Sees(t, e.get(crrc, planContact(planKeyCRRC)), 200, nil, []string{`/plans/1/review`})

	// A text file named plan.pdf: refused with the Chinese message,
	// nothing stored.
	dir := PlanDir(e.dataDir)
	files := pageStoredFiles(t, dir)
	w := e.upload(planKeyQianjin, contact, "", "千金一企一策", "plan.pdf", []byte("这不是 PDF\n"))
	testcity.Sees(t, w, 400, []string{"预案文件须为 PDF、Word（DOCX）或图片", "不支持的文件类型", `value="千金一企一策"`,
		"<h1>株洲千金药业股份有限公司</h1>"}, nil)
	if pl, err := e.svc.Plans(ctx, contact, PlanEnterprise, planKeyQianjin); err != nil || len(pl) != 0 {
		t.Fatalf("stored after a refusal: %+v %v", pl, err)
	}
	if n := pageStoredFiles(t, dir); n != files {
		t.Errorf("files %d, want %d", n, files)
	}
	testcity.Sees(t, e.upload(planKeyQianjin, contact, web.LangEN, "x", "plan.pdf", []byte("text")), 400,
		[]string{"A plan file must be a PDF, a DOCX or an image"}, nil)
	testcity.Sees(t, e.upload(planKeyQianjin, contact, "", " ", "", nil), 400, []string{"请填写预案标题"}, nil)
	// Not the contact's enterprise; anonymous.
	testcity.Sees(t, e.upload(planKeyQianjin, planContact(planKeyCRRC), "", "x", "plan.pdf", planPDF()), 404, []string{"企业不存在"}, nil)
	testcity.Sees(t, e.upload(planKeyQianjin, commander, "", "x", "plan.pdf", planPDF()), 403, []string{`<div class="alert error" role="alert">没有执行此操作的权限</div>`}, []string{form})
	testcity.Sees(t, e.upload(planKeyQianjin, nil, "", "x", "plan.pdf", planPDF()), 401, nil, nil)

	// A real PDF: 303 back with a flash, version 1 listed.
	w = e.upload(planKeyQianjin, contact, "", "千金一企一策", "千金预案.pdf", planPDF())
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != detail {
		t.Fatalf("upload: %d %q\n%s", w.Code, w.Header().Get("Location"), w.Body)
	}
	if c := w.Result().Cookies(); len(c) == 0 || c[0].Name != "flash" || c[0].Value != "flash.plan_submitted" {
		t.Errorf("flash cookie: %v", c)
	}
	plans, err := e.svc.Plans(ctx, contact, PlanEnterprise, planKeyQianjin)
	if err != nil || len(plans) != 1 || plans[0].Version != 1 || plans[0].MediaType != MediaPDF || plans[0].CreatedBy != contact.Username {
		t.Fatalf("stored: %+v %v", plans, err)
	}
	id := strconv.FormatInt(plans[0].ID, 10)
	testcity.Sees(t, e.get(detail, contact), 200, []string{"第 1 版", "千金一企一策", "千金预案.pdf", `<span class="badge submitted">待审核</span>`,
		`href="/api/v1/plans/` + id + `/file"`}, nil)

	// The missing list: CRRC's plan and 千金's await review.
	missing := []string{"<h1>一企一策未审核通过的单位</h1>", `<a href="/enterprises/` + planKeyQianjin + `">株洲千金药业股份有限公司</a>`,
		"中车株洲车辆有限公司", "湖南欧微时尚集团", "建设街道老旧小区改造项目"}
	testcity.Sees(t, e.get("/plans/missing", planHQ), 200, missing, nil)
	testcity.Sees(t, e.get("/resumption", planHQ), 200, []string{`href="/plans/missing"`}, nil)

	// Review: a rejection without a note is shown on the page.
	review := "/plans/" + id + "/review"
	w = e.do("POST", review, planHQ, "", url.Values{"decision": {"reject"}, "note": {" "}, "next": {detail}})
	testcity.Sees(t, w, 400, []string{"退回预案须填写意见", "请填写退回意见", `id="review-` + id + `"`}, nil)
	w = e.do("POST", review, planHQ, "", url.Values{"decision": {"maybe"}, "next": {detail}})
	testcity.Sees(t, w, 400, []string{"请选择通过或退回"}, nil)
	// The contact may not review.
	testcity.Sees(t, e.do("POST", review, contact, "", url.Values{"decision": {"approve"}, "next": {detail}}), 403, nil, nil)
	// … nor from a list, where a mistake in the form is a flash: a refusal
	// is 403, not a redirect.
	testcity.Sees(t, e.do("POST", review, contact, "", url.Values{"decision": {"approve"}, "next": {"/plans/missing"}}), 403, nil, nil)
	testcity.Sees(t, e.do("POST", review, nil, "", url.Values{"decision": {"approve"}}), 401, nil, nil)
	testcity.Sees(t, e.do("POST", "/plans/999/review", planHQ, "", url.Values{"decision": {"approve"}}), 404, []string{"预案不存在"}, nil)

	w = e.do("POST", review, planHQ, "", url.Values{"decision": {"approve"}, "note": {"同意"}, "next": {detail}})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != detail {
		t.Fatalf("approve: %d %q\n%s", w.Code, w.Header().Get("Location"), w.Body)
	}
	testcity.Sees(t, e.get(detail, contact), 200, []string{`<span class="badge approved">已通过</span>`, "同意"}, nil)
	testcity.Sees(t, e.get(detail, planHQ), 200, nil, []string{review})
	// Reviewing again: refused, as a flash when next is not an enterprise;
	// next never leaves the site.
	w = e.do("POST", review, planHQ, "", url.Values{"decision": {"approve"}, "next": {"//evil.example/"}})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/enterprises" {
		t.Fatalf("again: %d %q", w.Code, w.Header().Get("Location"))
	}
	if c := w.Result().Cookies(); len(c) == 0 || c[0].Value != "err.plan_not_submitted" {
		t.Errorf("flash cookie: %v", c)
	}

	// The approved enterprise leaves the missing list.
	testcity.Sees(t, e.get("/plans/missing", planHQ), 200, missing[2:], []string{"千金药业"})
	testcity.Sees(t, e.get("/plans/missing", planContact(planKeyQianjin)), 200, []string{"所有单位的一企一策均已审核通过"}, nil)
	testcity.Sees(t, e.get("/plans/missing", planHelper), 403, nil, nil)
	testcity.Sees(t, e.do("GET", "/plans/missing", planHQ, web.LangEN, nil), 200, []string{"Units without an approved plan"}, nil)
}
