package app_test

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/input"

	"tongxin/internal/app"
	"tongxin/internal/clock"
)

// The checkpoint pages in a browser, against `tongxin serve` with the demo
// city: the HQ registers and runs checkpoints on a desktop, the officer
// kakou works on a phone, and the traffic-control notices reach the public.

// cpLogin signs user in with password on page.
func cpLogin(t *testing.T, page *rod.Page, base, user, password string) {
	t.Helper()
	page.MustNavigate(base + "/login")
	page.MustWaitLoad()
	login(t, page, user, password)
	if strings.Contains(page.MustInfo().URL, "/login") {
		t.Fatalf("%s could not sign in:\n%s", user, page.MustElement("main").MustText())
	}
}

// cpOpen shows path and answers the text of its main element.
func cpOpen(page *rod.Page, base, path string) string {
	page.MustNavigate(base + path)
	page.MustWaitLoad()
	return page.MustElement("main").MustText()
}

// cpSubmit clicks the submit button of the form matching sel and answers
// the text of the page it leads to.
func cpSubmit(t *testing.T, page *rod.Page, sel string) string {
	t.Helper()
	newPage(t, page, func() { page.MustElement(sel + ` button[type="submit"]`).MustClick() })
	return page.MustElement("main").MustText()
}

// cpStatus is the HTTP status of the document shown.
func cpStatus(page *rod.Page) int {
	return page.MustEval(`() => performance.getEntriesByType("navigation")[0].responseStatus`).Int()
}

// cpNarrow fails when the page is wider than a 360 px phone.
func cpNarrow(t *testing.T, page *rod.Page, what string) {
	t.Helper()
	if w := page.MustEval(`() => document.documentElement.scrollWidth`).Int(); w > 360 {
		t.Fatalf("%s is %d px wide on a 360 px screen", what, w)
	}
}

// cpSetValue sets an input's value as a date picker would.
func cpSetValue(page *rod.Page, sel, v string) {
	page.MustElement(sel).MustEval(`function (v) { this.value = v; }`, v)
}

// cpRow is the text of the table row holding a link named name.
func cpRow(t *testing.T, page *rod.Page, name string) string {
	t.Helper()
	for _, tr := range page.MustElements("main tbody tr") {
		if a, err := tr.Element("a"); err == nil && strings.TrimSpace(a.MustText()) == name {
			return tr.MustText()
		}
	}
	t.Fatalf("no row for %s:\n%s", name, page.MustElement("main").MustText())
	return ""
}

// cpMust fails unless text holds every want.
func cpMust(t *testing.T, what, text string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Fatalf("%s lacks %q:\n%s", what, w, text)
		}
	}
}

// cpMustNot fails when text holds any of bad.
func cpMustNot(t *testing.T, what, text string, bad ...string) {
	t.Helper()
	for _, b := range bad {
		if strings.Contains(text, b) {
			t.Fatalf("%s shows %q:\n%s", what, b, text)
		}
	}
}

// The HQ staff on a desktop: the checkpoint list with the demo's bridges
// and who is on duty, the kind filter, a new checkpoint registered after a
// refused form, closed and opened again, and a shift added to its roster.
func TestBrowserCheckpointsHQ(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	in, _ := setup(t, "sqlite")
	s := serve(t, in)

	err := rod.Try(func() {
		page := b.MustPage("").Timeout(pageBudget)
		page.MustSetViewport(1280, 900, 1, false)
		cpLogin(t, page, s.URL, "hqstaff", "tongxin-demo")

		list := cpOpen(page, s.URL, "/checkpoints")
		cpMust(t, "the checkpoint list", list, "卡口", "株洲大桥", "建宁大桥", "芦淞大桥", "枫溪大桥",
			"建设路中心广场南口", "枫溪大道坚固立交路口", "株洲高新区物资接驳点", "桥梁卡口", "物资接驳点", "当前值班")
		for _, bridge := range []string{"株洲大桥", "建宁大桥", "芦淞大桥", "枫溪大桥"} {
			cpMust(t, bridge+"'s row", cpRow(t, page, bridge), "桥梁卡口", "启用中")
		}
		// The demo's roster at 建宁大桥: the officer and the police on the
		// shift under way when the demo was built, a cadre on the next
		// (shifts change at 08:00 and 20:00). Within the hour after a
		// change the demo may have been built before it.
		if now := time.Now().In(clock.Shanghai); now.Sub(app.DemoShiftStart(now)) > time.Hour {
			cpMust(t, "建宁大桥's row", cpRow(t, page, "建宁大桥"), "建宁大桥卡口执勤员")
		}
		shot(t, page, "checkpoint-list.png")

		// Only the transfer points.
		page.MustElement(`#cp-kind`).MustSelect("物资接驳点")
		newPage(t, page, func() {
			page.MustElement(`form[action="/checkpoints"][method="get"] button[type="submit"]`).MustClick()
		})
		waitForURL(t, page, "kind=transfer_point")
		only := page.MustElement("main table").MustText()
		cpMust(t, "the transfer points", only, "株洲高新区物资接驳点")
		cpMustNot(t, "the transfer points", only, "株洲大桥", "建宁大桥", "枫溪大道坚固立交路口")

		// A new checkpoint: a coordinate that is no number first, then a
		// district that does not exist; each refusal in Chinese, the
		// typing kept, no server error.
		page.MustNavigate(s.URL + "/checkpoints")
		page.MustWaitLoad()
		page.MustElement(`#new summary`).MustClick()
		page.MustElement(`#cp-name`).MustInput("新华桥卡口")
		page.MustElement(`#cp-place`).MustInput("新华桥中心广场桥头")
		page.MustElement(`#cp-area`).MustInput("430203003")
		page.MustElement(`#cp-lat`).MustInput("北纬27.8")
		page.MustElement(`#cp-lng`).MustInput("113.15")
		body := cpSubmit(t, page, `#new form`)
		if st := cpStatus(page); st != 400 {
			t.Fatalf("a coordinate that is no number answers %d:\n%s", st, body)
		}
		cpMust(t, "the refused form", body, "请填写数字", "须为数字")
		if v := page.MustElement(`#cp-name`).MustProperty("value").String(); v != "新华桥卡口" {
			t.Fatalf("the refused form lost the name (%q)", v)
		}
		page.MustElement(`#cp-lat`).MustSelectAllText().MustInput("27.8312")
		page.MustElement(`#cp-area`).MustSelectAllText().MustInput("430299")
		body = cpSubmit(t, page, `#new form`)
		if st := cpStatus(page); st != 400 {
			t.Fatalf("an unknown district answers %d:\n%s", st, body)
		}
		cpMust(t, "the refused form", body, "区划 430299 不存在")
		if inv := page.MustElement(`#cp-area`).MustAttribute("aria-invalid"); inv == nil || *inv != "true" {
			t.Fatal("the district field is not marked invalid")
		}
		shot(t, page, "checkpoint-new-error.png")
		page.MustElement(`#cp-area`).MustSelectAllText().MustInput("430203003")
		body = cpSubmit(t, page, `#new form`)
		cpMust(t, "the new checkpoint's page", body, "卡口已设立", "新华桥卡口", "桥梁卡口", "启用中", "庆云街道",
			"新华桥中心广场桥头", "27.8312, 113.15", "扫码核验", "未来 48 小时没有排班")
		newURL := page.MustInfo().URL
		if !regexp.MustCompile(`/checkpoints/\d+$`).MatchString(newURL) {
			t.Fatalf("after registering the staff is at %s", newURL)
		}

		// Closed: no scanning there, and the list says so. Then open again.
		page.MustElement(`#edit summary`).MustClick()
		page.MustElement(`#edit input[name="open"]`).MustClick()
		body = cpSubmit(t, page, `#edit form`)
		cpMust(t, "the closed checkpoint", body, "卡口信息已保存", "已关闭")
		cpMustNot(t, "the closed checkpoint", body, "扫码核验")
		cpOpen(page, s.URL, "/checkpoints")
		cpMust(t, "the closed checkpoint's row", cpRow(t, page, "新华桥卡口"), "已关闭")
		page.MustNavigate(newURL)
		page.MustWaitLoad()
		page.MustElement(`#edit summary`).MustClick()
		page.MustElement(`#edit input[name="open"]`).MustClick()
		body = cpSubmit(t, page, `#edit form`)
		cpMust(t, "the reopened checkpoint", body, "卡口信息已保存", "启用中", "扫码核验")

		// A shift: ending before it starts first, then as proposed (the
		// next full hour, twelve hours).
		page.MustElement(`#roster summary`).MustClick()
		start := page.MustElement(`#r-start`).MustProperty("value").String()
		end := page.MustElement(`#r-end`).MustProperty("value").String()
		st, err1 := time.ParseInLocation("2006-01-02T15:04", start, clock.Shanghai)
		en, err2 := time.ParseInLocation("2006-01-02T15:04", end, clock.Shanghai)
		if err1 != nil || err2 != nil || en.Sub(st) != 12*time.Hour || !st.After(time.Now()) {
			t.Fatalf("the shift form proposes %q to %q", start, end)
		}
		page.MustElement(`#r-name`).MustInput("芦淞区交警大队 王警官")
		page.MustElement(`#r-post`).MustInput("交警")
		cpSetValue(page, `#r-end`, st.Add(-time.Hour).Format("2006-01-02T15:04"))
		body = cpSubmit(t, page, `#roster form`)
		if code := cpStatus(page); code != 400 {
			t.Fatalf("a shift ending before it starts answers %d:\n%s", code, body)
		}
		cpMust(t, "the refused shift", body, "结束时间须晚于开始时间")
		if v := page.MustElement(`#r-name`).MustProperty("value").String(); v != "芦淞区交警大队 王警官" {
			t.Fatalf("the refused shift lost the name (%q)", v)
		}
		cpSetValue(page, `#r-end`, end)
		body = cpSubmit(t, page, `#roster form`)
		cpMust(t, "the roster", body, "班次已排定")
		roster := page.MustElement(`#roster table`).MustText()
		cpMust(t, "the roster", roster, "芦淞区交警大队 王警官", "交警", st.Format("2006-01-02 15:04"), en.Format("2006-01-02 15:04"))
		shot(t, page, "checkpoint-detail.png")

		// A second shift keeps the first.
		page.MustElement(`#roster summary`).MustClick()
		page.MustElement(`#r-name`).MustInput("市贸促会 下沉干部 周敏")
		page.MustElement(`#r-post`).MustInput("下沉干部")
		cpSetValue(page, `#r-start`, en.Format("2006-01-02T15:04"))
		cpSetValue(page, `#r-end`, en.Add(12*time.Hour).Format("2006-01-02T15:04"))
		cpSubmit(t, page, `#roster form`)
		roster = page.MustElement(`#roster table`).MustText()
		cpMust(t, "the roster of two shifts", roster, "芦淞区交警大队 王警官", "市贸促会 下沉干部 周敏")
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The officer kakou on a phone sees only the checkpoints they stand at
// (建宁大桥, and the transfer point once the HQ posts them there too),
// scans two passes at the bridge and logs a handover at the transfer
// point, after one refused form. The HQ staff then reads the statistics
// (scans per checkpoint and hour, denials by reason, handovers per
// enterprise and day) and exports the bridge's scans, masked.
func TestBrowserCheckpointOfficer(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	in, _ := setup(t, "sqlite")
	s := serve(t, in)
	admin := strings.TrimSpace(mustCLI(t, in, "", "token", "create", "--username", "admin", "--name", "browser test"))

	// The demo's checkpoints by name, and kakou posted at the transfer point.
	r := do(t, "GET", s.URL+"/api/v1/checkpoints", admin, "", nil)
	var cps struct {
		Items []struct {
			ID   int64  `json:"id"`
			Name string `json:"name"`
		} `json:"items"`
	}
	r.json(t, &cps)
	ids := map[string]string{}
	for _, c := range cps.Items {
		ids[c.Name] = fmt.Sprint(c.ID)
	}
	bridge, transfer := ids["建宁大桥"], ids["株洲高新区物资接驳点"]
	if bridge == "" || transfer == "" || ids["株洲大桥"] == "" {
		t.Fatalf("the demo checkpoints: %s", r.Body)
	}
	// The demo city's scans of the last days at 建宁大桥 (the only
	// checkpoint with any) come before the officer's.
	var demoScans struct {
		Total struct{ Scans, Allowed, Denied int }
	}
	do(t, "GET", s.URL+"/api/v1/checkpoints/stats", admin, "", nil).json(t, &demoScans)
	before := demoScans.Total
	if r := do(t, "POST", s.URL+"/api/v1/users/kakou/roles", admin, "application/json",
		[]byte(`{"role":"checkpoint_officer","scope":"checkpoint:`+transfer+`"}`)); r.Status != 200 {
		t.Fatalf("post kakou at the transfer point: %d %s", r.Status, r.Body)
	}
	// A pass of 千金药业's approved batch, valid at 建宁大桥.
	r = do(t, "GET", s.URL+"/api/v1/pass-batches?enterprise=914302001838260003&status=approved", admin, "", nil)
	var batches struct {
		Items []struct {
			ID     int64  `json:"id"`
			Status string `json:"status"`
		} `json:"items"`
	}
	r.json(t, &batches)
	var token, holder string
	for _, bt := range batches.Items {
		if bt.Status != "approved" {
			continue
		}
		r = do(t, "GET", fmt.Sprintf("%s/api/v1/pass-batches/%d/passes", s.URL, bt.ID), admin, "", nil)
		var passes struct {
			Items []struct{ Name, Token string }
		}
		r.json(t, &passes)
		for _, p := range passes.Items {
			if strings.HasPrefix(p.Name, "李") {
				token, holder = p.Token, p.Name
			}
		}
	}
	if token == "" || holder != "李*国" {
		t.Fatalf("no pass of 李建国 in the demo (%q)", holder)
	}

	err := rod.Try(func() {
		page := b.MustPage("").Timeout(pageBudget)
		page.MustSetViewport(360, 740, 2, true)
		cpLogin(t, page, s.URL, "kakou", "tongxin-demo")
		nav := page.MustElement("header").MustText()
		cpMustNot(t, "the officer's menu", nav, "卡口统计", "交通管制管理")

		list := cpOpen(page, s.URL, "/checkpoints")
		cpMust(t, "the officer's list", list, "建宁大桥", "株洲高新区物资接驳点")
		cpMustNot(t, "the officer's list", list, "株洲大桥", "芦淞大桥", "枫溪大桥", "建设路中心广场南口", "枫溪大道坚固立交路口",
			"设立卡口")
		if n := len(page.MustElements("main tbody tr")); n != 2 {
			t.Fatalf("the officer's list has %d rows, want 2:\n%s", n, list)
		}
		cpNarrow(t, page, "the officer's list")
		shot(t, page, "checkpoint-officer-list-360.png")
		// Another checkpoint is not found, not shown.
		other := cpOpen(page, s.URL, "/checkpoints/"+ids["株洲大桥"])
		if st := cpStatus(page); st != 404 {
			t.Fatalf("another checkpoint answers %d to the officer:\n%s", st, other)
		}
		cpMustNot(t, "another checkpoint", other, "株洲大桥芦淞区桥头")
		// The registration form is not the officer's; posted anyway, it is
		// refused in words, not with the list and no reason.
		refused := page.MustEval(`async () => {
			const r = await fetch("/checkpoints", {method: "POST",
				body: new URLSearchParams({name: "私设卡口", kind: "bridge", area_code: "430211001", open: "true"})});
			return r.status + " " + await r.text();
		}`).Str()
		if !strings.HasPrefix(refused, "403 ") || !strings.Contains(refused, "没有执行此操作的权限") {
			t.Fatalf("an officer registering a checkpoint is answered:\n%.600s", refused)
		}

		// The bridge: the roster, the way to the scan page, nothing to manage.
		body := cpOpen(page, s.URL, "/checkpoints/"+bridge)
		cpMust(t, "the officer's checkpoint", body, "建宁大桥", "值班表", "扫码核验")
		// The demo rosters the shift under way when it was built and the
		// next: the officer, the police and a cadre (within the hour after
		// a shift change the demo may have been built before it).
		if now := time.Now().In(clock.Shanghai); now.Sub(app.DemoShiftStart(now)) > time.Hour {
			cpMust(t, "the officer's checkpoint", body, "建宁大桥卡口执勤员", "荷塘区交警大队 李警官", "市贸促会 下沉干部")
		}
		cpMustNot(t, "the officer's checkpoint", body, "修改卡口信息", "排一个班次")
		cpNarrow(t, page, "the officer's checkpoint")

		// Two scans on the scan page: 李*国's pass, then a code that is none.
		newPage(t, page, func() { page.MustElementR(`a.button`, "扫码核验").MustClick() })
		page.MustWait(`() => document.documentElement.getAttribute("data-scan-ready") === "true"`)
		for _, c := range []struct{ token, verdict string }{{token, "allow"}, {"这不是通行码", "deny"}} {
			page.MustEval(`() => { document.getElementById("scan-verdict").hidden = true; }`)
			page.MustElement("#scan-token").MustFocus()
			page.MustInsertText(c.token)
			page.Keyboard.MustType(input.Enter)
			page.MustWait(`() => !document.getElementById("scan-verdict").hidden`)
			if v := page.MustElement("#scan-verdict").MustAttribute("data-verdict"); v == nil || *v != c.verdict {
				t.Fatalf("scanning %.20q shows %v, want %s:\n%s", c.token, v, c.verdict, page.MustElement("#scan-verdict").MustText())
			}
			page.MustElement("#scan-verdict").MustClick()
		}
		// The day of the scans, in Shanghai: a run that crosses midnight
		// finds them under the day they were made (scripts/test-at-hours.sh).
		scanDay := time.Now().In(clock.Shanghai).Format("2006-01-02")
		body = cpOpen(page, s.URL, "/checkpoints/"+bridge)
		cpMust(t, "the recent scans", body, "最近扫码", holder, "通行", "拒绝", "无法识别的通行码")
		// The scans name the officer who made them (the roster, which names
		// them too, has ended their shift after 20:00).
		if scans := page.MustElementR(`main section.panel`, "最近扫码").MustText(); !strings.Contains(scans, "kakou") {
			t.Fatalf("the recent scans do not name the officer kakou:\n%s", scans)
		}
		cpMustNot(t, "the recent scans", body, "李建国", "43021119800312201")
		shot(t, page, "checkpoint-officer-detail-360.png")

		// The transfer point: a credit code one character short, then right.
		body = cpOpen(page, s.URL, "/checkpoints/"+transfer)
		cpMust(t, "the transfer point", body, "株洲高新区物资接驳点", "物资接驳", "原料药辅料", "湘A7K253 → 湘B6D318")
		page.MustElement(`#handovers summary`).MustClick()
		page.MustElement(`#h-ent`).MustInput("91430200183826000")
		page.MustElement(`#h-goods`).MustInput("医用防护服")
		page.MustElement(`#h-qty`).MustInput("3.5")
		page.MustElement(`#h-out`).MustInput("湘A8M361")
		page.MustElement(`#h-in`).MustInput("湘B5C702")
		body = cpSubmit(t, page, `#handovers form`)
		if st := cpStatus(page); st != 400 {
			t.Fatalf("a short credit code answers %d:\n%s", st, body)
		}
		cpMust(t, "the refused handover", body, "统一社会信用代码应为18位")
		if v := page.MustElement(`#h-goods`).MustProperty("value").String(); v != "医用防护服" {
			t.Fatalf("the refused handover lost the goods (%q)", v)
		}
		cpNarrow(t, page, "the refused handover")
		shot(t, page, "checkpoint-handover-error-360.png")
		page.MustElement(`#h-ent`).MustSelectAllText().MustInput("914302001838260003")
		body = cpSubmit(t, page, `#handovers form`)
		cpMust(t, "the logged handover", body, "接驳已登记")
		table := page.MustElement(`#handovers table`).MustText()
		cpMust(t, "the handovers", table, "株洲千金药业股份有限公司", "医用防护服", "3.5 吨", "湘A8M361 → 湘B5C702")
		cpNarrow(t, page, "the transfer point")
		shot(t, page, "checkpoint-handover-360.png")

		// The HQ staff, on a desktop: the statistics.
		hq := b.MustIncognito()
		desk := hq.MustPage("").Timeout(pageBudget)
		desk.MustSetViewport(1280, 900, 1, false)
		cpLogin(t, desk, s.URL, "hqstaff", "tongxin-demo")
		stats := cpOpen(desk, s.URL, "/checkpoints/stats")
		cpMust(t, "the statistics", stats, "卡口统计", "统计期间", "各卡口扫码", "拒绝原因", "分时段扫码", "物资接驳", "共接驳 4 次")
		totals := desk.MustElement(`main .tk-totals`).MustText()
		cpMust(t, "the totals", strings.Join(strings.Fields(totals), " "), fmt.Sprintf("扫码 %d", before.Scans+2),
			fmt.Sprintf("通行 %d", before.Allowed+1), fmt.Sprintf("拒绝 %d", before.Denied+1))
		row := strings.Join(strings.Fields(desk.MustElementR(`main table.figures tbody tr`, "建宁大桥").MustText()), " ")
		if row != fmt.Sprintf("建宁大桥 嵩山路街道 %d %d %d 0", before.Scans+2, before.Allowed+1, before.Denied+1) {
			t.Fatalf("建宁大桥's figures read %q", row)
		}
		denial := strings.Join(strings.Fields(desk.MustElementR(`main table.figures tbody tr`, "无法识别的通行码").MustText()), " ")
		if denial != "无法识别的通行码 1" {
			t.Fatalf("the denials read %q", denial)
		}
		desk.MustElement(`details.trend summary`).MustClick()
		// The demo's hours come first; the officer's scans are of their day.
		hour := desk.MustElementR(`details.trend tbody tr`, "建宁大桥\\s+"+scanDay).MustText()
		cpMust(t, "the hourly figures", hour, scanDay)
		ent := strings.Join(strings.Fields(desk.MustElementR(`main table.figures tbody tr`, "株洲千金药业股份有限公司").MustText()), " ")
		cpMust(t, "千金药业's handovers", ent, "株洲千金药业股份有限公司 3", "原料药辅料 2.5 吨", "医用防护服 3.5 吨")
		days := 0
		for _, tr := range desk.MustElements(`main table.figures tbody tr`) {
			cells := strings.Fields(tr.MustText())
			if len(cells) == 2 && regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`).MatchString(cells[0]) {
				var n int
				fmt.Sscan(cells[1], &n)
				days += n
			}
		}
		if days != 4 {
			t.Fatalf("the handovers per day add up to %d, want 4:\n%s", days, desk.MustElement("main").MustText())
		}
		if !strings.Contains(desk.MustElement("main").MustText(), scanDay) {
			t.Fatalf("the statistics have no row for the day of the scans, %s", scanDay)
		}
		// A period that ends before it starts: a Chinese message, not a failure.
		bad := cpOpen(desk, s.URL, "/checkpoints/stats?from=2022-11-20&to=2022-11-11")
		if st := cpStatus(desk); st != 400 {
			t.Fatalf("a backward period answers %d", st)
		}
		cpMust(t, "a backward period", bad, "结束日期不能早于开始日期")
		cpOpen(desk, s.URL, "/checkpoints/stats")
		desk.MustElement(`details.trend summary`).MustClick()
		shot(t, desk, "checkpoint-stats.png")

		// The bridge's scans as a spreadsheet, from the link on its page.
		cpOpen(desk, s.URL, "/checkpoints/"+bridge)
		dir := t.TempDir()
		waitDL := hq.WaitDownload(dir)
		desk.MustElementR(`a.button`, "导出 XLSX").MustClick()
		info := waitDL()
		if info == nil || !strings.HasSuffix(info.SuggestedFilename, ".xlsx") ||
			!strings.HasPrefix(info.SuggestedFilename, "scans-"+bridge+"-") {
			t.Fatalf("the export link downloads %+v", info)
		}
		data, err := os.ReadFile(filepath.Join(dir, info.GUID))
		if err != nil {
			t.Fatal(err)
		}
		sheet := xlsxText(t, data)
		cpMust(t, "the exported scans", sheet, "扫码时间", holder, "通行", "无法识别的通行码", "kakou")
		cpMustNot(t, "the exported scans", sheet, "李建国", "43021119800312201")
	})
	if err != nil {
		t.Fatal(err)
	}
}

// xlsxText is the text of every XML part of an XLSX file.
func xlsxText(t *testing.T, data []byte) string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("the export is no XLSX file: %v", err)
	}
	var sb strings.Builder
	for _, f := range zr.File {
		if !strings.HasSuffix(f.Name, ".xml") {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		sb.Write(b)
	}
	return sb.String()
}

// Traffic control: the HQ staff adds a closure of 新华桥 (a backward
// period refused first) and publishes notice 株疫指通〔2022〕13号, which
// starts it and lifts the emergency lane (a number already used refused
// first); a resident, without an account and on a phone, then reads the
// measure in force and the notice.
func TestBrowserTrafficControl(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	in, _ := setup(t, "sqlite")
	s := serve(t, in)

	err := rod.Try(func() {
		page := b.MustPage("").Timeout(pageBudget)
		page.MustSetViewport(1280, 900, 1, false)
		cpLogin(t, page, s.URL, "hqstaff", "tongxin-demo")
		manage := cpOpen(page, s.URL, "/traffic/manage")
		cpMust(t, "the traffic management", manage, "交通管制管理", "全部管制措施", "株洲大桥", "已解除", "枫溪大道坚固立交路口",
			"实施中", "株疫指通〔2022〕12号")

		// The measure.
		page.MustElement(`#measure summary`).MustClick()
		from := page.MustElement(`#m-from`).MustProperty("value").String()
		if _, err := time.ParseInLocation("2006-01-02T15:04", from, clock.Shanghai); err != nil {
			t.Fatalf("the measure form proposes the start %q", from)
		}
		page.MustElement(`#m-target`).MustInput("新华桥")
		page.MustElement(`#m-area`).MustInput("430203")
		page.MustElement(`#m-desc`).MustInput("除防疫物资、保供车辆和应急车辆外，禁止车辆和行人通行。")
		cpSetValue(page, `#m-to`, "2022-11-01T00:00")
		body := cpSubmit(t, page, `#measure form`)
		if st := cpStatus(page); st != 400 {
			t.Fatalf("a backward period answers %d:\n%s", st, body)
		}
		cpMust(t, "the refused measure", body, "结束时间不能早于生效时间")
		if v := page.MustElement(`#m-target`).MustProperty("value").String(); v != "新华桥" {
			t.Fatalf("the refused measure lost the target (%q)", v)
		}
		cpSetValue(page, `#m-to`, "")
		body = cpSubmit(t, page, `#measure form`)
		cpMust(t, "the measures", body, "措施已添加")
		cpMust(t, "新华桥's measure", page.MustElementR(`main tbody tr`, "新华桥").MustText(), "交通管制（封闭）", "芦淞区", "实施中")

		// The notice: a number already published, then 13号.
		page.MustElement(`#notice summary`).MustClick()
		page.MustElement(`#n-number`).MustInput("株疫指通〔2022〕12号")
		page.MustElement(`#n-title`).MustInput("关于对新华桥实施临时交通管制的通告")
		page.MustElement(`#n-body`).MustInput("为科学精准做好疫情防控工作，自即日起对新华桥实施临时交通管制；" +
			"枫溪大道坚固立交路口应急通道同时撤除。")
		page.MustElement(`#n-area`).MustInput("430200")
		page.MustElementR(`fieldset.choices:has(input[name="starts"]) label`, "新华桥").MustClick()
		page.MustElementR(`fieldset.choices:has(input[name="lifts"]) label`, "枫溪大道坚固立交路口").MustClick()
		body = cpSubmit(t, page, `#notice form`)
		if st := cpStatus(page); st != 409 {
			t.Fatalf("a number already used answers %d:\n%s", st, body)
		}
		cpMust(t, "the refused notice", body, "文号 株疫指通〔2022〕12号 的通告已发布")
		if !page.MustElementR(`fieldset.choices:has(input[name="starts"]) label`, "新华桥").MustElement("input").MustProperty("checked").Bool() {
			t.Fatal("the refused notice lost the measures it starts")
		}
		shot(t, page, "traffic-manage.png")
		// A second tab, opened before the notice lifts the lane.
		stale := b.MustPage(s.URL + "/traffic/manage").Timeout(pageBudget)
		stale.MustSetViewport(1280, 900, 1, false)
		stale.MustWaitLoad()
		page.MustActivate()
		page.MustElement(`#n-number`).MustSelectAllText().MustInput("株疫指通〔2022〕13号")
		body = cpSubmit(t, page, `#notice form`)
		cpMust(t, "the published notice", body, "通告已发布", "关于对新华桥实施临时交通管制的通告", "株疫指通〔2022〕13号", "株洲市",
			"通告涉及的措施")
		cpMust(t, "新华桥 in the notice", page.MustElementR(`main .tk-item`, "新华桥").MustText(), "实施", "交通管制（封闭）")
		cpMust(t, "the lane in the notice", page.MustElementR(`main .tk-item`, "枫溪大道坚固立交路口").MustText(), "解除", "应急通道")
		shot(t, page, "traffic-notice.png")

		// The older tab still offers to withdraw the lane the notice has
		// lifted: the refusal is said on the page.
		stale.MustActivate()
		newPage(t, stale, func() {
			stale.MustElementR(`main tbody tr`, "枫溪大道坚固立交路口").MustElement(`form button[type="submit"]`).MustClick()
		})
		if st := cpStatus(stale); st != 409 {
			t.Fatalf("withdrawing a lifted measure answers %d", st)
		}
		cpMust(t, "withdrawing a lifted measure", stale.MustElement("main").MustText(), "措施已由通告解除，不能再修改")
		stale.MustClose()

		// A resident, no account, on a phone.
		pub := b.MustIncognito().MustPage("").Timeout(pageBudget)
		pub.MustSetViewport(360, 740, 2, true)
		cpOpen(pub, s.URL, "/traffic")
		if u := pub.MustInfo().URL; !strings.HasSuffix(u, "/traffic") {
			t.Fatalf("the public traffic page sends a resident to %s", u)
		}
		cpMustNot(t, "the public traffic page", pub.MustElement("body").MustText(), "退出", "交通管制管理")
		inForce := pub.MustElementR(`main section.panel`, "正在实施的交通管制").MustText()
		cpMust(t, "the measures in force", inForce, "新华桥", "交通管制（封闭）", "芦淞区", "禁止车辆和行人通行")
		cpMustNot(t, "the measures in force", inForce, "枫溪大道坚固立交路口", "株洲大桥")
		notices := pub.MustElementR(`main section.panel`, "最新通告").MustText()
		cpMust(t, "the notices", notices, "关于对新华桥实施临时交通管制的通告", "株疫指通〔2022〕13号", "实施 1 项管制", "解除 1 项管制",
			"株疫指通〔2022〕12号")
		if strings.Index(notices, "13号") > strings.Index(notices, "12号") {
			t.Fatalf("the new notice is not first:\n%s", notices)
		}
		cpNarrow(t, pub, "the public traffic page")
		shot(t, pub, "traffic-public-360.png")
		newPage(t, pub, func() { pub.MustElementR(`main a`, "关于对新华桥实施临时交通管制的通告").MustClick() })
		cpMust(t, "the public notice", pub.MustElement("main").MustText(), "株疫指通〔2022〕13号", "自即日起对新华桥实施临时交通管制",
			"新华桥", "枫溪大道坚固立交路口")
		cpNarrow(t, pub, "the public notice")
		shot(t, pub, "traffic-notice-360.png")
	})
	if err != nil {
		t.Fatal(err)
	}
}

// waitForURL waits until the page's address contains part (10 s at most).
func waitForURL(t *testing.T, page *rod.Page, part string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(page.MustInfo().URL, part) {
		if time.Now().After(deadline) {
			t.Fatalf("the page is at %s, want an address with %q", page.MustInfo().URL, part)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
