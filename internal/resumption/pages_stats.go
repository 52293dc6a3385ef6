package resumption

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/errs"
	"tongxin/internal/importer"
	"tongxin/internal/web"
)

// Statistics

// pageDatetimeLocal is the layout of <input type="datetime-local">.
const pageDatetimeLocal = "2006-01-02T15:04"

// pageStatsForm is the query of the statistics pages as typed.
type pageStatsForm struct {
	Areas []string
	At    string // datetime-local, Asia/Shanghai; "" for now
	Date  string // a report date, YYYY-MM-DD; "" for the day of At
}

// query encodes the form.
func (f pageStatsForm) query() url.Values {
	v := url.Values{}
	for _, a := range f.Areas {
		v.Add("area", a)
	}
	if f.At != "" {
		v.Set("at", f.At)
	}
	if f.Date != "" {
		v.Set("date", f.Date)
	}
	return v
}

// suffix is "?query" or "".
func (f pageStatsForm) suffix() string {
	if enc := f.query().Encode(); enc != "" {
		return "?" + enc
	}
	return ""
}

// pageStatsQuery reads ?area= (repeatable, or comma-separated), ?at= (a
// datetime-local value in Asia/Shanghai, or RFC 3339) and ?date= (a report
// date).
func pageStatsQuery(r *http.Request) (pageStatsForm, StatsQuery, error) {
	v := r.URL.Query()
	var f pageStatsForm
	for _, a := range v["area"] {
		for _, part := range strings.Split(a, ",") {
			if part = strings.TrimSpace(part); part != "" && !slices.Contains(f.Areas, part) {
				f.Areas = append(f.Areas, part)
			}
		}
	}
	q := StatsQuery{Areas: f.Areas}
	if s := strings.TrimSpace(v.Get("at")); s != "" {
		var t time.Time
		var err error
		for _, layout := range []string{pageDatetimeLocal, "2006-01-02T15:04:05"} {
			if t, err = time.ParseInLocation(layout, s, clock.Shanghai); err == nil {
				break
			}
		}
		if err != nil {
			t, err = time.Parse(time.RFC3339, s)
		}
		if err != nil {
			return f, q, &errs.Error{Kind: errs.Invalid, Code: "bad_at", Message: "统计时点格式不正确，应为 2022-11-20T17:00",
				Fields: []errs.FieldError{{Field: "at", Message: "时间格式不正确"}}}
		}
		q.At = t
		f.At = t.In(clock.Shanghai).Format(pageDatetimeLocal)
	}
	if s := strings.TrimSpace(v.Get("date")); s != "" {
		d, err := ParseStatsDate(s)
		if err != nil {
			return f, q, err
		}
		q.Date, f.Date = d, d
	}
	return f, q, nil
}

// pageGroupRow is a line of the groups table.
type pageGroupRow struct {
	Group            string
	Total, Resumed   int
	Rate             string
	Expected, OnSite int
	StaffRate        string
}

// pagePowerRow is a line of the power table.
type pagePowerRow struct {
	Name, Date         string
	LoadKW, BaselineKW string
	Recovery           string
	Total              bool
}

// pagePartRow is a line of the breakdown table.
type pagePartRow struct {
	Code, Name                     string
	Industrial, FourAbove, Project string
	Key                            string
	Staff                          string
	NotReported                    int
}

// pageTrendRow is a line of the trend table.
type pageTrendRow struct {
	Date                           string
	Industrial, FourAbove, Project string
	Staff                          string
}

// pageChartSeries is one series of a chart.
type pageChartSeries struct {
	Name string     `json:"name"`
	Data []*float64 `json:"data"` // null: no data (a gap, not 0)
}

// pageChartSpec is one chart as charts.js draws it.
type pageChartSpec struct {
	ID         string            `json:"id"`
	Type       string            `json:"type"` // bar or line
	Title      string            `json:"title"`
	Categories []string          `json:"categories"`
	Series     []pageChartSeries `json:"series"`
	Unit       string            `json:"unit"` // "%" or ""
}

// pageStatsData is the data of resumption/stats.
type pageStatsData struct {
	Form       pageStatsForm
	Areas      []pageAreaOption
	UrbanURL   string // the 城区 shortcut, when the caller reaches it
	Urban      bool   // the query is exactly the urban districts
	AsOf       time.Time
	Date       string // the report date asked for
	Stats      *Stats
	Briefing   string
	Groups     []pageGroupRow
	Capacity   string
	Power      []pagePowerRow
	Parts      []pagePartRow
	Trend      []pageTrendRow
	Charts     []pageChartSpec
	ExportURL  string
	MissingURL string
}

// pageRatioPct is a ratio in percent rounded to one decimal, for charts.
func pageRatioPct(r float64) float64 { return float64(int64(r*1000+0.5)) / 10 }

// statsQuery is the caller and the statistics query of a resumption page,
// the moment defaulting to now.
func (pg *Pages) statsQuery(r *http.Request) (*auth.Principal, pageStatsForm, StatsQuery, error) {
	p, err := web.Principal(r)
	if err != nil {
		return nil, pageStatsForm{}, StatsQuery{}, err
	}
	f, q, err := pageStatsQuery(r)
	if err != nil {
		return nil, f, q, err
	}
	if q.At.IsZero() {
		q.At = pg.now()
	}
	return p, f, q, nil
}

// statsView reads the statistics page's query (the moment defaults to now)
// and loads what both the page and its export show besides the figures:
// the breakdown by district and the trend.
func (pg *Pages) statsView(r *http.Request) (p *auth.Principal, f pageStatsForm, q StatsQuery, parts []AreaStats, trend []DayStats, err error) {
	if p, f, q, err = pg.statsQuery(r); err != nil {
		return
	}
	ctx := r.Context()
	if parts, err = pg.svc.Breakdown(ctx, p, q, LevelDistrict); err != nil {
		return
	}
	trend, err = pg.svc.Trend(ctx, p, q, pageTrendDays)
	return
}

// StatsPage shows the resumption figures (GET /resumption?area=&at=): a
// choice of areas and moment, the figures as tables, the briefing
// paragraph, the breakdown by district, the 14-day trend and, with
// JavaScript, charts of them.
func (pg *Pages) StatsPage(w http.ResponseWriter, r *http.Request) error {
	p, f, q, parts, trend, err := pg.statsView(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	b, err := pg.svc.Briefing(ctx, p, q)
	if err != nil {
		return err
	}
	d := pageStatsData{Form: f, Stats: b.Stats, AsOf: b.AsOf, Briefing: b.ZH,
		ExportURL: "/resumption.xlsx" + f.suffix(), MissingURL: "/resumption/not-resumed" + f.suffix()}
	if web.LangOf(r) != web.LangZH {
		d.Briefing = b.EN
	}
	if d.Form.At == "" && f.Date == "" {
		d.Form.At = q.At.In(clock.Shanghai).Format(pageDatetimeLocal)
	}
	d.Date = b.Stats.Date
	if d.Areas, err = pg.areaOptions(ctx, p); err != nil {
		return err
	}
	reached := 0
	for i := range d.Areas {
		d.Areas[i].Checked = slices.Contains(f.Areas, d.Areas[i].Code)
		if slices.Contains(pageUrbanCodes, d.Areas[i].Code) {
			reached++
		}
	}
	if reached == len(pageUrbanCodes) {
		v := url.Values{"area": pageUrbanCodes}
		if f.At != "" {
			v.Set("at", f.At)
		}
		if f.Date != "" {
			v.Set("date", f.Date)
		}
		d.UrbanURL = "/resumption?" + v.Encode()
	}
	sorted := slices.Clone(f.Areas)
	slices.Sort(sorted)
	d.Urban = slices.Equal(sorted, pageUrbanCodes)

	st := b.Stats
	for _, g := range st.Groups {
		s := st.StaffOf(g.Group)
		d.Groups = append(d.Groups, pageGroupRow{Group: g.Group, Total: g.Total, Resumed: g.Resumed, Rate: pageGroupPct(g),
			Expected: s.Expected, OnSite: s.OnSite, StaffRate: pageStaffPct(s)})
	}
	d.Capacity = pageNoData
	if st.HasCapacity() {
		d.Capacity = strconv.FormatFloat(st.CapacityAvg, 'f', 1, 64) + "%"
	}
	kw := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	for _, pw := range st.Power {
		d.Power = append(d.Power, pagePowerRow{Name: pw.Name, Date: pw.Date, LoadKW: kw(pw.MaxLoadKW), BaselineKW: kw(pw.BaselineKW),
			Recovery: pagePct(pw.Recovery)})
	}
	if t, ok := st.ParksTotal(); ok {
		d.Power = append(d.Power, pagePowerRow{Name: pg.t(r, "res.power.parks_total"), Date: t.Date, LoadKW: kw(t.MaxLoadKW),
			BaselineKW: kw(t.BaselineKW), Recovery: pagePct(t.Recovery), Total: true})
	}
	for _, part := range parts {
		ps := part.Stats
		d.Parts = append(d.Parts, pagePartRow{Code: part.Code, Name: part.Name,
			Industrial: pageGroupPct(ps.Group(string(IndustrialAboveScale))), FourAbove: pageGroupPct(ps.Group(GroupFourAbove)),
			Project: pageGroupPct(ps.Group(GroupProject)), Key: pageGroupPct(ps.Group(GroupKey)),
			Staff: pageStaffPct(ps.StaffOf(GroupFourAbove)), NotReported: ps.NotReported})
	}
	for _, day := range trend {
		ds := &Stats{Groups: day.Groups, Staff: day.Staff}
		d.Trend = append(d.Trend, pageTrendRow{Date: day.Date, Industrial: pageGroupPct(ds.Group(string(IndustrialAboveScale))),
			FourAbove: pageGroupPct(ds.Group(GroupFourAbove)), Project: pageGroupPct(ds.Group(GroupProject)),
			Staff: pageStaffPct(ds.StaffOf(GroupFourAbove))})
	}
	d.Charts = pg.charts(r, st, parts, trend)
	return pg.render.Page(w, r, http.StatusOK, "resumption/stats", "res.title", d)
}

// charts builds the chart specifications of the statistics page.
func (pg *Pages) charts(r *http.Request, st *Stats, parts []AreaStats, trend []DayStats) []pageChartSpec {
	groupName := func(g string) string { return pg.labelOf(r, "group", g) }
	rateGroups := []string{string(IndustrialAboveScale), GroupFourAbove, GroupProject}
	var out []pageChartSpec

	byDistrict := pageChartSpec{ID: "chart-districts", Type: "bar", Title: pg.t(r, "res.chart.districts"), Unit: "%", Categories: []string{}}
	for _, part := range parts {
		byDistrict.Categories = append(byDistrict.Categories, part.Name)
	}
	for _, g := range rateGroups {
		s := pageChartSeries{Name: groupName(g), Data: []*float64{}}
		for _, part := range parts {
			s.Data = append(s.Data, pageChartGroup(part.Stats.Group(g)))
		}
		byDistrict.Series = append(byDistrict.Series, s)
	}
	out = append(out, byDistrict)

	tr := pageChartSpec{ID: "chart-trend", Type: "line", Title: pg.t(r, "res.chart.trend", len(trend)), Unit: "%", Categories: []string{}}
	for _, day := range trend {
		tr.Categories = append(tr.Categories, day.Date[5:])
	}
	for _, g := range rateGroups {
		s := pageChartSeries{Name: groupName(g), Data: []*float64{}}
		for _, day := range trend {
			s.Data = append(s.Data, pageChartGroup((&Stats{Groups: day.Groups}).Group(g)))
		}
		tr.Series = append(tr.Series, s)
	}
	staffLine := pageChartSeries{Name: pg.t(r, "res.chart.staff_rate"), Data: []*float64{}}
	for _, day := range trend {
		s := (&Stats{Staff: day.Staff}).StaffOf(GroupFourAbove)
		staffLine.Data = append(staffLine.Data, pageChartPct(s.Rate, s.HasRate()))
	}
	tr.Series = append(tr.Series, staffLine)
	out = append(out, tr)

	staff := pageChartSpec{ID: "chart-staff", Type: "bar", Title: pg.t(r, "res.chart.staff"), Categories: []string{},
		Series: []pageChartSeries{{Name: pg.t(r, "res.col.expected"), Data: []*float64{}}, {Name: pg.t(r, "res.col.on_site"), Data: []*float64{}}}}
	for _, s := range st.Staff {
		if s.Expected == 0 && s.OnSite == 0 {
			continue
		}
		staff.Categories = append(staff.Categories, groupName(s.Group))
		staff.Series[0].Data = append(staff.Series[0].Data, pageNum(float64(s.Expected)))
		staff.Series[1].Data = append(staff.Series[1].Data, pageNum(float64(s.OnSite)))
	}
	out = append(out, staff)

	power := pageChartSpec{ID: "chart-power", Type: "bar", Title: pg.t(r, "res.chart.power"), Unit: "%", Categories: []string{},
		Series: []pageChartSeries{{Name: pg.t(r, "res.col.recovery"), Data: []*float64{}}}}
	for _, pw := range st.Power {
		power.Categories = append(power.Categories, pw.Name)
		power.Series[0].Data = append(power.Series[0].Data, pageChartPct(pw.Recovery, true))
	}
	out = append(out, power)
	return out
}

// StatsExport answers GET /resumption.xlsx (the statistics page's query)
// with the figures, the power table, the breakdown by district and the
// 14-day trend.
func (pg *Pages) StatsExport(w http.ResponseWriter, r *http.Request) error {
	p, _, q, parts, trend, err := pg.statsView(r)
	if err != nil {
		return err
	}
	st, err := pg.svc.Stats(r.Context(), p, q)
	if err != nil {
		return err
	}
	trendSheet := pageTrendSheet(pg.t(r, "res.trend"), []string{pg.t(r, "res.col.date"), pg.labelOf(r, "group", string(IndustrialAboveScale)),
		pg.labelOf(r, "group", GroupFourAbove), pg.labelOf(r, "group", GroupProject), pg.t(r, "res.chart.staff_rate")}, trend)
	b, err := importer.WriteBook(append(StatsSheets(st, parts), trendSheet)...)
	if err != nil {
		return err
	}
	return web.Attachment(w, importer.MediaXLSX, "resumption-"+statsFileStamp(st)+".xlsx", b)
}

// pageTrendSheet is the trend as a sheet: the date, then the rates of
// the day (empty where there was nothing to count).
func pageTrendSheet(name string, header []string, trend []DayStats) importer.Sheet {
	s := importer.Sheet{Name: name, Cols: []importer.Col{{Header: header[0], Type: importer.Date}}}
	for _, h := range header[1:] {
		s.Cols = append(s.Cols, importer.Col{Header: h, Type: importer.Percent})
	}
	for _, day := range trend {
		ds := &Stats{Groups: day.Groups, Staff: day.Staff}
		row := []any{day.Date}
		for _, g := range []string{string(IndustrialAboveScale), GroupFourAbove, GroupProject} {
			gs := ds.Group(g)
			row = append(row, rateCell(gs.Rate, gs.HasRate()))
		}
		st := ds.StaffOf(GroupFourAbove)
		s.Rows = append(s.Rows, append(row, rateCell(st.Rate, st.HasRate())))
	}
	return s
}
