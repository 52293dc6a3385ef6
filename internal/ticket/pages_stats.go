package ticket

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"tongxin/internal/auth"
	"tongxin/internal/errs"
	"tongxin/internal/importer"
	"tongxin/internal/web"
)

// Statistics and their export.

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
		d.Stats, err = pg.svc.Stats(r.Context(), p, sq)
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
		status, d.Error, d.Stats = http.StatusBadRequest, pg.render.Message(r, err), nil
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
	return pg.render.Page(w, r, status, "ticket/stats", "ticket.stats.title", d)
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
