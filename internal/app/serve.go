package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"tongxin/internal/account"
	"tongxin/internal/area"
	"tongxin/internal/audit"
	"tongxin/internal/auth"
	"tongxin/internal/checkpoint"
	"tongxin/internal/masstest"
	"tongxin/internal/notify"
	"tongxin/internal/pass"
	"tongxin/internal/pollpump"
	"tongxin/internal/quarantine"
	"tongxin/internal/resumption"
	"tongxin/internal/ticket"
	"tongxin/internal/web"
	"tongxin/internal/zone"
)

// serveOptions are the options of `tongxin serve`.
type serveOptions struct {
	addr, debugAddr            string
	journal, logLevel          string
	migrate, secure            bool
	sweep, deliver, offlineAge time.Duration
}

func runServe(ctx context.Context, env *Env, args []string) error {
	f, o, err := serveFlags(env, args)
	if err != nil {
		return done(err)
	}
	log, logBuf, err := newBufferedLogger(env.Stderr, o.logLevel)
	if err != nil {
		return err
	}
	defer logBuf.Close() // last: the shutdown's own lines are written too
	f.wire.offlineScanMaxAge = o.offlineAge
	tuneCollector()
	defer pollpump.Start().Stop()
	sys, err := f.open(ctx, o.migrate, log)
	if err != nil {
		return err
	}
	defer sys.Close()
	openScanJournal(ctx, sys, o.journal, log)
	defer func() {
		if err := sys.Checkpoints.CloseJournal(context.WithoutCancel(ctx)); err != nil {
			log.Error("loading the scan journal at shutdown failed; it is loaded at the next start", "err", err.Error())
		}
	}()
	if f.wire.baseURL == "" {
		log.Warn("no --base-url: links in webhook messages will be relative, which WeCom and DingTalk cannot open")
	}
	srv, err := NewServer(sys, ServerOptions{SecureCookies: o.secure})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", o.addr, err)
	}
	stopDebug, err := startDebug(o.debugAddr, log)
	if err != nil {
		ln.Close()
		return err
	}
	defer stopDebug()
	log.Info("serving", "addr", ln.Addr().String(), "db", sys.DB.String(), "version", Version)
	fmt.Fprintf(env.Stdout, "同心 Tongxin 已启动：http://%s\n", ln.Addr())
	stop := runBackground(ctx, sys, o, log)
	defer stop()
	return serveUntilDone(ctx, newHTTPServer(srv), ln, log)
}

// serveFlags parses the options of serve; an error is a usage error or
// errHelp.
func serveFlags(env *Env, args []string) (*flags, *serveOptions, error) {
	f := newFlags(env, "serve", "serve [--db URL] [--addr HOST:PORT] [--migrate]")
	defAddr := env.Getenv("TONGXIN_ADDR")
	if defAddr == "" {
		defAddr = "127.0.0.1:8080"
	}
	addr := f.String("addr", defAddr, "监听地址 (环境变量 TONGXIN_ADDR)")
	migrate := f.Bool("migrate", false, "PostgreSQL：启动前升级数据库结构")
	secure := f.Bool("secure-cookies", env.Getenv("TONGXIN_SECURE_COOKIES") == "true", "经 HTTPS 访问时开启：Cookie 加 Secure 与 __Host- 前缀")
	sweep := f.Duration("sweep-interval", envDuration(env, "TONGXIN_SWEEP_INTERVAL", time.Minute), "工单超时升级与自动确认的扫描间隔 (环境变量 TONGXIN_SWEEP_INTERVAL)")
	deliver := f.Duration("deliver-interval", envDuration(env, "TONGXIN_DELIVER_INTERVAL", 10*time.Second), "Webhook 投递的扫描间隔 (环境变量 TONGXIN_DELIVER_INTERVAL)")
	baseURL := f.String("base-url", env.Getenv("TONGXIN_BASE_URL"), "对外访问地址，如 https://tongxin.example.gov.cn，用于通知中的链接")
	allowPrivate := f.Bool("webhook-allow-private", env.Getenv("TONGXIN_WEBHOOK_ALLOW_PRIVATE") == "true", "允许 Webhook 投递到内网、本机与链路本地地址（默认拒绝）")
	journal := f.String("scan-journal", env.Getenv("TONGXIN_SCAN_JOURNAL"), "卡口在线扫码的日志目录，默认为数据目录下的 scan-journal；off 表示直接写数据库 (环境变量 TONGXIN_SCAN_JOURNAL)")
	offlineAge := f.Duration("offline-scan-max-age", envDuration(env, "TONGXIN_OFFLINE_SCAN_MAX_AGE", checkpoint.DefaultOfflineMaxAge), "离线扫码记录上传时最早可追溯的时长，更早的记录拒收 (环境变量 TONGXIN_OFFLINE_SCAN_MAX_AGE)")
	logLevel := f.String("log-level", envOr(env, "TONGXIN_LOG_LEVEL", "info"), "日志级别 debug|info|warn|error")
	debugAddr := f.String("debug-addr", env.Getenv("TONGXIN_DEBUG_ADDR"), "性能剖析 (pprof) 的监听地址，只能是本机回环地址，如 127.0.0.1:6060；默认关闭 (环境变量 TONGXIN_DEBUG_ADDR)")
	if err := f.parse(args); err != nil {
		return nil, nil, err
	}
	if *sweep < 100*time.Millisecond || *deliver < 100*time.Millisecond {
		return nil, nil, usageError("--sweep-interval 与 --deliver-interval 不能小于 100ms")
	}
	if *offlineAge < time.Minute {
		return nil, nil, usageError("--offline-scan-max-age 不能小于 1m")
	}
	if err := checkDebugAddr(*debugAddr); err != nil {
		return nil, nil, err
	}
	f.wire = wiring{baseURL: strings.TrimRight(*baseURL, "/"), allowPrivate: *allowPrivate}
	return f, &serveOptions{addr: *addr, debugAddr: *debugAddr, journal: *journal, logLevel: *logLevel, migrate: *migrate, secure: *secure,
		sweep: *sweep, deliver: *deliver, offlineAge: *offlineAge}, nil
}

// openScanJournal journals online scans in the data directory, to be
// loaded into the database in bulk (checkpoint/journal.go); what is left
// is loaded at the end, after the last request. "off" writes scans to the
// database directly.
func openScanJournal(ctx context.Context, sys *System, journal string, log *slog.Logger) {
	switch journal {
	case "off":
		return
	case "":
		journal = filepath.Join(sys.DataDir, "scan-journal")
	}
	if err := sys.Checkpoints.OpenJournal(ctx, journal); err != nil {
		// A read-only data directory (instances sharing one): scans
		// are written to the database directly.
		log.Warn("no scan journal; online scans are written to the database directly", "dir", journal, "err", err.Error())
	}
}

func newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}

// runBackground starts the background work: the ticket sweeper, the
// webhook deliveries and the expiry of idempotency keys. All keep their
// state in the database, so any number of instances may run them at once.
// The function returned stops them and waits for them.
func runBackground(ctx context.Context, sys *System, o *serveOptions, log *slog.Logger) (stop func()) {
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); sys.Tickets.RunSweeper(bg, o.sweep) }()
	go func() { defer wg.Done(); sys.Notify.RunDeliveries(bg, o.deliver) }()
	go func() {
		defer wg.Done()
		web.RunIdempotencySweeper(bg, sys.DB, idempotencySweepEvery, func(err error) {
			log.Error("idempotency keys: sweep failed", "err", err.Error())
		})
	}()
	return func() { stopBG(); wg.Wait() }
}

// serveUntilDone serves on ln until the server fails or ctx is cancelled
// (SIGTERM): then it stops accepting and lets in-flight requests finish.
func serveUntilDone(ctx context.Context, hs *http.Server, ln net.Listener, log *slog.Logger) error {
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

// idempotencySweepEvery is how often serve deletes expired idempotency
// keys (web.IdempotencyTTL).
const idempotencySweepEvery = 10 * time.Minute

// envDuration reads a duration from the environment, def when unset or
// unreadable (the flag's own parsing reports bad values given on the
// command line).
func envDuration(env *Env, key string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(env.Getenv(key)); err == nil {
		return d
	}
	return def
}

func envOr(env *Env, key, def string) string {
	if v := env.Getenv(key); v != "" {
		return v
	}
	return def
}

// ServerOptions tunes NewServer.
type ServerOptions struct {
	SecureCookies bool
}

// Server is the whole HTTP surface.
type Server struct {
	handler http.Handler
	routes  *routes
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// NewServer builds the handler tree: templates are compiled here, so a
// broken template stops the start, not a request.
func NewServer(sys *System, opt ServerOptions) (*Server, error) {
	render, err := newRenderer(sys.Log)
	if err != nil {
		return nil, err
	}
	return newServer(sys, opt, render), nil
}

// newRenderer compiles the templates of every module.
func newRenderer(log *slog.Logger) (*web.Renderer, error) {
	catalog, err := web.LoadCatalog()
	if err != nil {
		return nil, err
	}
	return web.NewRenderer(log, catalog, account.Templates, area.Templates, resumption.Templates, notify.Templates, ticket.Templates, pass.Templates, checkpoint.Templates, masstest.Templates,
		zone.Templates, quarantine.Templates)
}

// newServer is NewServer on compiled templates (the access matrix opens
// hundreds of servers on one set); it adds the modules' menu entries.
func newServer(sys *System, opt ServerOptions, render *web.Renderer) *Server {
	render.AddNav(resumption.NavItems()...)
	render.AddNav(notify.NavItems(sys.Notify)...)
	render.AddNav(ticket.NavItems()...)
	render.AddNav(pass.NavItems(sys.Passes)...)
	render.AddNav(checkpoint.NavItems()...)
	render.AddNav(checkpoint.ScanNavItems()...)
	render.AddNav(masstest.NavItems()...)
	render.AddNav(masstest.LabNavItems()...)
	render.AddNav(masstest.CollectNavItems()...)
	render.AddNav(zone.NavItems()...)
	render.AddNav(quarantine.NavItems()...)
	render.AddWork(area.HomeWork())
	render.AddWork(resumption.HomeWork(sys.Resumption)...)
	render.AddWork(pass.ReviewWork(sys.Passes), ticket.HomeWork(sys.Tickets), checkpoint.HomeWork(sys.Checkpoints),
		pass.IssuedWork(sys.Passes), notify.HomeWork(sys.Notify))
	adapter := &web.Adapter{Log: sys.Log, ErrorPage: render.ErrorPage}
	metrics := web.NewMetrics(sys.DB.Clock.Now())
	mw := &web.Middleware{Log: sys.Log, Auth: sys.Auth, Adapter: adapter, Metrics: metrics, SecureCookies: opt.SecureCookies}
	idem := &web.Idempotency{DB: sys.DB, Adapter: adapter, Box: sys.Box}
	acct := account.NewHandlers(sys.Auth, account.Deps{MW: mw, Render: render, AuthConfig: auth.DefaultConfig(),
		AuditLog: func(ctx context.Context, f audit.Filter) ([]audit.Row, error) { return audit.List(ctx, sys.DB, f) }})
	rt := &routes{
		a:        adapter,
		sys:      sys,
		render:   render,
		metrics:  metrics,
		account:  acct,
		areaAPI:  area.NewAPI(sys.Areas),
		areaUI:   area.NewPages(sys.Areas, render, areaFigures(sys)),
		resAPI:   resumption.NewAPI(sys.Resumption),
		resUI:    resumption.NewPages(sys.Resumption, render, enterpriseProblems(sys.Tickets)),
		tickets:  ticket.NewAPI(sys.Tickets),
		ticketUI: ticket.NewPages(sys.Tickets, sys.Areas, render),
		ntAPI:    notify.NewAPI(sys.Notify),
		ntUI:     notify.NewPages(sys.Notify, render, sys.Areas.Names),
		passAPI:  pass.NewAPI(sys.Passes),
		passUI:   pass.NewPages(sys.Passes, render),
		cpAPI:    checkpoint.NewAPI(sys.Checkpoints),
		cpUI:     checkpoint.NewPages(sys.Checkpoints, render),
		scanUI:   checkpoint.NewScanPage(sys.Checkpoints, render),
		testAPI:  masstest.NewAPI(sys.Testing),
		testUI:   masstest.NewPages(sys.Testing, render),
		zoneAPI:  zone.NewAPI(sys.Zones),
		zoneUI:   zone.NewPages(sys.Zones, render),
		quarAPI:  quarantine.NewAPI(sys.Quarantine),
		quarUI:   quarantine.NewPages(sys.Quarantine, render),
		imports:  web.NewGate(web.MaxConcurrentImports),
	}
	mux := http.NewServeMux()
	rt.mount(mux)
	idem.Routes = mux
	return &Server{handler: mw.Wrap(idem.Wrap(mux)), routes: rt}
}
