package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"tongxin/internal/loadgen"
)

// wrk 4.1's report with --latency, one with answers other than 2xx or 3xx
// and socket errors.
const (
	wrkOK = `Running 1s test @ http://127.0.0.1:43525/api/v1/me
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.21ms    2.44ms  29.57ms   92.77%
    Req/Sec    22.14k     3.38k   27.56k    80.00%
  Latency Distribution
     50%  511.00us
     75%  755.00us
     90%    2.63ms
     99%   14.17ms
  22008 requests in 1.04s, 12.30MB read
Requests/sec:  21224.19
Transfer/sec:     11.86MB
`
	wrkFailed = `Running 1s test @ http://127.0.0.1:18099/nope
  1 threads and 2 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    11.31ms   20.20ms    1.08s   88.06%
    Req/Sec   497.30    369.54     1.00k    60.00%
  Latency Distribution
     50%    2.45ms
     75%    7.69ms
     90%   37.29ms
     99%   91.60ms
  495 requests in 1.05s, 251.37KB read
  Socket errors: connect 0, read 3, write 0, timeout 2
  Non-2xx or 3xx responses: 495
Requests/sec:    469.58
Transfer/sec:    238.46KB
`
)

func TestParseWrk(t *testing.T) {
	res, p90, err := parseWrk(wrkOK)
	if err != nil || res.Requests != 22008 || res.ReqPerSec != 21224.19 || res.Errors != 0 || res.P50 != 511*time.Microsecond ||
		p90 != 2630*time.Microsecond || res.P99 != 14170*time.Microsecond || res.Max != 29570*time.Microsecond || res.Window != 1040*time.Millisecond {
		t.Errorf("%+v p90 %v, %v", res, p90, err)
	}
	res, _, err = parseWrk(wrkFailed)
	if err != nil || res.Requests != 495 || res.Errors != 500 || res.Max != 1080*time.Millisecond || len(res.ErrorText) != 2 {
		t.Errorf("%+v, %v", res, err)
	}
	if _, _, err := parseWrk("unable to connect to 127.0.0.1:1 Connection refused\n"); err == nil {
		t.Error("no report read as one")
	}
	if got := luaString("Bearer a\"b\\c\n"); got != `"Bearer a\034b\092c\010"` {
		t.Errorf("luaString = %s", got)
	}
	if wrkSeconds(2500*time.Millisecond) != "3s" || wrkSeconds(time.Millisecond) != "1s" || wrkSeconds(time.Minute) != "60s" {
		t.Error("wrkSeconds")
	}
}

// wrk itself, where it is installed, against a loopback server: the
// scripts send the headers, and scans a new client id each time.
func TestWrkScripts(t *testing.T) {
	path := wrkPath("wrk")
	if path == "" {
		t.Skip("wrk is not installed (Debian package wrk)")
	}
	var mu sync.Mutex
	ids := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/me":
			if r.Method != "GET" || r.Header.Get("Authorization") != "Bearer hq\"tok" {
				http.Error(w, "me", http.StatusForbidden)
				return
			}
		case "/api/v1/checkpoints/7/scans":
			var body struct {
				Token    string `json:"token"`
				ClientID string `json:"client_id"`
			}
			err := json.NewDecoder(r.Body).Decode(&body)
			if err != nil || r.Method != "POST" || r.Header.Get("Authorization") != "Bearer off" || r.Header.Get("Content-Type") != "application/json" ||
				(body.Token != "p1" && body.Token != "p2") || !strings.HasPrefix(body.ClientID, "load-wrk-") || len(body.ClientID) > 64 {
				http.Error(w, "scan", http.StatusBadRequest)
				return
			}
			mu.Lock()
			ids[body.ClientID]++
			mu.Unlock()
		default:
			http.NotFound(w, r)
			return
		}
		w.Write([]byte("{}\n"))
	}))
	defer srv.Close()
	s := &suiteFlags{wrk: path, conns: 4, duration: time.Second, dir: t.TempDir(),
		inst: &install{hqToken: "hq\"tok", officerToken: "off", checkpoint: "7", passes: []string{"p1", "p2"}}}
	for _, sc := range wrkScenarios {
		res, err := s.runWrk(context.Background(), s.dir, sc, srv.URL, nil, 0)
		if err != nil || res.Errors != 0 || res.Requests < 10 || !res.wrk {
			t.Errorf("%s: %v, %v", sc, res, err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for id, n := range ids {
		if n > 1 {
			t.Errorf("client id %s sent %d times", id, n)
		}
	}
	if len(ids) < 10 {
		t.Errorf("%d scans", len(ids))
	}
}

// The report puts wrk's ratios under tongxin-load's, ✔ within 10 % of
// them, and says how they were measured; without wrk it says there was
// no check.
func TestReportWrkRows(t *testing.T) {
	at := func(rps float64) measured { return measured{Result: loadgen.Result{ReqPerSec: rps}} }
	rd := round{"bare/me": at(30000), "tongxin/me": at(18000), "bare/scan": at(20000), "tongxin/scan": at(10000),
		"bare/me-wrk": at(25000), "tongxin/me-wrk": at(16000), "bare/scan-wrk": at(20000), "tongxin/scan-wrk": at(6000)}
	s := &suiteFlags{wrk: "/usr/bin/wrk", conns: 16, duration: 10 * time.Second, rounds: 1}
	md := newReport(s, []round{rd}).markdown()
	for _, want := range []string{
		"| `GET /api/v1/me`, closed loop, measured by wrk: req/s | 16 000 | 25 000 | **0.64** | within 10 % of tongxin-load's 0.60 (×1.07) ✔ |",
		"| online scan `POST /api/v1/checkpoints/{id}/scans`, closed loop, measured by wrk: req/s | 6 000 | 20 000 | **0.30** | within 10 % of tongxin-load's 0.50 (×0.60) ✘ |",
		"`wrk -t1 -c16 -d10s --latency`",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("no %q in\n%s", want, md)
		}
	}
	s.wrk = ""
	if md := newReport(s, []round{rd}).markdown(); strings.Contains(md, "measured by wrk") || !strings.Contains(md, "wrk did not run") {
		t.Errorf("without wrk:\n%s", md)
	}
}

// Beside a ratio of medians the report gives each round's ratio, the two
// runs of a round divided; the gate's scans are divided by bare's scans.
func TestReportRatiosByRound(t *testing.T) {
	at := func(rps float64) measured { return measured{Result: loadgen.Result{ReqPerSec: rps}} }
	rounds := []round{
		{"bare/scan": at(50000), "tongxin/scan": at(25000), "tongxin/gate-scan": at(20000)},
		{"bare/scan": at(60000), "tongxin/scan": at(24000), "tongxin/gate-scan": at(30000)},
		{"bare/scan": at(40000), "tongxin/scan": at(22000), "tongxin/gate-scan": at(26000)},
	}
	s := &suiteFlags{conns: 16, duration: 10 * time.Second, rounds: 3}
	md := newReport(s, rounds).markdown()
	for _, want := range []string{
		"| 24 000 | 50 000 | **0.48** (by round 0.50, 0.40, 0.55) | ≥ 0.50 ✘ |",
		"| 26 000 | 50 000 | **0.52** (by round 0.40, 0.50, 0.65) | ≥ 0.50 ✔ |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("no %q in\n%s", want, md)
		}
	}
	if md := newReport(&suiteFlags{conns: 16, duration: time.Second, rounds: 1}, rounds[:1]).markdown(); strings.Contains(md, "by round") {
		t.Errorf("one round, yet ratios by round:\n%s", md)
	}
}
