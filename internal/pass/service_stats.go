package pass

import (
	"context"
	"math"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/importer"
)

// EnterpriseStats counts the passes of one enterprise. Over a period
// (StatsQuery), Issued, Revoked and Expired count what happened in it —
// passes issued, revoked, and ended (not revoked) — and Persons and
// Vehicles split Issued; Active is always the active passes now. Without
// a period they are totals.
type EnterpriseStats struct {
	Enterprise     string `json:"enterprise"`
	EnterpriseName string `json:"enterprise_name"`
	Issued         int    `json:"issued"`
	Active         int    `json:"active"`
	Expired        int    `json:"expired"`
	Revoked        int    `json:"revoked"`
	Persons        int    `json:"persons"`
	Vehicles       int    `json:"vehicles"`
}

// StatsQuery is the period of pass statistics, [From, To): whole days in
// Asia/Shanghai (see ParseStatsPeriod). A zero From or To leaves that end
// open; both zero asks for totals.
type StatsQuery struct {
	From, To time.Time
}

// Period reports whether q names a period.
func (q StatsQuery) Period() bool { return !q.From.IsZero() || !q.To.IsZero() }

// FirstDay is the period's first day in Shanghai, "" when open.
func (q StatsQuery) FirstDay() string {
	if q.From.IsZero() {
		return ""
	}
	return q.From.In(clock.Shanghai).Format(DateLayout)
}

// LastDay is the period's last day in Shanghai (To is the exclusive end),
// "" when open.
func (q StatsQuery) LastDay() string {
	if q.To.IsZero() {
		return ""
	}
	return lastDay(q.To)
}

// Stats counts the passes issued and revoked per enterprise, for the
// enterprises the caller reaches, most issued first; over a period only
// the enterprises with something to count are listed.
func (s *Service) Stats(ctx context.Context, p *auth.Principal, q StatsQuery) ([]EnterpriseStats, error) {
	const op = "pass.Stats"
	v, err := reads(p, op)
	if err != nil {
		return nil, err
	}
	from, to := int64(0), int64(math.MaxInt64)
	if !q.From.IsZero() {
		from = q.From.UnixMilli()
	}
	if !q.To.IsZero() {
		to = q.To.UnixMilli()
	}
	at := s.clock.Now().UnixMilli()
	var out []EnterpriseStats
	err = s.db.Read(ctx, func(tx *db.Tx) (err error) {
		out, err = enterpriseStats(ctx, tx, v, from, to, at)
		return err
	})
	return out, errs.Wrap(op, err)
}

// StatsXLSX is Stats as a spreadsheet.
func (s *Service) StatsXLSX(ctx context.Context, p *auth.Principal, q StatsQuery) ([]byte, error) {
	list, err := s.Stats(ctx, p, q)
	if err != nil {
		return nil, err
	}
	header := []string{"统一社会信用代码", "企业", "签发", "当前有效", "已过期", "已吊销", "人员", "车辆"}
	if q.Period() {
		header = []string{"统一社会信用代码", "企业", "期间签发", "当前有效", "期间到期", "期间吊销", "期间签发人员", "期间签发车辆"}
	}
	sheet := importer.Sheet{Name: "通行证统计", Cols: make([]importer.Col, len(header))}
	for i, h := range header {
		sheet.Cols[i] = importer.Col{Header: h, Type: importer.Int}
	}
	sheet.Cols[0].Type, sheet.Cols[1].Type = importer.Text, importer.Text
	for _, e := range list {
		sheet.Rows = append(sheet.Rows, []any{e.Enterprise, e.EnterpriseName, e.Issued, e.Active, e.Expired, e.Revoked, e.Persons, e.Vehicles})
	}
	return importer.WriteBook(sheet)
}
