package ticket

import (
	"embed"
	"net/http"
	"strconv"
	"strings"
	"time"

	"tongxin/internal/area"
	"tongxin/internal/errs"
	"tongxin/internal/web"
)

// Templates holds the ticket pages; the Renderer is built with it.
//
//go:embed templates
var Templates embed.FS

// Pages serves tickets as HTML: the queue and its export, the overdue
// board, the filing forms (the hotline's quick form among them), a
// ticket's page with its actions, the statistics and their export, the
// settings of deadlines and routing, and the public help pages a resident
// uses without an account. Every rule is the service's; the pages only
// read forms and show answers.
type Pages struct {
	svc    *Service
	areas  *area.Service
	render *web.Renderer
}

// NewPages builds the pages over the ticket service, the area service
// (area pickers, departments) and the renderer.
func NewPages(svc *Service, areas *area.Service, render *web.Renderer) *Pages {
	return &Pages{svc: svc, areas: areas, render: render}
}

// Limits of the pages.
const (
	pageListSize    = 50
	pageExportChunk = 500
	pageExportMax   = 10000
	pageMaxForm     = 64 << 10
	pageMaxQuery    = 100
	// filedCookie carries a new ticket's tracking number to its page,
	// which shows it once.
	filedCookie = "ticket_filed"
)

// openStatuses are the statuses of tickets still owed work.
var openStatuses = []Status{New, Assigned, InProgress, Reopened}

func (pg *Pages) now() time.Time { return pg.svc.clock.Now() }

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

// levelName names an escalation level: ticket.LevelName in Chinese, the
// catalog otherwise.
func (pg *Pages) levelName(r *http.Request, depth int) string {
	if web.LangOf(r) == web.LangZH {
		return LevelName(depth)
	}
	return pg.labelOf(r, "ticket.level", strconv.Itoa(depth))
}

// levelDepth is the depth of an area level code, -1 if unknown.
func levelDepth(code string) int {
	for d := 0; LevelCode(d) != ""; d++ {
		if LevelCode(d) == code {
			return d
		}
	}
	return -1
}

// left is the time until due in the request's language: ticket.Left in
// Chinese.
func (pg *Pages) left(r *http.Request, due, now time.Time) string {
	if web.LangOf(r) == web.LangZH {
		return Left(due, now)
	}
	d := due.Sub(now)
	switch {
	case d >= time.Minute:
		return englishDuration(d) + " left"
	case d >= 0:
		return "under a minute left"
	case d > -time.Minute:
		return "just overdue"
	}
	return "overdue by " + englishDuration(-d)
}

// englishDuration renders d to the minute: "1 d 2 h 5 min".
func englishDuration(d time.Duration) string {
	d = d.Truncate(time.Minute)
	var parts []string
	if days := int(d / (24 * time.Hour)); days > 0 {
		parts = append(parts, strconv.Itoa(days)+" d")
	}
	if h := int(d % (24 * time.Hour) / time.Hour); h > 0 {
		parts = append(parts, strconv.Itoa(h)+" h")
	}
	if m := int(d % time.Hour / time.Minute); m > 0 || len(parts) == 0 {
		parts = append(parts, strconv.Itoa(m)+" min")
	}
	return strings.Join(parts, " ")
}

// formStatus is the status of a form shown again after err, 0 when the
// handler should return err instead: the kinds a user can correct, a
// photo too large or not an image.
func formStatus(err error) int {
	switch errs.KindOf(err) {
	case errs.Unauthorized:
		return 0
	case errs.TooLarge, errs.Unsupported:
		return web.StatusOf(errs.KindOf(err))
	}
	return web.FormStatus(err)
}

// pageCategory is a category in the request's language.
type pageCategory struct {
	Code, Name string
	Active     bool
	Audience   Audience
}

// offered keeps the categories offered to who.
func offered(list []pageCategory, who Audience) []pageCategory {
	var out []pageCategory
	for _, c := range list {
		if c.Audience.For(who) {
			out = append(out, c)
		}
	}
	return out
}

// categories lists the categories in the request's language; only the
// active ones when active is set.
func (pg *Pages) categories(r *http.Request, active bool) ([]pageCategory, map[string]string, error) {
	list, err := pg.svc.Categories(r.Context())
	if err != nil {
		return nil, nil, err
	}
	en := web.LangOf(r) != web.LangZH
	names := map[string]string{}
	var out []pageCategory
	for _, c := range list {
		name := c.Name
		if en && c.NameEn != "" {
			name = c.NameEn
		}
		names[c.Code] = name
		if !active || c.Active {
			out = append(out, pageCategory{Code: c.Code, Name: name, Active: c.Active, Audience: c.Audience})
		}
	}
	return out, names, nil
}

// pageRow is a ticket as a line of the queue and of the overdue board.
type pageRow struct {
	ID            int64
	Tracking      string
	Category      string
	Urgency       Urgency
	Status        Status
	Subject       string
	EnterpriseKey string
	AreaName      string
	Department    string // "" when the area's own office holds it
	Left          string // time left or overdue, while a deadline runs
	Overdue       bool
	State         DeadlineState // of the running deadline, "" when none runs
	ShareLeft     float64
	Escalated     string // "已升级至街道" when escalated
	Level         string // the level now holding it
	CreatedAt     time.Time
	Summary       string
}

func (pg *Pages) row(r *http.Request, cats map[string]string, t *Ticket, now time.Time) pageRow {
	row := pageRow{ID: t.ID, Tracking: t.Tracking, Category: t.CategoryName, Urgency: t.Urgency, Status: t.Status,
		Subject: t.AreaName, AreaName: t.AreaName, Department: t.DepartmentName, Overdue: t.Overdue,
		Level: pg.levelName(r, t.HolderDepth), CreatedAt: t.CreatedAt, Summary: clip(t.Description, 60)}
	if n := cats[t.Category]; n != "" {
		row.Category = n
	}
	if t.Subject.EnterpriseName != "" {
		row.Subject, row.EnterpriseKey = t.Subject.EnterpriseName, t.Subject.EnterpriseKey
	}
	if t.DueAt != nil {
		row.Left = pg.left(r, *t.DueAt, now)
		from := t.ResolveFrom
		if t.DueFrom != nil {
			from = *t.DueFrom
		}
		row.State, row.ShareLeft = StateOf(from, *t.DueAt, now), ShareLeft(from, *t.DueAt, now)
	}
	if t.EscalationLevel > 0 {
		row.Escalated = pg.t(r, "ticket.escalated_to", row.Level)
	}
	return row
}

// pageChartSeries and pageChartSpec are the charts as js/charts.js
// draws them (a generic ECharts line and bar drawer).
type pageChartSeries struct {
	Name string    `json:"name"`
	Data []float64 `json:"data"`
}

type pageChartSpec struct {
	ID         string            `json:"id"`
	Type       string            `json:"type"`
	Title      string            `json:"title"`
	Categories []string          `json:"categories"`
	Series     []pageChartSeries `json:"series"`
	Unit       string            `json:"unit"`
}
