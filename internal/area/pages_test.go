package area_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"tongxin/internal/area"
	"tongxin/internal/auth"
	"tongxin/internal/db/dbtest"
	"tongxin/internal/testcity"
	"tongxin/internal/web"
)

type pagesEnv struct {
	t   *testing.T
	mux *http.ServeMux
}

func newPagesEnv(t *testing.T) *pagesEnv {
	t.Helper()
	svc := seedDemo(t, dbtest.Open(t, "sqlite", nil))
	site := testcity.NewSite(t, nil, area.Templates)
	pg := area.NewPages(svc, site.Render, nil)
	site.Mount(map[string]web.Handler{
		"GET /areas":                 pg.Tree,
		"GET /areas/{code}":          pg.Node,
		"GET /areas/{code}/children": pg.ChildrenFragment,
	})
	return &pagesEnv{t: t, mux: site.Mux}
}

func areaPrincipal(role auth.Role, code, name, path string) *auth.Principal {
	return &auth.Principal{UserID: 9, Username: string(role), DisplayName: name + "用户", Assignments: []auth.Assignment{{
		Role: role, Scope: auth.Scope{Kind: auth.ScopeArea, Ref: code, Name: name, Path: path},
	}}}
}

var (
	cityAdmin = areaPrincipal(auth.SystemAdmin, "430200", "株洲市", "/430200/")
	lusong    = areaPrincipal(auth.DistrictOfficer, "430203", "芦淞区", "/430200/430203/")
	helper    = areaPrincipal(auth.Volunteer, "430203001001", "大园社区", "/430200/430203/430203001/430203001001/")
)

func (e *pagesEnv) get(target string, p *auth.Principal, lang string, htmx bool) *httptest.ResponseRecorder {
	q := testcity.Request{Target: target, As: p, Lang: lang}
	if htmx {
		q.Header = map[string]string{"HX-Request": "true"}
	}
	return testcity.Serve(e.mux, q)
}

func TestTreePage(t *testing.T) {
	e := newPagesEnv(t)
	testcity.Sees(t, e.get("/areas", cityAdmin, "", false), 200, []string{
		"<h1>行政区划</h1>", `<a href="/areas/430200">株洲市</a>`, "9 个下级",
		`hx-get="/areas/430200/children"`, `hx-trigger="toggle once"`,
		// Without JavaScript the open node offers its page.
		`<a href="/areas/430200">下级区划 (9) →</a>`,
	}, nil)
	// A district officer's tree starts at the district.
	testcity.Sees(t, e.get("/areas", lusong, "", false), 200, []string{`<a href="/areas/430203">芦淞区</a>`, "区县"}, []string{"株洲市", "荷塘区"})
	testcity.Sees(t, e.get("/areas", cityAdmin, web.LangEN, false), 200, []string{"<h1>Areas</h1>", "City", "9 sub-areas"}, []string{"行政区划"})
	testcity.Sees(t, e.get("/areas", helper, "", false), 403, []string{"没有权限"}, []string{"株洲市"})
	testcity.Sees(t, e.get("/areas", nil, "", false), 401, []string{`href="/login?next=%2Fareas"`}, nil)
}

func TestTreeSearch(t *testing.T) {
	e := newPagesEnv(t)
	testcity.Sees(t, e.get("/areas?q=%E5%A4%A7%E5%9B%AD", cityAdmin, "", false), 200,
		[]string{"搜索结果", `<a href="/areas/430203001001">大园社区</a>`, "社区村", `value="大园"`}, []string{"hx-get"})
	testcity.Sees(t, e.get("/areas?q=4302", lusong, "", false), 200, []string{"芦淞区", "建设街道"}, []string{"荷塘区", "株洲市"})
	testcity.Sees(t, e.get("/areas?q=%3Cscript%3E", cityAdmin, "", false), 200, []string{"没有与“&lt;script&gt;”匹配的区划"}, []string{"<script>"})
	testcity.Sees(t, e.get("/areas?q="+strings.Repeat("a", 101), cityAdmin, "", false), 400, []string{"搜索词不能超过 100 个字符"}, nil)
}

func TestNodePage(t *testing.T) {
	e := newPagesEnv(t)
	testcity.Sees(t, e.get("/areas/430203001", cityAdmin, "", false), 200, []string{
		"<title>建设街道 · 同心</title>",
		`<li><a href="/areas">行政区划</a></li>`, `<li><a href="/areas/430200">株洲市</a></li>`,
		`<li><a href="/areas/430203">芦淞区</a></li>`, `<li aria-current="page">建设街道</li>`,
		"<dd>街道</dd>", `<dd class="mono">430203001</dd>`, `<a href="/areas/430203">芦淞区</a> <span class="mono muted">430203</span>`,
		`<a href="/areas/430203001001">大园社区</a>`, `hx-get="/areas/430203001001/children"`, "古大桥社区",
	}, nil)
	// The officer's breadcrumb starts inside the officer's scope.
	testcity.Sees(t, e.get("/areas/430203001", lusong, "", false), 200, []string{`<li><a href="/areas/430203">芦淞区</a></li>`}, []string{"株洲市"})
	testcity.Sees(t, e.get("/areas/430202", lusong, "", false), 404, []string{"区划不存在"}, []string{"荷塘区"})
	testcity.Sees(t, e.get("/areas/999999", cityAdmin, "", false), 404, []string{"区划不存在"}, nil)
	testcity.Sees(t, e.get("/areas/430203001001001", cityAdmin, "", false), 200, []string{"庐山春天网格", "<dd>网格</dd>", "没有下级区划"}, nil)
	testcity.Sees(t, e.get("/areas/430203001", cityAdmin, web.LangEN, false), 200, []string{"<dd>Street</dd>", "Sub-areas", "Parent"}, []string{"下级区划"})
}

func TestChildrenFragment(t *testing.T) {
	e := newPagesEnv(t)
	w := e.get("/areas/430203/children", cityAdmin, "", true)
	testcity.Sees(t, w, 200, []string{`<a href="/areas/430203001">建设街道</a>`, `hx-get="/areas/430203001/children"`, "庆云街道"}, []string{"<html", "<main", "石峰区"})
	testcity.Sees(t, e.get("/areas/430203001001001/children", cityAdmin, "", true), 200, []string{"没有下级区划"}, []string{"<html"})
	testcity.Sees(t, e.get("/areas/430202/children", lusong, "", true), 404, []string{"区划不存在"}, []string{"<html"})
	// Opened without htmx, the address leads to the area's page.
	w = e.get("/areas/430203/children", cityAdmin, "", false)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/areas/430203" {
		t.Fatalf("without htmx: %d %q", w.Code, w.Header().Get("Location"))
	}
}
