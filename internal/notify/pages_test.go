package notify

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db/dbtest"
	"tongxin/internal/testcity"
	"tongxin/internal/web"
)

type pagesEnv struct {
	*fixture
	mux *http.ServeMux
}

// newPagesEnv mounts the pages as the lead does.
func newPagesEnv(t *testing.T) *pagesEnv {
	t.Helper()
	clk := clock.NewManual(testBase)
	f := newFixture(t, dbtest.Open(t, "sqlite", clk), clk)
	site := testcity.NewSite(t, NavItems(f.svc), Templates)
	pg := NewPages(f.svc, site.Render, f.Areas.Names)
	site.Mount(map[string]web.Handler{
		"GET /inbox":                 pg.InboxPage,
		"POST /inbox/{id}/read":      pg.MarkReadSubmit,
		"POST /inbox/read-all":       pg.MarkAllReadSubmit,
		"GET /webhooks":              pg.WebhooksPage,
		"POST /webhooks":             pg.CreateWebhookSubmit,
		"POST /webhooks/{id}/test":   pg.TestWebhookSubmit,
		"POST /webhooks/{id}/active": pg.ActiveWebhookSubmit,
		"POST /webhooks/{id}/delete": pg.DeleteWebhookSubmit,
	})
	return &pagesEnv{fixture: f, mux: site.Mux}
}

func (e *pagesEnv) do(method, target string, p *auth.Principal, lang string, form url.Values) *httptest.ResponseRecorder {
	return testcity.Serve(e.mux, testcity.Request{Method: method, Target: target, As: p, Lang: lang, Form: form})
}

func mustContain(t *testing.T, body string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(body, p) {
			t.Errorf("page lacks %q", p)
		}
	}
}

func TestInboxPages(t *testing.T) {
	e := newPagesEnv(t)
	alice := e.user("alice", auth.HQStaff, "430203")
	bob := e.user("bob", auth.CommunityWorker, "430203001001")
	for i := range 3 {
		e.send([]int64{alice.UserID}, ticketMsg("ticket.escalated", strconv.Itoa(i), ""))
	}
	e.send([]int64{bob.UserID}, Message{Event: "ticket.comment", Title: "鲍勃的消息", ObjectType: "ticket", ObjectID: "9"})
	list, _ := e.svc.Inbox(e.Ctx, alice, InboxFilter{})
	bobs, _ := e.svc.Inbox(e.Ctx, bob, InboxFilter{})

	w := e.do("GET", "/inbox", alice, "", nil)
	if w.Code != 200 {
		t.Fatalf("GET /inbox = %d\n%s", w.Code, w.Body)
	}
	body := w.Body.String()
	// The menu shows the unread count beside 消息.
	mustContain(t, body, `<span class="count" aria-label="3 条未读">3</span>`)
	mustContain(t, body, "工单 2", `href="/tickets/2"`, "未读（3）", `action="/inbox/read-all"`, `action="/inbox/`+strconv.FormatInt(list[0].ID, 10)+`/read"`)
	if strings.Contains(body, "鲍勃的消息") {
		t.Error("alice sees bob's notification")
	}

	// Marking read goes back where the form came from, on this site only.
	w = e.do("POST", "/inbox/"+strconv.FormatInt(list[0].ID, 10)+"/read", alice, "", url.Values{"next": {"/inbox?unread=1"}})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/inbox?unread=1" {
		t.Fatalf("mark read = %d %s", w.Code, w.Header().Get("Location"))
	}
	w = e.do("POST", "/inbox/"+strconv.FormatInt(list[1].ID, 10)+"/read", alice, "", url.Values{"next": {"//evil.example/"}})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/inbox" {
		t.Fatalf("mark read with a foreign next = %d %s", w.Code, w.Header().Get("Location"))
	}
	w = e.do("POST", "/inbox/"+strconv.FormatInt(bobs[0].ID, 10)+"/read", alice, "", url.Values{})
	if w.Code != http.StatusNotFound {
		t.Errorf("marking bob's notification = %d", w.Code)
	}
	w = e.do("GET", "/inbox?unread=1", alice, "", nil)
	mustContain(t, w.Body.String(), "工单 0", "未读（1）")
	if strings.Contains(w.Body.String(), "工单 2") {
		t.Error("unread filter shows a read notification")
	}
	w = e.do("POST", "/inbox/read-all", alice, "", url.Values{"next": {"/inbox?unread=1"}})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/inbox?unread=1" {
		t.Fatalf("read all = %d %s", w.Code, w.Header().Get("Location"))
	}
	if n, _ := e.svc.UnreadCount(e.Ctx, alice); n != 0 {
		t.Errorf("unread after read-all = %d", n)
	}
	w = e.do("GET", "/inbox", alice, "en", nil)
	mustContain(t, w.Body.String(), "Inbox", "Unread (0)")
	if w := e.do("GET", "/inbox", nil, "", nil); w.Code != http.StatusUnauthorized {
		t.Errorf("anonymous inbox = %d", w.Code)
	}
}

func TestWebhookPages(t *testing.T) {
	e := newPagesEnv(t)
	rc := newReceiver(t, nil)
	hq := e.officer(auth.HQStaff, "430203")
	officer := e.officer(auth.DistrictOfficer, "430203")

	if w := e.do("GET", "/webhooks", officer, "", nil); w.Code != http.StatusForbidden {
		t.Errorf("non-manager GET /webhooks = %d", w.Code)
	}
	if w := e.do("POST", "/webhooks", officer, "", url.Values{"name": {"x"}}); w.Code != http.StatusForbidden {
		t.Errorf("non-manager POST /webhooks = %d", w.Code)
	}
	w := e.do("GET", "/webhooks", hq, "", nil)
	if w.Code != 200 {
		t.Fatalf("GET /webhooks = %d\n%s", w.Code, w.Body)
	}
	mustContain(t, w.Body.String(), `action="/webhooks"`, `value="ticket.escalated"`, "工单已升级", "企业微信群机器人")

	// A refused form comes back with its values, never the secret.
	form := url.Values{"name": {"芦淞群"}, "url": {"ftp://x"}, "format": {"wecom"}, "secret": {"do-not-echo"},
		"events": {"ticket.created", "ticket.overdue"}, "area_code": {"430203"}, "active": {"1"}}
	w = e.do("POST", "/webhooks", hq, "", form)
	if w.Code != http.StatusBadRequest {
		t.Fatalf("bad form = %d", w.Code)
	}
	body := w.Body.String()
	mustContain(t, body, `value="芦淞群"`, "http:// 或 https://", `value="ticket.overdue" checked`)
	if strings.Contains(body, "do-not-echo") {
		t.Error("the secret was sent back")
	}

	form.Set("url", rc.URL+"/hook?key=robot-key")
	w = e.do("POST", "/webhooks", hq, "", form)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/webhooks" {
		t.Fatalf("create = %d %s\n%s", w.Code, w.Header().Get("Location"), w.Body)
	}
	hooks, _ := e.svc.ListWebhooks(e.Ctx, hq)
	if len(hooks) != 1 || !hooks[0].HasSecret || hooks[0].Format != FormatWeCom || len(hooks[0].Events) != 2 {
		t.Fatalf("hooks = %+v", hooks)
	}
	id := strconv.FormatInt(hooks[0].ID, 10)

	if w := e.do("POST", "/webhooks/"+id+"/test", hq, "", url.Values{}); w.Code != http.StatusSeeOther {
		t.Fatalf("test = %d", w.Code)
	}
	e.deliverDue(1)
	w = e.do("GET", "/webhooks", hq, "", nil)
	body = w.Body.String()
	mustContain(t, body, "芦淞群", "key=***", "同心平台测试消息", "已送达", "已设签名密钥", `芦淞区 <span class="code">430203</span>`)
	if strings.Contains(body, "robot-key") || strings.Contains(body, "do-not-echo") {
		t.Error("the page shows a credential")
	}

	if w := e.do("POST", "/webhooks/"+id+"/active", hq, "", url.Values{"active": {"false"}}); w.Code != http.StatusSeeOther {
		t.Fatalf("deactivate = %d", w.Code)
	}
	if h, _ := e.svc.GetWebhook(e.Ctx, hq, hooks[0].ID); h.Active {
		t.Error("still active")
	}
	if w := e.do("POST", "/webhooks/"+id+"/active", hq, "", url.Values{"active": {"perhaps"}}); w.Code != http.StatusBadRequest {
		t.Errorf("bad active = %d", w.Code)
	}
	if w := e.do("POST", "/webhooks/"+id+"/delete", e.officer(auth.HQStaff, "430204"), "", url.Values{}); w.Code != http.StatusNotFound {
		t.Errorf("delete out of reach = %d", w.Code)
	}
	if w := e.do("POST", "/webhooks/"+id+"/delete", hq, "", url.Values{}); w.Code != http.StatusSeeOther {
		t.Fatalf("delete = %d", w.Code)
	}
	if l, _ := e.svc.ListWebhooks(e.Ctx, hq); len(l) != 0 {
		t.Errorf("after delete: %+v", l)
	}
	w = e.do("GET", "/webhooks", hq, "en", nil)
	mustContain(t, w.Body.String(), "Webhooks", "No webhooks yet.")
}

func TestNavItems(t *testing.T) {
	items := NavItems(nil)
	if len(items) != 2 || items[0].Path != "/inbox" || items[0].Perm != "" || items[1].Perm != auth.NotifyManage {
		t.Errorf("NavItems = %+v", items)
	}
}

// The page shows an attempt's error class in the reader's language, never
// the address it failed on.
func TestWebhookPageShowsTheErrorClass(t *testing.T) {
	e := newPagesEnv(t)
	admin := e.officer(auth.HQStaff, "430200")
	h := e.hook("内网", "http://127.0.0.1:9/hook", FormatJSON, "", "430200", "*")
	e.send(nil, ticketMsg("ticket.created", "9", ""))
	strict := NewService(e.DB, Deps{Box: e.Box}) // without --webhook-allow-private
	if n, err := strict.DeliverDue(e.Ctx); err != nil || n != 1 {
		t.Fatalf("deliver: %d %v", n, err)
	}
	if dl := e.deliveries(h.ID)[0]; dl.LastError != ErrBlockedAddress {
		t.Fatalf("delivery %+v", dl)
	}
	zh := e.do("GET", "/webhooks", admin, "", nil).Body.String()
	mustContain(t, zh, "地址指向内网或本机，已拦截")
	en := e.do("GET", "/webhooks", admin, "en", nil).Body.String()
	mustContain(t, en, "Private or local address, blocked")
	for _, page := range []string{zh, en} {
		if strings.Contains(page, "blocked_address") || strings.Contains(page, "address not allowed") {
			t.Errorf("the page shows the raw class or error")
		}
	}
}
