package ticket

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"tongxin/internal/area"
	"tongxin/internal/auth"
	"tongxin/internal/importer"
	"tongxin/internal/resumption"
	"tongxin/internal/testcity"
	"tongxin/internal/web"
)

// pagesEnv is the fixture with the ticket pages mounted as the app mounts
// them, behind the real handler adapter and error pages.
type pagesEnv struct {
	*fixture
	mux *http.ServeMux
}

func newPagesEnv(t *testing.T, f *fixture) *pagesEnv {
	t.Helper()
	site := testcity.NewSite(t, NavItems(), Templates)
	pg := NewPages(f.svc, f.Areas, site.Render)
	site.Mount(map[string]web.Handler{
		"GET /tickets":                              pg.Queue,
		"GET /tickets.xlsx":                         pg.QueueExport,
		"GET /tickets/overdue":                      pg.Overdue,
		"GET /tickets/overdue/board":                pg.OverdueBoard,
		"GET /tickets/new":                          pg.NewForm,
		"POST /tickets":                             pg.Create,
		"GET /tickets/area-options":                 pg.AreaOptions,
		"GET /tickets/caller":                       pg.CallerHistory,
		"GET /ticket-settings/policies/{category}":  pg.PolicyEdit,
		"GET /tickets/stats":                        pg.Stats,
		"GET /tickets/stats.xlsx":                   pg.StatsExport,
		"GET /tickets/{id}":                         pg.Detail,
		"POST /tickets/{id}/transitions":            pg.Transition,
		"POST /tickets/{id}/comments":               pg.Comment,
		"POST /tickets/{id}/merge":                  pg.Merge,
		"POST /tickets/{id}/reveal-phone":           pg.RevealPhone,
		"POST /tickets/{id}/photos":                 pg.AddPhoto,
		"GET /ticket-settings":                      pg.Settings,
		"POST /ticket-settings/policies/{category}": pg.SavePolicy,
		"POST /ticket-settings/routes":              pg.SaveRoute,
		"POST /ticket-settings/routes/{id}/delete":  pg.DeleteRoute,
		"GET /help":                                 pg.HelpForm,
		"POST /help":                                pg.HelpSubmit,
		"GET /help/area-options":                    pg.HelpAreaOptions,
		"GET /help/status":                          pg.HelpStatusForm,
		"POST /help/status":                         pg.HelpStatus,
		"POST /help/confirm":                        pg.HelpConfirm,
	})
	return &pagesEnv{fixture: f, mux: site.Mux}
}

// req is one request of a test.
type req struct {
	method, target string
	p              *auth.Principal
	form           url.Values
	lang           string
	cookies        []*http.Cookie
	header         map[string]string
	body           []byte // raw body (with header Content-Type)
}

func (e *pagesEnv) send(q req) *httptest.ResponseRecorder {
	return testcity.Serve(e.mux, testcity.Request{Method: q.method, Target: q.target, As: q.p, Form: q.form, Body: q.body,
		Header: q.header, Lang: q.lang, Cookies: q.cookies})
}

func (e *pagesEnv) get(target string, p *auth.Principal) *httptest.ResponseRecorder {
	return e.send(req{method: "GET", target: target, p: p})
}

func (e *pagesEnv) post(target string, p *auth.Principal, form url.Values) *httptest.ResponseRecorder {
	return e.send(req{method: "POST", target: target, p: p, form: form})
}

// redirected checks a 303 and returns its Location.
func redirected(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	if w.Code != http.StatusSeeOther {
		t.Fatalf("status %d, want 303\n%s", w.Code, w.Body.String())
	}
	return w.Header().Get("Location")
}

var trackingRE = regexp.MustCompile(`WT\d{8}-\d{4}`)

// route adds a routing rule as the system.
func (e *pagesEnv) route(category, areaCode, dept string) {
	e.T.Helper()
	if _, err := e.svc.SaveRoute(e.Ctx, e.Sys, RouteInput{Category: category, AreaCode: areaCode, Department: dept}); err != nil {
		e.T.Fatal(err)
	}
}

// The queue shows a department officer the open tickets routed to their
// department and nothing else; a community worker the open tickets of
// their community; each row with its number, urgency, subject, department
// or 属地 and the time left.
func TestPageQueue(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newPagesEnv(t, f)
		e.route("elderly_care", "430200", "mzj")
		officer := f.user("minzheng", auth.DepartmentOfficer, "department:mzj")
		worker := f.user("dayuan", auth.CommunityWorker, "430203001001")
		other := f.user("jinglong", auth.CommunityWorker, "430204001002")
		care := help("独居老人需要上门照护")
		care.Category, care.Urgency = "elderly_care", Critical
		routed := f.file(worker, care)
		local := f.file(worker, help("家里没有菜了"))
		far := f.file(other, Input{Category: "food", AreaCode: "430204001002", Address: "井龙路 2 号", Description: "井龙社区缺菜"})

		w := e.get("/tickets", officer)
		testcity.Sees(t, w, 200, []string{routed.Tracking, "特急", "市民政局", "剩余", "待办"}, []string{local.Tracking, far.Tracking})
		w = e.get("/tickets", worker)
		testcity.Sees(t, w, 200, []string{routed.Tracking, local.Tracking, "属地", "大园社区"}, []string{far.Tracking})
		// Filters go through ticket.ParseFilter; a bad one answers the page
		// with a Chinese message, not a 500.
		testcity.Sees(t, e.get("/tickets?status=nonsense", worker), 400, []string{"未知状态 nonsense"}, []string{routed.Tracking})
		testcity.Sees(t, e.get("/tickets?category=food&view=all", worker), 200, []string{local.Tracking}, []string{routed.Tracking})
		testcity.Sees(t, e.get("/tickets?q="+url.QueryEscape("没有菜"), worker), 200, []string{local.Tracking}, []string{routed.Tracking})
		testcity.Sees(t, e.get("/tickets?mine=true", officer), 200, []string{"没有符合条件的工单"}, []string{routed.Tracking})
		testcity.Sees(t, e.get("/tickets?before=x", worker), 400, []string{"翻页参数无效"}, nil)
		// English through the switch.
		w = e.send(req{method: "GET", target: "/tickets", p: worker, lang: "en"})
		testcity.Sees(t, w, 200, []string{"My queue", "Local office", local.Tracking, "2 h left"}, []string{"待办", "剩余"})
		// Anonymous: to the login.
		if w := e.get("/tickets", nil); w.Code != http.StatusUnauthorized {
			t.Errorf("anonymous queue: %d", w.Code)
		}

		// Paging by cursor, and the export of the same filter.
		for i := range 51 {
			f.file(worker, help("批量求助 "+string(rune('A'+i%26))+time.Duration(i).String()))
		}
		w = e.get("/tickets?view=all", worker)
		next := regexp.MustCompile(`href="(/tickets\?before=\d+[^"]*)"`).FindStringSubmatch(w.Body.String())
		if next == nil {
			t.Fatalf("no next page link on a full page")
		}
		testcity.Sees(t, e.get(strings.ReplaceAll(next[1], "&amp;", "&"), worker), 200, []string{local.Tracking, routed.Tracking}, nil)
		x := e.get("/tickets.xlsx?view=all", worker)
		if x.Code != 200 || x.Header().Get("Content-Type") != importer.MediaXLSX {
			t.Fatalf("export: %d %s", x.Code, x.Header().Get("Content-Type"))
		}
		book, err := excelize.OpenReader(bytes.NewReader(x.Body.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		rows, err := book.GetRows(book.GetSheetName(0))
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1+53 || rows[0][0] != "受理编号" {
			t.Errorf("export has %d rows, header %v", len(rows), rows[0])
		}
		if strings.Contains(x.Body.String(), "13807330001") {
			t.Error("export holds a full phone number")
		}
	})
}

// The hotline's quick form files a call with channel hotline_12345 and
// goes to the new ticket, which shows its tracking number once; mistakes
// answer the form with Chinese messages.
func TestPageHotlineFiling(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newPagesEnv(t, f)
		if _, err := f.Areas.CreateDepartment(f.Ctx, f.Sys, area.Department{Code: "rx12345", Name: "市12345热线", AreaCode: "430200"}); err != nil {
			t.Fatal(err)
		}
		op := f.user("hotline", auth.DepartmentOfficer, "department:rx12345")
		w := e.get("/tickets/new?channel=hotline_12345", op)
		testcity.Sees(t, w, 200, []string{"热线受理", `name="channel" value="hotline_12345"`, "autofocus", `hx-get="/tickets/area-options"`, "生活物资"}, nil)
		if strings.Index(w.Body.String(), `name="reporter_phone"`) > strings.Index(w.Body.String(), `name="category"`) {
			t.Error("the caller's phone is not the first field")
		}

		call := url.Values{"channel": {"hotline_12345"}, "reporter_phone": {"12345"}, "category": {"other"},
			"area_q": {"大园"}, "address": {"沿江路 8 号"}, "description": {"小区门口围挡占用消防通道"}, "urgency": {"normal"}}
		before := f.Count(`SELECT COUNT(*) FROM tickets`)
		w = e.post("/tickets", op, call)
		testcity.Sees(t, w, 400, []string{"工单内容有误", "手机号应为11位数字", "热线受理", `value="430203001001" checked`}, nil)
		if f.Count(`SELECT COUNT(*) FROM tickets`) != before {
			t.Fatal("a refused call was filed")
		}
		// A name that matches several communities asks to choose one.
		bad := cloneValues(call)
		bad.Set("reporter_phone", "13807330001")
		bad.Set("area_q", "社区")
		testcity.Sees(t, e.post("/tickets", op, bad), 400, []string{"找到多个，请在下面选择一个", `name="area_code"`}, nil)
		bad.Set("area_q", "不存在的地方")
		testcity.Sees(t, e.post("/tickets", op, bad), 400, []string{"未找到「不存在的地方」"}, nil)

		call.Set("reporter_phone", "138-0733-0001")
		w = e.post("/tickets", op, call)
		loc := redirected(t, w)
		var filed *http.Cookie
		for _, c := range w.Result().Cookies() {
			if c.Name == filedCookie {
				filed = c
			}
		}
		if filed == nil || !trackingRE.MatchString(filed.Value) {
			t.Fatalf("no tracking cookie: %v", w.Result().Cookies())
		}
		tk, err := f.svc.Get(f.Ctx, f.Sys, strings.TrimPrefix(loc, "/tickets/"))
		if err != nil {
			t.Fatal(err)
		}
		if tk.Channel != ChannelHotline || tk.AreaCode != "430203001001" || tk.Reporter.Phone != "138****0001" || tk.Tracking != filed.Value {
			t.Errorf("filed %+v", tk)
		}
		w = e.send(req{method: "GET", target: loc, p: op, cookies: []*http.Cookie{filed}})
		testcity.Sees(t, w, 200, []string{"工单已受理，受理编号 " + tk.Tracking, "12345 热线"}, nil)
		// Once the caller's phone is typed the form shows the caller's
		// tickets, and a repeat of the category within minutes.
		testcity.Sees(t, e.get("/tickets/new?channel=hotline_12345", op), 200, []string{`hx-get="/tickets/caller"`, `id="caller-history"`}, nil)
		testcity.Sees(t, e.get("/tickets/caller?reporter_phone=13807330001&category=other", op), 200,
			[]string{"来电号码 138****0001 近 30 天的工单", tk.Tracking, "在 30 分钟内已反映过「其他」问题 1 件"}, []string{"<html", "13807330001"})
		testcity.Sees(t, e.get("/tickets/caller?reporter_phone=13807330001&category=food", op), 200, []string{tk.Tracking}, []string{"30 分钟内已反映过"})
		testcity.Sees(t, e.get("/tickets/caller?reporter_phone=13907339999", op), 200, []string{"该号码近 30 天没有工单"}, []string{tk.Tracking})
		// The picker's own route answers the choices.
		testcity.Sees(t, e.get("/tickets/area-options?area_q="+url.QueryEscape("大园"), op), 200,
			[]string{`value="430203001001"`, "大园社区", "建设街道"}, []string{"<html"})
		// Whoever may not file gets no form.
		inspector := f.user("inspector", auth.Inspector, "430200")
		if w := e.get("/tickets/new", inspector); w.Code != http.StatusForbidden {
			t.Errorf("inspector's filing form: %d", w.Code)
		}
	})
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// A resident files on /help without an account and gets a tracking
// number; the status page needs the last four digits of the phone, and
// wrong digits say "not found" and show nothing of the ticket; after
// resolution the resident answers it.
func TestPagePublicHelp(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newPagesEnv(t, f)
		worker := f.user("dayuan", auth.CommunityWorker, "430203001001")
		w := e.get("/help", nil)
		testcity.Sees(t, w, 200, []string{"群众求助", `action="/help"`, `hx-get="/help/area-options"`, "买菜/生活物资", "就医购药", "老人照护", "返乡/出行", "其他",
			`href="tel:120"`, "120 急救", `href="tel:110"`, "110 报警", "12345", `<span class="kbd-hint">`},
			[]string{"工单设置", "/logout", "原材料", "物流运输", "水电气", "name=\"confirm_duplicate\""})
		testcity.Sees(t, e.get("/help/area-options?area_q="+url.QueryEscape("庐山"), nil), 200, []string{"庐山春天网格", `value="430203001001001"`}, nil)
		testcity.Sees(t, e.get("/help/area-options?area_q="+url.QueryEscape("芦淞"), nil), 200, []string{"未找到"}, []string{`value="430203"`})

		form := url.Values{"name": {"赵大妈"}, "phone": {""}, "area_q": {"大园社区"}, "address": {"建设南路 3 号"},
			"category": {"food"}, "description": {"家里没有菜了，腿脚不便"}}
		testcity.Sees(t, e.post("/help", nil, form), 400, []string{"求助内容有误", "必填：用于查询进度和回访"}, []string{"WT2022"})
		form.Set("phone", "13907332468")
		w = e.post("/help", nil, form)
		testcity.Sees(t, w, 200, []string{"求助已受理", "WT20221120-", "/help/status?tracking=", "2468"}, nil)
		tracking := trackingRE.FindString(w.Body.String())
		// The same phone and category again within minutes: asked to confirm.
		before := f.Count(`SELECT COUNT(*) FROM tickets`)
		w = e.post("/help", nil, form)
		testcity.Sees(t, w, http.StatusConflict, []string{"此手机号 30 分钟内已提交过同类求助", `name="confirm_duplicate" value="yes"`, "仍要提交"}, []string{"WT2022"})
		if f.Count(`SELECT COUNT(*) FROM tickets`) != before {
			t.Fatal("a repeat was filed without confirmation")
		}
		form.Set("confirm_duplicate", "yes")
		testcity.Sees(t, e.post("/help", nil, form), 200, []string{"求助已受理"}, nil)
		form.Del("confirm_duplicate")
		form.Set("category", "materials")
		testcity.Sees(t, e.post("/help", nil, form), 400, []string{"是企业问题的类别"}, nil)

		lookup := url.Values{"tracking": {tracking}, "last4": {"2469"}}
		w = e.post("/help/status", nil, lookup)
		testcity.Sees(t, w, 404, []string{"未找到该求助：请核对受理编号和手机号后四位"}, []string{"大园社区", "生活物资", "已受理您的求助", "待分派", "赵"})
		lookup.Set("last4", "2468")
		w = e.post("/help/status", nil, lookup)
		testcity.Sees(t, w, 200, []string{tracking, "大园社区", "已受理您的求助", "待分派"}, []string{`action="/help/confirm"`, "赵大妈", "13907332468"})

		f.move(worker, tracking, Resolved, "", "已送菜上门")
		w = e.post("/help/status", nil, lookup)
		testcity.Sees(t, w, 200, []string{"已办结：已送菜上门", `action="/help/confirm"`, `name="last4" value="2468"`}, nil)
		answer := url.Values{"tracking": {tracking}, "last4": {"2468"}, "satisfied": {"no"}}
		testcity.Sees(t, e.post("/help/confirm", nil, answer), 400, []string{"请说明尚未解决的问题", "已办结：已送菜上门"}, nil)
		answer.Set("satisfied", "yes")
		testcity.Sees(t, e.post("/help/confirm", nil, answer), 200, []string{"感谢您的确认", "已确认办结"}, []string{`action="/help/confirm"`})
		answer.Set("last4", "0000")
		testcity.Sees(t, e.post("/help/confirm", nil, answer), 404, []string{"未找到该求助"}, []string{"大园社区"})
		// Refused answers count as look-ups: guessing digits through them
		// is throttled like the status page.
		guess := url.Values{"tracking": {tracking}, "last4": {"1111"}, "satisfied": {""}}
		var last *httptest.ResponseRecorder
		for range MaxLookupsPerAddress + 1 {
			last = e.post("/help/confirm", nil, guess)
		}
		testcity.Sees(t, last, http.StatusTooManyRequests, []string{"提交过于频繁"}, []string{"大园社区"})
	})
}

// The ticket's page: what a handler and the reporter see and may do.
func TestPageDetail(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newPagesEnv(t, f)
		worker := f.user("dayuan", auth.CommunityWorker, "430203001001")
		street := f.user("jianshe", auth.StreetOfficer, "430203001")
		tk := f.file(worker, help("家里没有菜了"))
		self := "/tickets/" + itoa(tk.ID)

		w := e.get(self, street)
		testcity.Sees(t, w, 200, []string{tk.Tracking, "待分派", "大园社区", "138****0001", "查看完整号码", `value="assigned"`, "市民政局",
			`name="version" value="1"`, "提交工单"}, []string{"13807330001", `value="confirmed"`})
		// Assigning needs a department; resolving needs the outcome.
		testcity.Sees(t, e.post(self+"/transitions", street, url.Values{"to": {"assigned"}, "version": {"1"}}), 400, []string{"请选择承办部门"}, nil)
		testcity.Sees(t, e.post(self+"/transitions", street, url.Values{"to": {"resolved"}, "version": {"1"}}), 400, []string{"请填写办理结果"}, nil)
		testcity.Sees(t, e.post(self+"/transitions", street, url.Values{"version": {"1"}}), 400, []string{"请选择办理操作"}, nil)
		if loc := redirected(t, e.post(self+"/transitions", street, url.Values{"to": {"assigned"}, "department": {"mzj"}, "version": {"1"}})); loc != self {
			t.Errorf("after assigning: %s", loc)
		}
		// The same form again is stale.
		testcity.Sees(t, e.post(self+"/transitions", street, url.Values{"to": {"in_progress"}, "department": {"mzj"}, "version": {"1"}}), 409,
			[]string{"工单已被他人更新，请刷新后重试", "市民政局"}, nil)
		redirected(t, e.post(self+"/transitions", street, url.Values{"to": {"resolved"}, "note": {"已送菜"}, "version": {"2"}}))

		// Only the reporter is offered 确认.
		testcity.Sees(t, e.get(self, worker), 200, []string{`value="confirmed"`, "确认办结", `value="reopened"`}, nil)
		testcity.Sees(t, e.get(self, street), 200, []string{`value="reopened"`, "已办结"}, []string{`value="confirmed"`})

		// The full number once, with a reason.
		testcity.Sees(t, e.post(self+"/reveal-phone", street, url.Values{"reason": {""}}), 400, []string{"查看完整号码须填写事由"}, []string{"13807330001"})
		testcity.Sees(t, e.post(self+"/reveal-phone", street, url.Values{"reason": {"回访"}}), 200, []string{"13807330001", "仅显示这一次"}, nil)
		testcity.Sees(t, e.get(self, street), 200, nil, []string{"13807330001"})
		// A district officer handles the ticket but holds no pii.reveal:
		// no form, and 403.
		lusong := f.user("lusong", auth.DistrictOfficer, "430203")
		testcity.Sees(t, e.get(self, lusong), 200, []string{tk.Tracking, "138****0001"}, []string{"查看完整号码", "13807330001"})
		testcity.Sees(t, e.post(self+"/reveal-phone", lusong, url.Values{"reason": {"回访"}}), 403, nil, []string{"13807330001"})

		// Comments and the timeline.
		testcity.Sees(t, e.post(self+"/comments", street, url.Values{"note": {" "}}), 400, []string{"请填写意见"}, nil)
		redirected(t, e.post(self+"/comments", street, url.Values{"note": {"已电话回访"}}))
		testcity.Sees(t, e.get(self, worker), 200, []string{"已电话回访", "待分派 → 已分派，承办部门：市民政局", "已分派 → 已办结", "已送菜"}, nil)
		// The timeline names who acted, with the login name beside.
		testcity.Sees(t, e.get(self, worker), 200, []string{`· 用户jianshe <span class="mono small">jianshe</span>`,
			`· 用户dayuan <span class="mono muted small">dayuan</span>`}, []string{`· jianshe</span>`})

		// Photos: an image is kept, anything else refused with a message.
		png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89")
		redirected(t, e.upload(self+"/photos", worker, "a.png", png))
		testcity.Sees(t, e.upload(self+"/photos", worker, "a.txt", []byte("not an image")), 415, []string{"只接受 JPEG、PNG、WebP 或 GIF 图片"}, nil)
		testcity.Sees(t, e.get(self, worker), 200, []string{`/api/v1/tickets/` + itoa(tk.ID) + `/photos/`}, nil)

		// Out of reach: 404.
		other := f.user("jinglong", auth.CommunityWorker, "430204001002")
		if w := e.get(self, other); w.Code != http.StatusNotFound {
			t.Errorf("out-of-scope ticket: %d", w.Code)
		}
	})
}

// Duplicates are listed and merged into the ticket kept.
func TestPageMerge(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newPagesEnv(t, f)
		worker := f.user("dayuan", auth.CommunityWorker, "430203001001")
		first := f.file(worker, help("家里没有菜了"))
		dup := f.file(worker, help("还是没有菜"))
		self := "/tickets/" + itoa(dup.ID)
		testcity.Sees(t, e.get(self, worker), 200, []string{"可能重复", first.Tracking, "合并到 " + first.Tracking}, nil)
		testcity.Sees(t, e.post(self+"/merge", worker, url.Values{"into": {dup.Tracking}}), 400, []string{"不能合并到自身"}, nil)
		if loc := redirected(t, e.post(self+"/merge", worker, url.Values{"into": {first.Tracking}})); loc != "/tickets/"+first.Tracking {
			t.Errorf("after merging: %s", loc)
		}
		testcity.Sees(t, e.get(self, worker), 200, []string{"已合并", "本工单已作为重复件合并到"}, []string{`action="` + self + `/comments"`})
	})
}

// The overdue board lists open tickets past their deadline by the level
// holding them, and its fragment refreshes it.
func TestPageOverdueBoard(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newPagesEnv(t, f)
		worker := f.user("dayuan", auth.CommunityWorker, "430203001001")
		hq := f.user("commander", auth.HQCommander, "430200")
		late := f.file(worker, help("家里没有菜了"))
		f.at(testBase.Add(3 * time.Hour)) // respond-by (2h) passed: overdue at the community
		testcity.Sees(t, e.get("/tickets/overdue", hq), 200, []string{late.Tracking, "社区督办", "超时 1 小时"}, []string{"已升级"})
		f.sweep() // up to the street, with a new respond-by 2 hours on
		testcity.Sees(t, e.get("/tickets/overdue", hq), 200, []string{"没有超时工单"}, []string{late.Tracking})
		f.at(testBase.Add(5*time.Hour + 30*time.Minute))
		fresh := f.file(worker, help("刚提交的求助"))
		w := e.get("/tickets/overdue", hq)
		testcity.Sees(t, w, 200, []string{"督办看板", late.Tracking, "街道督办", "已升级至街道", "超时 30 分", `hx-trigger="every 60s"`}, []string{fresh.Tracking})
		w = e.send(req{method: "GET", target: "/tickets/overdue/board", p: hq, header: map[string]string{"HX-Request": "true"}})
		testcity.Sees(t, w, 200, []string{`id="overdue-board"`, late.Tracking}, []string{"<html", fresh.Tracking})
		if loc := redirected(t, e.get("/tickets/overdue/board?area=430203", hq)); loc != "/tickets/overdue?area=430203" {
			t.Errorf("board without htmx: %s", loc)
		}
		testcity.Sees(t, e.get("/tickets?overdue=true", worker), 200, []string{late.Tracking}, []string{fresh.Tracking})

		// 17:25: a critical call (answer within 10 minutes) is about to
		// expire as soon as it is filed, and so is the fresh ticket with 5
		// minutes of its 2 hours left; both lead the board.
		f.at(sh(2022, 11, 20, 17, 25, 0))
		critical := help("老人摔倒，需要送医")
		critical.Urgency, critical.Category = Critical, "medical"
		crit := f.file(worker, critical)
		w = e.get("/tickets/overdue", hq)
		testcity.Sees(t, w, 200, []string{`id="expiring"`, "即将超时", `class="tk-item d-expiring"`, crit.Tracking, fresh.Tracking}, nil)
		if body := w.Body.String(); strings.Index(body, `id="expiring"`) > strings.Index(body, "街道督办") {
			t.Error("the tickets about to expire do not come first")
		}
		testcity.Sees(t, e.get("/tickets?expiring=true", worker), 200, []string{"即将超时", `aria-current="page"`, crit.Tracking, fresh.Tracking,
			`name="expiring" value="true"`}, []string{late.Tracking})
		// 17:50: the fresh ticket is 20 minutes late on 2 hours, the
		// critical one 15 minutes late on 10: the critical one comes
		// first although its deadline came later.
		f.at(sh(2022, 11, 20, 17, 50, 0))
		body := e.get("/tickets/overdue", hq).Body.String()
		i, j := strings.Index(body, crit.Tracking), strings.Index(body, fresh.Tracking)
		if i < 0 || j < 0 || i > j || !strings.Contains(body, "社区督办") {
			t.Errorf("board order: critical at %d, fresh at %d", i, j)
		}
	})
}

// Statistics for a period and their export; bad dates answer the form.
func TestPageStats(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newPagesEnv(t, f)
		e.route("food", "430200", "swj")
		worker := f.user("dayuan", auth.CommunityWorker, "430203001001")
		hq := f.user("commander", auth.HQCommander, "430200")
		tk := f.file(worker, help("家里没有菜了"))
		f.file(worker, Input{Category: "other", AreaCode: "430203001001", Address: "沿江路 8 号", Description: "围挡"})
		f.move(worker, tk.Tracking, Resolved, "", "已送菜")
		w := e.get("/tickets/stats", hq)
		testcity.Sees(t, w, 200, []string{"工单统计", "2022-11-07", "2022-11-20", "市商务局", "属地", "生活物资", "chart-data", "ticket-chart-daily"}, nil)
		testcity.Sees(t, e.get("/tickets/stats?from=2022-13-01", hq), 400, []string{"日期格式应为 YYYY-MM-DD"}, nil)
		testcity.Sees(t, e.get("/tickets/stats?from=2022-11-20&to=2022-11-01", hq), 400, []string{"截止日期须不早于起始日期"}, nil)
		x := e.get("/tickets/stats.xlsx?from=2022-11-20&to=2022-11-20", hq)
		if x.Code != 200 || x.Header().Get("Content-Type") != importer.MediaXLSX {
			t.Fatalf("stats export: %d %s", x.Code, x.Body.String())
		}
		book, err := excelize.OpenReader(bytes.NewReader(x.Body.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		rows, _ := book.GetRows(book.GetSheetName(0))
		if len(rows) < 2 || rows[1][0] != "合计" || rows[1][2] != "2" || rows[1][3] != "1" {
			t.Errorf("stats export rows %v", rows)
		}
		if w := e.get("/tickets/stats", e.contact()); w.Code != http.StatusForbidden {
			t.Errorf("enterprise contact's statistics: %d", w.Code)
		}
	})
}

// Managers edit deadlines and routing rules; others may not.
func TestPageSettings(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newPagesEnv(t, f)
		staff := f.user("hqstaff", auth.HQStaff, "430200")
		worker := f.user("dayuan", auth.CommunityWorker, "430203001001")
		// One table of every category's deadlines in words, names not codes.
		testcity.Sees(t, e.get("/ticket-settings", staff), 200, []string{"工单设置", "买菜/生活物资", "返乡/出行", "原材料", "群众求助", "企业问题",
			"响应：2 小时内", "办结：事不过夜：17:00 前提出的当日 24:00 前，之后的次日 08:00 前", "响应：10 分内", "办结：2 小时内",
			`href="/ticket-settings/policies/food"`}, []string{"overnight", "before 17:00", ">food<", "food</span>"})
		// A category's form offers the rules as choices.
		testcity.Sees(t, e.get("/ticket-settings/policies/food", staff), 200, []string{"「买菜/生活物资」的时限",
			`name="normal.respond_by.kind" value="duration" checked`, `name="normal.respond_by.amount" type="number" inputmode="numeric" min="1" max="43200" step="1" value="2"`,
			`<option value="h" selected>小时</option>`, `name="normal.resolve_by.kind" value="overnight" checked`, "17:00 前受理的当日 24:00 前办结，否则次日 08:00 前",
			`name="confirm_after.amount" type="number" inputmode="numeric" min="1" max="43200" step="1" value="3"`, `<option value="d" selected>天</option>`}, []string{"overnight</", "before 17:00"})
		if w := e.get("/ticket-settings/policies/nosuch", staff); w.Code != http.StatusNotFound {
			t.Errorf("unknown category's form: %d", w.Code)
		}
		choices := url.Values{"normal.respond_by.kind": {"duration"}, "normal.respond_by.amount": {"3"}, "normal.respond_by.unit": {"h"},
			"normal.resolve_by.kind": {"daily"}, "normal.resolve_by.cutoff": {"12:00"}, "normal.resolve_by.today": {"11:00"}, "normal.resolve_by.tomorrow": {"09:30"},
			"urgent.respond_by.kind": {"duration"}, "urgent.respond_by.amount": {"半小时"}, "urgent.respond_by.unit": {"m"},
			"urgent.resolve_by.kind": {"duration"}, "urgent.resolve_by.amount": {"6"}, "urgent.resolve_by.unit": {"h"},
			"critical.respond_by.kind": {"duration"}, "critical.respond_by.amount": {"10"}, "critical.respond_by.unit": {"m"},
			"critical.resolve_by.kind": {"overnight"}, "confirm_after.kind": {"duration"}, "confirm_after.amount": {"2"}, "confirm_after.unit": {"d"}}
		testcity.Sees(t, e.post("/ticket-settings/policies/food", staff, choices), 400, []string{"时限设置有误", "请填写正整数",
			`name="urgent.respond_by.amount" type="number" inputmode="numeric" min="1" max="43200" step="1" value="半小时"`}, nil)
		choices.Set("urgent.respond_by.amount", "30")
		testcity.Sees(t, e.post("/ticket-settings/policies/food", staff, choices), 400, []string{"当日时限须晚于分界时刻 12:00",
			`name="normal.resolve_by.today" type="text" inputmode="numeric" maxlength="5" pattern="[0-9]{1,2}:[0-9]{2}" placeholder="24:00" value="11:00"`}, nil)
		choices.Set("normal.resolve_by.today", "18:00")
		redirected(t, e.post("/ticket-settings/policies/food", staff, choices))
		if got := f.Count(`SELECT COUNT(*) FROM ticket_policies WHERE category = 'food' AND urgency = 'normal' AND respond_rule = '3h'
			AND resolve_rule = 'before 12:00 today 18:00 else tomorrow 09:30'`); got != 1 {
			t.Error("the chosen rules were not stored as rules")
		}
		if got := f.Count(`SELECT COUNT(*) FROM ticket_policies WHERE category = 'food' AND urgency = 'critical' AND resolve_rule = 'overnight'`); got != 1 {
			t.Error("critical overnight not stored")
		}
		if got := f.Count(`SELECT COUNT(*) FROM ticket_policies WHERE category = 'food' AND urgency = 'urgent'`); got != 0 {
			t.Error("an unchanged urgency was written")
		}
		if got := f.Count(`SELECT COUNT(*) FROM ticket_categories WHERE code = 'food' AND confirm_after_ms = 172800000`); got != 1 {
			t.Error("confirm after 2 days not stored")
		}
		testcity.Sees(t, e.get("/ticket-settings", staff), 200, []string{"响应：3 小时内", "办结：12:00 前提出的当日 18:00 前，之后的次日 09:30 前", "2 天"}, nil)
		// The rule written as text still works (scripts, older pages).
		if w := e.get("/ticket-settings", worker); w.Code != http.StatusForbidden {
			t.Errorf("worker's settings: %d", w.Code)
		}
		form := url.Values{"normal.respond_by": {"2h"}, "normal.resolve_by": {"overnight"}, "urgent.respond_by": {"30m"},
			"urgent.resolve_by": {"6h"}, "critical.respond_by": {"10m"}, "critical.resolve_by": {"soon"}, "confirm_after": {"72h"}}
		testcity.Sees(t, e.post("/ticket-settings/policies/food", staff, form), 400, []string{"时限设置有误", `时限 &#34;soon&#34; 无效`}, nil)
		form.Set("critical.resolve_by", "1h")
		redirected(t, e.post("/ticket-settings/policies/food", staff, form))
		testcity.Sees(t, e.get("/ticket-settings", staff), 200, []string{"1 小时内"}, nil)
		if w := e.post("/ticket-settings/policies/food", staff, form); w.Code != http.StatusSeeOther {
			t.Errorf("unchanged policy: %d", w.Code)
		}

		testcity.Sees(t, e.post("/ticket-settings/routes", staff, url.Values{"category": {"food"}, "area_code": {"999999"}, "department": {"swj"}}), 400,
			[]string{"分派规则有误", "区划不存在"}, nil)
		redirected(t, e.post("/ticket-settings/routes", staff, url.Values{"category": {"food"}, "area_code": {"430203"}, "department": {"swj"}}))
		w := e.get("/ticket-settings", staff)
		id := regexp.MustCompile(`/ticket-settings/routes/(\d+)/delete`).FindStringSubmatch(w.Body.String())
		if id == nil {
			t.Fatal("no route listed")
		}
		testcity.Sees(t, w, 200, []string{"芦淞区", "市商务局"}, nil)
		redirected(t, e.post("/ticket-settings/routes/"+id[1]+"/delete", staff, url.Values{}))
		testcity.Sees(t, e.get("/ticket-settings", staff), 200, []string{"还没有分派规则"}, nil)
		if w := e.post("/ticket-settings/routes/"+id[1]+"/delete", staff, url.Values{}); w.Code != http.StatusNotFound {
			t.Errorf("deleting a deleted route: %d", w.Code)
		}
	})
}

// The menu shows each role what it may use.
func TestPageNav(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newPagesEnv(t, f)
		cases := []struct {
			p        *auth.Principal
			want     []string
			not      []string
			pageWant int
		}{
			{f.user("hqstaff", auth.HQStaff, "430200"), []string{"督办看板", "工单统计", "工单设置", "热线受理"}, nil, 200},
			{f.user("inspector", auth.Inspector, "430200"), []string{"督办看板", "工单统计"}, []string{"工单设置", "热线受理"}, 200},
			// A contact files only about their own enterprise: the hotline
			// form, for callers about anything, is not theirs.
			{e.contact(), []string{"我提交的"}, []string{"热线受理", "督办看板", "工单设置"}, 200},
			{f.user("minzheng", auth.DepartmentOfficer, "department:mzj"), []string{"热线受理"}, []string{"工单设置", "工单统计"}, 200},
		}
		for _, c := range cases {
			w := e.get("/tickets", c.p)
			testcity.Sees(t, w, c.pageWant, append([]string{`href="/tickets"`}, c.want...), c.not)
		}
	})
}

// qianjinKey is the credit code of the enterprise of contact().
const qianjinKey = "914302001838260003"

// contact registers 千金药业 in 天元区 and returns its contact.
func (e *pagesEnv) contact() *auth.Principal {
	e.T.Helper()
	if _, _, err := e.res.Save(e.Ctx, e.Sys, resumption.EnterpriseInput{Key: qianjinKey, Kind: resumption.KindEnterprise,
		Name: "千金药业", AreaCode: "430211001", Employees: 100}); err != nil {
		e.T.Fatal(err)
	}
	return e.user("qianjin", auth.EnterpriseContact, "enterprise:"+qianjinKey)
}

// An enterprise contact files about their own enterprise; its page links
// to the enterprise.
func TestPageEnterpriseFiling(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newPagesEnv(t, f)
		contact := e.contact()
		testcity.Sees(t, e.get("/tickets/new", contact), 200, []string{`<select id="enterprise" name="enterprise"`, qianjinKey}, []string{"autofocus"})
		form := url.Values{"enterprise": {qianjinKey}, "category": {"logistics"}, "urgency": {"urgent"}, "channel": {"web"},
			"description": {"原料运输车辆无法进园区"}}
		loc := redirected(t, e.post("/tickets", contact, form))
		testcity.Sees(t, e.get(loc, contact), 200, []string{`href="/enterprises/` + qianjinKey + `"`, "千金药业", "紧急", "企业问题"}, []string{`value="assigned"`})
		form.Set("enterprise", "91430200184287000F")
		testcity.Sees(t, e.post("/tickets", contact, form), 400, []string{"企业不存在"}, nil)
	})
}

func itoa(id int64) string { return strconv.FormatInt(id, 10) }

// upload posts a multipart form with one file field.
func (e *pagesEnv) upload(target string, p *auth.Principal, name string, data []byte) *httptest.ResponseRecorder {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		e.T.Fatal(err)
	}
	fw.Write(data)
	mw.Close()
	return e.send(req{method: "POST", target: target, p: p, body: buf.Bytes(), header: map[string]string{"Content-Type": mw.FormDataContentType()}})
}

// Bad input answers with a 4xx and a Chinese message, never a 500.
func TestPageBadInputs(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		e := newPagesEnv(t, f)
		worker := f.user("dayuan", auth.CommunityWorker, "430203001001")
		hq := f.user("commander", auth.HQCommander, "430200")
		tk := f.file(worker, help("家里没有菜了"))
		self := "/tickets/" + itoa(tk.ID)
		long := strings.Repeat("长", 2001)
		cases := []struct {
			name   string
			q      req
			status int
			want   string
		}{
			{"unknown urgency", req{method: "POST", target: "/tickets", p: worker, form: url.Values{"category": {"food"}, "urgency": {"soon"},
				"area_code": {"430203001001"}, "description": {"x"}}}, 400, "须为 normal、urgent 或 critical"},
			{"unknown category", req{method: "POST", target: "/tickets", p: worker, form: url.Values{"category": {"nope"},
				"area_code": {"430203001001"}, "description": {"x"}}}, 400, "未知类别"},
			{"description too long", req{method: "POST", target: "/tickets", p: worker, form: url.Values{"category": {"food"},
				"area_code": {"430203001001"}, "description": {long}}}, 400, "不能超过 2000 个字"},
			{"unknown area code", req{method: "POST", target: "/tickets", p: worker, form: url.Values{"category": {"food"},
				"area_code": {"999"}, "description": {"x"}}}, 400, "区划不存在"},
			{"area name too long", req{method: "POST", target: "/help", form: url.Values{"name": {"王"}, "phone": {"13907330000"},
				"area_q": {strings.Repeat("社", 60)}, "description": {"x"}}}, 400, "社区名称过长"},
			{"bad public phone", req{method: "POST", target: "/help", form: url.Values{"name": {"王"}, "phone": {"12"},
				"area_code": {"430203001001"}, "description": {"x"}}}, 400, "手机号应为11位数字"},
			{"transition to merged", req{method: "POST", target: self + "/transitions", p: worker, form: url.Values{"to": {"merged"}}}, 409, "不能转为「已合并」"},
			{"unknown status", req{method: "POST", target: self + "/transitions", p: worker, form: url.Values{"to": {"done"}}}, 400, "目标状态无效"},
			{"forged version", req{method: "POST", target: self + "/transitions", p: worker, form: url.Values{"to": {"in_progress"}, "version": {"x"}}}, 409, "工单已被他人更新"},
			{"photo as a form", req{method: "POST", target: self + "/photos", p: worker, form: url.Values{"file": {"x"}}}, 415, "请上传图片"},
			{"merge into nothing", req{method: "POST", target: self + "/merge", p: worker, form: url.Values{"into": {"WT20221120-9999"}}}, 400, "保留的工单不存在"},
			{"unknown ticket", req{method: "GET", target: "/tickets/WT20990101-0001", p: worker}, 404, "工单不存在"},
			{"unknown stats area", req{method: "GET", target: "/tickets/stats?area=999", p: hq}, 400, "区划不存在"},
			{"period too long", req{method: "GET", target: "/tickets/stats?from=2020-01-01&to=2022-11-20", p: hq}, 400, "统计期间不能超过 366 天"},
			{"unknown board area", req{method: "GET", target: "/tickets/overdue?area=999", p: hq}, 400, "区划不存在"},
			{"bad export filter", req{method: "GET", target: "/tickets.xlsx?overdue=maybe", p: hq}, 400, "overdue 须为 true 或 false"},
			{"unknown route", req{method: "POST", target: "/ticket-settings/routes/x/delete", p: f.user("hqstaff", auth.HQStaff, "430200"), form: url.Values{}}, 404, "分派规则不存在"},
			{"unknown policy category", req{method: "POST", target: "/ticket-settings/policies/nope", p: f.principal("hqstaff"), form: url.Values{}}, 404, "工单类别不存在"},
			{"form too large", req{method: "POST", target: "/help", form: url.Values{"description": {strings.Repeat("x", pageMaxForm+1)}}}, 400, "表单无法解析"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				testcity.Sees(t, e.send(c.q), c.status, []string{c.want}, nil)
			})
		}
	})
}
