package resumption

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"tongxin/internal/area"
	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/pii"
)

// Shared test fixture of the package: the demo city seeded, a Service wired
// as the lead wires it, and helpers to register enterprises and file
// reports quickly. Every helper fails the test on error.

// testBase is 2022-11-20 17:00 in Shanghai, the seed's "as of" moment.
var testBase = time.Date(2022, 11, 20, 17, 0, 0, 0, clock.Shanghai)

// testClock returns a manual clock at testBase.
func testClock() *clock.Manual { return clock.NewManual(testBase) }

// creditAlphabet is the alphabet of unified social credit codes (GB 32100).
const creditAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// creditCode appends the GB 32100 check character to 17 characters and
// checks the result with pii.NormalizeCreditCode.
func creditCode(t testing.TB, first17 string) string {
	t.Helper()
	if len(first17) != 17 {
		t.Fatalf("creditCode(%q): need 17 characters", first17)
	}
	w := 1
	sum := 0
	for i := 0; i < 17; i++ {
		v := strings.IndexByte(creditAlphabet, first17[i])
		if v < 0 {
			t.Fatalf("creditCode(%q): bad character %q", first17, first17[i])
		}
		sum += v * w
		w = w * 3 % 31
	}
	code := first17 + string(creditAlphabet[(31-sum%31)%31])
	if got, err := pii.NormalizeCreditCode(code); err != nil || got != code {
		t.Fatalf("creditCode(%q) = %s, which pii refuses: %v", first17, code, err)
	}
	return code
}

// badCheck returns code with a wrong check character.
func badCheck(code string) string {
	last := strings.IndexByte(creditAlphabet, code[17])
	return code[:17] + string(creditAlphabet[(last+1)%31])
}

type fixture struct {
	t     testing.TB
	ctx   context.Context
	d     *db.DB
	clock *clock.Manual // nil unless the database runs on a manual clock
	box   *pii.Box
	svc   *Service
	areas *area.Service
	users *auth.Service
	sys   *auth.Principal
	n     int // enterprises made by key(), for unique codes
}

// newFixture seeds the demo city in d and builds the service. clk is the
// clock d was opened with (a *clock.Manual lets tests move time with at).
func newFixture(t testing.TB, d *db.DB, clk clock.Clock) *fixture {
	t.Helper()
	f := &fixture{t: t, ctx: context.Background(), d: d, sys: auth.System()}
	f.clock, _ = clk.(*clock.Manual)
	f.areas = area.NewService(d, area.Deps{})
	as, ds, gs := area.DemoCity()
	if _, err := f.areas.Seed(f.ctx, f.sys, as, ds, gs); err != nil {
		t.Fatalf("seed demo city: %v", err)
	}
	box, err := pii.NewBox(bytes.Repeat([]byte{7}, 32), bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	f.box = box
	f.users = auth.NewService(d, box, auth.DefaultConfig())
	f.svc = NewService(d, Deps{Box: box, Areas: f.areas, Users: f.users, DataDir: t.TempDir()})
	f.users.RegisterScope(auth.ScopeEnterprise, f.svc.ResolveScope)
	return f
}

// at moves the manual clock to t.
func (f *fixture) at(t time.Time) {
	f.t.Helper()
	if f.clock == nil {
		f.t.Fatal("fixture.at needs a database on a *clock.Manual")
	}
	f.clock.Set(t)
}

// key returns a new valid credit code, different on every call, with the
// region code of area (its first 6 characters).
func (f *fixture) key(areaCode string) string {
	f.t.Helper()
	f.n++
	return creditCode(f.t, fmt.Sprintf("91%sMA%07d", areaCode[:6], f.n))
}

// save registers or updates in as the system.
func (f *fixture) save(in EnterpriseInput) *Enterprise {
	f.t.Helper()
	e, _, err := f.svc.Save(f.ctx, f.sys, in)
	if err != nil {
		f.t.Fatalf("save %s %s: %v", in.Key, in.Name, err)
	}
	return e
}

// enterprise registers a new enterprise in the area with the given
// categories (codes) and returns it; its key is made by key().
func (f *fixture) enterprise(areaCode string, cats ...Category) *Enterprise {
	f.t.Helper()
	key := f.key(areaCode)
	names := make([]string, len(cats))
	for i, c := range cats {
		names[i] = string(c)
	}
	return f.save(EnterpriseInput{Key: key, Kind: KindEnterprise, Name: "企业" + key[10:17], AreaCode: areaCode,
		Categories: names, Employees: 100})
}

// project registers a project with code in the area.
func (f *fixture) project(code, areaCode string) *Enterprise {
	f.t.Helper()
	return f.save(EnterpriseInput{Key: code, Kind: KindProject, Name: "项目" + code, AreaCode: areaCode, Employees: 50})
}

// reportIn builds a report input.
func reportIn(date string, st Status, capacity, expected, onSite int) ReportInput {
	return ReportInput{Date: date, Status: st, CapacityPct: &capacity, StaffExpected: &expected, StaffOnSite: &onSite}
}

// report files a report for key as the system at the clock's time.
func (f *fixture) report(key, date string, st Status, capacity, expected, onSite int) *Report {
	f.t.Helper()
	r, err := f.svc.FileReport(f.ctx, f.sys, key, reportIn(date, st, capacity, expected, onSite))
	if err != nil {
		f.t.Fatalf("report %s %s: %v", key, date, err)
	}
	return r
}

// reportAt moves the manual clock to at and files the report then.
func (f *fixture) reportAt(at time.Time, key, date string, st Status, capacity, expected, onSite int) *Report {
	f.t.Helper()
	f.at(at)
	return f.report(key, date, st, capacity, expected, onSite)
}

// officer is a principal holding role over the areas with codes.
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

// contact is the enterprise contact of the enterprises with keys.
func (f *fixture) contact(keys ...string) *auth.Principal {
	p := &auth.Principal{UserID: 9100, Username: "contact"}
	for _, k := range keys {
		p.Assignments = append(p.Assignments, auth.Assignment{Role: auth.EnterpriseContact, Scope: auth.Scope{Kind: auth.ScopeEnterprise, Ref: k}})
	}
	return p
}

// liaison creates a user holding the liaison role over the area and
// returns its principal (with its real user id).
func (f *fixture) liaison(username, areaCode string) *auth.Principal {
	f.t.Helper()
	if _, err := f.users.CreateUser(f.ctx, f.sys, auth.NewUser{Username: username, DisplayName: "联络员" + username,
		Password: "Liaison-Pass-2022!", Roles: []auth.RoleInput{{Role: string(auth.Liaison), Scope: areaCode}}}); err != nil {
		f.t.Fatalf("create liaison %s: %v", username, err)
	}
	id, roles, err := f.users.LookupUser(f.ctx, username)
	if err != nil {
		f.t.Fatal(err)
	}
	return &auth.Principal{UserID: id, Username: username, Assignments: roles}
}

// assign stations the liaison at the enterprises with keys.
func (f *fixture) assign(username string, keys ...string) {
	f.t.Helper()
	for _, k := range keys {
		if _, err := f.svc.AssignLiaison(f.ctx, f.sys, k, username); err != nil {
			f.t.Fatalf("assign %s to %s: %v", username, k, err)
		}
	}
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

// audits counts the audit rows of an action.
func (f *fixture) audits(action string) int {
	f.t.Helper()
	return f.count(`SELECT COUNT(*) FROM audit_log WHERE action = $1`, action)
}

// keysOf lists the keys of enterprises.
func keysOf(list []Enterprise) []string {
	out := make([]string, len(list))
	for i, e := range list {
		out[i] = e.Key
	}
	return out
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

// rebuildDays computes the per-day figures afresh, after reports written
// straight into the table.
func (f *fixture) rebuildDays() {
	f.t.Helper()
	if err := f.d.Write(f.ctx, func(tx *db.Tx) error { return rebuildDayFigures(f.ctx, tx) }); err != nil {
		f.t.Fatal(err)
	}
}
