package ticket

import (
	"testing"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/notify"
	"tongxin/internal/resumption"
	"tongxin/internal/testcity"
)

// Shared fixture of the package's tests: the demo city seeded, real users
// with roles, the resumption registry for enterprise subjects, the notify
// service for inboxes, and the ticket service wired as the app wires it.

// testBase is 2022-11-20 10:00 in Shanghai.
var testBase = testcity.Base

type fixture struct {
	*testcity.City
	svc    *Service
	res    *resumption.Service
	notify *notify.Service
}

// newFixture seeds the demo city in d, which must run on clk.
func newFixture(t testing.TB, d *db.DB, clk *clock.Manual) *fixture {
	t.Helper()
	f := &fixture{City: testcity.New(t, d, clk)}
	dir := t.TempDir()
	f.res = resumption.NewService(d, resumption.Deps{Box: f.Box, Areas: f.Areas, Users: f.Users, DataDir: dir})
	f.Users.RegisterScope(auth.ScopeEnterprise, f.res.ResolveScope)
	f.notify = notify.NewService(d, notify.Deps{Box: f.Box, Areas: f.Areas})
	f.svc = NewService(d, Deps{Box: f.Box, Areas: f.Areas, Holders: f.Users, Notifier: f.notify, Enterprises: f.res, DataDir: dir})
	return f
}

// each runs fn on every configured database with a fixture at testBase.
func each(t *testing.T, fn func(t *testing.T, f *fixture)) {
	testcity.Each(t, newFixture, fn)
}

// user creates an account holding role at scope ("430203001", "department:gxj",
// "enterprise:KEY") and returns its principal.
func (f *fixture) user(username string, role auth.Role, scope string) *auth.Principal {
	return f.User(username, role, scope)
}

// principal loads username's principal as a session would.
func (f *fixture) principal(username string) *auth.Principal { return f.Principal(username) }

// file files in as p and fails the test on error.
func (f *fixture) file(p *auth.Principal, in Input) *Ticket {
	f.T.Helper()
	tk, err := f.svc.Create(f.Ctx, p, in)
	if err != nil {
		f.T.Fatalf("file %+v: %v", in, err)
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
	f.T.Helper()
	tk, err := f.svc.Transition(f.Ctx, p, ref, TransitionInput{To: to, Department: dept, Note: note})
	if err != nil {
		f.T.Fatalf("%s → %s: %v", ref, to, err)
	}
	return tk
}

// at moves the clock.
func (f *fixture) at(t time.Time) { f.Clock.Set(t) }

// sweep runs one sweeper pass.
func (f *fixture) sweep() SweepResult {
	f.T.Helper()
	r, err := f.svc.Sweep(f.Ctx)
	if err != nil {
		f.T.Fatalf("sweep: %v", err)
	}
	return r
}

// inbox counts username's notifications of event.
func (f *fixture) inbox(username, event string) int {
	f.T.Helper()
	return f.Count(`SELECT COUNT(*) FROM notifications n JOIN users u ON u.id = n.user_id WHERE u.username = $1 AND n.event = $2`, username, event)
}

// mustErr checks err has kind and code.
var mustErr = testcity.MustErr
