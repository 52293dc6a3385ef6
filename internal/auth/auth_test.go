package auth_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"tongxin/internal/area"
	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/db/dbtest"
	"tongxin/internal/errs"
	"tongxin/internal/pii"
)

func TestPasswordHash(t *testing.T) {
	h, err := auth.HashPassword("正确的马电池钉")
	if err != nil {
		t.Fatal(err)
	}
	// The OWASP parameters of real binaries: TestHashCost.
	if !strings.HasPrefix(h, "$argon2id$v=19$") {
		t.Fatalf("hash %q is not an argon2id hash", h)
	}
	h2, _ := auth.HashPassword("正确的马电池钉")
	if h == h2 {
		t.Fatal("two hashes of one password are equal: no salt")
	}
	for _, tc := range []struct {
		hash, pw string
		want     bool
	}{
		{h, "正确的马电池钉", true},
		{h, "正确的马电池", false},
		{h, "", false},
		{"", "x", false},
		{"$argon2id$v=19$m=0,t=2,p=1$AAAA$AAAA", "x", false},
		{"$argon2i$v=19$m=19456,t=2,p=1$AAAA$AAAA", "x", false},
		{regexp.MustCompile(`,t=\d+,`).ReplaceAllString(h, ",t=3,"), "正确的马电池钉", false},
	} {
		if got := auth.CheckPassword(tc.hash, tc.pw); got != tc.want {
			t.Errorf("CheckPassword(%q, %q) = %v", tc.hash, tc.pw, got)
		}
	}
}

// testPassword passes the password policy (the test city's password).
const testPassword = "Test-City-Pass-2022!"

type fixture struct {
	clk *clock.Manual
	d   *db.DB
	svc *auth.Service
}

func newFixture(t *testing.T, d *db.DB, clk *clock.Manual) *fixture {
	t.Helper()
	box, err := pii.NewBox(make([]byte, 32), []byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	areas, depts, groups := area.DemoCity()
	if _, err := area.NewService(d, area.Deps{}).Seed(context.Background(), auth.System(), areas, depts, groups); err != nil {
		t.Fatal(err)
	}
	return &fixture{clk: clk, d: d, svc: auth.NewService(d, box, auth.DefaultConfig())}
}

func (f *fixture) user(t *testing.T, name, role, scope string) *auth.User {
	t.Helper()
	u, err := f.svc.CreateUser(context.Background(), auth.System(), auth.NewUser{Username: name, DisplayName: "用户" + name,
		Phone: "13800138000", Password: testPassword, Roles: []auth.RoleInput{{Role: role, Scope: scope}}})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestSessionLifetimes(t *testing.T) {
	clk := clock.NewManual(time.Date(2022, 11, 20, 8, 0, 0, 0, time.UTC))
	dbtest.Each(t, clk, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d, clk)
		f.user(t, "dayuan", "community_worker", "430203001001")

		login := func() string {
			t.Helper()
			tok, p, err := f.svc.Login(ctx, "dayuan", testPassword, "10.0.0.1")
			if err != nil {
				t.Fatal(err)
			}
			if p.Username != "dayuan" || len(p.Assignments) != 1 || p.Assignments[0].Scope.Path != "/430200/430203/430203001/430203001001/" {
				t.Fatalf("principal %+v", p)
			}
			if len(tok) < 40 {
				t.Fatalf("session token %q is too short for 128 bits", tok)
			}
			return tok
		}
		alive := func(tok string) bool {
			_, err := f.svc.SessionPrincipal(ctx, tok)
			if err != nil && !errs.Is(err, errs.Unauthorized) {
				t.Fatal(err)
			}
			return err == nil
		}

		tok := login()
		if tok == login() {
			t.Fatal("two logins gave the same session")
		}
		// Idle: used every 29 minutes it lives on …
		for i := 0; i < 4; i++ {
			clk.Advance(29 * time.Minute)
			if !alive(tok) {
				t.Fatalf("session died after %d idle periods of 29 min", i+1)
			}
		}
		// … 30 minutes without use ends it.
		clk.Advance(30 * time.Minute)
		if alive(tok) {
			t.Fatal("session alive after 30 idle minutes")
		}
		// Absolute: 12 hours after login, however busy.
		tok = login()
		for elapsed := time.Duration(0); elapsed < 12*time.Hour-20*time.Minute; elapsed += 20 * time.Minute {
			clk.Advance(20 * time.Minute)
			if !alive(tok) {
				t.Fatalf("busy session died after %v", elapsed+20*time.Minute)
			}
		}
		clk.Advance(20 * time.Minute)
		if alive(tok) {
			t.Fatal("session alive 12 h after login")
		}
		// Logout ends it.
		tok = login()
		if err := f.svc.Logout(ctx, tok); err != nil {
			t.Fatal(err)
		}
		if alive(tok) {
			t.Fatal("session alive after logout")
		}
		// Disabling the user ends every session and stops tokens.
		tok = login()
		secret, _, err := f.svc.CreateToken(ctx, auth.System(), "dayuan", "x")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.TokenPrincipal(ctx, secret); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.SetStatus(ctx, auth.System(), "dayuan", false); err != nil {
			t.Fatal(err)
		}
		if alive(tok) {
			t.Fatal("session alive after the user was disabled")
		}
		if _, err := f.svc.TokenPrincipal(ctx, secret); !errs.Is(err, errs.Unauthorized) {
			t.Fatalf("token of a disabled user: %v", err)
		}
		if _, _, err := f.svc.Login(ctx, "dayuan", testPassword, "10.0.0.1"); !errs.Is(err, errs.Unauthorized) {
			t.Fatalf("login of a disabled user: %v", err)
		}
	})
}

func TestScopedUserManagement(t *testing.T) {
	dbtest.Each(t, nil, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d, nil)
		f.user(t, "dayuan", "community_worker", "430203001001")
		f.user(t, "jinglong", "street_officer", "430204001")
		f.user(t, "gxj", "department_officer", "department:gxj")
		lusong, err := f.svc.CreateUser(ctx, auth.System(), auth.NewUser{Username: "lusong", DisplayName: "芦淞", Password: testPassword,
			Roles: []auth.RoleInput{{Role: "district_officer", Scope: "430203"}}})
		if err != nil {
			t.Fatal(err)
		}
		if lusong.Phone != "" || f.user(t, "pone", "community_worker", "430203001002").Phone != "138****8000" {
			t.Fatal("phones are not masked in users")
		}
		_, p, err := f.svc.Login(ctx, "lusong", testPassword, "a")
		if err != nil {
			t.Fatal(err)
		}
		list, err := f.svc.ListUsers(ctx, p, "", "", 50)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, u := range list {
			names = append(names, u.Username)
		}
		if strings.Join(names, ",") != "dayuan,lusong,pone" {
			t.Fatalf("district officer of 芦淞区 lists %v", names)
		}
		if _, err := f.svc.GetUser(ctx, p, "jinglong"); !errs.Is(err, errs.NotFound) {
			t.Fatalf("user of another district: %v, want NotFound", err)
		}
		// A district officer may not manage users at all.
		if _, err := f.svc.SetStatus(ctx, p, "dayuan", false); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("district officer disabling: %v, want Forbidden", err)
		}
		// Role and scope rules.
		for _, tc := range []struct{ role, scope, code string }{
			{"district_officer", "430203001", "bad_scope"},
			{"community_worker", "department:gxj", "bad_scope"},
			{"department_officer", "department:none", "scope_not_found"},
			{"mayor", "430200", "bad_role"},
			{"enterprise_contact", "enterprise:91430200MA4L000000", "scope_unsupported"},
		} {
			_, err := f.svc.AddRole(ctx, auth.System(), "dayuan", auth.RoleInput{Role: tc.role, Scope: tc.scope})
			if e := errs.As(err); e == nil || e.Code != tc.code {
				t.Errorf("AddRole(%s, %s) = %v, want %s", tc.role, tc.scope, err, tc.code)
			}
		}
		// Reveal needs the permission and a reason, and is audited.
		if _, err := f.svc.RevealPhone(ctx, p, "dayuan", "核实身份信息"); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("reveal without permission: %v", err)
		}
		f.user(t, "boss", "hq_commander", "430200")
		_, boss, _ := f.svc.Login(ctx, "boss", testPassword, "a")
		if _, err := f.svc.RevealPhone(ctx, boss, "dayuan", ""); !errs.Is(err, errs.Invalid) {
			t.Fatalf("reveal without reason: %v", err)
		}
		phone, err := f.svc.RevealPhone(ctx, boss, "dayuan", "联系核实物资配送")
		if err != nil || phone != "13800138000" {
			t.Fatalf("reveal: %q %v", phone, err)
		}
		var n int
		d.Read(ctx, func(tx *db.Tx) error {
			return tx.QueryRowContext(ctx, `SELECT count(*) FROM audit_log WHERE action = 'pii.reveal' AND summary LIKE '%联系核实物资配送%'`).Scan(&n)
		})
		if n != 1 {
			t.Fatalf("reveal audit rows = %d", n)
		}
		// The phone is stored encrypted, never in clear.
		var clear int
		d.Read(ctx, func(tx *db.Tx) error {
			return tx.QueryRowContext(ctx, `SELECT count(*) FROM audit_log WHERE summary LIKE '%13800138000%'`).Scan(&clear)
		})
		if clear != 0 {
			t.Fatal("a full phone number is in the audit log")
		}
	})
}

func TestAuthorize(t *testing.T) {
	p := &auth.Principal{Username: "w", Assignments: []auth.Assignment{
		{Role: auth.CommunityWorker, Scope: auth.Scope{Kind: auth.ScopeArea, Ref: "430203001001", Path: "/430200/430203/430203001/430203001001/"}},
	}}
	nf := errs.E(errs.NotFound, "area_not_found", "区划不存在")
	cases := []struct {
		perm auth.Permission
		path string
		kind errs.Kind
	}{
		{auth.AreaRead, "/430200/430203/430203001/430203001001/", ""},
		{auth.AreaRead, "/430200/430203/430203001/430203001001/430203001001001/", ""},
		{auth.AreaRead, "/430200/430203/430203001/430203001002/", errs.NotFound},
		{auth.AreaRead, "/430200/430203/430203001/43020300100/", errs.NotFound},
		{auth.AreaRead, "", errs.NotFound},
		{auth.AreaWrite, "/430200/430203/430203001/430203001001/", errs.Forbidden},
		{auth.AuditRead, "/430200/", errs.Forbidden},
	}
	for _, c := range cases {
		err := auth.Authorize(p, c.perm, c.path, "test", nf)
		if errs.KindOf(err) != c.kind {
			t.Errorf("Authorize(%s, %s) = %v, want %q", c.perm, c.path, err, c.kind)
		}
	}
	if err := auth.Authorize(nil, auth.AreaRead, "/430200/", "test", nf); !errs.Is(err, errs.Unauthorized) {
		t.Errorf("nil principal: %v", err)
	}
	if err := auth.Authorize(auth.System(), auth.AuditRead, "", "test", nf); err != nil {
		t.Errorf("system: %v", err)
	}
}

// Two instances on one database: the one that disables a user stops the
// user's token at once; the other within PrincipalTTL.
func TestPrincipalCacheAcrossInstances(t *testing.T) {
	clk := clock.NewManual(time.Date(2022, 11, 20, 8, 0, 0, 0, time.UTC))
	dbtest.Each(t, clk, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		a := newFixture(t, d, clk)
		a.user(t, "dayuan", "community_worker", "430203001001")
		box, _ := pii.NewBox(make([]byte, 32), []byte(strings.Repeat("k", 32)))
		b := auth.NewService(d, box, auth.DefaultConfig())
		secret, _, err := a.svc.CreateToken(ctx, auth.System(), "dayuan", "x")
		if err != nil {
			t.Fatal(err)
		}
		for _, svc := range []*auth.Service{a.svc, b} {
			if _, err := svc.TokenPrincipal(ctx, secret); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := a.svc.SetStatus(ctx, auth.System(), "dayuan", false); err != nil {
			t.Fatal(err)
		}
		if _, err := a.svc.TokenPrincipal(ctx, secret); !errs.Is(err, errs.Unauthorized) {
			t.Fatalf("the disabling instance still accepts the token: %v", err)
		}
		clk.Advance(auth.DefaultConfig().PrincipalTTL)
		if _, err := b.TokenPrincipal(ctx, secret); !errs.Is(err, errs.Unauthorized) {
			t.Fatalf("the other instance accepts the token one TTL later: %v", err)
		}
	})
}
