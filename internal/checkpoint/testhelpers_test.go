package checkpoint

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"sync"
	"testing"
	"time"

	"tongxin/internal/area"
	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/db/dbtest"
	"tongxin/internal/errs"
	"tongxin/internal/pass"
	"tongxin/internal/pii"
	"tongxin/internal/resumption"
)

// Shared fixture of the package's tests: the demo city seeded, real users
// with roles (checkpoint scopes resolved by this package, as the app wires
// it), the resumption registry for handovers, and a fake pass verifier
// built on pass.Sign and pass.Verify with a test key and a revoked set.

// testBase is 2022-11-20 10:00 in Shanghai.
var testBase = time.Date(2022, 11, 20, 10, 0, 0, 0, clock.Shanghai)

// Enterprise of the tests: 株洲千金药业 in 天元区.
const qianjin = "914302001838260003"

// fakeVerifier verifies like the pass service: signature and key, validity
// at the moment asked, then the revoked set.
type fakeVerifier struct {
	mu      sync.Mutex
	key     ed25519.PrivateKey
	pub     ed25519.PublicKey
	revoked map[string]bool
}

const testKid = "test-k1"

func newFakeVerifier(t testing.TB) *fakeVerifier {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &fakeVerifier{key: priv, pub: pub, revoked: map[string]bool{}}
}

func (v *fakeVerifier) Verify(_ context.Context, token string, at time.Time) (*pass.Claims, pass.Reason) {
	c, r := pass.Verify(token, func(kid string) ed25519.PublicKey {
		if kid == testKid {
			return v.pub
		}
		return nil
	}, at)
	v.mu.Lock()
	defer v.mu.Unlock()
	if r == pass.OK && v.revoked[c.PID] {
		return c, pass.Revoked
	}
	return c, r
}

func (v *fakeVerifier) revoke(pid string) {
	v.mu.Lock()
	v.revoked[pid] = true
	v.mu.Unlock()
}

// sign makes a token for claims with the test key (or another kid).
func (v *fakeVerifier) sign(t testing.TB, c pass.Claims, kid string) string {
	t.Helper()
	if kid == "" {
		kid = testKid
	}
	tok, err := pass.Sign(v.key, kid, c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

type fixture struct {
	t     testing.TB
	ctx   context.Context
	d     *db.DB
	clock *clock.Manual
	svc   *Service
	areas *area.Service
	users *auth.Service
	res   *resumption.Service
	ver   *fakeVerifier
	sys   *auth.Principal
}

// newFixture seeds the demo city and the enterprise in d, which must run
// on clk.
func newFixture(t testing.TB, d *db.DB, clk *clock.Manual) *fixture {
	t.Helper()
	f := &fixture{t: t, ctx: context.Background(), d: d, clock: clk, sys: auth.System(), ver: newFakeVerifier(t)}
	f.areas = area.NewService(d)
	as, ds, gs := area.DemoCity()
	if _, err := f.areas.Seed(f.ctx, f.sys, as, ds, gs); err != nil {
		t.Fatalf("seed demo city: %v", err)
	}
	box, err := pii.NewBox(bytes.Repeat([]byte{7}, 32), bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	f.users = auth.NewService(d, box, auth.DefaultConfig())
	f.res = resumption.NewService(d, box, f.areas, f.users, t.TempDir())
	f.users.RegisterScope(auth.ScopeEnterprise, f.res.ResolveScope)
	if _, _, err := f.res.Save(f.ctx, f.sys, resumption.EnterpriseInput{Key: qianjin, Kind: resumption.KindEnterprise,
		Name: "株洲千金药业股份有限公司", AreaCode: "430211001", Categories: []string{"规上工业"}, Employees: 2100}); err != nil {
		t.Fatalf("enterprise: %v", err)
	}
	f.svc = NewService(d, Deps{Areas: f.areas, Users: f.users, Enterprises: f.res, Verifier: f.ver})
	f.users.RegisterScope(auth.ScopeCheckpoint, f.svc.ResolveScope)
	return f
}

// each runs fn on every configured database with a fixture at testBase.
func each(t *testing.T, fn func(t *testing.T, f *fixture)) {
	clk := clock.NewManual(testBase)
	dbtest.Each(t, clk, func(t *testing.T, d *db.DB) {
		clk.Set(testBase)
		fn(t, newFixture(t, d, clk))
	})
}

// user creates an account holding role at scope ("430203", "checkpoint:3")
// and returns its principal.
func (f *fixture) user(username string, role auth.Role, scope string) *auth.Principal {
	f.t.Helper()
	if _, err := f.users.CreateUser(f.ctx, f.sys, auth.NewUser{Username: username, DisplayName: "用户" + username,
		Password: "Checkpoint-Pass-2022!", Roles: []auth.RoleInput{{Role: string(role), Scope: scope}}}); err != nil {
		f.t.Fatalf("create user %s: %v", username, err)
	}
	id, roles, err := f.users.LookupUser(f.ctx, username)
	if err != nil {
		f.t.Fatal(err)
	}
	return &auth.Principal{UserID: id, Username: username, DisplayName: "用户" + username, Assignments: roles}
}

// checkpoint registers a checkpoint as the system and fails the test on
// error.
func (f *fixture) checkpoint(name string, kind Kind, areaCode string) *Checkpoint {
	f.t.Helper()
	c, err := f.svc.Create(f.ctx, f.sys, CheckpointInput{Name: name, Kind: kind, AreaCode: areaCode, Place: name + "桥头"})
	if err != nil {
		f.t.Fatalf("checkpoint %s: %v", name, err)
	}
	return c
}

// claims is a whitelist pass of 千金药业 valid in 天元区 for two days
// around testBase.
func claims(pid string, areas ...string) pass.Claims {
	if len(areas) == 0 {
		areas = []string{"430211"}
	}
	return pass.Claims{PID: pid, Kind: pass.Person, Name: "王*", ID4: "123X", Ent: qianjin, Areas: areas,
		NBF: testBase.Add(-24 * time.Hour).Unix(), EXP: testBase.Add(24 * time.Hour).Unix()}
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

// ref is a checkpoint's id as the routes take it.
func ref(c *Checkpoint) string { return c.Ref() }

func ptr[T any](v T) *T { return &v }
