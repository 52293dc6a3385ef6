package app

import (
	"archive/zip"
	"bytes"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"tongxin/internal/apispec/apitest"

	"tongxin/internal/web"
)

// The access matrix (docs/architecture.md): every route of table(), for
// every role and anonymous, with an object in the role's scope and one
// outside it, answers as testdata/access.csv says. Regenerate the file
// with
//
//	go test ./internal/app -run TestAccessMatrix -update
//
// and review its diff: a new route gets its rows that way.

var update = flag.Bool("update", false, "rewrite testdata/access.csv from the answers")

const accessFile = "testdata/access.csv"

// matrixCell is one request of the matrix.
type matrixCell struct {
	route Route
	role  string
	scope string // in, out, -, or junk (a malformed body)
}

func (c matrixCell) key() string { return c.route.Pattern + "," + c.role + "," + c.scope }

// liveWorld is an open copy of the world with its server. watch is a
// connection of its own to the SQLite file: PRAGMA data_version changes
// when any other connection commits, so a cell that wrote anything marks
// the copy dirty and the next cell gets a fresh one.
type liveWorld struct {
	dir     string
	sys     *System
	srv     http.Handler
	watch   *sql.DB
	version int64
}

// openLiveWorld copies the world into root and serves it. The templates
// are compiled once (base); each server gets a copy of the renderer,
// whose menu it extends (base's menu is DefaultNav's literal, so the
// copies' appends never share an array).
func openLiveWorld(w *matrixWorld, root string, base *web.Renderer) (*liveWorld, error) {
	dir, err := os.MkdirTemp(root, "cell")
	if err != nil {
		return nil, err
	}
	if err := copyWorld(w.dir, dir); err != nil {
		return nil, err
	}
	sys, err := openMatrixSystem(dir)
	if err != nil {
		return nil, err
	}
	render := *base
	srv := newServer(sys, ServerOptions{}, &render)
	watch, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "world.db"))
	if err != nil {
		sys.Close()
		return nil, err
	}
	watch.SetMaxOpenConns(1)
	lw := &liveWorld{dir: dir, sys: sys, srv: srv, watch: watch}
	if lw.version, err = lw.dataVersion(); err != nil {
		lw.close()
		return nil, err
	}
	return lw, nil
}

func (lw *liveWorld) dataVersion() (int64, error) {
	var v int64
	err := lw.watch.QueryRow(`PRAGMA data_version`).Scan(&v)
	return v, err
}

func (lw *liveWorld) close() {
	lw.watch.Close()
	lw.sys.Close()
	os.RemoveAll(lw.dir)
}

// matrixDo is the one place the matrix sends a request and reads the
// answer (a contract checker may look at both here).
// Every API answer is also held to the OpenAPI description.
func matrixDo(t testing.TB, h http.Handler, req *http.Request) *http.Response {
	var reqBody []byte
	if req.Body != nil {
		reqBody, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	orig := req.Clone(req.Context())
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	resp := rec.Result()
	if strings.HasPrefix(orig.URL.Path, "/api/v1/") {
		apitest.Check(t, orig, reqBody, rec.Code, rec.Header(), rec.Body.Bytes())
	}
	return resp
}

// matrixRequest builds a cell's request: API routes with the role's
// bearer token, pages as a browser sends them (session cookie, same
// origin).
func matrixRequest(w *matrixWorld, c matrixCell) *http.Request {
	spec := matrixSpecs[c.route.Pattern]
	cc := &cellCtx{w: w, role: c.role, in: c.scope != "out"}
	method, path := matrixPath(c.route.Pattern, cc)
	var q, ctype string
	var body []byte
	if spec.build != nil {
		q, ctype, body = spec.build(cc)
	}
	api := strings.HasPrefix(path, "/api/")
	if method != "GET" && spec.build == nil {
		if api {
			ctype, body = "application/json", []byte(`{}`)
		} else {
			ctype = "application/x-www-form-urlencoded"
		}
	}
	if c.scope == "junk" {
		if api {
			ctype, body = "application/json", []byte(`{"bogus":`)
		} else {
			ctype, body = "application/x-www-form-urlencoded", []byte("%zz")
		}
	}
	if q != "" {
		path += "?" + q
	}
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if c.role != "anonymous" {
		if api && !spec.session {
			req.Header.Set("Authorization", "Bearer "+w.tokens[c.role])
		} else {
			req.AddCookie(&http.Cookie{Name: web.CookieName, Value: w.sessions[c.role]})
		}
	}
	if !api || spec.session {
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		req.Header.Set("Accept", "text/html")
	}
	return req
}

// outcome is what the table records of an answer: the status, the
// problem code of a problem+json answer, "login" for a redirect to the
// login page.
func outcome(resp *http.Response, body []byte) string {
	s := fmt.Sprint(resp.StatusCode)
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") {
		var p struct{ Code string }
		if json.Unmarshal(body, &p) == nil && p.Code != "" {
			s += " " + p.Code
		}
	}
	if loc := resp.Header.Get("Location"); resp.StatusCode/100 == 3 && strings.HasPrefix(loc, "/login") {
		s += " login"
	}
	return s
}

// matrixCells lists every cell of the table.
func matrixCells(table []Route) []matrixCell {
	var cells []matrixCell
	for _, r := range table {
		method, path, _ := strings.Cut(r.Pattern, " ")
		for _, role := range matrixRoles {
			for _, scope := range cellsOf(r.Pattern) {
				cells = append(cells, matrixCell{route: r, role: role, scope: scope})
			}
			// A malformed body from a caller without any permission: the
			// answer must be 401/403/404, not a decoding error.
			if method != "GET" && strings.HasPrefix(path, "/api/") && !r.Public && (role == "anonymous" || role == "volunteer") {
				cells = append(cells, matrixCell{route: r, role: role, scope: "junk"})
			}
		}
	}
	return cells
}

// cellResult is a cell's outcome and, for the canary check, its body.
type cellResult struct {
	outcome string
	leak    bool // the answer holds canaryMarker
}

// runMatrix answers every cell, GOMAXPROCS at a time, each worker on its
// own copy of the world, replaced after any cell that wrote.
func runMatrix(t *testing.T, w *matrixWorld, cells []matrixCell) map[string]cellResult {
	root := t.TempDir()
	base, err := newRenderer(nil)
	if err != nil {
		t.Fatal(err)
	}
	results := make(map[string]cellResult, len(cells))
	var mu sync.Mutex
	work := make(chan matrixCell)
	var wg sync.WaitGroup
	var fresh int
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lw *liveWorld
			defer func() {
				if lw != nil {
					lw.close()
				}
			}()
			for c := range work {
				if lw == nil {
					var err error
					if lw, err = openLiveWorld(w, root, base); err != nil {
						t.Errorf("access matrix: copy of the world: %v", err)
						continue
					}
					mu.Lock()
					fresh++
					mu.Unlock()
				}
				resp := matrixDo(t, lw.srv, matrixRequest(w, c))
				body, _ := io.ReadAll(resp.Body)
				res := cellResult{outcome: outcome(resp, body), leak: holdsMarker(resp, body)}
				if resp.StatusCode >= 500 {
					t.Errorf("%s as %s (%s): %d %s", c.route.Pattern, c.role, c.scope, resp.StatusCode, body)
				}
				// Whatever the cell wrote, the next one starts on a fresh
				// copy.
				if v, err := lw.dataVersion(); err != nil || v != lw.version {
					if err != nil {
						t.Errorf("access matrix: data_version: %v", err)
					}
					lw.close()
					lw = nil
				}
				mu.Lock()
				results[c.key()] = res
				mu.Unlock()
			}
		}()
	}
	for _, c := range cells {
		work <- c
	}
	close(work)
	wg.Wait()
	t.Logf("access matrix: %d cells, %d fresh copies of the world", len(cells), fresh)
	return results
}

// holdsMarker reports whether an answer holds canaryMarker, in its body
// or, for an XLSX workbook, in any of its parts.
func holdsMarker(resp *http.Response, body []byte) bool {
	if bytes.Contains(body, []byte(canaryMarker)) {
		return true
	}
	if !bytes.HasPrefix(body, []byte("PK\x03\x04")) {
		return false
	}
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		return false
	}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			continue
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if bytes.Contains(b, []byte(canaryMarker)) {
			return true
		}
	}
	return false
}

func readAccessFile(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(accessFile)
	if os.IsNotExist(err) {
		return map[string]string{}
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", accessFile, err)
	}
	out := map[string]string{}
	for i, r := range rows {
		if i == 0 {
			continue
		}
		if len(r) != 4 {
			t.Fatalf("%s line %d: want route,role,scope,status", accessFile, i+1)
		}
		out[r[0]+","+r[1]+","+r[2]] = r[3]
	}
	return out
}

func writeAccessFile(t *testing.T, cells []matrixCell, results map[string]cellResult) {
	t.Helper()
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	cw.Write([]string{"route", "role", "scope", "status"})
	rows := make([][]string, 0, len(cells))
	for _, c := range cells {
		rows = append(rows, []string{c.route.Pattern, c.role, c.scope, results[c.key()].outcome})
	}
	slices.SortFunc(rows, func(a, b []string) int {
		return strings.Compare(strings.Join(a[:3], "\x00"), strings.Join(b[:3], "\x00"))
	})
	cw.WriteAll(rows)
	if err := os.MkdirAll(filepath.Dir(accessFile), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(accessFile, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestAccessMatrix checks every route × role × scope against
// testdata/access.csv, and that no list or export given to a role whose
// scope excludes 石峰区 holds an object of it. SQLite only: the matrix is
// about authorization, which is the same SQL on both databases, and the
// other tests of each module run on PostgreSQL too.
func TestAccessMatrix(t *testing.T) {
	// Its ~5,000 requests check who may do what, not concurrency; under
	// the race detector they cost minutes. `make test` runs it on its own
	// without -race.
	if raceSlowdown > 1 {
		t.Skip("the access matrix runs without -race: go test -run TestAccessMatrix ./internal/app/")
	}
	start := time.Now()
	w := buildMatrixWorld(t)
	t.Logf("world built in %v", time.Since(start))
	table := matrixTable(t, w)
	cells := matrixCells(table)
	results := runMatrix(t, w, cells)
	t.Logf("matrix answered in %v", time.Since(start))

	if *update {
		writeAccessFile(t, cells, results)
		t.Logf("rewrote %s with %d rows: review its diff", accessFile, len(cells))
	} else {
		want := readAccessFile(t)
		var missing []string
		var diff []string
		seen := map[string]bool{}
		for _, c := range cells {
			k := c.key()
			seen[k] = true
			got := results[k].outcome
			exp, ok := want[k]
			switch {
			case !ok:
				if !slices.Contains(missing, c.route.Pattern) {
					missing = append(missing, c.route.Pattern)
				}
			case exp != got:
				diff = append(diff, fmt.Sprintf("  %-55s %-20s %-4s want %-28s got %s", c.route.Pattern, c.role, c.scope, exp, got))
			}
		}
		for _, p := range missing {
			t.Errorf("route %q has no rows in %s: run `go test ./internal/app -run TestAccessMatrix -update`, review the new rows, and commit them", p, accessFile)
		}
		var stale []string
		for k := range want {
			if !seen[k] {
				stale = append(stale, "  "+k)
			}
		}
		slices.Sort(diff)
		slices.Sort(stale)
		if len(diff) > 0 {
			t.Errorf("%d cells of %s changed (route, role, scope):\n%s\nIf the change is intended, run with -update and commit the file.", len(diff), accessFile, strings.Join(diff, "\n"))
		}
		if len(stale) > 0 {
			t.Errorf("%s has rows of routes or roles that no longer exist (run with -update):\n%s", accessFile, strings.Join(stale, "\n"))
		}
	}

	// Lists and exports: no answer to a role scoped in 芦淞区 holds an
	// object of 石峰区 (public routes are public).
	for _, c := range cells {
		res := results[c.key()]
		method, _, _ := strings.Cut(c.route.Pattern, " ")
		if method != "GET" || c.route.Public || publicData[c.route.Pattern] || c.role == "anonymous" || c.role == "system_admin" {
			continue
		}
		if res.leak && strings.HasPrefix(res.outcome, "2") {
			t.Errorf("%s as %s (%s) answers %s with an object of 石峰区 (%q)", c.route.Pattern, c.role, c.scope, res.outcome, canaryMarker)
		}
	}
	// The canaries are real: the city-wide administrator sees them.
	for _, p := range canaryLists {
		seen := false
		for _, scope := range cellsOf(p) {
			seen = seen || results[p+",system_admin,"+scope].leak
		}
		if !seen {
			t.Errorf("%s as system_admin does not show the canary %q", p, canaryMarker)
		}
	}
}

// publicData are pages that list what a public route shows anyway: the
// traffic-control desk lists every measure, as GET /api/v1/traffic/measures
// does for anyone.
var publicData = map[string]bool{"GET /traffic/manage": true}

// canaryLists are lists and exports in which the city-wide administrator
// sees objects of 石峰区.
var canaryLists = []string{
	"GET /api/v1/users", "GET /api/v1/enterprises", "GET /api/v1/tickets", "GET /api/v1/pass-batches",
	"GET /api/v1/checkpoints", "GET /api/v1/webhooks", "GET /api/v1/audit", "GET /api/v1/workgroups",
	"GET /users", "GET /enterprises", "GET /enterprises.xlsx", "GET /tickets", "GET /tickets.xlsx",
	"GET /checkpoints", "GET /webhooks", "GET /audit", "GET /pass-batches",
}

// matrixTable is the route table of a server on the world.
func matrixTable(t *testing.T, w *matrixWorld) []Route {
	t.Helper()
	base, err := newRenderer(nil)
	if err != nil {
		t.Fatal(err)
	}
	lw, err := openLiveWorld(w, t.TempDir(), base)
	if err != nil {
		t.Fatal(err)
	}
	defer lw.close()
	return lw.srv.(*Server).routes.table()
}
