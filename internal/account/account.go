// Package account is the HTTP face of the auth and audit kernels: login and
// logout, the caller's own account, user management, API tokens and the
// audit log, as JSON (api.go) and as pages (pages.go). It lives apart from
// auth so that auth stays free of HTTP and web can depend on auth.
package account

import (
	"tongxin/internal/area"
	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/web"
)

// Handlers serves the account routes.
type Handlers struct {
	DB     *db.DB
	Auth   *auth.Service
	Areas  *area.Service
	MW     *web.Middleware
	Render *web.Renderer
	// AuthConfig is the session policy (cookie lifetime follows it).
	AuthConfig auth.Config
}
