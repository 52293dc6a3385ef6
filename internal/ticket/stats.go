package ticket

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/web"
)

// StatsQuery selects the tickets counted: filed in [From, To) (Shanghai
// days), in the subtrees of Areas (all the caller reaches when empty).
type StatsQuery struct {
	Areas    []string
	From, To time.Time
}

// Counts are the figures of one group.
type Counts struct {
	Key  string `json:"key"`
	Name string `json:"name"`
	// Opened: filed in the period. Handled: of those, resolved or closed
	// (confirmed, rejected, merged). Overdue: of those, ever past a
	// deadline (escalated, late, or past due now). Open: still open.
	Opened  int `json:"opened"`
	Handled int `json:"handled"`
	Overdue int `json:"overdue"`
	Open    int `json:"open"`
	// MedianResolveMinutes is the median time from filing to resolution
	// of the resolved ones; nil when none was resolved.
	MedianResolveMinutes *float64 `json:"median_resolve_minutes"`
	durations            []float64
}

// DayCounts is one day of the period.
type DayCounts struct {
	Date    string `json:"date"`
	Opened  int    `json:"opened"`
	Handled int    `json:"handled"` // resolved or closed that day, whenever filed
}

// Stats is the ticket statistics of a period.
type Stats struct {
	From         string      `json:"from"`
	To           string      `json:"to"` // inclusive, YYYY-MM-DD
	Areas        []string    `json:"areas"`
	Total        Counts      `json:"total"`
	OverdueNow   int         `json:"overdue_now"` // open tickets past a deadline now, whenever filed
	ByDepartment []Counts    `json:"by_department"`
	ByCategory   []Counts    `json:"by_category"`
	ByUrgency    []Counts    `json:"by_urgency"`
	PerDay       []DayCounts `json:"per_day"`
}

// MaxStatsDays bounds the period of Stats.
const MaxStatsDays = 366

// Stats counts the tickets p may read.
func (s *Service) Stats(ctx context.Context, p *auth.Principal, q StatsQuery) (*Stats, error) {
	const op = "ticket.Stats"
	if p == nil || (!p.Can(auth.TicketRead) && !p.Can(auth.TicketHandle)) {
		return nil, auth.Require(p, auth.TicketRead, op)
	}
	if !q.To.After(q.From) {
		return nil, errs.Fields("bad_period", "截止日期须不早于起始日期", errs.FieldError{Field: "to", Message: "须不早于 from"})
	}
	if q.To.Sub(q.From) > MaxStatsDays*24*time.Hour {
		return nil, errs.Fields("bad_period", fmt.Sprintf("统计期间不能超过 %d 天", MaxStatsDays), errs.FieldError{Field: "from", Message: "期间过长"})
	}
	v := visibilityFor(p, auth.TicketRead)
	var a db.Args
	conds := []string{v.where(&a)}
	var areaNames []string
	if len(q.Areas) > 0 {
		var ors []string
		for _, code := range q.Areas {
			ar, err := s.areas.Lookup(ctx, code)
			if err != nil {
				if errs.Is(err, errs.NotFound) {
					return nil, errs.Fields("bad_filter", "区划不存在", errs.FieldError{Field: "area", Message: "区划 " + code + " 不存在"})
				}
				return nil, errs.Wrap(op, err)
			}
			ors = append(ors, "t.area_path LIKE "+a.Add(db.LikePrefix(ar.Path))+` ESCAPE '\'`)
			areaNames = append(areaNames, ar.Code)
		}
		conds = append(conds, "("+strings.Join(ors, " OR ")+")")
	}
	scope := strings.Join(conds, " AND ")
	out := &Stats{From: q.From.In(clock.Shanghai).Format(time.DateOnly),
		To: q.To.Add(-time.Millisecond).In(clock.Shanghai).Format(time.DateOnly), Areas: areaNames}
	if out.Areas == nil {
		out.Areas = []string{}
	}
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		now := tx.NowMS()
		from, to := q.From.UnixMilli(), q.To.UnixMilli()
		args := append([]any(nil), a.List...)
		n := len(args)
		rows, err := tx.QueryContext(ctx, `SELECT COALESCE(t.department_code, ''), t.department_name, t.category,
			COALESCE(c.name, t.category), t.urgency, t.status, t.created_at, t.resolved_at, t.closed_at, t.resolve_by,
			t.escalation_level, t.due_at FROM tickets t LEFT JOIN ticket_categories c ON c.code = t.category
			WHERE `+scope+fmt.Sprintf(` AND t.created_at >= $%d AND t.created_at < $%d`, n+1, n+2), append(args, from, to)...)
		if err != nil {
			return fmt.Errorf("ticket: stats: %w", err)
		}
		defer rows.Close()
		depts, cats, urgs := map[string]*Counts{}, map[string]*Counts{}, map[string]*Counts{}
		days := map[string]*DayCounts{}
		for d := q.From; d.Before(q.To); d = d.AddDate(0, 0, 1) {
			key := d.In(clock.Shanghai).Format(time.DateOnly)
			days[key] = &DayCounts{Date: key}
			out.PerDay = append(out.PerDay, DayCounts{Date: key})
		}
		group := func(m map[string]*Counts, key, name string) *Counts {
			c := m[key]
			if c == nil {
				c = &Counts{Key: key, Name: name}
				m[key] = c
			}
			return c
		}
		for rows.Next() {
			var dept, deptName, cat, catName, urg, status string
			var created, resolveBy int64
			var resolved, closed, due sql.NullInt64
			var level int
			if err := rows.Scan(&dept, &deptName, &cat, &catName, &urg, &status, &created, &resolved, &closed, &resolveBy,
				&level, &due); err != nil {
				return fmt.Errorf("ticket: stats: %w", err)
			}
			st := Status(status)
			handled := resolved.Valid || st.Closed()
			overdue := level > 0 || (due.Valid && due.Int64 <= now) || (resolved.Valid && resolved.Int64 > resolveBy)
			var dur *float64
			if resolved.Valid {
				m := float64(resolved.Int64-created) / 60000
				dur = &m
			}
			if deptName == "" {
				deptName = "属地办理"
			}
			for _, c := range []*Counts{&out.Total, group(depts, dept, deptName), group(cats, cat, catName),
				group(urgs, urg, UrgencyNames[Urgency(urg)])} {
				c.Opened++
				if handled {
					c.Handled++
				}
				if overdue {
					c.Overdue++
				}
				if st.Open() {
					c.Open++
				}
				if dur != nil {
					c.durations = append(c.durations, *dur)
				}
			}
			if d := days[clock.FromMillis(created).In(clock.Shanghai).Format(time.DateOnly)]; d != nil {
				d.Opened++
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		// Handled per day counts resolutions and closures in the period,
		// whenever the ticket was filed.
		hrows, err := tx.QueryContext(ctx, `SELECT COALESCE(t.resolved_at, t.closed_at) FROM tickets t WHERE `+scope+
			fmt.Sprintf(` AND COALESCE(t.resolved_at, t.closed_at) >= $%d AND COALESCE(t.resolved_at, t.closed_at) < $%d`, n+1, n+2),
			append(args, from, to)...)
		if err != nil {
			return fmt.Errorf("ticket: stats: %w", err)
		}
		defer hrows.Close()
		for hrows.Next() {
			var at int64
			if err := hrows.Scan(&at); err != nil {
				return err
			}
			if d := days[clock.FromMillis(at).In(clock.Shanghai).Format(time.DateOnly)]; d != nil {
				d.Handled++
			}
		}
		if err := hrows.Err(); err != nil {
			return err
		}
		for i := range out.PerDay {
			out.PerDay[i] = *days[out.PerDay[i].Date]
		}
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM tickets t WHERE `+scope+fmt.Sprintf(` AND t.due_at <= $%d`, n+1),
			append(args, now)...).Scan(&out.OverdueNow); err != nil {
			return fmt.Errorf("ticket: stats: %w", err)
		}
		out.Total.Key, out.Total.Name = "total", "合计"
		finish(&out.Total)
		out.ByDepartment = sorted(depts)
		out.ByCategory = sorted(cats)
		out.ByUrgency = sorted(urgs)
		return nil
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return out, nil
}

// finish computes the median of c.
func finish(c *Counts) {
	if len(c.durations) == 0 {
		return
	}
	d := slices.Clone(c.durations)
	slices.Sort(d)
	m := d[len(d)/2]
	if len(d)%2 == 0 {
		m = (d[len(d)/2-1] + d[len(d)/2]) / 2
	}
	m = float64(int64(m*10+0.5)) / 10
	c.MedianResolveMinutes = &m
}

// sorted lists the groups, most opened first.
func sorted(m map[string]*Counts) []Counts {
	out := make([]Counts, 0, len(m))
	for _, c := range m {
		finish(c)
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Opened != out[j].Opened {
			return out[i].Opened > out[j].Opened
		}
		return out[i].Key < out[j].Key
	})
	return out
}

// DayRange turns "YYYY-MM-DD" dates (Shanghai, inclusive) into [from, to);
// empty from is 13 days before to, empty to is today.
func DayRange(fromS, toS string, now time.Time) (time.Time, time.Time, error) {
	return web.DayRange(fromS, toS, now, 14)
}
