package masstest

import (
	"embed"
	"net/http"

	"tongxin/internal/auth"
	"tongxin/internal/web"
)

// Templates holds the mass-testing pages; the Renderer is built with it.
//
//go:embed templates/*.html
var Templates embed.FS

// Pages serves mass testing as HTML. Every rule is the service's; the
// pages read forms and show answers.
type Pages struct {
	svc    *Service
	render *web.Renderer
}

// NewPages builds the HTML handlers.
func NewPages(svc *Service, render *web.Renderer) *Pages { return &Pages{svc: svc, render: render} }

// NavItems are the menu entries (and home cards) of mass testing.
func NavItems() []web.NavItem {
	return []web.NavItem{
		{Key: "testing.nav.households", DescKey: "testing.card.households", Path: "/households", Perm: auth.TestingRead},
	}
}

func (pg *Pages) t(r *http.Request, key string, args ...any) string {
	return pg.render.T(r, key, args...)
}
