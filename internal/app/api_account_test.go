package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/db/dbtest"
)

// login opens a session through the API and returns the Cookie header
// that carries it.
func (ts *testSystem) login(t *testing.T, username, password string) string {
	t.Helper()
	r := ts.do(t, "POST", "/api/v1/session", "", "application/json",
		strings.NewReader(fmt.Sprintf(`{"username":%q,"password":%q}`, username, password)))
	if r.status != 201 {
		t.Fatalf("login %s: %d %s", username, r.status, r.body)
	}
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == "tongxin_session" {
			return c.Name + "=" + c.Value
		}
	}
	t.Fatalf("login %s: no session cookie", username)
	return ""
}

// as makes a request with a session cookie (no bearer token).
func (ts *testSystem) as(t *testing.T, cookie, method, path, body string) res {
	t.Helper()
	ctype := ""
	var rd *strings.Reader
	if body != "" {
		ctype, rd = "application/json", strings.NewReader(body)
	}
	if rd == nil {
		return ts.do(t, method, path, "", ctype, nil, "Cookie", cookie)
	}
	return ts.do(t, method, path, "", ctype, rd, "Cookie", cookie)
}

func wantProblem(t *testing.T, r res, status int, code string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	if got := r.problemCode(t); got != code {
		t.Fatalf("code %q, want %q", got, code)
	}
}

const strongPassword = "Strong-Pass-2022!"

// Issue 10, through the real router: an admin of 芦淞区 against a user who
// is also the city's commander; tokens cannot mint tokens; token expiry;
// role removal; a password change ends the other credentials.
func TestAccountHardeningAPI(t *testing.T) {
	t.Parallel()
	for _, kind := range dbtest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			ts := newTestSystem(t, kind)
			ctx := context.Background()
			if _, err := ts.sys.Auth.CreateUser(ctx, auth.System(), auth.NewUser{Username: "lsadmin", DisplayName: "芦淞区管理员",
				Password: strongPassword, Roles: []auth.RoleInput{{Role: "system_admin", Scope: "430203"}}}); err != nil {
				t.Fatal(err)
			}
			if _, err := ts.sys.Auth.AddRole(ctx, auth.System(), "commander", auth.RoleInput{Role: "district_officer", Scope: "430203"}); err != nil {
				t.Fatal(err)
			}
			cmdCookie := ts.login(t, "commander", DemoPassword)
			cmdToken, cmdTok, err := ts.sys.Auth.CreateToken(ctx, auth.System(), "commander", "大屏")
			if err != nil {
				t.Fatal(err)
			}
			admin := ts.login(t, "lsadmin", strongPassword)

			// The attack: every act on the commander is refused.
			for _, c := range []struct{ method, path, body string }{
				{"POST", "/api/v1/users/commander/tokens", `{"name":"steal"}`},
				{"GET", "/api/v1/users/commander/tokens", ""},
				{"DELETE", fmt.Sprintf("/api/v1/tokens/%d", cmdTok.ID), ""},
				{"PUT", "/api/v1/users/commander/status", `{"status":"disabled"}`},
				{"PUT", "/api/v1/users/commander/password", `{"password":"Attacker-Pass-2022"}`},
				{"POST", "/api/v1/users/commander/roles", `{"role":"street_officer","scope":"430203001"}`},
				{"POST", "/api/v1/users/commander/roles/remove", `{"role":"district_officer","scope":"430203"}`},
				{"POST", "/api/v1/users/commander/roles/remove", `{"role":"hq_commander","scope":"430200"}`},
			} {
				wantProblem(t, ts.as(t, admin, c.method, c.path, c.body), 403, "user_out_of_reach")
			}
			// A user of another district is not visible at all.
			wantProblem(t, ts.as(t, admin, "POST", "/api/v1/users/inspector/tokens", `{"name":"x"}`), 404, "user_not_found")
			// The commander's session and token are untouched.
			if r := ts.as(t, cmdCookie, "GET", "/api/v1/me", ""); r.status != 200 {
				t.Fatalf("commander's session: %d", r.status)
			}
			if r := ts.do(t, "GET", "/api/v1/audit?limit=1", cmdToken, "", nil); r.status != 200 {
				t.Fatalf("commander's token: %d %s", r.status, r.body)
			}

			// A token cannot mint tokens; a session can, with an expiry.
			adminToken := ts.tokenFor(t, "admin")
			wantProblem(t, ts.do(t, "POST", "/api/v1/users/dayuan/tokens", adminToken, "application/json", strings.NewReader(`{"name":"x"}`)),
				403, "token_cannot_mint")
			wantProblem(t, ts.as(t, admin, "POST", "/api/v1/users/dayuan/tokens", `{"name":"x","expires_in_days":400}`), 400, "bad_expiry")
			r := ts.as(t, admin, "POST", "/api/v1/users/dayuan/tokens", `{"name":"同步","expires_in_days":30}`)
			if r.status != 201 {
				t.Fatalf("mint: %d %s", r.status, r.body)
			}
			var tok struct {
				Token     string `json:"token"`
				CreatedAt int64  `json:"created_at"`
				ExpiresAt int64  `json:"expires_at"`
			}
			json.Unmarshal(r.body, &tok)
			if tok.ExpiresAt-tok.CreatedAt != (30 * 24 * time.Hour).Milliseconds() {
				t.Fatalf("expiry %d after creation", tok.ExpiresAt-tok.CreatedAt)
			}
			if r := ts.as(t, admin, "GET", "/api/v1/users/dayuan/tokens", ""); r.status != 200 ||
				!strings.Contains(string(r.body), fmt.Sprintf(`"expires_at":%d`, tok.ExpiresAt)) || !strings.Contains(string(r.body), `"state":"active"`) {
				t.Fatalf("token list: %d %s", r.status, r.body)
			}

			// Role removal.
			wantProblem(t, ts.as(t, admin, "POST", "/api/v1/users/dayuan/roles/remove", `{"role":"community_worker","scope":"430203001001"}`), 409, "last_role")
			if r := ts.as(t, admin, "POST", "/api/v1/users/dayuan/roles", `{"role":"volunteer","scope":"430203001001"}`); r.status != 200 {
				t.Fatalf("add role: %d %s", r.status, r.body)
			}
			wantProblem(t, ts.as(t, admin, "POST", "/api/v1/users/dayuan/roles/remove", `{"role":"volunteer","scope":"430203001"}`), 404, "role_not_found")
			r = ts.as(t, admin, "POST", "/api/v1/users/dayuan/roles/remove", `{"role":"volunteer","scope":"430203001001"}`)
			if r.status != 200 || strings.Contains(string(r.body), "volunteer") {
				t.Fatalf("remove role: %d %s", r.status, r.body)
			}

			// One's own password change keeps this session and ends the rest.
			here, there := ts.login(t, "dayuan", DemoPassword), ts.login(t, "dayuan", DemoPassword)
			wantProblem(t, ts.as(t, here, "PUT", "/api/v1/users/dayuan/password", `{"current_password":"`+DemoPassword+`","password":"dayuan-pass-2022"}`), 400, "weak_password")
			wantProblem(t, ts.as(t, here, "PUT", "/api/v1/users/dayuan/password", `{"current_password":"not-the-password","password":"Brand-New-Pass-77"}`), 400, "bad_current_password")
			if r := ts.as(t, here, "PUT", "/api/v1/users/dayuan/password", `{"current_password":"`+DemoPassword+`","password":"Brand-New-Pass-77"}`); r.status != 204 {
				t.Fatalf("change: %d %s", r.status, r.body)
			}
			if r := ts.as(t, here, "GET", "/api/v1/me", ""); r.status != 200 {
				t.Fatalf("the changing session: %d", r.status)
			}
			if r := ts.as(t, there, "GET", "/api/v1/me", ""); r.status != 401 {
				t.Fatalf("the other session: %d", r.status)
			}
			wantProblem(t, ts.do(t, "GET", "/api/v1/me", tok.Token, "", nil), 401, "bad_token")
			// A manager's reset ends them all.
			if r := ts.as(t, admin, "PUT", "/api/v1/users/dayuan/password", `{"password":"Reset-By-Admin-22"}`); r.status != 204 {
				t.Fatalf("reset: %d %s", r.status, r.body)
			}
			if r := ts.as(t, here, "GET", "/api/v1/me", ""); r.status != 401 {
				t.Fatalf("session after reset: %d", r.status)
			}
		})
	}
}

// A throttled login says how long to wait.
func TestLoginThrottleRetryAfter(t *testing.T) {
	ts := newTestSystem(t, "sqlite")
	for i := 0; i < 5; i++ {
		r := ts.do(t, "POST", "/api/v1/session", "", "application/json", strings.NewReader(`{"username":"jianshe","password":"Wrong-Password-1"}`))
		wantProblem(t, r, 401, "bad_credentials")
	}
	r := ts.do(t, "POST", "/api/v1/session", "", "application/json", strings.NewReader(`{"username":"jianshe","password":"`+DemoPassword+`"}`))
	wantProblem(t, r, 429, "login_throttled")
	if got := r.header.Get("Retry-After"); got != "60" {
		t.Fatalf("Retry-After %q, want 60", got)
	}
	// Another account from the same address is not locked.
	ts.login(t, "dayuan", DemoPassword)
}
