package pass

import (
	"bytes"
	"context"
	"errors"
	"fmt"
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
	"tongxin/internal/resumption"
)

// Shared fixture of the package's tests: the demo city seeded, two
// enterprises in the resumption registry (千金药业 in 天元区 with 2100
// employees, 欧微 in 芦淞区), their contacts, a reviewer of the industry
// bureau, and the pass service wired as the app wires it.

// testBase is 2022-11-20 10:00 in Shanghai.
var testBase = time.Date(2022, 11, 20, 10, 0, 0, 0, clock.Shanghai)

const (
	qianjin = "914302001838260003" // 株洲千金药业, 430211001 (天元区)
	ouwei   = "91430203MA4L1A0000" // 湖南欧微时尚集团, 430203002 (芦淞区)
)

type fixture struct {
	t       testing.TB
	ctx     context.Context
	d       *db.DB
	clock   *clock.Manual
	box     *pii.Box
	svc     *Service
	areas   *area.Service
	users   *auth.Service
	res     *resumption.Service
	sys     *auth.Principal
	dataDir string
	contact *auth.Principal // qianjin's contact
	other   *auth.Principal // ouwei's contact
	gxj     *auth.Principal // department officer of the industry bureau
}

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
	f.dataDir = t.TempDir()
	f.users = auth.NewService(d, box, auth.DefaultConfig())
	f.res = resumption.NewService(d, box, f.areas, f.users, f.dataDir)
	f.users.RegisterScope(auth.ScopeEnterprise, f.res.ResolveScope)
	for _, e := range []resumption.EnterpriseInput{
		{Key: qianjin, Kind: resumption.KindEnterprise, Name: "株洲千金药业股份有限公司", AreaCode: "430211001", Employees: 2100,
			ContactName: "人事部", ContactPhone: "13907330003"},
		{Key: ouwei, Kind: resumption.KindEnterprise, Name: "湖南欧微时尚集团", AreaCode: "430203002", Employees: 420,
			ContactName: "行政部", ContactPhone: "13907330004"},
	} {
		if _, _, err := f.res.Save(f.ctx, f.sys, e); err != nil {
			t.Fatalf("enterprise %s: %v", e.Key, err)
		}
	}
	f.svc = f.newService(f.dataDir)
	f.contact = f.user("qianjin", auth.EnterpriseContact, "enterprise:"+qianjin)
	f.other = f.user("ouwei", auth.EnterpriseContact, "enterprise:"+ouwei)
	f.gxj = f.user("gxj", auth.DepartmentOfficer, "department:gxj")
	return f
}

// newService is a second instance on the same database with dataDir.
func (f *fixture) newService(dataDir string) *Service {
	return NewService(f.d, f.box, Deps{Areas: f.areas, Enterprises: f.res, DataDir: dataDir})
}

// each runs fn on every configured database with a fixture at testBase.
func each(t *testing.T, fn func(t *testing.T, f *fixture)) {
	clk := clock.NewManual(testBase)
	dbtest.Each(t, clk, func(t *testing.T, d *db.DB) {
		clk.Set(testBase)
		fn(t, newFixture(t, d, clk))
	})
}

// user creates an account holding role at scope and returns its principal.
func (f *fixture) user(username string, role auth.Role, scope string) *auth.Principal {
	f.t.Helper()
	if _, err := f.users.CreateUser(f.ctx, f.sys, auth.NewUser{Username: username, DisplayName: "用户" + username,
		Password: "Pass-Words-2022!", Roles: []auth.RoleInput{{Role: string(role), Scope: scope}}}); err != nil {
		f.t.Fatalf("create user %s: %v", username, err)
	}
	id, roles, err := f.users.LookupUser(f.ctx, username)
	if err != nil {
		f.t.Fatal(err)
	}
	return &auth.Principal{UserID: id, Username: username, DisplayName: "用户" + username, Assignments: roles}
}

// residentID builds a valid 18-character ID number (GB 11643) from a
// region, a birth date and a sequence number: the check character is
// computed here, independently of the pii package.
func residentID(region, birth string, seq int) string {
	base := fmt.Sprintf("%s%s%03d", region, birth, seq%1000)
	weights := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, w := range weights {
		sum += int(base[i]-'0') * w
	}
	return base + string("10X98765432"[sum%11])
}

// workersCSV is a batch of n workers of 千金药业 in 天元区, valid for
// 30 days from the fixture's day; extra rows are appended as they are.
func workersCSV(n int, extra ...string) []byte { return workersFrom(0, n, extra...) }

// workersFrom is workersCSV of the workers first … first+n-1 (worker i
// is 工人i+1 with an ID number of its own, for i < 21000): a person holds
// one pass at a time, so batches that must both be issued name others.
func workersFrom(first, n int, extra ...string) []byte {
	var b strings.Builder
	b.WriteString("姓名,身份证号,手机,车牌,区域,起,止\n")
	for i := first; i < first+n; i++ {
		birth := fmt.Sprintf("19%02d%02d%02d", 60+i%40, 1+i%12, 1+i%28)
		fmt.Fprintf(&b, "工人%d,%s,139%08d,,430211001;430211002,2022-11-20,2022-12-19\n", i+1,
			residentID("430211", birth, i), 7330000+i)
	}
	for _, e := range extra {
		b.WriteString(e + "\n")
	}
	return []byte(b.String())
}

// upload uploads data for 千金药业 as its contact.
func (f *fixture) upload(data []byte) *Batch {
	f.t.Helper()
	b, err := f.svc.Upload(f.ctx, f.contact, UploadInput{Data: data, FileName: "workers.csv"})
	if err != nil {
		f.t.Fatalf("upload: %v", err)
	}
	return b
}

// approve approves a whole batch as gxj.
func (f *fixture) approve(id int64) *Batch {
	f.t.Helper()
	b, err := f.svc.Approve(f.ctx, f.gxj, id, ApproveInput{})
	if err != nil {
		f.t.Fatalf("approve %d: %v", id, err)
	}
	return b
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
