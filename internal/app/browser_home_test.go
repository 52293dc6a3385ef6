package app_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-rod/rod"

	"tongxin/internal/clock"
)

// The home page's work waiting and a community's page, on a phone, against
// `tongxin serve` with the demo city and data made here: each figure is
// the number the API gives for the same user, after the data changed it.

// homeFigure is one figure of a page: its value as shown and its link.
type homeFigure struct{ value, href string }

// figuresOf reads the figures of the page shown, by label.
func figuresOf(page *rod.Page) map[string]homeFigure {
	out := map[string]homeFigure{}
	for _, el := range page.MustElements(".figures .figure") {
		label := strings.TrimSpace(el.MustElement(".figure-label").MustText())
		f := homeFigure{value: strings.TrimSpace(el.MustElement(".figure-value").MustText())}
		if h := el.MustAttribute("href"); h != nil {
			f.href = *h
		}
		out[label] = f
	}
	return out
}

// wantFigure fails unless the page's figure label shows want.
func wantFigure(t *testing.T, what string, figs map[string]homeFigure, label string, want string) homeFigure {
	t.Helper()
	f, ok := figs[label]
	if !ok {
		t.Fatalf("%s has no figure %q: %v", what, label, figs)
	}
	if f.value != want {
		t.Fatalf("%s: %s shows %s, want %s", what, label, f.value, want)
	}
	return f
}

// countItems is the number of items of a JSON list answer of the API.
func countItems(t *testing.T, url, token string) int {
	t.Helper()
	r := do(t, "GET", url, token, "", nil)
	if r.Status != 200 {
		t.Fatalf("GET %s: %d %s", url, r.Status, r.Body)
	}
	var list struct{ Items []map[string]any }
	r.json(t, &list)
	return len(list.Items)
}

// homeIDNumber is a valid GB 11643 ID number (its check digit computed).
func homeIDNumber(region, birth string, seq int) string {
	base := fmt.Sprintf("%s%s%03d", region, birth, seq%1000)
	w := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := range w {
		sum += int(base[i]-'0') * w[i]
	}
	return base + string("10X98765432"[sum%11])
}

// homeBatchCSV is n workers of 千金药业 (numbered from first), valid from
// today for 30 days.
func homeBatchCSV(first, n int) string {
	today := time.Now().In(clock.Shanghai)
	var b strings.Builder
	b.WriteString("姓名,身份证号,手机,车牌,区域,起,止\n")
	for i := first; i < first+n; i++ {
		fmt.Fprintf(&b, "首页工人%d,%s,139%08d,,430211001,%s,%s\n", i, homeIDNumber("430211", "19850301", 700+i), 8800000+i,
			today.Format("2006-01-02"), today.AddDate(0, 0, 29).Format("2006-01-02"))
	}
	return b.String()
}

func TestBrowserHomeWorkAndCommunity(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	in, _ := setup(t, "sqlite")
	s := serve(t, in)
	api := s.URL + "/api/v1"
	tok := func(user string) string {
		return strings.TrimSpace(mustCLI(t, in, "", "token", "create", "--username", user, "--name", "首页测试"))
	}
	admin, qianjin, gxj, commander, dayuan := tok("admin"), tok("qianjin"), tok("gxj"), tok("commander"), tok("dayuan")
	today := time.Now().In(clock.Shanghai).Format("2006-01-02")
	post := func(path, token, body string, want int) response {
		t.Helper()
		r := do(t, "POST", api+path, token, "application/json", []byte(body))
		if r.Status != want {
			t.Fatalf("POST %s: %d %s", path, r.Status, r.Body)
		}
		return r
	}
	// 千金药业's contact also answers for a project that has not reported
	// today; 千金药业 itself reports.
	const project = "ZZXM-2026-0811"
	post("/enterprises", admin, `{"key":"`+project+`","kind":"project","name":"高新区首页测试项目","area_code":"430211001","employees":40}`, 201)
	post("/users/qianjin/roles", admin, `{"role":"enterprise_contact","scope":"enterprise:`+project+`"}`, 200)
	post("/enterprises/914302001838260003/reports", qianjin, `{"date":"`+today+`","status":"resumed","capacity_pct":90,"staff_expected":2000,"staff_on_site":1860}`, 201)
	// Two batches for the reviewer.
	pending0 := countItems(t, api+"/pass-batches?status=submitted", gxj)
	var firstBatch struct {
		ID int64 `json:"id"`
	}
	for i, n := range []int{3, 2} {
		r := do(t, "POST", api+"/pass-batches?enterprise=914302001838260003", qianjin, "text/csv", []byte(homeBatchCSV(i*10, n)))
		if r.Status != 201 {
			t.Fatalf("upload: %d %s", r.Status, r.Body)
		}
		if i == 0 {
			r.json(t, &firstBatch)
		}
	}
	pending := countItems(t, api+"/pass-batches?status=submitted", gxj)
	if pending != pending0+2 {
		t.Fatalf("the reviewer lists %d batches to review after two uploads, had %d", pending, pending0)
	}
	// Two tickets in 大园社区, one of them a resident's help request.
	post("/tickets", dayuan, `{"kind":"resident_help","category":"food","area_code":"430203001001","description":"独居老人需要代购一周的米和油","reporter_name":"王阿姨","reporter_phone":"13800001111"}`, 201)
	post("/tickets", dayuan, `{"kind":"other","category":"other","subject_kind":"address","area_code":"430203001001","address":"大园社区3栋","description":"3栋楼道照明坏了，夜间核酸排队看不清"}`, 201)

	err := rod.Try(func() {
		phone := func(user string) *rod.Page {
			page := b.MustIncognito().MustPage("").Timeout(pageBudget)
			page.MustSetViewport(360, 740, 2, true)
			cpLogin(t, page, s.URL, user, "tongxin-demo")
			return page
		}

		// The enterprise contact: one unit without today's report, and
		// its figure leads to that unit's report form.
		page := phone("qianjin")
		cpNarrow(t, page, "the contact's home page")
		nav := page.MustElement("nav.nav-wide, .menu-panel nav").MustHTML()
		cpMustNot(t, "the contact's menu", nav, "/scan", "hotline_12345")
		f := wantFigure(t, "the contact's home page", figuresOf(page), "今日日报未填", "1")
		if f.href != "/enterprises/"+project+"/report" {
			t.Fatalf("今日日报未填 leads to %s, want the project's report form", f.href)
		}
		shot(t, page, "home-contact-360.png")
		newPage(t, page, func() { page.MustElement(`a.figure[href="` + f.href + `"]`).MustClick() })
		waitForURL(t, page, "/enterprises/"+project+"/report")
		cpMust(t, "the report form", page.MustElement("main").MustText(), "高新区首页测试项目")
		post("/enterprises/"+project+"/reports", qianjin, `{"date":"`+today+`","status":"partial","capacity_pct":50,"staff_expected":40,"staff_on_site":20}`, 201)
		cpOpen(page, s.URL, "/")
		wantFigure(t, "the contact's home page after the report", figuresOf(page), "今日日报未填", "0")

		// The reviewer: the batches waiting, on the home page and beside
		// the menu entry, lead to the review queue.
		page = phone("gxj")
		cpNarrow(t, page, "the reviewer's home page")
		f = wantFigure(t, "the reviewer's home page", figuresOf(page), "待审核批次", strconv.Itoa(pending))
		badge := page.MustElement(`nav.nav-wide a[href="/pass-batches"] .count`).MustText()
		if strings.TrimSpace(badge) != strconv.Itoa(pending) {
			t.Fatalf("the menu entry of the batches counts %s, want %d", badge, pending)
		}
		shot(t, page, "home-reviewer-360.png")
		newPage(t, page, func() { page.MustElement(`a.figure[href="` + f.href + `"]`).MustClick() })
		waitForURL(t, page, "/pass-batches?status=submitted")

		// The commander: the headline figures are the API's, and an
		// approval moves today's passes.
		page = phone("commander")
		cpNarrow(t, page, "the commander's home page")
		issued := func() int {
			r := do(t, "GET", api+"/passes/stats?from="+today+"&to="+today, commander, "", nil)
			var st struct{ Items []struct{ Issued int } }
			r.json(t, &st)
			n := 0
			for _, e := range st.Items {
				n += e.Issued
			}
			return n
		}
		before := issued()
		figs := figuresOf(page)
		wantFigure(t, "the commander's home page", figs, "今日签发通行证", strconv.Itoa(before))
		var stats struct {
			Groups []struct {
				Group string
				Total int
				Rate  float64
			}
		}
		do(t, "GET", api+"/resumption/stats", commander, "", nil).json(t, &stats)
		for _, g := range stats.Groups {
			if g.Group == "industrial_above_scale" {
				wantFigure(t, "the commander's home page", figs, "规上工业复工率", strconv.FormatFloat(g.Rate*100, 'f', 1, 64)+"%")
			}
		}
		overdue := countItems(t, api+"/tickets?overdue=true&status=open&limit=500", commander)
		wantFigure(t, "the commander's home page", figs, "已超时工单", strconv.Itoa(overdue))
		shot(t, page, "home-commander-360.png")
		post(fmt.Sprintf("/pass-batches/%d/approve", firstBatch.ID), gxj, `{"note":"同意"}`, 200)
		if after := issued(); after != before+3 {
			t.Fatalf("the API counts %d passes issued today after approving 3, had %d", after, before)
		}
		cpOpen(page, s.URL, "/")
		wantFigure(t, "the commander's home page after an approval", figuresOf(page), "今日签发通行证", strconv.Itoa(before+3))

		// The community worker's community: its tickets, help requests,
		// enterprises and grids, as the API counts them for the worker.
		page = phone("dayuan")
		mine := wantFigure(t, "the community worker's home page", figuresOf(page), "我的社区：工单、求助、企业、网格", "大园社区")
		newPage(t, page, func() { page.MustElement(`a.figure[href="` + mine.href + `"]`).MustClick() })
		waitForURL(t, page, "/areas/430203001001")
		cpNarrow(t, page, "the community's page")
		figs = figuresOf(page)
		const q = "/tickets?area=430203001001&status=open&limit=500"
		open, help := countItems(t, api+q, dayuan), countItems(t, api+q+"&kind=resident_help", dayuan)
		if open < 2 || help < 1 {
			t.Fatalf("the API lists %d open tickets and %d help requests in 大园社区 after filing two", open, help)
		}
		f = wantFigure(t, "the community's page", figs, "未办结工单", strconv.Itoa(open))
		wantFigure(t, "the community's page", figs, "居民求助（未办结）", strconv.Itoa(help))
		wantFigure(t, "the community's page", figs, "已超时工单", strconv.Itoa(countItems(t, api+q+"&overdue=true", dayuan)))
		ents := wantFigure(t, "the community's page", figs, "企业和项目",
			strconv.Itoa(countItems(t, api+"/enterprises?area=430203001001&limit=200", admin)))
		if ents.href != "" {
			t.Fatalf("a community worker, who may not read the enterprise list, is offered a link to %s", ents.href)
		}
		var node struct {
			ChildCount int `json:"child_count"`
		}
		do(t, "GET", api+"/areas/430203001001", dayuan, "", nil).json(t, &node)
		wantFigure(t, "the community's page", figs, "网格", strconv.Itoa(node.ChildCount))
		shot(t, page, "community-360.png")
		newPage(t, page, func() { page.MustElement(`a.figure[href="` + f.href + `"]`).MustClick() })
		waitForURL(t, page, "area=430203001001")
		cpMust(t, "the community's open tickets", page.MustElement("main").MustText(), "独居老人需要代购", "3栋楼道照明坏了")
	})
	if err != nil {
		t.Fatal(err)
	}
}
