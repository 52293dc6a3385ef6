package app

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"tongxin/internal/clock"
)

// runKeys manages the signing keys of passes: list, rotate, revoke KID.
// The private keys live in DATA_DIR/pass-keys; every instance must share
// that directory, as it shares pii.key.
func runKeys(ctx context.Context, env *Env, args []string) error {
	const usageLine = "keys list | keys rotate | keys revoke KID [--reason R]"
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintln(env.Stdout, "用法: tongxin "+usageLine)
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h") {
			return nil
		}
		return usageError("缺少 keys 子命令")
	}
	sub, args := args[0], args[1:]
	var kid string
	if sub == "revoke" && len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		kid, args = args[0], args[1:]
	}
	f := newFlags(env, "keys "+sub, usageLine)
	reason := f.String("reason", "签发密钥泄露", "吊销理由（revoke）")
	if err := f.parse(args); err != nil {
		return done(err)
	}
	switch sub {
	case "list", "rotate":
		if f.NArg() > 0 {
			return usageError("多余的参数 " + strings.Join(f.Args(), " "))
		}
	case "revoke":
		if kid == "" && f.NArg() == 1 {
			kid = f.Arg(0)
		}
		if kid == "" {
			return usageError("需要密钥编号：tongxin keys revoke KID")
		}
	default:
		return usageError(fmt.Sprintf("未知 keys 子命令 %q", sub))
	}
	sys, err := f.open(ctx, false, nil)
	if err != nil {
		return err
	}
	defer sys.Close()
	day := func(t *time.Time) string {
		if t == nil {
			return "—"
		}
		return t.In(clock.Shanghai).Format("2006-01-02 15:04")
	}
	switch sub {
	case "list":
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
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.Kid, state, day(&k.CreatedAt), day(k.RetiredAt), day(k.RevokedAt),
				day(k.LastExp), file)
		}
		return tw.Flush()
	case "rotate":
		k, err := sys.Passes.Rotate(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintln(env.Stdout, k.Kid)
		fmt.Fprintf(env.Stderr, "新签发密钥 %s 已启用；旧密钥停止签发，在其签发的最后一张通行证到期前仍公布。\n", k.Kid)
	case "revoke":
		n, err := sys.Passes.RevokeKey(ctx, kid, *reason)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "已吊销签发密钥 %s 及其签发的有效通行证 %d 张。\n", kid, n)
	}
	return nil
}
