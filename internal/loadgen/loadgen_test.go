package loadgen

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Every tenth request fails: the closed loop counts the failures among
// its requests instead of hiding them, and keeps their texts.
func TestClosedLoopConcurrentCountsErrors(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%10 == 0 {
			http.Error(w, "tenth", http.StatusInternalServerError)
			return
		}
		w.Write([]byte("ok\n"))
	}))
	defer srv.Close()
	target := func(int64) (*http.Request, error) { return http.NewRequest("GET", srv.URL+"/x", nil) }
	res, err := Run(context.Background(), Config{Target: target, Mode: Closed, Conns: 4, Duration: 300 * time.Millisecond,
		Warmup: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests < 50 {
		t.Fatalf("only %d requests in 300 ms: %v", res.Requests, res)
	}
	// Requests in flight at the window's edges are not measured, at most
	// one per worker on each side.
	want := res.Requests / 10
	if res.Errors < want-8 || res.Errors > want+8 {
		t.Errorf("errors = %d of %d requests, want about %d", res.Errors, res.Requests, want)
	}
	if res.Errors == 0 || len(res.ErrorText) == 0 || !strings.Contains(res.ErrorText[0], "status 500") {
		t.Errorf("error texts = %q", res.ErrorText)
	}
	if len(res.ErrorText) > maxErrorTexts {
		t.Errorf("%d error texts kept, want at most %d", len(res.ErrorText), maxErrorTexts)
	}
	if got := float64(res.Requests) / 0.3; res.ReqPerSec < got*0.99 || res.ReqPerSec > got*1.01 {
		t.Errorf("req/s = %.0f, want %d / 0.3 s", res.ReqPerSec, res.Requests)
	}
	if res.OK() {
		t.Error("a run with errors is OK")
	}
	if res.Sent < res.Requests+10 { // the warm-up's too
		t.Errorf("sent %d, measured %d", res.Sent, res.Requests)
	}
}

// One sender at 100 requests/s, and the server stalls 300 ms on the
// twentieth: the thirty requests due during the stall wait for the sender
// and their latency counts from when they were due, so at least a fifth
// of the requests took over 100 ms. Measured from when they were sent,
// only the stalled one would have, and p95 would be a millisecond. (Its
// figures are wall-clock ones, so it stays out of make test's race run,
// where one sender under the detector cannot hold 100 requests/s on a
// loaded machine; the other open-loop tests run there.)
func TestOpenLoopCountsStall(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 20 {
			time.Sleep(300 * time.Millisecond)
		}
		w.Write([]byte("ok\n"))
	}))
	defer srv.Close()
	target := func(int64) (*http.Request, error) { return http.NewRequest("GET", srv.URL+"/x", nil) }
	res, err := Run(context.Background(), Config{Target: target, Mode: Open, Rate: 100, Conns: 1, Duration: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 100 || res.Dropped != 0 || res.Errors != 0 {
		t.Fatalf("requests %d, dropped %d, errors %d; want 100, 0, 0", res.Requests, res.Dropped, res.Errors)
	}
	if res.Max < 300*time.Millisecond || res.P99 < 250*time.Millisecond || res.P95 < 100*time.Millisecond {
		t.Errorf("p95 %v p99 %v max %v: the stall is not counted for the requests due during it", res.P95, res.P99, res.Max)
	}
	if res.P50 > 50*time.Millisecond {
		t.Errorf("p50 = %v: the requests after the stall should be fast again", res.P50)
	}
	if res.Late-res.Behind < 20 {
		t.Errorf("late = %d, %d of them with a free sender; want the requests due during the stall (about 30) late for want of one",
			res.Late, res.Behind)
	}
	if res.ReqPerSec < 85 || res.ReqPerSec > 101 {
		t.Errorf("achieved %.1f req/s, want about 100", res.ReqPerSec)
	}
}

// A server that does not answer within the drain time: what was due and
// not sent is dropped, and the run says so.
func TestOpenLoopConcurrentDrops(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	target := func(int64) (*http.Request, error) { return http.NewRequest("GET", srv.URL+"/x", nil) }
	res, err := Run(context.Background(), Config{Target: target, Mode: Open, Rate: 50, Conns: 2, Duration: 200 * time.Millisecond,
		Drain: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Dropped != 8 || res.Requests != 2 || res.Errors != 2 || res.OK() {
		t.Errorf("dropped %d, requests %d, errors %d; want 8 of 10 dropped and the 2 sent failed", res.Dropped, res.Requests, res.Errors)
	}
}

func TestPercentileExact(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 200; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	rand.Shuffle(len(d), func(i, j int) { d[i], d[j] = d[j], d[i] })
	recs := []recorder{{lats: d[:77]}, {lats: d[77:]}}
	res := merge(recs)
	if res.P50 != 100*time.Millisecond || res.P95 != 190*time.Millisecond || res.P99 != 198*time.Millisecond ||
		res.Max != 200*time.Millisecond || res.Requests != 200 {
		t.Errorf("p50 %v p95 %v p99 %v max %v of 1..200 ms", res.P50, res.P95, res.P99, res.Max)
	}
	ten := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for p, want := range map[float64]time.Duration{0: 1, 10: 1, 11: 2, 50: 5, 90: 9, 91: 10, 99: 10, 100: 10} {
		if got := Percentile(ten, p); got != want {
			t.Errorf("Percentile(1..10, %v) = %v, want %v", p, got, want)
		}
	}
	if Percentile(nil, 99) != 0 {
		t.Error("percentile of nothing is not 0")
	}
}

func TestBareHandlerSizes(t *testing.T) {
	srv := httptest.NewServer(BareHandler(JSONBody(138), JSONBody(445)))
	defer srv.Close()
	for _, c := range []struct {
		method string
		want   int
	}{{"GET", 138}, {"POST", 445}} {
		req, _ := http.NewRequest(c.method, srv.URL+"/api/v1/me", strings.NewReader(strings.Repeat("y", 100000)))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || len(body) != c.want || res.Header.Get("Content-Type") != "application/json; charset=utf-8" {
			t.Errorf("%s: %d, %d bytes, %q; want 200, %d bytes of JSON", c.method, res.StatusCode, len(body), res.Header.Get("Content-Type"), c.want)
		}
	}
	if got := JSONBody(5); string(got) != "{\"pad\":\"\"}\n" {
		t.Errorf("JSONBody(5) = %q", got)
	}
}

func TestConfigErrors(t *testing.T) {
	target := func(int64) (*http.Request, error) { return http.NewRequest("GET", "http://127.0.0.1:1/", nil) }
	for name, cfg := range map[string]Config{
		"no target":  {Mode: Closed, Conns: 1, Duration: time.Second},
		"rate 0":     {Target: target, Mode: Open, Duration: time.Second},
		"conns 0":    {Target: target, Mode: Closed, Duration: time.Second},
		"no mode":    {Target: target, Conns: 1, Duration: time.Second},
		"duration 0": {Target: target, Mode: Closed, Conns: 1},
	} {
		if _, err := Run(context.Background(), cfg); err == nil || !strings.HasPrefix(err.Error(), "loadgen: ") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

// A scenario's Check sees every 2xx answer whole, chunked or not: a
// batch with a record not created counts as an error, on the same
// kept-alive connection.
func TestClosedLoopConcurrentChecksAnswers(t *testing.T) {
	var repeat, chunked atomic.Bool
	srv, conns := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		n := strings.Count(string(body), `"client_id"`)
		status := `{"status":"created","sample":{"id":1,"tube":"` + strings.Repeat("t", 40) + `"}}`
		parts := make([]string, n)
		for k := range parts {
			parts[k] = status
		}
		if repeat.Load() {
			parts[n-1] = `{"status":"repeat","sample":{"id":1}}`
		}
		if chunked.Load() {
			for _, p := range parts {
				io.WriteString(w, p)
				w.(http.Flusher).Flush()
			}
			return
		}
		io.WriteString(w, `{"items":[`+strings.Join(parts, ",")+`]}`)
	})
	codes := make([]string, 2500)
	for k := range codes {
		codes[k] = fmt.Sprintf("c%d", k)
	}
	w, err := NewWire("samples-batch", Options{BaseURL: srv.URL, Token: "t", Rounds: []string{"1"}, Residents: codes})
	if err != nil {
		t.Fatal(err)
	}
	run := func() Result {
		res, err := Run(context.Background(), Config{Wire: w, Mode: Closed, Conns: 2, Duration: 150 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if res := run(); res.Errors != 0 || res.Requests == 0 {
		t.Errorf("all created: %v", res)
	}
	chunked.Store(true)
	if res := run(); res.Errors != 0 || res.Requests == 0 {
		t.Errorf("all created, chunked: %v", res)
	}
	chunked.Store(false)
	repeat.Store(true)
	res := run()
	if res.Errors != res.Requests || res.Requests == 0 || !strings.Contains(res.ErrorText[0], "999 of 1000 records created") {
		t.Errorf("a repeat in each: %v", res)
	}
	if c := conns.Load(); c != 6 {
		t.Errorf("%d connections for three runs of two workers; a refused answer must keep its connection", c)
	}
}
