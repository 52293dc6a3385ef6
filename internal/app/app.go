// Package app wires Tongxin together and holds its subcommands. Run is the
// whole program: main only supplies the process's arguments, environment,
// streams and a context cancelled by SIGTERM.
package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"tongxin/internal/area"
	"tongxin/internal/audit"
	"tongxin/internal/auth"
	"tongxin/internal/checkpoint"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/masstest"
	"tongxin/internal/notify"
	"tongxin/internal/pass"
	"tongxin/internal/pii"
	"tongxin/internal/quarantine"
	"tongxin/internal/resumption"
	"tongxin/internal/ticket"
	"tongxin/internal/zone"
)

// Version is set at build time with -ldflags "-X tongxin/internal/app.Version=…".
var Version = "dev"

// Env is what every subcommand gets.
type Env struct {
	Getenv func(string) string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Clock is the time source; tests may replace it.
	Clock clock.Clock
}

type command struct {
	name, summary string
	run           func(ctx context.Context, env *Env, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "启动 HTTP 服务 / serve the web interface and API", runServe},
		{"migrate", "升级数据库结构 / apply database migrations", runMigrate},
		{"demo", "填充演示城市（株洲） / fill an empty database with the demo city", runDemo},
		{"user", "用户管理：add | list | disable | enable | passwd", runUser},
		{"token", "API 令牌：create | list | revoke", runToken},
		{"import", "导入：areas | enterprises | reports FILE", runImport},
		{"audit", "审计：verify [--anchor SEQ:HASH] | anchor", runAudit},
		{"keys", "通行证签发密钥：list | rotate | revoke KID", runKeys},
		{"backup", "备份数据库：--to FILE", runBackup},
		{"version", "显示版本 / print the version", runVersion},
	}
}

// Run runs the program with args (without the program name).
func Run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	return RunEnv(ctx, &Env{Getenv: getenv, Stdin: stdin, Stdout: stdout, Stderr: stderr, Clock: clock.Real{}}, args)
}

// RunEnv is Run with a prepared environment (tests inject a clock).
func RunEnv(ctx context.Context, env *Env, args []string) error {
	if env.Clock == nil {
		env.Clock = clock.Real{}
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(env.Stdout)
		if len(args) == 0 {
			return usageError("缺少子命令")
		}
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, env, args[1:])
		}
	}
	usage(env.Stderr)
	return usageError(fmt.Sprintf("未知子命令 %q", args[0]))
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "同心 Tongxin — 城市疫情防控指挥部工作平台\n\n用法: tongxin <子命令> [选项]\n\n子命令:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\n每个子命令都接受 --help 与 --db URL（默认 $TONGXIN_DB，否则 "+db.DefaultURL+"）。")
}

// UsageError is a mistake on the command line: exit code 2.
type UsageError struct{ msg string }

func (e *UsageError) Error() string { return e.msg }

func usageError(msg string) error { return &UsageError{msg: msg} }

// ExitCode maps an error to the process exit code.
func ExitCode(err error) int {
	var ue *UsageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}

// Message is the line printed for an error: the user-safe message for
// known kinds, the full chain for internal ones.
func Message(err error) string {
	if e := errs.As(err); e != nil && e.Kind != errs.Internal {
		msg := e.Message
		for _, f := range e.Fields {
			switch {
			case f.Row > 0:
				msg += fmt.Sprintf("\n  第 %d 行 %s: %s", f.Row, f.Column, f.Message)
			case f.Field != "":
				msg += fmt.Sprintf("\n  %s: %s", f.Field, f.Message)
			}
		}
		if e.Total > len(e.Fields) {
			msg += fmt.Sprintf("\n  另有 %d 处错误未列出", e.Total-len(e.Fields))
		}
		return msg
	}
	return err.Error()
}

// flags builds a subcommand's flag set with --db.
type flags struct {
	*flag.FlagSet
	dbURL   *string
	dataDir *string
	env     *Env
	// wire is what the subcommand's options add to the services (serve's
	// webhook options); zero for the others.
	wire wiring
}

// wiring is what serve's options add to the wiring of the services.
type wiring struct {
	baseURL           string        // --base-url, without a trailing slash
	allowPrivate      bool          // --webhook-allow-private
	offlineScanMaxAge time.Duration // checkpoint.Deps.OfflineMaxAge; 0: the default
}

func newFlags(env *Env, name, usageLine string) *flags {
	fs := flag.NewFlagSet("tongxin "+name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	def := env.Getenv("TONGXIN_DB")
	if def == "" {
		def = db.DefaultURL
	}
	f := &flags{FlagSet: fs, env: env}
	f.dbURL = fs.String("db", def, "数据库：sqlite:PATH 或 postgres://… (环境变量 TONGXIN_DB)")
	f.dataDir = fs.String("data-dir", env.Getenv("TONGXIN_DATA_DIR"), "数据目录（密钥、上传文件）；默认为 SQLite 文件所在目录，PostgreSQL 时为 ./data")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "用法: tongxin %s\n\n选项:\n", usageLine)
		fs.PrintDefaults()
	}
	return f
}

// parse parses args; --help prints usage and yields errHelp, which the
// caller turns into a clean exit.
func (f *flags) parse(args []string) error {
	f.SetOutput(f.env.Stderr)
	for _, a := range args {
		if a == "-h" || a == "--help" || a == "-help" {
			f.SetOutput(f.env.Stdout)
			f.Usage()
			return errHelp
		}
	}
	// Flags may stand anywhere, as people type them ("import reports
	// FILE --partial"): parse, set the first argument aside, parse the
	// rest again. After "--" everything is an argument.
	var positional []string
	rest := args
	for {
		if err := f.Parse(rest); err != nil {
			return usageError(err.Error())
		}
		consumed := len(rest) - f.NArg()
		rest = f.Args()
		if len(rest) == 0 {
			break
		}
		if consumed > 0 && args[len(args)-len(rest)-1] == "--" {
			positional = append(positional, rest...)
			break
		}
		positional = append(positional, rest[0])
		rest = rest[1:]
	}
	// Leave the arguments where Arg and NArg find them.
	return f.Parse(append([]string{"--"}, positional...))
}

var errHelp = errors.New("help shown")

// done maps errHelp to success.
func done(err error) error {
	if errors.Is(err, errHelp) {
		return nil
	}
	return err
}

// resolvedDataDir is the data directory for the database URL.
func (f *flags) resolvedDataDir() string {
	if *f.dataDir != "" {
		return *f.dataDir
	}
	if strings.HasPrefix(*f.dbURL, "sqlite:") {
		p := strings.TrimPrefix(*f.dbURL, "sqlite:")
		if i := strings.IndexByte(p, '?'); i >= 0 {
			p = p[:i]
		}
		return filepath.Dir(p)
	}
	return "data"
}

// System is everything a subcommand needs, opened from the flags.
type System struct {
	DB          *db.DB
	Box         *pii.Box
	Auth        *auth.Service
	Areas       *area.Service
	Resumption  *resumption.Service
	Notify      *notify.Service
	Tickets     *ticket.Service
	Checkpoints *checkpoint.Service
	Passes      *pass.Service
	Verifier    *pass.Verifier // the passes' keys and revocation list, as checkpoints verify
	Testing     *masstest.Service
	Zones       *zone.Service
	Quarantine  *quarantine.Service
	DataDir     string
	Log         *slog.Logger
}

// open opens the database and the kernel services. SQLite is migrated on
// open (it is this process's own file); PostgreSQL must be current unless
// migrate is true.
func (f *flags) open(ctx context.Context, migrate bool, log *slog.Logger) (*System, error) {
	dir := f.resolvedDataDir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory %s: %w", dir, err)
	}
	d, err := db.Open(ctx, *f.dbURL, f.env.Clock)
	if err != nil {
		return nil, err
	}
	if d.Dialect == db.SQLite || migrate {
		applied, err := d.Migrate(ctx)
		if err != nil {
			d.Close()
			return nil, err
		}
		if len(applied) > 0 && log != nil {
			log.Info("database migrated", "db", d.String(), "applied", applied)
		}
	} else {
		applied, known, err := d.SchemaVersion(ctx)
		if err != nil {
			d.Close()
			return nil, err
		}
		if applied < known {
			d.Close()
			return nil, errs.Newf(errs.Conflict, "schema_behind",
				"数据库结构为第 %d 版，本程序需要第 %d 版：请先运行 `tongxin migrate --db …`，或以 --migrate 启动 serve", applied, known)
		}
		if applied > known {
			d.Close()
			return nil, errs.Newf(errs.Conflict, "schema_ahead", "数据库结构（第 %d 版）比本程序（第 %d 版）新：请升级程序", applied, known)
		}
	}
	box, err := pii.LoadOrCreate(dir)
	if err != nil {
		d.Close()
		return nil, err
	}
	if d.AuditKey, err = audit.LoadOrCreateKey(ctx, d, dir); err != nil {
		d.Close()
		return nil, err
	}
	return wireSystem(d, box, dir, log, f.wire), nil
}

// wireSystem builds the services over the database d.
func wireSystem(d *db.DB, box *pii.Box, dir string, log *slog.Logger, w wiring) *System {
	sys := &System{DB: d, Box: box, DataDir: dir, Log: log, Auth: auth.NewService(d, box, auth.DefaultConfig())}
	sys.Areas = area.NewService(d, area.Deps{Principals: sys.Auth})
	sys.Resumption = resumption.NewService(d, resumption.Deps{Box: box, Areas: sys.Areas, Users: sys.Auth, DataDir: dir})
	sys.Auth.RegisterScope(auth.ScopeEnterprise, sys.Resumption.ResolveScope)
	sys.Notify = notify.NewService(d, notify.Deps{Box: box, Log: log, Areas: sys.Areas,
		BaseURL: w.baseURL, AllowPrivate: w.allowPrivate})
	sys.Tickets = ticket.NewService(d, ticket.Deps{Box: box, Areas: sys.Areas, Holders: sys.Auth, Notifier: sys.Notify,
		Enterprises: sys.Resumption, DataDir: dir, Log: log})
	sys.Verifier = pass.NewVerifier(d, pass.VerifierDeps{DataDir: dir, Log: log})
	sys.Checkpoints = checkpoint.NewService(d, checkpoint.Deps{Areas: sys.Areas, Users: sys.Auth, Enterprises: sys.Resumption,
		Verifier: sys.Verifier, Register: estateRegister{sys}, Zones: gateIndex{sys}, OfflineMaxAge: w.offlineScanMaxAge, Log: log})
	sys.Auth.RegisterScope(auth.ScopeCheckpoint, sys.Checkpoints.ResolveScope)
	sys.Passes = pass.NewService(d, pass.Deps{Box: box, Verifier: sys.Verifier, Areas: sys.Areas, Enterprises: sys.Resumption,
		Checkpoints: sys.Checkpoints, Users: sys.Auth, Notifier: sys.Notify})
	sys.Zones = zone.NewService(d, zone.Deps{Areas: sys.Areas, Register: zoneRegister{sys}, Users: sys.Auth, Notifier: sys.Notify,
		Log: log})
	sys.Testing = masstest.NewService(d, masstest.Deps{Box: box, Areas: sys.Areas, Codes: sys.Verifier, Users: sys.Auth,
		Notifier: sys.Notify, Sealer: zoneSealer{sys.Zones}, Zones: sys.Zones, Log: log})
	sys.Quarantine = quarantine.NewService(d, quarantine.Deps{Box: box, Areas: sys.Areas,
		Residents: quarantineRegister{sys.Testing}, Log: log})
	return sys
}

// Close releases the system.
func (s *System) Close() error { return s.DB.Close() }

func parseLevel(level string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return 0, usageError("日志级别须为 debug、info、warn 或 error")
	}
	return l, nil
}
