package app

import (
	"context"
	"fmt"

	"tongxin/internal/area"
	"tongxin/internal/auth"
	"tongxin/internal/errs"
	"tongxin/internal/ticket"
)

// demoRoutes send each category to the department that solves it; the
// medical rule of 芦淞区 is more specific than the city's. "other" has no
// rule: it stays with the area's own office.
var demoRoutes = []ticket.RouteInput{
	{Category: "logistics", AreaCode: "430200", Department: "jtj"},
	{Category: "materials", AreaCode: "430200", Department: "gxj"},
	{Category: "staff_passes", AreaCode: "430200", Department: "gxj"},
	{Category: "utilities", AreaCode: "430200", Department: "gxj"},
	{Category: "medical", AreaCode: "430200", Department: "wjw"},
	{Category: "medical", AreaCode: "430203", Department: "ls_wjj"},
	{Category: "food", AreaCode: "430200", Department: "swj"},
	{Category: "elderly_care", AreaCode: "430200", Department: "mzj"},
	{Category: "travel_home", AreaCode: "430200", Department: "jtj"},
}

// demoTicketUsers are the hotline operator and the civil affairs officer.
var demoTicketUsers = []demoUser{
	{"hotline", "12345热线接线员", "department_officer", "department:rx12345"},
	{"minzheng", "市民政局值班员", "department_officer", "department:mzj"},
}

// demoTickets fills the ticket desk: the 12345 hotline as a department, its
// operator, routing rules and a few tickets in several states. It does
// nothing once the hotline department exists.
func demoTickets(ctx context.Context, sys *System) (users []string, err error) {
	sysP := auth.System()
	if _, err := sys.Areas.Department(ctx, "rx12345"); err == nil {
		return nil, nil
	} else if !errs.Is(err, errs.NotFound) {
		return nil, err
	}
	if _, err := sys.Areas.CreateDepartment(ctx, sysP, area.Department{Code: "rx12345", Name: "市12345政务服务便民热线", AreaCode: "430200"}); err != nil {
		return nil, fmt.Errorf("demo: hotline department: %w", err)
	}
	for _, u := range demoTicketUsers {
		if _, err := sys.Auth.CreateUser(ctx, sysP, auth.NewUser{Username: u.username, DisplayName: u.name, Password: DemoPassword,
			Roles: []auth.RoleInput{{Role: u.role, Scope: u.scope}}}); err != nil && !errs.Is(err, errs.Conflict) {
			return nil, fmt.Errorf("demo: user %s: %w", u.username, err)
		}
		users = append(users, u.username)
	}
	for _, r := range demoRoutes {
		if _, err := sys.Tickets.SaveRoute(ctx, sysP, r); err != nil {
			return nil, fmt.Errorf("demo: route %s %s: %w", r.Category, r.AreaCode, err)
		}
	}
	ps, err := demoPrincipals(ctx, sys, "hotline", "qianjin", "dayuan", "minzheng")
	if err != nil {
		return nil, err
	}
	hotline, qianjin, dayuan, minzheng := ps[0], ps[1], ps[2], ps[3]
	filings := []struct {
		by *auth.Principal
		in ticket.Input
	}{
		{qianjin, ticket.Input{Category: "logistics", Enterprise: "914302001838260003", Urgency: ticket.Urgent, Channel: ticket.ChannelWeb,
			Description: "原料药运输车辆在株洲大桥卡口受阻，两车辅料无法进厂，影响明日排产。"}},
		{hotline, ticket.Input{Category: "elderly_care", AreaCode: "430203001001", Address: "大园社区建设南路 12 栋 3 单元 402",
			Channel: ticket.ChannelHotline, ReporterName: "张桂英", ReporterPhone: "13807331234",
			Description: "独居老人，女儿在外地回不来，家中米和蔬菜只够两天，需要上门送菜并每日问候。"}},
		{hotline, ticket.Input{Category: "other", AreaCode: "430203001001", Address: "大园社区沿江路 8 号",
			Channel: ticket.ChannelHotline, ReporterName: "李建国", ReporterPhone: "13907335678",
			Description: "小区门口临时围挡占用消防通道，请社区核实处理。"}},
		{hotline, ticket.Input{Category: "medical", AreaCode: "430203001001", Address: "大园社区庐山春天 5 栋",
			Channel: ticket.ChannelHotline, ReporterName: "陈志强", ReporterPhone: "13607339876", Urgency: ticket.Critical,
			Description: "透析病人每周二、五需去市中心医院透析，封控期间无法出行，请安排专车。"}},
	}
	var filed []*ticket.Ticket
	for _, f := range filings {
		t, err := sys.Tickets.Create(ctx, f.by, f.in)
		if err != nil {
			return nil, fmt.Errorf("demo: ticket %q: %w", f.in.Description, err)
		}
		filed = append(filed, t)
	}
	// The elderly-care request is being handled; the "other" one has been
	// taken up by the community itself.
	if _, err := sys.Tickets.Transition(ctx, minzheng, filed[1].Tracking, ticket.TransitionInput{To: ticket.InProgress}); err != nil {
		return nil, fmt.Errorf("demo: ticket progress: %w", err)
	}
	if _, err := sys.Tickets.Comment(ctx, minzheng, filed[1].Tracking, ticket.CommentInput{Note: "已联系大园社区网格员，今晚先送 5 斤米和一周蔬菜。"}); err != nil {
		return nil, fmt.Errorf("demo: ticket comment: %w", err)
	}
	if _, err := sys.Tickets.Transition(ctx, dayuan, filed[2].Tracking, ticket.TransitionInput{To: ticket.Resolved,
		Note: "已协调物业移走围挡，消防通道恢复畅通。"}); err != nil {
		return nil, fmt.Errorf("demo: ticket resolve: %w", err)
	}
	return users, nil
}

// demoPrincipals are the principals of demo users, as they would be when
// signed in.
func demoPrincipals(ctx context.Context, sys *System, usernames ...string) ([]*auth.Principal, error) {
	out := make([]*auth.Principal, len(usernames))
	for i, username := range usernames {
		id, roles, err := sys.Auth.LookupUser(ctx, username)
		if err != nil {
			return nil, fmt.Errorf("demo: user %s: %w", username, err)
		}
		out[i] = &auth.Principal{UserID: id, Username: username, Assignments: roles}
	}
	return out, nil
}
