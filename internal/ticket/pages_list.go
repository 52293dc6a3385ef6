package ticket

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/errs"
	"tongxin/internal/importer"
	"tongxin/internal/web"
)

// The queue and its export.

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
	form.Tab = queueTab(f, q.Get("view"))
	if err != nil {
		return form, f, err
	}
	if utf8.RuneCountInString(f.Query) > pageMaxQuery || utf8.RuneCountInString(form.Area) > 20 || utf8.RuneCountInString(f.Category) > 40 {
		return form, f, badFilter("q", "筛选条件过长")
	}
	if form.Tab == "" || form.Tab == "overdue" || form.Tab == "expiring" {
		f = ownQueue(p, f, form.Tab)
	}
	return form, f, nil
}

// queueTab is the tab of the queue a filter shows: mine, overdue,
// expiring, all, or "" (the caller's own queue).
func queueTab(f Filter, view string) string {
	switch {
	case f.Mine:
		return "mine"
	case f.Overdue:
		return "overdue"
	case f.Expiring:
		return "expiring"
	case view == "all":
		return "all"
	}
	return ""
}

// ownQueue narrows f, when it names no area nor department, to the
// caller's own areas or single department, and the default tab to open
// tickets.
func ownQueue(p *auth.Principal, f Filter, tab string) Filter {
	depts, areas := queueScope(p)
	if len(f.Areas) == 0 && f.Department == "" {
		switch {
		case len(areas) > 0 && len(depts) == 0:
			f.Areas = areas
		case len(depts) == 1 && len(areas) == 0:
			f.Department = depts[0]
		}
	}
	if tab == "" && len(f.Statuses) == 0 {
		f.Statuses = openStatuses
	}
	return f
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
		list, ferr = pg.svc.List(ctx, p, f)
	}
	if ferr != nil {
		if !errs.Is(ferr, errs.Invalid) {
			return ferr
		}
		status, d.Error, list = http.StatusBadRequest, pg.render.Message(r, ferr), nil
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
	return pg.render.Page(w, r, status, "ticket/list", "ticket.list.title", d)
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
		list, err := pg.svc.List(r.Context(), p, f)
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
