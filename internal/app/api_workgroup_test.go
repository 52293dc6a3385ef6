package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"tongxin/internal/auth"
	"tongxin/internal/db/dbtest"
)

// workgroupCaps reads the capabilities of each work group from the
// listing, failing on a null.
func workgroupCaps(t *testing.T, ts *testSystem, cookie string) map[string]string {
	t.Helper()
	var list struct {
		Items []struct {
			Code         string   `json:"code"`
			Capabilities []string `json:"capabilities"`
		}
	}
	if r := ts.as(t, cookie, "GET", "/api/v1/workgroups", ""); r.status != 200 || json.Unmarshal(r.body, &list) != nil {
		t.Fatalf("workgroups: %d %s", r.status, r.body)
	}
	out := map[string]string{}
	for _, g := range list.Items {
		if g.Capabilities == nil {
			t.Errorf("%s: capabilities null", g.Code)
		}
		out[g.Code] = strings.Join(g.Capabilities, ",")
	}
	return out
}

// Work groups hold capabilities as departments do. The demo's 全员核酸检测组
// manages testing campaigns: its member hesuan starts one city-wide, a
// member of 交通管控组 may not until HQ staff give the group
// testing_manage, which counts at the member's next request in the same
// session, and no longer once withdrawn (through the API and through the
// work group's page form). A group of 芦淞区 created with
// the capability reaches its district only. A second demo run changes
// nothing.
func TestWorkgroupCapabilitiesOverHTTP(t *testing.T) {
	t.Parallel()
	for _, kind := range dbtest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			ts := newTestSystem(t, kind)
			ctx := context.Background()
			member := func(name, group string) string {
				t.Helper()
				if _, err := ts.sys.Auth.CreateUser(ctx, auth.System(), auth.NewUser{Username: name, DisplayName: "工作组成员",
					Password: DemoPassword, Roles: []auth.RoleInput{{Role: "workgroup_member", Scope: "workgroup:" + group}}}); err != nil {
					t.Fatal(err)
				}
				return ts.login(t, name, DemoPassword)
			}
			hq, hesuan, jiaotong := ts.login(t, "hqstaff", DemoPassword), ts.login(t, "hesuan", DemoPassword), member("jiaotong", "traffic")
			campaign := func(cookie, name, areaCode string) res {
				t.Helper()
				return ts.as(t, cookie, "POST", "/api/v1/campaigns", fmt.Sprintf(`{"name":%q,"area_code":%q}`, name, areaCode))
			}
			if caps := workgroupCaps(t, ts, hq); caps["testing"] != "testing_manage" || caps["traffic"] != "" || len(caps) != 7 {
				t.Fatalf("capabilities %v", caps)
			}
			if r := campaign(hesuan, "全员核酸", "430200"); r.status != 201 {
				t.Fatalf("hesuan's campaign: %d %s", r.status, r.body)
			}
			wantProblem(t, campaign(jiaotong, "交通组的检测", "430200"), 403, "forbidden")

			// HQ staff grant 交通管控组 testing; its member may at once.
			put := func(body string) res {
				t.Helper()
				return ts.as(t, hq, "PUT", "/api/v1/workgroups/traffic", body)
			}
			const traffic = `"name":"交通管控组","area_code":"430200","remit":"设置和管理卡口，发布交通管制通告，保障应急和保供通道畅通"`
			if r := put(`{` + traffic + `,"capabilities":["testing_manage"]}`); r.status != 200 ||
				!strings.Contains(string(r.body), `"capabilities":["testing_manage"]`) {
				t.Fatalf("grant: %d %s", r.status, r.body)
			}
			if r := campaign(jiaotong, "交通组的检测", "430200"); r.status != 201 {
				t.Fatalf("jiaotong's campaign after the grant: %d %s", r.status, r.body)
			}
			// Left out, they stay; unknown, 400; [] withdraws them.
			if r := put(`{` + traffic + `}`); r.status != 200 || workgroupCaps(t, ts, hq)["traffic"] != "testing_manage" {
				t.Fatalf("update without capabilities: %d %s", r.status, r.body)
			}
			wantProblem(t, put(`{`+traffic+`,"capabilities":["everything"]}`), 400, "invalid_workgroup")
			if r := put(`{` + traffic + `,"capabilities":[]}`); r.status != 200 || !strings.Contains(string(r.body), `"capabilities":[]`) {
				t.Fatalf("withdraw: %d %s", r.status, r.body)
			}
			wantProblem(t, campaign(jiaotong, "交通组的第二次检测", "430200"), 403, "forbidden")
			// The page's form grants it again (the checkbox ticked), and
			// shows it ticked; unticked, it withdraws it.
			hqToken := ts.tokenFor(t, "hqstaff")
			form := func(caps string) res {
				t.Helper()
				return ts.do(t, "POST", "/workgroups/traffic", hqToken, "application/x-www-form-urlencoded", strings.NewReader(url.Values{
					"name": {"交通管控组"}, "area_code": {"430200"}, "remit": {"设置和管理卡口，发布交通管制通告，保障应急和保供通道畅通"},
					"capabilities": strings.Fields(caps)}.Encode()))
			}
			if r := form("testing_manage"); r.status != 303 {
				t.Fatalf("the form's grant: %d %s", r.status, r.body)
			}
			if r := ts.do(t, "GET", "/workgroups/traffic", hqToken, "", nil); !strings.Contains(string(r.body), `value="testing_manage" checked`) {
				t.Fatalf("the form after the grant: %d %s", r.status, r.body)
			}
			if r := campaign(jiaotong, "交通组的第二次检测", "430200"); r.status != 201 {
				t.Fatalf("jiaotong's campaign after the form's grant: %d %s", r.status, r.body)
			}
			if r := form(""); r.status != 303 {
				t.Fatalf("the form's withdrawal: %d %s", r.status, r.body)
			}
			wantProblem(t, campaign(jiaotong, "交通组的第三次检测", "430200"), 403, "forbidden")
			// A member cannot grant their own group anything.
			r := ts.as(t, jiaotong, "PUT", "/api/v1/workgroups/traffic", `{`+traffic+`,"capabilities":["testing_manage"]}`)
			wantProblem(t, r, 403, "forbidden")

			// A district's group, created with the capability.
			r = ts.as(t, hq, "POST", "/api/v1/workgroups",
				`{"code":"ls_testing","name":"芦淞区核酸检测组","area_code":"430203","remit":"芦淞区全员核酸检测","capabilities":["testing_manage"]}`)
			if r.status != 201 || !strings.Contains(string(r.body), `"capabilities":["testing_manage"]`) {
				t.Fatalf("create: %d %s", r.status, r.body)
			}
			lstest := member("lstest", "ls_testing")
			if r := campaign(lstest, "芦淞区全员核酸", "430203"); r.status != 201 {
				t.Fatalf("the district group's campaign: %d %s", r.status, r.body)
			}
			wantProblem(t, campaign(lstest, "石峰区全员核酸", "430204"), 400, "area_not_found")

			// The demo again: no change, no audit row.
			audits := countOf(t, ts.sys.DB, `SELECT COUNT(*) FROM audit_log`)
			if _, err := Demo(ctx, ts.sys); err != nil {
				t.Fatal(err)
			}
			if n := countOf(t, ts.sys.DB, `SELECT COUNT(*) FROM audit_log`); n != audits {
				t.Errorf("a second demo wrote %d audit rows", n-audits)
			}
			if caps := workgroupCaps(t, ts, hq); caps["testing"] != "testing_manage" || caps["ls_testing"] != "testing_manage" {
				t.Errorf("capabilities after the demo: %v", caps)
			}
		})
	}
}
