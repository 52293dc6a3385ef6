package app_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/input"

	"tongxin/internal/testcity"
)

// The ticket desk in a browser: on a 360 px phone a resident asks for help
// on /help without an account and reads its progress; the 12345 operator
// files a call with the keyboard alone, picking the community by typing;
// the community worker finds it in their queue on a phone and assigns it
// to a department; the staff reads the statistics and the settings.
func TestBrowserTickets(t *testing.T) {
	t.Parallel()
	testcity.Assets(t) // htmx and ECharts come from the vendor files
	b := newBrowser(t)
	in, _ := setup(t, "sqlite")
	s := serve(t, in)
	tracking := regexp.MustCompile(`WT\d{8}-\d{4}`)
	signIn := func(page *rod.Page, user string) {
		page.MustNavigate(s.URL + "/login")
		page.MustWaitLoad()
		login(t, page, user, "tongxin-demo")
		if strings.Contains(page.MustInfo().URL, "/login") {
			t.Fatalf("%s is still at the login page", user)
		}
	}
	narrow := func(page *rod.Page, what string) {
		t.Helper()
		if w := page.MustEval(`() => document.documentElement.scrollWidth`).Int(); w > 360 {
			t.Fatalf("%s is %d px wide on a 360 px screen", what, w)
		}
	}
	active := func(page *rod.Page) string {
		return page.MustEval(`() => { const e = document.activeElement; return e ? (e.id || e.name || e.tagName) + ":" + (e.value || "") : "" }`).Str()
	}
	// tabTo presses Tab until the focused element matches sel.
	tabTo := func(page *rod.Page, sel string) {
		t.Helper()
		for range 15 {
			if page.MustEval(`(s) => document.activeElement !== null && document.activeElement.matches(s)`, sel).Bool() {
				return
			}
			page.Keyboard.MustType(input.Tab)
		}
		t.Fatalf("Tab never reached %s (focus on %s)", sel, active(page))
	}

	err := rod.Try(func() {
		// A resident, no account, on a phone.
		res := b.MustIncognito().MustPage("").Timeout(pageBudget)
		res.MustSetViewport(360, 740, 2, true)
		res.MustNavigate(s.URL + "/help")
		res.MustWaitLoad()
		if body := res.MustElement("body").MustText(); strings.Contains(body, "退出") || strings.Contains(body, "督办看板") {
			t.Fatalf("the public help page shows the menu of signed-in users:\n%s", body)
		}
		// Residents' categories, not an enterprise's; the emergency numbers
		// beside 12345; no keyboard hint on a phone.
		form := res.MustElement("main").MustText()
		for _, want := range []string{"买菜/生活物资", "就医购药", "老人照护", "返乡/出行", "其他", "120 急救", "110 报警", "12345"} {
			if !strings.Contains(form, want) {
				t.Fatalf("the help form lacks %q:\n%s", want, form)
			}
		}
		for _, not := range []string{"原材料", "物流运输", "Tab"} {
			if strings.Contains(form, not) {
				t.Fatalf("the help form shows %q on a phone:\n%s", not, form)
			}
		}
		if href := res.MustElementR(`.tk-emergency a`, "120").MustProperty("href").String(); href != "tel:120" {
			t.Fatalf("120 links to %q", href)
		}
		res.MustElement(`#name`).MustInput("赵大妈")
		res.MustElement(`#phone`).MustInput("13907332468")
		res.MustElement(`#area_q`).MustInput("大园")
		res.MustElement(`#area-options input[value="430203001001"]`)
		res.MustElement(`#address`).MustInput("建设南路 3 号 2 栋 101")
		res.MustElementR(`label.choice`, "生活物资").MustClick()
		res.MustElement(`#description`).MustInput("家里没有菜了，腿脚不便，想请社区帮忙送一次菜。")
		narrow(res, "the help form")
		shot(t, res, "ticket-help-360.png")
		newPage(t, res, func() { res.MustElement(`form[action="/help"] button[type="submit"]`).MustClick() })
		number := strings.TrimSpace(res.MustElement(`#tracking`).MustText())
		if !tracking.MatchString(number) {
			t.Fatalf("the receipt shows %q, want a tracking number", number)
		}
		narrow(res, "the receipt")
		shot(t, res, "ticket-help-receipt-360.png")
		// The same request again a minute later: asked whether it is a repeat.
		res.MustNavigate(s.URL + "/help")
		res.MustWaitLoad()
		res.MustElement(`#name`).MustInput("赵大妈")
		res.MustElement(`#phone`).MustInput("139 0733 2468")
		res.MustElement(`#area_q`).MustInput("大园")
		res.MustElement(`#area-options input[value="430203001001"]`)
		res.MustElementR(`label.choice`, "生活物资").MustClick()
		res.MustElement(`#description`).MustInput("还是没有菜。")
		newPage(t, res, func() { res.MustElement(`form[action="/help"] button[type="submit"]`).MustClick() })
		hint := res.MustElement(`#repeat`).MustText()
		if !strings.Contains(hint, "同一手机号刚刚已提交过同类求助") || !strings.Contains(res.MustElement("main").MustText(), "此手机号 30 分钟内已提交过同类求助") {
			t.Fatalf("the repeat hint reads:\n%s", hint)
		}
		narrow(res, "the repeat hint")
		shot(t, res, "ticket-help-repeat-360.png")
		res.MustElement(`input[name="confirm_duplicate"]`).MustClick()
		newPage(t, res, func() { res.MustElement(`form[action="/help"] button[type="submit"]`).MustClick() })
		if again := strings.TrimSpace(res.MustElement(`#tracking`).MustText()); !tracking.MatchString(again) || again == number {
			t.Fatalf("the confirmed repeat's receipt shows %q", again)
		}
		res.MustNavigate(s.URL + "/help/status?tracking=" + number)
		res.MustWaitLoad()
		if v := res.MustElement(`#tracking`).MustProperty("value").String(); v != number {
			t.Fatalf("the status form holds %q, want %s", v, number)
		}
		res.MustElement(`#last4`).MustInput("2468")
		newPage(t, res, func() { res.MustElement(`form[action="/help/status"] button[type="submit"]`).MustClick() })
		progress := res.MustElement("main").MustText()
		for _, want := range []string{number, "大园社区", "已受理您的求助"} {
			if !strings.Contains(progress, want) {
				t.Fatalf("the progress page lacks %q:\n%s", want, progress)
			}
		}
		narrow(res, "the progress page")
		shot(t, res, "ticket-help-status-360.png")

		// The 12345 operator, keyboard only.
		op := b.MustIncognito().MustPage("").Timeout(pageBudget)
		op.MustSetViewport(1280, 900, 1, false)
		signIn(op, "hotline")
		op.MustNavigate(s.URL + "/tickets/new?channel=hotline_12345")
		op.MustWaitLoad()
		// The browser runs autofocus when it next renders, which on a busy
		// machine can come after the load event: wait for the focus to
		// leave the body (or the page budget to run out).
		op.MustWait(`() => document.activeElement !== null && document.activeElement !== document.body`)
		if got := active(op); got != "reporter_phone:" {
			t.Fatalf("the hotline form starts with the focus on %q, want the caller's phone", got)
		}
		op.Keyboard.MustType([]input.Key("13807335555")...)
		op.Keyboard.MustType(input.Tab)
		op.MustInsertText("刘先生")
		op.Keyboard.MustType(input.Tab) // the first category
		op.Keyboard.MustType(input.Space)
		for range 10 {
			if op.MustEval(`() => (document.querySelector('input[name="category"]:checked') || {}).value`).Str() == "other" {
				break
			}
			op.Keyboard.MustType(input.ArrowRight)
		}
		tabTo(op, "#area_q")
		op.MustInsertText("大园")
		op.MustElement(`#area-options input[value="430203001001"]`)
		op.Keyboard.MustType(input.Tab)
		op.Keyboard.MustType(input.Space)
		if got := active(op); got != "area_code:430203001001" {
			t.Fatalf("after Tab and Space the focus is on %q, want 大园社区's choice", got)
		}
		op.Keyboard.MustType(input.Tab)
		op.MustInsertText("沿江路 18 号")
		op.Keyboard.MustType(input.Tab)
		op.MustInsertText("楼道堆放杂物堵住消防通道，请社区协调清理。")
		shot(t, op, "ticket-hotline.png")
		tabTo(op, `form.tk-new button[type="submit"]`)
		newPage(t, op, func() { op.Keyboard.MustType(input.Enter) })
		filed := op.MustElement("main").MustText()
		call := tracking.FindString(filed)
		if !strings.Contains(filed, "工单已受理，受理编号 "+call) || !strings.Contains(filed, "12345 热线") ||
			!strings.Contains(filed, "大园社区") || !strings.Contains(filed, "138****5555") {
			t.Fatalf("the filed call's page reads:\n%s", filed)
		}
		shot(t, op, "ticket-filed.png")

		// The community worker, on a phone: the queue, the ticket, assign.
		cw := b.MustIncognito().MustPage("").Timeout(pageBudget)
		cw.MustSetViewport(360, 740, 2, true)
		signIn(cw, "dayuan")
		cw.MustNavigate(s.URL + "/tickets")
		cw.MustWaitLoad()
		queue := cw.MustElement("main").MustText()
		if !strings.Contains(queue, call) || !strings.Contains(queue, number) {
			t.Fatalf("the worker's queue lacks %s or %s:\n%s", call, number, queue)
		}
		narrow(cw, "the queue")
		shot(t, cw, "ticket-queue-360.png")
		newPage(t, cw, func() { cw.MustElementR(`a.tk-no`, call).MustClick() })
		cw.MustElement(`label.choice.act input[value="assigned"]`).MustClick()
		cw.MustElement(`#act-department`).MustSelect("市民政局")
		cw.MustElement(`#act-note`).MustInput("请民政局协调物业清理。")
		narrow(cw, "the ticket's page")
		shot(t, cw, "ticket-detail-360.png")
		newPage(t, cw, func() { cw.MustElement(`form[action$="/transitions"] button[type="submit"]`).MustClick() })
		after := cw.MustElement("main").MustText()
		for _, want := range []string{"工单已更新", "已分派", "市民政局", "待分派 → 已分派，承办部门：市民政局"} {
			if !strings.Contains(after, want) {
				t.Fatalf("after assigning the page lacks %q:\n%s", want, after)
			}
		}

		// The staff: a deadline of one second for critical "other" tickets
		// in the settings, a critical ticket filed, the overdue board
		// showing it, the statistics with their charts.
		desk := b.MustIncognito().MustPage("").Timeout(pageBudget)
		desk.MustSetViewport(1280, 900, 1, false)
		signIn(desk, "hqstaff")
		desk.MustNavigate(s.URL + "/ticket-settings")
		desk.MustWaitLoad()
		set := desk.MustElement("main").MustText()
		for _, want := range []string{"分派规则", "市民政局", "买菜/生活物资", "响应：2 小时内", "事不过夜：17:00 前提出的当日 24:00 前"} {
			if !strings.Contains(set, want) {
				t.Fatalf("the settings page lacks %q:\n%s", want, set)
			}
		}
		if strings.Contains(set, "overnight") || strings.Contains(set, "before 17:00") {
			t.Fatalf("the settings page shows the rules' code:\n%s", set)
		}
		shot(t, desk, "ticket-settings.png")
		newPage(t, desk, func() { desk.MustElement(`#cat-other a[href="/ticket-settings/policies/other"]`).MustClick() })
		waitForURL(t, desk, "/ticket-settings/policies/other")
		// Choosing 事不过夜 hides the amount; a duration of one second for
		// critical answers, for the drill below.
		desk.MustElement(`input[name="normal.resolve_by.kind"][value="overnight"]`)
		if desk.MustElement(`#critical\.respond_by-amount`).MustVisible() != true {
			t.Fatal("the duration of a duration rule is hidden")
		}
		desk.MustElement(`#critical\.respond_by-amount`).MustSelectAllText().MustInput("1")
		desk.MustElement(`#critical\.respond_by-unit`).MustSelect("秒")
		desk.MustElementR(`label.choice`, "自定义时刻").MustClick() // normal.respond_by
		if desk.MustElement(`#normal\.respond_by-amount`).MustVisible() || !desk.MustElement(`#normal\.respond_by-cutoff`).MustVisible() {
			t.Fatal("choosing times of day does not show the times")
		}
		desk.MustElementR(`label.choice`, "限时").MustClick()
		shot(t, desk, "ticket-policy-edit.png")
		newPage(t, desk, func() {
			desk.MustElement(`form[action="/ticket-settings/policies/other"] button[type="submit"]`).MustClick()
		})
		waitForURL(t, desk, "/ticket-settings#cat-other")
		if set := desk.MustElement("main").MustText(); !strings.Contains(set, "时限已保存") || !strings.Contains(set, "响应：1 秒内") {
			t.Fatalf("saving a deadline shows:\n%s", set)
		}
		// The settings on a phone.
		desk.MustSetViewport(360, 740, 2, true)
		desk.MustReload()
		desk.MustWaitLoad()
		narrow(desk, "the settings page")
		shot(t, desk, "ticket-settings-360.png")
		desk.MustNavigate(s.URL + "/ticket-settings/policies/food")
		desk.MustWaitLoad()
		narrow(desk, "a category's deadlines")
		shot(t, desk, "ticket-policy-edit-360.png")
		desk.MustSetViewport(1280, 900, 1, false)
		desk.MustNavigate(s.URL + "/tickets/new")
		desk.MustWaitLoad()
		desk.MustElementR(`label.choice`, "^其他$").MustClick()
		desk.MustElement(`#area_q`).MustInput("大园")
		desk.MustElement(`#area-options input[value="430203001001"]`)
		desk.MustElement(`#address`).MustInput("沿江路 8 号")
		desk.MustElement(`#description`).MustInput("小区门口临时围挡倒塌，压住一辆电动车。")
		desk.MustElement(`label.choice.u-critical`).MustClick()
		newPage(t, desk, func() { desk.MustElement(`form.tk-new button[type="submit"]`).MustClick() })
		urgent := tracking.FindString(desk.MustElement("main").MustText())
		time.Sleep(1500 * time.Millisecond)
		desk.MustNavigate(s.URL + "/tickets/overdue")
		desk.MustWaitLoad()
		if board := desk.MustElement("#overdue-board").MustText(); urgent == "" || !strings.Contains(board, urgent) || !strings.Contains(board, "超时") {
			t.Fatalf("the overdue board lacks the late ticket %s:\n%s", urgent, board)
		}
		shot(t, desk, "ticket-overdue.png")
		desk.MustNavigate(s.URL + "/tickets/stats")
		desk.MustWaitLoad()
		if stats := desk.MustElement("main").MustText(); !strings.Contains(stats, "市民政局") || !strings.Contains(stats, "办结中位时长") {
			t.Fatalf("the statistics page reads:\n%s", stats)
		}
		desk.MustWait(`() => document.querySelector("#charts-box svg") !== null`)
		shot(t, desk, "ticket-stats.png")
	})
	if err != nil {
		t.Fatal(err)
	}
}
