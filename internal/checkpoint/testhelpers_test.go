package checkpoint

import (
	"context"
	"crypto/ed25519"
	"sync"
	"testing"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/passtoken"
	"tongxin/internal/resumption"
	"tongxin/internal/testcity"
)

// Shared fixture of the package's tests: the demo city seeded, real users
// with roles (checkpoint scopes resolved by this package, as the app wires
// it), the resumption registry for handovers, and a fake pass verifier
// built on passtoken.Sign and passtoken.Verify with a test key and a revoked set.

// testBase is 2022-11-20 10:00 in Shanghai.
var testBase = testcity.Base

// Enterprise of the tests: 株洲千金药业 in 天元区.
const qianjin = "914302001838260003"

// fakeVerifier verifies like the pass service: signature and key, validity
// at the moment asked, then the revoked set; and, like it, answers the
// same claims for each scan of a token whose signature was good.
type fakeVerifier struct {
	mu      sync.Mutex
	key     ed25519.PrivateKey
	pub     ed25519.PublicKey
	revoked map[string]bool
	seen    map[string]*passtoken.Claims
}

const testKid = "test-k1"

func newFakeVerifier(t testing.TB) *fakeVerifier {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &fakeVerifier{key: priv, pub: pub, revoked: map[string]bool{}, seen: map[string]*passtoken.Claims{}}
}

func (v *fakeVerifier) Verify(_ context.Context, token string, at time.Time) (*passtoken.Claims, passtoken.Reason) {
	c, r := passtoken.Verify(token, func(kid string) ed25519.PublicKey {
		if kid == testKid {
			return v.pub
		}
		return nil
	}, at)
	v.mu.Lock()
	defer v.mu.Unlock()
	if trusted(c, r) {
		if first, ok := v.seen[token]; ok {
			c = first
		} else {
			v.seen[token] = c
		}
	}
	if r == passtoken.OK && v.revoked[c.PID] {
		return c, passtoken.Revoked
	}
	return c, r
}

func (v *fakeVerifier) revoke(pid string) {
	v.mu.Lock()
	v.revoked[pid] = true
	v.mu.Unlock()
}

// sign makes a token for claims with the test key (or another kid).
func (v *fakeVerifier) sign(t testing.TB, c passtoken.Claims, kid string) string {
	t.Helper()
	if kid == "" {
		kid = testKid
	}
	tok, err := passtoken.Sign(v.key, kid, c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

type fixture struct {
	*testcity.City
	svc   *Service
	res   *resumption.Service
	ver   *fakeVerifier
	reg   *fakeRegister
	zones *fakeZones
}

// newFixture seeds the demo city and the enterprise in d, which must run
// on clk.
func newFixture(t testing.TB, d *db.DB, clk *clock.Manual) *fixture {
	t.Helper()
	f := &fixture{City: testcity.New(t, d, clk), ver: newFakeVerifier(t), reg: newFakeRegister(), zones: &fakeZones{}}
	f.res = resumption.NewService(d, resumption.Deps{Box: f.Box, Areas: f.Areas, Users: f.Users, DataDir: t.TempDir()})
	f.Users.RegisterScope(auth.ScopeEnterprise, f.res.ResolveScope)
	if _, _, err := f.res.Save(f.Ctx, f.Sys, resumption.EnterpriseInput{Key: qianjin, Kind: resumption.KindEnterprise,
		Name: "株洲千金药业股份有限公司", AreaCode: "430211001", Categories: []string{"规上工业"}, Employees: 2100}); err != nil {
		t.Fatalf("enterprise: %v", err)
	}
	f.svc = NewService(d, Deps{Areas: f.Areas, Users: f.Users, Enterprises: f.res, Verifier: f.ver, Register: f.reg, Zones: f.zones})
	f.Users.RegisterScope(auth.ScopeCheckpoint, f.svc.ResolveScope)
	return f
}

// each runs fn on every configured database with a fixture at testBase.
func each(t *testing.T, fn func(t *testing.T, f *fixture)) {
	testcity.Each(t, newFixture, fn)
}

// user creates an account holding role at scope ("430203", "checkpoint:3")
// and returns its principal.
func (f *fixture) user(username string, role auth.Role, scope string) *auth.Principal {
	return f.User(username, role, scope)
}

// checkpoint registers a checkpoint as the system and fails the test on
// error.
func (f *fixture) checkpoint(name string, kind Kind, areaCode string) *Checkpoint {
	f.T.Helper()
	c, err := f.svc.Create(f.Ctx, f.Sys, CheckpointInput{Name: name, Kind: kind, AreaCode: areaCode, Place: name + "桥头"})
	if err != nil {
		f.T.Fatalf("checkpoint %s: %v", name, err)
	}
	return c
}

// claims is a whitelist pass of 千金药业 valid in 天元区 for two days
// around testBase.
func claims(pid string, areas ...string) passtoken.Claims {
	if len(areas) == 0 {
		areas = []string{"430211"}
	}
	return passtoken.Claims{PID: pid, Kind: passtoken.Person, Name: "王*", ID4: "123X", Ent: qianjin, Areas: areas,
		NBF: testBase.Add(-24 * time.Hour).Unix(), EXP: testBase.Add(24 * time.Hour).Unix()}
}

// mustErr checks err has kind and code.
var mustErr = testcity.MustErr

// ref is a checkpoint's id as the routes take it.
func ref(c *Checkpoint) string { return c.Ref() }

func ptr[T any](v T) *T { return &v }
