package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/errs"
)

// testPages is a module template set as a module would ship it.
var testPages = fstest.MapFS{
	"templates/test.html": {Data: []byte(`
{{define "test/page"}}<h1>{{t "nav.users"}}</h1><p id="data">{{.Data}}</p>{{if hasPerm .User "user.manage"}}<p>can-manage</p>{{end}}{{end}}
{{define "test/frag"}}<li>{{levelName "district"}}·{{roleName "hq_staff"}}·{{time 1668996000000}}</li>{{end}}
`)},
}

func newTestRenderer(t *testing.T) *Renderer {
	t.Helper()
	r, err := NewRenderer(nil, loadCatalog(t), testPages)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func officer() *auth.Principal {
	return &auth.Principal{UserID: 7, Username: "li", DisplayName: "李四", Assignments: []auth.Assignment{{
		Role:  auth.DistrictOfficer,
		Scope: auth.Scope{Kind: auth.ScopeArea, Ref: "430203", Name: "芦淞区", Path: "/430200/430203/"},
	}}}
}

func admin() *auth.Principal {
	return &auth.Principal{UserID: 1, Username: "admin", DisplayName: "管理员", Assignments: []auth.Assignment{{
		Role:  auth.SystemAdmin,
		Scope: auth.Scope{Kind: auth.ScopeArea, Ref: "430200", Name: "株洲市", Path: "/430200/"},
	}}}
}

func get(path string, p *auth.Principal, lang string) *http.Request {
	r := httptest.NewRequest("GET", path, nil)
	if p != nil {
		r = r.WithContext(WithPrincipal(r.Context(), p))
	}
	if lang != "" {
		r.AddCookie(&http.Cookie{Name: LangCookie, Value: lang})
	}
	return r
}

func render(t *testing.T, r *Renderer, req *http.Request, data any) (int, string) {
	t.Helper()
	w := httptest.NewRecorder()
	if err := r.Page(w, req, http.StatusOK, "test/page", "nav.users", data); err != nil {
		t.Fatal(err)
	}
	return w.Code, w.Body.String()
}

func TestPageInChineseAndEnglish(t *testing.T) {
	r := newTestRenderer(t)
	_, zh := render(t, r, get("/users", officer(), ""), "x")
	for _, want := range []string{`<html lang="zh-CN">`, "<title>用户 · 同心</title>", "<h1>用户</h1>", "李四", "退出", "English",
		`href="/areas"`, "行政区划"} {
		if !strings.Contains(zh, want) {
			t.Errorf("Chinese page lacks %q", want)
		}
	}
	_, en := render(t, r, get("/users", officer(), LangEN), "x")
	for _, want := range []string{`<html lang="en">`, "<title>Users · Tongxin</title>", "<h1>Users</h1>", "Sign out", "中文"} {
		if !strings.Contains(en, want) {
			t.Errorf("English page lacks %q", want)
		}
	}
	if strings.Contains(en, "退出") {
		t.Error("English page still says 退出")
	}
}

// A language other than Chinese gets its template set when a page is
// first asked in it, once however many ask at the same time; until then
// the server keeps only the Chinese set.
func TestConcurrentFirstEnglishPagesShareOneSet(t *testing.T) {
	r := newTestRenderer(t)
	if _, built := r.sets.m[LangEN]; built {
		t.Fatal("the English set is built before any page asks for it")
	}
	var wg sync.WaitGroup
	pages := make([]string, 8)
	for i := range pages {
		wg.Go(func() {
			w := httptest.NewRecorder()
			if err := r.Page(w, get("/users", officer(), LangEN), http.StatusOK, "test/page", "nav.users", "x"); err != nil {
				t.Error(err)
			}
			pages[i] = w.Body.String()
		})
	}
	wg.Wait()
	for i, page := range pages {
		if !strings.Contains(page, "<h1>Users</h1>") {
			t.Errorf("page %d is not in English: %.200q", i, page)
		}
	}
	en := r.set(LangEN)
	if en == r.set(LangZH) || en != r.set(LangEN) {
		t.Error("English pages do not share one English set of their own")
	}
	if c := *r; c.set(LangEN) != en { // a server given a copy (the access matrix's) shares the sets
		t.Error("a copy of the renderer builds a set of its own")
	}
}

func TestPageMenuFollowsPermissions(t *testing.T) {
	r := newTestRenderer(t)
	_, page := render(t, r, get("/", officer(), ""), nil)
	if !strings.Contains(page, `href="/users"`) || strings.Contains(page, `href="/audit"`) {
		t.Error("a district officer sees users but not the audit log")
	}
	if strings.Contains(page, "can-manage") {
		t.Error("hasPerm: a district officer cannot manage users")
	}
	_, page = render(t, r, get("/", admin(), ""), nil)
	if !strings.Contains(page, `href="/audit"`) || !strings.Contains(page, "can-manage") {
		t.Error("an administrator sees the audit log and may manage users")
	}
	_, page = render(t, r, get("/users/li", officer(), ""), nil)
	if !regexp.MustCompile(`href="/users" aria-current="page"`).MatchString(page) {
		t.Error("the current section is not marked in the menu")
	}
	// The longest matching entry is the current one.
	r.AddNav(NavItem{Key: "nav.users", Path: "/users/li", Perm: auth.UserRead})
	_, page = render(t, r, get("/users/li", officer(), ""), nil)
	if strings.Count(page, `aria-current="page"`) != 2 || !strings.Contains(page, `href="/users/li" aria-current="page"`) {
		t.Error("a page under two menu entries marks only the longer one (in both menus)")
	}
	_, anon := render(t, r, get("/", nil, ""), nil)
	if strings.Contains(anon, `href="/users"`) || !strings.Contains(anon, `href="/login"`) {
		t.Error("an anonymous visitor sees no menu, only a login link")
	}
	vol := &auth.Principal{Username: "v", DisplayName: "志愿者小王", Assignments: []auth.Assignment{{Role: auth.Volunteer}}}
	if items := r.NavFor(vol); len(items) != 1 || items[0].Path != "/" {
		t.Errorf("a volunteer's menu is %v, want only the home page", items)
	}
}

func TestPageEscapesUserData(t *testing.T) {
	r := newTestRenderer(t)
	p := officer()
	p.DisplayName = `<script>alert(1)</script>`
	_, page := render(t, r, get("/", p, ""), `<img src=x onerror=alert(2)>`)
	if strings.Contains(page, "<script>alert") || strings.Contains(page, "<img src=x") {
		t.Fatal("user data reached the page unescaped")
	}
	if !strings.Contains(page, "&lt;script&gt;") {
		t.Fatal("display name missing")
	}
}

func TestPageHeadersAndStatus(t *testing.T) {
	r := newTestRenderer(t)
	w := httptest.NewRecorder()
	if err := r.Page(w, get("/", officer(), ""), http.StatusBadRequest, "test/page", "自定义标题", nil); err != nil {
		t.Fatal(err)
	}
	if w.Code != 400 || w.Header().Get("Content-Type") != "text/html; charset=utf-8" || w.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("got %d %v", w.Code, w.Header())
	}
	if !strings.Contains(w.Body.String(), "<title>自定义标题 · 同心</title>") {
		t.Error("a title that is no catalog key is shown as given")
	}
	if err := r.Page(httptest.NewRecorder(), get("/", nil, ""), 200, "test/nope", "", nil); err == nil {
		t.Error("an undefined page must be an error")
	}
}

func TestFragmentHasNoLayout(t *testing.T) {
	r := newTestRenderer(t)
	req := get("/areas/430203/children", officer(), "")
	req.Header.Set("HX-Request", "true")
	if !IsHTMX(req) {
		t.Fatal("IsHTMX")
	}
	w := httptest.NewRecorder()
	if err := r.Fragment(w, req, http.StatusOK, "test/frag", nil); err != nil {
		t.Fatal(err)
	}
	// 2022-11-21 02:00 UTC is 10:00 in Shanghai.
	if got := strings.TrimSpace(w.Body.String()); got != "<li>区县·指挥部工作人员·2022-11-21 10:00</li>" {
		t.Fatalf("fragment = %q", got)
	}
	w = httptest.NewRecorder()
	r.Fragment(w, get("/", nil, LangEN), http.StatusOK, "test/frag", nil)
	if got := strings.TrimSpace(w.Body.String()); got != "<li>District·HQ staff·2022-11-21 10:00</li>" {
		t.Fatalf("English fragment = %q", got)
	}
}

func TestFlashShownOnce(t *testing.T) {
	r := newTestRenderer(t)
	w := httptest.NewRecorder()
	SetFlash(w, "flash.user_created")
	req := get("/users/li", officer(), "")
	for _, c := range w.Result().Cookies() {
		req.AddCookie(c)
	}
	w = httptest.NewRecorder()
	if err := r.Page(w, req, 200, "test/page", "", nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(w.Body.String(), `<p class="flash" role="status">用户已创建</p>`) {
		t.Error("flash not shown")
	}
	cleared := false
	for _, c := range w.Result().Cookies() {
		if c.Name == flashCookie && c.MaxAge < 0 {
			cleared = true
		}
	}
	if !cleared {
		t.Error("flash cookie not cleared")
	}
	// A forged flash that is no catalog key shows nothing.
	req = get("/", officer(), "")
	req.AddCookie(&http.Cookie{Name: flashCookie, Value: "%3Cb%3Ehi"})
	_, page := render(t, r, req, nil)
	if strings.Contains(page, `class="flash"`) {
		t.Error("forged flash shown")
	}
}

func TestErrorPage(t *testing.T) {
	r := newTestRenderer(t)
	tests := []struct {
		name   string
		req    *http.Request
		status int
		p      Problem
		want   []string
		not    []string
	}{
		{"401 links to login and back", get("/users?q=li", nil, ""), 401, Problem{Code: "unauthenticated", Detail: "请先登录"},
			[]string{"<h1>请先登录</h1>", `href="/login?next=%2Fusers%3Fq%3Dli"`, "去登录"}, nil},
		{"401 on a post goes back to the referring page", func() *http.Request {
			q := httptest.NewRequest("POST", "/users", nil)
			q.Header.Set("Referer", "http://example.com/users/new")
			return q
		}(), 401, Problem{Code: "unauthenticated"}, []string{`href="/login?next=%2Fusers%2Fnew"`}, nil},
		{"404", get("/users/zz", officer(), ""), 404, Problem{Code: "user_not_found", Detail: "用户不存在"},
			[]string{"<h1>页面不存在</h1>", "用户不存在", "返回首页"}, []string{"/login?next"}},
		{"403 in English", get("/audit", officer(), LangEN), 403, Problem{Code: "forbidden", Detail: "没有执行此操作的权限"},
			[]string{"<h1>Not allowed</h1>", "You are not allowed to do this."}, []string{"没有执行此操作的权限"}},
		{"internal hides the cause", get("/", officer(), ""), 500, Problem{Code: "internal", Detail: "sql: database is locked"},
			[]string{"服务器内部错误"}, []string{"database is locked"}},
		{"field errors listed", get("/", officer(), ""), 400, Problem{Code: "invalid_user", Detail: "x",
			Errors: []errs.FieldError{{Field: "username", Message: "用户名须为 3–32 位"}}}, []string{"用户名须为 3–32 位"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			r.ErrorPage(w, tt.req, tt.status, tt.p)
			if w.Code != tt.status {
				t.Errorf("status %d, want %d", w.Code, tt.status)
			}
			body := w.Body.String()
			for _, s := range tt.want {
				if !strings.Contains(body, s) {
					t.Errorf("page lacks %q", s)
				}
			}
			for _, s := range tt.not {
				if strings.Contains(body, s) {
					t.Errorf("page shows %q", s)
				}
			}
		})
	}
	// Through the Adapter, as the lead wires it.
	a := &Adapter{Log: r.log, ErrorPage: r.ErrorPage}
	w := httptest.NewRecorder()
	a.H(func(w http.ResponseWriter, r *http.Request) error { return ErrUnauthenticated }).ServeHTTP(w, get("/audit", nil, ""))
	if w.Code != 401 || !strings.Contains(w.Body.String(), `/login?next=%2Faudit`) {
		t.Fatalf("adapter: %d %s", w.Code, w.Body.String())
	}
	// htmx gets the error without the layout.
	req := get("/areas/1/children", officer(), "")
	req.Header.Set("HX-Request", "true")
	w = httptest.NewRecorder()
	r.ErrorPage(w, req, 404, Problem{Code: "area_not_found", Detail: "区划不存在"})
	if strings.Contains(w.Body.String(), "<html") || !strings.Contains(w.Body.String(), "区划不存在") {
		t.Fatalf("htmx error: %s", w.Body.String())
	}
}

func TestNewRendererFailsAtStartup(t *testing.T) {
	c := loadCatalog(t)
	tests := []struct {
		name, text, want string
	}{
		{"undefined template", `{{define "m/page"}}{{template "m/nowhere" .}}{{end}}`, `"m/nowhere"`},
		{"undefined template in a branch", `{{define "m/page"}}{{if .Data}}{{else}}{{template "m/gone"}}{{end}}{{end}}`, `"m/gone"`},
		{"parse error", `{{define "m/page"}}{{if}}{{end}}`, "m.html"},
		{"unknown function", `{{define "m/page"}}{{nosuchfunc 1}}{{end}}`, "nosuchfunc"},
		{"missing catalog key", `{{define "m/page"}}{{t "no.such.key"}}{{end}}`, `"no.such.key"`},
		{"missing static file", `{{define "m/page"}}<link href="{{static "css/none.css"}}">{{end}}`, `"css/none.css"`},
		{"defined twice", `{{define "layout/top"}}x{{end}}`, `"layout/top"`},
		{"unsafe context", `{{define "m/page"}}<a href="{{.Data}}{{end}}`, "m/page"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := fstest.MapFS{"m.html": {Data: []byte(tt.text)}}
			_, err := NewRenderer(nil, c, set)
			if err == nil {
				t.Fatal("NewRenderer accepted a broken template")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not name %s", err, tt.want)
			}
		})
	}
	// A vendor file is optional: referring to an absent one is fine.
	set := fstest.MapFS{"m.html": {Data: []byte(`{{define "m/page"}}{{with static "vendor/none.js"}}<script src="{{.}}"></script>{{end}}{{end}}`)}}
	if _, err := NewRenderer(nil, c, set); err != nil {
		t.Fatal(err)
	}
}

// The repository's module templates load (this runs even while a module
// package does not compile yet).
func TestModuleTemplatesLoad(t *testing.T) {
	var sets []fs.FS
	for _, dir := range []string{"../account/templates", "../area/templates"} {
		if _, err := os.Stat(dir); err == nil {
			sets = append(sets, os.DirFS(dir))
		}
	}
	r, err := NewRenderer(nil, loadCatalog(t), sets...)
	if err != nil {
		t.Fatal(err)
	}
	if len(sets) > 0 && r.sets.m[LangZH].Lookup("account/login") == nil {
		t.Fatal("account/login not loaded")
	}
}

func TestLayoutScriptsFollowVendorFiles(t *testing.T) {
	c := loadCatalog(t)
	css := &fstest.MapFile{Data: []byte("body{}")}
	js := &fstest.MapFile{Data: []byte("1")}
	icon := &fstest.MapFile{Data: []byte("<svg/>")}
	without := fstest.MapFS{"css/app.css": css, "js/app.js": js, "img/icon.svg": icon}
	with := fstest.MapFS{"css/app.css": css, "js/app.js": js, "img/icon.svg": icon, "vendor/htmx.min.js": {Data: []byte("htmx")}}

	r, err := newRenderer(nil, c, without, testPages)
	if err != nil {
		t.Fatal(err)
	}
	_, page := render(t, r, get("/", officer(), ""), nil)
	if strings.Contains(page, "htmx.min") || strings.Contains(page, `src=""`) {
		t.Error("without make assets, the layout must not load htmx")
	}
	if !regexp.MustCompile(`<script src="/static/js/app\.[0-9a-f]{8}\.js" defer></script>`).MatchString(page) {
		t.Error("app.js not loaded by its fingerprinted URL")
	}

	r, err = newRenderer(nil, c, with, testPages)
	if err != nil {
		t.Fatal(err)
	}
	_, page = render(t, r, get("/", officer(), ""), nil)
	if !regexp.MustCompile(`<script src="/static/vendor/htmx\.min\.[0-9a-f]{8}\.js" defer></script>`).MatchString(page) {
		t.Error("with make assets, the layout loads htmx")
	}
	if strings.Contains(page, "<script>") || regexp.MustCompile(`(?i)https?://`).MatchString(page) {
		t.Error("inline script or external URL in the layout")
	}
}

func TestStaticHandler(t *testing.T) {
	r := newTestRenderer(t)
	h := r.StaticHandler()
	cssURL := r.assets.URL("css/app.css")
	if !regexp.MustCompile(`^/static/css/app\.[0-9a-f]{8}\.css$`).MatchString(cssURL) {
		t.Fatalf("fingerprinted URL %q", cssURL)
	}
	want, err := fs.ReadFile(staticFiles, "static/css/app.css")
	if err != nil {
		t.Fatal(err)
	}
	serve := func(method, path, enc string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, nil)
		if enc != "" {
			req.Header.Set("Accept-Encoding", enc)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}
	w := serve("GET", cssURL, "")
	if w.Code != 200 || w.Body.String() != string(want) {
		t.Fatalf("GET %s: %d", cssURL, w.Code)
	}
	if cc := w.Header().Get("Cache-Control"); !strings.Contains(cc, "immutable") || !strings.Contains(cc, "max-age=31536000") {
		t.Errorf("fingerprinted Cache-Control %q", cc)
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
		t.Errorf("Content-Type %q", ct)
	}
	w = serve("GET", "/static/css/app.css", "")
	if w.Code != 200 || w.Header().Get("Cache-Control") != "no-cache" {
		t.Errorf("plain name: %d %q", w.Code, w.Header().Get("Cache-Control"))
	}
	for _, p := range []string{"/static/css/app.00000000.css", "/static/css/none.css", "/static/", "/static/../render.go"} {
		if w := serve("GET", p, ""); w.Code != 404 {
			t.Errorf("GET %s: %d, want 404", p, w.Code)
		}
	}
	if w := serve("POST", cssURL, ""); w.Code != 405 {
		t.Errorf("POST: %d", w.Code)
	}
	w = serve("GET", cssURL, "gzip")
	if w.Header().Get("Content-Encoding") != "gzip" {
		t.Fatal("gzip not used")
	}
	zr, err := gzip.NewReader(w.Body)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := io.ReadAll(zr); string(got) != string(want) {
		t.Fatal("gzip body differs")
	}
	if w := serve("GET", cssURL, "gzip;q=0"); w.Header().Get("Content-Encoding") != "" {
		t.Error("gzip;q=0 must not be gzipped")
	}
	etag := serve("GET", cssURL, "").Header().Get("ETag")
	req := httptest.NewRequest("GET", cssURL, nil)
	req.Header.Set("If-None-Match", etag)
	w = httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusNotModified {
		t.Errorf("If-None-Match: %d", w.Code)
	}
	// Vendor files are served when present and simply absent otherwise.
	if u := r.assets.URL("vendor/htmx.min.js"); u != "" {
		if w := serve("GET", u, ""); w.Code != 200 {
			t.Errorf("GET %s: %d", u, w.Code)
		}
	}
	if r.assets.URL("vendor/none.js") != "" {
		t.Error("absent file has a URL")
	}
	w = serve("GET", cssURL, "br, gzip")
	if w.Header().Get("Content-Encoding") != "br" || w.Header().Get("ETag") == etag {
		t.Fatalf("br accepted: %v", w.Header())
	}
	if got := unbrotli(t, w.Body.Bytes()); string(got) != string(want) {
		t.Fatal("brotli body differs")
	}
}

// The style sheet keeps the promises the pages rely on.
func TestStyleSheet(t *testing.T) {
	b, err := fs.ReadFile(staticFiles, "static/css/app.css")
	if err != nil {
		t.Fatal(err)
	}
	css := string(b)
	for _, want := range []string{`"PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC"`, "overflow-x: auto", "details", "--tap: 44px"} {
		if !strings.Contains(css, want) {
			t.Errorf("app.css lacks %q", want)
		}
	}
	if regexp.MustCompile(`url\(|@import|https?://`).MatchString(css) {
		t.Error("app.css must not load anything from elsewhere")
	}
}

func TestTimeFunc(t *testing.T) {
	r := newTestRenderer(t)
	f := r.funcs(LangZH)["time"].(func(any) string)
	at := time.Date(2022, 11, 20, 9, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		in   any
		want string
	}{
		{at.UnixMilli(), "2022-11-20 17:00"},
		{at, "2022-11-20 17:00"},
		{int64(0), ""},
		{time.Time{}, ""},
		{&at, "2022-11-20 17:00"}, // reviewed_at and the like: a blank batch review time was this
		{(*time.Time)(nil), ""},
		{"x", ""},
		{nil, ""},
	} {
		if got := f(tt.in); got != tt.want {
			t.Errorf("time(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFormFail(t *testing.T) {
	r := newTestRenderer(t)
	f := NewForm(formValues("username", "Li Si"))
	err := &errs.Error{Kind: errs.Invalid, Code: "invalid_user", Message: "用户名须为 3–32 位小写字母",
		Fields: []errs.FieldError{{Field: "username", Message: "用户名须为 3–32 位小写字母"}, {Field: "password", Message: "密码至少 8 个字符"}}}
	r.Fail(f, get("/", nil, ""), err)
	if f.Error != "用户名须为 3–32 位小写字母" || f.Field("password") != "密码至少 8 个字符" || f.Get("username") != "Li Si" {
		t.Fatalf("%+v", f)
	}
	for _, tt := range []struct {
		err  error
		want int
	}{
		{err, 400}, {errs.E(errs.Conflict, "x", "y"), 409}, {errs.E(errs.NotFound, "x", "y"), 0}, {context.Canceled, 0},
	} {
		if got := FormStatus(tt.err); got != tt.want {
			t.Errorf("FormStatus(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

// A page is compressed for a browser that accepts it — brotli where
// accepted, else gzip; the same bytes once decoded (brotli by Google's own
// tool), Content-Length the compressed size, Vary naming Accept-Encoding —
// and sent as it is to a client that accepts neither, or refuses them with
// q=0; a fragment smaller than a packet is not compressed.
func TestPagesAreCompressed(t *testing.T) {
	r := newTestRenderer(t)
	data := strings.Repeat("芦淞区建设街道大园社区 复工 86% ", 400)
	page := func(accept string) *httptest.ResponseRecorder {
		req := get("/", officer(), "")
		if accept != "" {
			req.Header.Set("Accept-Encoding", accept)
		}
		w := httptest.NewRecorder()
		if err := r.Page(w, req, http.StatusOK, "test/page", "nav.users", data); err != nil {
			t.Fatal(err)
		}
		return w
	}
	plain := page("")
	if plain.Header().Get("Content-Encoding") != "" || !strings.Contains(plain.Body.String(), data) {
		t.Fatalf("without Accept-Encoding: %v", plain.Header())
	}
	check := func(accept, coding string, decode func([]byte) ([]byte, error)) {
		t.Helper()
		w := page(accept)
		h := w.Header()
		if h.Get("Content-Encoding") != coding || !slices.Contains(h.Values("Vary"), "Accept-Encoding") ||
			h.Get("Content-Length") != strconv.Itoa(w.Body.Len()) {
			t.Fatalf("Accept-Encoding %q: %v, want %s", accept, h, coding)
		}
		body, err := decode(w.Body.Bytes())
		if err != nil {
			t.Fatalf("%s: %v", coding, err)
		}
		if string(body) != plain.Body.String() {
			t.Errorf("%s: the page decoded differs from the page sent plain", coding)
		}
		if n, m := w.Body.Len(), plain.Body.Len(); n*5 > m {
			t.Errorf("%s: compressed to %d bytes of %d", coding, n, m)
		}
	}
	gunzip := func(b []byte) ([]byte, error) {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, err
		}
		return io.ReadAll(zr)
	}
	check("gzip", "gzip", gunzip)
	check("br;q=0, gzip;q=0.5", "gzip", gunzip)
	if w := page("gzip;q=0, identity"); w.Header().Get("Content-Encoding") != "" {
		t.Error("gzip;q=0 refuses gzip")
	}
	req := get("/", officer(), "")
	req.Header.Set("Accept-Encoding", "gzip")
	w := httptest.NewRecorder()
	if err := r.Fragment(w, req, http.StatusOK, "test/frag", nil); err != nil {
		t.Fatal(err)
	}
	if w.Header().Get("Content-Encoding") != "" || !strings.Contains(w.Body.String(), "<li>") {
		t.Errorf("a small fragment: %v %q", w.Header(), w.Body.String())
	}
	check("gzip, deflate, br, zstd", "br", func(b []byte) ([]byte, error) { return unbrotli(t, b), nil }) // last: it may skip
}

// unbrotli decodes b with Google's brotli tool, the reference decoder; the
// test skips where it is not installed (Debian package brotli; .ci/run
// installs it).
func unbrotli(t *testing.T, b []byte) []byte {
	t.Helper()
	path, err := exec.LookPath("brotli")
	if err != nil {
		t.Skip("Google's brotli tool is not installed (Debian package brotli)")
	}
	cmd := exec.Command(path, "--decompress", "--stdout")
	cmd.Stdin = bytes.NewReader(b)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("brotli --decompress: %v", err)
	}
	return out
}
