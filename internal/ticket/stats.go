package ticket

import (
	"context"
	"fmt"
	"slices"
	"sort"
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
	if err := checkPeriod(q); err != nil {
		return nil, err
	}
	v := visibilityFor(p, auth.TicketRead)
	out := &Stats{From: q.From.In(clock.Shanghai).Format(time.DateOnly),
		To: q.To.Add(-time.Millisecond).In(clock.Shanghai).Format(time.DateOnly), Areas: trimmed(q.Areas)}
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		paths, err := filterPaths(ctx, tx, q.Areas)
		if err != nil {
			return err
		}
		sc := &statsScope{v: v, paths: paths, from: q.From.UnixMilli(), to: q.To.UnixMilli()}
		t := newTally(out, q, tx.NowMS())
		if err := eachFiled(ctx, tx, sc, t.add); err != nil {
			return err
		}
		// Handled per day counts resolutions and closures in the period,
		// whenever the ticket was filed.
		if err := eachHandled(ctx, tx, sc, t.handledAt); err != nil {
			return err
		}
		if out.OverdueNow, err = countOverdueNow(ctx, tx, sc, tx.NowMS()); err != nil {
			return err
		}
		t.finish()
		return nil
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return out, nil
}

// checkPeriod checks a period is not empty nor longer than MaxStatsDays.
func checkPeriod(q StatsQuery) error {
	if !q.To.After(q.From) {
		return errs.Fields("bad_period", "截止日期须不早于起始日期", errs.FieldError{Field: "to", Message: "须不早于 from"})
	}
	if q.To.Sub(q.From) > MaxStatsDays*24*time.Hour {
		return errs.Fields("bad_period", fmt.Sprintf("统计期间不能超过 %d 天", MaxStatsDays), errs.FieldError{Field: "from", Message: "期间过长"})
	}
	return nil
}

// tally adds the tickets of a period up as Stats reads them.
type tally struct {
	out               *Stats
	now               int64
	depts, cats, urgs map[string]*Counts
	days              map[string]*DayCounts
}

// newTally starts the figures of out, one day of PerDay per day of q.
func newTally(out *Stats, q StatsQuery, now int64) *tally {
	t := &tally{out: out, now: now, depts: map[string]*Counts{}, cats: map[string]*Counts{}, urgs: map[string]*Counts{},
		days: map[string]*DayCounts{}}
	for d := q.From; d.Before(q.To); d = d.AddDate(0, 0, 1) {
		key := d.In(clock.Shanghai).Format(time.DateOnly)
		t.days[key] = &DayCounts{Date: key}
		out.PerDay = append(out.PerDay, DayCounts{Date: key})
	}
	return t
}

func group(m map[string]*Counts, key, name string) *Counts {
	c := m[key]
	if c == nil {
		c = &Counts{Key: key, Name: name}
		m[key] = c
	}
	return c
}

// add counts a ticket filed in the period.
func (t *tally) add(r statsRow) {
	st := Status(r.status)
	handled := r.resolved.Valid || st.Closed()
	overdue := r.level > 0 || (r.due.Valid && r.due.Int64 <= t.now) || (r.resolved.Valid && r.resolved.Int64 > r.resolveBy)
	var dur *float64
	if r.resolved.Valid {
		m := float64(r.resolved.Int64-r.created) / 60000
		dur = &m
	}
	if r.deptName == "" {
		r.deptName = "属地办理"
	}
	for _, c := range []*Counts{&t.out.Total, group(t.depts, r.dept, r.deptName), group(t.cats, r.cat, r.catName),
		group(t.urgs, r.urg, UrgencyNames[Urgency(r.urg)])} {
		c.count(handled, overdue, st.Open(), dur)
	}
	if d := t.days[clock.FromMillis(r.created).In(clock.Shanghai).Format(time.DateOnly)]; d != nil {
		d.Opened++
	}
}

// count adds one ticket to c.
func (c *Counts) count(handled, overdue, open bool, dur *float64) {
	c.Opened++
	if handled {
		c.Handled++
	}
	if overdue {
		c.Overdue++
	}
	if open {
		c.Open++
	}
	if dur != nil {
		c.durations = append(c.durations, *dur)
	}
}

// handledAt counts a resolution or closure at (milliseconds) on its day.
func (t *tally) handledAt(at int64) {
	if d := t.days[clock.FromMillis(at).In(clock.Shanghai).Format(time.DateOnly)]; d != nil {
		d.Handled++
	}
}

// finish writes the days, medians and sorted groups into the Stats.
func (t *tally) finish() {
	out := t.out
	for i := range out.PerDay {
		out.PerDay[i] = *t.days[out.PerDay[i].Date]
	}
	out.Total.Key, out.Total.Name = "total", "合计"
	finish(&out.Total)
	out.ByDepartment = sorted(t.depts)
	out.ByCategory = sorted(t.cats)
	out.ByUrgency = sorted(t.urgs)
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
