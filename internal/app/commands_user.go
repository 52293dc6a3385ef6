package app

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"tongxin/internal/auth"
)

// userCommands are the subcommands of `tongxin user`, each given its own
// name and the arguments after it.
var userCommands = map[string]func(ctx context.Context, env *Env, sub string, args []string) error{
	"add":         runUserAdd,
	"list":        runUserList,
	"disable":     runUserStatus,
	"enable":      runUserStatus,
	"passwd":      runUserPasswd,
	"role-remove": runUserRoleRemove,
}

func runUser(ctx context.Context, env *Env, args []string) error {
	sub, args, err := subcommand(env, args,
		"用法: tongxin user add|list|disable|enable|passwd|role-remove [选项]；各子命令均支持 --help", "缺少 user 子命令")
	if err != nil {
		return done(err)
	}
	run, ok := userCommands[sub]
	if !ok {
		return usageError(fmt.Sprintf("未知 user 子命令 %q", sub))
	}
	return run(ctx, env, sub, args)
}

// subcommand splits the subcommand off the arguments of a command that
// has several. Without one it prints usage: after --help that is a clean
// exit (errHelp, which done maps to success), otherwise a usage error
// saying missing.
func subcommand(env *Env, args []string, usage, missing string) (string, []string, error) {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintln(env.Stdout, usage)
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h") {
			return "", nil, errHelp
		}
		return "", nil, usageError(missing)
	}
	return args[0], args[1:], nil
}

// runUserAdd creates a user, or with --add-role gives an existing one more
// roles.
func runUserAdd(ctx context.Context, env *Env, _ string, args []string) error {
	f := newFlags(env, "user add", "user add --username U --display-name N --role R --scope S [--role R --scope S …] [--phone P] --password-stdin\n       tongxin user add --username U --add-role --role R --scope S")
	username := f.String("username", "", "用户名")
	display := f.String("display-name", "", "姓名")
	phone := f.String("phone", "", "手机号（加密保存）")
	stdinPw := f.Bool("password-stdin", false, "从标准输入读取密码")
	addRole := f.Bool("add-role", false, "为已有用户增加角色")
	var roles, scopes repeated
	f.Var(&roles, "role", "角色，可重复："+roleList())
	f.Var(&scopes, "scope", "范围，与 --role 一一对应：区划编码、department:编码、workgroup:编码")
	if err := f.parse(args); err != nil {
		return done(err)
	}
	if *username == "" {
		return usageError("需要 --username")
	}
	if len(roles) != len(scopes) {
		return usageError("--role 与 --scope 须成对出现")
	}
	var in []auth.RoleInput
	for i := range roles {
		in = append(in, auth.RoleInput{Role: roles[i], Scope: scopes[i]})
	}
	sys, err := f.open(ctx, false, nil)
	if err != nil {
		return err
	}
	defer sys.Close()
	if *addRole {
		return addRoles(ctx, env, sys, *username, in)
	}
	if !*stdinPw {
		return usageError("需要 --password-stdin（密码不经命令行参数传递）")
	}
	pw, err := readPassword(env)
	if err != nil {
		return err
	}
	u, err := sys.Auth.CreateUser(ctx, auth.System(), auth.NewUser{Username: *username, DisplayName: *display, Phone: *phone, Password: pw, Roles: in})
	if err != nil {
		return err
	}
	printUser(env.Stdout, u)
	return nil
}

// addRoles is `user add --add-role`: the pairs of roles and scopes are
// added to an existing user one by one.
func addRoles(ctx context.Context, env *Env, sys *System, username string, in []auth.RoleInput) error {
	if len(in) == 0 {
		return usageError("--add-role 需要至少一对 --role/--scope")
	}
	var u *auth.User
	var err error
	for _, r := range in {
		if u, err = sys.Auth.AddRole(ctx, auth.System(), username, r); err != nil {
			return err
		}
	}
	printUser(env.Stdout, u)
	return nil
}

// runUserList prints the users, 200 at a time from the service.
func runUserList(ctx context.Context, env *Env, _ string, args []string) error {
	f := newFlags(env, "user list", "user list [--q TEXT]")
	q := f.String("q", "", "按用户名或姓名筛选")
	if err := f.parse(args); err != nil {
		return done(err)
	}
	sys, err := f.open(ctx, false, nil)
	if err != nil {
		return err
	}
	defer sys.Close()
	tw := tabwriter.NewWriter(env.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "用户名\t姓名\t手机\t状态\t角色")
	after := ""
	for {
		users, err := sys.Auth.ListUsers(ctx, auth.System(), *q, after, 200)
		if err != nil {
			return err
		}
		for _, u := range users {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Username, u.DisplayName, u.Phone, u.Status, rolesText(u.Roles))
		}
		if len(users) < 200 {
			break
		}
		after = users[len(users)-1].Username
	}
	return tw.Flush()
}

// runUserStatus is `user disable` and `user enable`.
func runUserStatus(ctx context.Context, env *Env, sub string, args []string) error {
	f := newFlags(env, "user "+sub, "user "+sub+" --username U")
	username := f.String("username", "", "用户名")
	if err := f.parse(args); err != nil {
		return done(err)
	}
	if *username == "" {
		return usageError("需要 --username")
	}
	sys, err := f.open(ctx, false, nil)
	if err != nil {
		return err
	}
	defer sys.Close()
	u, err := sys.Auth.SetStatus(ctx, auth.System(), *username, sub == "enable")
	if err != nil {
		return err
	}
	printUser(env.Stdout, u)
	return nil
}

// runUserPasswd sets a user's password from standard input.
func runUserPasswd(ctx context.Context, env *Env, _ string, args []string) error {
	f := newFlags(env, "user passwd", "user passwd --username U --password-stdin")
	username := f.String("username", "", "用户名")
	stdinPw := f.Bool("password-stdin", false, "从标准输入读取新密码")
	if err := f.parse(args); err != nil {
		return done(err)
	}
	if *username == "" || !*stdinPw {
		return usageError("需要 --username 与 --password-stdin")
	}
	pw, err := readPassword(env)
	if err != nil {
		return err
	}
	sys, err := f.open(ctx, false, nil)
	if err != nil {
		return err
	}
	defer sys.Close()
	if err := sys.Auth.SetPassword(ctx, auth.System(), *username, pw); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "已修改 %s 的密码，其全部会话已结束、API 令牌已吊销\n", *username)
	return nil
}

// runUserRoleRemove takes one role in one scope from a user.
func runUserRoleRemove(ctx context.Context, env *Env, _ string, args []string) error {
	f := newFlags(env, "user role-remove", "user role-remove --username U --role R --scope S（或 user role-remove U --role R --scope S）")
	username := f.String("username", "", "用户名")
	role := f.String("role", "", "要移除的角色")
	scope := f.String("scope", "", "该角色的范围：区划编码、department:编码、workgroup:编码……")
	// The username may also come first, before the flags.
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		args = append([]string{"--username", args[0]}, args[1:]...)
	}
	if err := f.parse(args); err != nil {
		return done(err)
	}
	if *username == "" || *role == "" || *scope == "" {
		return usageError("需要 --username、--role 与 --scope")
	}
	sys, err := f.open(ctx, false, nil)
	if err != nil {
		return err
	}
	defer sys.Close()
	u, err := sys.Auth.RemoveRole(ctx, auth.System(), *username, auth.RoleInput{Role: *role, Scope: *scope})
	if err != nil {
		return err
	}
	printUser(env.Stdout, u)
	return nil
}

func roleList() string {
	s := make([]string, len(auth.Roles))
	for i, r := range auth.Roles {
		s[i] = string(r)
	}
	return strings.Join(s, ", ")
}

func rolesText(as []auth.Assignment) string {
	var parts []string
	for _, a := range as {
		parts = append(parts, fmt.Sprintf("%s@%s", a.Role, a.Scope))
	}
	return strings.Join(parts, " ")
}

func printUser(w io.Writer, u *auth.User) {
	fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", u.Username, u.DisplayName, u.Status, rolesText(u.Roles))
}
