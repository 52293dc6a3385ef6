package app

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"tongxin/internal/audit"
	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/errs"
)

func runVersion(ctx context.Context, env *Env, args []string) error {
	f := newFlags(env, "version", "version")
	if err := f.parse(args); err != nil {
		return done(err)
	}
	_, err := fmt.Fprintf(env.Stdout, "tongxin %s\n", Version)
	return err
}

func runMigrate(ctx context.Context, env *Env, args []string) error {
	f := newFlags(env, "migrate", "migrate [--db URL]")
	if err := f.parse(args); err != nil {
		return done(err)
	}
	d, err := db.Open(ctx, *f.dbURL, env.Clock)
	if err != nil {
		return err
	}
	defer d.Close()
	applied, err := d.Migrate(ctx)
	if err != nil {
		return err
	}
	v, _, err := d.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintf(env.Stdout, "数据库结构已是最新（第 %d 版）\n", v)
		return nil
	}
	fmt.Fprintf(env.Stdout, "已应用迁移 %v，当前第 %d 版\n", applied, v)
	return nil
}

// repeated is a flag that may be given several times.
type repeated []string

func (r *repeated) String() string     { return strings.Join(*r, ",") }
func (r *repeated) Set(s string) error { *r = append(*r, s); return nil }

func readPassword(env *Env) (string, error) {
	line, err := bufio.NewReader(env.Stdin).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", err
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", usageError("标准输入中没有密码（--password-stdin）")
	}
	return pw, nil
}

func runUser(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintln(env.Stdout, "用法: tongxin user add|list|disable|enable|passwd|role-remove [选项]；各子命令均支持 --help")
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h") {
			return nil
		}
		return usageError("缺少 user 子命令")
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "add":
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
			if len(in) == 0 {
				return usageError("--add-role 需要至少一对 --role/--scope")
			}
			var u *auth.User
			for _, r := range in {
				if u, err = sys.Auth.AddRole(ctx, auth.System(), *username, r); err != nil {
					return err
				}
			}
			printUser(env.Stdout, u)
			return nil
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
	case "list":
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
	case "disable", "enable":
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
	case "passwd":
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
	case "role-remove":
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
	return usageError(fmt.Sprintf("未知 user 子命令 %q", sub))
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

func runToken(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintln(env.Stdout, "用法: tongxin token create --username U [--name N] [--expires 30d|2027-03-01] | token list --username U | token revoke --id N")
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h") {
			return nil
		}
		return usageError("缺少 token 子命令")
	}
	sub, args := args[0], args[1:]
	f := newFlags(env, "token "+sub, "token "+sub+" …")
	username := f.String("username", "", "用户名")
	name := f.String("name", "", "令牌用途说明")
	id := f.Int64("id", 0, "令牌编号（revoke）")
	expires := f.String("expires", "", "有效期（create）：天数如 30d，或到期日如 2027-03-01（当日 24 时到期）；默认 90d，最长 365 天")
	if err := f.parse(args); err != nil {
		return done(err)
	}
	switch sub {
	case "create", "list":
		if *username == "" {
			return usageError("需要 --username")
		}
	case "revoke":
		if *id <= 0 {
			return usageError("需要 --id")
		}
	default:
		return usageError(fmt.Sprintf("未知 token 子命令 %q", sub))
	}
	sys, err := f.open(ctx, false, nil)
	if err != nil {
		return err
	}
	defer sys.Close()
	switch sub {
	case "create":
		life, until, err := parseExpires(*expires)
		if err != nil {
			return err
		}
		var secret string
		var t *auth.Token
		if until.IsZero() {
			secret, t, err = sys.Auth.CreateTokenFor(ctx, auth.System(), *username, *name, life)
		} else {
			secret, t, err = sys.Auth.CreateTokenUntil(ctx, auth.System(), *username, *name, until)
		}
		if err != nil {
			return err
		}
		// The secret alone on stdout, so that scripts can capture it; the
		// rest goes to stderr.
		fmt.Fprintln(env.Stdout, secret)
		fmt.Fprintf(env.Stderr, "已为 %s 签发令牌 #%d，%s 到期；令牌只显示这一次，请妥善保存\n", t.Username, t.ID,
			time.UnixMilli(t.ExpiresAt).In(clock.Shanghai).Format("2006-01-02 15:04"))
	case "list":
		ts, err := sys.Auth.ListTokens(ctx, auth.System(), *username)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(env.Stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "编号\t用途\t到期\t状态")
		for _, t := range ts {
			state := map[string]string{"active": "有效", "expired": "已过期", "revoked": "已吊销"}[t.State]
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", t.ID, t.Name, time.UnixMilli(t.ExpiresAt).In(clock.Shanghai).Format("2006-01-02 15:04"), state)
		}
		return tw.Flush()
	case "revoke":
		if err := sys.Auth.RevokeToken(ctx, auth.System(), *id); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "令牌 #%d 已吊销\n", *id)
	}
	return nil
}

// parseExpires reads --expires: "" (the default life), a number of days
// ("30d", a life) or a date ("2027-03-01", an end: the token lives through
// that day, Asia/Shanghai). The service refuses more than a year.
func parseExpires(s string) (life time.Duration, until time.Time, err error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, time.Time{}, nil
	}
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days < 1 || days > 365 {
			return 0, time.Time{}, usageError("--expires 的天数须为 1d 到 365d")
		}
		return time.Duration(days) * 24 * time.Hour, time.Time{}, nil
	}
	day, err := time.ParseInLocation("2006-01-02", s, clock.Shanghai)
	if err != nil {
		return 0, time.Time{}, usageError(fmt.Sprintf("--expires %q 无效：应为天数如 30d，或日期如 2027-03-01", s))
	}
	return 0, day.AddDate(0, 0, 1), nil
}

func runImport(ctx context.Context, env *Env, args []string) error {
	const help = "用法: tongxin import areas|enterprises|reports FILE [--partial] [--db URL]\n" +
		"  areas        行政区划：编码/code, 名称/name, 上级编码/parent_code, 层级/level\n" +
		"  enterprises  企业与项目：统一社会信用代码/credit_code 或 项目编码/project_code, 名称, 区域编码, 园区, 类别, 重点, 职工人数, 联系人, 联系电话\n" +
		"  reports      每日复工填报：统一社会信用代码/项目编码, 日期, 状态, 产能, 应到岗人数, 实际到岗人数, 闭环生产, 备注\n" +
		"文件为 CSV 或 XLSX，表头中英文均可；有任一错误行则不导入（--partial 只导入正确的行，企业与填报）"
	if len(args) == 0 || args[0] == "--help" || args[0] == "-h" {
		fmt.Fprintln(env.Stdout, help)
		if len(args) == 0 {
			return usageError("缺少导入类型")
		}
		return nil
	}
	kind, args := args[0], args[1:]
	switch kind {
	case "areas", "enterprises", "reports":
	default:
		return usageError(fmt.Sprintf("未知导入类型 %q（可用：areas、enterprises、reports）", kind))
	}
	f := newFlags(env, "import "+kind, "import "+kind+" FILE [--partial] [--db URL]")
	partial := f.Bool("partial", false, "只导入正确的行，报告错误行（enterprises、reports）")
	if err := f.parse(args); err != nil {
		return done(err)
	}
	if f.NArg() != 1 {
		return usageError("需要一个文件：tongxin import " + kind + " FILE")
	}
	data, err := os.ReadFile(f.Arg(0))
	if err != nil {
		return errs.Newf(errs.Invalid, "import_unreadable", "无法读取文件 %s", f.Arg(0))
	}
	sys, err := f.open(ctx, false, nil)
	if err != nil {
		return err
	}
	defer sys.Close()
	var accepted, rejected, created, updated, errCount int
	var rowErrs []errs.FieldError
	var ignored []string
	switch kind {
	case "areas":
		if *partial {
			return usageError("区划导入不支持 --partial：区划树须整体一致")
		}
		res, err := sys.Areas.Import(ctx, auth.System(), data)
		if err != nil {
			return err
		}
		accepted, created, updated, ignored = res.Accepted, res.Created, res.Updated, res.IgnoredColumns
	case "enterprises":
		res, err := sys.Resumption.ImportEnterprises(ctx, auth.System(), data, *partial)
		if err != nil {
			return err
		}
		accepted, rejected, created, updated, rowErrs, errCount = res.Accepted, res.Rejected, res.Created, res.Updated, res.Errors, res.ErrorCount
		ignored = res.IgnoredColumns
	case "reports":
		res, err := sys.Resumption.ImportReports(ctx, auth.System(), data, *partial)
		if err != nil {
			return err
		}
		accepted, rejected, created, updated, rowErrs, errCount = res.Accepted, res.Rejected, res.Created, res.Updated, res.Errors, res.ErrorCount
		ignored = res.IgnoredColumns
	}
	fmt.Fprintf(env.Stdout, "已导入 %d 行：新增 %d，更新 %d\n", accepted, created, updated)
	if len(ignored) > 0 {
		fmt.Fprintf(env.Stdout, "已忽略的列（不属于导入模板）：%s\n", strings.Join(ignored, "、"))
	}
	if rejected > 0 {
		fmt.Fprintf(env.Stdout, "未导入 %d 行：\n", rejected)
		for _, e := range rowErrs {
			fmt.Fprintf(env.Stdout, "  第 %d 行 %s: %s\n", e.Row, e.Column, e.Message)
		}
		if errCount > len(rowErrs) {
			fmt.Fprintf(env.Stdout, "  另有 %d 处错误未列出\n", errCount-len(rowErrs))
		}
	}
	return nil
}

// runAudit checks the audit chain (verify [--anchor SEQ:HASH]) or prints
// its head as an anchor to keep outside (anchor). Neither migrates nor
// creates a key: they read DATA_DIR/audit.key.
func runAudit(ctx context.Context, env *Env, args []string) error {
	const usageLine = "audit verify [--anchor SEQ:HASH]… | audit anchor"
	if len(args) == 0 || (args[0] != "verify" && args[0] != "anchor") {
		fmt.Fprintln(env.Stdout, "用法: tongxin "+usageLine)
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h") {
			return nil
		}
		return usageError("缺少 audit 子命令（verify 或 anchor）")
	}
	sub := args[0]
	f := newFlags(env, "audit "+sub, usageLine)
	var anchorFlags repeated
	if sub == "verify" {
		f.Var(&anchorFlags, "anchor", "先前 tongxin audit anchor 输出的 SEQ:HASH：链须仍经过该行（可重复）")
	}
	if err := f.parse(args[1:]); err != nil {
		return done(err)
	}
	if f.NArg() > 0 {
		return usageError("多余的参数 " + strings.Join(f.Args(), " "))
	}
	var anchors []audit.Anchor
	for _, s := range anchorFlags {
		a, err := audit.ParseAnchor(s)
		if err != nil {
			return err
		}
		anchors = append(anchors, a)
	}
	dir := f.resolvedDataDir()
	key, err := audit.LoadKey(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return errs.Newf(errs.Invalid, "audit_key_missing", "数据目录 %s 中没有审计密钥 %s：请用 --data-dir 指明实例的数据目录", dir, audit.KeyFileName)
	}
	if err != nil {
		return err
	}
	d, err := db.Open(ctx, *f.dbURL, env.Clock)
	if err != nil {
		return err
	}
	defer d.Close()
	d.AuditKey = key
	broken := func(err error) error {
		var be *audit.BrokenError
		if errors.As(err, &be) {
			fmt.Fprintf(env.Stdout, "审计链校验失败：第 %d 行不符（%s）；此前 %d 行完好\n", be.Seq, be.Reason, be.Seq-1)
			return fmt.Errorf("audit chain broken at row %d", be.Seq)
		}
		return err
	}
	if sub == "anchor" {
		a, err := audit.Head(ctx, d)
		if err != nil {
			return broken(err)
		}
		fmt.Fprintln(env.Stdout, a.String())
		fmt.Fprintf(env.Stderr, "审计链完好，链头为第 %d 行：请把上面一行另行保存（纸面、另一台机器），日后用 tongxin audit verify --anchor 核对\n", a.Seq)
		return nil
	}
	n, err := audit.Verify(ctx, d, anchors...)
	if err != nil {
		return broken(err)
	}
	if len(anchors) > 0 {
		fmt.Fprintf(env.Stdout, "审计链完好：已校验 %d 行，经过 %d 个锚点\n", n, len(anchors))
		return nil
	}
	fmt.Fprintf(env.Stdout, "审计链完好：已校验 %d 行\n", n)
	return nil
}

func runBackup(ctx context.Context, env *Env, args []string) error {
	f := newFlags(env, "backup", "backup --to FILE [--db URL]")
	to := f.String("to", "", "备份文件路径（须不存在）")
	if err := f.parse(args); err != nil {
		return done(err)
	}
	if *to == "" {
		return usageError("需要 --to FILE")
	}
	d, err := db.Open(ctx, *f.dbURL, env.Clock)
	if err != nil {
		return err
	}
	defer d.Close()
	if d.Dialect != db.SQLite {
		return errs.E(errs.Invalid, "backup_postgres", "PostgreSQL 请使用 pg_dump 备份（例如 pg_dump -Fc -f tongxin.dump DBNAME）；密钥文件 pii.key 与 audit.key 不在数据库中，需另行备份")
	}
	if _, err := os.Stat(*to); err == nil {
		return errs.Newf(errs.Conflict, "backup_exists", "备份文件 %s 已存在，不会覆盖", *to)
	}
	// VACUUM INTO writes a consistent copy of a live database: it reads
	// one snapshot while writers go on.
	if err := d.Exec(ctx, `VACUUM INTO `+quoteSQL(*to)); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := os.Chmod(*to, 0o600); err != nil {
		return err
	}
	st, err := os.Stat(*to)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "已备份到 %s（%s 字节）；密钥文件 pii.key 与 audit.key 位于数据目录、不在备份中，需另行安全保存\n", *to, strconv.FormatInt(st.Size(), 10))
	return nil
}

func quoteSQL(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
