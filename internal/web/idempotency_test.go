package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/db/dbtest"
	"tongxin/internal/errs"
	"tongxin/internal/pii"
)

type idemFixture struct {
	d     *db.DB
	clk   *clock.Manual
	h     http.Handler
	calls atomic.Int64
}

const idemSecret = "13912345678-secret"

func newIdemFixture(t *testing.T, kind string) *idemFixture {
	t.Helper()
	f := &idemFixture{clk: clock.NewManual(time.Date(2022, 11, 20, 1, 0, 0, 0, time.UTC))}
	f.d = dbtest.Open(t, kind, f.clk)
	k1, k2 := make([]byte, 32), make([]byte, 32)
	rand.Read(k1)
	rand.Read(k2)
	box, err := pii.NewBox(k1, k2)
	if err != nil {
		t.Fatal(err)
	}
	a := &Adapter{Log: slog.New(slog.DiscardHandler)}
	mux := http.NewServeMux()
	mux.Handle("POST /things", a.H(func(w http.ResponseWriter, r *http.Request) error {
		n := f.calls.Add(1)
		b, _ := io.ReadAll(r.Body)
		return JSON(w, http.StatusCreated, map[string]any{"n": n, "echo": string(b)})
	}))
	mux.Handle("POST /secret", a.H(func(w http.ResponseWriter, r *http.Request) error {
		f.calls.Add(1)
		NoStore(r)
		return JSON(w, http.StatusOK, map[string]string{"phone": idemSecret})
	}))
	mux.Handle("POST /refused", a.H(func(w http.ResponseWriter, r *http.Request) error {
		f.calls.Add(1)
		return errs.E(errs.Unauthorized, "unauthenticated", "请先登录")
	}))
	mux.Handle("GET /things", a.H(func(w http.ResponseWriter, r *http.Request) error { return nil }))
	mux.Handle("/", a.H(func(w http.ResponseWriter, r *http.Request) error {
		return errs.E(errs.NotFound, "not_found", "页面或接口不存在")
	}))
	idem := &Idempotency{DB: f.d, Adapter: a, Box: box, Routes: mux}
	inner := idem.Wrap(mux)
	// The caller named by X-User, as the middleware would attach it.
	f.h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u := r.Header.Get("X-User"); u != "" {
			r = r.WithContext(WithPrincipal(r.Context(), &auth.Principal{Username: u}))
		}
		inner.ServeHTTP(w, r)
	})
	return f
}

func (f *idemFixture) post(t *testing.T, path, user, key, body string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest("POST", path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if user != "" {
		r.Header.Set("X-User", user)
	}
	if key != "" {
		r.Header.Set("Idempotency-Key", key)
	}
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	return w
}

func (f *idemFixture) rows(t *testing.T) int {
	t.Helper()
	var n int
	if err := f.d.ReadPool().QueryRowContext(context.Background(), `SELECT count(*) FROM idempotency_keys`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func problemCodeOf(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	var p Problem
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || p.Detail == "" {
		t.Fatalf("not a problem: %d %s", w.Code, w.Body)
	}
	return p.Code
}

func TestIdempotencyReplayAndSealing(t *testing.T) {
	for _, kind := range dbtest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			f := newIdemFixture(t, kind)
			first := f.post(t, "/things", "wang", "k1", `{"x":"marker-value-42"}`)
			again := f.post(t, "/things", "wang", "k1", `{"x":"marker-value-42"}`)
			if first.Code != 201 || again.Code != 201 || again.Body.String() != first.Body.String() || again.Header().Get("Idempotency-Replayed") != "true" {
				t.Fatalf("replay: %d %s / %d %s", first.Code, first.Body, again.Code, again.Body)
			}
			if f.calls.Load() != 1 {
				t.Fatalf("executed %d times", f.calls.Load())
			}
			if w := f.post(t, "/things", "wang", "k1", `{"x":"other"}`); w.Code != 422 || problemCodeOf(t, w) != "idempotency_key_reused" {
				t.Fatalf("other body: %d %s", w.Code, w.Body)
			}
			// Another caller's key is another key.
			if w := f.post(t, "/things", "li", "k1", `{"x":"marker-value-42"}`); w.Code != 201 || w.Header().Get("Idempotency-Replayed") != "" {
				t.Fatalf("other caller: %d %s", w.Code, w.Body)
			}
			// Nothing of the answer or the request is readable in the table.
			rs, err := f.d.ReadPool().QueryContext(context.Background(), `SELECT request_hash, content_type, body FROM idempotency_keys`)
			if err != nil {
				t.Fatal(err)
			}
			defer rs.Close()
			n := 0
			for rs.Next() {
				var hash, ctype string
				var body []byte
				if err := rs.Scan(&hash, &ctype, &body); err != nil {
					t.Fatal(err)
				}
				n++
				if bytes.Contains(body, []byte("marker-value-42")) || bytes.Contains(body, []byte(`"n"`)) || len(body) == 0 {
					t.Fatalf("stored body not sealed: %q", body)
				}
			}
			if n != 2 {
				t.Fatalf("%d rows, want 2", n)
			}
		})
	}
}

func TestIdempotencySecretNotKept(t *testing.T) {
	for _, kind := range dbtest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			f := newIdemFixture(t, kind)
			first := f.post(t, "/secret", "wang", "s1", `{"reason":"回访"}`)
			if first.Code != 200 || !strings.Contains(first.Body.String(), idemSecret) {
				t.Fatalf("first: %d %s", first.Code, first.Body)
			}
			again := f.post(t, "/secret", "wang", "s1", `{"reason":"回访"}`)
			if again.Code != 409 || problemCodeOf(t, again) != "idempotency_secret_not_replayed" || strings.Contains(again.Body.String(), idemSecret) {
				t.Fatalf("replay of a secret answer: %d %s", again.Code, again.Body)
			}
			if !strings.Contains(again.Body.String(), "新的 Idempotency-Key") {
				t.Fatalf("detail does not say what to do: %s", again.Body)
			}
			if f.calls.Load() != 1 {
				t.Fatalf("executed %d times", f.calls.Load())
			}
			var status int
			var body []byte
			if err := f.d.ReadPool().QueryRowContext(context.Background(), `SELECT status, body FROM idempotency_keys WHERE key = 's1'`).Scan(&status, &body); err != nil {
				t.Fatal(err)
			}
			if status != 200 || bytes.Contains(body, []byte(idemSecret)) || bytes.Contains(body, []byte("13912345678")) {
				t.Fatalf("row of a secret answer: status %d body %q", status, body)
			}
		})
	}
}

func TestIdempotencyKeepsOnlyAuthenticatedRoutedAnswers(t *testing.T) {
	f := newIdemFixture(t, "sqlite")
	for i := range 2 {
		if w := f.post(t, "/things", "", "anon", `{}`); w.Code != 201 || w.Header().Get("Idempotency-Replayed") != "" {
			t.Fatalf("anonymous #%d: %d %s", i, w.Code, w.Body)
		}
	}
	if f.calls.Load() != 2 {
		t.Fatalf("anonymous requests executed %d times, want 2 (not kept)", f.calls.Load())
	}
	if w := f.post(t, "/nowhere", "wang", "k404", `{}`); w.Code != 404 {
		t.Fatalf("unknown route: %d", w.Code)
	}
	r := httptest.NewRequest("POST", "/things/", strings.NewReader(`{}`)) // another path: 404 by "/"
	r.Header.Set("X-User", "wang")
	r.Header.Set("Idempotency-Key", "k404b")
	f.h.ServeHTTP(httptest.NewRecorder(), r)
	if w := f.post(t, "/refused", "wang", "k401", `{}`); w.Code != 401 {
		t.Fatalf("refused: %d", w.Code)
	}
	// A method no pattern of the path takes (PUT is not POST, so only a
	// POST to a GET-only path shows the 405 case through the mux).
	mux := http.NewServeMux()
	mux.Handle("GET /only", http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	idem := &Idempotency{DB: f.d, Adapter: &Adapter{Log: slog.New(slog.DiscardHandler)}, Box: nil, Routes: mux}
	r = httptest.NewRequest("POST", "/only", strings.NewReader(`{}`))
	r = r.WithContext(WithPrincipal(r.Context(), &auth.Principal{Username: "wang"}))
	r.Header.Set("Idempotency-Key", "k405")
	w := httptest.NewRecorder()
	idem.Wrap(mux).ServeHTTP(w, r)
	if w.Code != 405 {
		t.Fatalf("405 case: %d", w.Code)
	}
	if n := f.rows(t); n != 0 {
		t.Fatalf("%d idempotency rows after anonymous, 404, 405 and 401 answers, want 0", n)
	}
	// A refused request's key is free again.
	if w := f.post(t, "/refused", "wang", "k401", `{}`); w.Code != 401 || f.calls.Load() != 4 {
		t.Fatalf("401 again: %d, calls %d", w.Code, f.calls.Load())
	}
}

func TestIdempotencyExpiry(t *testing.T) {
	for _, kind := range dbtest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			f := newIdemFixture(t, kind)
			ctx := context.Background()
			f.post(t, "/things", "wang", "old", `{}`)
			f.clk.Advance(IdempotencyTTL - time.Millisecond)
			if w := f.post(t, "/things", "wang", "old", `{}`); w.Header().Get("Idempotency-Replayed") != "true" || f.calls.Load() != 1 {
				t.Fatalf("within 24 h: %d %s", w.Code, w.Body)
			}
			f.post(t, "/things", "wang", "young", `{}`)
			if n, err := SweepIdempotency(ctx, f.d, 1000); err != nil || n != 0 {
				t.Fatalf("sweep before expiry: %d %v", n, err)
			}
			f.clk.Advance(time.Millisecond)
			// 24 h on, the key is forgotten: the request runs again.
			w := f.post(t, "/things", "wang", "old", `{}`)
			if w.Code != 201 || w.Header().Get("Idempotency-Replayed") != "" || f.calls.Load() != 3 {
				t.Fatalf("after 24 h: %d %s, calls %d", w.Code, w.Body, f.calls.Load())
			}
			for i := range 5 {
				f.post(t, "/things", "li", "batch-"+string(rune('a'+i)), `{}`)
			}
			f.clk.Advance(IdempotencyTTL)
			f.post(t, "/things", "li", "fresh", `{}`)
			if n, err := SweepIdempotency(ctx, f.d, 2); err != nil || n != 7 {
				t.Fatalf("sweep: %d %v, want 7 (old, young, 5 of li)", n, err)
			}
			if n := f.rows(t); n != 1 {
				t.Fatalf("%d rows left, want the fresh one", n)
			}
		})
	}
}
