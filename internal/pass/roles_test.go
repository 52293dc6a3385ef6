package pass

import (
	"testing"

	"tongxin/internal/area"
	"tongxin/internal/auth"
	"tongxin/internal/errs"
	"tongxin/internal/resumption"
)

// A department officer reviews passes only through a department with the
// pass_review capability (the demo's 市工信局), and manages the registry
// only through one with resumption_manage: 民政局's officer can neither
// approve, reject, revoke nor set a quota, nor edit an enterprise. When HQ
// staff grant 民政局 pass_review, its officer's cached principal is dropped
// on commit and the next request may approve; withdrawn, it may not.
func TestDepartmentCapabilitiesGatePassReview(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		minzheng := f.user("minzheng", auth.DepartmentOfficer, "department:mzj")
		b := f.upload(workersCSV(2))
		quota := 99999

		_, err := f.svc.Approve(f.Ctx, minzheng, b.ID, ApproveInput{})
		mustErr(t, err, errs.Forbidden, "forbidden")
		_, err = f.svc.Reject(f.Ctx, minzheng, b.ID, ReasonInput{Reason: "不同意"})
		mustErr(t, err, errs.Forbidden, "forbidden")
		_, err = f.svc.SetQuota(f.Ctx, minzheng, qianjin, QuotaInput{Quota: &quota})
		mustErr(t, err, errs.Forbidden, "forbidden")
		_, err = f.svc.ListBatches(f.Ctx, minzheng, BatchFilter{})
		mustErr(t, err, errs.Forbidden, "forbidden")
		_, _, err = f.res.Save(f.Ctx, minzheng, resumption.EnterpriseInput{Key: qianjin, Kind: resumption.KindEnterprise,
			Name: "株洲千金药业股份有限公司", AreaCode: "430211001", Employees: 99999})
		mustErr(t, err, errs.Forbidden, "forbidden")
		if q, err := f.svc.GetQuota(f.Ctx, f.gxj, qianjin); err != nil || q.Quota == quota {
			t.Fatalf("quota %+v %v", q, err)
		}

		// 市工信局 still reviews.
		if f.approve(b.ID).Status != Approved {
			t.Fatal("gxj's approval")
		}

		// Through a token, as a request sees it: the principal is cached
		// (the clock stands still, so only a drop refreshes it).
		token, _, err := f.Users.CreateToken(f.Ctx, f.Sys, "minzheng", "test")
		if err != nil {
			t.Fatal(err)
		}
		principal := func() *auth.Principal {
			t.Helper()
			p, err := f.Users.TokenPrincipal(f.Ctx, token)
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		second := f.upload(workersFrom(2, 1))
		_, err = f.svc.Approve(f.Ctx, principal(), second.ID, ApproveInput{})
		mustErr(t, err, errs.Forbidden, "forbidden")
		hq := f.user("hqstaff", auth.HQStaff, "430200")
		grant := func(caps ...auth.Capability) {
			t.Helper()
			if caps == nil {
				caps = []auth.Capability{}
			}
			if _, err := f.Areas.UpdateDepartment(f.Ctx, hq, area.Department{Code: "mzj", Name: "市民政局", AreaCode: "430200",
				Capabilities: caps}); err != nil {
				t.Fatal(err)
			}
		}
		grant(auth.CapPassReview)
		if ok, err := f.svc.Approve(f.Ctx, principal(), second.ID, ApproveInput{}); err != nil || ok.ReviewedBy != "minzheng" {
			t.Fatalf("approval after the grant: %+v %v", ok, err)
		}
		// pass_review is not resumption_manage.
		_, _, err = f.res.Save(f.Ctx, principal(), resumption.EnterpriseInput{Key: qianjin, Kind: resumption.KindEnterprise,
			Name: "株洲千金药业股份有限公司", AreaCode: "430211001", Employees: 99999})
		mustErr(t, err, errs.Forbidden, "forbidden")
		grant()
		third := f.upload(workersFrom(3, 1))
		_, err = f.svc.Approve(f.Ctx, principal(), third.ID, ApproveInput{})
		mustErr(t, err, errs.Forbidden, "forbidden")
	})
}
