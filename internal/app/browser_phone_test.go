package app_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/proto"

	"tongxin/internal/app"
)

// phoneWidth is the narrowest phone Tongxin's pages must fit.
const phoneWidth = 360

// phoneDetails are the detail pages a role reaches from its menu: the
// first link of each kind found on the menu's pages is opened too.
var phoneDetails = []*regexp.Regexp{
	regexp.MustCompile(`^/enterprises/[0-9A-Z]{18}$`),
	regexp.MustCompile(`^/enterprises/[0-9A-Z]{18}/report$`),
	regexp.MustCompile(`^/tickets/\d+$`),
	regexp.MustCompile(`^/pass-batches/\d+$`),
	regexp.MustCompile(`^/pass-batches/\d+/cards$`),
	regexp.MustCompile(`^/checkpoints/\d+$`),
	regexp.MustCompile(`^/areas/\d+$`),
	regexp.MustCompile(`^/users/[a-z0-9_.-]+$`),
	regexp.MustCompile(`^/traffic/notices/\d+$`),
	regexp.MustCompile(`^/zones/\d+$`),
	regexp.MustCompile(`^/zones/new$`),
	regexp.MustCompile(`^/zones/history(\?.*)?$`),
}

// phoneCardPages are the pages whose tables turn into labelled cards on a
// phone: none of their tables may scroll sideways, hiding columns such as
// 填报 or 复工率 beyond the edge. (Other pages' tables scroll inside their
// box; the test lists them.)
var phoneCardPages = regexp.MustCompile(`^/(users|audit|enterprises|resumption|plans/missing|traffic/manage)(/|$)`)

// phoneCheck measures pages on a phone-sized tab.
type phoneCheck struct {
	base string
	dir  string // where screenshots go
	all  bool   // a screenshot of every page, not only of failures
}

// measure opens path and fails when the document is wider than the phone,
// first as loaded and again with every <details> opened (forms and menus
// that unfold), or when a table of a card page scrolls sideways. A
// failure names the elements sticking out and leaves a screenshot. It
// answers the links inside <main>.
func (c *phoneCheck) measure(t *testing.T, page *rod.Page, who, path string) []string {
	t.Helper()
	page.MustNavigate(c.base + path)
	page.MustWaitLoad()
	// Fragments htmx loads with the page are part of it.
	_ = page.Timeout(3 * time.Second).WaitIdle(time.Second)
	name := fmt.Sprintf("phone-%s-%s.png", who, strings.NewReplacer("/", "_", "?", "_", "=", "_", "&", "_").Replace(strings.Trim(path, "/")))
	links := hrefs(page, "main a[href]")
	if c.all {
		c.shot(t, page, name)
	}
	for _, open := range []bool{false, true} {
		if open && page.MustEval(`() => { const ds = document.querySelectorAll("details:not([open])"); ds.forEach(d => d.open = true); return ds.length }`).Int() == 0 {
			break
		}
		state := "as loaded"
		if open {
			state = "with its details opened"
		}
		if w := page.MustEval(`() => document.documentElement.scrollWidth`).Int(); w > phoneWidth {
			c.shot(t, page, name)
			t.Errorf("%s is %d px wide on a %d px phone %s; sticking out: %s (%s)", path, w, phoneWidth, state, sticking(page), name)
			return links
		}
		if phoneCardPages.MatchString(path) {
			if n := page.MustEval(`() => [...document.querySelectorAll("main table")].filter(t => t.getBoundingClientRect().right > innerWidth + 0.5).length`).Int(); n > 0 {
				c.shot(t, page, name)
				t.Errorf("%s: %d tables reach beyond a %d px phone %s, hiding columns (%s)", path, n, phoneWidth, state, name)
				return links
			}
		}
	}
	return links
}

// sticking names the innermost elements reaching beyond the phone's right
// edge, leaving out what scrolls inside its own box.
func sticking(page *rod.Page) string {
	return page.MustEval(`(limit) => {
		const out = [];
		for (const e of document.querySelectorAll("body *")) {
			const r = e.getBoundingClientRect();
			if (r.right <= limit + 0.5 || r.width === 0) continue;
			let boxed = false;
			for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
				if (getComputedStyle(a).overflowX !== "visible") { boxed = true; break; }
			}
			if (boxed || [...e.children].some(k => k.getBoundingClientRect().right > limit + 0.5)) continue;
			out.push(e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") +
				(typeof e.className === "string" && e.className.trim() ? "." + e.className.trim().split(/\s+/).join(".") : "") +
				" to " + Math.round(r.right) + " px");
			if (out.length === 4) break;
		}
		return out.join(", ");
	}`, phoneWidth).Str()
}

// scrolling counts the tables that scroll sideways inside their box.
func scrolling(page *rod.Page) int {
	return page.MustEval(`() => [...document.querySelectorAll(".table-wrap")].filter(w => w.scrollWidth > w.clientWidth + 1).length`).Int()
}

// hrefs are the href attributes of the elements matching sel.
func hrefs(page *rod.Page, sel string) []string {
	var out []string
	for _, v := range page.MustEval(`(sel) => [...document.querySelectorAll(sel)].map(a => a.getAttribute("href"))`, sel).Arr() {
		out = append(out, v.Str())
	}
	return out
}

func (c *phoneCheck) shot(t *testing.T, page *rod.Page, name string) {
	b, err := page.Screenshot(true, &proto.PageCaptureScreenshot{Format: proto.PageCaptureScreenshotFormatPng})
	if err == nil {
		err = os.WriteFile(filepath.Join(c.dir, name), b, 0o644)
	}
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
	}
}

// role signs user in on a fresh phone-sized tab (its own cookies) and
// measures home, every entry of the user's menu (read from the page) and
// the first detail page of each kind those pages link to. It answers the
// paths measured and those whose tables scroll sideways.
func (c *phoneCheck) role(t *testing.T, b *rod.Browser, user string) (paths, scrolled []string) {
	t.Helper()
	ctx := b.MustIncognito()
	defer ctx.Close()
	page := ctx.MustPage("").Timeout(pageBudget)
	page.MustSetViewport(phoneWidth, 740, 1, true)
	if user != "" {
		page.MustNavigate(c.base + "/login")
		page.MustWaitLoad()
		login(t, page, user, app.DemoPassword)
		page.Timeout(15 * time.Second).MustElement(`details.menu`) // signed in
	}
	who := user
	if who == "" {
		who = "anonymous"
	}
	seen := map[string]bool{}
	var found []string
	visit := func(path string) {
		if seen[path] {
			return
		}
		seen[path] = true
		paths = append(paths, path)
		found = append(found, c.measure(t, page, who, path)...)
		if n := scrolling(page); n > 0 {
			scrolled = append(scrolled, fmt.Sprintf("%s %s (%d)", who, path, n))
		}
	}
	start := []string{"/login", "/help", "/help/status", "/traffic", "/public/zones"}
	if user != "" {
		visit("/")
		start = hrefs(page, ".menu-panel nav a[href]")
		if len(start) < 2 {
			t.Fatalf("%s has a menu of %d entries: %v", user, len(start), start)
		}
	}
	for _, path := range start {
		visit(path)
	}
	for _, re := range phoneDetails {
		for _, href := range found {
			if re.MatchString(href) {
				visit(href)
				break
			}
		}
	}
	return paths, scrolled
}

// Every demo account on a 360 px phone: home, every page of the role's
// menu (read from the page) and the detail pages they lead to (an
// enterprise, a ticket, a pass batch, a checkpoint, an area, …) fit the
// screen, as loaded and with their folded forms and menus opened; so do
// the public pages. Lists and statistics of the kernel show their tables
// as labelled cards. A failure names the page, its width and the elements
// sticking out, and leaves a screenshot in the subtest's artifact
// directory (go test -artifacts) or in TONGXIN_SCREENSHOTS, where every
// page is shot.
func TestBrowserEveryPageFitsAPhone(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	in := demoInst(t, "sqlite")
	s := serve(t, in)

	users := []string{""} // anonymous first
	for _, line := range strings.Split(mustCLI(t, in, "", "user", "list"), "\n")[1:] {
		if f := strings.Fields(line); len(f) > 0 {
			users = append(users, f[0])
		}
	}
	if len(users) < 16 {
		t.Fatalf("the demo has %d accounts, want every role's: %v", len(users)-1, users[1:])
	}
	started := time.Now()
	var total int
	var scrolled []string
	for _, u := range users {
		name := u
		if name == "" {
			name = "anonymous"
		}
		t.Run(name, func(t *testing.T) {
			c := &phoneCheck{base: s.URL, dir: os.Getenv("TONGXIN_SCREENSHOTS")}
			c.all = c.dir != ""
			if c.dir == "" {
				c.dir = t.ArtifactDir()
			}
			err := rod.Try(func() {
				paths, sc := c.role(t, b, u)
				total += len(paths)
				scrolled = append(scrolled, sc...)
				if u != "" && len(paths) < 4 {
					t.Errorf("%s reached only %v", u, paths)
				}
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
	t.Logf("%d pages of %d accounts measured in %s", total, len(users)-1, time.Since(started).Round(time.Second))
	if len(scrolled) > 0 {
		t.Logf("tables scrolling sideways inside their box:\n%s", strings.Join(scrolled, "\n"))
	}
}

// chartOverlaps answers, for every chart drawn on the page, the pairs of
// its texts (axis labels, values over bars, legend, title) that overlap,
// once the charts have stopped moving.
func chartOverlaps(t *testing.T, page *rod.Page) (charts int, overlaps []string) {
	t.Helper()
	page.Timeout(time.Minute).MustElement(`#charts-box:not([hidden]) .chart svg text`)
	const js = `() => {
		const out = {charts: 0, texts: 0, sig: "", overlaps: []};
		for (const svg of document.querySelectorAll(".chart svg")) {
			out.charts++;
			const boxes = [];
			for (const e of svg.querySelectorAll("text")) {
				const s = getComputedStyle(e);
				if (!e.textContent.trim() || s.display === "none" || s.visibility === "hidden" || +s.opacity === 0 || e.getAttribute("fill-opacity") === "0") continue;
				const r = e.getBoundingClientRect();
				if (r.width === 0 || r.height === 0) continue;
				boxes.push({t: e.textContent, r});
				out.sig += Math.round(r.left) + "," + Math.round(r.top) + ";";
			}
			out.texts += boxes.length;
			for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
				const a = boxes[i].r, b = boxes[j].r;
				const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
				const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
				if (w > 1 && h > 1) out.overlaps.push(svg.closest(".chart").id + ": " + JSON.stringify(boxes[i].t) + " × " + JSON.stringify(boxes[j].t));
			}
		}
		return out;
	}`
	prev := ""
	for i := 0; ; i++ {
		res := page.MustEval(js)
		if sig := res.Get("sig").Str(); (sig != "" && sig == prev) || i == 40 {
			for _, o := range res.Get("overlaps").Arr() {
				overlaps = append(overlaps, o.Str())
			}
			return res.Get("charts").Int(), overlaps
		} else {
			prev = sig
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// The statistics page's charts on a 360 px phone and on a desktop, in
// Chinese and in English: no two of a chart's texts overlap (district and
// group names wrap, dates thin out, values over narrow bars are left to
// the tables).
func TestBrowserResumptionChartsFit(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	in := demoInst(t, "sqlite")
	s := serve(t, in)
	dir := os.Getenv("TONGXIN_SCREENSHOTS")
	all := dir != ""
	if !all {
		dir = t.ArtifactDir()
	}
	err := rod.Try(func() {
		page := b.MustPage("").Timeout(pageBudget)
		page.MustSetViewport(phoneWidth, 740, 1, true)
		cpLogin(t, page, s.URL, "commander", app.DemoPassword)
		for _, lang := range []string{"zh-CN", "en"} {
			if lang == "en" {
				page.MustNavigate(s.URL + "/resumption")
				page.MustWaitLoad()
				newPage(t, page, func() { page.MustElement(`form.lang button`).MustClick() })
				page.MustElement(`html[lang="en"]`)
			}
			for _, w := range []int{phoneWidth, 1280} {
				page.MustSetViewport(w, 900, 1, w == phoneWidth)
				page.MustNavigate(s.URL + "/resumption")
				page.MustWaitLoad()
				n, overlaps := chartOverlaps(t, page)
				name := fmt.Sprintf("resumption-charts-%s-%d.png", lang, w)
				if n < 3 {
					t.Errorf("%s at %d px: %d charts drawn, want the districts, trend, staff and power charts", lang, w, n)
				}
				if len(overlaps) > 0 || all {
					c := &phoneCheck{dir: dir}
					c.shot(t, page, name)
				}
				if len(overlaps) > 0 {
					t.Errorf("%s at %d px: overlapping chart texts (%s):\n%s", lang, w, name, strings.Join(overlaps, "\n"))
				}
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
}
