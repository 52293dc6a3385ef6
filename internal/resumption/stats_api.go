package resumption

import (
	"context"
	"net/http"
	"strings"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/errs"
	"tongxin/internal/importer"
	"tongxin/internal/web"
)

// Defaults of the statistics routes.
const DefaultTrendDays = 14

// statsQueryOf reads ?area= (repeatable, or comma-separated), ?at=
// (RFC 3339; now when absent) and ?date= (a report date, YYYY-MM-DD).
func statsQueryOf(r *http.Request) (StatsQuery, error) {
	v := r.URL.Query()
	q := StatsQuery{Areas: v["area"]}
	if s := strings.TrimSpace(v.Get("at")); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return q, &errs.Error{Kind: errs.Invalid, Code: "bad_at", Message: "at 须为 RFC 3339 时间，如 2022-11-20T17:00:00+08:00",
				Fields: []errs.FieldError{{Field: "at", Message: "时间格式不正确"}}}
		}
		q.At = t
	}
	if s := strings.TrimSpace(v.Get("date")); s != "" {
		d, err := ParseStatsDate(s)
		if err != nil {
			return q, err
		}
		q.Date = d
	}
	return q, nil
}

// withQuery runs uc with the caller and the stats query of the request.
func withQuery[T any](r *http.Request, uc func(ctx context.Context, p *auth.Principal, q StatsQuery) (T, error)) (T, error) {
	var zero T
	p, err := web.Principal(r)
	if err != nil {
		return zero, err
	}
	q, err := statsQueryOf(r)
	if err != nil {
		return zero, err
	}
	return uc(r.Context(), p, q)
}

// Stats answers GET /api/v1/resumption/stats?area=…&at=…: the figures of
// the areas (default: the caller's whole reach) as of at (default: now).
func (a *API) Stats(w http.ResponseWriter, r *http.Request) error {
	st, err := withQuery(r, a.svc.Stats)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, st)
}

// levelOf reads ?level= (district by default).
func levelOf(r *http.Request) (string, error) {
	level := strings.TrimSpace(r.URL.Query().Get("level"))
	switch level {
	case "":
		return LevelDistrict, nil
	case LevelDistrict, LevelStreet:
		return level, nil
	}
	return "", errs.E(errs.Invalid, "bad_level", "level 须为 district（区县）或 street（街道）")
}

// Breakdown answers GET /api/v1/resumption/breakdown?level=district|street
// plus the stats query: {"items":[{"code","name","stats"}]}.
func (a *API) Breakdown(w http.ResponseWriter, r *http.Request) error {
	level, err := levelOf(r)
	if err != nil {
		return err
	}
	list, err := withQuery(r, func(ctx context.Context, p *auth.Principal, q StatsQuery) ([]AreaStats, error) {
		return a.svc.Breakdown(ctx, p, q, level)
	})
	if err != nil {
		return err
	}
	return web.WriteItems(w, list)
}

// Trend answers GET /api/v1/resumption/trend?days=N (1–90, default 14)
// plus the stats query: {"items":[{"date","groups","staff"}]}, oldest
// first, each day as of 17:00.
func (a *API) Trend(w http.ResponseWriter, r *http.Request) error {
	days, err := web.QueryInt(r, "days", DefaultTrendDays, 1, MaxTrendDays)
	if err != nil {
		return err
	}
	list, err := withQuery(r, func(ctx context.Context, p *auth.Principal, q StatsQuery) ([]DayStats, error) {
		return a.svc.Trend(ctx, p, q, days)
	})
	if err != nil {
		return err
	}
	return web.WriteItems(w, list)
}

// NotResumed answers GET /api/v1/resumption/not-resumed plus the stats
// query: {"items":[units]} with reason "suspended" or "not_reported".
func (a *API) NotResumed(w http.ResponseWriter, r *http.Request) error {
	list, err := withQuery(r, a.svc.NotResumed)
	if err != nil {
		return err
	}
	return web.WriteItems(w, list)
}

// Briefing answers GET /api/v1/resumption/briefing plus the stats query:
// {"as_of","area","zh","en","stats"}.
func (a *API) Briefing(w http.ResponseWriter, r *http.Request) error {
	b, err := withQuery(r, a.svc.Briefing)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, b)
}

// Baselines answers GET /api/v1/power/baselines: {"items":[baselines]}.
func (a *API) Baselines(w http.ResponseWriter, r *http.Request) error {
	return web.List(w, r, a.svc.Baselines)
}

// PutBaseline answers PUT /api/v1/power/baselines/{scope} with the
// baseline.
func (a *API) PutBaseline(w http.ResponseWriter, r *http.Request) error {
	return web.Decode(w, r, http.StatusOK, func(ctx context.Context, p *auth.Principal, in BaselineInput) (*Baseline, error) {
		return a.svc.PutBaseline(ctx, p, r.PathValue("scope"), in)
	})
}

// AddReading answers POST /api/v1/power/readings with 201 and the reading.
func (a *API) AddReading(w http.ResponseWriter, r *http.Request) error {
	return web.Decode(w, r, http.StatusCreated, a.svc.AddReading)
}

// ExportStats answers GET /api/v1/resumption/stats.xlsx plus the stats
// query and ?level=district|street: a workbook with the summary, the
// groups, the staff, the power figures and the breakdown by the level
// (district by default).
func (a *API) ExportStats(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	q, err := statsQueryOf(r)
	if err != nil {
		return err
	}
	level, err := levelOf(r)
	if err != nil {
		return err
	}
	if q.At.IsZero() {
		q.At = a.svc.Now() // the same moment for both
	}
	st, err := a.svc.Stats(r.Context(), p, q)
	if err != nil {
		return err
	}
	parts, err := a.svc.Breakdown(r.Context(), p, q, level)
	if err != nil {
		return err
	}
	b, err := StatsWorkbook(st, parts)
	if err != nil {
		return err
	}
	name := "resumption-stats-" + statsFileStamp(st) + ".xlsx"
	return web.Attachment(w, importer.MediaXLSX, name, b)
}

// StatsWorkbook writes the statistics (and a breakdown, if any) as an XLSX
// workbook: sheets 概况, 复工复产, 到岗, 电力 and 分区 (StatsSheets).
func StatsWorkbook(st *Stats, parts []AreaStats) ([]byte, error) {
	b, err := importer.WriteBook(StatsSheets(st, parts)...)
	return b, errs.Wrap("resumption.StatsWorkbook", err)
}

// StatsSheets are the sheets of StatsWorkbook, with typed cells: counts
// are numbers, rates fractions shown as percentages, dates dates.
func StatsSheets(st *Stats, parts []AreaStats) []importer.Sheet {
	groupCols := []importer.Col{{Header: "分组"}, {Header: "代码"}, {Header: "单位总数", Type: importer.Int},
		{Header: "已复工", Type: importer.Int}, {Header: "复工率", Type: importer.Percent}}
	groupRows := func(st *Stats) [][]any {
		rows := make([][]any, len(st.Groups))
		for i, g := range st.Groups {
			rows[i] = []any{GroupNames[g.Group], g.Group, g.Total, g.Resumed, rateCell(g.Rate, g.HasRate())}
		}
		return rows
	}
	summary := importer.Sheet{Name: "概况", Cols: []importer.Col{{Header: "项目"}, {Header: "数值"}}, Rows: [][]any{
		{"统计时点", importer.Typed{Type: importer.Minute, Value: st.AsOf}},
		{"填报日期", importer.Typed{Type: importer.Date, Value: statsReportDate(st)}},
		{"区划", st.Area},
		{"复工单位平均产能（%）", importer.Typed{Type: importer.Decimal, Value: rateCell(st.CapacityAvg, st.HasCapacity())}},
		{"未填报单位数", importer.Typed{Type: importer.Int, Value: st.NotReported}},
	}}
	staff := importer.Sheet{Name: "到岗", Cols: []importer.Col{{Header: "分组"}, {Header: "代码"},
		{Header: "应到岗人数", Type: importer.Int}, {Header: "实际到岗人数", Type: importer.Int}, {Header: "到岗率", Type: importer.Percent}}}
	for _, s := range st.Staff {
		staff.Rows = append(staff.Rows, []any{GroupNames[s.Group], s.Group, s.Expected, s.OnSite, rateCell(s.Rate, s.HasRate())})
	}
	power := importer.Sheet{Name: "电力", Cols: []importer.Col{{Header: "名称"}, {Header: "范围"}, {Header: "日期", Type: importer.Date},
		{Header: "最大负荷（千瓦）", Type: importer.Decimal}, {Header: "基准负荷（千瓦）", Type: importer.Decimal},
		{Header: "恢复率", Type: importer.Percent}}}
	for _, p := range st.Power {
		power.Rows = append(power.Rows, []any{p.Name, p.Scope, p.Date, p.MaxLoadKW, p.BaselineKW, p.Recovery})
	}
	if t, ok := st.ParksTotal(); ok {
		power.Rows = append(power.Rows, []any{t.Name, t.Scope, t.Date, t.MaxLoadKW, t.BaselineKW, t.Recovery})
	}
	sheets := []importer.Sheet{summary, {Name: "复工复产", Cols: groupCols, Rows: groupRows(st)}, staff, power}
	if len(parts) > 0 {
		byArea := importer.Sheet{Name: "分区", Cols: append([]importer.Col{{Header: "区划编码"}, {Header: "区划名称"}}, groupCols...)}
		for _, part := range parts {
			for _, g := range groupRows(part.Stats) {
				byArea.Rows = append(byArea.Rows, append([]any{part.Code, part.Name}, g...))
			}
		}
		sheets = append(sheets, byArea)
	}
	return sheets
}
