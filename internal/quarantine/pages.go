package quarantine

import (
	"embed"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/errs"
	"tongxin/internal/web"
)

// Templates holds the quarantine pages; the Renderer is built with it.
//
//go:embed templates
var Templates embed.FS

// Pages serves quarantine as HTML: the central board (sites with their
// occupancy), a site's rooms as a grid with who is where (masked) at any
// moment and its admission, transfer and release forms and history, and
// the community worker's home-quarantine page for a phone (today's
// checks with a quick form per person, the missed list, the tests due).
// Every rule is the service's; the pages read forms and show answers.
type Pages struct {
	svc    *Service
	render *web.Renderer
}

// NewPages builds the HTML handlers.
func NewPages(svc *Service, render *web.Renderer) *Pages { return &Pages{svc: svc, render: render} }

// NavItems are the menu entries (and home cards) of quarantine.
func NavItems() []web.NavItem {
	return []web.NavItem{
		{Key: "quarantine.nav.central", DescKey: "quarantine.card.central", Path: "/quarantine", Perm: auth.QuarantineRead},
		{Key: "quarantine.nav.home", DescKey: "quarantine.card.home", Path: "/quarantine/home", Perm: auth.QuarantineRead},
	}
}

// pageMaxForm bounds a form's body.
const pageMaxForm = 64 << 10

// formTime is the layout of datetime-local inputs, in Asia/Shanghai.
const formTime = "2006-01-02T15:04"

// formTimeOf reads a datetime-local value; empty is nil (now).
func formTimeOf(v, field string) (*time.Time, error) {
	if v == "" {
		return nil, nil
	}
	t, err := time.ParseInLocation(formTime, v, clock.Shanghai)
	if err != nil {
		return nil, errs.Fields("bad_time", "时间格式应为 YYYY-MM-DDTHH:MM", errs.FieldError{Field: field, Message: "时间格式错误"})
	}
	return &t, nil
}
