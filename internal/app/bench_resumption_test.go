package app

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"tongxin/internal/clock"
	"tongxin/internal/db"
)

// BenchmarkFileReport measures daily-report submission through the API:
// POST /api/v1/enterprises/{key}/reports over loopback HTTP with 16
// parallel clients, each request one write transaction (lookup, report
// version, audit row) on SQLite. Beside it, "raw-insert" commits the same
// number of bare one-row INSERT transactions on the same database: the
// floor any write path stands on. The target is 2,000 reports/s;
// docs/benchmarks.md records both and their ratios.
func BenchmarkFileReport(b *testing.B) {
	ts := newTestSystemLog(b, "sqlite", slog.New(slog.NewJSONHandler(io.Discard, nil)))
	ctx := context.Background()
	token := ts.tokenFor(b, "hqstaff")
	keys := demoKeys()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxIdleConns: 256}}
	today := ts.sys.DB.Clock.Now().In(clock.Shanghai).Format("2006-01-02")

	b.Run("api", func(b *testing.B) {
		var n atomic.Int64
		b.SetParallelism(8)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := n.Add(1)
				key := keys[int(i)%len(keys)]
				body := fmt.Sprintf(`{"date":%q,"status":"resumed","capacity_pct":%d,"staff_expected":100,"staff_on_site":%d,"closed_loop":true}`,
					today, i%100, i%100)
				req, _ := http.NewRequest("POST", ts.srv.URL+"/api/v1/enterprises/"+key+"/reports", bytes.NewBufferString(body))
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("Content-Type", "application/json")
				res, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusCreated {
					b.Errorf("status %d", res.StatusCode)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reports/s")
	})
	b.Run("raw-insert", func(b *testing.B) {
		start := time.Now()
		for i := 0; i < b.N; i++ {
			err := ts.sys.DB.Write(ctx, func(tx *db.Tx) error {
				_, err := tx.ExecContext(ctx, `INSERT INTO resumption_reports (enterprise_id, report_date, status, capacity_pct,
					staff_expected, staff_on_site, closed_loop, note, filed_at, filed_by)
					VALUES ((SELECT id FROM enterprises WHERE ekey = $1), $2, 'resumed', 50, 100, 50, TRUE, '', $3, 'bench')`,
					keys[i%len(keys)], today, tx.NowMS())
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "reports/s")
	})
}

func demoKeys() []string {
	keys := make([]string, len(demoEnterprises))
	for i, e := range demoEnterprises {
		keys[i] = e.Key
	}
	return keys
}
