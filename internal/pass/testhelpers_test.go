package pass

import (
	"fmt"
	"strings"
	"testing"

	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/notify"
	"tongxin/internal/resumption"
	"tongxin/internal/testcity"
)

// Shared fixture of the package's tests: the demo city seeded, two
// enterprises in the resumption registry (千金药业 in 天元区 with 2100
// employees, 欧微 in 芦淞区), their contacts, a reviewer of the industry
// bureau, and the pass service wired as the app wires it.

// testBase is 2022-11-20 10:00 in Shanghai.
var testBase = testcity.Base

const (
	qianjin = "914302001838260003" // 株洲千金药业, 430211001 (天元区)
	ouwei   = "91430203MA4L1A0000" // 湖南欧微时尚集团, 430203002 (芦淞区)
)

type fixture struct {
	*testcity.City
	svc     *Service
	res     *resumption.Service
	dataDir string
	inbox   *notify.Service
	contact *auth.Principal // qianjin's contact
	other   *auth.Principal // ouwei's contact
	gxj     *auth.Principal // department officer of the industry bureau
}

func newFixture(t testing.TB, d *db.DB, clk *clock.Manual) *fixture {
	t.Helper()
	f := &fixture{City: testcity.New(t, d, clk), dataDir: t.TempDir()}
	f.res = resumption.NewService(d, resumption.Deps{Box: f.Box, Areas: f.Areas, Users: f.Users, DataDir: f.dataDir})
	f.Users.RegisterScope(auth.ScopeEnterprise, f.res.ResolveScope)
	for _, e := range []resumption.EnterpriseInput{
		{Key: qianjin, Kind: resumption.KindEnterprise, Name: "株洲千金药业股份有限公司", AreaCode: "430211001", Employees: 2100,
			ContactName: "人事部", ContactPhone: "13907330003"},
		{Key: ouwei, Kind: resumption.KindEnterprise, Name: "湖南欧微时尚集团", AreaCode: "430203002", Employees: 420,
			ContactName: "行政部", ContactPhone: "13907330004"},
	} {
		if _, _, err := f.res.Save(f.Ctx, f.Sys, e); err != nil {
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
	if f.inbox == nil {
		f.inbox = notify.NewService(f.DB, notify.Deps{Box: f.Box})
	}
	return NewService(f.DB, Deps{Box: f.Box, Verifier: NewVerifier(f.DB, VerifierDeps{DataDir: dataDir}), Areas: f.Areas,
		Enterprises: f.res, Users: f.Users, Notifier: f.inbox})
}

// each runs fn on every configured database with a fixture at testBase.
func each(t *testing.T, fn func(t *testing.T, f *fixture)) {
	testcity.Each(t, newFixture, fn)
}

// user creates an account holding role at scope and returns its principal.
func (f *fixture) user(username string, role auth.Role, scope string) *auth.Principal {
	return f.User(username, role, scope)
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
	f.T.Helper()
	b, err := f.svc.Upload(f.Ctx, f.contact, UploadInput{Data: data, FileName: "workers.csv"})
	if err != nil {
		f.T.Fatalf("upload: %v", err)
	}
	return b
}

// approve approves a whole batch as gxj.
func (f *fixture) approve(id int64) *Batch {
	f.T.Helper()
	b, err := f.svc.Approve(f.Ctx, f.gxj, id, ApproveInput{})
	if err != nil {
		f.T.Fatalf("approve %d: %v", id, err)
	}
	return b
}

// mustErr checks err has kind and code.
var mustErr = testcity.MustErr
