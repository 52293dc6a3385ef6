package app

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"tongxin/internal/auth"
	"tongxin/internal/db/dbtest"
	"tongxin/internal/pass"
)

// Roles fit the job: of the demo's department officers only 市工信局's
// (gxj) reviews passes and manages the registry. The 12345 hotline cannot
// approve a batch, 民政局's officer cannot set a quota nor edit an
// enterprise. The departments list shows each department's capabilities;
// HQ staff grant one with PUT /api/v1/departments/{code}, and the
// hotline's operator may approve at the next request.
func TestDepartmentCapabilitiesOverHTTP(t *testing.T) {
	t.Parallel()
	for _, kind := range dbtest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			ts := newTestSystem(t, kind)
			ctx := context.Background()
			hotline, minzheng, gxj, hq := ts.tokenFor(t, "hotline"), ts.tokenFor(t, "minzheng"), ts.tokenFor(t, "gxj"), ts.tokenFor(t, "hqstaff")
			pending, err := ts.sys.Passes.ListBatches(ctx, auth.System(), pass.BatchFilter{Statuses: []pass.BatchStatus{pass.Submitted},
				Enterprise: demoPassEnterprise})
			if err != nil || len(pending) != 1 {
				t.Fatalf("千金药业's pending batch in the demo: %v %v", pending, err)
			}
			approve := fmt.Sprintf("/api/v1/pass-batches/%d/approve", pending[0].ID)

			var list struct {
				Items []struct {
					Code         string   `json:"code"`
					Capabilities []string `json:"capabilities"`
				}
			}
			if r := ts.do(t, "GET", "/api/v1/departments", hq, "", nil); r.status != 200 || json.Unmarshal(r.body, &list) != nil {
				t.Fatalf("departments: %d %s", r.status, r.body)
			}
			caps := map[string]string{}
			for _, d := range list.Items {
				if d.Capabilities == nil {
					t.Errorf("%s: capabilities null", d.Code)
				}
				caps[d.Code] = strings.Join(d.Capabilities, ",")
			}
			if caps["gxj"] != "pass_review,resumption_manage" || caps["rx12345"] != "" || caps["mzj"] != "" || caps["jtj"] != "" {
				t.Fatalf("capabilities %v", caps)
			}

			for _, c := range []struct {
				name, token, method, path, body string
			}{
				{"hotline approves", hotline, "POST", approve, `{}`},
				{"hotline reads the review queue", hotline, "GET", "/api/v1/pass-batches?status=submitted", ""},
				{"minzheng sets a quota", minzheng, "PUT", "/api/v1/enterprises/" + demoPassEnterprise + "/pass-quota", `{"quota":99999}`},
				{"minzheng edits an enterprise", minzheng, "POST", "/api/v1/enterprises",
					`{"key":"914302001838260003","kind":"enterprise","name":"株洲千金药业股份有限公司","area_code":"430211001","employees":99999}`},
				{"minzheng revokes a pass", minzheng, "POST", "/api/v1/passes/x/revoke", `{"reason":"x"}`},
			} {
				var body *strings.Reader
				if c.body != "" {
					body = strings.NewReader(c.body)
				}
				var r res
				if body != nil {
					r = ts.do(t, c.method, c.path, c.token, "application/json", body)
				} else {
					r = ts.do(t, c.method, c.path, c.token, "", nil)
				}
				if r.status != 403 || r.problemCode(t) != "forbidden" {
					t.Errorf("%s: %d %s", c.name, r.status, r.body)
				}
			}
			if q, err := ts.sys.Passes.GetQuota(ctx, auth.System(), demoPassEnterprise); err != nil || q.Quota == 99999 {
				t.Fatalf("quota %+v %v", q, err)
			}

			// 市工信局 still reviews.
			up := ts.do(t, "POST", "/api/v1/pass-batches", ts.tokenFor(t, "qianjin"), "text/csv", strings.NewReader(limitCSV(
				[6]string{"新人", passIDNumber("430211", "19950505", 7), "", "430211001", "", ""})))
			var b struct{ ID int64 }
			if up.status != 201 || json.Unmarshal(up.body, &b) != nil {
				t.Fatalf("upload: %d %s", up.status, up.body)
			}
			if r := ts.do(t, "POST", fmt.Sprintf("/api/v1/pass-batches/%d/approve", b.ID), gxj, "application/json", strings.NewReader(`{}`)); r.status != 200 {
				t.Fatalf("gxj's approval: %d %s", r.status, r.body)
			}

			// HQ staff grant the hotline pass review; its operator
			// approves at once.
			r := ts.do(t, "PUT", "/api/v1/departments/rx12345", hq, "application/json",
				strings.NewReader(`{"name":"市12345政务服务便民热线","area_code":"430200","capabilities":["pass_review"]}`))
			if r.status != 200 || !strings.Contains(string(r.body), `"capabilities":["pass_review"]`) {
				t.Fatalf("grant: %d %s", r.status, r.body)
			}
			if r := ts.do(t, "POST", approve, hotline, "application/json", strings.NewReader(`{}`)); r.status != 200 {
				t.Fatalf("the hotline's approval after the grant: %d %s", r.status, r.body)
			}
			// An unknown capability is 400; the hotline officer cannot grant
			// itself anything.
			r = ts.do(t, "PUT", "/api/v1/departments/mzj", hq, "application/json",
				strings.NewReader(`{"name":"市民政局","area_code":"430200","capabilities":["everything"]}`))
			if r.status != 400 || r.problemCode(t) != "invalid_department" {
				t.Fatalf("unknown capability: %d %s", r.status, r.body)
			}
			r = ts.do(t, "PUT", "/api/v1/departments/rx12345", hotline, "application/json",
				strings.NewReader(`{"name":"市12345政务服务便民热线","area_code":"430200","capabilities":["pass_review","resumption_manage"]}`))
			if r.status != 403 {
				t.Fatalf("the hotline grants itself: %d %s", r.status, r.body)
			}
		})
	}
}
