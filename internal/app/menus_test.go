package app

import (
	"context"
	"html"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/db/dbtest"
	"tongxin/internal/ticket"
)

// demoAccounts are the usernames of every demo account, as `tongxin demo`
// prints them.
func demoAccounts() []string {
	var out []string
	for _, u := range demoUsers {
		out = append(out, u.username)
	}
	out = append(out, "qianjin")
	for _, u := range demoTicketUsers {
		out = append(out, u.username)
	}
	return append(out, demoKakou.username)
}

var (
	navWide   = regexp.MustCompile(`(?s)<nav class="nav-wide"[^>]*>(.*?)</nav>`)
	hrefAttr  = regexp.MustCompile(`href="([^"]+)"`)
	cardLink  = regexp.MustCompile(`<a class="card" href="([^"]+)"`)
	figureTag = regexp.MustCompile(`<a class="figure[^"]*" href="([^"]+)"`)
)

// links are the addresses of re's first group in page, unescaped.
func links(re *regexp.Regexp, page string) []string {
	var out []string
	for _, m := range re.FindAllStringSubmatch(page, -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	return out
}

// menuOf is the menu of a page (the wide one; the phone's holds the same).
func menuOf(t *testing.T, page string) []string {
	t.Helper()
	m := navWide.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("the page has no menu:\n%s", page)
	}
	return links(hrefAttr, m[1])
}

// follow GETs path with a session, following the site's redirects, and
// answers the last response and where it was.
func (ts *testSystem) follow(t *testing.T, cookie, path string) (res, string) {
	t.Helper()
	for range 5 {
		r := ts.as(t, cookie, "GET", path, "")
		loc := r.header.Get("Location")
		if r.status < 300 || r.status > 399 || loc == "" {
			return r, path
		}
		path = loc
	}
	t.Fatalf("%s redirects more than 5 times", path)
	return res{}, ""
}

// Every demo account signs in; every entry of its menu, every card and
// every figure of its home page answers 200 (a page, not a 403): the
// menu follows the checks the routes make. The scan page is for
// checkpoint officers alone, the hotline form not for an enterprise
// contact (whose hotline tickets are refused), and a volunteer has the
// pages every user has (the public traffic and zone lists among them)
// and the collector's page (volunteers sample as members of a campaign's
// teams).
func TestEveryRoleMenuAnswers(t *testing.T) {
	t.Parallel()
	for _, kind := range dbtest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			ts := newTestSystem(t, kind)
			menus := map[string][]string{}
			for _, user := range demoAccounts() {
				cookie := ts.login(t, user, DemoPassword)
				home := ts.as(t, cookie, "GET", "/", "")
				if home.status != 200 {
					t.Fatalf("%s's home page: %d", user, home.status)
				}
				page := string(home.body)
				if strings.Contains(page, "部分数字暂时无法计算") {
					t.Errorf("%s's home page could not compute its figures", user)
				}
				menus[user] = menuOf(t, page)
				seen := map[string]bool{}
				for _, l := range slices.Concat(menus[user], links(cardLink, page), links(figureTag, page)) {
					if seen[l] {
						continue
					}
					seen[l] = true
					r, at := ts.follow(t, cookie, l)
					if r.status != 200 {
						t.Errorf("%s: %s (at %s) answers %d", user, l, at, r.status)
					}
				}
			}
			has := func(user, path string) bool { return slices.Contains(menus[user], path) }
			for _, user := range demoAccounts() {
				if has(user, "/scan") != (user == "kakou") {
					t.Errorf("%s's menu %v: 扫码核验 is for checkpoint officers alone", user, menus[user])
				}
			}
			const hotline = "/tickets/new?channel=hotline_12345"
			if has("qianjin", hotline) || !has("hotline", hotline) || !has("jianshe", hotline) {
				t.Errorf("热线受理: qianjin %v, hotline %v, jianshe %v", menus["qianjin"], menus["hotline"], menus["jianshe"])
			}
			if want := []string{"/", "/inbox", "/traffic", "/collect", "/public/zones"}; !slices.Equal(menus["volunteer"], want) {
				t.Errorf("the volunteer's menu is %v, want %v", menus["volunteer"], want)
			}
			if len(menus) < 15 {
				t.Errorf("walked %d accounts, want the 15 of the demo", len(menus))
			}
		})
	}
}

// homeFigures reads the figures of a page as label → value.
func homeFigures(page string) map[string]string {
	out := map[string]string{}
	for _, m := range figureValue.FindAllStringSubmatch(page, -1) {
		out[html.UnescapeString(m[2])] = html.UnescapeString(m[1])
	}
	return out
}

var figureValue = regexp.MustCompile(`<strong class="figure-value">([^<]*)</strong> <span class="figure-label">([^<]*)</span>`)

// The home page's ticket figures are scoped: a street officer counts the
// tickets of their street, the commander those of the city. Two tickets
// past their deadline (one in 建设街道, one in 石峰区) and one due in five
// minutes (about to expire, ticket.StateOf) move each count by what the
// officer may read.
func TestHomeTicketFiguresAreScoped(t *testing.T) {
	t.Parallel()
	for _, kind := range dbtest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			ts := newTestSystem(t, kind)
			ctx := context.Background()
			figures := func(user string) (overdue, soon string) {
				home := ts.as(t, ts.login(t, user, DemoPassword), "GET", "/", "")
				f := homeFigures(string(home.body))
				return f["已超时工单"], f["即将超时工单"]
			}
			streetO, streetS := figures("jianshe")
			cityO, citySoon := figures("commander")
			file := func(area, due string) {
				tk, err := ts.sys.Tickets.Create(ctx, auth.System(), ticket.Input{Kind: ticket.ResidentHelp, Category: "food",
					AreaCode: area, Description: "首页超时统计测试：需要代购生活物资", ReporterName: "李阿姨", ReporterPhone: "13800002222"})
				if err != nil {
					t.Fatal(err)
				}
				if err := ts.sys.DB.Exec(ctx, `UPDATE tickets SET due_at = `+due+` WHERE id = $1`, tk.ID); err != nil {
					t.Fatal(err)
				}
			}
			now := time.Now()
			past, soon := strconv.FormatInt(now.Add(-time.Minute).UnixMilli(), 10), strconv.FormatInt(now.Add(5*time.Minute).UnixMilli(), 10)
			file("430203001001", past)
			file("430204003", past)
			file("430203001001", soon)
			plus := func(s string, n int) string {
				v, err := strconv.Atoi(s)
				if err != nil {
					t.Fatalf("figure %q is no count", s)
				}
				return strconv.Itoa(v + n)
			}
			if o, s := figures("jianshe"); o != plus(streetO, 1) || s != plus(streetS, 1) {
				t.Errorf("建设街道: overdue %s → %s, due soon %s → %s; want one more each", streetO, o, streetS, s)
			}
			if o, s := figures("commander"); o != plus(cityO, 2) || s != plus(citySoon, 1) {
				t.Errorf("the city: overdue %s → %s, due soon %s → %s; want two and one more", cityO, o, citySoon, s)
			}
		})
	}
}
