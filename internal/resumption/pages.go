package resumption

import (
	"context"
	"embed"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/web"
)

// Templates holds the work resumption pages; the Renderer is built with it.
//
//go:embed templates
var Templates embed.FS

// Pages serves work resumption as HTML: the enterprise list and detail,
// the daily report form, the statistics page and the list of units not
// resumed, each table also as an XLSX download.
type Pages struct {
	svc    *Service
	render *web.Renderer
	// problems, when set, lists the tickets about an enterprise for its
	// page and says whether the caller may file one.
	problems ProblemsOf
}

// ProblemsOf lists the tickets about the enterprise with key for its page
// and says whether p may file one; the app wires it to the ticket module,
// which this module does not import.
type ProblemsOf func(ctx context.Context, p *auth.Principal, key string) (list []Problem, mayFile bool, err error)

// NewPages builds the pages; problems may be nil (no tickets listed).
func NewPages(svc *Service, render *web.Renderer, problems ProblemsOf) *Pages {
	return &Pages{svc: svc, render: render, problems: problems}
}

// Problem is a ticket about an enterprise as its page lists it.
type Problem struct {
	ID         int64
	Tracking   string
	Category   string
	StatusName string
	Open       bool
	Overdue    bool
	Left       string // time left or overdue, for open tickets
	Summary    string
	CreatedAt  time.Time
}

// NavItems are the menu entries (and home cards) of the module, for
// Renderer.AddNav.
func NavItems() []web.NavItem {
	return []web.NavItem{
		{Key: "nav.resumption", DescKey: "card.resumption", Path: "/resumption", Perm: auth.ResumptionRead},
		{Key: "nav.enterprises", DescKey: "card.enterprises", Path: "/enterprises", Perm: auth.ResumptionRead,
			Roles: []auth.Role{auth.EnterpriseContact, auth.Liaison}},
	}
}

// Page sizes and limits of the pages.
const (
	pageListSize     = 50
	pageExportChunk  = 500
	pageExportMax    = 100000
	pageReportDays   = 30
	pageTrendDays    = DefaultTrendDays
	pageMaxFormBytes = 64 << 10
)

// pageUrbanCodes are the four urban districts of 株洲 (the seed's 城区).
var pageUrbanCodes = []string{"430202", "430203", "430204", "430211"}

// ---------------------------------------------------------------------
// Shared helpers

// now is the service clock's time.
func (pg *Pages) now() time.Time { return pg.svc.Now() }

// today is the date in Asia/Shanghai.
func (pg *Pages) today() string { return pg.now().In(clock.Shanghai).Format(DateLayout) }

// pctText writes a ratio (0.8612) as a percentage with one decimal.
func pagePct(r float64) string { return strconv.FormatFloat(r*100, 'f', 1, 64) + "%" }

// t translates a catalog key into the request's language.
func (pg *Pages) t(r *http.Request, key string, args ...any) string {
	return pg.render.T(r, key, args...)
}

// labelOf translates "<prefix>.<value>", or gives the value back.
func (pg *Pages) labelOf(r *http.Request, prefix, value string) string {
	key := prefix + "." + value
	if pg.render.Catalog().Has(web.LangOf(r), key) {
		return pg.t(r, key)
	}
	return value
}

func (pg *Pages) yesNo(r *http.Request, b bool) string {
	if b {
		return pg.t(r, "common.yes")
	}
	return pg.t(r, "common.no")
}

func (pg *Pages) categoryText(r *http.Request, cs []Category) string {
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = pg.labelOf(r, "category", string(c))
	}
	return strings.Join(names, "、")
}

// pageMayReport reports whether p may file reports for e: its contact, an
// assigned liaison, or an officer with ResumptionReport over its area.
func pageMayReport(p *auth.Principal, e *Enterprise) bool {
	if p == nil {
		return false
	}
	if slices.Contains(p.Refs(auth.EnterpriseContact), e.Key) {
		return true
	}
	if p.HasRole(auth.Liaison) && slices.Contains(e.Liaisons, p.Username) {
		return true
	}
	return p.Covers(auth.ResumptionReport, e.AreaPath)
}

// pageAreaOption is an area the caller may select.
type pageAreaOption struct {
	Code, Name string
	Checked    bool
}

// areaOptions are the areas offered for selection (see
// Service.AreaChoices).
func (pg *Pages) areaOptions(ctx context.Context, p *auth.Principal) ([]pageAreaOption, error) {
	areas, err := pg.svc.AreaChoices(ctx, p)
	if err != nil {
		return nil, err
	}
	var out []pageAreaOption
	for _, a := range areas {
		out = append(out, pageAreaOption{Code: a.Code, Name: a.Name})
	}
	return out, nil
}
