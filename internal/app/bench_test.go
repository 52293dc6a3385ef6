package app

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"tongxin/internal/auth"
)

// BenchmarkMe measures an authenticated GET /api/v1/me through the whole
// server (middleware, token lookup, principal load from SQLite, JSON) next
// to a bare net/http handler answering a similar JSON body, both over
// loopback HTTP with keep-alive and parallel clients, in the same run.
// docs/benchmarks.md records the ratio; the floor is 0.5.
func BenchmarkMe(b *testing.B) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxIdleConns: 256}}
	get := func(b *testing.B, url, token string) {
		// 8 clients per core keep the server busy: requests per second is
		// then bounded by the server's CPU, not by client round trips.
		b.SetParallelism(8)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				req, _ := http.NewRequest("GET", url, nil)
				if token != "" {
					req.Header.Set("Authorization", "Bearer "+token)
				}
				res, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != 200 {
					b.Errorf("status %d", res.StatusCode)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	}
	body := []byte(`{"username":"dayuan","display_name":"刘鹏播","roles":[{"role":"community_worker","scope":{"kind":"area","ref":"430203001001","name":"大园社区"}}]}` + "\n")
	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Write(body)
	}))
	defer bare.Close()
	// The access log is written as in production (JSON lines), to a
	// discarding writer.
	ts := newTestSystemLog(b, "sqlite", slog.New(slog.NewJSONHandler(io.Discard, nil)))
	token := ts.tokenFor(b, "dayuan")

	// The same server with the principal cache off: every request reads
	// the token, user and roles from SQLite.
	cfg := auth.DefaultConfig()
	cfg.PrincipalTTL = 0
	uncached := *ts.sys
	uncached.Auth = auth.NewService(ts.sys.DB, ts.sys.Box, cfg)
	srv, err := NewServer(&uncached, ServerOptions{})
	if err != nil {
		b.Fatal(err)
	}
	nocache := httptest.NewServer(srv)
	defer nocache.Close()

	b.Run("bare", func(b *testing.B) { get(b, bare.URL+"/api/v1/me", "") })
	b.Run("me", func(b *testing.B) { get(b, ts.srv.URL+"/api/v1/me", token) })
	b.Run("me-uncached", func(b *testing.B) { get(b, nocache.URL+"/api/v1/me", token) })
}
