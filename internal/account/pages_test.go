package account

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"tongxin/internal/area"
	"tongxin/internal/audit"
	"tongxin/internal/auth"
	"tongxin/internal/db/dbtest"
	"tongxin/internal/pii"
	"tongxin/internal/testcity"
	"tongxin/internal/web"
)

// pageEnv is a real database with the demo city, real templates and the
// page handlers on a local mux.
type pageEnv struct {
	t       *testing.T
	h       *Handlers
	mux     *http.ServeMux
	full    http.Handler // mux behind the real middleware (cookies)
	admin   *auth.Principal
	officer *auth.Principal // district officer of 芦淞区 430203
	inspect *auth.Principal // inspector of 芦淞区
	vol     *auth.Principal // volunteer: no page permission
}

const pw = "correct-horse-1"

func newPageEnv(t *testing.T) *pageEnv {
	t.Helper()
	ctx := context.Background()
	d := dbtest.Open(t, "sqlite", nil)
	areas := area.NewService(d, area.Deps{})
	as, ds, gs := area.DemoCity()
	if _, err := areas.Seed(ctx, auth.System(), as, ds, gs); err != nil {
		t.Fatal(err)
	}
	box, err := pii.NewBox(bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32))
	if err != nil {
		t.Fatal(err)
	}
	cfg := auth.DefaultConfig()
	svc := auth.NewService(d, box, cfg)
	for _, u := range []auth.NewUser{
		{Username: "admin", DisplayName: "王管理", Roles: []auth.RoleInput{{Role: "system_admin", Scope: "430200"}}},
		{Username: "lisi", DisplayName: "李四", Phone: "13812345678", Roles: []auth.RoleInput{{Role: "district_officer", Scope: "430203"}}},
		{Username: "zhao", DisplayName: "赵督查", Roles: []auth.RoleInput{{Role: "inspector", Scope: "430203"}}},
		{Username: "xiaowang", DisplayName: "小王", Roles: []auth.RoleInput{{Role: "volunteer", Scope: "430203001001"}}},
		{Username: "chen", DisplayName: "陈石峰", Roles: []auth.RoleInput{{Role: "community_worker", Scope: "430204001002"}}},
	} {
		u.Password = pw
		if _, err := svc.CreateUser(ctx, auth.System(), u); err != nil {
			t.Fatal(err)
		}
	}
	site := testcity.NewSite(t, nil, Templates, area.Templates)
	render := site.Render
	mw := &web.Middleware{Log: site.Adapter.Log, Auth: svc, Adapter: site.Adapter}
	h := NewHandlers(svc, Deps{MW: mw, Render: render, AuthConfig: cfg,
		AuditLog: func(ctx context.Context, f audit.Filter) ([]audit.Row, error) { return audit.List(ctx, d, f) }})
	site.Mount(map[string]web.Handler{
		"GET /{$}":                            h.Home,
		"GET /login":                          h.LoginPage,
		"POST /login":                         h.LoginSubmit,
		"POST /logout":                        h.Logout,
		"POST /lang":                          render.SetLang,
		"GET /users":                          h.UsersPage,
		"GET /users/new":                      h.NewUserPage,
		"POST /users":                         h.CreateUserSubmit,
		"GET /users/{username}":               h.UserPage,
		"POST /users/{username}/roles":        h.AddRoleSubmit,
		"POST /users/{username}/status":       h.StatusSubmit,
		"POST /users/{username}/roles/remove": h.RemoveRoleSubmit,
		"POST /users/{username}/password":     h.PasswordSubmit,
		"GET /audit":                          h.AuditPage,
	})
	mux := site.Mux
	e := &pageEnv{t: t, h: h, mux: mux, full: mw.Wrap(mux)}
	login := func(name string) *auth.Principal {
		_, p, err := svc.Login(ctx, name, pw, "192.0.2.1")
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	e.admin, e.officer, e.inspect, e.vol = login("admin"), login("lisi"), login("zhao"), login("xiaowang")
	return e
}

// req describes one request.
type req struct {
	method, target string
	form           url.Values
	as             *auth.Principal
	lang           string
	cookies        []*http.Cookie
}

// do serves r on the mux, with the principal placed in the context.
func (e *pageEnv) do(r req) *httptest.ResponseRecorder {
	e.t.Helper()
	return e.serve(e.mux, r)
}

// browse serves r through the real middleware, authenticated by cookie.
func (e *pageEnv) browse(r req) *httptest.ResponseRecorder {
	e.t.Helper()
	return e.serve(e.full, r)
}

func (e *pageEnv) serve(h http.Handler, r req) *httptest.ResponseRecorder {
	return testcity.Serve(h, testcity.Request{Method: r.method, Target: r.target, Form: r.form, As: r.as, Lang: r.lang,
		Cookies: r.cookies, RemoteAddr: "198.51.100.7:5555"})
}

func cookie(w *httptest.ResponseRecorder, name string) *http.Cookie {
	for _, c := range w.Result().Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func TestLoginPage(t *testing.T) {
	e := newPageEnv(t)
	testcity.Sees(t, e.do(req{target: "/login?next=%2Fusers"}), 200,
		[]string{"登录同心", "用户名", "密码", `name="next" value="/users"`, `autocomplete="current-password"`}, nil)
	testcity.Sees(t, e.do(req{target: "/login", lang: web.LangEN}), 200, []string{"Sign in to Tongxin", "User name", "Password"}, []string{"用户名"})
	testcity.Sees(t, e.do(req{target: "/login?next=%2F%2Fevil.example"}), 200, []string{`name="next" value="/">`}, []string{`value="//evil.example"`})
	// Someone already signed in goes straight on.
	w := e.do(req{target: "/login?next=%2Faudit", as: e.admin})
	if w.Code != 303 || w.Header().Get("Location") != "/audit" {
		t.Fatalf("signed in: %d %s", w.Code, w.Header().Get("Location"))
	}
}

func TestLoginSubmit(t *testing.T) {
	e := newPageEnv(t)
	tests := []struct {
		name   string
		form   url.Values
		lang   string
		status int
		want   []string
		not    []string
	}{
		{"wrong password", url.Values{"username": {"lisi"}, "password": {"wrong-password"}}, "", 401,
			[]string{"用户名或密码错误", `value="lisi"`}, []string{"wrong-password"}},
		{"unknown user", url.Values{"username": {"nobody"}, "password": {"whatever-1"}}, "", 401, []string{"用户名或密码错误"}, nil},
		{"empty", url.Values{"username": {""}, "password": {""}}, "", 400, []string{"请输入用户名和密码"}, nil},
		{"wrong password in English", url.Values{"username": {"lisi"}, "password": {"nope-nope"}}, web.LangEN, 401,
			[]string{"Wrong user name or password."}, []string{"用户名或密码错误"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := e.do(req{method: "POST", target: "/login", form: tt.form, lang: tt.lang})
			testcity.Sees(t, w, tt.status, tt.want, tt.not)
			if c := cookie(w, web.CookieName); c != nil {
				t.Error("a refused login set a session cookie")
			}
		})
	}
}

func TestLoginThrottledAndDisabled(t *testing.T) {
	e := newPageEnv(t)
	for range 5 {
		e.do(req{method: "POST", target: "/login", form: url.Values{"username": {"zhao"}, "password": {"bad-bad-bad"}}})
	}
	w := e.do(req{method: "POST", target: "/login", form: url.Values{"username": {"zhao"}, "password": {pw}}})
	testcity.Sees(t, w, 429, []string{"登录失败次数过多"}, nil)
	if got := w.Header().Get("Retry-After"); got != "60" {
		t.Errorf("Retry-After %q, want 60", got)
	}

	if _, err := e.h.auth.SetStatus(context.Background(), e.admin, "lisi", false); err != nil {
		t.Fatal(err)
	}
	testcity.Sees(t, e.do(req{method: "POST", target: "/login", form: url.Values{"username": {"lisi"}, "password": {pw}}}),
		401, []string{"用户名或密码错误"}, nil)
}

// The whole round: sign in, see the home page by cookie, sign out.
func TestLoginLogoutRound(t *testing.T) {
	e := newPageEnv(t)
	w := e.browse(req{method: "POST", target: "/login", form: url.Values{"username": {"lisi"}, "password": {pw}, "next": {"/users"}}})
	if w.Code != 303 || w.Header().Get("Location") != "/users" {
		t.Fatalf("login: %d %q", w.Code, w.Header().Get("Location"))
	}
	session := cookie(w, web.CookieName)
	if session == nil || !session.HttpOnly || session.MaxAge <= 0 {
		t.Fatalf("session cookie %+v", session)
	}
	testcity.Sees(t, e.browse(req{target: "/", cookies: []*http.Cookie{session}}), 200,
		[]string{"李四，您好", "<li>区县干部 · 芦淞区</li>", `href="/areas"`, `href="/users"`}, []string{`href="/audit"`})

	// An unsafe next is replaced by the home page.
	w = e.browse(req{method: "POST", target: "/login", form: url.Values{"username": {"admin"}, "password": {pw}, "next": {"//evil.example/"}}})
	if w.Code != 303 || w.Header().Get("Location") != "/" {
		t.Fatalf("open redirect: %d %q", w.Code, w.Header().Get("Location"))
	}

	w = e.browse(req{method: "POST", target: "/logout", cookies: []*http.Cookie{session}})
	if w.Code != 303 || w.Header().Get("Location") != "/login" {
		t.Fatalf("logout: %d %q", w.Code, w.Header().Get("Location"))
	}
	if c := cookie(w, web.CookieName); c == nil || c.MaxAge >= 0 {
		t.Fatal("logout did not clear the cookie")
	}
	// The old cookie no longer opens anything.
	w = e.browse(req{target: "/", cookies: []*http.Cookie{session}})
	if w.Code != 303 || w.Header().Get("Location") != "/login" {
		t.Fatalf("after logout: %d %q", w.Code, w.Header().Get("Location"))
	}
}

func TestHome(t *testing.T) {
	e := newPageEnv(t)
	w := e.do(req{target: "/"})
	if w.Code != 303 || w.Header().Get("Location") != "/login" {
		t.Fatalf("anonymous: %d %q", w.Code, w.Header().Get("Location"))
	}
	testcity.Sees(t, e.do(req{target: "/", as: e.admin}), 200,
		[]string{"王管理，您好", "<li>系统管理员 · 株洲市</li>", "现在可以做", `class="card" href="/areas"`, `class="card" href="/users"`, `class="card" href="/audit"`}, nil)
	testcity.Sees(t, e.do(req{target: "/", as: e.officer}), 200,
		[]string{`class="card" href="/areas"`, `class="card" href="/users"`}, []string{`class="card" href="/audit"`})
	testcity.Sees(t, e.do(req{target: "/", as: e.vol}), 200,
		[]string{"小王，您好", "志愿者", "暂无可用功能"}, []string{`class="card"`})
	testcity.Sees(t, e.do(req{target: "/", as: e.officer, lang: web.LangEN}), 200,
		[]string{"Hello, 李四", "<li>District officer · 芦淞区</li>", "What you can do now", "Sign out"}, []string{"您好", "区县干部"})
}

func TestUsersPage(t *testing.T) {
	e := newPageEnv(t)
	testcity.Sees(t, e.do(req{target: "/users", as: e.admin}), 200,
		[]string{"<h1>用户</h1>", "新建用户", `href="/users/lisi"`, "李四", "138****5678", `区县干部 · 芦淞区 <span class="code">430203</span>`, "启用"},
		[]string{"13812345678"})
	// A district officer reads users in the district only, and may not create.
	testcity.Sees(t, e.do(req{target: "/users", as: e.officer}), 200,
		[]string{`href="/users/lisi"`, `href="/users/zhao"`}, []string{"新建用户", `href="/users/admin"`, `href="/users/chen"`})
	testcity.Sees(t, e.do(req{target: "/users?q=%E8%B5%B5", as: e.admin}), 200, []string{`href="/users/zhao"`}, []string{`href="/users/lisi"`})
	testcity.Sees(t, e.do(req{target: "/users?q=nobody", as: e.admin}), 200, []string{"没有与“nobody”匹配的用户"}, nil)
	testcity.Sees(t, e.do(req{target: "/users", as: e.admin, lang: web.LangEN}), 200,
		[]string{"<h1>Users</h1>", "New user", "District officer"}, []string{"新建用户"})
	testcity.Sees(t, e.do(req{target: "/users", as: e.vol}), 403, []string{"没有权限", "没有执行此操作的权限"}, []string{"李四"})
	testcity.Sees(t, e.do(req{target: "/users?q=li"}), 401, []string{"请先登录", `href="/login?next=%2Fusers%3Fq%3Dli"`}, nil)
}

func TestUsersPaging(t *testing.T) {
	e := newPageEnv(t)
	ctx := context.Background()
	for i := range usersPerPage + 3 {
		_, err := e.h.auth.CreateUser(ctx, e.admin, auth.NewUser{Username: "u" + string(rune('a'+i/26)) + string(rune('a'+i%26)),
			DisplayName: "批量", Password: pw, Roles: []auth.RoleInput{{Role: "volunteer", Scope: "430203"}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	w := e.do(req{target: "/users?q=u", as: e.admin})
	testcity.Sees(t, w, 200, []string{"下一页"}, nil)
	next := regexp.MustCompile(`href="(/users\?after=[^"]+)"`).FindStringSubmatch(w.Body.String())
	if next == nil {
		t.Fatal("no next link")
	}
	target := strings.ReplaceAll(next[1], "&amp;", "&")
	testcity.Sees(t, e.do(req{target: target, as: e.admin}), 200, []string{`href="/users/ubz"`}, []string{`href="/users/uaa"`, "下一页"})
}

func TestCreateUser(t *testing.T) {
	e := newPageEnv(t)
	testcity.Sees(t, e.do(req{target: "/users/new", as: e.admin}), 200,
		[]string{"新建用户", `<option value="community_worker">社区工作者</option>`, `<option value="checkpoint_officer">卡口执勤人员</option>`, "范围"}, nil)
	testcity.Sees(t, e.do(req{target: "/users/new", as: e.officer}), 403, []string{"没有权限"}, nil)

	good := func(kv ...string) url.Values {
		v := url.Values{"username": {"wangwu"}, "display_name": {"王五"}, "phone": {""}, "password": {"long-enough-1"},
			"role": {"community_worker"}, "scope": {"430203001001"}}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	tests := []struct {
		name   string
		form   url.Values
		status int
		want   []string
		not    []string
	}{
		{"bad fields", good("username", "A", "password", "short"), 400,
			[]string{"用户名须为 3–32 位", "密码至少 10 个字符", `value="A"`, `value="王五"`, `aria-invalid="true"`}, []string{"short"}},
		{"no role", good("role", "", "scope", ""), 400, []string{"至少指定一个角色"}, nil},
		{"unknown scope", good("scope", "999999"), 400, []string{"范围 999999 不存在", `value="999999"`}, nil},
		{"role at the wrong level", good("scope", "430203"), 400, []string{"社区村或网格"}, nil},
		{"bad phone", good("phone", "12"), 400, []string{`value="12"`}, nil},
		{"taken", good("username", "lisi"), 409, []string{"用户名 lisi 已被使用"}, nil},
		{"html in the name is shown as text", good("username", "A", "display_name", "<b>x</b>"), 400,
			[]string{"&lt;b&gt;x&lt;/b&gt;"}, []string{"<b>x</b>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testcity.Sees(t, e.do(req{method: "POST", target: "/users", form: tt.form, as: e.admin}), tt.status, tt.want, tt.not)
		})
	}
	// A district officer cannot create users at all.
	testcity.Sees(t, e.do(req{method: "POST", target: "/users", form: good(), as: e.officer}), 403, nil, nil)

	w := e.do(req{method: "POST", target: "/users", form: good(), as: e.admin})
	if w.Code != 303 || w.Header().Get("Location") != "/users/wangwu" {
		t.Fatalf("create: %d %q %s", w.Code, w.Header().Get("Location"), w.Body.String())
	}
	testcity.Sees(t, e.do(req{target: "/users/wangwu", as: e.admin, cookies: []*http.Cookie{cookie(w, "flash")}}), 200,
		[]string{"用户已创建", "王五", `社区工作者 · 大园社区 <span class="code">430203001001</span>`}, nil)
}

func TestUserPage(t *testing.T) {
	e := newPageEnv(t)
	ctx := context.Background()
	if _, _, err := e.h.auth.CreateToken(ctx, e.admin, "lisi", "数据同步"); err != nil {
		t.Fatal(err)
	}
	testcity.Sees(t, e.do(req{target: "/users/lisi", as: e.admin}), 200,
		[]string{"<h1>李四</h1>", "138****5678", `区县干部 · 芦淞区 <span class="code">430203</span>`, "API 令牌", "数据同步", "有效", "分配角色", "停用账号",
			`action="/users/lisi/roles"`, `action="/users/lisi/status"`}, []string{"txt_"})
	// A district officer reads but does not manage: no forms, no tokens.
	testcity.Sees(t, e.do(req{target: "/users/zhao", as: e.officer}), 200, []string{"赵督查"}, []string{"分配角色", "停用账号", "API 令牌"})
	// One's own page shows one's tokens.
	testcity.Sees(t, e.do(req{target: "/users/lisi", as: e.officer}), 200, []string{"API 令牌", "数据同步"}, []string{"停用账号"})
	// Outside the scope is not found.
	testcity.Sees(t, e.do(req{target: "/users/admin", as: e.officer}), 404, []string{"页面不存在", "用户不存在"}, []string{"王管理"})
	testcity.Sees(t, e.do(req{target: "/users/nobody", as: e.admin}), 404, []string{"用户不存在"}, nil)
}

func TestAddRoleAndStatus(t *testing.T) {
	e := newPageEnv(t)
	post := func(target string, form url.Values, p *auth.Principal) *httptest.ResponseRecorder {
		return e.do(req{method: "POST", target: target, form: form, as: p})
	}
	testcity.Sees(t, post("/users/lisi/roles", url.Values{"role": {"nope"}, "scope": {"430203"}}, e.admin), 400, []string{"角色 &#34;nope&#34; 不存在", "<h1>李四</h1>"}, nil)
	testcity.Sees(t, post("/users/lisi/roles", url.Values{"role": {"district_officer"}, "scope": {"430203"}}, e.admin), 409, []string{"已有角色"}, nil)
	testcity.Sees(t, post("/users/lisi/roles", url.Values{"role": {"inspector"}, "scope": {"430203"}}, e.officer), 403, nil, nil)
	testcity.Sees(t, post("/users/admin/roles", url.Values{"role": {"inspector"}, "scope": {"430203"}}, e.officer), 403, nil, nil)
	testcity.Sees(t, post("/users/zhao/status", url.Values{"active": {"false"}}, e.officer), 403, nil, nil)
	testcity.Sees(t, post("/users/nobody/roles", url.Values{"role": {"inspector"}, "scope": {"430203"}}, e.admin), 404, nil, nil)
	w := post("/users/lisi/roles", url.Values{"role": {"inspector"}, "scope": {"430203"}}, e.admin)
	if w.Code != 303 || w.Header().Get("Location") != "/users/lisi" {
		t.Fatalf("add role: %d %s", w.Code, w.Body.String())
	}
	testcity.Sees(t, e.do(req{target: "/users/lisi", as: e.admin}), 200, []string{`督查人员 · 芦淞区 <span class="code">430203</span>`}, nil)

	testcity.Sees(t, post("/users/lisi/status", url.Values{"active": {"maybe"}}, e.admin), 400, []string{"active 须为 true 或 false"}, nil)
	testcity.Sees(t, post("/users/admin/status", url.Values{"active": {"false"}}, e.admin), 409, []string{"不能停用自己的账号"}, nil)
	w = post("/users/lisi/status", url.Values{"active": {"false"}}, e.admin)
	if w.Code != 303 {
		t.Fatalf("disable: %d %s", w.Code, w.Body.String())
	}
	testcity.Sees(t, e.do(req{target: "/users/lisi", as: e.admin, cookies: []*http.Cookie{cookie(w, "flash")}}), 200,
		[]string{"账号已停用", `class="badge disabled"`, "启用账号"}, []string{">停用账号<"})
	w = post("/users/lisi/status", url.Values{"active": {"true"}}, e.admin)
	if w.Code != 303 {
		t.Fatalf("enable: %d", w.Code)
	}
	testcity.Sees(t, e.do(req{target: "/users/lisi", as: e.admin}), 200, []string{`class="badge active"`, "停用账号"}, nil)
}

func TestAuditPage(t *testing.T) {
	e := newPageEnv(t)
	testcity.Sees(t, e.do(req{target: "/audit", as: e.admin}), 200,
		[]string{"<h1>审计日志</h1>", "新建用户", "分配角色", "system", "登录"}, nil)
	hash := regexp.MustCompile(`<td class="mono" data-label="哈希" title="([0-9a-f]{64})">([0-9a-f]{8})</td>`).FindStringSubmatch(e.do(req{target: "/audit", as: e.admin}).Body.String())
	if hash == nil || hash[1][:8] != hash[2] {
		t.Fatal("short hash not shown")
	}
	testcity.Sees(t, e.do(req{target: "/audit?object_type=user&actor=lisi", as: e.admin}), 200, []string{"lisi"}, []string{`<td data-label="操作人">system</td>`})
	// Actions and kinds of object by name, their codes in small type; the
	// filters offer every named code.
	testcity.Sees(t, e.do(req{target: "/audit", as: e.admin}), 200, []string{
		`新建用户 <span class="code">user.create</span>`, `用户 lisi <span class="code">user</span>`,
		`<option value="traffic.notice.publish">发布交通管制通告</option>`, `<option value="pass_batch">通行证申请</option>`,
	}, nil)
	// A filter may name the action or the kind in Chinese or English.
	for _, q := range []string{"action=user.role.add", "action=分配角色", "action=+role+ASSIGNED+"} {
		testcity.Sees(t, e.do(req{target: "/audit?" + q, as: e.admin}), 200,
			[]string{`分配角色 <span class="code">user.role.add</span>`, `<option value="user.role.add" selected>分配角色</option>`},
			[]string{`<span class="code">user.create</span>`, `<span class="code">session.login</span>`})
	}
	testcity.Sees(t, e.do(req{target: "/audit?object_type=" + url.QueryEscape("用户"), as: e.admin}), 200,
		[]string{`<span class="code">user.create</span>`, `<option value="user" selected>用户</option>`}, []string{`<span class="code">area</span>`})
	testcity.Sees(t, e.do(req{target: "/audit?object_type=" + url.QueryEscape("区划"), as: e.admin, lang: web.LangEN}), 200,
		[]string{`<option value="area" selected>Area</option>`}, []string{`<span class="code">user</span>`})
	// A name nobody uses finds nothing, and says so.
	testcity.Sees(t, e.do(req{target: "/audit?action=" + url.QueryEscape("不存在的操作"), as: e.admin}), 200,
		[]string{"没有符合条件的记录", `<option value="不存在的操作" selected>不存在的操作</option>`}, nil)
	// The district inspector sees the rows of its district only.
	testcity.Sees(t, e.do(req{target: "/audit", as: e.inspect}), 200,
		[]string{"范围 430203"}, []string{"范围 430200", "范围 430204001002"})
	testcity.Sees(t, e.do(req{target: "/audit", as: e.officer}), 403, []string{"没有权限"}, nil)
	testcity.Sees(t, e.do(req{target: "/audit?before=x", as: e.admin}), 400, []string{"before"}, nil)
	testcity.Sees(t, e.do(req{target: "/audit", as: e.admin, lang: web.LangEN}), 200, []string{"Audit log", "User created"}, []string{"审计日志"})
}

func TestAuditPaging(t *testing.T) {
	e := newPageEnv(t)
	ctx := context.Background()
	for range auditPerPage {
		if _, _, err := e.h.auth.Login(ctx, "admin", pw, "192.0.2.2"); err != nil {
			t.Fatal(err)
		}
	}
	w := e.do(req{target: "/audit", as: e.admin})
	next := regexp.MustCompile(`href="/audit\?before=(\d+)"`).FindStringSubmatch(w.Body.String())
	if next == nil {
		t.Fatalf("no older link")
	}
	w = e.do(req{target: "/audit?before=" + next[1], as: e.admin})
	testcity.Sees(t, w, 200, []string{"新建用户"}, nil)
	if strings.Contains(w.Body.String(), `<td class="mono">`+next[1]+`</td>`) {
		t.Error("the cursor row is repeated on the older page")
	}
}

func TestLanguageSwitch(t *testing.T) {
	e := newPageEnv(t)
	w := e.do(req{method: "POST", target: "/lang", form: url.Values{"lang": {"en"}, "next": {"/users"}}, as: e.admin})
	if w.Code != 303 || w.Header().Get("Location") != "/users" {
		t.Fatalf("switch: %d %q", w.Code, w.Header().Get("Location"))
	}
	testcity.Sees(t, e.do(req{target: "/users", as: e.admin, cookies: []*http.Cookie{cookie(w, web.LangCookie)}}), 200,
		[]string{`<html lang="en">`, "New user", "中文"}, []string{"新建用户"})
	testcity.Sees(t, e.do(req{target: "/users", as: e.admin}), 200, []string{`<html lang="zh-CN">`, "新建用户", "English"}, nil)
}

func TestRemoveRolePage(t *testing.T) {
	e := newPageEnv(t)
	ctx := context.Background()
	post := func(target string, form url.Values, p *auth.Principal) *httptest.ResponseRecorder {
		return e.do(req{method: "POST", target: target, form: form, as: p})
	}
	// One role: no button, and the last role stays.
	testcity.Sees(t, e.do(req{target: "/users/lisi", as: e.admin}), 200, nil, []string{`action="/users/lisi/roles/remove"`})
	testcity.Sees(t, post("/users/lisi/roles/remove", url.Values{"role": {"district_officer"}, "scope": {"430203"}}, e.admin), 409,
		[]string{"不能移除用户的最后一个角色", "<h1>李四</h1>"}, nil)
	if _, err := e.h.auth.AddRole(ctx, e.admin, "lisi", auth.RoleInput{Role: "inspector", Scope: "430203"}); err != nil {
		t.Fatal(err)
	}
	testcity.Sees(t, e.do(req{target: "/users/lisi", as: e.admin}), 200,
		[]string{`action="/users/lisi/roles/remove"`, `name="role" value="inspector"`, `name="scope" value="430203"`, ">移除<"}, nil)
	testcity.Sees(t, post("/users/lisi/roles/remove", url.Values{"role": {"inspector"}, "scope": {"430203"}}, e.officer), 403, nil, nil)
	testcity.Sees(t, post("/users/lisi/roles/remove", url.Values{"role": {"volunteer"}, "scope": {"430203"}}, e.admin), 404, []string{"没有角色"}, nil)
	w := post("/users/lisi/roles/remove", url.Values{"role": {"inspector"}, "scope": {"430203"}}, e.admin)
	if w.Code != 303 || w.Header().Get("Location") != "/users/lisi" {
		t.Fatalf("remove: %d %s", w.Code, w.Body.String())
	}
	testcity.Sees(t, e.do(req{target: "/users/lisi", as: e.admin, cookies: []*http.Cookie{cookie(w, "flash")}}), 200,
		[]string{"角色已移除", `区县干部 · 芦淞区 <span class="code">430203</span>`}, []string{"督查人员 · 芦淞区"})

	// An admin of 芦淞区 cannot touch a user who also holds a city-wide role:
	// no manage forms on the page, and the posts are refused.
	if _, err := e.h.auth.CreateUser(ctx, auth.System(), auth.NewUser{Username: "lsadmin", DisplayName: "区管理员", Password: pw,
		Roles: []auth.RoleInput{{Role: "system_admin", Scope: "430203"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.h.auth.AddRole(ctx, auth.System(), "lisi", auth.RoleInput{Role: "hq_commander", Scope: "430200"}); err != nil {
		t.Fatal(err)
	}
	_, lsadmin, err := e.h.auth.Login(ctx, "lsadmin", pw, "192.0.2.9")
	if err != nil {
		t.Fatal(err)
	}
	testcity.Sees(t, e.do(req{target: "/users/lisi", as: lsadmin}), 200, []string{"<h1>李四</h1>"},
		[]string{`/roles/remove"`, `action="/users/lisi/status"`, `action="/users/lisi/password"`, "API 令牌"})
	testcity.Sees(t, post("/users/lisi/roles/remove", url.Values{"role": {"district_officer"}, "scope": {"430203"}}, lsadmin), 403,
		[]string{"管理范围以外"}, nil)
	testcity.Sees(t, post("/users/lisi/password", url.Values{"password": {"Attacker-Pass-2022"}}, lsadmin), 403, []string{"管理范围以外"}, nil)
	testcity.Sees(t, post("/users/lisi/status", url.Values{"active": {"false"}}, lsadmin), 403, []string{"管理范围以外"}, nil)
	testcity.Sees(t, post("/users/lisi/roles", url.Values{"role": {"street_officer"}, "scope": {"430203001"}}, lsadmin), 403, []string{"管理范围以外"}, nil)
}

func TestPasswordPage(t *testing.T) {
	e := newPageEnv(t)
	ctx := context.Background()
	// A volunteer, without user.read, reaches their own page and changes
	// their password there; this session stays, the others end.
	login := func() *http.Cookie {
		w := e.browse(req{method: "POST", target: "/login", form: url.Values{"username": {"xiaowang"}, "password": {pw}}})
		if w.Code != 303 {
			t.Fatalf("login: %d", w.Code)
		}
		return cookie(w, web.CookieName)
	}
	here, there := login(), login()
	secret, _, err := e.h.auth.CreateToken(ctx, auth.System(), "xiaowang", "x")
	if err != nil {
		t.Fatal(err)
	}
	testcity.Sees(t, e.browse(req{target: "/", cookies: []*http.Cookie{here}}), 200, []string{`href="/users/xiaowang#password"`}, nil)
	testcity.Sees(t, e.browse(req{target: "/users/xiaowang", cookies: []*http.Cookie{here}}), 200,
		[]string{`action="/users/xiaowang/password"`, `name="current_password"`, "修改密码"}, []string{"重置密码"})
	change := func(current, next string) *httptest.ResponseRecorder {
		return e.browse(req{method: "POST", target: "/users/xiaowang/password", cookies: []*http.Cookie{here},
			form: url.Values{"current_password": {current}, "password": {next}}})
	}
	testcity.Sees(t, change("not-my-password", "Brand-New-Pass-77"), 400, []string{"当前密码不正确", `aria-invalid="true"`}, nil)
	testcity.Sees(t, change(pw, "1qaz2wsx3edc"), 400, []string{"过于常见"}, []string{"1qaz2wsx3edc"})
	testcity.Sees(t, change(pw, "xiaowang-2022!"), 400, []string{"不能包含用户名"}, nil)
	w := change(pw, "Brand-New-Pass-77")
	if w.Code != 303 || w.Header().Get("Location") != "/users/xiaowang" {
		t.Fatalf("change: %d %s", w.Code, w.Body.String())
	}
	testcity.Sees(t, e.browse(req{target: "/users/xiaowang", cookies: []*http.Cookie{here, cookie(w, "flash")}}), 200, []string{"密码已修改"}, nil)
	if w := e.browse(req{target: "/", cookies: []*http.Cookie{there}}); w.Code != 303 {
		t.Fatalf("the other session still works: %d", w.Code)
	}
	if _, err := e.h.auth.TokenPrincipal(ctx, secret); err == nil {
		t.Fatal("an API token outlived the password change")
	}

	// An admin resets another's password: a reset form, no current password.
	testcity.Sees(t, e.do(req{target: "/users/lisi", as: e.admin}), 200, []string{`action="/users/lisi/password"`, "重置密码"}, []string{`name="current_password"`})
	testcity.Sees(t, e.do(req{method: "POST", target: "/users/lisi/password", form: url.Values{"password": {"short"}}, as: e.admin}), 400,
		[]string{"密码至少 10 个字符"}, nil)
	testcity.Sees(t, e.do(req{method: "POST", target: "/users/lisi/password", form: url.Values{"password": {"New-Fourth-Pass-9"}}, as: e.officer}), 400,
		[]string{"当前密码不正确"}, nil)
	testcity.Sees(t, e.do(req{method: "POST", target: "/users/zhao/password", form: url.Values{"password": {"New-Fifth-Pass-9"}}, as: e.officer}), 403, nil, nil)
	w = e.do(req{method: "POST", target: "/users/lisi/password", form: url.Values{"password": {"New-Fourth-Pass-9"}}, as: e.admin})
	if w.Code != 303 {
		t.Fatalf("reset: %d %s", w.Code, w.Body.String())
	}
	if _, _, err := e.h.auth.Login(ctx, "lisi", "New-Fourth-Pass-9", "192.0.2.3"); err != nil {
		t.Fatal(err)
	}
}
