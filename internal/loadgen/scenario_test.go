package loadgen

import (
	"encoding/json"
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

func TestSampleRequests(t *testing.T) {
	o := Options{BaseURL: "http://127.0.0.1:8080", Token: "tok", RunID: "r1", Rounds: []string{"7", "8"},
		Residents: []string{"ca", "cb", "cc", "cd", "ce", "cf", "cg"}}
	one, err := NewTarget("samples-one", o)
	if err != nil {
		t.Fatal(err)
	}
	// Seven residents: requests 0-6 in round 7, 7-13 in round 8.
	for _, c := range []struct {
		i          int64
		path, body string
	}{
		{0, "/api/v1/rounds/7/samples", `{"client_id":"Sr1-0","resident":"ca","tube":"Tr1-0-0","pool_size":10,"mode":"site"}`},
		{6, "/api/v1/rounds/7/samples", `{"client_id":"Sr1-6","resident":"cg","tube":"Tr1-0-0","pool_size":10,"mode":"site"}`},
		{8, "/api/v1/rounds/8/samples", `{"client_id":"Sr1-8","resident":"cb","tube":"Tr1-1-0","pool_size":10,"mode":"site"}`},
	} {
		req, err := one(c.i)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(req.Body)
		if req.Method != "POST" || req.URL.Path != c.path || string(body) != c.body || req.Header.Get("Content-Type") != "application/json" {
			t.Errorf("samples-one %d: %s %s %s", c.i, req.Method, req.URL, body)
		}
	}
	o.Batch = 3 // two requests a round (six of the seven residents)
	batch, err := NewTarget("samples-batch", o)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := batch(3)
	body, _ := io.ReadAll(req.Body)
	var recs []map[string]any
	if err := json.Unmarshal(body, &recs); err != nil || len(recs) != 3 || req.URL.Path != "/api/v1/rounds/8/samples" {
		t.Fatalf("samples-batch 3: %s %s: %v", req.URL, body, err)
	}
	if recs[0]["client_id"] != "Sr1-9" || recs[0]["resident"] != "cd" || recs[2]["resident"] != "cf" || recs[2]["tube"] != "Tr1-1-0" ||
		recs[1]["pool_size"] != float64(10) {
		t.Errorf("samples-batch 3: %v", recs)
	}
	w, _ := NewWire("samples-batch", o)
	if err := w.Check(0, []byte(`{"items":[{"status":"created"},{"status":"created"},{"status":"created"}]}`)); err != nil {
		t.Errorf("all created: %v", err)
	}
	err = w.Check(0, []byte(`{"items":[{"status":"created"},{"status":"repeat","sample":{}},{"status":"created"}]}`))
	if err == nil || !strings.Contains(err.Error(), "2 of 3") || !strings.Contains(err.Error(), `"status":"repeat"`) {
		t.Errorf("a repeat: %v", err)
	}
	for _, c := range []struct {
		edit func(*Options)
		want string
	}{
		{func(o *Options) { o.Rounds = nil }, "at least one round"},
		{func(o *Options) { o.Residents = nil }, "at least one round"},
		{func(o *Options) { o.Batch = 8 }, "do not fill one batch"},
		{func(o *Options) { o.Batch = 1001 }, "1 to 1000"},
		{func(o *Options) { o.Rounds = []string{"7/x"} }, "plain tokens"},
		{func(o *Options) { o.Residents[0] = `a"b` }, "plain tokens"},
		{func(o *Options) { o.RunID = "a b" }, "run id"},
	} {
		o2 := o
		o2.Residents = append([]string{}, o.Residents...)
		c.edit(&o2)
		if _, err := NewWire("samples-batch", o2); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("err = %v, want %q", err, c.want)
		}
	}
}
