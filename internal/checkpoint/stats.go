package checkpoint

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/passtoken"
)

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
	var args db.Args
	where, err := s.statsWhere(ctx, p, q, op, &args)
	if err != nil {
		return nil, err
	}
	if err := s.scans.sync(ctx); err != nil {
		return nil, errs.Wrap(op, err)
	}
	st := &ScanStats{From: dayOf(q.From), To: dayOf(q.To.Add(-time.Millisecond)), Area: q.Area,
		Checkpoints: []CheckpointCounts{}, Hours: []HourCounts{}, Denials: []ReasonCount{}}
	err = s.db.Read(ctx, func(tx *db.Tx) error {
		cps, err := queryCheckpoints(ctx, tx, where, args.List)
		if err != nil {
			return err
		}
		byID := map[int64]int{}
		for i, c := range cps {
			byID[c.ID] = i
			st.Checkpoints = append(st.Checkpoints, CheckpointCounts{ID: c.ID, Name: c.Name, Kind: c.Kind, AreaName: c.AreaName})
		}
		n := len(args.List)
		rows, err := tx.QueryContext(ctx, `SELECT s.checkpoint_id, s.scanned_at / 3600000, s.verdict, s.reason, COUNT(*)
			FROM checkpoint_scans s JOIN checkpoints c ON c.id = s.checkpoint_id
			WHERE `+where+fmt.Sprintf(` AND s.scanned_at >= $%d AND s.scanned_at < $%d`, n+1, n+2)+`
			GROUP BY s.checkpoint_id, s.scanned_at / 3600000, s.verdict, s.reason`,
			append(args.List, q.From.UnixMilli(), q.To.UnixMilli())...)
		if err != nil {
			return fmt.Errorf("checkpoint: scan stats: %w", err)
		}
		defer rows.Close()
		hours := map[[2]int64]*HourCounts{}
		denials := map[passtoken.Reason]int{}
		for rows.Next() {
			var cp, hour int64
			var verdict Verdict
			var reason passtoken.Reason
			var count int
			if err := rows.Scan(&cp, &hour, &verdict, &reason, &count); err != nil {
				return fmt.Errorf("checkpoint: scan stats: %w", err)
			}
			i, ok := byID[cp]
			if !ok {
				continue
			}
			h := hours[[2]int64{cp, hour}]
			if h == nil {
				h = &HourCounts{CheckpointID: cp, Hour: clock.FromMillis(hour * 3600000)}
				hours[[2]int64{cp, hour}] = h
			}
			for _, c := range []*ScanCounts{&st.Total, &st.Checkpoints[i].ScanCounts, &h.ScanCounts} {
				c.add(verdict, count)
			}
			if verdict == Deny {
				denials[reason] += count
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		for _, h := range hours {
			st.Hours = append(st.Hours, *h)
		}
		slices.SortFunc(st.Hours, func(a, b HourCounts) int {
			return cmp.Or(cmp.Compare(byID[a.CheckpointID], byID[b.CheckpointID]), a.Hour.Compare(b.Hour))
		})
		for _, r := range Reasons {
			if n := denials[r]; n > 0 {
				st.Denials = append(st.Denials, ReasonCount{Reason: r, Name: passtoken.ReasonNames[r], Count: n})
			}
		}
		slices.SortStableFunc(st.Denials, func(a, b ReasonCount) int { return b.Count - a.Count })
		return nil
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return st, nil
}

func (c *ScanCounts) add(v Verdict, n int) {
	c.Scans += n
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
