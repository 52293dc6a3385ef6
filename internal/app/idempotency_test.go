package app

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"tongxin/internal/db/dbtest"
)

// Secrets answered to a request with an Idempotency-Key (a revealed phone
// number, a new API token) are nowhere in the database, and no answer is
// readable in idempotency_keys.
func TestIdempotencyKeepsNoSecret(t *testing.T) {
	for _, kind := range dbtest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			ts := newTestSystem(t, kind)
			const jsonCT = "application/json"
			admin, commander := ts.tokenFor(t, "admin"), ts.tokenFor(t, "commander")
			hotline, handler := ts.tokenFor(t, "hotline"), ts.tokenFor(t, "minzheng")
			const userPhone, reporterPhone = "13912345678", "13807335577"
			r := ts.do(t, "POST", "/api/v1/users", admin, jsonCT, strings.NewReader(`{"username":"zhou","display_name":"周敏","phone":"`+userPhone+
				`","password":"long-enough-1","roles":[{"role":"community_worker","scope":"430203001001"}]}`), "Idempotency-Key", "u-1")
			if r.status != 201 {
				t.Fatalf("create user: %d %s", r.status, r.body)
			}
			reveal := func(path, key string) res {
				return ts.do(t, "POST", path, commander, jsonCT, strings.NewReader(`{"reason":"核实身份"}`), "Idempotency-Key", key)
			}
			r = reveal("/api/v1/users/zhou/reveal-phone", "reveal-1")
			if r.status != 200 || !strings.Contains(string(r.body), userPhone) {
				t.Fatalf("reveal: %d %s", r.status, r.body)
			}
			r = reveal("/api/v1/users/zhou/reveal-phone", "reveal-1")
			if r.status != 409 || r.problemCode(t) != "idempotency_secret_not_replayed" || strings.Contains(string(r.body), userPhone) {
				t.Fatalf("replayed reveal: %d %s", r.status, r.body)
			}
			var tok struct {
				Token string `json:"token"`
			}
			// Tokens are minted from a session (a token cannot mint one).
			adminSession := ts.login(t, "admin", DemoPassword)
			mint := func() res {
				return ts.do(t, "POST", "/api/v1/users/zhou/tokens", "", jsonCT, strings.NewReader(`{"name":"脚本"}`),
					"Idempotency-Key", "tok-1", "Cookie", adminSession)
			}
			r = mint()
			if r.status != 201 || json.Unmarshal(r.body, &tok) != nil || len(tok.Token) < 20 {
				t.Fatalf("mint token: %d %s", r.status, r.body)
			}
			r = mint()
			if r.status != 409 || r.problemCode(t) != "idempotency_secret_not_replayed" {
				t.Fatalf("replayed mint: %d %s", r.status, r.body)
			}
			if r := ts.do(t, "GET", "/api/v1/users/zhou/tokens", admin, "", nil); strings.Count(string(r.body), `"name":"脚本"`) != 1 {
				t.Fatalf("tokens after a replayed mint: %s", r.body)
			}
			// A ticket's reporter phone, revealed by its handler.
			r = ts.do(t, "POST", "/api/v1/tickets", hotline, jsonCT, strings.NewReader(`{"category":"elderly_care","area_code":"430203001001",
				"address":"大园社区 9 栋","channel":"hotline_12345","reporter_name":"孙奶奶","reporter_phone":"`+reporterPhone+`","description":"老人独居需要每日送餐"}`),
				"Idempotency-Key", "call-1")
			if r.status != 201 {
				t.Fatalf("file ticket: %d %s", r.status, r.body)
			}
			tk := decodeTicket(t, r)
			r = ts.do(t, "POST", "/api/v1/tickets/"+tk.Tracking+"/reveal-phone", handler, jsonCT, strings.NewReader(`{"reason":"回访"}`), "Idempotency-Key", "reveal-2")
			if r.status != 200 || !strings.Contains(string(r.body), reporterPhone) {
				t.Fatalf("reveal ticket phone: %d %s", r.status, r.body)
			}
			r = ts.do(t, "POST", "/api/v1/tickets/"+tk.Tracking+"/reveal-phone", handler, jsonCT, strings.NewReader(`{"reason":"回访"}`), "Idempotency-Key", "reveal-2")
			if r.status != 409 || r.problemCode(t) != "idempotency_secret_not_replayed" {
				t.Fatalf("replayed ticket reveal: %d %s", r.status, r.body)
			}

			secrets := []string{userPhone, reporterPhone, tok.Token}
			rows, err := ts.sys.DB.ReadPool().QueryContext(context.Background(), `SELECT principal, key, request_hash, content_type, body FROM idempotency_keys`)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for rows.Next() {
				var principal, key, hash, ctype string
				var body []byte
				if err := rows.Scan(&principal, &key, &hash, &ctype, &body); err != nil {
					t.Fatal(err)
				}
				n++
				for _, s := range append(secrets, "周敏", "孙奶奶", "tracking") {
					if strings.Contains(principal+key+hash+ctype, s) || bytes.Contains(body, []byte(s)) {
						t.Errorf("idempotency row %s/%s holds %q in clear text", principal, key, s)
					}
				}
			}
			rows.Close()
			if n != 5 {
				t.Fatalf("%d idempotency rows, want 5", n)
			}
			if kind != "sqlite" {
				return
			}
			// The database's files, as a backup would copy them.
			for _, f := range []string{ts.sys.DB.Path, ts.sys.DB.Path + "-wal"} {
				b, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				for _, s := range secrets {
					if bytes.Contains(b, []byte(s)) {
						t.Errorf("%s holds %q in clear text", f, s)
					}
				}
			}
		})
	}
}
