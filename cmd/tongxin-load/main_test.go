package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"tongxin/internal/loadgen"
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
