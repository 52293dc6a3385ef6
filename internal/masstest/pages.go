package masstest

import (
	"embed"

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
