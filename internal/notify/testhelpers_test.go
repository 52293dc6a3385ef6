package notify

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/testcity"
)

// testBase is 2022-11-20 17:00 in Shanghai.
var testBase = time.Date(2022, 11, 20, 17, 0, 0, 0, clock.Shanghai)

type fixture struct {
	*testcity.City
	svc *Service
}

// newFixture seeds the demo city in d (opened on clk) and builds the
// service as the lead wires it.
func newFixture(t testing.TB, d *db.DB, clk *clock.Manual) *fixture {
	t.Helper()
	f := &fixture{City: testcity.New(t, d, clk)}
	f.svc = f.service(d)
	return f
}

// service builds another Service on d (a second instance). Its webhooks
// may reach the test receivers on 127.0.0.1, as serve
// --webhook-allow-private allows.
func (f *fixture) service(d *db.DB) *Service {
	return NewService(d, Deps{Box: f.Box, Areas: f.Areas, AllowPrivate: true})
}

// user creates an account holding role over the area and returns its
// principal with its real id.
func (f *fixture) user(username string, role auth.Role, areaCode string) *auth.Principal {
	return f.User(username, role, areaCode)
}

// officer is a principal (without an account) holding role over areas.
func (f *fixture) officer(role auth.Role, codes ...string) *auth.Principal {
	f.T.Helper()
	p := &auth.Principal{UserID: 9000, Username: "officer_" + string(role)}
	for _, c := range codes {
		path, err := f.Areas.PathOf(f.Ctx, c)
		if err != nil {
			f.T.Fatalf("PathOf(%s): %v", c, err)
		}
		p.Assignments = append(p.Assignments, auth.Assignment{Role: role, Scope: auth.Scope{Kind: auth.ScopeArea, Ref: c, Path: path}})
	}
	return p
}

// send runs Send in its own write transaction.
func (f *fixture) send(userIDs []int64, m Message) {
	f.T.Helper()
	if err := f.DB.Write(f.Ctx, func(tx *db.Tx) error { return f.svc.Send(f.Ctx, tx, userIDs, m) }); err != nil {
		f.T.Fatalf("send %s: %v", m.Event, err)
	}
}

// hook creates a webhook as the system.
func (f *fixture) hook(name, rawURL, format, secret, areaCode string, events ...string) *Webhook {
	f.T.Helper()
	in := WebhookInput{Name: &name, URL: &rawURL, Format: &format, AreaCode: &areaCode, Events: &events}
	if secret != "" {
		in.Secret = &secret
	}
	h, err := f.svc.CreateWebhook(f.Ctx, f.Sys, in)
	if err != nil {
		f.T.Fatalf("create hook %s: %v", name, err)
	}
	return h
}

// deliverDue runs DeliverDue and checks the number of attempts.
func (f *fixture) deliverDue(want int) {
	f.T.Helper()
	n, err := f.svc.DeliverDue(f.Ctx)
	if err != nil {
		f.T.Fatalf("DeliverDue: %v", err)
	}
	if n != want {
		f.T.Fatalf("DeliverDue made %d attempts, want %d", n, want)
	}
}

// deliveries returns a hook's deliveries as the system.
func (f *fixture) deliveries(hookID int64) []Delivery {
	f.T.Helper()
	list, err := f.svc.Deliveries(f.Ctx, f.Sys, hookID, 0, 100)
	if err != nil {
		f.T.Fatal(err)
	}
	return list
}

// received is one request a receiver got.
type received struct {
	Path   string
	Query  url.Values
	Header http.Header
	Body   []byte
}

// JSON decodes the body.
func (r received) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, r.Body)
	}
	return m
}

// receiver is a local webhook endpoint that records every request and
// answers with respond (200 {"errcode":0} when nil).
type receiver struct {
	*httptest.Server
	mu      sync.Mutex
	got     []received
	respond func(n int, r received) (int, string)
}

func newReceiver(t testing.TB, respond func(n int, r received) (int, string)) *receiver {
	rc := &receiver{respond: respond}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got := received{Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: b}
		rc.mu.Lock()
		rc.got = append(rc.got, got)
		n := len(rc.got)
		rc.mu.Unlock()
		status, body := http.StatusOK, `{"errcode":0,"errmsg":"ok"}`
		if rc.respond != nil {
			status, body = rc.respond(n, got)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(rc.Close)
	return rc
}

// requests returns what the receiver got so far.
func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

// mustErr fails unless err is of kind k with code (code "" matches any).
var mustErr = testcity.MustErr

func ptr[T any](v T) *T { return &v }
