package zone

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"tongxin/internal/db"
	"tongxin/internal/zonerule"
)

// gateZoneRow is a zone as a gate needs it, before its area is expanded.
type gateZoneRow struct {
	z        zonerule.Zone
	kind     Kind
	areaPath string
}

// gateZones reads the zones matching where (over z) as gates see them,
// their buildings filled and area zones expanded to their communities.
func gateZones(ctx context.Context, tx *db.Tx, where string, args ...any) ([]zonerule.Zone, error) {
	rows, err := db.Collect(ctx, tx, func(sc db.Scanner) (*gateZoneRow, error) {
		var r gateZoneRow
		var planned, ended sql.NullInt64
		if err := sc.Scan(&r.z.ID, &r.z.Level, &r.kind, &r.areaPath, &r.z.From, &planned, &ended, &r.z.Seq); err != nil {
			return nil, err
		}
		switch {
		case ended.Valid && (!planned.Valid || ended.Int64 < planned.Int64):
			r.z.To = max(ended.Int64, r.z.From)
		case planned.Valid:
			r.z.To = planned.Int64
		}
		return &r, nil
	}, `SELECT z.id, z.level, z.kind, z.area_path, z.effective_from, z.planned_end, z.ended_at, z.seq FROM zones z
		WHERE `+where+` ORDER BY z.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("zone: gate zones: %w", err)
	}
	var paths []string
	byID := map[int64]*zonerule.Zone{}
	var ids []int64
	for _, r := range rows {
		if r.kind == OverArea {
			paths = append(paths, r.areaPath)
		} else {
			byID[r.z.ID] = &r.z
			ids = append(ids, r.z.ID)
		}
	}
	under, err := communitiesUnder(ctx, tx, paths)
	if err != nil {
		return nil, err
	}
	err = db.Chunks(len(ids), 256, func(lo, hi int) error {
		var a db.Args
		q := `SELECT zone_id, building_key FROM zone_buildings WHERE zone_id IN ` + db.In(&a, ids[lo:hi]) + ` ORDER BY zone_id, building_key`
		return db.Each(ctx, tx, func(sc db.Scanner) error {
			var id int64
			var key string
			if err := sc.Scan(&id, &key); err != nil {
				return err
			}
			byID[id].Buildings = append(byID[id].Buildings, key)
			return nil
		}, q, a.List...)
	})
	if err != nil {
		return nil, fmt.Errorf("zone: gate buildings: %w", err)
	}
	out := make([]zonerule.Zone, len(rows))
	for i, r := range rows {
		if r.kind == OverArea {
			r.z.Communities = under[r.areaPath]
		}
		out[i] = r.z
	}
	return out, nil
}

// gatePermits reads the permits matching where (over p) as gates see
// them: a cancelled permit ends at its cancellation.
func gatePermits(ctx context.Context, tx *db.Tx, where string, args ...any) ([]zonerule.Permit, error) {
	out, err := db.Collect(ctx, tx, func(sc db.Scanner) (zonerule.Permit, error) {
		var p zonerule.Permit
		var cancelled sql.NullInt64
		err := sc.Scan(&p.ID, &p.Resident, &p.From, &p.To, &cancelled, &p.Seq)
		if cancelled.Valid && cancelled.Int64 < p.To {
			p.To = max(cancelled.Int64, p.From)
		}
		return p, err
	}, `SELECT p.id, p.rid, p.valid_from, p.valid_to, p.cancelled_at, p.seq FROM zone_permits p WHERE `+where+` ORDER BY p.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("zone: gate permits: %w", err)
	}
	return out, nil
}

// fullSnapshot reads what a gate needs at now: every zone and permit not
// over by then.
func fullSnapshot(ctx context.Context, tx *db.Tx, now time.Time) (*zonerule.Snapshot, error) {
	seq, err := currentSeq(ctx, tx)
	if err != nil {
		return nil, err
	}
	ms := now.UnixMilli()
	zones, err := gateZones(ctx, tx, `(z.ended_at IS NULL OR (z.ended_at > $1 AND z.ended_at > z.effective_from))
		AND (z.planned_end IS NULL OR z.planned_end > $1)`, ms)
	if err != nil {
		return nil, err
	}
	permits, err := gatePermits(ctx, tx, `p.valid_to > $1 AND (p.cancelled_at IS NULL OR p.cancelled_at > $1)`, ms)
	if err != nil {
		return nil, err
	}
	return &zonerule.Snapshot{Seq: seq, Full: true, Zones: nonNil(zones), Permits: nonNil(permits)}, nil
}

// maxDelta bounds the changes a delta answers; more is a whole snapshot.
const maxDelta = 5000

// deltaSnapshot reads the zones and permits changed after seq; nil when
// there are more than maxDelta.
func deltaSnapshot(ctx context.Context, tx *db.Tx, after, seq int64) (*zonerule.Snapshot, error) {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM zones WHERE seq > $1) + (SELECT COUNT(*) FROM zone_permits WHERE seq > $1)`,
		after).Scan(&n); err != nil {
		return nil, fmt.Errorf("zone: delta: %w", err)
	}
	if n > maxDelta {
		return nil, nil
	}
	zones, err := gateZones(ctx, tx, `z.seq > $1`, after)
	if err != nil {
		return nil, err
	}
	permits, err := gatePermits(ctx, tx, `p.seq > $1`, after)
	if err != nil {
		return nil, err
	}
	return &zonerule.Snapshot{Seq: seq, Zones: nonNil(zones), Permits: nonNil(permits)}, nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// sealedDuring answers the first sealed zone in force at some moment of
// [from, to) over or inside one of paths, or above one of them; nil when
// none is.
func sealedDuring(ctx context.Context, tx *db.Tx, paths []string, from, to time.Time) (*Zone, error) {
	var a db.Args
	where := `z.level = 'sealed' AND z.effective_from < ` + a.Add(to.UnixMilli()) + `
		AND (z.ended_at IS NULL OR z.ended_at > ` + a.Add(from.UnixMilli()) + `)
		AND (z.ended_at IS NULL OR z.ended_at > z.effective_from)
		AND (z.planned_end IS NULL OR z.planned_end > ` + a.Add(from.UnixMilli()) + `) AND ` + pathsWhere(&a, "z.area_path", paths, false)
	list, err := queryZones(ctx, tx, where, a.List, "z.effective_from, z.id LIMIT 1", from)
	if err != nil || len(list) == 0 {
		return nil, err
	}
	return list[0], nil
}
