package zone

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"tongxin/internal/clock"
	"tongxin/internal/db"
)

// withinWhere is the condition that col lies in one of paths (all: no
// condition).
func withinWhere(a *db.Args, col string, paths []string, all bool) string {
	if all {
		return "1 = 1"
	}
	if len(paths) == 0 {
		return "1 = 0"
	}
	parts := make([]string, len(paths))
	for i, path := range paths {
		parts[i] = col + " LIKE " + a.Add(db.LikePrefix(path)) + ` ESCAPE '\'`
	}
	return "(" + strings.Join(parts, " OR ") + ")"
}

// sealedOver answers the first sealed zone in force at some moment of
// [from, to) over a resident of the community at path living in the
// building key; nil when none is.
func sealedOver(ctx context.Context, tx *db.Tx, path, key string, from, to time.Time) (*Zone, error) {
	list, err := queryZones(ctx, tx, `z.level = 'sealed' AND z.effective_from < $1 AND (z.ended_at IS NULL OR z.ended_at > $2)
		AND (z.ended_at IS NULL OR z.ended_at > z.effective_from) AND (z.planned_end IS NULL OR z.planned_end > $2)
		AND ((z.kind = 'area' AND $3 LIKE z.area_path || '%')
		     OR EXISTS (SELECT 1 FROM zone_buildings b WHERE b.zone_id = z.id AND b.building_key = $4))`,
		[]any{to.UnixMilli(), from.UnixMilli(), path, key}, "z.effective_from, z.id LIMIT 1", from)
	if err != nil || len(list) == 0 {
		return nil, err
	}
	return list[0], nil
}

// insertPermit writes a permit and returns its id.
func insertPermit(ctx context.Context, tx *db.Tx, r *Resident, in PermitInput, actor string, seq int64) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO zone_permits (resident_id, rid, name_masked, community_code, area_path, estate,
			building, building_key, reason, valid_from, valid_to, issued_by, seq, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id`,
		r.ID, r.RID, r.NameMasked, r.CommunityCode, r.AreaPath, r.Estate, r.Building, r.BuildingKey, in.Reason,
		in.ValidFrom.UnixMilli(), in.ValidTo.UnixMilli(), actor, seq, tx.NowMS()).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("zone: insert permit: %w", err)
	}
	return id, nil
}

// cancelPermit cancels permit id now; false when it was cancelled already.
func cancelPermit(ctx context.Context, tx *db.Tx, id int64, reason, actor string, seq int64) (bool, error) {
	res, err := tx.ExecContext(ctx, `UPDATE zone_permits SET cancelled_at = $1, cancelled_by = $2, cancel_reason = $3, seq = $4
			WHERE id = $5 AND cancelled_at IS NULL`, tx.NowMS(), actor, reason, seq, id)
	if err != nil {
		return false, fmt.Errorf("zone: cancel permit: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

const permitCols = `p.id, p.resident_id, p.name_masked, p.community_code, COALESCE(a.name, p.community_code), p.area_path, p.estate,
	p.building, p.reason, p.valid_from, p.valid_to, p.issued_by, p.created_at, p.cancelled_at, p.cancelled_by, p.cancel_reason, p.seq`

// scanPermitAt reads permits whose Active is as of at.
func scanPermitAt(at time.Time) func(db.Scanner) (*Permit, error) {
	return func(sc db.Scanner) (*Permit, error) {
		var p Permit
		var from, to, created int64
		var cancelled sql.NullInt64
		if err := sc.Scan(&p.ID, &p.ResidentID, &p.Name, &p.CommunityCode, &p.CommunityName, &p.AreaPath, &p.Estate, &p.Building,
			&p.Reason, &from, &to, &p.IssuedBy, &created, &cancelled, &p.CancelledBy, &p.CancelReason, &p.Seq); err != nil {
			return nil, err
		}
		p.ValidFrom, p.ValidTo, p.IssuedAt, p.CancelledAt = clock.FromMillis(from), clock.FromMillis(to), clock.FromMillis(created), msPtr(cancelled)
		p.Active = p.CancelledAt == nil && at.Before(p.ValidTo)
		return &p, nil
	}
}

// queryPermits lists the permits matching where, newest first.
func queryPermits(ctx context.Context, tx *db.Tx, where string, args []any, at time.Time) ([]*Permit, error) {
	out, err := db.Collect(ctx, tx, scanPermitAt(at), `SELECT `+permitCols+` FROM zone_permits p
		LEFT JOIN areas a ON a.code = p.community_code WHERE `+where+` ORDER BY p.valid_from DESC, p.id DESC LIMIT 1000`, args...)
	if err != nil {
		return nil, fmt.Errorf("zone: permits: %w", err)
	}
	return out, nil
}

// loadPermit reads permit id.
func loadPermit(ctx context.Context, tx *db.Tx, id int64) (*Permit, error) {
	list, err := queryPermits(ctx, tx, "p.id = $1", []any{id}, tx.Now)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, errPermitNotFound()
	}
	return list[0], nil
}

// permitsInForce counts the permits in force at at over or inside path.
func permitsInForce(ctx context.Context, tx *db.Tx, path string, at time.Time) (int, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM zone_permits WHERE area_path LIKE $1 ESCAPE '\' AND valid_from <= $2
		AND valid_to > $2 AND (cancelled_at IS NULL OR cancelled_at > $2)`, db.LikePrefix(path), at.UnixMilli()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("zone: permits in force: %w", err)
	}
	return n, nil
}
