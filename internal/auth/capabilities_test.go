package auth_test

import (
	"testing"

	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/db/dbtest"
	"tongxin/internal/errs"
	"tongxin/internal/testcity"
)

// A department officer holds what the role grants everywhere (tickets,
// pii.reveal for them) and, over the department's area, what the
// department's capabilities grant, resolved when the principal loads: the
// demo's 市工信局 reviews passes and manages the registry, 民政局 neither.
// A department's pii.reveal does not reach the accounts of its area.
func TestDepartmentCapabilitiesResolve(t *testing.T) {
	clk := clock.NewManual(testcity.Base)
	dbtest.Each(t, clk, func(t *testing.T, d *db.DB) {
		c := testcity.New(t, d, clk)
		gxj := c.User("gxj", auth.DepartmentOfficer, "department:gxj")
		mzj := c.User("mzj", auth.DepartmentOfficer, "department:mzj")
		c.User("dayuan", auth.CommunityWorker, "430203001001")
		for _, tc := range []struct {
			p    *auth.Principal
			perm auth.Permission
			want bool
		}{
			{gxj, auth.PassReview, true}, {gxj, auth.PassRead, true}, {gxj, auth.ResumptionManage, true},
			{gxj, auth.ResumptionRead, true}, {gxj, auth.TicketHandle, true}, {gxj, auth.AreaWrite, false},
			{mzj, auth.PassReview, false}, {mzj, auth.PassRead, false}, {mzj, auth.ResumptionManage, false},
			{mzj, auth.ResumptionRead, false}, {mzj, auth.TicketHandle, true}, {mzj, auth.TicketFile, true},
			{mzj, auth.PIIReveal, true},
		} {
			if got := tc.p.Can(tc.perm); got != tc.want {
				t.Errorf("%s can %s: %v, want %v", tc.p.Username, tc.perm, got, tc.want)
			}
		}
		if !gxj.Covers(auth.PassReview, "/430200/430211/430211001/") || mzj.Covers(auth.PassReview, "/430200/430211/") {
			t.Error("pass review over the city")
		}
		if auth.RoleHas(auth.DepartmentOfficer, auth.PassReview) || auth.RoleHas(auth.DepartmentOfficer, auth.ResumptionManage) {
			t.Error("the role alone grants pass review or the registry")
		}
		if paths, all := mzj.AreaPaths(auth.PIIReveal); all || len(paths) != 0 {
			t.Errorf("a department's pii.reveal reaches areas %v", paths)
		}
		_, err := c.Users.RevealPhone(c.Ctx, mzj, "dayuan", "核实身份信息")
		testcity.MustErr(t, err, errs.Forbidden, "forbidden") // no user.read: an account is not a ticket
		if n := c.Count(`SELECT COUNT(*) FROM audit_log WHERE action = 'pii.reveal'`); n != 0 {
			t.Errorf("%d reveals audited", n)
		}
	})
}

// A work group member holds what the group's capabilities grant over its
// area, read with the session as a department's are: the demo's
// 全员核酸检测组 manages testing, 交通管控组 does not until its row says
// so, which an open session sees once ForgetScope drops it from the cache.
func TestWorkgroupCapabilitiesResolve(t *testing.T) {
	clk := clock.NewManual(testcity.Base)
	dbtest.Each(t, clk, func(t *testing.T, d *db.DB) {
		c := testcity.New(t, d, clk)
		hesuan := c.User("hesuan", auth.WorkgroupMember, "workgroup:testing")
		c.User("jiaotong", auth.WorkgroupMember, "workgroup:traffic")
		if !hesuan.Covers(auth.TestingManage, "/430200/430203/") || !hesuan.Can(auth.TestingRead) || hesuan.Can(auth.PassReview) {
			t.Error("the testing group's member")
		}
		if auth.RoleHas(auth.WorkgroupMember, auth.TestingManage) {
			t.Error("the role alone grants testing.manage")
		}
		token, _, err := c.Users.Login(c.Ctx, "jiaotong", testcity.Password, "127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		can := func() bool {
			t.Helper()
			p, err := c.Users.SessionPrincipal(c.Ctx, token)
			if err != nil {
				t.Fatal(err)
			}
			return p.Covers(auth.TestingManage, "/430200/")
		}
		if can() {
			t.Fatal("交通管控组 manages testing")
		}
		if err := d.Exec(c.Ctx, `UPDATE workgroups SET capabilities = 'testing_manage' WHERE code = 'traffic'`); err != nil {
			t.Fatal(err)
		}
		c.Users.ForgetScope(auth.ScopeWorkgroup, "traffic")
		if !can() {
			t.Fatal("the session does not see the group's new capability")
		}
	})
}
