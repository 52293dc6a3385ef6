package app

import (
	"context"
	"fmt"

	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/errs"
	"tongxin/internal/resumption"
)

// demoEnterprises are the enterprises the seed names, and one project.
var demoEnterprises = []resumption.EnterpriseInput{
	{Key: "91430200184287000F", Kind: resumption.KindEnterprise, Name: "中车株洲车辆有限公司", AreaCode: "430204003", Park: "田心高科园",
		Categories: []string{"规上工业"}, IsKey: true, Employees: 3200, ContactName: "车间调度", ContactPhone: "13907330001", ClosedLoop: true},
	{Key: "91430200616784000D", Kind: resumption.KindEnterprise, Name: "北汽株洲分公司", AreaCode: "430211003", Park: "株洲高新区",
		Categories: []string{"规上工业"}, IsKey: true, Employees: 2600, ContactName: "生产部", ContactPhone: "13907330002", ClosedLoop: true},
	{Key: "914302001838260003", Kind: resumption.KindEnterprise, Name: "株洲千金药业股份有限公司", AreaCode: "430211001", Park: "株洲高新区",
		Categories: []string{"规上工业"}, IsKey: true, Employees: 2100, ContactName: "人事部", ContactPhone: "13907330003"},
	{Key: "91430203MA4L1A0000", Kind: resumption.KindEnterprise, Name: "湖南欧微时尚集团", AreaCode: "430203002", Park: "芦淞服饰产业园",
		Categories: []string{"规上工业", "限上批零住餐"}, Employees: 420, ContactName: "行政部", ContactPhone: "13907330004"},
	{Key: "ZZXM-2022-0197", Kind: resumption.KindProject, Name: "建设街道老旧小区改造项目", AreaCode: "430203001",
		Employees: 160, ContactName: "项目部"},
}

// demoResumption registers the demo enterprises with today's reports, the
// power baselines and yesterday's readings, a contact of 千金药业 and the
// liaison's enterprises. It does nothing if the enterprises exist.
func demoResumption(ctx context.Context, sys *System) (users []string, err error) {
	sysP := auth.System()
	if _, err := sys.Resumption.Get(ctx, sysP, demoEnterprises[0].Key); err == nil {
		return nil, nil
	} else if !errs.Is(err, errs.NotFound) {
		return nil, err
	}
	now := sys.DB.Clock.Now().In(clock.Shanghai)
	today, yesterday := now.Format("2006-01-02"), now.AddDate(0, 0, -1).Format("2006-01-02")
	reports := []struct {
		status         resumption.Status
		capacity       int
		expected, site int
	}{{resumption.Resumed, 80, 3000, 2640}, {resumption.Partial, 50, 2400, 1500}, {resumption.Resumed, 90, 2000, 1860},
		{resumption.Partial, 60, 400, 310}, {resumption.Suspended, 0, 150, 0}}
	for i, in := range demoEnterprises {
		if _, _, err := sys.Resumption.Save(ctx, sysP, in); err != nil {
			return nil, fmt.Errorf("demo: enterprise %s: %w", in.Name, err)
		}
		r := reports[i]
		note := ""
		if r.status == resumption.Suspended {
			note = "片区封控，待解封后复工"
		}
		if _, err := sys.Resumption.FileReport(ctx, sysP, in.Key, resumption.ReportInput{Date: today, Status: r.status,
			CapacityPct: &r.capacity, StaffExpected: &r.expected, StaffOnSite: &r.site, ClosedLoop: in.ClosedLoop, Note: note}); err != nil {
			return nil, fmt.Errorf("demo: report of %s: %w", in.Name, err)
		}
	}
	for _, b := range []struct {
		scope, area, name string
		baseline, load    float64
	}{
		{"city_industrial", "430200", "全市工业", 66196870, 59650000},
		{"park:株洲高新区", "430211", "株洲高新区", 356000, 322100},
		{"park:田心高科园", "430204", "田心高科园", 226750, 205000},
	} {
		if _, err := sys.Resumption.PutBaseline(ctx, sysP, b.scope, resumption.BaselineInput{AreaCode: b.area, Name: b.name,
			BaselineKW: b.baseline, Reference: "2022年10月日均最大负荷"}); err != nil {
			return nil, fmt.Errorf("demo: baseline %s: %w", b.scope, err)
		}
		if _, err := sys.Resumption.AddReading(ctx, sysP, resumption.ReadingInput{Scope: b.scope, Date: yesterday, MaxLoadKW: b.load}); err != nil {
			return nil, fmt.Errorf("demo: reading %s: %w", b.scope, err)
		}
	}
	if _, err := sys.Auth.GetUser(ctx, sysP, "qianjin"); errs.Is(err, errs.NotFound) {
		if _, err := sys.Auth.CreateUser(ctx, sysP, auth.NewUser{Username: "qianjin", DisplayName: "千金药业联系人", Password: DemoPassword,
			Roles: []auth.RoleInput{{Role: string(auth.EnterpriseContact), Scope: "enterprise:914302001838260003"}}}); err != nil {
			return nil, fmt.Errorf("demo: user qianjin: %w", err)
		}
		users = append(users, "qianjin")
	}
	for _, key := range []string{demoEnterprises[0].Key, demoEnterprises[1].Key} {
		if _, err := sys.Resumption.AssignLiaison(ctx, sysP, key, "liaison"); err != nil && !errs.Is(err, errs.Conflict) {
			return nil, fmt.Errorf("demo: liaison of %s: %w", key, err)
		}
	}
	return users, nil
}
