package app_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/launcher"
	"github.com/go-rod/rod/lib/proto"

	"tongxin/internal/testcity"
)

// chromium finds the system Chromium: TONGXIN_CHROMIUM, else Chromium's
// headless shell (Debian package chromium-headless-shell: the same Blink
// as the browser without its windowing, and what Puppeteer and Playwright
// run headless; it draws a page for about half the CPU time), else the
// browser itself. CI installs the shell; elsewhere the test is skipped
// when there is none.
func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("TONGXIN_CHROMIUM"), "/usr/bin/chromium-headless-shell", "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("CI must install Chromium (Debian package chromium-headless-shell)")
	}
	t.Skip("no Chromium installed: browser test skipped")
	return ""
}

// pageBudget is the most a page of a browser test may take, all its steps
// together: a bound for a hang, generous for a loaded two-core machine
// running two browser tests at once; a passing test never waits for it.
const pageBudget = 4 * time.Minute

// newBrowser starts a headless Chromium of the test's own; options may
// set more of its flags (a fake camera).
func newBrowser(t *testing.T, options ...func(*launcher.Launcher)) *rod.Browser {
	t.Helper()
	l := launcher.New().Bin(chromium(t)).Leakless(false).Headless(true).NoSandbox(true).
		UserDataDir(t.TempDir()).
		Set("disable-gpu").Set("disable-background-networking").Set("disable-component-update").
		Set("disable-sync").Set("no-first-run").Set("disable-quic").Set("lang", "zh-CN")
	for _, o := range options {
		o(l)
	}
	u, err := l.Launch()
	if err != nil {
		t.Fatalf("launch chromium: %v", err)
	}
	b := rod.New().ControlURL(u)
	if err := b.Connect(); err != nil {
		t.Fatalf("connect to chromium: %v", err)
	}
	t.Cleanup(func() { b.Close(); l.Kill() })
	return b
}

// A community worker logs in on a phone-sized screen, sees their home page
// and opens the area tree.
func TestBrowserLoginHomeAreaTree(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	in, _ := setup(t, "sqlite")
	s := serve(t, in)

	err := rod.Try(func() {
		page := b.MustPage("").Timeout(pageBudget)
		page.MustSetViewport(360, 740, 2, true)
		page.MustNavigate(s.URL + "/")
		page.MustWaitLoad()
		if !strings.Contains(page.MustInfo().URL, "/login") {
			t.Fatalf("an anonymous visitor is at %s, want the login page", page.MustInfo().URL)
		}
		login(t, page, "zhang", "s3cret-pass-1")
		body := page.MustElement("body").MustText()
		for _, want := range []string{"张敏", "社区工作者", "大园社区"} {
			if !strings.Contains(body, want) {
				t.Fatalf("home page lacks %q:\n%s", want, body)
			}
		}
		// Nothing may be wider than the phone.
		if w := page.MustEval(`() => document.documentElement.scrollWidth`).Int(); w > 360 {
			t.Fatalf("home page is %d px wide on a 360 px screen", w)
		}
		shot(t, page, "home-360.png")

		page.MustNavigate(s.URL + "/areas")
		page.MustWaitLoad()
		tree := page.MustElement("main").MustText()
		if !strings.Contains(tree, "大园社区") {
			t.Fatalf("area tree lacks the worker's community:\n%s", tree)
		}
		if strings.Contains(tree, "石峰区") || strings.Contains(tree, "郭家塘村") {
			t.Fatalf("area tree shows areas outside the worker's scope:\n%s", tree)
		}
		if w := page.MustEval(`() => document.documentElement.scrollWidth`).Int(); w > 360 {
			t.Fatalf("area tree is %d px wide on a 360 px screen", w)
		}
		shot(t, page, "areas-360.png")
	})
	if err != nil {
		t.Fatal(err)
	}
}

// newPage runs act — a click or a key that leads to another document (a
// link, a form's submit) — and waits until that document has loaded: the
// page's current document is marked before act, and the wait ends when the
// page shows a document without the mark whose loading is complete. A
// navigation event may come before the wait begins, or be the old
// document's; an address may change before the new document is there; an
// element looked up meanwhile may belong to the document going away
// ("Cannot find context with specified id"). The mark has none of these
// races. Evaluations that fail while the documents change are retried.
func newPage(t *testing.T, page *rod.Page, act func()) {
	t.Helper()
	page.MustEval(`() => { window.__tongxinOld = true; }`)
	act()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		r, err := page.Eval(`() => window.__tongxinOld !== true && document.readyState === "complete"`)
		if err == nil && r.Value.Bool() {
			return
		}
		if time.Now().After(deadline) {
			at := "?"
			if info, ierr := page.Info(); ierr == nil {
				at = info.URL
			}
			t.Fatalf("no new page within 2 minutes (at %s; last error %v)", at, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// login signs user in through the login form shown on page and waits for
// the page the form leads to.
func login(t *testing.T, page *rod.Page, user, password string) {
	t.Helper()
	page.MustElement(`input[name="username"]`).MustInput(user)
	page.MustElement(`input[name="password"]`).MustInput(password)
	newPage(t, page, func() { page.MustElement(`form[action="/login"] button[type="submit"]`).MustClick() })
}

// shot saves a screenshot into the test's folder, or into
// TONGXIN_SCREENSHOTS when set (that is how docs/screenshots is made).
func shot(t *testing.T, page *rod.Page, name string) {
	dir := os.Getenv("TONGXIN_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	b, err := page.Screenshot(true, &proto.PageCaptureScreenshot{Format: proto.PageCaptureScreenshotFormatPng})
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// The commander manages users and reads the audit log on a desktop
// screen, then switches the interface to English.
func TestBrowserCommanderUsersAuditEnglish(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	in, _ := setup(t, "sqlite")
	s := serve(t, in)

	err := rod.Try(func() {
		page := b.MustPage(s.URL + "/login").Timeout(pageBudget)
		page.MustSetViewport(1280, 900, 1, false)
		page.MustWaitLoad()
		shot(t, page, "login.png")
		login(t, page, "commander", "wrong-password")
		if body := page.MustElement("body").MustText(); !strings.Contains(body, "用户名或密码错误") {
			t.Fatalf("a wrong password shows no Chinese error:\n%s", body)
		}
		page.MustElement(`input[name="username"]`).MustSelectAllText().MustInput("commander")
		page.MustElement(`input[name="password"]`).MustInput("tongxin-demo")
		newPage(t, page, func() { page.MustElement(`form[action="/login"] button[type="submit"]`).MustClick() })
		if strings.Contains(page.MustInfo().URL, "/login") {
			t.Fatalf("commander could not sign in:\n%s", page.MustElement("main").MustText())
		}

		page.MustNavigate(s.URL + "/users")
		page.MustWaitLoad()
		users := page.MustElement("main").MustText()
		for _, want := range []string{"张敏", "138****8000", "社区工作者"} {
			if !strings.Contains(users, want) {
				t.Fatalf("users page lacks %q:\n%s", want, users)
			}
		}
		if strings.Contains(users, "13800138000") {
			t.Fatal("users page shows a full phone number")
		}
		shot(t, page, "users.png")

		page.MustNavigate(s.URL + "/audit")
		page.MustWaitLoad()
		log := page.MustElement("main").MustText()
		if !strings.Contains(log, "用户 zhang") || !strings.Contains(log, "新建用户") || !strings.Contains(log, "138****8000") {
			t.Fatalf("audit page lacks the creation of zhang:\n%s", log)
		}
		shot(t, page, "audit.png")

		newPage(t, page, func() { page.MustElement(`form.lang button`).MustClick() })
		page.MustElement(`html[lang="en"]`)
		en := page.MustElement("body").MustText()
		if !strings.Contains(en, "Audit") || strings.Contains(en, "审计日志") {
			t.Fatalf("after switching to English the page reads:\n%s", en)
		}
		shot(t, page, "audit-en.png")
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The contact of 千金药业 files today's report on a phone, with one mistake
// first; the commander then reads the statistics page with its briefing
// and charts.
func TestBrowserResumptionReportAndStats(t *testing.T) {
	t.Parallel()
	testcity.Assets(t) // the statistics page draws with ECharts from the vendor files
	b := newBrowser(t)
	in, _ := setup(t, "sqlite")
	s := serve(t, in)
	signIn := func(page *rod.Page, user string) {
		page.MustNavigate(s.URL + "/login")
		page.MustWaitLoad()
		login(t, page, user, "tongxin-demo")
		if strings.Contains(page.MustInfo().URL, "/login") {
			t.Fatalf("%s could not sign in:\n%s", user, page.MustElement("main").MustText())
		}
	}
	const qianjin = "914302001838260003"
	err := rod.Try(func() {
		page := b.MustPage("").Timeout(pageBudget)
		page.MustSetViewport(360, 740, 2, true)
		signIn(page, "qianjin")
		// The contact's home page leads to their enterprise: a card,
		// folded below the work waiting.
		if ok, _, _ := page.Has(`main a[href="/enterprises"]`); !ok {
			t.Fatalf("the contact's home page has no way to their enterprise:\n%s", page.MustElement("main").MustText())
		}
		page.MustNavigate(s.URL + "/enterprises/" + qianjin + "/report")
		page.MustWaitLoad()
		page.MustElement(`label.choice.resumed`).MustClick()
		page.MustElement(`#capacity_pct`).MustSelectAllText().MustInput("85")
		page.MustElement(`#staff_expected`).MustSelectAllText().MustInput("100")
		page.MustElement(`#staff_on_site`).MustSelectAllText().MustInput("120")
		newPage(t, page, func() { page.MustElement(`form.report-form button[type="submit"]`).MustClick() })
		if body := page.MustElement("main").MustText(); !strings.Contains(body, "实际到岗人数不能多于应到岗人数") {
			t.Fatalf("more staff on site than expected shows no Chinese error:\n%s", body)
		}
		if w := page.MustEval(`() => document.documentElement.scrollWidth`).Int(); w > 360 {
			t.Fatalf("report form is %d px wide on a 360 px screen", w)
		}
		shot(t, page, "report-error-360.png")
		page.MustElement(`#staff_on_site`).MustSelectAllText().MustInput("96")
		newPage(t, page, func() { page.MustElement(`form.report-form button[type="submit"]`).MustClick() })
		if url := page.MustInfo().URL; !strings.HasSuffix(url, "/enterprises/"+qianjin) {
			t.Fatalf("after filing the contact is at %s", url)
		}
		detail := page.MustElement("main").MustText()
		for _, want := range []string{"株洲千金药业股份有限公司", "96", "85"} {
			if !strings.Contains(detail, want) {
				t.Fatalf("enterprise page lacks %q after filing:\n%s", want, detail)
			}
		}
		shot(t, page, "enterprise-360.png")
		// Another enterprise is out of the contact's reach.
		page.MustNavigate(s.URL + "/enterprises/91430200184287000F")
		page.MustWaitLoad()
		if body := page.MustElement("body").MustText(); strings.Contains(body, "中车") {
			t.Fatalf("the contact of 千金药业 sees 中车:\n%s", body)
		}

		// A separate browser context: the contact's session cookie stays behind.
		desk := b.MustIncognito().MustPage("").Timeout(pageBudget)
		desk.MustSetViewport(1280, 900, 1, false)
		signIn(desk, "commander")
		desk.MustNavigate(s.URL + "/resumption")
		desk.MustWaitLoad()
		stats := desk.MustElement("main").MustText()
		for _, want := range []string{"规上工业", "复工复产率", "截至"} {
			if !strings.Contains(stats, want) {
				t.Fatalf("statistics page lacks %q:\n%s", want, stats)
			}
		}
		desk.MustWait(`() => document.querySelector("#charts-box canvas, #charts-box svg") !== null`)
		shot(t, desk, "resumption.png")
	})
	if err != nil {
		t.Fatal(err)
	}
}
