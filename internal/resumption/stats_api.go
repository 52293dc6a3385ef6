package resumption

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"tongxin/internal/auth"
	"tongxin/internal/clock"
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
		q.At = a.svc.DB().Clock.Now() // the same moment for both
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
// workbook: sheets 概况, 复工复产, 到岗, 电力 and 分区.
func StatsWorkbook(st *Stats, parts []AreaStats) ([]byte, error) {
	const op = "resumption.StatsWorkbook"
	f := excelize.NewFile()
	defer f.Close()
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	percent, err := f.NewStyle(&excelize.Style{NumFmt: 10}) // 0.00%
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	first := true
	sheet := func(name string, header []string, rows [][]any, pctCols ...int) error {
		if first {
			if err := f.SetSheetName(f.GetSheetName(0), name); err != nil {
				return err
			}
			first = false
		} else if _, err := f.NewSheet(name); err != nil {
			return err
		}
		sw, err := f.NewStreamWriter(name)
		if err != nil {
			return err
		}
		for i, h := range header {
			if err := sw.SetColWidth(i+1, i+1, float64(max(12, 2*len([]rune(h))+4))); err != nil {
				return err
			}
		}
		cells := make([]any, len(header))
		for i, h := range header {
			cells[i] = excelize.Cell{StyleID: bold, Value: h}
		}
		if err := sw.SetRow("A1", cells); err != nil {
			return err
		}
		for n, row := range rows {
			cells := make([]any, len(row))
			for i, v := range row {
				cells[i] = v
				for _, c := range pctCols {
					if c == i {
						cells[i] = excelize.Cell{StyleID: percent, Value: v}
					}
				}
			}
			cell, err := excelize.CoordinatesToCellName(1, n+2)
			if err != nil {
				return err
			}
			if err := sw.SetRow(cell, cells); err != nil {
				return err
			}
		}
		return sw.Flush()
	}
	groupRows := func(st *Stats) [][]any {
		rows := make([][]any, len(st.Groups))
		for i, g := range st.Groups {
			rows[i] = []any{GroupNames[g.Group], g.Group, g.Total, g.Resumed, rateCell(g.Rate, g.HasRate())}
		}
		return rows
	}
	summary := [][]any{
		{"统计时点", st.AsOf.In(clock.Shanghai).Format("2006-01-02 15:04")},
		{"填报日期", statsReportDate(st)},
		{"区划", st.Area},
		{"复工单位平均产能（%）", rateCell(st.CapacityAvg, st.HasCapacity())},
		{"未填报单位数", st.NotReported},
	}
	if err := sheet("概况", []string{"项目", "数值"}, summary); err != nil {
		return nil, errs.Wrap(op, err)
	}
	if err := sheet("复工复产", []string{"分组", "代码", "单位总数", "已复工", "复工率"}, groupRows(st), 4); err != nil {
		return nil, errs.Wrap(op, err)
	}
	staff := make([][]any, len(st.Staff))
	for i, s := range st.Staff {
		staff[i] = []any{GroupNames[s.Group], s.Group, s.Expected, s.OnSite, rateCell(s.Rate, s.HasRate())}
	}
	if err := sheet("到岗", []string{"分组", "代码", "应到岗人数", "实际到岗人数", "到岗率"}, staff, 4); err != nil {
		return nil, errs.Wrap(op, err)
	}
	power := make([][]any, 0, len(st.Power)+1)
	for _, p := range st.Power {
		power = append(power, []any{p.Name, p.Scope, p.Date, p.MaxLoadKW, p.BaselineKW, p.Recovery})
	}
	if t, ok := st.ParksTotal(); ok {
		power = append(power, []any{t.Name, t.Scope, t.Date, t.MaxLoadKW, t.BaselineKW, t.Recovery})
	}
	if err := sheet("电力", []string{"名称", "范围", "日期", "最大负荷（千瓦）", "基准负荷（千瓦）", "恢复率"}, power, 5); err != nil {
		return nil, errs.Wrap(op, err)
	}
	if len(parts) > 0 {
		var rows [][]any
		for _, part := range parts {
			for _, g := range groupRows(part.Stats) {
				rows = append(rows, append([]any{part.Code, part.Name}, g...))
			}
		}
		if err := sheet("分区", []string{"区划编码", "区划名称", "分组", "代码", "单位总数", "已复工", "复工率"}, rows, 6); err != nil {
			return nil, errs.Wrap(op, err)
		}
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return buf.Bytes(), nil
}
