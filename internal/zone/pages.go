package zone

import (
	"embed"
	"net/http"
	"net/url"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/errs"
	"tongxin/internal/web"
	"tongxin/internal/zonerule"
)

// Templates holds the zones' pages; the Renderer is built with it.
//
//go:embed templates
var Templates embed.FS

// Pages serves zones as HTML: the zones in force as a tree of areas and
// an area's history, a zone with its chain of decisions and the forms
// deciding on it, the proposal queue, the exit permits of a community
// (for a worker's phone) and the public list. Every rule is the
// service's; the pages read forms and show answers.
type Pages struct {
	svc    *Service
	render *web.Renderer
}

// NewPages builds the HTML handlers.
func NewPages(svc *Service, render *web.Renderer) *Pages { return &Pages{svc: svc, render: render} }

// NavItems are the menu entries (and home cards) of zones.
func NavItems() []web.NavItem {
	return []web.NavItem{
		{Key: "zone.nav.list", DescKey: "zone.card.list", Path: "/zones", Perm: auth.ZoneRead},
		{Key: "zone.nav.proposals", DescKey: "zone.card.proposals", Path: "/zones/proposals", Perm: auth.ZoneDecide},
		{Key: "zone.nav.permits", DescKey: "zone.card.permits", Path: "/zones/permits", Perm: auth.ZoneExempt},
		{Key: "zone.nav.public", Path: "/public/zones"},
	}
}

// pageMaxForm bounds a form's body.
const pageMaxForm = 16 << 10

// formTime is the layout of datetime-local inputs.
const formTime = "2006-01-02T15:04"

// formTimeOf reads a datetime-local value in Asia/Shanghai; nil when
// empty.
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

// nowField is now as a datetime-local value.
func (pg *Pages) nowField() string { return pg.svc.Now().In(clock.Shanghai).Format(formTime) }

// refuse shows a page again after a refused form: the error on f, the
// page rebuilt by show with the error's status; an error no user can
// correct is returned.
func (pg *Pages) refuse(r *http.Request, f *web.Form, err error, show func(status int) error) error {
	status := web.FormStatus(err)
	if status == 0 {
		return err
	}
	pg.render.Fail(f, r, err)
	return show(status)
}

// levels are the levels for the forms' choices, strictest first.
var levels = zonerule.Levels

// query is a GET page's query, kept for links and forms.
func query(r *http.Request, names ...string) url.Values {
	out := url.Values{}
	for _, n := range names {
		if v := r.URL.Query().Get(n); v != "" {
			out.Set(n, v)
		}
	}
	return out
}
