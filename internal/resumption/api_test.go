package resumption

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/db/dbtest"
	"tongxin/internal/importer"
	"tongxin/internal/testcity"
	"tongxin/internal/web"
)

// apiRoutes mounts the registry API as the lead does.
func apiRoutes(api *API) http.Handler {
	return testcity.API(map[string]web.Handler{
		"GET /api/v1/enterprises":                              api.List,
		"POST /api/v1/enterprises":                             api.Create,
		"GET /api/v1/enterprises/{key}":                        api.Get,
		"POST /api/v1/enterprises/import":                      api.Import,
		"GET /api/v1/enterprises/import/template":              api.ImportTemplate,
		"POST /api/v1/enterprises/{key}/reports":               api.FileReport,
		"GET /api/v1/enterprises/{key}/reports":                api.Reports,
		"POST /api/v1/resumption/reports/import":               api.ImportReports,
		"GET /api/v1/resumption/reports/import/template":       api.ReportsTemplate,
		"PUT /api/v1/enterprises/{key}/liaisons/{username}":    api.AssignLiaison,
		"DELETE /api/v1/enterprises/{key}/liaisons/{username}": api.UnassignLiaison,
	})
}

func TestAPI(t *testing.T) {
	clk := testClock()
	dbtest.Each(t, clk, func(t *testing.T, d *db.DB) {
		clk.Set(testBase)
		f := newFixture(t, d, clk)
		h := apiRoutes(NewAPI(f.svc))
		sys := f.sys
		mine := f.enterprise("430203001", IndustrialAboveScale)
		other := f.enterprise("430204001")
		contact := f.contact(mine.Key)
		f.liaison("lly9", "430203")
		newKey := f.key("430203")
		badFile := csvFile(enterprisesImportHeader, newKey+",,,甲,430203001,,,,,,", badCheck(f.key("430203"))+",,,乙,430203001,,,,,,")
		form, formType := testcity.Multipart(t, "file", "enterprises.csv", csvFile(enterprisesImportHeader, f.key("430211")+",,,表单企业,430211001,,,,,,"))
		reportsFile := csvFile(reportsImportHeader, mine.Key+",2022-11-19,已复工,80,100,90,,")
		jsonBody := func(v any) []byte { b, _ := json.Marshal(v); return b }
		const jsonType = "application/json"

		cases := []struct {
			name         string
			p            *auth.Principal
			method, path string
			ctype        string
			body         []byte
			status       int
			code         string // problem code
			check        func(t *testing.T, a testcity.Answer)
		}{
			{name: "create", p: sys, method: "POST", path: "/api/v1/enterprises", ctype: jsonType, status: 201,
				body: jsonBody(map[string]any{"key": newKey, "name": "接口企业", "area_code": "430203002", "categories": []string{"规上工业"},
					"contact_phone": "13907330009", "is_key": true}),
				check: func(t *testing.T, a testcity.Answer) {
					if a.JSON["key"] != newKey || a.JSON["contact_phone"] != "139****0009" || a.JSON["area_name"] != "贺家土街道" ||
						len(a.JSON["liaisons"].([]any)) != 0 {
						t.Errorf("created = %v", a.JSON)
					}
					if _, leaked := a.JSON["id"]; leaked {
						t.Error("id in the JSON")
					}
				}},
			{name: "update", p: sys, method: "POST", path: "/api/v1/enterprises", ctype: jsonType, status: 200,
				body: jsonBody(map[string]any{"key": newKey, "name": "接口企业（改）", "area_code": "430203002", "categories": []string{"industrial_above_scale"}})},
			{name: "create with an unknown field", p: sys, method: "POST", path: "/api/v1/enterprises", ctype: jsonType, status: 400,
				code: "unknown_field", body: []byte(`{"key":"x","credit":"y"}`)},
			{name: "create invalid", p: sys, method: "POST", path: "/api/v1/enterprises", ctype: jsonType, status: 400,
				code: "invalid_enterprise", body: jsonBody(map[string]any{"key": badCheck(newKey), "name": "", "area_code": "430203001"}),
				check: func(t *testing.T, a testcity.Answer) {
					if errs := a.JSON["errors"].([]any); len(errs) != 2 || errs[0].(map[string]any)["field"] != "key" {
						t.Errorf("errors = %v", errs)
					}
				}},
			{name: "create forbidden", p: f.officer(auth.StreetOfficer, "430203001"), method: "POST", path: "/api/v1/enterprises",
				ctype: jsonType, body: jsonBody(map[string]any{"key": newKey}), status: 403, code: "forbidden"},
			{name: "no principal", method: "GET", path: "/api/v1/enterprises", status: 401, code: "unauthenticated"},
			{name: "get own", p: contact, method: "GET", path: "/api/v1/enterprises/" + mine.Key, status: 200,
				check: func(t *testing.T, a testcity.Answer) {
					if a.JSON["key"] != mine.Key || a.JSON["categories"].([]any)[0] != "industrial_above_scale" {
						t.Errorf("got %v", a.JSON)
					}
				}},
			{name: "get out of scope", p: contact, method: "GET", path: "/api/v1/enterprises/" + other.Key, status: 404, code: "enterprise_not_found"},
			{name: "list page 1", p: sys, method: "GET", path: "/api/v1/enterprises?kind=enterprise&limit=2", status: 200,
				check: func(t *testing.T, a testcity.Answer) {
					if len(a.JSON["items"].([]any)) != 2 || a.JSON["next_cursor"] == nil {
						t.Fatalf("page = %s", a.Body)
					}
					next := testcity.Call(t, h, sys, "GET", "/api/v1/enterprises?kind=enterprise&limit=2&cursor="+a.JSON["next_cursor"].(string), "", nil)
					if next.Status != 200 || len(next.JSON["items"].([]any)) != 1 || next.JSON["next_cursor"] != nil {
						t.Errorf("page 2 = %s", next.Body)
					}
				}},
			{name: "list filtered", p: sys, method: "GET", path: "/api/v1/enterprises?area=430203&area=430211&category=%E8%A7%84%E4%B8%8A%E5%B7%A5%E4%B8%9A&key_only=false",
				status: 200, check: func(t *testing.T, a testcity.Answer) {
					if items := a.JSON["items"].([]any); len(items) != 2 {
						t.Errorf("items = %s", a.Body)
					}
				}},
			{name: "list of a contact", p: contact, method: "GET", path: "/api/v1/enterprises", status: 200,
				check: func(t *testing.T, a testcity.Answer) {
					if items := a.JSON["items"].([]any); len(items) != 1 || items[0].(map[string]any)["key"] != mine.Key {
						t.Errorf("items = %s", a.Body)
					}
				}},
			{name: "list with a bad limit", p: sys, method: "GET", path: "/api/v1/enterprises?limit=201", status: 400, code: "bad_limit"},
			{name: "list with a bad category", p: sys, method: "GET", path: "/api/v1/enterprises?category=small", status: 400, code: "bad_filter"},
			{name: "list with an unknown area", p: sys, method: "GET", path: "/api/v1/enterprises?area=439999", status: 400, code: "bad_filter"},
			{name: "import JSON", p: sys, method: "POST", path: "/api/v1/enterprises/import", ctype: jsonType, body: []byte(`{}`),
				status: 415, code: "unsupported_media_type"},
			{name: "import rejected", p: sys, method: "POST", path: "/api/v1/enterprises/import", ctype: "text/csv", body: badFile,
				status: 400, code: "import_rejected", check: func(t *testing.T, a testcity.Answer) {
					errs := a.JSON["errors"].([]any)
					first := errs[0].(map[string]any)
					if len(errs) != 1 || first["row"] != 3.0 || first["column"] != "统一社会信用代码" {
						t.Errorf("errors = %v", errs)
					}
					if a.Header.Get("Content-Type") != "application/problem+json" {
						t.Errorf("content type %s", a.Header.Get("Content-Type"))
					}
				}},
			{name: "import partial", p: sys, method: "POST", path: "/api/v1/enterprises/import?partial=true", ctype: "text/csv", body: badFile,
				status: 200, check: func(t *testing.T, a testcity.Answer) {
					if a.JSON["accepted"] != 1.0 || a.JSON["rejected"] != 1.0 || a.JSON["updated"] != 1.0 || len(a.JSON["errors"].([]any)) != 1 {
						t.Errorf("result = %s", a.Body)
					}
				}},
			{name: "import a form", p: sys, method: "POST", path: "/api/v1/enterprises/import", ctype: formType, body: form, status: 200,
				check: func(t *testing.T, a testcity.Answer) {
					if a.JSON["created"] != 1.0 || a.JSON["errors"] == nil || len(a.JSON["errors"].([]any)) != 0 {
						t.Errorf("result = %s", a.Body)
					}
				}},
			{name: "import with a bad partial", p: sys, method: "POST", path: "/api/v1/enterprises/import?partial=maybe", ctype: "text/csv",
				body: badFile, status: 400, code: "bad_partial"},
			{name: "template csv", p: contact, method: "GET", path: "/api/v1/enterprises/import/template?format=csv", status: 200,
				check: func(t *testing.T, a testcity.Answer) {
					if !bytes.HasPrefix(a.Body, []byte("\ufeff统一社会信用代码,项目编码,类型,名称,区域编码")) ||
						!strings.HasPrefix(a.Header.Get("Content-Type"), "text/csv") {
						t.Errorf("template = %q", a.Body)
					}
				}},
			{name: "template xlsx", p: contact, method: "GET", path: "/api/v1/enterprises/import/template", status: 200,
				check: func(t *testing.T, a testcity.Answer) {
					if a.Header.Get("Content-Type") != importer.MediaXLSX || !bytes.HasPrefix(a.Body, []byte("PK")) {
						t.Errorf("template type %s", a.Header.Get("Content-Type"))
					}
				}},
			{name: "template in another format", p: contact, method: "GET", path: "/api/v1/enterprises/import/template?format=pdf",
				status: 400, code: "template_format"},
			{name: "file a report", p: contact, method: "POST", path: "/api/v1/enterprises/" + mine.Key + "/reports", ctype: jsonType, status: 201,
				body: []byte(`{"date":"2022-11-20","status":"resumed","capacity_pct":50,"staff_expected":120,"staff_on_site":95,"closed_loop":true,"note":"正常"}`),
				check: func(t *testing.T, a testcity.Answer) {
					if a.JSON["enterprise_key"] != mine.Key || a.JSON["status"] != "resumed" || a.JSON["filed_by"] != "contact" ||
						a.JSON["filed_at"] != "2022-11-20T09:00:00Z" {
						t.Errorf("report = %s", a.Body)
					}
				}},
			{name: "replace the report", p: contact, method: "POST", path: "/api/v1/enterprises/" + mine.Key + "/reports", ctype: jsonType, status: 201,
				body: []byte(`{"date":"2022-11-20","status":"partial","capacity_pct":40,"staff_expected":120,"staff_on_site":80}`)},
			{name: "file an invalid report", p: contact, method: "POST", path: "/api/v1/enterprises/" + mine.Key + "/reports", ctype: jsonType,
				status: 400, code: "invalid_report",
				body: []byte(`{"date":"2022-11-21","status":"resumed","capacity_pct":50,"staff_expected":120,"staff_on_site":130}`),
				check: func(t *testing.T, a testcity.Answer) {
					if errs := a.JSON["errors"].([]any); len(errs) != 2 || errs[0].(map[string]any)["field"] != "date" ||
						errs[1].(map[string]any)["field"] != "staff_on_site" {
						t.Errorf("errors = %v", errs)
					}
				}},
			{name: "file out of scope", p: contact, method: "POST", path: "/api/v1/enterprises/" + other.Key + "/reports", ctype: jsonType,
				status: 404, code: "enterprise_not_found",
				body: []byte(`{"date":"2022-11-20","status":"resumed","capacity_pct":50,"staff_expected":120,"staff_on_site":95}`)},
			{name: "file without the permission", p: f.officer(auth.HQCommander, "430200"), method: "POST",
				path: "/api/v1/enterprises/" + mine.Key + "/reports", ctype: jsonType, status: 403, code: "forbidden",
				body: []byte(`{"date":"2022-11-20","status":"resumed","capacity_pct":50,"staff_expected":120,"staff_on_site":95}`)},
			{name: "report history", p: contact, method: "GET", path: "/api/v1/enterprises/" + mine.Key + "/reports", status: 200,
				check: func(t *testing.T, a testcity.Answer) {
					items := a.JSON["items"].([]any)
					if len(items) != 1 || items[0].(map[string]any)["status"] != "partial" {
						t.Errorf("history = %s", a.Body)
					}
				}},
			{name: "versions of a date", p: contact, method: "GET", path: "/api/v1/enterprises/" + mine.Key + "/reports?date=2022-11-20", status: 200,
				check: func(t *testing.T, a testcity.Answer) {
					items := a.JSON["items"].([]any)
					if len(items) != 2 || items[0].(map[string]any)["status"] != "partial" || items[1].(map[string]any)["status"] != "resumed" {
						t.Errorf("versions = %s", a.Body)
					}
				}},
			{name: "history out of scope", p: contact, method: "GET", path: "/api/v1/enterprises/" + other.Key + "/reports", status: 404,
				code: "enterprise_not_found"},
			{name: "import reports", p: contact, method: "POST", path: "/api/v1/resumption/reports/import", ctype: "text/csv", body: reportsFile,
				status: 200, check: func(t *testing.T, a testcity.Answer) {
					if a.JSON["accepted"] != 1.0 {
						t.Errorf("result = %s", a.Body)
					}
				}},
			{name: "import reports rejected", p: contact, method: "POST", path: "/api/v1/resumption/reports/import", ctype: "text/csv",
				body: csvFile(reportsImportHeader, other.Key+",2022-11-19,已复工,80,100,90,,"), status: 400, code: "import_rejected",
				check: func(t *testing.T, a testcity.Answer) {
					first := a.JSON["errors"].([]any)[0].(map[string]any)
					if first["message"] != "企业不存在或无权填报" || first["column"] != "统一社会信用代码/项目编码" {
						t.Errorf("errors = %s", a.Body)
					}
				}},
			{name: "reports template", p: contact, method: "GET", path: "/api/v1/resumption/reports/import/template?format=csv", status: 200,
				check: func(t *testing.T, a testcity.Answer) {
					if !bytes.Contains(a.Body, []byte("统一社会信用代码/项目编码,日期,状态,产能,应到岗人数,实际到岗人数")) {
						t.Errorf("template = %q", a.Body)
					}
				}},
			{name: "assign a liaison", p: sys, method: "PUT", path: "/api/v1/enterprises/" + mine.Key + "/liaisons/lly9", status: 200,
				check: func(t *testing.T, a testcity.Answer) {
					if l := a.JSON["liaisons"].([]any); len(l) != 1 || l[0] != "lly9" {
						t.Errorf("liaisons = %v", l)
					}
				}},
			{name: "assign twice", p: sys, method: "PUT", path: "/api/v1/enterprises/" + mine.Key + "/liaisons/lly9", status: 409, code: "liaison_exists"},
			{name: "assign out of scope", p: f.officer(auth.HQStaff, "430211"), method: "PUT", path: "/api/v1/enterprises/" + mine.Key + "/liaisons/lly9",
				status: 404, code: "enterprise_not_found"},
			{name: "unassign", p: sys, method: "DELETE", path: "/api/v1/enterprises/" + mine.Key + "/liaisons/lly9", status: 200,
				check: func(t *testing.T, a testcity.Answer) {
					if l := a.JSON["liaisons"].([]any); len(l) != 0 {
						t.Errorf("liaisons = %v", l)
					}
				}},
			{name: "unassign again", p: sys, method: "DELETE", path: "/api/v1/enterprises/" + mine.Key + "/liaisons/lly9", status: 404,
				code: "liaison_not_assigned"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				a := testcity.Call(t, h, c.p, c.method, c.path, c.ctype, c.body)
				if a.Status != c.status {
					t.Fatalf("status = %d, want %d\n%s", a.Status, c.status, a.Body)
				}
				if c.code != "" {
					if a.Header.Get("Content-Type") != "application/problem+json" || a.JSON["code"] != c.code {
						t.Fatalf("problem = %s %s, want code %s", a.Header.Get("Content-Type"), a.Body, c.code)
					}
				}
				if c.check != nil {
					c.check(t, a)
				}
			})
		}
	})
}
