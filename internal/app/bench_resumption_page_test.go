package app

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// BenchmarkResumptionPages measures the time to the first byte of the
// statistics pages of the demo city (about 2,000 units, two weeks of
// reports) through the whole server, one request at a time over loopback
// HTTP with a session cookie: GET /resumption (figures, breakdown by
// district, 14-day trend, briefing, charts), the same for the four urban
// districts, and the first page of /resumption/not-resumed. Beside them,
// GET /api/v1/me on the same server: the floor of a signed-in request.
// The target for the statistics page is 200 ms to first byte.
//
//	go test -run '^$' -bench BenchmarkResumptionPages -benchtime 20x ./internal/app/
func BenchmarkResumptionPages(b *testing.B) {
	ts := newTestSystem(b, "sqlite")
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	cookie := benchLogin(b, ts, client, "commander")
	for _, c := range []struct{ name, path string }{
		{"stats-page", "/resumption"},
		{"stats-page-urban", "/resumption?area=430202,430203,430204,430211"},
		{"not-resumed-page", "/resumption/not-resumed"},
		{"floor-me", "/api/v1/me"},
	} {
		b.Run(c.name, func(b *testing.B) {
			var ttfb, total time.Duration
			var size int64
			for b.Loop() {
				req, _ := http.NewRequest("GET", ts.srv.URL+c.path, nil)
				req.Header.Set("Cookie", cookie)
				start := time.Now()
				res, err := client.Do(req) // returns with the headers: the first byte
				if err != nil {
					b.Fatal(err)
				}
				ttfb += time.Since(start)
				n, _ := io.Copy(io.Discard, res.Body)
				res.Body.Close()
				total += time.Since(start)
				size = n
				if res.StatusCode != http.StatusOK {
					b.Fatalf("%s: status %d", c.path, res.StatusCode)
				}
			}
			b.ReportMetric(float64(ttfb.Microseconds())/1000/float64(b.N), "ms-ttfb")
			b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms-total")
			b.ReportMetric(float64(size)/1024, "KiB")
		})
	}
}

// benchLogin opens a session for a demo user and returns its Cookie
// header.
func benchLogin(b *testing.B, ts *testSystem, client *http.Client, username string) string {
	b.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), "POST", ts.srv.URL+"/api/v1/session",
		strings.NewReader(fmt.Sprintf(`{"username":%q,"password":%q}`, username, DemoPassword)))
	req.Header.Set("Content-Type", "application/json")
	res, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	for _, c := range res.Cookies() {
		if c.Name == "tongxin_session" {
			return c.Name + "=" + c.Value
		}
	}
	b.Fatalf("login %s: %d, no session cookie", username, res.StatusCode)
	return ""
}
