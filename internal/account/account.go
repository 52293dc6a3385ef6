// Package account is the HTTP face of the auth and audit kernels: login and
// logout, the caller's own account, user management, API tokens and the
// audit log, as JSON (api.go) and as pages (pages.go). It lives apart from
// auth so that auth stays free of HTTP and web can depend on auth.
package account

import (
	"context"

	"tongxin/internal/audit"
	"tongxin/internal/auth"
	"tongxin/internal/web"
)

// Handlers serves the account routes.
type Handlers struct {
	auth       *auth.Service
	auditLog   AuditLog
	mw         *web.Middleware
	render     *web.Renderer
	authConfig auth.Config
}

// AuditLog reads the audit log: audit.List over the database, wired in
// internal/app, so that no handler holds the database.
type AuditLog func(ctx context.Context, f audit.Filter) ([]audit.Row, error)

// Deps are what the handlers need besides the auth service.
type Deps struct {
	AuditLog AuditLog
	MW       *web.Middleware
	Render   *web.Renderer
	// AuthConfig is the session policy (cookie lifetime follows it).
	AuthConfig auth.Config
}

// NewHandlers builds the handlers over the auth service.
func NewHandlers(svc *auth.Service, deps Deps) *Handlers {
	return &Handlers{auth: svc, auditLog: deps.AuditLog, mw: deps.MW, render: deps.Render, authConfig: deps.AuthConfig}
}
