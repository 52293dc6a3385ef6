package auth_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/db/dbtest"
	"tongxin/internal/errs"
)

func mustCode(t *testing.T, err error, k errs.Kind, code string) {
	t.Helper()
	e := errs.As(err)
	if e == nil || e.Kind != k || e.Code != code {
		t.Fatalf("err = %v, want %s/%s", err, k, code)
	}
}

func (f *fixture) login(t *testing.T, name, addr string) (string, *auth.Principal) {
	t.Helper()
	tok, p, err := f.svc.Login(context.Background(), name, testPassword, addr)
	if err != nil {
		t.Fatalf("login %s: %v", name, err)
	}
	return tok, p
}

func (f *fixture) count(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	ctx := context.Background()
	if err := f.d.Read(ctx, func(tx *db.Tx) error { return tx.QueryRowContext(ctx, q, args...).Scan(&n) }); err != nil {
		t.Fatal(err)
	}
	return n
}

// The attack of issue 10: an admin of 芦淞区 against a user who is also the
// city's commander. Every act on the commander's account is refused; the
// commander's session and token are untouched; users wholly inside 芦淞区
// are still managed.
func TestManageNeedsReachOverEveryRole(t *testing.T) {
	clk := clock.NewManual(time.Date(2022, 11, 20, 8, 0, 0, 0, time.UTC))
	dbtest.Each(t, clk, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d, clk)
		f.user(t, "lsadmin", "system_admin", "430203")
		f.user(t, "cityadmin", "system_admin", "430200")
		if _, err := f.svc.CreateUser(ctx, auth.System(), auth.NewUser{Username: "commander", DisplayName: "指挥长",
			Password: testPassword, Roles: []auth.RoleInput{{Role: "district_officer", Scope: "430203"}, {Role: "hq_commander", Scope: "430200"}}}); err != nil {
			t.Fatal(err)
		}
		f.user(t, "jinglong", "street_officer", "430204001")
		f.user(t, "dayuan", "community_worker", "430203001001")
		_, admin := f.login(t, "lsadmin", "10.0.0.1")
		cmdSession, _ := f.login(t, "commander", "10.0.0.2")
		cmdToken, tok, err := f.svc.CreateToken(ctx, auth.System(), "commander", "大屏")
		if err != nil {
			t.Fatal(err)
		}

		// Visible (a role in 芦淞区) but not wholly manageable: 403.
		_, _, err = f.svc.CreateToken(ctx, admin, "commander", "steal")
		mustCode(t, err, errs.Forbidden, "user_out_of_reach")
		_, err = f.svc.ListTokens(ctx, admin, "commander")
		mustCode(t, err, errs.Forbidden, "user_out_of_reach")
		mustCode(t, f.svc.RevokeToken(ctx, admin, tok.ID), errs.Forbidden, "user_out_of_reach")
		_, err = f.svc.SetStatus(ctx, admin, "commander", false)
		mustCode(t, err, errs.Forbidden, "user_out_of_reach")
		mustCode(t, f.svc.SetPassword(ctx, admin, "commander", "Another-Good-Pass-9"), errs.Forbidden, "user_out_of_reach")
		_, err = f.svc.AddRole(ctx, admin, "commander", auth.RoleInput{Role: "street_officer", Scope: "430203001"})
		mustCode(t, err, errs.Forbidden, "user_out_of_reach")
		_, err = f.svc.RemoveRole(ctx, admin, "commander", auth.RoleInput{Role: "district_officer", Scope: "430203"})
		mustCode(t, err, errs.Forbidden, "user_out_of_reach")
		_, err = f.svc.RemoveRole(ctx, admin, "commander", auth.RoleInput{Role: "hq_commander", Scope: "430200"})
		mustCode(t, err, errs.Forbidden, "user_out_of_reach")

		// Not visible at all (another district): 404, as GET answers.
		_, _, err = f.svc.CreateToken(ctx, admin, "jinglong", "x")
		mustCode(t, err, errs.NotFound, "user_not_found")
		_, err = f.svc.SetStatus(ctx, admin, "jinglong", false)
		mustCode(t, err, errs.NotFound, "user_not_found")
		_, err = f.svc.RemoveRole(ctx, admin, "jinglong", auth.RoleInput{Role: "street_officer", Scope: "430204001"})
		mustCode(t, err, errs.NotFound, "user_not_found")

		// Nothing happened to the commander.
		if n := f.count(t, `SELECT count(*) FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE u.username = 'commander'`); n != 1 {
			t.Fatalf("commander has %d tokens, want 1", n)
		}
		if p, err := f.svc.SessionPrincipal(ctx, cmdSession); err != nil || len(p.Assignments) != 2 {
			t.Fatalf("commander's session: %v %v", p, err)
		}
		if _, err := f.svc.TokenPrincipal(ctx, cmdToken); err != nil {
			t.Fatalf("commander's token: %v", err)
		}
		if _, _, err := f.svc.Login(ctx, "commander", testPassword, "10.0.0.3"); err != nil {
			t.Fatalf("commander's password changed: %v", err)
		}

		// A user wholly inside 芦淞区 is managed as before.
		secret, dt, err := f.svc.CreateToken(ctx, admin, "dayuan", "sync")
		if err != nil {
			t.Fatal(err)
		}
		if ts, err := f.svc.ListTokens(ctx, admin, "dayuan"); err != nil || len(ts) != 1 {
			t.Fatalf("list: %v %v", ts, err)
		}
		if err := f.svc.RevokeToken(ctx, admin, dt.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.TokenPrincipal(ctx, secret); !errs.Is(err, errs.Unauthorized) {
			t.Fatalf("revoked token: %v", err)
		}
		if _, err := f.svc.AddRole(ctx, admin, "dayuan", auth.RoleInput{Role: "volunteer", Scope: "430203001"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.RemoveRole(ctx, admin, "dayuan", auth.RoleInput{Role: "volunteer", Scope: "430203001"}); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.SetPassword(ctx, admin, "dayuan", "Another-Good-Pass-9"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.SetStatus(ctx, admin, "dayuan", false); err != nil {
			t.Fatal(err)
		}
		// The city's admin manages the commander.
		_, city := f.login(t, "cityadmin", "10.0.0.1")
		if _, err := f.svc.RemoveRole(ctx, city, "commander", auth.RoleInput{Role: "district_officer", Scope: "430203"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.SetStatus(ctx, city, "commander", false); err != nil {
			t.Fatal(err)
		}
	})
}

func TestRemoveRole(t *testing.T) {
	clk := clock.NewManual(time.Date(2022, 11, 20, 8, 0, 0, 0, time.UTC))
	dbtest.Each(t, clk, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d, clk)
		f.user(t, "dayuan", "community_worker", "430203001001")
		if _, err := f.svc.AddRole(ctx, auth.System(), "dayuan", auth.RoleInput{Role: "street_officer", Scope: "430203001"}); err != nil {
			t.Fatal(err)
		}
		tok, _ := f.login(t, "dayuan", "10.0.0.1")
		if p, err := f.svc.SessionPrincipal(ctx, tok); err != nil || !p.HasRole(auth.StreetOfficer) {
			t.Fatalf("before: %v %v", p, err) // cached from now on
		}
		_, err := f.svc.RemoveRole(ctx, auth.System(), "dayuan", auth.RoleInput{Role: "street_officer", Scope: "430203002"})
		mustCode(t, err, errs.NotFound, "role_not_found")
		_, err = f.svc.RemoveRole(ctx, auth.System(), "dayuan", auth.RoleInput{Role: "mayor", Scope: "430203002"})
		mustCode(t, err, errs.Invalid, "bad_role")
		u, err := f.svc.RemoveRole(ctx, auth.System(), "dayuan", auth.RoleInput{Role: "street_officer", Scope: "area:430203001"})
		if err != nil {
			t.Fatal(err)
		}
		if len(u.Roles) != 1 || u.Roles[0].Role != auth.CommunityWorker {
			t.Fatalf("roles after removal: %+v", u.Roles)
		}
		// The cached principal is dropped at once, without waiting for the TTL.
		if p, err := f.svc.SessionPrincipal(ctx, tok); err != nil || p.HasRole(auth.StreetOfficer) {
			t.Fatalf("session after removal: %+v %v", p, err)
		}
		if n := f.count(t, `SELECT count(*) FROM audit_log WHERE action = 'user.role.remove' AND object_id = 'dayuan' AND summary LIKE '%street_officer%'`); n != 1 {
			t.Fatalf("audit rows = %d", n)
		}
		// The last role stays: disabling is how an account loses everything.
		_, err = f.svc.RemoveRole(ctx, auth.System(), "dayuan", auth.RoleInput{Role: "community_worker", Scope: "430203001001"})
		mustCode(t, err, errs.Conflict, "last_role")
	})
}

func TestTokenExpiry(t *testing.T) {
	clk := clock.NewManual(time.Date(2022, 11, 20, 8, 0, 0, 0, time.UTC))
	dbtest.Each(t, clk, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d, clk)
		f.user(t, "dayuan", "community_worker", "430203001001")
		start := clk.Now()
		def, dt, err := f.svc.CreateToken(ctx, auth.System(), "dayuan", "default")
		if err != nil {
			t.Fatal(err)
		}
		if dt.ExpiresAt != start.Add(90*24*time.Hour).UnixMilli() || dt.State != "active" {
			t.Fatalf("default token %+v, want 90 days", dt)
		}
		short, st, err := f.svc.CreateTokenUntil(ctx, auth.System(), "dayuan", "short", start.Add(30*24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = f.svc.CreateTokenUntil(ctx, auth.System(), "dayuan", "long", start.Add(366*24*time.Hour))
		mustCode(t, err, errs.Invalid, "bad_expiry")
		_, _, err = f.svc.CreateTokenUntil(ctx, auth.System(), "dayuan", "past", start.Add(-time.Minute))
		mustCode(t, err, errs.Invalid, "bad_expiry")
		if _, _, err := f.svc.CreateTokenUntil(ctx, auth.System(), "dayuan", "year", start.Add(365*24*time.Hour)); err != nil {
			t.Fatal(err)
		}

		works := func(secret string) bool {
			t.Helper()
			_, err := f.svc.TokenPrincipal(ctx, secret)
			if err != nil && !errs.Is(err, errs.Unauthorized) {
				t.Fatal(err)
			}
			return err == nil
		}
		clk.Advance(30*24*time.Hour - time.Second)
		if !works(short) || !works(def) {
			t.Fatal("tokens dead before their expiry")
		}
		clk.Advance(time.Second)
		_, err = f.svc.TokenPrincipal(ctx, short)
		mustCode(t, err, errs.Unauthorized, "bad_token")
		if !works(def) {
			t.Fatal("90-day token dead after 30 days")
		}
		clk.Advance(60 * 24 * time.Hour)
		if works(def) {
			t.Fatal("token alive 90 days after issue")
		}
		ts, err := f.svc.ListTokens(ctx, auth.System(), "dayuan")
		if err != nil {
			t.Fatal(err)
		}
		var states []string
		for _, x := range ts {
			states = append(states, x.Name+":"+x.State)
			if x.ID == st.ID && x.ExpiresAt != start.Add(30*24*time.Hour).UnixMilli() {
				t.Fatalf("listed expiry %d", x.ExpiresAt)
			}
		}
		if strings.Join(states, ",") != "default:expired,short:expired,year:active" {
			t.Fatalf("listed %v", states)
		}
	})
}

func TestTokenCannotMintTokens(t *testing.T) {
	dbtest.Each(t, nil, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d, nil)
		f.user(t, "cityadmin", "system_admin", "430200")
		f.user(t, "dayuan", "community_worker", "430203001001")
		secret, _, err := f.svc.CreateToken(ctx, auth.System(), "cityadmin", "ops")
		if err != nil {
			t.Fatal(err)
		}
		viaToken, err := f.svc.TokenPrincipal(ctx, secret)
		if err != nil {
			t.Fatal(err)
		}
		for _, who := range []string{"cityadmin", "dayuan"} {
			_, _, err := f.svc.CreateToken(ctx, viaToken, who, "more")
			mustCode(t, err, errs.Forbidden, "token_cannot_mint")
		}
		// The same principal from the cache is still marked.
		again, _ := f.svc.TokenPrincipal(ctx, secret)
		_, _, err = f.svc.CreateToken(ctx, again, "dayuan", "more")
		mustCode(t, err, errs.Forbidden, "token_cannot_mint")
		_, viaSession := f.login(t, "cityadmin", "10.0.0.1")
		if _, _, err := f.svc.CreateToken(ctx, viaSession, "dayuan", "more"); err != nil {
			t.Fatal(err)
		}
	})
}

func TestPasswordChangeEndsCredentials(t *testing.T) {
	clk := clock.NewManual(time.Date(2022, 11, 20, 8, 0, 0, 0, time.UTC))
	dbtest.Each(t, clk, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d, clk)
		f.user(t, "cityadmin", "system_admin", "430200")
		f.user(t, "dayuan", "community_worker", "430203001001")
		alive := func(tok string) bool {
			t.Helper()
			var err error
			if strings.HasPrefix(tok, "txt_") {
				_, err = f.svc.TokenPrincipal(ctx, tok)
			} else {
				_, err = f.svc.SessionPrincipal(ctx, tok)
			}
			if err != nil && !errs.Is(err, errs.Unauthorized) {
				t.Fatal(err)
			}
			return err == nil
		}
		here, me := f.login(t, "dayuan", "10.0.0.1")
		there, _ := f.login(t, "dayuan", "10.0.0.2")
		token, _, err := f.svc.CreateToken(ctx, auth.System(), "dayuan", "x")
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []string{here, there, token} {
			if !alive(c) { // and cached
				t.Fatal("credential dead before the change")
			}
		}
		mustCode(t, f.svc.ChangePassword(ctx, me, "wrong-current-pass", "Brand-New-Pass-77", here), errs.Invalid, "bad_current_password")
		mustCode(t, f.svc.ChangePassword(ctx, me, testPassword, "qwertyuiop", here), errs.Invalid, "weak_password")
		if !alive(there) || !alive(token) {
			t.Fatal("a refused change ended credentials")
		}
		if err := f.svc.ChangePassword(ctx, me, testPassword, "Brand-New-Pass-77", here); err != nil {
			t.Fatal(err)
		}
		if !alive(here) {
			t.Fatal("the session that changed the password was ended")
		}
		if alive(there) || alive(token) {
			t.Fatal("another session or an API token outlived the password change")
		}
		if _, _, err := f.svc.Login(ctx, "dayuan", "Brand-New-Pass-77", "10.0.0.3"); err != nil {
			t.Fatal(err)
		}
		// A manager's reset ends every session and token.
		token, _, _ = f.svc.CreateToken(ctx, auth.System(), "dayuan", "y")
		alive(token)
		_, admin := f.login(t, "cityadmin", "10.0.0.9")
		mustCode(t, f.svc.SetPassword(ctx, admin, "dayuan", "dayuan-2022-pass"), errs.Invalid, "weak_password")
		if err := f.svc.SetPassword(ctx, admin, "dayuan", "Reset-By-Admin-2022"); err != nil {
			t.Fatal(err)
		}
		if alive(here) || alive(token) {
			t.Fatal("credentials outlived an admin reset")
		}
		if n := f.count(t, `SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.username = 'dayuan'`); n != 0 {
			t.Fatalf("%d sessions left", n)
		}
		if n := f.count(t, `SELECT count(*) FROM audit_log WHERE action = 'user.password' AND object_id = 'dayuan'`); n != 2 {
			t.Fatalf("%d password audit rows", n)
		}
	})
}

func TestPasswordPolicy(t *testing.T) {
	for _, tc := range []struct {
		user, name, pw string
		ok             bool
	}{
		{"dayuan", "王大元", "Test-City-Pass-2022!", true},
		{"admin", "王管理", "tongxin-demo", true},
		{"dayuan", "王大元", "short-1", false},
		{"dayuan", "王大元", "1qaz2wsx3edc", false},
		{"dayuan", "王大元", "WOAINI1314520", false},
		{"dayuan", "王大元", "Password123", false},
		{"dayuan", "王大元", "a123456789", false},
		{"dayuan", "王大元", "8888888888", false},
		{"dayuan", "王大元", "zzzzzzzzzzzz", false},
		{"dayuan", "王大元", "My-DaYuan-pass", false},
		{"dayuan", "王大元", "王大元的密码很长的", false},
		{"zhao", "Zhao Lei", "i-am-zhao lei!", false},
	} {
		err := auth.CheckPasswordPolicy(tc.user, tc.name, tc.pw)
		if (err == nil) != tc.ok {
			t.Errorf("policy(%s, %s, %q) = %v, want ok=%v", tc.user, tc.name, tc.pw, err, tc.ok)
		}
		if err != nil {
			if e := errs.As(err); e.Code != "weak_password" || e.Kind != errs.Invalid || e.Message == "" {
				t.Errorf("policy error %v", err)
			}
		}
	}
	dbtest.Each(t, nil, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, nil)
		_, err := f.svc.CreateUser(context.Background(), auth.System(), auth.NewUser{Username: "dayuan", DisplayName: "王大元",
			Password: "1qaz2wsx3edc", Roles: []auth.RoleInput{{Role: "community_worker", Scope: "430203001001"}}})
		e := errs.As(err)
		if e == nil || e.Code != "invalid_user" || len(e.Fields) != 1 || e.Fields[0].Field != "password" || !strings.Contains(e.Fields[0].Message, "常见") {
			t.Fatalf("weak password at creation: %v %+v", err, e)
		}
	})
}

func retryAfter(t *testing.T, err error) time.Duration {
	t.Helper()
	var ra *auth.RetryAfter
	if errs.KindOf(err) != errs.TooMany || !errors.As(err, &ra) {
		t.Fatalf("err = %v, want throttled with a wait", err)
	}
	return ra.Wait
}

func TestLoginThrottling(t *testing.T) {
	clk := clock.NewManual(time.Date(2022, 11, 20, 8, 0, 0, 0, time.UTC))
	dbtest.Each(t, clk, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d, clk)
		f.user(t, "commander", "hq_commander", "430200")
		f.user(t, "jianshe", "street_officer", "430203001")
		f.user(t, "dayuan", "community_worker", "430203001001")
		bad := func(name, addr string) error {
			_, _, err := f.svc.Login(ctx, name, "Wrong-Password-1", addr)
			return err
		}

		// An office behind one address: 30 failures for many accounts go
		// unanswered by any wait; then the address waits 1 s, 2 s, 4 s, …
		// up to 30 s, never more, and the right password gets in after it.
		const office = "198.51.100.1"
		for i := range 30 {
			mustCode(t, bad(fmt.Sprintf("nobody%02d", i), office), errs.Unauthorized, "bad_credentials")
		}
		var waits []time.Duration
		for i := range 7 {
			err := bad("jianshe", office)
			wait := retryAfter(t, err)
			mustCode(t, err, errs.TooMany, "login_slowed")
			waits = append(waits, wait)
			clk.Advance(wait)
			mustCode(t, bad(fmt.Sprintf("other%02d", i), office), errs.Unauthorized, "bad_credentials")
		}
		if fmt.Sprint(waits) != "[1s 2s 4s 8s 16s 30s 30s]" {
			t.Fatalf("address waits %v", waits)
		}
		_, _, err := f.svc.Login(ctx, "dayuan", testPassword, office)
		if wait := retryAfter(t, err); wait > 30*time.Second {
			t.Fatalf("wait %v beyond the bound", wait)
		} else {
			clk.Advance(wait)
		}
		f.login(t, "dayuan", office)

		// An attacker at X guessing the commander's password locks the
		// commander out at X only, for a growing time.
		const attacker, home = "203.0.113.66", "10.20.30.40"
		for range 5 {
			mustCode(t, bad("commander", attacker), errs.Unauthorized, "bad_credentials")
		}
		_, _, err = f.svc.Login(ctx, "commander", testPassword, attacker)
		if w := retryAfter(t, err); w != time.Minute {
			t.Fatalf("first lock %v, want 1m", w)
		}
		mustCode(t, err, errs.TooMany, "login_throttled")
		f.login(t, "commander", home) // the owner, elsewhere, gets in
		var locks []time.Duration
		for range 6 {
			clk.Advance(time.Minute * 16)
			mustCode(t, bad("commander", attacker), errs.Unauthorized, "bad_credentials")
			_, _, err := f.svc.Login(ctx, "commander", testPassword, attacker)
			locks = append(locks, retryAfter(t, err))
		}
		if fmt.Sprint(locks) != "[2m0s 4m0s 8m0s 15m0s 15m0s 15m0s]" {
			t.Fatalf("locks %v", locks)
		}
		f.login(t, "commander", home)

		// A success resets the count for the account at that address.
		clk.Advance(16 * time.Minute)
		f.login(t, "commander", attacker)
		for range 4 {
			mustCode(t, bad("commander", attacker), errs.Unauthorized, "bad_credentials")
		}
		f.login(t, "commander", attacker)
		for range 5 {
			mustCode(t, bad("commander", attacker), errs.Unauthorized, "bad_credentials")
		}
		_, _, err = f.svc.Login(ctx, "commander", testPassword, attacker)
		if w := retryAfter(t, err); w != time.Minute {
			t.Fatalf("lock after a success %v, want 1m again", w)
		}

		// Unknown user and wrong password answer alike.
		e1, e2 := bad("ghost", "10.1.1.1"), bad("jianshe", "10.1.1.1")
		if errs.As(e1).Message != errs.As(e2).Message || errs.As(e1).Code != errs.As(e2).Code {
			t.Fatalf("unknown user %v and wrong password %v differ", e1, e2)
		}

		// Counts whose windows ran out long ago are swept by a login.
		guessed := `SELECT count(*) FROM login_throttle WHERE key LIKE 'acct:198.51.100.1|nobody%'`
		if n := f.count(t, guessed); n != 30 {
			t.Fatalf("%d rows of guessed names, want 30", n)
		}
		clk.Advance(25 * time.Hour)
		f.login(t, "jianshe", "10.1.1.2")
		if n := f.count(t, guessed); n != 0 {
			t.Fatalf("%d rows of guessed names left after a day", n)
		}
	})
}
