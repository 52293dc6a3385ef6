package app_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// --debug-addr serves Go's profiler on a loopback address of its own; the
// public listener has none of it, and an address off the loopback
// interface is refused before anything starts.
func TestServeDebugListener(t *testing.T) {
	in := newInst(t, "sqlite")
	debug := freeAddr(t)
	s := serve(t, in, "--debug-addr", debug)
	get := func(url string) (int, string) {
		t.Helper()
		r, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		return r.StatusCode, string(b)
	}
	if code, body := get("http://" + debug + "/debug/pprof/"); code != 200 || !strings.Contains(body, "goroutine") {
		t.Errorf("debug listener: %d %.200s", code, body)
	}
	if code, body := get("http://" + debug + "/debug/pprof/heap?debug=1"); code != 200 || !strings.Contains(body, "heap profile") {
		t.Errorf("heap profile: %d %.200s", code, body)
	}
	if code, body := get(s.URL + "/debug/pprof/"); code == 200 || strings.Contains(body, "goroutine") {
		t.Errorf("the public listener answers /debug/pprof/: %d %.200s", code, body)
	}

	for _, addr := range []string{"0.0.0.0:6060", ":6060", "192.0.2.7:6060", "tongxin.example.gov.cn:6060", "6060"} {
		out, err := cli(t, in, "", "serve", "--addr", "127.0.0.1:0", "--debug-addr", addr)
		if err == nil || !strings.Contains(out+err.Error(), "--debug-addr") {
			t.Errorf("--debug-addr %s: %v %s", addr, err, out)
		}
	}
}
