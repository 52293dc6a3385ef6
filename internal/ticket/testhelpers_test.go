package ticket

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"tongxin/internal/area"
	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/db/dbtest"
	"tongxin/internal/errs"
	"tongxin/internal/notify"
	"tongxin/internal/pii"
	"tongxin/internal/resumption"
)

// Shared fixture of the package's tests: the demo city seeded, real users
// with roles, the resumption registry for enterprise subjects, the notify
// service for inboxes, and the ticket service wired as the app wires it.

// testBase is 2022-11-20 10:00 in Shanghai.
var testBase = time.Date(2022, 11, 20, 10, 0, 0, 0, clock.Shanghai)

type fixture struct {
	t      testing.TB
	ctx    context.Context
	d      *db.DB
	clock  *clock.Manual
	box    *pii.Box
	svc    *Service
	areas  *area.Service
	users  *auth.Service
	res    *resumption.Service
	notify *notify.Service
	sys    *auth.Principal
}

// newFixture seeds the demo city in d, which must run on clk.
func newFixture(t testing.TB, d *db.DB, clk *clock.Manual) *fixture {
	t.Helper()
	f := &fixture{t: t, ctx: context.Background(), d: d, clock: clk, sys: auth.System()}
	f.areas = area.NewService(d)
	as, ds, gs := area.DemoCity()
	if _, err := f.areas.Seed(f.ctx, f.sys, as, ds, gs); err != nil {
		t.Fatalf("seed demo city: %v", err)
	}
	box, err := pii.NewBox(bytes.Repeat([]byte{7}, 32), bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	f.box = box
	dir := t.TempDir()
	f.users = auth.NewService(d, box, auth.DefaultConfig())
	f.res = resumption.NewService(d, box, f.areas, f.users, dir)
	f.users.RegisterScope(auth.ScopeEnterprise, f.res.ResolveScope)
	f.notify = notify.NewService(d, box, nil)
	f.notify.SetAreas(f.areas)
	f.svc = NewService(d, box, Deps{Areas: f.areas, Holders: f.users, Notifier: f.notify, Enterprises: f.res, DataDir: dir})
	return f
}

// open runs fn on every configured database with a fixture at testBase.
func each(t *testing.T, fn func(t *testing.T, f *fixture)) {
	clk := clock.NewManual(testBase)
	dbtest.Each(t, clk, func(t *testing.T, d *db.DB) {
		clk.Set(testBase)
		fn(t, newFixture(t, d, clk))
	})
}

// user creates an account holding role at scope ("430203001", "department:gxj",
// "enterprise:KEY") and returns its principal.
func (f *fixture) user(username string, role auth.Role, scope string) *auth.Principal {
	f.t.Helper()
	if _, err := f.users.CreateUser(f.ctx, f.sys, auth.NewUser{Username: username, DisplayName: "用户" + username,
		Password: "Ticket-Pass-2022!", Roles: []auth.RoleInput{{Role: string(role), Scope: scope}}}); err != nil {
		f.t.Fatalf("create user %s: %v", username, err)
	}
	return f.principal(username)
}

// principal loads username's principal as a session would.
func (f *fixture) principal(username string) *auth.Principal {
	f.t.Helper()
	id, roles, err := f.users.LookupUser(f.ctx, username)
	if err != nil {
		f.t.Fatal(err)
	}
	return &auth.Principal{UserID: id, Username: username, DisplayName: "用户" + username, Assignments: roles}
}

// file files in as p and fails the test on error.
func (f *fixture) file(p *auth.Principal, in Input) *Ticket {
	f.t.Helper()
	tk, err := f.svc.Create(f.ctx, p, in)
	if err != nil {
		f.t.Fatalf("file %+v: %v", in, err)
	}
	return tk
}

// help is a resident's request in 大园社区.
func help(desc string) Input {
	return Input{Category: "food", AreaCode: "430203001001", Address: "建设南路 1 号 3 栋 201", Description: desc,
		ReporterName: "王秀英", ReporterPhone: "13807330001", Channel: ChannelHotline}
}

// move applies a transition and fails the test on error.
func (f *fixture) move(p *auth.Principal, ref string, to Status, dept, note string) *Ticket {
	f.t.Helper()
	tk, err := f.svc.Transition(f.ctx, p, ref, TransitionInput{To: to, Department: dept, Note: note})
	if err != nil {
		f.t.Fatalf("%s → %s: %v", ref, to, err)
	}
	return tk
}

// at moves the clock.
func (f *fixture) at(t time.Time) { f.clock.Set(t) }

// sweep runs one sweeper pass.
func (f *fixture) sweep() SweepResult {
	f.t.Helper()
	r, err := f.svc.Sweep(f.ctx)
	if err != nil {
		f.t.Fatalf("sweep: %v", err)
	}
	return r
}

// count runs a COUNT query.
func (f *fixture) count(q string, args ...any) int {
	f.t.Helper()
	var n int
	if err := f.d.Read(f.ctx, func(tx *db.Tx) error { return tx.QueryRowContext(f.ctx, q, args...).Scan(&n) }); err != nil {
		f.t.Fatalf("%s: %v", q, err)
	}
	return n
}

// inbox counts username's notifications of event.
func (f *fixture) inbox(username, event string) int {
	f.t.Helper()
	return f.count(`SELECT COUNT(*) FROM notifications n JOIN users u ON u.id = n.user_id WHERE u.username = $1 AND n.event = $2`, username, event)
}

// mustErr checks err has kind and code.
func mustErr(t testing.TB, err error, k errs.Kind, code string) *errs.Error {
	t.Helper()
	var e *errs.Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v, want %s/%s", err, k, code)
	}
	if e.Kind != k || (code != "" && e.Code != code) {
		t.Fatalf("err = %s/%s (%v), want %s/%s", e.Kind, e.Code, err, k, code)
	}
	return e
}
