package app_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"tongxin/internal/apispec/apitest"
	"tongxin/internal/app"
	"tongxin/internal/db"
	"tongxin/internal/db/dbtest"
)

// inst is one Tongxin installation: a database and a data directory.
type inst struct{ db, data string }

func (in inst) getenv(k string) string {
	switch k {
	case "TONGXIN_DB":
		return in.db
	case "TONGXIN_DATA_DIR":
		return in.data
	}
	return ""
}

func newInst(t *testing.T, kind string) inst {
	return inst{db: dbtest.URL(t, kind), data: t.TempDir()}
}

// demoInst is an installation holding the demo city (`tongxin demo`), a
// copy of one built once per test process.
func demoInst(t *testing.T, kind string) inst {
	c := app.DemoCopy(t, kind)
	return inst{db: c.URL, data: c.DataDir}
}

// cli runs one tongxin subcommand in-process, as the binary would.
func cli(t *testing.T, in inst, stdin string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	getenv := in.getenv
	err := app.Run(context.Background(), args, getenv, strings.NewReader(stdin), &out, &errOut)
	if err != nil {
		return out.String() + errOut.String(), fmt.Errorf("%w: %s", err, app.Message(err))
	}
	return out.String(), nil
}

func mustCLI(t *testing.T, in inst, stdin string, args ...string) string {
	t.Helper()
	out, err := cli(t, in, stdin, args...)
	if err != nil {
		t.Fatalf("tongxin %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// server is a running `tongxin serve` on port 0.
type server struct {
	URL  string
	stop func() error
}

func serve(t *testing.T, in inst, extra ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	errc := make(chan error, 1)
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--log-level", "error"}, extra...)
	go func() {
		err := app.Run(ctx, args, in.getenv, strings.NewReader(""), pw, io.Discard)
		pw.CloseWithError(errors.New("server exited"))
		errc <- err
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("serve did not start: %v (%v)", err, <-errc)
	}
	go io.Copy(io.Discard, pr)
	i := strings.Index(line, "http://")
	if i < 0 {
		cancel()
		t.Fatalf("serve printed %q, want its address", line)
	}
	s := &server{URL: strings.TrimSpace(line[i:])}
	var stopped bool
	s.stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-errc:
			return err
		case <-time.After(40 * time.Second):
			return errors.New("serve did not stop within 40s")
		}
	}
	t.Cleanup(func() { s.stop() })
	return s
}

type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, r.Body)
	}
}

func (r response) problem(t *testing.T) map[string]any {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type = %q, want application/problem+json; body %s", ct, r.Body)
	}
	var p map[string]any
	r.json(t, &p)
	if p["code"] == "" || p["code"] == nil {
		t.Fatalf("problem without code: %s", r.Body)
	}
	return p
}

func do(t *testing.T, method, url, token, ctype string, body []byte, hdr ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	apitest.Check(t, req, body, res.StatusCode, res.Header, b)
	return response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// setup makes a demo city on a new database of the given kind, a community
// worker of 大园社区 and an API token for them.
func setup(t *testing.T, kind string) (in inst, token string) {
	t.Helper()
	in = demoInst(t, kind)
	mustCLI(t, in, "s3cret-pass-1\n", "user", "add", "--username", "zhang", "--display-name", "张敏",
		"--phone", "13800138000", "--role", "community_worker", "--scope", "430203001001", "--password-stdin")
	token = strings.TrimSpace(mustCLI(t, in, "", "token", "create", "--username", "zhang", "--name", "测试"))
	if !strings.HasPrefix(token, "txt_") || len(token) < 40 {
		t.Fatalf("token create printed %q, want the token alone", token)
	}
	return in, token
}

func TestEndToEnd(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			in, token := setup(t, kind)
			s := serve(t, in)

			t.Run("me with token", func(t *testing.T) {
				r := do(t, "GET", s.URL+"/api/v1/me", token, "", nil)
				if r.Status != 200 {
					t.Fatalf("status %d: %s", r.Status, r.Body)
				}
				var me struct {
					Username    string `json:"username"`
					DisplayName string `json:"display_name"`
					Roles       []struct {
						Role  string `json:"role"`
						Scope struct{ Kind, Ref, Name string }
					} `json:"roles"`
				}
				r.json(t, &me)
				if me.Username != "zhang" || me.DisplayName != "张敏" || len(me.Roles) != 1 ||
					me.Roles[0].Role != "community_worker" || me.Roles[0].Scope.Ref != "430203001001" || me.Roles[0].Scope.Name != "大园社区" {
					t.Fatalf("me = %+v", me)
				}
			})
			t.Run("me without token is 401 problem", func(t *testing.T) {
				r := do(t, "GET", s.URL+"/api/v1/me", "", "", nil)
				if r.Status != 401 {
					t.Fatalf("status %d", r.Status)
				}
				if p := r.problem(t); p["code"] != "unauthenticated" {
					t.Fatalf("problem %v", p)
				}
			})
			t.Run("bad token is 401", func(t *testing.T) {
				r := do(t, "GET", s.URL+"/api/v1/me", "txt_forged", "", nil)
				if r.Status != 401 {
					t.Fatalf("status %d", r.Status)
				}
				r.problem(t)
			})
			t.Run("community worker sees only own subtree", func(t *testing.T) {
				own := do(t, "GET", s.URL+"/api/v1/areas/430203001001", token, "", nil)
				if own.Status != 200 || !strings.Contains(string(own.Body), "大园社区") {
					t.Fatalf("own community: %d %s", own.Status, own.Body)
				}
				for _, other := range []string{"430203001002", "430203", "430200", "430204"} {
					r := do(t, "GET", s.URL+"/api/v1/areas/"+other, token, "", nil)
					if r.Status != 404 {
						t.Fatalf("area %s outside scope: status %d, want 404", other, r.Status)
					}
					r.problem(t)
				}
				list := do(t, "GET", s.URL+"/api/v1/areas", token, "", nil)
				var page struct {
					Items []struct{ Code string } `json:"items"`
				}
				list.json(t, &page)
				if len(page.Items) != 1 || page.Items[0].Code != "430203001001" {
					t.Fatalf("roots for a community worker = %s", list.Body)
				}
				users := do(t, "GET", s.URL+"/api/v1/users", token, "", nil)
				if users.Status != 403 {
					t.Fatalf("community worker listing users: %d, want 403", users.Status)
				}
			})
			t.Run("cross-site POST is refused", func(t *testing.T) {
				r := do(t, "POST", s.URL+"/logout", "", "application/x-www-form-urlencoded", nil,
					"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
				if r.Status != 403 {
					t.Fatalf("status %d, want 403", r.Status)
				}
				r2 := do(t, "POST", s.URL+"/api/v1/session", "", "application/json", []byte(`{"username":"zhang","password":"s3cret-pass-1"}`),
					"Origin", "https://evil.example")
				if r2.Status != 403 {
					t.Fatalf("cross-origin API login: %d, want 403", r2.Status)
				}
			})
			t.Run("health and metrics", func(t *testing.T) {
				if r := do(t, "GET", s.URL+"/healthz", "", "", nil); r.Status != 200 || !strings.Contains(string(r.Body), `"ok"`) {
					t.Fatalf("healthz %d %s", r.Status, r.Body)
				}
				r := do(t, "GET", s.URL+"/metrics", "", "", nil)
				if r.Status != 200 || !strings.Contains(string(r.Body), `tongxin_http_requests_total{method="GET",route="GET /api/v1/me",status="200"}`) {
					t.Fatalf("metrics %d:\n%s", r.Status, r.Body)
				}
			})
			if err := s.stop(); err != nil {
				t.Fatalf("graceful stop: %v", err)
			}
			t.Run("audit verify passes, then names the altered row", func(t *testing.T) {
				out := mustCLI(t, in, "", "audit", "verify")
				if !strings.Contains(out, "审计链完好") {
					t.Fatalf("verify: %s", out)
				}
				execSQL(t, in, `UPDATE audit_log SET summary = summary || '（篡改）' WHERE seq = 5`)
				out, err := cli(t, in, "", "audit", "verify")
				if err == nil || !strings.Contains(out, "第 5 行") {
					t.Fatalf("verify after tampering: err=%v out=%s", err, out)
				}
			})
		})
	}
}

// execSQL changes the database behind Tongxin's back, as an intruder would.
func execSQL(t *testing.T, in inst, query string) {
	t.Helper()
	d, err := db.Open(context.Background(), in.db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Exec(context.Background(), query); err != nil {
		t.Fatal(err)
	}
}
