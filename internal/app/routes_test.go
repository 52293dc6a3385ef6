package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"tongxin/internal/apispec/apitest"
	"tongxin/internal/auth"
	"tongxin/internal/db/dbtest"
	"tongxin/internal/importer"
)

// testSystem is a demo city behind the real router, in-process.
type testSystem struct {
	sys *System
	srv *httptest.Server
	rt  *routes
}

func newTestSystem(t testing.TB, kind string) *testSystem {
	t.Helper()
	return newTestSystemLog(t, kind, slog.New(slog.DiscardHandler))
}

// newTestSystemLog is newTestSystem with a given logger.
func newTestSystemLog(t testing.TB, kind string, log *slog.Logger) *testSystem {
	t.Helper()
	in := demoCopy(t, kind)
	env := &Env{Getenv: func(string) string { return "" }, Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard}
	f := newFlags(env, "test", "test")
	if err := f.parse([]string{"--db", in.URL, "--data-dir", in.DataDir}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sys, err := f.open(ctx, true, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sys.Close() })
	srv, err := NewServer(sys, ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler = srv
	if tt, ok := t.(*testing.T); ok { // benchmarks measure the server alone
		h = apitest.Handler(tt, srv)
	}
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return &testSystem{sys: sys, srv: ts, rt: srv.routes}
}

// tokenFor issues an API token for a demo user.
func (ts *testSystem) tokenFor(t testing.TB, username string) string {
	t.Helper()
	secret, _, err := ts.sys.Auth.CreateToken(context.Background(), auth.System(), username, "test")
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

type res struct {
	status int
	header http.Header
	body   []byte
}

func (ts *testSystem) do(t *testing.T, method, path, token, ctype string, body io.Reader, hdr ...string) res {
	t.Helper()
	req, _ := http.NewRequest(method, ts.srv.URL+path, body)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	r, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return res{r.StatusCode, r.Header, b}
}

func (r res) problemCode(t *testing.T) string {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q, want problem+json; status %d body %s", ct, r.status, r.body)
	}
	var p struct {
		Code   string `json:"code"`
		Detail string `json:"detail"`
	}
	if err := json.Unmarshal(r.body, &p); err != nil || p.Code == "" || p.Detail == "" {
		t.Fatalf("problem body %s (err %v)", r.body, err)
	}
	return p.Code
}

var placeholder = regexp.MustCompile(`\{[a-z]+\}`)

func concretePath(pattern string) (method, path string) {
	method, path, _ = strings.Cut(pattern, " ")
	path = strings.TrimSuffix(path, "{$}")
	path = placeholder.ReplaceAllStringFunc(path, func(p string) string {
		switch p {
		case "{code}":
			return "430203"
		case "{username}":
			return "admin"
		}
		return "1"
	})
	return method, path
}

// Every API route that is not public answers 401 problem+json to an
// anonymous caller; every page that is not public sends them to the login.
func TestAnonymousCallersAreTurnedAway(t *testing.T) {
	ts := newTestSystem(t, "sqlite")
	for _, r := range ts.rt.table() {
		if r.Public {
			continue
		}
		method, path := concretePath(r.Pattern)
		t.Run(r.Pattern, func(t *testing.T) {
			var body io.Reader
			ctype := ""
			if method != "GET" {
				body, ctype = strings.NewReader(`{}`), "application/json"
			}
			got := ts.do(t, method, path, "", ctype, body)
			if strings.HasPrefix(path, "/api/") {
				if got.status != 401 {
					t.Fatalf("status %d, want 401", got.status)
				}
				got.problemCode(t)
				return
			}
			loc := got.header.Get("Location")
			if got.status != 401 && !(got.status == 303 && strings.HasPrefix(loc, "/login")) {
				t.Fatalf("status %d Location %q, want the login", got.status, loc)
			}
		})
	}
}

// The role matrix: what each demo role may do with the core endpoints.
func TestRoleMatrix(t *testing.T) {
	t.Parallel()
	for _, kind := range dbtest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			ts := newTestSystem(t, kind)
			tokens := map[string]string{}
			for _, u := range demoUsers {
				tokens[u.username] = ts.tokenFor(t, u.username)
			}
			cases := []struct {
				method, path string
				want         map[string]int
			}{
				{"GET", "/api/v1/users", map[string]int{"admin": 200, "commander": 200, "hqstaff": 200, "lusong": 200, "dayuan": 403, "gxj": 403, "inspector": 403, "volunteer": 403}},
				{"GET", "/api/v1/audit", map[string]int{"admin": 200, "commander": 200, "inspector": 200, "hqstaff": 403, "dayuan": 403, "gxj": 403}},
				{"GET", "/api/v1/areas/430204", map[string]int{"commander": 200, "lusong": 404, "jianshe": 404, "dayuan": 404, "inspector": 200, "gxj": 200, "volunteer": 403}},
				{"GET", "/api/v1/areas/430203001001", map[string]int{"lusong": 200, "jianshe": 200, "dayuan": 200, "inspector": 404}},
				{"GET", "/api/v1/users/dayuan", map[string]int{"admin": 200, "lusong": 200, "jianshe": 200, "dayuan": 200, "volunteer": 403}},
				{"GET", "/api/v1/users/lusong", map[string]int{"admin": 200, "lusong": 200, "jianshe": 404}},
				{"GET", "/api/v1/users/inspector", map[string]int{"lusong": 404, "commander": 200}},
			}
			for _, c := range cases {
				for user, want := range c.want {
					got := ts.do(t, c.method, c.path, tokens[user], "", nil)
					if got.status != want {
						t.Errorf("%s %s as %s: %d, want %d (%s)", c.method, c.path, user, got.status, want, got.body)
					}
				}
			}
		})
	}
}

// Bad input gets a clear 4xx, never a 500, and a rejected import leaves
// nothing behind.
func TestBadInputs(t *testing.T) {
	t.Parallel()
	for _, kind := range dbtest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			ts := newTestSystem(t, kind)
			admin := ts.tokenFor(t, "admin")
			hq := ts.tokenFor(t, "hqstaff")
			big := bytes.Repeat([]byte("a"), 2<<20)
			xlsxBroken := append([]byte("PK\x03\x04"), bytes.Repeat([]byte{0xff}, 300)...)
			oneBadRow := "编码,名称,上级编码,层级\n430203001009,新社区,430203001,社区\n43020300100X,坏编码,430203001,社区\n"
			var mp bytes.Buffer
			mw := multipart.NewWriter(&mp)
			fw, _ := mw.CreateFormFile("file", "areas.csv")
			fw.Write([]byte(oneBadRow))
			mw.Close()
			cases := []struct {
				name, method, path, token, ctype string
				body                             []byte
				status                           int
				code                             string
			}{
				{"garbage JSON", "POST", "/api/v1/users", admin, "application/json", []byte(`{"username":`), 400, "bad_json"},
				{"not JSON at all", "POST", "/api/v1/users", admin, "application/json", []byte(`hello`), 400, "bad_json"},
				{"wrong content type", "POST", "/api/v1/users", admin, "text/plain", []byte(`{}`), 415, "unsupported_media_type"},
				{"unknown field", "POST", "/api/v1/users", admin, "application/json", []byte(`{"username":"x","admin":true}`), 400, "unknown_field"},
				{"wrong type", "POST", "/api/v1/users", admin, "application/json", []byte(`{"username":5}`), 400, "bad_json"},
				{"oversized JSON", "POST", "/api/v1/users", admin, "application/json", append([]byte(`{"username":"`), big...), 413, "body_too_large"},
				{"invalid user", "POST", "/api/v1/users", admin, "application/json", []byte(`{"username":"A B","display_name":"","password":"1","roles":[]}`), 400, "invalid_user"},
				{"unknown role", "POST", "/api/v1/users", admin, "application/json", []byte(`{"username":"wang","display_name":"王","password":"long-enough-1","roles":[{"role":"king","scope":"430200"}]}`), 400, "bad_role"},
				{"scope that does not exist", "POST", "/api/v1/users", admin, "application/json", []byte(`{"username":"wang","display_name":"王","password":"long-enough-1","roles":[{"role":"district_officer","scope":"430299"}]}`), 400, "scope_not_found"},
				{"import as JSON", "POST", "/api/v1/areas/import", hq, "application/json", []byte(`{}`), 415, "unsupported_media_type"},
				{"import empty", "POST", "/api/v1/areas/import", hq, "text/csv", nil, 400, "import_empty"},
				{"import broken xlsx", "POST", "/api/v1/areas/import", hq, importer.MediaXLSX, xlsxBroken, 400, "import_unreadable"},
				{"import one bad row", "POST", "/api/v1/areas/import", hq, "text/csv", []byte(oneBadRow), 400, "import_rejected"},
				{"import one bad row multipart", "POST", "/api/v1/areas/import", hq, mw.FormDataContentType(), mp.Bytes(), 400, "import_rejected"},
				{"import oversized", "POST", "/api/v1/areas/import", hq, "text/csv", bytes.Repeat([]byte("a,b\n"), 6<<20), 413, "body_too_large"},
				{"bad limit", "GET", "/api/v1/users?limit=0", admin, "", nil, 400, "bad_limit"},
				{"bad cursor", "GET", "/api/v1/users?cursor=!!!", admin, "", nil, 400, "bad_cursor"},
				{"unknown API path", "GET", "/api/v1/nothing", admin, "", nil, 404, "not_found"},
				{"wrong method", "DELETE", "/api/v1/me", admin, "", nil, 405, "method_not_allowed"},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					got := ts.do(t, c.method, c.path, c.token, c.ctype, bytes.NewReader(c.body))
					if got.status != c.status {
						t.Fatalf("status %d, want %d: %s", got.status, c.status, got.body)
					}
					if code := got.problemCode(t); code != c.code {
						t.Fatalf("code %q, want %q: %s", code, c.code, got.body)
					}
				})
			}
			// The rejected imports wrote nothing.
			if r := ts.do(t, "GET", "/api/v1/areas/430203001009", admin, "", nil); r.status != 404 {
				t.Fatalf("an area from a rejected import exists: %d %s", r.status, r.body)
			}
			// The answer lists the bad row, its column and why.
			r := ts.do(t, "POST", "/api/v1/areas/import", hq, "text/csv", strings.NewReader(oneBadRow))
			var p struct {
				Errors []struct {
					Row     int    `json:"row"`
					Column  string `json:"column"`
					Message string `json:"message"`
				} `json:"errors"`
			}
			json.Unmarshal(r.body, &p)
			if len(p.Errors) != 1 || p.Errors[0].Row != 3 || p.Errors[0].Column == "" || p.Errors[0].Message == "" {
				t.Fatalf("import errors = %+v, want row 3 with column and message", p.Errors)
			}
		})
	}
}

func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	for _, kind := range dbtest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			ts := newTestSystem(t, kind)
			admin := ts.tokenFor(t, "admin")
			body := `{"username":"wang","display_name":"王芳","password":"long-enough-1","roles":[{"role":"community_worker","scope":"430203001001"}]}`
			first := ts.do(t, "POST", "/api/v1/users", admin, "application/json", strings.NewReader(body), "Idempotency-Key", "k-1")
			if first.status != 201 {
				t.Fatalf("first: %d %s", first.status, first.body)
			}
			again := ts.do(t, "POST", "/api/v1/users", admin, "application/json", strings.NewReader(body), "Idempotency-Key", "k-1")
			if again.status != 201 || !bytes.Equal(again.body, first.body) || again.header.Get("Idempotency-Replayed") != "true" {
				t.Fatalf("replay: %d %s (replayed=%q)", again.status, again.body, again.header.Get("Idempotency-Replayed"))
			}
			other := ts.do(t, "POST", "/api/v1/users", admin, "application/json", strings.NewReader(strings.Replace(body, "wang", "wang2", 1)), "Idempotency-Key", "k-1")
			if other.status != 422 || other.problemCode(t) != "idempotency_key_reused" {
				t.Fatalf("same key, other body: %d %s", other.status, other.body)
			}
			// Without the key a second create is a conflict: the replay did
			// not create twice.
			dup := ts.do(t, "POST", "/api/v1/users", admin, "application/json", strings.NewReader(body))
			if dup.status != 409 {
				t.Fatalf("second create without key: %d %s", dup.status, dup.body)
			}
		})
	}
}

// docs/api.md names every route.
func TestEveryRouteIsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	ts := newTestSystem(t, "sqlite")
	for _, r := range ts.rt.table() {
		if !strings.Contains(string(doc), "`"+r.Pattern+"`") {
			t.Errorf("docs/api.md does not document `%s`", r.Pattern)
		}
	}
}

// The OpenAPI description (internal/apispec/openapi.json) has every
// /api/v1 route of the table, with its method, and nothing else.
func TestEveryAPIRouteIsDescribed(t *testing.T) {
	doc, err := apitest.Load()
	if err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	described := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			described[method+" "+path] = true
		}
	}
	ts := newTestSystem(t, "sqlite")
	routed := map[string]bool{}
	for _, r := range ts.rt.table() {
		if !strings.Contains(r.Pattern, " /api/v1/") {
			continue
		}
		routed[r.Pattern] = true
		if !described[r.Pattern] {
			t.Errorf("route %s has no path and method in internal/apispec/openapi.json", r.Pattern)
		}
		if r.Public != publicInDescription(doc, r.Pattern) {
			t.Errorf("route %s: Public is %v in routes.go, but the description says otherwise (security: [] marks a public operation)", r.Pattern, r.Public)
		}
	}
	for op := range described {
		if !routed[op] {
			t.Errorf("internal/apispec/openapi.json describes %s, which routes.go does not route", op)
		}
	}
}

func publicInDescription(doc *openapi3.T, pattern string) bool {
	method, path, _ := strings.Cut(pattern, " ")
	op := doc.Paths.Value(path).GetOperation(method)
	return op != nil && op.Security != nil && len(*op.Security) == 0
}

// GET /api/v1/openapi.json serves the description, public and cacheable:
// the same bytes as the repository's file, an ETag, and 304 when the
// client has it already.
func TestOpenAPIServed(t *testing.T) {
	ts := newTestSystem(t, "sqlite")
	got := ts.do(t, "GET", "/api/v1/openapi.json", "", "", nil)
	if got.status != 200 || got.header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d Content-Type %q", got.status, got.header.Get("Content-Type"))
	}
	file, err := os.ReadFile("../apispec/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.body, file) {
		t.Fatalf("served %d bytes, want the %d of internal/apispec/openapi.json", len(got.body), len(file))
	}
	var doc struct {
		OpenAPI string `json:"openapi"`
		Info    struct{ Title string }
	}
	if err := json.Unmarshal(got.body, &doc); err != nil || doc.OpenAPI != "3.1.0" || doc.Info.Title != "同心 Tongxin API" {
		t.Fatalf("document %+v (%v)", doc, err)
	}
	tag := got.header.Get("ETag")
	if !strings.HasPrefix(tag, `"`) || len(tag) < 10 {
		t.Fatalf("ETag %q", tag)
	}
	again := ts.do(t, "GET", "/api/v1/openapi.json", "", "", nil, "If-None-Match", tag)
	if again.status != 304 || len(again.body) != 0 || again.header.Get("ETag") != tag {
		t.Fatalf("revalidation: %d, %d bytes, ETag %q", again.status, len(again.body), again.header.Get("ETag"))
	}
	if other := ts.do(t, "GET", "/api/v1/openapi.json", "", "", nil, "If-None-Match", `"stale"`); other.status != 200 {
		t.Fatalf("stale tag: %d", other.status)
	}
}
