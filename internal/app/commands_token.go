package app

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/clock"
)

// tokenFlags are the options of `tongxin token`, one set for every
// subcommand.
type tokenFlags struct {
	username, name, expires *string
	id                      *int64
}

// tokenCommand is a subcommand of `tongxin token`: check refuses missing
// options before the database is opened, run does the work.
type tokenCommand struct {
	check func(tokenFlags) error
	run   func(ctx context.Context, env *Env, sys *System, tf tokenFlags) error
}

var tokenCommands = map[string]tokenCommand{
	"create": {needUsername, runTokenCreate},
	"list":   {needUsername, runTokenList},
	"revoke": {needTokenID, runTokenRevoke},
}

func runToken(ctx context.Context, env *Env, args []string) error {
	sub, args, err := subcommand(env, args,
		"用法: tongxin token create --username U [--name N] [--expires 30d|2027-03-01] | token list --username U | token revoke --id N",
		"缺少 token 子命令")
	if err != nil {
		return done(err)
	}
	f := newFlags(env, "token "+sub, "token "+sub+" …")
	tf := tokenFlags{
		username: f.String("username", "", "用户名"),
		name:     f.String("name", "", "令牌用途说明"),
		id:       f.Int64("id", 0, "令牌编号（revoke）"),
		expires:  f.String("expires", "", "有效期（create）：天数如 30d，或到期日如 2027-03-01（当日 24 时到期）；默认 90d，最长 365 天"),
	}
	if err := f.parse(args); err != nil {
		return done(err)
	}
	c, ok := tokenCommands[sub]
	if !ok {
		return usageError(fmt.Sprintf("未知 token 子命令 %q", sub))
	}
	if err := c.check(tf); err != nil {
		return err
	}
	sys, err := f.open(ctx, false, nil)
	if err != nil {
		return err
	}
	defer sys.Close()
	return c.run(ctx, env, sys, tf)
}

func needUsername(tf tokenFlags) error {
	if *tf.username == "" {
		return usageError("需要 --username")
	}
	return nil
}

func needTokenID(tf tokenFlags) error {
	if *tf.id <= 0 {
		return usageError("需要 --id")
	}
	return nil
}

// runTokenCreate issues a token and prints its secret alone on stdout.
func runTokenCreate(ctx context.Context, env *Env, sys *System, tf tokenFlags) error {
	life, until, err := parseExpires(*tf.expires)
	if err != nil {
		return err
	}
	var secret string
	var t *auth.Token
	if until.IsZero() {
		secret, t, err = sys.Auth.CreateTokenFor(ctx, auth.System(), *tf.username, *tf.name, life)
	} else {
		secret, t, err = sys.Auth.CreateTokenUntil(ctx, auth.System(), *tf.username, *tf.name, until)
	}
	if err != nil {
		return err
	}
	// The secret alone on stdout, so that scripts can capture it; the
	// rest goes to stderr.
	fmt.Fprintln(env.Stdout, secret)
	fmt.Fprintf(env.Stderr, "已为 %s 签发令牌 #%d，%s 到期；令牌只显示这一次，请妥善保存\n", t.Username, t.ID,
		time.UnixMilli(t.ExpiresAt).In(clock.Shanghai).Format("2006-01-02 15:04"))
	return nil
}

// runTokenList prints a user's tokens.
func runTokenList(ctx context.Context, env *Env, sys *System, tf tokenFlags) error {
	ts, err := sys.Auth.ListTokens(ctx, auth.System(), *tf.username)
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
}

// runTokenRevoke revokes one token by its number.
func runTokenRevoke(ctx context.Context, env *Env, sys *System, tf tokenFlags) error {
	if err := sys.Auth.RevokeToken(ctx, auth.System(), *tf.id); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "令牌 #%d 已吊销\n", *tf.id)
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
