package area_test

import (
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"tongxin/internal/area"
	"tongxin/internal/auth"
	"tongxin/internal/db/dbtest"
	"tongxin/internal/testcity"
	"tongxin/internal/web"
)

// orgPages mounts the pages of departments and work groups on the demo
// city.
func orgPages(t *testing.T) (*area.Service, http.Handler) {
	t.Helper()
	svc := seedDemo(t, dbtest.Open(t, "sqlite", nil))
	site := testcity.NewSite(t, nil, area.Templates)
	pg := area.NewPages(svc, site.Render, nil)
	site.Mount(map[string]web.Handler{
		"GET /departments":         pg.Departments,
		"POST /departments":        pg.DepartmentCreate,
		"GET /departments/{code}":  pg.DepartmentEdit,
		"POST /departments/{code}": pg.DepartmentUpdate,
		"GET /workgroups":          pg.Workgroups,
		"POST /workgroups":         pg.WorkgroupCreate,
		"GET /workgroups/{code}":   pg.WorkgroupEdit,
		"POST /workgroups/{code}":  pg.WorkgroupUpdate,
	})
	return svc, site.Mux
}

func groupCaps(t *testing.T, svc *area.Service, code string) []auth.Capability {
	t.Helper()
	gs, err := svc.Workgroups(ctx, auth.System())
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range gs {
		if g.Code == code {
			return g.Capabilities
		}
	}
	t.Fatalf("no work group %s", code)
	return nil
}

// The lists show each body's capabilities; the forms of both kinds offer
// all three as checkboxes, ticked as stored, and save what is ticked
// (nothing ticked withdraws them all). A reader sees the list without
// forms and may not open one.
func TestOrgPages(t *testing.T) {
	svc, h := orgPages(t)
	testcity.Sees(t, testcity.Serve(h, testcity.Request{Target: "/workgroups", As: cityAdmin}), 200, []string{
		"<h1>工作组</h1>", `<a href="/workgroups/testing">全员核酸检测组</a>`, "管理全员核酸检测",
		`<form class="stack" method="post" action="/workgroups">`,
		`name="capabilities" value="pass_review"`, `name="capabilities" value="resumption_manage"`, `name="capabilities" value="testing_manage"`,
	}, nil)
	testcity.Sees(t, testcity.Serve(h, testcity.Request{Target: "/workgroups", As: cityAdmin, Lang: "en"}), 200, []string{
		"<h1>Work groups</h1>", "Manage mass testing", "New work group",
	}, nil)
	testcity.Sees(t, testcity.Serve(h, testcity.Request{Target: "/departments", As: cityAdmin}), 200, []string{
		"<h1>部门</h1>", "审核通行证、管理复工复产企业名录",
		`name="capabilities" value="testing_manage"`,
	}, nil)
	testcity.Sees(t, testcity.Serve(h, testcity.Request{Target: "/workgroups/testing", As: cityAdmin}), 200, []string{
		`action="/workgroups/testing"`, `value="testing_manage" checked`, `value="组织全员核酸检测的轮次、采样点和上门采样，确保不漏一户、不漏一人"`,
	}, []string{`value="pass_review" checked`})
	testcity.Sees(t, testcity.Serve(h, testcity.Request{Target: "/departments/gxj", As: cityAdmin}), 200, []string{
		`value="pass_review" checked`, `value="resumption_manage" checked`,
	}, []string{`value="testing_manage" checked`})

	// Saved with two ticked, then with none.
	post := func(target string, form url.Values) *testcityAnswer {
		w := testcity.Serve(h, testcity.Request{Method: "POST", Target: target, As: cityAdmin, Form: form})
		return &testcityAnswer{w.Code, w.Header().Get("Location"), w.Body.String()}
	}
	traffic := url.Values{"name": {"交通管控组"}, "area_code": {"430200"}, "remit": {"卡口"},
		"capabilities": {"testing_manage", "pass_review"}}
	if a := post("/workgroups/traffic", traffic); a.status != 303 || a.location != "/workgroups" {
		t.Fatalf("save: %+v", a)
	}
	if c := groupCaps(t, svc, "traffic"); !reflect.DeepEqual(c, []auth.Capability{auth.CapPassReview, auth.CapTestingManage}) {
		t.Fatalf("after the save: %v", c)
	}
	traffic.Del("capabilities")
	if a := post("/workgroups/traffic", traffic); a.status != 303 {
		t.Fatalf("save with none: %+v", a)
	}
	if c := groupCaps(t, svc, "traffic"); len(c) != 0 {
		t.Fatalf("after none ticked: %v", c)
	}
	// A new group with a capability; an unknown one shows the form again.
	a := post("/workgroups", url.Values{"code": {"ls_testing"}, "name": {"芦淞区核酸检测组"}, "area_code": {"430203"},
		"capabilities": {"testing_manage"}})
	if a.status != 303 || !reflect.DeepEqual(groupCaps(t, svc, "ls_testing"), []auth.Capability{auth.CapTestingManage}) {
		t.Fatalf("create: %+v", a)
	}
	a = post("/workgroups/ls_testing", url.Values{"name": {"芦淞区核酸检测组"}, "area_code": {"430203"}, "capabilities": {"superuser"}})
	if a.status != 400 || !strings.Contains(a.body, "未知的工作组职能“superuser”") || !strings.Contains(a.body, `action="/workgroups/ls_testing"`) {
		t.Fatalf("unknown capability: %d %s", a.status, a.body)
	}
	// A district officer reads the lists, without forms or links to them.
	testcity.Sees(t, testcity.Serve(h, testcity.Request{Target: "/workgroups", As: lusong}), 200, []string{"芦淞区核酸检测组"},
		[]string{`action="/workgroups"`, `href="/workgroups/ls_testing"`, `name="capabilities"`})
	if w := testcity.Serve(h, testcity.Request{Target: "/workgroups/ls_testing", As: lusong}); w.Code != 403 {
		t.Fatalf("a district officer's form: %d", w.Code)
	}
	if w := testcity.Serve(h, testcity.Request{Target: "/workgroups/nope", As: cityAdmin}); w.Code != 404 {
		t.Fatalf("no such group: %d", w.Code)
	}
}

type testcityAnswer struct {
	status         int
	location, body string
}
