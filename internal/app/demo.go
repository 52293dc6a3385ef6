package app

import (
	"context"
	"fmt"
	"text/tabwriter"

	"tongxin/internal/area"
	"tongxin/internal/auth"
	"tongxin/internal/errs"
)

// DemoPassword is the password of every demo account. The demo city is for
// trying Tongxin out; a real deployment creates its own accounts.
const DemoPassword = "tongxin-demo"

// demoUser is one demo account.
type demoUser struct {
	username, name, role, scope string
}

// demoUsers has one account per role bound to the kernel's scopes; the
// enterprise contact comes with the demo enterprises (demoResumption), the
// checkpoint officer with the checkpoints module.
var demoUsers = []demoUser{
	{"admin", "系统管理员", "system_admin", "430200"},
	{"commander", "胡指挥", "hq_commander", "430200"},
	{"hqstaff", "杨参谋", "hq_staff", "430200"},
	{"lusong", "芦淞区干部", "district_officer", "430203"},
	{"jianshe", "建设街道干部", "street_officer", "430203001"},
	{"dayuan", "刘鹏播", "community_worker", "430203001001"},
	{"gxj", "尹东林", "department_officer", "department:gxj"},
	{"hesuan", "核酸检测组成员", "workgroup_member", "workgroup:testing"},
	{"liaison", "驻企联络员", "liaison", "430204"},
	{"volunteer", "肖学联", "volunteer", "430203001001"},
	{"inspector", "石峰区督查组", "inspector", "430204"},
}

// Demo fills the database with the demo city; running it again changes
// nothing. It returns the accounts created.
func Demo(ctx context.Context, sys *System) (created []string, err error) {
	areas, depts, groups := area.DemoCity()
	if _, err := sys.Areas.Seed(ctx, auth.System(), areas, depts, groups); err != nil {
		return nil, fmt.Errorf("demo: city: %w", err)
	}
	for _, u := range demoUsers {
		_, err := sys.Auth.GetUser(ctx, auth.System(), u.username)
		if err == nil {
			continue
		}
		if !errs.Is(err, errs.NotFound) {
			return created, err
		}
		if _, err := sys.Auth.CreateUser(ctx, auth.System(), auth.NewUser{
			Username: u.username, DisplayName: u.name, Password: DemoPassword,
			Roles: []auth.RoleInput{{Role: u.role, Scope: u.scope}},
		}); err != nil {
			return created, fmt.Errorf("demo: user %s: %w", u.username, err)
		}
		created = append(created, u.username)
	}
	more, err := demoResumption(ctx, sys)
	if err != nil {
		return created, err
	}
	created = append(created, more...)
	if err := demoCity(ctx, sys); err != nil {
		return created, err
	}
	more, err = demoTickets(ctx, sys)
	if err != nil {
		return created, err
	}
	cps, err := demoCheckpointData(ctx, sys)
	if err != nil {
		return created, err
	}
	more = append(more, cps...)
	if err := demoPasses(ctx, sys); err != nil {
		return created, err
	}
	if err := demoHistory(ctx, sys); err != nil {
		return created, err
	}
	if err := demoTesting(ctx, sys); err != nil {
		return created, err
	}
	if err := demoZones(ctx, sys); err != nil {
		return created, err
	}
	qs, err := demoQuarantine(ctx, sys)
	if err != nil {
		return created, err
	}
	more = append(more, qs...)
	gate, err := demoEstateGate(ctx, sys)
	if err != nil {
		return created, err
	}
	more = append(more, gate...)
	return append(created, more...), nil
}

func runDemo(ctx context.Context, env *Env, args []string) error {
	f := newFlags(env, "demo", "demo [--db URL]")
	if err := f.parse(args); err != nil {
		return done(err)
	}
	sys, err := f.open(ctx, false, nil)
	if err != nil {
		return err
	}
	defer sys.Close()
	created, err := Demo(ctx, sys)
	if err != nil {
		return err
	}
	if len(created) == 0 {
		fmt.Fprintln(env.Stdout, "演示城市已存在，未做更改。")
	} else {
		fmt.Fprintf(env.Stdout, "已创建演示城市株洲市（430200）及 %d 个演示账号。\n", len(created))
	}
	fmt.Fprintf(env.Stdout, "演示账号（密码均为 %s）：\n", DemoPassword)
	tw := tabwriter.NewWriter(env.Stdout, 2, 4, 2, ' ', 0)
	for _, u := range demoUsers {
		fmt.Fprintf(tw, "  %s\t%s\t%s@%s\n", u.username, u.name, u.role, u.scope)
	}
	fmt.Fprintf(tw, "  %s\t%s\t%s@%s\n", "qianjin", "千金药业联系人", "enterprise_contact", "enterprise:914302001838260003")
	for _, u := range append(append(append([]demoUser{}, demoPassContacts...), demoTicketUsers...), demoQuarantineUsers...) {
		fmt.Fprintf(tw, "  %s\t%s\t%s@%s\n", u.username, u.name, u.role, u.scope)
	}
	if id, err := demoKakouCheckpoint(ctx, sys); err == nil && id != "" {
		fmt.Fprintf(tw, "  %s\t%s\t%s@%s\n", demoKakou.username, demoKakou.name, demoKakou.role, "checkpoint:"+id)
	}
	if id, err := demoGateID(ctx, sys); err == nil && id != "" {
		fmt.Fprintf(tw, "  %s\t%s\t%s@%s\n", demoMenggang.username, demoMenggang.name, demoMenggang.role, "checkpoint:"+id)
	}
	return tw.Flush()
}
