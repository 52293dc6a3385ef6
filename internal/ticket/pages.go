package ticket

import (
	"context"
	"embed"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"tongxin/internal/area"
	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/errs"
	"tongxin/internal/importer"
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
	Svc    *Service
	Areas  *area.Service
	Render *web.Renderer
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

// ---------------------------------------------------------------------
// Shared helpers

func (pg *Pages) now() time.Time { return pg.Svc.clock.Now() }

func (pg *Pages) t(r *http.Request, key string, args ...any) string {
	return pg.Render.T(r, key, args...)
}

// labelOf translates "<prefix>.<value>", or gives the value back.
func (pg *Pages) labelOf(r *http.Request, prefix, value string) string {
	key := prefix + "." + value
	if pg.Render.Catalog().Has(web.LangOf(r), key) {
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
	list, err := pg.Svc.Categories(r.Context())
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

// pageChartSeries and pageChartSpec are the charts as js/resumption-charts.js
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

// ---------------------------------------------------------------------
// The queue

// pageListForm is the queue's filter as typed, with its tab.
type pageListForm struct {
	Tab                           string // "" (my queue), "expiring", "overdue", "mine", "all"
	Status, Category, Area, Query string
}

// query encodes the filter (without the cursor).
func (f pageListForm) query() url.Values {
	v := url.Values{}
	switch f.Tab {
	case "overdue":
		v.Set("overdue", "true")
	case "expiring":
		v.Set("expiring", "true")
	case "mine":
		v.Set("mine", "true")
	case "all":
		v.Set("view", "all")
	}
	for k, s := range map[string]string{"status": f.Status, "category": f.Category, "area": f.Area, "q": f.Query} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

// Narrowed reports whether a filter beyond the tab is set.
func (f pageListForm) Narrowed() bool {
	return f.Status != "" || f.Category != "" || f.Area != ""
}

// queueScope is what the caller works on: the departments they handle
// tickets for and the areas they hold tickets in.
func queueScope(p *auth.Principal) (depts, areas []string) {
	for _, a := range p.Assignments {
		switch {
		case a.Scope.Kind == auth.ScopeDepartment && auth.RoleHas(a.Role, auth.TicketHandle):
			depts = append(depts, a.Scope.Ref)
		case a.Scope.Kind == auth.ScopeArea && (auth.RoleHas(a.Role, auth.TicketHandle) || auth.RoleHas(a.Role, auth.TicketRead)):
			areas = append(areas, a.Scope.Ref)
		}
	}
	slices.Sort(depts)
	slices.Sort(areas)
	return slices.Compact(depts), slices.Compact(areas)
}

// listFilter reads the queue's query (ticket.ParseFilter) and its tab. My
// queue (no tab) is the open tickets of the caller's department or areas;
// "overdue" narrows it to those past a deadline, "expiring" to those about
// to expire; "mine" is what the
// caller filed; "all" is everything in reach.
func (pg *Pages) listFilter(r *http.Request, p *auth.Principal) (pageListForm, Filter, error) {
	q := r.URL.Query()
	f, err := ParseFilter(r)
	form := pageListForm{Status: strings.TrimSpace(q.Get("status")), Category: f.Category, Query: strings.TrimSpace(f.Query)}
	if len(f.Areas) > 0 {
		form.Area = f.Areas[0]
	}
	switch {
	case f.Mine:
		form.Tab = "mine"
	case f.Overdue:
		form.Tab = "overdue"
	case f.Expiring:
		form.Tab = "expiring"
	case q.Get("view") == "all":
		form.Tab = "all"
	}
	if err != nil {
		return form, f, err
	}
	if utf8.RuneCountInString(f.Query) > pageMaxQuery || utf8.RuneCountInString(form.Area) > 20 || utf8.RuneCountInString(f.Category) > 40 {
		return form, f, badFilter("q", "筛选条件过长")
	}
	if form.Tab == "" || form.Tab == "overdue" || form.Tab == "expiring" {
		depts, areas := queueScope(p)
		if len(f.Areas) == 0 && f.Department == "" {
			switch {
			case len(areas) > 0 && len(depts) == 0:
				f.Areas = areas
			case len(depts) == 1 && len(areas) == 0:
				f.Department = depts[0]
			}
		}
		if form.Tab == "" && len(f.Statuses) == 0 {
			f.Statuses = openStatuses
		}
	}
	return form, f, nil
}

// pageTab is a tab of the queue.
type pageTab struct {
	Key, URL string
	Current  bool
}

// pageQueueData is the data of ticket/list.
type pageQueueData struct {
	Form       pageListForm
	Tabs       []pageTab
	Statuses   []Status
	Categories []pageCategory
	Areas      []pageAreaOption
	Rows       []pageRow
	NextURL    string
	ExportURL  string
	Error      string
	CanFile    bool
}

// Queue shows the tickets (GET /tickets?overdue=&mine=&view=all&status=
// &category=&area=&q=&before=), 50 a page, newest first.
func (pg *Pages) Queue(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	form, f, ferr := pg.listFilter(r, p)
	d := pageQueueData{Form: form, Statuses: Statuses, CanFile: p.Can(auth.TicketFile)}
	var cats map[string]string
	if d.Categories, cats, err = pg.categories(r, false); err != nil {
		return err
	}
	if d.Areas, err = pg.areaOptions(ctx, p); err != nil {
		return err
	}
	if form.Area != "" && !slices.ContainsFunc(d.Areas, func(o pageAreaOption) bool { return o.Code == form.Area }) {
		d.Areas = append(d.Areas, pageAreaOption{Code: form.Area, Name: form.Area})
	}
	tabs := []struct{ key, url, tab string }{{"ticket.tab.queue", "/tickets", ""}, {"ticket.tab.expiring", "/tickets?expiring=true", "expiring"},
		{"ticket.tab.overdue", "/tickets?overdue=true", "overdue"},
		{"ticket.tab.mine", "/tickets?mine=true", "mine"}, {"ticket.tab.all", "/tickets?view=all", "all"}}
	for _, tb := range tabs {
		if tb.tab == "mine" && !p.Can(auth.TicketFile) {
			continue
		}
		d.Tabs = append(d.Tabs, pageTab{Key: tb.key, URL: tb.url, Current: tb.tab == form.Tab})
	}
	var list []*Ticket
	status := http.StatusOK
	if ferr == nil {
		if b := strings.TrimSpace(r.URL.Query().Get("before")); b != "" {
			id, err := strconv.ParseInt(b, 10, 64)
			if err != nil || id <= 0 {
				ferr = badFilter("before", "翻页参数无效")
			}
			f.Before = id
		}
	}
	if ferr == nil {
		f.Limit = pageListSize + 1
		list, ferr = pg.Svc.List(ctx, p, f)
	}
	if ferr != nil {
		if !errs.Is(ferr, errs.Invalid) {
			return ferr
		}
		status, d.Error, list = http.StatusBadRequest, pg.Render.Message(r, ferr), nil
	}
	if len(list) > pageListSize {
		list = list[:pageListSize]
		v := form.query()
		v.Set("before", strconv.FormatInt(list[pageListSize-1].ID, 10))
		d.NextURL = "/tickets?" + v.Encode()
	}
	now := pg.now()
	for _, t := range list {
		d.Rows = append(d.Rows, pg.row(r, cats, t, now))
	}
	d.ExportURL = "/tickets.xlsx"
	if enc := form.query().Encode(); enc != "" {
		d.ExportURL += "?" + enc
	}
	return pg.Render.Page(w, r, status, "ticket/list", "ticket.list.title", d)
}

// QueueExport answers GET /tickets.xlsx (the queue's query) with every
// matching ticket up to 10,000, phones and names masked.
func (pg *Pages) QueueExport(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	_, f, err := pg.listFilter(r, p)
	if err != nil {
		return err
	}
	_, cats, err := pg.categories(r, false)
	if err != nil {
		return err
	}
	sheet := importer.Sheet{Name: pg.t(r, "ticket.list.title")}
	for _, c := range []struct {
		key string
		typ importer.CellType
	}{{"ticket.col.tracking", importer.Text}, {"ticket.col.created", importer.Minute}, {"ticket.col.kind", importer.Text},
		{"ticket.col.category", importer.Text}, {"ticket.col.urgency", importer.Text}, {"ticket.col.channel", importer.Text},
		{"ticket.col.status", importer.Text}, {"ticket.col.subject", importer.Text}, {"ticket.col.area", importer.Text},
		{"ticket.col.address", importer.Text}, {"ticket.col.description", importer.Text}, {"ticket.col.department", importer.Text},
		{"ticket.col.level", importer.Text}, {"ticket.col.escalations", importer.Int}, {"ticket.col.resolve_by", importer.Minute},
		{"ticket.col.left", importer.Text}, {"ticket.col.reporter", importer.Text}, {"ticket.col.phone", importer.Text}} {
		sheet.Cols = append(sheet.Cols, importer.Col{Header: pg.t(r, c.key), Type: c.typ})
	}
	var rows [][]any
	f.Limit = pageExportChunk
	now := pg.now()
	for len(rows) < pageExportMax {
		list, err := pg.Svc.List(r.Context(), p, f)
		if err != nil {
			return err
		}
		for _, t := range list {
			row := pg.row(r, cats, t, now)
			dept := t.DepartmentName
			if dept == "" {
				dept = pg.t(r, "ticket.local")
			}
			rows = append(rows, []any{t.Tracking, t.CreatedAt, pg.labelOf(r, "ticket.kind", string(t.Kind)), row.Category,
				pg.labelOf(r, "ticket.urgency", string(t.Urgency)), pg.labelOf(r, "ticket.channel", string(t.Channel)),
				pg.labelOf(r, "ticket.status", string(t.Status)), row.Subject, t.AreaName, t.Subject.Address, t.Description, dept,
				row.Level, t.EscalationLevel, t.ResolveBy, row.Left, t.Reporter.Name, t.Reporter.Phone})
		}
		if len(list) < f.Limit {
			break
		}
		f.Before = list[len(list)-1].ID
	}
	if len(rows) > pageExportMax {
		rows = rows[:pageExportMax]
	}
	sheet.Rows = rows
	b, err := importer.WriteBook(sheet)
	if err != nil {
		return err
	}
	return web.Attachment(w, importer.MediaXLSX, "tickets-"+now.In(clock.Shanghai).Format("20060102-1504")+".xlsx", b)
}

// ---------------------------------------------------------------------
// Filing

// pagePicker is the community picker of a filing form.
type pagePicker struct {
	Endpoint string // the htmx route answering the choices
	Query    string // what was typed
	Choices  []pageAreaChoice
	Error    string
	Label    string // catalog key of the label
}

// pageChoicesData is the data of ticket/area-options.
type pageChoicesData struct {
	Query   string
	Choices []pageAreaChoice
}

// pageNewData is the data of ticket/new.
type pageNewData struct {
	Form        *web.Form
	Hotline     bool
	Categories  []pageCategory
	Urgencies   []Urgency
	Channels    []Channel
	Enterprises []string // an enterprise contact's own
	Picker      pagePicker
}

// newFields are the fields of the filing form.
var newFields = []string{"category", "urgency", "channel", "enterprise", "area_code", "area_q", "address", "description",
	"reporter_name", "reporter_phone"}

func (pg *Pages) newData(r *http.Request, p *auth.Principal, form *web.Form) (*pageNewData, error) {
	d := &pageNewData{Form: form, Hotline: form.Get("channel") == string(ChannelHotline), Urgencies: Urgencies,
		Enterprises: p.Refs(auth.EnterpriseContact),
		Picker:      pagePicker{Endpoint: "/tickets/area-options", Query: form.Get("area_q"), Error: form.Field("area_code"), Label: "ticket.field.area"}}
	var err error
	if d.Categories, _, err = pg.categories(r, true); err != nil {
		return nil, err
	}
	if len(d.Enterprises) > 0 {
		d.Categories = offered(d.Categories, AudienceEnterprise)
	}
	if !d.Hotline {
		d.Channels = Channels
	}
	return d, nil
}

// NewForm shows the filing form (GET /tickets/new). With
// ?channel=hotline_12345 it is the hotline operator's quick form: the
// caller's phone first, categories as large buttons, the community picked
// by typing.
func (pg *Pages) NewForm(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	if err := auth.Require(p, auth.TicketFile, "ticket.NewForm"); err != nil {
		return err
	}
	q := r.URL.Query()
	v := url.Values{"urgency": {string(Normal)}, "channel": {string(ChannelWeb)}}
	if q.Get("channel") == string(ChannelHotline) {
		v.Set("channel", string(ChannelHotline))
	} else if p.HasRole(auth.Liaison) {
		v.Set("channel", string(ChannelLiaison))
	}
	if refs := p.Refs(auth.EnterpriseContact); len(refs) > 0 {
		v.Set("enterprise", refs[0])
	}
	if e := strings.TrimSpace(q.Get("enterprise")); e != "" && utf8.RuneCountInString(e) <= 40 {
		v.Set("enterprise", e)
	}
	d, err := pg.newData(r, p, web.NewForm(v))
	if err != nil {
		return err
	}
	title := "ticket.new.title"
	if d.Hotline {
		title = "ticket.hotline.title"
	}
	return pg.Render.Page(w, r, http.StatusOK, "ticket/new", title, d)
}

// Create files the form's ticket (POST /tickets) and goes to its page,
// which shows the tracking number once. Mistakes show the form again with
// a message beside each field.
func (pg *Pages) Create(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	if err := web.ParseForm(w, r, pageMaxForm); err != nil {
		return err
	}
	ctx := r.Context()
	vals := web.Trimmed(r, newFields...)
	// Long texts keep their inner line breaks.
	vals.Set("description", strings.TrimSpace(r.PostForm.Get("description")))
	code, choices, problem, err := pg.resolveArea(ctx, vals.Get("area_code"), vals.Get("area_q"))
	if err != nil {
		return err
	}
	in := Input{Category: vals.Get("category"), Urgency: Urgency(vals.Get("urgency")), Channel: Channel(vals.Get("channel")),
		Enterprise: vals.Get("enterprise"), AreaCode: code, Address: vals.Get("address"), Description: vals.Get("description"),
		ReporterName: vals.Get("reporter_name"), ReporterPhone: vals.Get("reporter_phone")}
	var t *Ticket
	if problem != "" {
		err = pg.withAreaProblem(ctx, in, problem)
	} else {
		t, err = pg.Svc.Create(ctx, p, in)
	}
	if err != nil {
		status := formStatus(err)
		if status == 0 || (errs.Is(err, errs.Forbidden) && !p.Can(auth.TicketFile)) {
			return err
		}
		if code != "" {
			vals.Set("area_code", code)
		}
		form := web.NewForm(vals)
		pg.Render.Fail(form, r, err)
		d, derr := pg.newData(r, p, form)
		if derr != nil {
			return derr
		}
		d.Picker.Choices = choices
		title := "ticket.new.title"
		if d.Hotline {
			title = "ticket.hotline.title"
		}
		return pg.Render.Page(w, r, status, "ticket/new", title, d)
	}
	http.SetCookie(w, &http.Cookie{Name: filedCookie, Value: t.Tracking, Path: "/tickets/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, MaxAge: 120})
	http.Redirect(w, r, link(t.ID), http.StatusSeeOther)
	return nil
}

// withAreaProblem is the refusal of a form whose typed community matched
// no single area: the picker's message with whatever else the service
// finds wrong.
func (pg *Pages) withAreaProblem(ctx context.Context, in Input, problem string) error {
	fields := []errs.FieldError{{Field: "area_code", Message: problem}}
	if _, err := pg.Svc.validate(ctx, in); err != nil {
		e := errs.As(err)
		if e == nil || e.Kind != errs.Invalid {
			return err
		}
		for _, fe := range e.Fields {
			if fe.Field != "area_code" {
				fields = append(fields, fe)
			}
		}
	}
	return errs.Fields("invalid_ticket", "工单内容有误", fields...)
}

// AreaOptions answers the filing form's picker (GET
// /tickets/area-options?area_q=&area_code=) with the communities and grids
// matching what was typed, as radio buttons named area_code.
func (pg *Pages) AreaOptions(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	if err := auth.Require(p, auth.TicketFile, "ticket.AreaOptions"); err != nil {
		return err
	}
	return pg.areaOptionsFragment(w, r)
}

// HelpAreaOptions is AreaOptions for the public help form (GET
// /help/area-options?area_q=): names of communities are public.
func (pg *Pages) HelpAreaOptions(w http.ResponseWriter, r *http.Request) error {
	return pg.areaOptionsFragment(w, r)
}

func (pg *Pages) areaOptionsFragment(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	query := strings.TrimSpace(q.Get("area_q"))
	if query == "" {
		query = strings.TrimSpace(q.Get("q"))
	}
	choices, err := pg.areaChoices(r.Context(), query)
	if err != nil {
		return err
	}
	picked := strings.TrimSpace(q.Get("area_code"))
	for i := range choices {
		choices[i].Checked = choices[i].Code == picked || len(choices) == 1
	}
	return pg.Render.Fragment(w, r, http.StatusOK, "ticket/area-options", pageChoicesData{Query: query, Choices: choices})
}

// ---------------------------------------------------------------------
// A ticket's page

// pageHop is an escalation hop as shown.
type pageHop struct {
	At               time.Time
	FromLevel, To    string
	FromArea, ToArea string
	Reason           string
}

// pageEvent is a timeline entry as shown.
type pageEvent struct {
	At    time.Time
	Actor string // a display name, or "系统"/"求助人"
	Login string // the login name beside a display name
	What  string
	Note  string
}

// pageDetailData is the data of ticket/detail.
type pageDetailData struct {
	T              *Ticket
	Category       string
	Level          string
	Escalated      string
	RespondLeft    string
	RespondLate    bool
	ResolveLeft    string
	ResolveLate    bool
	RespondState   DeadlineState
	CreatedBy      string // who filed it, by name
	CreatedByLogin string
	ResolveState   DeadlineState
	Hops           []pageHop
	Events         []pageEvent
	Handler        bool
	MayReveal      bool // pii.reveal over the ticket: the reveal form
	Actions        []Status
	Departments    []area.Department
	ActForm        *web.Form
	CommentForm    *web.Form
	MergeForm      *web.Form
	RevealForm     *web.Form
	RevealedPhone  string
	PhotoForm      *web.Form
	CanAddPhoto    bool
	CanComment     bool
	CanMerge       bool
	Filed          bool // just filed: the tracking number is announced
	Self           string
	MaxPhotoMB     int
	PhotosLeft     int
	AutoConfirmAt  time.Time
	MergedIntoLink string
}

// NeedsNote reports whether moving to s needs a note.
func (d *pageDetailData) NeedsNote(s Status) bool {
	return s == Resolved || s == Rejected || s == Reopened
}

// detail loads the data of a ticket's page.
func (pg *Pages) detail(r *http.Request, p *auth.Principal, ref string) (*pageDetailData, error) {
	ctx := r.Context()
	t, err := pg.Svc.Get(ctx, p, ref)
	if err != nil {
		return nil, err
	}
	_, cats, err := pg.categories(r, false)
	if err != nil {
		return nil, err
	}
	now := pg.now()
	d := &pageDetailData{T: t, Category: t.CategoryName, Level: pg.levelName(r, t.HolderDepth), Handler: CanHandle(p, t), MayReveal: MayRevealPhone(p, t),
		Actions: Actions(p, t), Self: link(t.ID), MaxPhotoMB: MaxPhotoBytes >> 20, PhotosLeft: MaxPhotos - len(t.Photos)}
	if n := cats[t.Category]; n != "" {
		d.Category = n
	}
	if t.EscalationLevel > 0 {
		d.Escalated = pg.t(r, "ticket.escalated_to", d.Level)
	}
	if t.RespondedAt == nil && t.Status.Open() {
		d.RespondLeft, d.RespondLate = pg.left(r, t.RespondBy, now), !t.RespondBy.After(now)
		d.RespondState = StateOf(t.RespondFrom, t.RespondBy, now)
	}
	if t.ResolvedAt == nil && t.Status.Open() {
		d.ResolveLeft, d.ResolveLate = pg.left(r, t.ResolveBy, now), !t.ResolveBy.After(now)
		d.ResolveState = StateOf(t.ResolveFrom, t.ResolveBy, now)
	}
	if t.AutoConfirmAt != nil && t.Status == Resolved {
		d.AutoConfirmAt = *t.AutoConfirmAt
	}
	if t.MergedInto != "" {
		d.MergedIntoLink = "/tickets/" + url.PathEscape(t.MergedInto)
	}
	areaNames := map[string]string{}
	areaName := func(code string) string {
		if n, ok := areaNames[code]; ok {
			return n
		}
		n := code
		if a, err := pg.Areas.Lookup(ctx, code); err == nil {
			n = a.Name
		}
		areaNames[code] = n
		return n
	}
	for _, e := range t.Escalations {
		d.Hops = append(d.Hops, pageHop{At: e.At, FromLevel: pg.levelName(r, levelDepth(e.FromLevel)), To: pg.levelName(r, levelDepth(e.ToLevel)),
			FromArea: areaName(e.FromArea), ToArea: areaName(e.ToArea), Reason: pg.labelOf(r, "ticket.esc_reason", e.Reason)})
	}
	deptNames := map[string]string{}
	for _, e := range t.Events {
		ev := pageEvent{At: e.At, Actor: pg.labelOf(r, "ticket.actor", e.Actor), Note: e.Note}
		if e.ActorName != "" {
			ev.Actor, ev.Login = e.ActorName, e.Actor
		}
		if e.Kind == "filed" && d.CreatedBy == "" {
			d.CreatedBy, d.CreatedByLogin = ev.Actor, ev.Login
		}
		switch e.Kind {
		case "transition":
			ev.What = pg.t(r, "ticket.event.transition", pg.labelOf(r, "ticket.status", string(e.FromStatus)), pg.labelOf(r, "ticket.status", string(e.ToStatus)))
			if e.ToStatus == Assigned && e.Department != "" {
				name, ok := deptNames[e.Department]
				if !ok {
					name = e.Department
					if dep, err := pg.Areas.Department(ctx, e.Department); err == nil {
						name = dep.Name
					}
					deptNames[e.Department] = name
				}
				ev.What += pg.t(r, "ticket.event.to_department", name)
			}
		default:
			ev.What = pg.labelOf(r, "ticket.event", e.Kind)
		}
		d.Events = append(d.Events, ev)
	}
	if slices.Contains(d.Actions, Assigned) {
		if d.Departments, err = pg.assignable(ctx, p, t); err != nil {
			return nil, err
		}
	}
	d.ActForm = web.NewForm(url.Values{"department": {t.Department}})
	d.CommentForm, d.MergeForm, d.RevealForm, d.PhotoForm = web.NewForm(nil), web.NewForm(nil), web.NewForm(nil), web.NewForm(nil)
	d.CanComment = t.Status != Merged
	d.CanAddPhoto = !t.Status.Closed() && d.PhotosLeft > 0
	d.CanMerge = d.Handler && t.Status.Open()
	if c, err := r.Cookie(filedCookie); err == nil && c.Value == t.Tracking {
		d.Filed = true
	}
	return d, nil
}

// showDetail renders a ticket's page with status, forgetting the filed
// announcement once shown.
func (pg *Pages) showDetail(w http.ResponseWriter, r *http.Request, status int, d *pageDetailData) error {
	if d.Filed {
		http.SetCookie(w, &http.Cookie{Name: filedCookie, Value: "", Path: "/tickets/", HttpOnly: true,
			SameSite: http.SameSiteLaxMode, MaxAge: -1})
	}
	return pg.Render.Page(w, r, status, "ticket/detail", d.T.Tracking, d)
}

// Detail shows a ticket (GET /tickets/{id}, an id or a tracking number):
// its state and deadlines, escalations, subject, reporter, photos,
// possible duplicates, the actions the caller may take, and the timeline.
func (pg *Pages) Detail(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	d, err := pg.detail(r, p, r.PathValue("id"))
	if err != nil {
		return err
	}
	return pg.showDetail(w, r, http.StatusOK, d)
}

// refuse shows a ticket's page again after a refused form: form holds
// what was typed and err's messages. Errors a user cannot correct are
// returned.
func (pg *Pages) refuse(w http.ResponseWriter, r *http.Request, p *auth.Principal, err error, vals url.Values,
	set func(d *pageDetailData, f *web.Form)) error {
	status := formStatus(err)
	if status == 0 {
		return err
	}
	d, derr := pg.detail(r, p, r.PathValue("id"))
	if derr != nil {
		return derr
	}
	form := web.NewForm(vals)
	pg.Render.Fail(form, r, err)
	set(d, form)
	return pg.showDetail(w, r, status, d)
}

// Transition moves the ticket (POST /tickets/{id}/transitions: to,
// department, note, version).
func (pg *Pages) Transition(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	if err := web.ParseForm(w, r, pageMaxForm); err != nil {
		return err
	}
	vals := web.Trimmed(r, "to", "department", "version")
	vals.Set("note", strings.TrimSpace(r.PostForm.Get("note")))
	in := TransitionInput{To: Status(vals.Get("to")), Note: vals.Get("note")}
	if in.To == Assigned {
		// The form offers the department beside every action; it counts
		// only for an assignment.
		in.Department = vals.Get("department")
	}
	if v := vals.Get("version"); v != "" {
		if in.Version, err = strconv.Atoi(v); err != nil || in.Version < 0 {
			in.Version = -1 // a forged version is stale
		}
	}
	var t *Ticket
	if in.To == "" {
		err = errs.Fields("bad_transition", "请选择办理操作", errs.FieldError{Field: "to", Message: "请选择"})
	} else {
		t, err = pg.Svc.Transition(r.Context(), p, r.PathValue("id"), in)
	}
	if err != nil {
		vals.Del("version")
		return pg.refuse(w, r, p, err, vals, func(d *pageDetailData, f *web.Form) { d.ActForm = f })
	}
	return web.SeeOther(w, r, link(t.ID), "ticket.flash.moved")
}

// Comment adds a comment (POST /tickets/{id}/comments: note).
func (pg *Pages) Comment(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	if err := web.ParseForm(w, r, pageMaxForm); err != nil {
		return err
	}
	vals := url.Values{"note": {strings.TrimSpace(r.PostForm.Get("note"))}}
	if _, err := pg.Svc.Comment(r.Context(), p, r.PathValue("id"), CommentInput{Note: vals.Get("note")}); err != nil {
		return pg.refuse(w, r, p, err, vals, func(d *pageDetailData, f *web.Form) { d.CommentForm = f })
	}
	return web.SeeOther(w, r, "/tickets/"+url.PathEscape(r.PathValue("id"))+"#timeline", "ticket.flash.commented")
}

// Merge closes this ticket as a duplicate of another (POST
// /tickets/{id}/merge: into, note) and goes to the one kept.
func (pg *Pages) Merge(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	if err := web.ParseForm(w, r, pageMaxForm); err != nil {
		return err
	}
	vals := web.Trimmed(r, "into", "note")
	t, err := pg.Svc.Merge(r.Context(), p, r.PathValue("id"), MergeInput{Into: vals.Get("into"), Note: vals.Get("note")})
	if err != nil {
		return pg.refuse(w, r, p, err, vals, func(d *pageDetailData, f *web.Form) { d.MergeForm = f })
	}
	return web.SeeOther(w, r, "/tickets/"+url.PathEscape(t.MergedInto), "ticket.flash.merged")
}

// RevealPhone shows the reporter's full phone number once to a handler
// who gives a reason (POST /tickets/{id}/reveal-phone: reason); it is
// audited.
func (pg *Pages) RevealPhone(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	if err := web.ParseForm(w, r, pageMaxForm); err != nil {
		return err
	}
	vals := web.Trimmed(r, "reason")
	phone, err := pg.Svc.RevealPhone(r.Context(), p, r.PathValue("id"), vals.Get("reason"))
	if err != nil {
		return pg.refuse(w, r, p, err, vals, func(d *pageDetailData, f *web.Form) { d.RevealForm = f })
	}
	d, err := pg.detail(r, p, r.PathValue("id"))
	if err != nil {
		return err
	}
	d.RevealedPhone = phone
	web.NoStore(r)
	return pg.showDetail(w, r, http.StatusOK, d)
}

// AddPhoto attaches a photo (POST /tickets/{id}/photos,
// multipart/form-data with a "file" field; an image of at most 5 MB).
func (pg *Pages) AddPhoto(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	b, err := ReadPhoto(w, r)
	if err == nil {
		_, err = pg.Svc.AddPhoto(r.Context(), p, r.PathValue("id"), b)
	}
	if err != nil {
		return pg.refuse(w, r, p, err, nil, func(d *pageDetailData, f *web.Form) { d.PhotoForm = f })
	}
	return web.SeeOther(w, r, "/tickets/"+url.PathEscape(r.PathValue("id"))+"#photos", "ticket.flash.photo_added")
}

// ---------------------------------------------------------------------
// Statistics

// pageCountsRow is a line of a statistics table.
type pageCountsRow struct {
	Name                           string
	Opened, Handled, Overdue, Open int
	Median                         string
	MedianMinutes                  *float64 // nil when nothing was closed
}

// pageStatsData is the data of ticket/stats.
type pageStatsData struct {
	From, To, Area string
	Areas          []pageAreaOption
	Error          string
	Stats          *Stats
	Total          pageCountsRow
	Departments    []pageCountsRow
	Categories     []pageCountsRow
	Urgencies      []pageCountsRow
	Charts         []pageChartSpec
	ExportURL      string
}

// medianText renders a median in minutes as "3 小时 20 分" ("3 h 20 min"
// in English), "—" for none.
func medianText(en bool, m *float64) string {
	if m == nil {
		return "—"
	}
	d := time.Duration(*m * float64(time.Minute)).Round(time.Minute)
	switch {
	case d < time.Minute && en:
		return "< 1 min"
	case d < time.Minute:
		return "< 1 分"
	case en:
		return englishDuration(d)
	}
	return durationLabel(d)
}

// stats reads the statistics query (from, to: YYYY-MM-DD; area) and
// counts; the last 14 days by default.
func (pg *Pages) stats(r *http.Request, p *auth.Principal) (*pageStatsData, error) {
	q := r.URL.Query()
	d := &pageStatsData{From: strings.TrimSpace(q.Get("from")), To: strings.TrimSpace(q.Get("to")), Area: strings.TrimSpace(q.Get("area"))}
	from, to, err := DayRange(d.From, d.To, pg.now())
	if err == nil && utf8.RuneCountInString(d.Area) > 20 {
		err = badFilter("area", "区划编码过长")
	}
	if err == nil {
		var sq StatsQuery
		sq.From, sq.To = from, to
		if d.Area != "" {
			sq.Areas = []string{d.Area}
		}
		d.Stats, err = pg.Svc.Stats(r.Context(), p, sq)
	}
	if err != nil {
		return d, err
	}
	d.From, d.To = d.Stats.From, d.Stats.To
	_, cats, err := pg.categories(r, false)
	if err != nil {
		return d, err
	}
	st := d.Stats
	en := web.LangOf(r) != web.LangZH
	countsRow := func(name string, c Counts) pageCountsRow {
		return pageCountsRow{Name: name, Opened: c.Opened, Handled: c.Handled, Overdue: c.Overdue, Open: c.Open,
			Median: medianText(en, c.MedianResolveMinutes), MedianMinutes: c.MedianResolveMinutes}
	}
	d.Total = countsRow(pg.t(r, "ticket.stats.total"), st.Total)
	for _, c := range st.ByDepartment {
		name := c.Name
		if c.Key == "" {
			name = pg.t(r, "ticket.local")
		}
		d.Departments = append(d.Departments, countsRow(name, c))
	}
	for _, c := range st.ByCategory {
		name := c.Name
		if n := cats[c.Key]; n != "" {
			name = n
		}
		d.Categories = append(d.Categories, countsRow(name, c))
	}
	for _, c := range st.ByUrgency {
		d.Urgencies = append(d.Urgencies, countsRow(pg.labelOf(r, "ticket.urgency", c.Key), c))
	}
	v := url.Values{"from": {d.From}, "to": {d.To}}
	if d.Area != "" {
		v.Set("area", d.Area)
	}
	d.ExportURL = "/tickets/stats.xlsx?" + v.Encode()
	return d, nil
}

// Stats shows the ticket statistics of a period (GET
// /tickets/stats?from=&to=&area=): totals, by department and by category,
// and with JavaScript a daily line and a department bar chart.
func (pg *Pages) Stats(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	d, err := pg.stats(r, p)
	status := http.StatusOK
	if err != nil {
		if !errs.Is(err, errs.Invalid) {
			return err
		}
		status, d.Error, d.Stats = http.StatusBadRequest, pg.Render.Message(r, err), nil
	}
	if d.Areas, err = pg.areaOptions(r.Context(), p); err != nil {
		return err
	}
	if d.Area != "" && !slices.ContainsFunc(d.Areas, func(o pageAreaOption) bool { return o.Code == d.Area }) {
		d.Areas = append(d.Areas, pageAreaOption{Code: d.Area, Name: d.Area})
	}
	if d.Stats != nil {
		d.Charts = pg.statsCharts(r, d)
	}
	return pg.Render.Page(w, r, status, "ticket/stats", "ticket.stats.title", d)
}

func (pg *Pages) statsCharts(r *http.Request, d *pageStatsData) []pageChartSpec {
	daily := pageChartSpec{ID: "ticket-chart-daily", Type: "line", Title: pg.t(r, "ticket.chart.daily"), Categories: []string{},
		Series: []pageChartSeries{{Name: pg.t(r, "ticket.stats.opened"), Data: []float64{}}, {Name: pg.t(r, "ticket.stats.handled"), Data: []float64{}}}}
	for _, day := range d.Stats.PerDay {
		daily.Categories = append(daily.Categories, day.Date[5:])
		daily.Series[0].Data = append(daily.Series[0].Data, float64(day.Opened))
		daily.Series[1].Data = append(daily.Series[1].Data, float64(day.Handled))
	}
	depts := pageChartSpec{ID: "ticket-chart-departments", Type: "bar", Title: pg.t(r, "ticket.chart.departments"), Categories: []string{},
		Series: []pageChartSeries{{Name: pg.t(r, "ticket.stats.opened"), Data: []float64{}}, {Name: pg.t(r, "ticket.stats.handled"), Data: []float64{}},
			{Name: pg.t(r, "ticket.stats.overdue"), Data: []float64{}}}}
	for _, c := range d.Departments {
		depts.Categories = append(depts.Categories, c.Name)
		depts.Series[0].Data = append(depts.Series[0].Data, float64(c.Opened))
		depts.Series[1].Data = append(depts.Series[1].Data, float64(c.Handled))
		depts.Series[2].Data = append(depts.Series[2].Data, float64(c.Overdue))
	}
	return []pageChartSpec{daily, depts}
}

// StatsExport answers GET /tickets/stats.xlsx (the statistics page's
// query) with the same figures: the total, by department, category and
// urgency, then day by day.
func (pg *Pages) StatsExport(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	d, err := pg.stats(r, p)
	if err != nil {
		return err
	}
	counts := importer.Sheet{Name: pg.t(r, "ticket.stats.title"), Cols: []importer.Col{{Header: pg.t(r, "ticket.stats.dimension")},
		{Header: pg.t(r, "ticket.stats.name")}, {Header: pg.t(r, "ticket.stats.opened"), Type: importer.Int},
		{Header: pg.t(r, "ticket.stats.handled"), Type: importer.Int}, {Header: pg.t(r, "ticket.stats.overdue"), Type: importer.Int},
		{Header: pg.t(r, "ticket.stats.open"), Type: importer.Int}, {Header: pg.t(r, "ticket.stats.median_hours"), Type: importer.Decimal}}}
	add := func(dim string, c pageCountsRow) {
		var hours any
		if c.MedianMinutes != nil {
			hours = math.Round(*c.MedianMinutes/60*100) / 100
		}
		counts.Rows = append(counts.Rows, []any{dim, c.Name, c.Opened, c.Handled, c.Overdue, c.Open, hours})
	}
	add(pg.t(r, "ticket.stats.total"), d.Total)
	for _, g := range []struct {
		key  string
		rows []pageCountsRow
	}{{"ticket.stats.by_department", d.Departments}, {"ticket.stats.by_category", d.Categories}, {"ticket.stats.by_urgency", d.Urgencies}} {
		for _, c := range g.rows {
			add(pg.t(r, g.key), c)
		}
	}
	counts.Rows = append(counts.Rows, []any{pg.t(r, "ticket.stats.overdue_now"), nil, nil, nil, d.Stats.OverdueNow})
	perDay := importer.Sheet{Name: pg.t(r, "ticket.stats.per_day"), Cols: []importer.Col{
		{Header: pg.t(r, "ticket.stats.date"), Type: importer.Date}, {Header: pg.t(r, "ticket.stats.opened"), Type: importer.Int},
		{Header: pg.t(r, "ticket.stats.handled"), Type: importer.Int}}}
	for _, day := range d.Stats.PerDay {
		perDay.Rows = append(perDay.Rows, []any{day.Date, day.Opened, day.Handled})
	}
	b, err := importer.WriteBook(counts, perDay)
	if err != nil {
		return err
	}
	name := fmt.Sprintf("ticket-stats-%s-%s.xlsx", strings.ReplaceAll(d.From, "-", ""), strings.ReplaceAll(d.To, "-", ""))
	return web.Attachment(w, importer.MediaXLSX, name, b)
}

// ---------------------------------------------------------------------
// Public help pages (no login, no JavaScript needed)

// pageHelpData is the data of ticket/help.
type pageHelpData struct {
	Form       *web.Form
	Categories []pageCategory
	Picker     pagePicker
}

// helpFields are the fields of the public help form.
var helpFields = []string{"name", "phone", "area_code", "area_q", "address", "category", "description", "confirm_duplicate"}

func (pg *Pages) helpData(r *http.Request, form *web.Form) (*pageHelpData, error) {
	d := &pageHelpData{Form: form, Picker: pagePicker{Endpoint: "/help/area-options", Query: form.Get("area_q"),
		Error: form.Field("area_code"), Label: "ticket.help.field.community"}}
	var err error
	d.Categories, _, err = pg.categories(r, true)
	d.Categories = offered(d.Categories, AudienceResident)
	return d, err
}

// HelpForm shows a resident's help form (GET /help).
func (pg *Pages) HelpForm(w http.ResponseWriter, r *http.Request) error {
	d, err := pg.helpData(r, web.NewForm(nil))
	if err != nil {
		return err
	}
	return pg.Render.Page(w, r, http.StatusOK, "ticket/help", "ticket.help.title", d)
}

// pageReceiptData is the data of ticket/help-receipt.
type pageReceiptData struct {
	Receipt *Receipt
	Last4   string
}

// HelpSubmit files a resident's help request (POST /help: name, phone,
// area_code or area_q, address, category, description) and shows the
// receipt with its tracking number. Filings are throttled by the service.
func (pg *Pages) HelpSubmit(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(w, r, pageMaxForm); err != nil {
		return err
	}
	ctx := r.Context()
	vals := web.Trimmed(r, helpFields...)
	vals.Set("description", strings.TrimSpace(r.PostForm.Get("description")))
	code, choices, problem, err := pg.resolveArea(ctx, vals.Get("area_code"), vals.Get("area_q"))
	if err != nil {
		return err
	}
	var rc *Receipt
	if problem != "" {
		err = errs.Fields("invalid_ticket", "请选择所在社区", errs.FieldError{Field: "area_code", Message: problem})
	} else {
		rc, err = pg.Svc.FilePublic(ctx, web.ClientAddr(r), PublicInput{Name: vals.Get("name"), Phone: vals.Get("phone"),
			AreaCode: code, Address: vals.Get("address"), Category: vals.Get("category"), Description: vals.Get("description"),
			ConfirmDuplicate: vals.Get("confirm_duplicate") == "yes"})
	}
	if err != nil {
		status := formStatus(err)
		if status == 0 {
			return err
		}
		if code != "" {
			vals.Set("area_code", code)
		}
		form := web.NewForm(vals)
		pg.Render.Fail(form, r, err)
		// The service names the reporter's fields as the API does.
		for from, to := range map[string]string{"reporter_name": "name", "reporter_phone": "phone"} {
			if msg := form.Fields[from]; msg != "" && form.Fields[to] == "" {
				form.Fields[to] = msg
			}
		}
		d, derr := pg.helpData(r, form)
		if derr != nil {
			return derr
		}
		d.Picker.Choices = choices
		return pg.Render.Page(w, r, status, "ticket/help", "ticket.help.title", d)
	}
	digits := strings.Map(func(c rune) rune {
		if c >= '0' && c <= '9' {
			return c
		}
		return -1
	}, vals.Get("phone"))
	d := pageReceiptData{Receipt: rc}
	if len(digits) >= 4 {
		d.Last4 = digits[len(digits)-4:]
	}
	return pg.Render.Page(w, r, http.StatusOK, "ticket/help-receipt", "ticket.help.receipt_title", d)
}

// pageHelpStatusData is the data of ticket/help-status.
type pageHelpStatusData struct {
	Form        *web.Form // tracking, last4
	View        *PublicView
	ConfirmForm *web.Form
	Answered    string // catalog key of the thanks after an answer
}

// HelpStatusForm asks for a tracking number and the last four digits of
// the phone (GET /help/status?tracking=).
func (pg *Pages) HelpStatusForm(w http.ResponseWriter, r *http.Request) error {
	v := url.Values{}
	if tr := strings.TrimSpace(r.URL.Query().Get("tracking")); tr != "" && len(tr) <= 32 {
		v.Set("tracking", tr)
	}
	return pg.Render.Page(w, r, http.StatusOK, "ticket/help-status", "ticket.help.status_title",
		pageHelpStatusData{Form: web.NewForm(v), ConfirmForm: web.NewForm(nil)})
}

// helpStatusRefused shows the look-up form again with err's message: not
// found (which says nothing of any ticket), throttled, or invalid.
func (pg *Pages) helpStatusRefused(w http.ResponseWriter, r *http.Request, err error, vals url.Values) error {
	status := formStatus(err)
	if errs.Is(err, errs.NotFound) {
		status = http.StatusNotFound
	}
	if status == 0 {
		return err
	}
	form := web.NewForm(url.Values{"tracking": {vals.Get("tracking")}})
	pg.Render.Fail(form, r, err)
	return pg.Render.Page(w, r, status, "ticket/help-status", "ticket.help.status_title",
		pageHelpStatusData{Form: form, ConfirmForm: web.NewForm(nil)})
}

// HelpStatus shows a request's progress (POST /help/status: tracking,
// last4); the numbers travel in the body, out of access logs. Wrong
// numbers and wrong digits answer alike, and look-ups are throttled.
func (pg *Pages) HelpStatus(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(w, r, pageMaxForm); err != nil {
		return err
	}
	vals := web.Trimmed(r, "tracking", "last4")
	v, err := pg.Svc.PublicStatus(r.Context(), web.ClientAddr(r), vals.Get("tracking"), vals.Get("last4"))
	if err != nil {
		return pg.helpStatusRefused(w, r, err, vals)
	}
	return pg.Render.Page(w, r, http.StatusOK, "ticket/help-status", "ticket.help.status_title",
		pageHelpStatusData{Form: web.NewForm(vals), View: v, ConfirmForm: web.NewForm(nil)})
}

// HelpConfirm takes the resident's answer to a resolution (POST
// /help/confirm: tracking, last4, satisfied=yes|no, note): solved
// confirms it, not solved reopens it with the note.
func (pg *Pages) HelpConfirm(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(w, r, pageMaxForm); err != nil {
		return err
	}
	ctx := r.Context()
	vals := web.Trimmed(r, "tracking", "last4", "satisfied")
	vals.Set("note", strings.TrimSpace(r.PostForm.Get("note")))
	var v *PublicView
	var err error
	switch vals.Get("satisfied") {
	case "yes", "no":
		v, err = pg.Svc.PublicConfirm(ctx, web.ClientAddr(r), vals.Get("tracking"), vals.Get("last4"), vals.Get("satisfied") == "yes", vals.Get("note"))
	default:
		err = errs.Fields("invalid_confirm", "请选择是否已解决", errs.FieldError{Field: "satisfied", Message: "请选择"})
	}
	if err == nil {
		d := pageHelpStatusData{Form: web.NewForm(url.Values{"tracking": {vals.Get("tracking")}, "last4": {vals.Get("last4")}}),
			View: v, ConfirmForm: web.NewForm(nil), Answered: "ticket.help.thanks_reopened"}
		if vals.Get("satisfied") == "yes" {
			d.Answered = "ticket.help.thanks_confirmed"
		}
		return pg.Render.Page(w, r, http.StatusOK, "ticket/help-status", "ticket.help.status_title", d)
	}
	if !errs.Is(err, errs.Invalid) && !errs.Is(err, errs.Conflict) {
		return pg.helpStatusRefused(w, r, err, vals)
	}
	// A correctable answer: the progress again, the answer's form with its
	// message. Reading it again counts as a look-up, so that a refused
	// answer is no unthrottled way to try digits.
	view, verr := pg.Svc.PublicStatus(ctx, web.ClientAddr(r), vals.Get("tracking"), vals.Get("last4"))
	if verr != nil {
		return pg.helpStatusRefused(w, r, verr, vals)
	}
	form := web.NewForm(vals)
	pg.Render.Fail(form, r, err)
	return pg.Render.Page(w, r, formStatus(err), "ticket/help-status", "ticket.help.status_title",
		pageHelpStatusData{Form: web.NewForm(url.Values{"tracking": {vals.Get("tracking")}, "last4": {vals.Get("last4")}}), View: view, ConfirmForm: form})
}
