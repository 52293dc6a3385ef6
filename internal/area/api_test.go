package area_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"tongxin/internal/area"
	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/db/dbtest"
	"tongxin/internal/testcity"
	"tongxin/internal/web"
)

// routes mounts the API as the lead does.
func routes(api *area.API) http.Handler {
	return testcity.API(map[string]web.Handler{
		"GET /api/v1/areas":                 api.List,
		"GET /api/v1/areas/{code}":          api.Get,
		"GET /api/v1/areas/{code}/children": api.Children,
		"POST /api/v1/areas/import":         api.Import,
		"GET /api/v1/areas/import/template": api.Template,
		"GET /api/v1/departments":           api.Departments,
		"POST /api/v1/departments":          api.CreateDepartment,
		"PUT /api/v1/departments/{code}":    api.UpdateDepartment,
		"GET /api/v1/workgroups":            api.Workgroups,
		"POST /api/v1/workgroups":           api.CreateWorkgroup,
		"PUT /api/v1/workgroups/{code}":     api.UpdateWorkgroup,
	})
}

func TestAPI(t *testing.T) {
	dbtest.Each(t, testClock(), func(t *testing.T, d *db.DB) {
		svc := seedDemo(t, d)
		h := routes(area.NewAPI(svc))
		sys := auth.System()
		worker := principal(t, svc, auth.CommunityWorker, "430203001001")
		officer := principal(t, svc, auth.DistrictOfficer, "430203")
		form, formType := testcity.Multipart(t, "file", "areas.csv", csvFile("编码,名称,上级编码", "430203001007,表单社区,430203001"))
		noFile, noFileType := testcity.Multipart(t, "upload", "areas.csv", csvFile("编码,名称", "430200,株洲市"))

		cases := []struct {
			name         string
			p            *auth.Principal
			method, path string
			ctype        string
			body         []byte
			status       int
			code         string // problem code, for errors
			items        int    // -1: no check
			check        func(t *testing.T, a testcity.Answer)
		}{
			{name: "roots of a community worker", p: worker, method: "GET", path: "/api/v1/areas", status: 200, items: 1,
				check: func(t *testing.T, a testcity.Answer) {
					first := a.JSON["items"].([]any)[0].(map[string]any)
					if first["code"] != "430203001001" || first["level"] != "community" || first["child_count"] != 2.0 || first["parent_code"] != "430203001" {
						t.Errorf("item = %v", first)
					}
					if _, leaked := first["path"]; leaked {
						t.Error("path must not be in the JSON")
					}
				}},
			{name: "search of a district officer", p: officer, method: "GET", path: "/api/v1/areas?q=%E8%A1%97%E9%81%93", status: 200, items: 3},
			{name: "search with a bad limit", p: officer, method: "GET", path: "/api/v1/areas?q=4302&limit=0", status: 400, code: "bad_limit"},
			{name: "node with children", p: worker, method: "GET", path: "/api/v1/areas/430203001001", status: 200, items: -1,
				check: func(t *testing.T, a testcity.Answer) {
					if a.JSON["name"] != "大园社区" || len(a.JSON["children"].([]any)) != 2 {
						t.Errorf("body = %s", a.Body)
					}
				}},
			{name: "node outside scope", p: worker, method: "GET", path: "/api/v1/areas/430203001002", status: 404, code: "area_not_found"},
			{name: "children outside scope", p: worker, method: "GET", path: "/api/v1/areas/430203001/children", status: 404, code: "area_not_found"},
			{name: "children", p: officer, method: "GET", path: "/api/v1/areas/430203/children", status: 200, items: 3},
			{name: "no principal", method: "GET", path: "/api/v1/areas", status: 401, code: "unauthenticated"},
			{name: "no read permission", p: &auth.Principal{Username: "v", Assignments: []auth.Assignment{{Role: auth.Volunteer}}},
				method: "GET", path: "/api/v1/areas", status: 403, code: "forbidden"},
			{name: "import as JSON", p: sys, method: "POST", path: "/api/v1/areas/import", ctype: "application/json",
				body: []byte(`{"code":"430200"}`), status: 415, code: "unsupported_media_type"},
			{name: "import garbage", p: sys, method: "POST", path: "/api/v1/areas/import", ctype: "application/octet-stream",
				body: []byte("PK\x03\x04\x00\x01garbage"), status: 400, code: "import_unreadable"},
			{name: "import empty", p: sys, method: "POST", path: "/api/v1/areas/import", ctype: "text/csv", status: 400, code: "import_empty"},
			{name: "import bad rows", p: sys, method: "POST", path: "/api/v1/areas/import", ctype: "text/csv",
				body:   csvFile("编码,名称,上级编码", "430203001005,好社区,430203001", "430203001006,坏社区,430299"),
				status: 400, code: "import_rejected", items: -1,
				check: func(t *testing.T, a testcity.Answer) {
					list := a.JSON["errors"].([]any)
					e := list[0].(map[string]any)
					if len(list) != 1 || e["row"] != 3.0 || e["column"] != "上级编码" || !strings.Contains(e["message"].(string), "430299") {
						t.Errorf("errors = %v", list)
					}
				}},
			{name: "import by a district officer", p: officer, method: "POST", path: "/api/v1/areas/import", ctype: "text/csv",
				body: csvFile("编码,名称,上级编码", "430203001005,好社区,430203001"), status: 403, code: "forbidden"},
			{name: "import good file", p: sys, method: "POST", path: "/api/v1/areas/import", ctype: "text/csv; charset=utf-8",
				body: csvFile("编码,名称,上级编码", "430203001005,好社区,430203001", "430203001,建设街道,430203"), status: 200, items: -1,
				check: func(t *testing.T, a testcity.Answer) {
					want := `{"accepted":2,"rejected":0,"created":1,"updated":0,"errors":[],"ignored_columns":[]}`
					if strings.TrimSpace(string(a.Body)) != want {
						t.Errorf("body = %s, want %s", a.Body, want)
					}
				}},
			{name: "import as a form", p: sys, method: "POST", path: "/api/v1/areas/import", ctype: formType, body: form, status: 200, items: -1},
			{name: "import form without file", p: sys, method: "POST", path: "/api/v1/areas/import", ctype: noFileType, body: noFile,
				status: 400, code: "import_no_file"},
			{name: "CSV template", p: officer, method: "GET", path: "/api/v1/areas/import/template?format=csv", status: 200, items: -1,
				check: func(t *testing.T, a testcity.Answer) {
					if !strings.HasPrefix(a.Header.Get("Content-Disposition"), "attachment") ||
						!bytes.HasPrefix(a.Body, []byte("\ufeff编码,名称,上级编码,层级")) {
						t.Errorf("headers %v body %q", a.Header, a.Body)
					}
				}},
			{name: "XLSX template", p: officer, method: "GET", path: "/api/v1/areas/import/template", status: 200, items: -1,
				check: func(t *testing.T, a testcity.Answer) {
					if !strings.Contains(a.Header.Get("Content-Disposition"), "areas-template.xlsx") || !bytes.HasPrefix(a.Body, []byte("PK")) {
						t.Errorf("headers %v", a.Header)
					}
				}},
			{name: "template in an unknown format", p: officer, method: "GET", path: "/api/v1/areas/import/template?format=pdf", status: 400, code: "template_format"},
			{name: "departments of a district officer", p: officer, method: "GET", path: "/api/v1/departments", status: 200, items: 1},
			{name: "create department", p: sys, method: "POST", path: "/api/v1/departments", ctype: "application/json",
				body: []byte(`{"code":"ls_gxj","name":"芦淞区工信局","area_code":"430203"}`), status: 201, items: -1,
				check: func(t *testing.T, a testcity.Answer) {
					if a.JSON["code"] != "ls_gxj" || a.JSON["area_code"] != "430203" {
						t.Errorf("body = %s", a.Body)
					}
				}},
			{name: "create a taken department", p: sys, method: "POST", path: "/api/v1/departments", ctype: "application/json",
				body: []byte(`{"code":"wjw","name":"市卫健委","area_code":"430200"}`), status: 409, code: "department_exists"},
			{name: "department with an unknown field", p: sys, method: "POST", path: "/api/v1/departments", ctype: "application/json",
				body: []byte(`{"code":"x2","name":"局","area_code":"430200","boss":"me"}`), status: 400, code: "unknown_field"},
			{name: "department as a form", p: sys, method: "POST", path: "/api/v1/departments", ctype: "application/x-www-form-urlencoded",
				body: []byte(`code=x2`), status: 415, code: "unsupported_media_type"},
			{name: "invalid department", p: sys, method: "POST", path: "/api/v1/departments", ctype: "application/json",
				body: []byte(`{"code":"X","name":"","area_code":"430200"}`), status: 400, code: "invalid_department", items: -1,
				check: func(t *testing.T, a testcity.Answer) {
					if len(a.JSON["errors"].([]any)) != 2 {
						t.Errorf("errors = %v", a.JSON["errors"])
					}
				}},
			{name: "department by a district officer", p: officer, method: "POST", path: "/api/v1/departments", ctype: "application/json",
				body: []byte(`{"code":"ls_x","name":"局","area_code":"430203"}`), status: 403, code: "forbidden"},
			{name: "update department", p: sys, method: "PUT", path: "/api/v1/departments/ls_gxj", ctype: "application/json",
				body: []byte(`{"name":"芦淞区工业和信息化局","area_code":"430203"}`), status: 200, items: -1},
			{name: "update department with another code", p: sys, method: "PUT", path: "/api/v1/departments/ls_gxj", ctype: "application/json",
				body: []byte(`{"code":"gxj","name":"局","area_code":"430203"}`), status: 400, code: "code_mismatch"},
			{name: "update a missing department", p: sys, method: "PUT", path: "/api/v1/departments/nope", ctype: "application/json",
				body: []byte(`{"name":"局","area_code":"430203"}`), status: 404, code: "department_not_found"},
			{name: "work groups", p: worker, method: "GET", path: "/api/v1/workgroups", status: 200, items: 0},
			{name: "create work group", p: sys, method: "POST", path: "/api/v1/workgroups", ctype: "application/json",
				body: []byte(`{"code":"ls_testing","name":"芦淞区核酸检测组","area_code":"430203","remit":"区内核酸检测"}`), status: 201, items: -1},
			{name: "update work group", p: sys, method: "PUT", path: "/api/v1/workgroups/testing", ctype: "application/json",
				body: []byte(`{"name":"全员核酸检测组","area_code":"430200","remit":"组织全员核酸检测"}`), status: 200, items: -1},
			{name: "work groups of the system", p: sys, method: "GET", path: "/api/v1/workgroups", status: 200, items: 8},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				a := testcity.Call(t, h, c.p, c.method, c.path, c.ctype, c.body)
				if a.Status != c.status {
					t.Fatalf("status %d, want %d: %s", a.Status, c.status, a.Body)
				}
				if c.code != "" {
					if ct := a.Header.Get("Content-Type"); ct != "application/problem+json" {
						t.Errorf("Content-Type %q", ct)
					}
					if a.JSON["code"] != c.code || a.JSON["status"] != float64(c.status) || a.JSON["detail"] == "" {
						t.Errorf("problem = %s, want code %s", a.Body, c.code)
					}
				}
				if c.code == "" && c.items >= 0 {
					if got := len(a.JSON["items"].([]any)); got != c.items {
						t.Errorf("%d items, want %d: %s", got, c.items, a.Body)
					}
				}
				if c.check != nil {
					c.check(t, a)
				}
			})
		}
	})
}
