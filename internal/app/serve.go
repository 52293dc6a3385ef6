package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"tongxin/internal/account"
	"tongxin/internal/area"
	"tongxin/internal/auth"
	"tongxin/internal/resumption"
	"tongxin/internal/web"
)

func runServe(ctx context.Context, env *Env, args []string) error {
	f := newFlags(env, "serve", "serve [--db URL] [--addr HOST:PORT] [--migrate]")
	defAddr := env.Getenv("TONGXIN_ADDR")
	if defAddr == "" {
		defAddr = "127.0.0.1:8080"
	}
	addr := f.String("addr", defAddr, "监听地址 (环境变量 TONGXIN_ADDR)")
	migrate := f.Bool("migrate", false, "PostgreSQL：启动前升级数据库结构")
	secure := f.Bool("secure-cookies", env.Getenv("TONGXIN_SECURE_COOKIES") == "true", "经 HTTPS 访问时开启：Cookie 加 Secure 与 __Host- 前缀")
	logLevel := f.String("log-level", envOr(env, "TONGXIN_LOG_LEVEL", "info"), "日志级别 debug|info|warn|error")
	if err := f.parse(args); err != nil {
		return done(err)
	}
	log, err := newLogger(env.Stderr, *logLevel)
	if err != nil {
		return err
	}
	sys, err := f.open(ctx, *migrate, log)
	if err != nil {
		return err
	}
	defer sys.Close()
	srv, err := NewServer(sys, ServerOptions{SecureCookies: *secure})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", *addr, err)
	}
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	log.Info("serving", "addr", ln.Addr().String(), "db", sys.DB.String(), "version", Version)
	fmt.Fprintf(env.Stdout, "同心 Tongxin 已启动：http://%s\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// SIGTERM: stop accepting, let in-flight requests finish.
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
	catalog, err := web.LoadCatalog()
	if err != nil {
		return nil, err
	}
	render, err := web.NewRenderer(sys.Log, catalog, account.Templates, area.Templates, resumption.Templates)
	if err != nil {
		return nil, err
	}
	render.AddNav(resumption.NavItems()...)
	adapter := &web.Adapter{Log: sys.Log, ErrorPage: render.ErrorPage}
	metrics := web.NewMetrics(sys.DB.Clock.Now())
	mw := &web.Middleware{Log: sys.Log, Auth: sys.Auth, Adapter: adapter, Metrics: metrics, SecureCookies: opt.SecureCookies}
	idem := &web.Idempotency{DB: sys.DB, Adapter: adapter}
	acct := &account.Handlers{DB: sys.DB, Auth: sys.Auth, Areas: sys.Areas, MW: mw, Render: render, AuthConfig: auth.DefaultConfig()}
	rt := &routes{
		a:       adapter,
		sys:     sys,
		render:  render,
		metrics: metrics,
		account: acct,
		areaAPI: area.NewAPI(sys.Areas),
		areaUI:  &area.Pages{Svc: sys.Areas, Render: render},
		resAPI:  resumption.NewAPI(sys.Resumption),
		resUI:   &resumption.Pages{Svc: sys.Resumption, Render: render},
	}
	mux := http.NewServeMux()
	rt.mount(mux)
	return &Server{handler: mw.Wrap(idem.Wrap(mux)), routes: rt}, nil
}
