package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"tongxin/internal/area"
	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/pii"
)

// testBase is 2022-11-20 17:00 in Shanghai.
var testBase = time.Date(2022, 11, 20, 17, 0, 0, 0, clock.Shanghai)

type fixture struct {
	t     testing.TB
	ctx   context.Context
	d     *db.DB
	clock *clock.Manual
	box   *pii.Box
	areas *area.Service
	users *auth.Service
	svc   *Service
	sys   *auth.Principal
}

func testBox(t testing.TB) *pii.Box {
	t.Helper()
	box, err := pii.NewBox(bytes.Repeat([]byte{7}, 32), bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return box
}

// newFixture seeds the demo city in d (opened on clk) and builds the
// service as the lead wires it.
func newFixture(t testing.TB, d *db.DB, clk *clock.Manual) *fixture {
	t.Helper()
	f := &fixture{t: t, ctx: context.Background(), d: d, clock: clk, sys: auth.System(), box: testBox(t)}
	f.areas = area.NewService(d)
	as, ds, gs := area.DemoCity()
	if _, err := f.areas.Seed(f.ctx, f.sys, as, ds, gs); err != nil {
		t.Fatalf("seed demo city: %v", err)
	}
	f.users = auth.NewService(d, f.box, auth.DefaultConfig())
	f.svc = f.service(d)
	return f
}

// service builds another Service on d (a second instance).
func (f *fixture) service(d *db.DB) *Service {
	s := NewService(d, f.box, nil)
	s.SetAreas(f.areas)
	return s
}

// user creates an account holding role over the area and returns its
// principal with its real id.
func (f *fixture) user(username string, role auth.Role, areaCode string) *auth.Principal {
	f.t.Helper()
	if _, err := f.users.CreateUser(f.ctx, f.sys, auth.NewUser{Username: username, DisplayName: "用户" + username,
		Password: "Notify-Pass-2022!", Roles: []auth.RoleInput{{Role: string(role), Scope: areaCode}}}); err != nil {
		f.t.Fatalf("create user %s: %v", username, err)
	}
	id, roles, err := f.users.LookupUser(f.ctx, username)
	if err != nil {
		f.t.Fatal(err)
	}
	return &auth.Principal{UserID: id, Username: username, DisplayName: "用户" + username, Assignments: roles}
}

// officer is a principal (without an account) holding role over areas.
func (f *fixture) officer(role auth.Role, codes ...string) *auth.Principal {
	f.t.Helper()
	p := &auth.Principal{UserID: 9000, Username: "officer_" + string(role)}
	for _, c := range codes {
		path, err := f.areas.PathOf(f.ctx, c)
		if err != nil {
			f.t.Fatalf("PathOf(%s): %v", c, err)
		}
		p.Assignments = append(p.Assignments, auth.Assignment{Role: role, Scope: auth.Scope{Kind: auth.ScopeArea, Ref: c, Path: path}})
	}
	return p
}

// send runs Send in its own write transaction.
func (f *fixture) send(userIDs []int64, m Message) {
	f.t.Helper()
	if err := f.d.Write(f.ctx, func(tx *db.Tx) error { return f.svc.Send(f.ctx, tx, userIDs, m) }); err != nil {
		f.t.Fatalf("send %s: %v", m.Event, err)
	}
}

// hook creates a webhook as the system.
func (f *fixture) hook(name, rawURL, format, secret, areaCode string, events ...string) *Webhook {
	f.t.Helper()
	in := WebhookInput{Name: &name, URL: &rawURL, Format: &format, AreaCode: &areaCode, Events: &events}
	if secret != "" {
		in.Secret = &secret
	}
	h, err := f.svc.CreateWebhook(f.ctx, f.sys, in)
	if err != nil {
		f.t.Fatalf("create hook %s: %v", name, err)
	}
	return h
}

// count runs a COUNT query.
func (f *fixture) count(q string, args ...any) int {
	f.t.Helper()
	var n int
	if err := f.d.ReadPool().QueryRowContext(f.ctx, q, args...).Scan(&n); err != nil {
		f.t.Fatalf("%s: %v", q, err)
	}
	return n
}

// deliverDue runs DeliverDue and checks the number of attempts.
func (f *fixture) deliverDue(want int) {
	f.t.Helper()
	n, err := f.svc.DeliverDue(f.ctx)
	if err != nil {
		f.t.Fatalf("DeliverDue: %v", err)
	}
	if n != want {
		f.t.Fatalf("DeliverDue made %d attempts, want %d", n, want)
	}
}

// deliveries returns a hook's deliveries as the system.
func (f *fixture) deliveries(hookID int64) []Delivery {
	f.t.Helper()
	list, err := f.svc.Deliveries(f.ctx, f.sys, hookID, 0, 100)
	if err != nil {
		f.t.Fatal(err)
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
func mustErr(t testing.TB, err error, k errs.Kind, code string) *errs.Error {
	t.Helper()
	if !errs.Is(err, k) {
		t.Fatalf("err = %v, want kind %s", err, k)
	}
	e := errs.As(err)
	if code != "" && e.Code != code {
		t.Fatalf("err code = %q, want %q (%v)", e.Code, code, err)
	}
	return e
}

func ptr[T any](v T) *T { return &v }
