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

	"tongxin/internal/audit"
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
