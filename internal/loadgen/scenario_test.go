package loadgen

import (
	"io"
	"strings"
	"testing"
)

func TestScenarioRequests(t *testing.T) {
	o := Options{BaseURL: "http://127.0.0.1:8080/", Token: "tok", Checkpoint: "2", PassTokens: []string{"a.b.c", "d.e.f"}, RunID: "r1",
		Enterprises: []string{"K1", "K2"}, Date: "2026-12-06"}
	cases := []struct{ scenario, method, path, body string }{
		{"me", "GET", "/api/v1/me", ""},
		{"stats-page", "GET", "/resumption", ""},
		{"queue-page", "GET", "/tickets", ""},
		{"scan", "POST", "/api/v1/checkpoints/2/scans", `{"token":"d.e.f","client_id":"load-r1-000000000001"}`},
		{"report", "POST", "/api/v1/enterprises/K2/reports", `"date":"2026-12-06"`},
	}
	for _, c := range cases {
		target, err := NewTarget(c.scenario, o)
		if err != nil {
			t.Fatalf("%s: %v", c.scenario, err)
		}
		req, err := target(1)
		if err != nil {
			t.Fatal(err)
		}
		var body []byte
		if req.Body != nil {
			body, _ = io.ReadAll(req.Body)
		}
		if req.Method != c.method || req.URL.String() != "http://127.0.0.1:8080"+c.path || !strings.Contains(string(body), c.body) ||
			req.Header.Get("Authorization") != "Bearer tok" {
			t.Errorf("%s: %s %s %s %q", c.scenario, req.Method, req.URL, body, req.Header.Get("Authorization"))
		}
	}
	o2 := o
	o2.BaseURL = "http://127.0.0.1:8080/base/"
	me, _ := NewTarget("me", o2)
	if req, err := me(0); err != nil {
		t.Error(err)
	} else if req.URL.String() != "http://127.0.0.1:8080/base/api/v1/me" {
		t.Errorf("under a path: %v", req.URL)
	}
	scan, _ := NewTarget("scan", o)
	a, _ := scan(7)
	b, _ := scan(8)
	ab, _ := io.ReadAll(a.Body)
	bb, _ := io.ReadAll(b.Body)
	if string(ab) == string(bb) {
		t.Error("two scans carry the same body")
	}
}

func TestScenarioErrors(t *testing.T) {
	ok := Options{BaseURL: "http://127.0.0.1:1", Token: "t"}
	for _, c := range []struct {
		scenario string
		edit     func(*Options)
		want     string
	}{
		{"nope", func(*Options) {}, "unknown scenario"},
		{"me", func(o *Options) { o.Token = "" }, "token or a session cookie"},
		{"me", func(o *Options) { o.BaseURL = "127.0.0.1:1" }, "url"},
		{"me", func(o *Options) { o.Token, o.Cookie = "", "novalue" }, "name=value"},
		{"scan", func(*Options) {}, "checkpoint"},
		{"scan", func(o *Options) { o.Checkpoint, o.PassTokens, o.RunID = "1", []string{"x"}, "a b" }, "run id"},
		{"report", func(*Options) {}, "enterprise"},
		{"report", func(o *Options) { o.Enterprises, o.Date = []string{"K"}, "6/12/2026" }, "YYYY-MM-DD"},
	} {
		o := ok
		c.edit(&o)
		if _, err := NewTarget(c.scenario, o); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.scenario, err, c.want)
		}
	}
}
