package app

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"tongxin/internal/clock"
	"tongxin/internal/db"
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
	benchPages(b, ts)
}

// BenchmarkResumptionPagesCity is BenchmarkResumptionPages with 10,000
// more units over the twelve urban streets and a report a day for each
// of the last 90 days (900,000 reports), written straight into the tables,
// and the per-day figures computed by migration 0015's statements: the
// issue's city scale.
//
//	go test -run '^$' -bench BenchmarkResumptionPagesCity -benchtime 20x ./internal/app/
func BenchmarkResumptionPagesCity(b *testing.B) {
	ts := newTestSystem(b, "sqlite")
	start := time.Now()
	benchCity(b, ts.sys.DB)
	b.Logf("10,000 units and 900,000 reports loaded, figures computed in %v", time.Since(start).Round(time.Millisecond))
	benchPages(b, ts)
}

// benchPages times the pages for the demo commander.
func benchPages(b *testing.B, ts *testSystem) {
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

// benchCity adds 10,000 units over the urban streets with a report a day
// for the 90 days ending today, and recomputes the per-day figures with
// the statements of migration 0015 (after emptying what it filled).
func benchCity(b *testing.B, d *db.DB) {
	b.Helper()
	ctx := context.Background()
	streets := []string{"430202001", "430202002", "430202003", "430203001", "430203002", "430203003",
		"430204001", "430204002", "430204003", "430211001", "430211002", "430211003"}
	cats := []string{"industrial_above_scale", "construction_realestate", "trade_catering_above_quota", "services_above_scale"}
	now := d.Clock.Now()
	exec := func(q string) {
		if err := d.Exec(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	const units, days, perStmt = 10000, 90, 500
	for lo := 0; lo < units; lo += perStmt {
		var e, c strings.Builder
		for i := lo; i < lo+perStmt; i++ {
			if i > lo {
				e.WriteByte(',')
			}
			kind := "enterprise"
			if i%10 == 8 {
				kind = "project"
			}
			fmt.Fprintf(&e, "('CITY%08d', '%s', '城市单位%d', '%s', %t, 100, %d, %d)", i, kind, i, streets[i%len(streets)],
				i%20 == 0, now.UnixMilli(), now.UnixMilli())
		}
		exec(`INSERT INTO enterprises (ekey, kind, name, area_code, is_key, employees, created_at, updated_at) VALUES ` + e.String())
		for i := lo; i < lo+perStmt; i++ {
			if i%10 < 8 {
				if c.Len() > 0 {
					c.WriteByte(',')
				}
				fmt.Fprintf(&c, "((SELECT id FROM enterprises WHERE ekey = 'CITY%08d'), '%s')", i, cats[i%10%4])
			}
		}
		exec(`INSERT INTO enterprise_categories (enterprise_id, category) VALUES ` + c.String())
	}
	today := now.In(clock.Shanghai)
	for day := range days {
		date := today.AddDate(0, 0, day-days+1)
		filed := time.Date(date.Year(), date.Month(), date.Day(), 9, 0, 0, 0, clock.Shanghai)
		if filed.After(now) {
			filed = now
		}
		st := []string{"resumed", "resumed", "partial", "suspended"}[day%4]
		exec(fmt.Sprintf(`INSERT INTO resumption_reports (enterprise_id, report_date, status, capacity_pct, staff_expected,
			staff_on_site, closed_loop, note, filed_at, filed_by)
			SELECT id, '%s', CASE WHEN id %% 5 = 0 THEN 'suspended' ELSE '%s' END, 50, 100, 60, FALSE, '', %d, 'bench'
			FROM enterprises WHERE ekey LIKE 'CITY%%'`, date.Format("2006-01-02"), st, filed.UnixMilli()))
	}
	ms, err := db.Migrations()
	if err != nil {
		b.Fatal(err)
	}
	exec(`DELETE FROM resumption_day_deltas`)
	exec(`DELETE FROM resumption_latest`)
	for _, m := range ms {
		if m.Version != 15 {
			continue
		}
		for _, q := range strings.Split(m.SQL, ";\n") {
			if i := strings.Index(q, "INSERT INTO"); i >= 0 {
				exec(q[i:])
			}
		}
	}
}
