package app

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/checkpoint"
	"tongxin/internal/pass"
	"tongxin/internal/passtoken"
)

// BenchmarkCheckpointScan measures online scans through the whole server —
// middleware, bearer token, JSON, the pass service's verification (Ed25519
// signature, validity, revocation lookup), the area check and the durable
// scan log (group commit on SQLite; nobody is answered before their scan
// has committed) — next to a bare net/http handler that reads the same
// body and answers a scan-sized JSON, both over loopback HTTP with
// keep-alive and 8 parallel clients per core, in the same run.
// docs/benchmarks.md records the ratio; the floor is 0.5.
//
// The tokens are 2,000 real passes issued by the pass service, scanned in
// turn (each request a new client id, so each one is a new row).
func BenchmarkCheckpointScan(b *testing.B) {
	ts := newTestSystemLog(b, "sqlite", slog.New(slog.NewJSONHandler(io.Discard, nil)))
	ctx := context.Background()
	sysP := auth.System()
	cp, err := ts.sys.Checkpoints.Create(ctx, sysP, checkpoint.CheckpointInput{Name: "株洲大桥天元桥头", Kind: checkpoint.Bridge,
		AreaCode: "430211001"})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := ts.sys.Auth.CreateUser(ctx, sysP, auth.NewUser{Username: "benchkakou", DisplayName: "压测执勤员", Password: DemoPassword,
		Roles: []auth.RoleInput{{Role: "checkpoint_officer", Scope: "checkpoint:" + cp.Ref()}}}); err != nil {
		b.Fatal(err)
	}
	// Online scans are journaled as `tongxin serve` does.
	if err := ts.sys.Checkpoints.OpenJournal(ctx, b.TempDir()); err != nil {
		b.Fatal(err)
	}
	defer ts.sys.Checkpoints.CloseJournal(ctx)
	token := ts.tokenFor(b, "benchkakou")
	tokens := benchPassTokens(b, ts, 2000)

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxIdleConns: 256}}
	answer := []byte(`{"id":1,"checkpoint_id":8,"client_id":"bench-0000000001","verdict":"allow","reason":"ok","reason_name":"通行",` +
		`"pass":{"pid":"P20221120-0001","kind":"person","name":"工*","id4":"123X","ent":"914302001838260003",` +
		`"valid_from":"2022-11-20T00:00:00Z","valid_to":"2022-12-20T00:00:00Z"},"scanned_at":"2022-11-20T02:00:00Z",` +
		`"received_at":"2022-11-20T02:00:00Z","officer":"benchkakou","offline":false}` + "\n")
	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Write(answer)
	}))
	defer bare.Close()

	var seq atomic.Int64
	post := func(b *testing.B, url, auth string) {
		b.SetParallelism(8)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := seq.Add(1)
				body := fmt.Sprintf(`{"token":%q,"client_id":"bench-%010d"}`, tokens[int(i)%len(tokens)], i)
				req, _ := http.NewRequest("POST", url, strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				if auth != "" {
					req.Header.Set("Authorization", "Bearer "+auth)
				}
				res, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				got, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != 200 || (auth != "" && !bytes.Contains(got, []byte(`"verdict":"allow"`))) {
					b.Errorf("status %d: %s", res.StatusCode, got)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	}
	// The same server with a verifier that accepts every token at once:
	// what the scan costs without the pass service's verification.
	claims := passtoken.Claims{PID: "X", Kind: passtoken.Person, Name: "工*", Ent: demoPassEnterprise, Areas: []string{"430211"},
		NBF: 1, EXP: 1 << 32}
	skip := *ts.sys
	skip.Checkpoints = checkpoint.NewService(ts.sys.DB, checkpoint.Deps{Areas: ts.sys.Areas, Users: ts.sys.Auth,
		Enterprises: ts.sys.Resumption, Verifier: acceptAll{&claims}})
	if err := skip.Checkpoints.OpenJournal(ctx, b.TempDir()); err != nil {
		b.Fatal(err)
	}
	defer skip.Checkpoints.CloseJournal(ctx)
	srv, err := NewServer(&skip, ServerOptions{})
	if err != nil {
		b.Fatal(err)
	}
	noVerify := httptest.NewServer(srv)
	defer noVerify.Close()

	path := "/api/v1/checkpoints/" + cp.Ref() + "/scans"
	b.Run("bare", func(b *testing.B) { post(b, bare.URL+path, "") })
	b.Run("scan", func(b *testing.B) { post(b, ts.srv.URL+path, token) })
	b.Run("scan-skip-verify", func(b *testing.B) { post(b, noVerify.URL+path, token) })
	// The server's handler alone, called in this goroutine: no network, no
	// client; what a scan costs in Tongxin's code (profiling, -benchmem).
	b.Run("handler", func(b *testing.B) {
		h := ts.srv.Config.Handler
		b.ReportAllocs()
		for b.Loop() {
			i := seq.Add(1)
			body := fmt.Sprintf(`{"token":%q,"client_id":"bench-%010d"}`, tokens[int(i)%len(tokens)], i)
			req := httptest.NewRequest("POST", path, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+token)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != 200 {
				b.Fatalf("status %d: %s", w.Code, w.Body)
			}
		}
	})
}

// benchPassTokens issues n whitelist passes of 千金药业 valid in
// 430211001 through the pass service (upload and approval) and returns
// their tokens.
func benchPassTokens(b *testing.B, ts *testSystem, n int) []string {
	b.Helper()
	ctx := context.Background()
	quota := n + 1000
	if _, err := ts.sys.Passes.SetQuota(ctx, auth.System(), demoPassEnterprise, pass.QuotaInput{Quota: &quota}); err != nil {
		b.Fatal(err)
	}
	id, roles, err := ts.sys.Auth.LookupUser(ctx, "qianjin")
	if err != nil {
		b.Fatal(err)
	}
	contact := &auth.Principal{UserID: id, Username: "qianjin", Assignments: roles}
	batch, err := ts.sys.Passes.Upload(ctx, contact, pass.UploadInput{Data: []byte(passCSV(n)), FileName: "bench.csv"})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := ts.sys.Passes.Approve(ctx, auth.System(), batch.ID, pass.ApproveInput{Note: "bench"}); err != nil {
		b.Fatal(err)
	}
	list, err := ts.sys.Passes.BatchPasses(ctx, auth.System(), batch.ID)
	if err != nil {
		b.Fatal(err)
	}
	tokens := make([]string, len(list))
	for i, p := range list {
		tokens[i] = p.Token
	}
	return tokens
}

// acceptAll is a verifier that answers every token with its claims, OK.
type acceptAll struct{ c *passtoken.Claims }

func (v acceptAll) Verify(context.Context, string, time.Time) (*passtoken.Claims, passtoken.Reason) {
	return v.c, passtoken.OK
}
