package checkpoint

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/passtoken"
)

// StatsQuery is a period and an optional area (a code: its subtree).
type StatsQuery struct {
	From, To time.Time // [From, To)
	Area     string
}

// statsDays is the default period of statistics and exports, in days up
// to today.
const statsDays = 7

// ScanStats counts the scans of a period at the checkpoints a caller may
// read: per checkpoint, per checkpoint and hour, and the denials by
// reason.
type ScanStats struct {
	From        string             `json:"from"` // YYYY-MM-DD, Asia/Shanghai, inclusive
	To          string             `json:"to"`
	Area        string             `json:"area,omitempty"`
	Total       ScanCounts         `json:"total"`
	Checkpoints []CheckpointCounts `json:"checkpoints"`
	Hours       []HourCounts       `json:"hours"`
	Denials     []ReasonCount      `json:"denials"`
}

// ScanCounts are the scans of one group.
type ScanCounts struct {
	Scans   int `json:"scans"`
	Allowed int `json:"allowed"`
	Denied  int `json:"denied"`
	// Residents are the scans of resident codes (居民码, estate gates)
	// among Scans; the others showed passes.
	Residents int `json:"residents"`
}

// CheckpointCounts are one checkpoint's scans.
type CheckpointCounts struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	Kind     Kind   `json:"kind"`
	AreaName string `json:"area_name"`
	ScanCounts
}

// HourCounts are one checkpoint's scans in one hour (hours without
// scans are left out).
type HourCounts struct {
	CheckpointID int64     `json:"checkpoint_id"`
	Hour         time.Time `json:"hour"`
	ScanCounts
}

// ReasonCount is the denials of one reason.
type ReasonCount struct {
	Reason passtoken.Reason `json:"reason"`
	Name   string           `json:"name"`
	Count  int              `json:"count"`
}

// ScanStats counts the scans scanned in [q.From, q.To).
func (s *Service) ScanStats(ctx context.Context, p *auth.Principal, q StatsQuery) (*ScanStats, error) {
	const op = "checkpoint.ScanStats"
	f, err := s.statsFilter(ctx, p, q, op)
	if err != nil {
		return nil, err
	}
	if err := s.scans.sync(ctx); err != nil {
		return nil, errs.Wrap(op, err)
	}
	st := &ScanStats{From: dayOf(q.From), To: dayOf(q.To.Add(-time.Millisecond)), Area: q.Area,
		Checkpoints: []CheckpointCounts{}, Hours: []HourCounts{}, Denials: []ReasonCount{}}
	err = s.db.Read(ctx, func(tx *db.Tx) error {
		cps, err := queryCheckpoints(ctx, tx, f)
		if err != nil {
			return err
		}
		t := scanTally{st: st, byID: map[int64]int{}, hours: map[[2]int64]*HourCounts{}, denials: map[passtoken.Reason]int{}}
		for i, c := range cps {
			t.byID[c.ID] = i
			st.Checkpoints = append(st.Checkpoints, CheckpointCounts{ID: c.ID, Name: c.Name, Kind: c.Kind, AreaName: c.AreaName})
		}
		if err := eachScanCount(ctx, tx, f, q.From, q.To, t.add); err != nil {
			return err
		}
		t.finish()
		return nil
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return st, nil
}

// scanTally adds up scan counts into st, whose Checkpoints are in place
// (byID: their index).
type scanTally struct {
	st      *ScanStats
	byID    map[int64]int
	hours   map[[2]int64]*HourCounts
	denials map[passtoken.Reason]int
}

func (t *scanTally) add(sc scanCount) {
	i, ok := t.byID[sc.checkpoint]
	if !ok {
		return
	}
	k := [2]int64{sc.checkpoint, sc.hour}
	h := t.hours[k]
	if h == nil {
		h = &HourCounts{CheckpointID: sc.checkpoint, Hour: clock.FromMillis(sc.hour * 3600000)}
		t.hours[k] = h
	}
	for _, c := range []*ScanCounts{&t.st.Total, &t.st.Checkpoints[i].ScanCounts, &h.ScanCounts} {
		c.add(sc.verdict, sc.shown, sc.count)
	}
	if sc.verdict == Deny {
		t.denials[sc.reason] += sc.count
	}
}

// finish puts the hours and the denials in st, in their order.
func (t *scanTally) finish() {
	st := t.st
	for _, h := range t.hours {
		st.Hours = append(st.Hours, *h)
	}
	slices.SortFunc(st.Hours, func(a, b HourCounts) int {
		return cmp.Or(cmp.Compare(t.byID[a.CheckpointID], t.byID[b.CheckpointID]), a.Hour.Compare(b.Hour))
	})
	for _, r := range Reasons {
		if n := t.denials[r]; n > 0 {
			st.Denials = append(st.Denials, ReasonCount{Reason: r, Name: passtoken.ReasonNames[r], Count: n})
		}
	}
	slices.SortStableFunc(st.Denials, func(a, b ReasonCount) int { return b.Count - a.Count })
}

func (c *ScanCounts) add(v Verdict, shown Shown, n int) {
	c.Scans += n
	if shown == ShownResident {
		c.Residents += n
	}
	if v == Allow {
		c.Allowed += n
	} else {
		c.Denied += n
	}
}

// sortGoods orders goods by handovers, then name.
func sortGoods(gs []HandoverGoods) {
	slices.SortFunc(gs, func(a, b HandoverGoods) int {
		return cmp.Or(b.Handovers-a.Handovers, strings.Compare(a.Goods, b.Goods), strings.Compare(a.Unit, b.Unit))
	})
}

// sortCompanies orders enterprises by handovers, then name.
func sortCompanies(es []HandoverCompany) {
	slices.SortFunc(es, func(a, b HandoverCompany) int {
		return cmp.Or(b.Handovers-a.Handovers, strings.Compare(a.Name, b.Name), strings.Compare(a.Key, b.Key))
	})
}

// statsFilter selects the checkpoints of a statistics query: those p may
// read, inside q's area.
func (s *Service) statsFilter(ctx context.Context, p *auth.Principal, q StatsQuery, op string) (checkpointFilter, error) {
	if p == nil {
		return checkpointFilter{}, auth.Require(p, auth.CheckpointRead, op)
	}
	f := checkpointFilter{reach: readReach(p)}
	if f.reach.none() {
		return f, auth.ErrForbidden(op)
	}
	if !q.To.After(q.From) {
		return f, errs.Fields("bad_period", "结束日期不能早于开始日期", errs.FieldError{Field: "to", Message: "早于开始日期"})
	}
	if q.To.Sub(q.From) > 366*24*time.Hour {
		return f, errs.Fields("bad_period", "统计区间不能超过一年", errs.FieldError{Field: "from", Message: "区间过长"})
	}
	if q.Area != "" {
		a, err := s.resolveArea(ctx, q.Area, "area")
		if err != nil {
			return f, errs.Wrap(op, err)
		}
		f.areaPath = a.Path
	}
	return f, nil
}

// dayOf is the date of t in Asia/Shanghai.
func dayOf(t time.Time) string { return t.In(clock.Shanghai).Format(time.DateOnly) }
