// Package testcity is the start every module's tests share: the demo city
// seeded in a real database on a manual clock, a key box, the account
// service, and the few helpers each module's fixture used to write again
// (an account with one role, a COUNT query, an error's kind and code, the
// per-database loop), the API call and page set-up every module's handler
// tests share (http.go), and the check for the front-end assets.
// Only tests import it.
package testcity

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
	"tongxin/internal/errs"
	"tongxin/internal/pii"
)

// Base is the tests' moment: 2022-11-20 10:00 in Shanghai, the day the
// newspaper page tells of.
var Base = time.Date(2022, 11, 20, 10, 0, 0, 0, clock.Shanghai)

// Password is the password of the accounts User makes.
const Password = "Test-City-Pass-2022!"

// City is the demo city in one database.
type City struct {
	T     testing.TB
	Ctx   context.Context
	DB    *db.DB
	Clock *clock.Manual
	Box   *pii.Box
	Areas *area.Service
	Users *auth.Service
	Sys   *auth.Principal
}

// Box is a key box with fixed test keys.
func Box(t testing.TB) *pii.Box {
	t.Helper()
	box, err := pii.NewBox(bytes.Repeat([]byte{7}, 32), bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return box
}

// New seeds the demo city (areas, departments, work groups) in d, which
// must run on clk, and builds the area and account services.
func New(t testing.TB, d *db.DB, clk *clock.Manual) *City {
	t.Helper()
	c := &City{T: t, Ctx: context.Background(), DB: d, Clock: clk, Box: Box(t), Sys: auth.System()}
	c.Users = auth.NewService(d, c.Box, auth.DefaultConfig())
	c.Areas = area.NewService(d, area.Deps{Principals: c.Users})
	as, ds, gs := area.DemoCity()
	if _, err := c.Areas.Seed(c.Ctx, c.Sys, as, ds, gs); err != nil {
		t.Fatalf("seed demo city: %v", err)
	}
	return c
}

// User creates an account "用户<username>" holding role at scope ("430203",
// "department:gxj", "enterprise:KEY", "checkpoint:3") and returns its
// principal as a session would load it.
func (c *City) User(username string, role auth.Role, scope string) *auth.Principal {
	c.T.Helper()
	if _, err := c.Users.CreateUser(c.Ctx, c.Sys, auth.NewUser{Username: username, DisplayName: "用户" + username,
		Password: Password, Roles: []auth.RoleInput{{Role: string(role), Scope: scope}}}); err != nil {
		c.T.Fatalf("create user %s: %v", username, err)
	}
	return c.Principal(username)
}

// Principal loads an account's principal as a session would.
func (c *City) Principal(username string) *auth.Principal {
	c.T.Helper()
	id, roles, err := c.Users.LookupUser(c.Ctx, username)
	if err != nil {
		c.T.Fatal(err)
	}
	return &auth.Principal{UserID: id, Username: username, DisplayName: "用户" + username, Assignments: roles}
}

// Count runs a COUNT query.
func (c *City) Count(q string, args ...any) int {
	c.T.Helper()
	var n int
	if err := c.DB.Read(c.Ctx, func(tx *db.Tx) error { return tx.QueryRowContext(c.Ctx, q, args...).Scan(&n) }); err != nil {
		c.T.Fatalf("%s: %v", q, err)
	}
	return n
}

// MustErr checks that err is an *errs.Error of kind and, unless code is
// empty, of code, and returns it.
func MustErr(t testing.TB, err error, k errs.Kind, code string) *errs.Error {
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
