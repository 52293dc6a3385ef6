package app

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"tongxin/internal/clock"
)

// keysCommand is a subcommand of `tongxin keys`: check refuses wrong
// arguments before the database is opened, run does the work. kid is the
// key of revoke.
type keysCommand struct {
	check func(f *flags, kid *string) error
	run   func(ctx context.Context, env *Env, sys *System, kid, reason string) error
}

var keysCommands = map[string]keysCommand{
	"list":   {noArguments, runKeysList},
	"rotate": {noArguments, runKeysRotate},
	"revoke": {needKid, runKeysRevoke},
}

// runKeys manages the signing keys of passes: list, rotate, revoke KID.
// The private keys live in DATA_DIR/pass-keys; every instance must share
// that directory, as it shares pii.key.
func runKeys(ctx context.Context, env *Env, args []string) error {
	const usageLine = "keys list | keys rotate | keys revoke KID [--reason R]"
	sub, args, err := subcommand(env, args, "用法: tongxin "+usageLine, "缺少 keys 子命令")
	if err != nil {
		return done(err)
	}
	var kid string
	if sub == "revoke" && len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		kid, args = args[0], args[1:]
	}
	f := newFlags(env, "keys "+sub, usageLine)
	reason := f.String("reason", "签发密钥泄露", "吊销理由（revoke）")
	if err := f.parse(args); err != nil {
		return done(err)
	}
	c, ok := keysCommands[sub]
	if !ok {
		return usageError(fmt.Sprintf("未知 keys 子命令 %q", sub))
	}
	if err := c.check(f, &kid); err != nil {
		return err
	}
	sys, err := f.open(ctx, false, nil)
	if err != nil {
		return err
	}
	defer sys.Close()
	return c.run(ctx, env, sys, kid, *reason)
}

func noArguments(f *flags, _ *string) error {
	if f.NArg() > 0 {
		return usageError("多余的参数 " + strings.Join(f.Args(), " "))
	}
	return nil
}

// needKid takes the key from before the flags or, failing that, from the
// one argument after them.
func needKid(f *flags, kid *string) error {
	if *kid == "" && f.NArg() == 1 {
		*kid = f.Arg(0)
	}
	if *kid == "" {
		return usageError("需要密钥编号：tongxin keys revoke KID")
	}
	return nil
}

// keyTime is a moment of a key's life, "—" when it has not come.
func keyTime(t *time.Time) string {
	if t == nil {
		return "—"
	}
	return t.In(clock.Shanghai).Format("2006-01-02 15:04")
}

func runKeysList(ctx context.Context, env *Env, sys *System, _, _ string) error {
	keys, err := sys.Passes.ListKeys(ctx)
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		fmt.Fprintln(env.Stdout, "还没有签发密钥：第一次批准通行证时自动创建。")
		return nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "密钥\t状态\t创建\t停用\t吊销\t最晚到期\t私钥文件")
	for _, k := range keys {
		state := "已停用"
		switch {
		case k.RevokedAt != nil:
			state = "已吊销"
		case k.Signing:
			state = "签发中"
		case k.Published:
			state = "停用（仍公布）"
		}
		file := "有"
		if !k.HasPrivate {
			file = "无"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.Kid, state, keyTime(&k.CreatedAt), keyTime(k.RetiredAt), keyTime(k.RevokedAt),
			keyTime(k.LastExp), file)
	}
	return tw.Flush()
}

func runKeysRotate(ctx context.Context, env *Env, sys *System, _, _ string) error {
	k, err := sys.Passes.Rotate(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, k.Kid)
	fmt.Fprintf(env.Stderr, "新签发密钥 %s 已启用；旧密钥停止签发，在其签发的最后一张通行证到期前仍公布。\n", k.Kid)
	return nil
}

func runKeysRevoke(ctx context.Context, env *Env, sys *System, kid, reason string) error {
	n, err := sys.Passes.RevokeKey(ctx, kid, reason)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "已吊销签发密钥 %s 及其签发的有效通行证 %d 张。\n", kid, n)
	return nil
}
