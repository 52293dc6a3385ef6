package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"tongxin/internal/loadgen"
	"tongxin/internal/pii"
)

func runArgs(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestFlagErrors(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	noMarkers := filepath.Join(t.TempDir(), "b.md")
	os.WriteFile(noMarkers, []byte("# Benchmarks\n"), 0o644)
	codes := filepath.Join(t.TempDir(), "residents.txt")
	os.WriteFile(codes, []byte("ra\nrb\n"), 0o644)
	u := "http://127.0.0.1:1"
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "usage: tongxin-load"},
		{[]string{"fly"}, `unknown command "fly"`},
		{[]string{"run"}, "-url and -scenario are required"},
		{[]string{"run", "-url", u, "-scenario", "nope", "-token", "t"}, `unknown scenario "nope"`},
		{[]string{"run", "-url", u, "-scenario", "me"}, "needs a token or a session cookie"},
		{[]string{"run", "-url", "127.0.0.1:1", "-scenario", "me", "-token", "t"}, "http://host:port"},
		{[]string{"run", "-url", u, "-scenario", "me", "-token", "t", "-mode", "open"}, "-rate above 0"},
		{[]string{"run", "-url", u, "-scenario", "me", "-token", "t", "-mode", "open", "-rate", "-5"}, "-rate above 0"},
		{[]string{"run", "-url", u, "-scenario", "me", "-token", "t", "-mode", "sideways"}, "-mode must be open or closed"},
		{[]string{"run", "-url", u, "-scenario", "me", "-token", "t", "-conns", "0"}, "-conns must be at least 1"},
		{[]string{"run", "-url", u, "-scenario", "me", "-token", "t", "-duration", "0s"}, "-duration"},
		{[]string{"run", "-url", u, "-scenario", "scan", "-token", "t"}, "checkpoint id and at least one pass token"},
		{[]string{"run", "-url", u, "-scenario", "report", "-token", "t"}, "enterprise key"},
		{[]string{"run", "-url", u, "-scenario", "me", "-token", "t", "-rate", "fast"}, "invalid value"},
		{[]string{"run", "-bogus"}, "flag provided but not defined"},
		{[]string{"run", "-url", u, "extra"}, `unexpected argument "extra"`},
		{[]string{"bare", "-get-bytes", "3"}, "at least 13"},
		{[]string{"bare", "-addr", "nowhere:-1"}, "listen on"},
		{[]string{"suite", "-rounds", "0", "-tongxin", self}, "-rounds must be at least 1"},
		{[]string{"suite", "-tongxin", "/no/such/tongxin"}, "no such binary"},
		{[]string{"suite", "-tongxin", self, "-write", noMarkers}, "no <!-- tongxin-load:begin -->"},
		{[]string{"suite", "-tongxin", self, "-only", "samples-one,samples-twice"}, `no scenario "samples-twice"`},
		{[]string{"suite", "-tongxin", self, "-residents", "0"}, "-residents must be 1 to 50000"},
		{[]string{"suite", "-tongxin", self, "-residents", "60000"}, "-residents must be 1 to 50000"},
		{[]string{"suite", "-tongxin", self, "-batch", "1001"}, "-batch must be 1 to 1000"},
		{[]string{"suite", "-tongxin", self, "-residents", "400"}, "do not fill a batch of 1000"},
		{[]string{"suite", "-tongxin", self, "-sample-conns", "0"}, "-sample-conns and -batch-conns"},
		{[]string{"suite", "-tongxin", self, "-samples-rate", "0"}, "-samples-rate must be above 0"},
		{[]string{"suite", "-tongxin", self, "-db", "sqlite:/tmp/x.db"}, "-db must be a PostgreSQL database"},
		{[]string{"suite", "-tongxin", self, "-db", "postgres://u@127.0.0.1/x", "-write", "docs/benchmarks.md"}, "cannot be written with -write"},
		{[]string{"run", "-url", u, "-scenario", "samples-one", "-token", "t"}, "at least one round and one resident"},
		{[]string{"run", "-url", u, "-scenario", "samples-one", "-token", "t", "-round", "1", "-residents", "/no/such/file"}, "-residents: open"},
		{[]string{"run", "-url", u, "-scenario", "samples-batch", "-token", "t", "-round", "1", "-residents", codes, "-batch", "5"},
			"do not fill one batch of 5"},
		{[]string{"raw-samples"}, "-db is required"},
		{[]string{"raw-samples", "-db", "sqlite:x.db"}, "-round must be a round's id"},
		{[]string{"raw-samples", "-db", "sqlite:x.db", "-round", "3"}, "-community needs at least one code"},
		{[]string{"raw-samples", "-db", "sqlite:x.db", "-round", "3", "-community", "1", "-batch", "0"}, "-batch must be 1 to 1000"},
		{[]string{"raw-samples", "-db", "sqlite:x.db", "-round", "3", "-community", "1", "-duration", "0s"}, "-duration must be above 0"},
	} {
		code, _, stderr := runArgs(c.args...)
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", c.args, code, stderr, c.want)
		}
	}
	if code, _, _ := runArgs("run", "-h"); code != 0 {
		t.Errorf("run -h: exit %d", code)
	}
}

// A short run against a loopback server: one line of results, or JSON;
// a run with errors exits 1 with its result printed.
func TestRunPrintsResult(t *testing.T) {
	var fail atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fail.Load() || r.Header.Get("Authorization") != "Bearer t" || r.URL.Path != "/api/v1/me" {
			http.Error(w, "no", http.StatusForbidden)
			return
		}
		w.Write([]byte("{}\n"))
	}))
	defer srv.Close()
	args := []string{"run", "-url", srv.URL, "-scenario", "me", "-token", "t", "-conns", "2", "-duration", "200ms", "-warmup", "0s"}
	code, out, stderr := runArgs(args...)
	if code != 0 || !strings.HasPrefix(out, "me closed: ") || !strings.Contains(out, "errors 0") {
		t.Errorf("exit %d, %q %q", code, out, stderr)
	}
	code, out, _ = runArgs(append(args, "-json", "-mode", "open", "-rate", "100")...)
	var res loadgen.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != 0 || res.Mode != loadgen.Open || res.Requests != 20 {
		t.Errorf("exit %d, %q: %v", code, out, err)
	}
	fail.Store(true)
	code, out, _ = runArgs(args...)
	if code != 1 || !strings.Contains(out, "status 403") {
		t.Errorf("a failing run: exit %d, %q", code, out)
	}
}

func TestReplaceMarked(t *testing.T) {
	file := filepath.Join(t.TempDir(), "b.md")
	os.WriteFile(file, []byte("# B\n\n"+beginMarker+"\nold table\n"+endMarker+"\n\nafter\n"), 0o644)
	for range 2 {
		if err := replaceMarked(file, "new table\n"); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := os.ReadFile(file)
	if want := "# B\n\n" + beginMarker + "\nnew table\n" + endMarker + "\n\nafter\n"; string(got) != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if g := group(34173); g != "34 173" {
		t.Errorf("group(34173) = %q", g)
	}
	r := &report{rounds: []round{{"bare/me": {Result: loadgen.Result{ReqPerSec: 3}}}, {"bare/me": {Result: loadgen.Result{ReqPerSec: 1}}},
		{"bare/me": {Result: loadgen.Result{ReqPerSec: 10}}}, {}}}
	if m := r.median("bare/me", func(x loadgen.Result) float64 { return x.ReqPerSec }); m != 3 {
		t.Errorf("median of 3, 1, 10 = %v", m)
	}
}

// The generated register: valid GB 11643 ID numbers, none twice across
// communities, households of at most three at distinct addresses.
func TestRegisterCSV(t *testing.T) {
	seen := map[string]bool{}
	for k, code := range testingCommunities {
		rows, err := csv.NewReader(bytes.NewReader(registerCSV(code, 3001, k*3001))).ReadAll()
		if err != nil || len(rows) != 3002 {
			t.Fatalf("%s: %d rows, %v", code, len(rows), err)
		}
		places := map[string]int{}
		for _, row := range rows[1:] {
			if _, err := pii.NormalizeResidentID(row[6]); err != nil || seen[row[6]] || row[0] != code {
				t.Fatalf("%v: %v (or seen before)", row, err)
			}
			seen[row[6]] = true
			places[strings.Join(row[1:5], "/")]++
		}
		for p, n := range places {
			if n > 3 {
				t.Errorf("%s: %d residents at %s", code, n, p)
			}
		}
		if len(places) != 1001 {
			t.Errorf("%s: %d households for 3001 residents", code, len(places))
		}
	}
}
