package notify

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"

	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/db/dbtest"
	"tongxin/internal/testcity"
	"tongxin/internal/web"
)

// apiRoutes mounts the API as the lead does in internal/app/routes.go.
func apiRoutes(api *API) http.Handler {
	return testcity.API(map[string]web.Handler{
		"GET /api/v1/inbox":                    api.Inbox,
		"POST /api/v1/inbox/{id}/read":         api.MarkRead,
		"POST /api/v1/inbox/read-all":          api.MarkAllRead,
		"GET /api/v1/webhooks":                 api.Webhooks,
		"POST /api/v1/webhooks":                api.CreateWebhook,
		"GET /api/v1/webhooks/{id}":            api.Webhook,
		"PUT /api/v1/webhooks/{id}":            api.UpdateWebhook,
		"DELETE /api/v1/webhooks/{id}":         api.DeleteWebhook,
		"GET /api/v1/webhooks/{id}/deliveries": api.Deliveries,
		"POST /api/v1/webhooks/{id}/test":      api.TestWebhook,
	})
}

func TestAPI(t *testing.T) {
	clk := clock.NewManual(testBase)
	dbtest.Each(t, clk, func(t *testing.T, d *db.DB) {
		clk.Set(testBase)
		f := newFixture(t, d, clk)
		h := apiRoutes(NewAPI(f.svc))
		rc := newReceiver(t, nil)
		alice := f.user("alice", auth.HQStaff, "430203")
		bob := f.user("bob", auth.CommunityWorker, "430203001001")
		for i := range 3 {
			f.send([]int64{alice.UserID}, ticketMsg("ticket.assigned", strconv.Itoa(i), "/430200/430203/"))
		}
		f.send([]int64{bob.UserID}, ticketMsg("ticket.assigned", "b", "/430200/430203/"))
		bobs, _ := f.svc.Inbox(f.Ctx, bob, InboxFilter{})
		alices, _ := f.svc.Inbox(f.Ctx, alice, InboxFilter{})
		existing := f.hook("石峰区", rc.URL+"/shifeng", FormatJSON, "", "430204", "*")

		const secret = "top-secret-signing-key"
		const robotKey = "0f6a3c8e-robot-key"
		jsonBody := func(v any) []byte { b, _ := json.Marshal(v); return b }
		const jsonType = "application/json"
		var hookID string // set by the create case
		hookPath := func(suffix string) func() string {
			return func() string { return "/api/v1/webhooks/" + hookID + suffix }
		}

		cases := []struct {
			name         string
			p            *auth.Principal
			method, path string
			pathFn       func() string
			ctype        string
			body         []byte
			status       int
			code         string
			check        func(t *testing.T, a testcity.Answer)
		}{
			// Inbox
			{name: "inbox", p: alice, method: "GET", path: "/api/v1/inbox?limit=2", status: 200,
				check: func(t *testing.T, a testcity.Answer) {
					items := a.JSON["items"].([]any)
					if len(items) != 2 || a.JSON["unread"] != float64(3) || a.JSON["next_cursor"] == nil {
						t.Errorf("inbox = %s", a.Body)
					}
					first := items[0].(map[string]any)
					if first["object_id"] != "2" || first["read_at"] != nil || first["link"] != "/tickets/2" {
						t.Errorf("first = %v", first)
					}
					next := testcity.Call(t, h, alice, "GET", "/api/v1/inbox?limit=2&cursor="+a.JSON["next_cursor"].(string), "", nil)
					if items := next.JSON["items"].([]any); len(items) != 1 || next.JSON["next_cursor"] != nil {
						t.Errorf("second page = %s", next.Body)
					}
				}},
			{name: "inbox is per user", p: bob, method: "GET", path: "/api/v1/inbox", status: 200,
				check: func(t *testing.T, a testcity.Answer) {
					if items := a.JSON["items"].([]any); len(items) != 1 || a.JSON["unread"] != float64(1) {
						t.Errorf("bob's inbox = %s", a.Body)
					}
				}},
			{name: "inbox bad flag", p: alice, method: "GET", path: "/api/v1/inbox?unread=maybe", status: 400, code: "bad_unread"},
			{name: "inbox bad cursor", p: alice, method: "GET", path: "/api/v1/inbox?cursor=!!", status: 400, code: "bad_cursor"},
			{name: "inbox bad limit", p: alice, method: "GET", path: "/api/v1/inbox?limit=0", status: 400, code: "bad_limit"},
			{name: "inbox anonymous", method: "GET", path: "/api/v1/inbox", status: 401, code: "unauthenticated"},
			{name: "read another's", p: alice, method: "POST", path: "/api/v1/inbox/" + strconv.FormatInt(bobs[0].ID, 10) + "/read",
				status: 404, code: "notification_not_found"},
			{name: "read bad id", p: alice, method: "POST", path: "/api/v1/inbox/x/read", status: 404, code: "notification_not_found"},
			{name: "read own", p: alice, method: "POST", path: "/api/v1/inbox/" + strconv.FormatInt(alices[0].ID, 10) + "/read", status: 200,
				check: func(t *testing.T, a testcity.Answer) {
					if a.JSON["read_at"] != "2022-11-20T09:00:00Z" {
						t.Errorf("read = %s", a.Body)
					}
				}},
			{name: "unread filter", p: alice, method: "GET", path: "/api/v1/inbox?unread=true", status: 200,
				check: func(t *testing.T, a testcity.Answer) {
					if items := a.JSON["items"].([]any); len(items) != 2 || a.JSON["unread"] != float64(2) {
						t.Errorf("unread = %s", a.Body)
					}
				}},
			{name: "read all", p: alice, method: "POST", path: "/api/v1/inbox/read-all", status: 200,
				check: func(t *testing.T, a testcity.Answer) {
					if a.JSON["marked"] != float64(2) {
						t.Errorf("read-all = %s", a.Body)
					}
				}},

			// Webhooks
			{name: "non-manager list", p: bob, method: "GET", path: "/api/v1/webhooks", status: 403, code: "forbidden"},
			{name: "non-manager create", p: bob, method: "POST", path: "/api/v1/webhooks", ctype: jsonType, status: 403, code: "forbidden",
				body: jsonBody(map[string]any{"name": "x", "url": "https://example.com/", "events": []string{"*"}, "area_code": "430203"})},
			{name: "anonymous list", method: "GET", path: "/api/v1/webhooks", status: 401, code: "unauthenticated"},
			{name: "create", p: alice, method: "POST", path: "/api/v1/webhooks", ctype: jsonType, status: 201,
				body: jsonBody(map[string]any{"name": "芦淞区工单群", "url": rc.URL + "/wecom?key=" + robotKey, "format": "wecom",
					"secret": secret, "events": []string{"ticket.created", "ticket.escalated"}, "area_code": "430203"}),
				check: func(t *testing.T, a testcity.Answer) {
					if a.JSON["has_secret"] != true || a.JSON["format"] != "wecom" || a.JSON["active"] != true ||
						a.JSON["url"] != rc.URL+"/wecom?key=***" || a.JSON["area_code"] != "430203" || a.JSON["created_by"] != "alice" {
						t.Errorf("created = %s", a.Body)
					}
					if _, ok := a.JSON["secret"]; ok {
						t.Error("answer has a secret field")
					}
					hookID = strconv.FormatFloat(a.JSON["id"].(float64), 'f', 0, 64)
				}},
			{name: "create bad url", p: alice, method: "POST", path: "/api/v1/webhooks", ctype: jsonType, status: 400, code: "webhook_invalid",
				body: jsonBody(map[string]any{"name": "x", "url": "javascript:alert(1)", "events": []string{"*"}, "area_code": "430203"}),
				check: func(t *testing.T, a testcity.Answer) {
					errs := a.JSON["errors"].([]any)
					if len(errs) != 1 || errs[0].(map[string]any)["field"] != "url" {
						t.Errorf("errors = %s", a.Body)
					}
				}},
			{name: "create unknown format", p: alice, method: "POST", path: "/api/v1/webhooks", ctype: jsonType, status: 400, code: "webhook_invalid",
				body: jsonBody(map[string]any{"name": "x", "url": "https://example.com/", "format": "slack", "events": []string{"*"}, "area_code": "430203"})},
			{name: "create unknown event", p: alice, method: "POST", path: "/api/v1/webhooks", ctype: jsonType, status: 400, code: "webhook_invalid",
				body: jsonBody(map[string]any{"name": "x", "url": "https://example.com/", "events": []string{"ticket.nope"}, "area_code": "430203"})},
			{name: "create outside scope", p: alice, method: "POST", path: "/api/v1/webhooks", ctype: jsonType, status: 400, code: "webhook_invalid",
				body: jsonBody(map[string]any{"name": "x", "url": "https://example.com/", "events": []string{"*"}, "area_code": "430204"})},
			{name: "create unknown field", p: alice, method: "POST", path: "/api/v1/webhooks", ctype: jsonType, status: 400, code: "unknown_field",
				body: []byte(`{"name":"x","colour":"red"}`)},
			{name: "create wrong type", p: alice, method: "POST", path: "/api/v1/webhooks", ctype: jsonType, status: 400, code: "bad_json",
				body: []byte(`{"events":"*"}`)},
			{name: "create not json", p: alice, method: "POST", path: "/api/v1/webhooks", ctype: "text/plain", status: 415,
				code: "unsupported_media_type", body: []byte(`name=x`)},
			{name: "list", p: alice, method: "GET", path: "/api/v1/webhooks", status: 200,
				check: func(t *testing.T, a testcity.Answer) {
					items := a.JSON["items"].([]any)
					if len(items) != 1 || items[0].(map[string]any)["name"] != "芦淞区工单群" {
						t.Errorf("list = %s", a.Body) // 石峰区's hook is outside alice's reach
					}
				}},
			{name: "get", p: alice, method: "GET", pathFn: hookPath(""), status: 200,
				check: func(t *testing.T, a testcity.Answer) {
					ev := a.JSON["events"].([]any)
					if len(ev) != 2 || ev[0] != "ticket.created" {
						t.Errorf("get = %s", a.Body)
					}
				}},
			{name: "get out of reach", p: alice, method: "GET", path: "/api/v1/webhooks/" + strconv.FormatInt(existing.ID, 10),
				status: 404, code: "webhook_not_found"},
			{name: "get bad id", p: alice, method: "GET", path: "/api/v1/webhooks/0", status: 404, code: "webhook_not_found"},
			{name: "update", p: alice, method: "PUT", pathFn: hookPath(""), ctype: jsonType, status: 200,
				body: jsonBody(map[string]any{"events": []string{"ticket.*"}, "active": true}),
				check: func(t *testing.T, a testcity.Answer) {
					if ev := a.JSON["events"].([]any); len(ev) != 1 || ev[0] != "ticket.*" || a.JSON["has_secret"] != true {
						t.Errorf("updated = %s", a.Body)
					}
				}},
			{name: "update bad url", p: alice, method: "PUT", pathFn: hookPath(""), ctype: jsonType, status: 400, code: "webhook_invalid",
				body: jsonBody(map[string]any{"url": "ftp://example.com/"})},
			{name: "test", p: alice, method: "POST", pathFn: hookPath("/test"), status: 202,
				check: func(t *testing.T, a testcity.Answer) {
					if a.JSON["event"] != "test" || a.JSON["status"] != "pending" || a.JSON["attempts"] != float64(0) {
						t.Errorf("test = %s", a.Body)
					}
					f.deliverDue(1)
				}},
			{name: "deliveries", p: alice, method: "GET", pathFn: hookPath("/deliveries"), status: 200,
				check: func(t *testing.T, a testcity.Answer) {
					items := a.JSON["items"].([]any)
					if len(items) != 1 {
						t.Fatalf("deliveries = %s", a.Body)
					}
					dl := items[0].(map[string]any)
					log := dl["log"].([]any)
					if dl["status"] != "delivered" || len(log) != 1 || log[0].(map[string]any)["http_status"] != float64(200) {
						t.Errorf("delivery = %s", a.Body)
					}
				}},
			{name: "deliveries non-manager", p: bob, method: "GET", pathFn: hookPath("/deliveries"), status: 403, code: "forbidden"},
			{name: "delete out of reach", p: f.officer(auth.HQStaff, "430204"), method: "DELETE", pathFn: hookPath(""),
				status: 404, code: "webhook_not_found"},
			{name: "delete", p: alice, method: "DELETE", pathFn: hookPath(""), status: 204},
			{name: "get deleted", p: alice, method: "GET", pathFn: hookPath(""), status: 404, code: "webhook_not_found"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				path := c.path
				if c.pathFn != nil {
					path = c.pathFn()
				}
				a := testcity.Call(t, h, c.p, c.method, path, c.ctype, c.body)
				if a.Status != c.status {
					t.Fatalf("%s %s = %d, want %d\n%s", c.method, path, a.Status, c.status, a.Body)
				}
				if c.code != "" {
					if ct := a.Header.Get("Content-Type"); ct != "application/problem+json" || a.JSON["code"] != c.code {
						t.Fatalf("problem = %s %s, want code %s", ct, a.Body, c.code)
					}
				}
				for _, leak := range []string{secret, robotKey} {
					if bytes.Contains(a.Body, []byte(leak)) {
						t.Errorf("answer contains %q: %s", leak, a.Body)
					}
				}
				if c.check != nil {
					c.check(t, a)
				}
			})
		}
		// The receiver got the test message with the robot's key.
		if got := rc.requests(); len(got) != 1 || got[0].Query.Get("key") != robotKey || got[0].Header.Get(HeaderEvent) != "test" {
			t.Errorf("receiver got %+v", got)
		}
	})
}
