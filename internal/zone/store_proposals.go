package zone

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"tongxin/internal/clock"
	"tongxin/internal/db"
)

// areaPathOf answers an area's path and name in tx; "" when there is no
// such area.
func areaPathOf(ctx context.Context, tx *db.Tx, code string) (path, name string, err error) {
	err = tx.QueryRowContext(ctx, `SELECT path, name FROM areas WHERE code = $1`, code).Scan(&path, &name)
	if err == sql.ErrNoRows {
		return "", "", nil
	}
	if err != nil {
		return "", "", fmt.Errorf("zone: area: %w", err)
	}
	return path, name, nil
}

// upsertProposal records a proposal to seal a building, or one more case
// of the pending proposal for it; it answers the proposal's id and its
// cases (1: new).
func upsertProposal(ctx context.Context, tx *db.Tx, sp SealProposal, path string) (id int64, cases int, err error) {
	err = tx.QueryRowContext(ctx, `INSERT INTO zone_proposals (community_code, area_path, estate, building, building_key, tube,
			round_id, cases, status, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 1, 'pending', $8)
			ON CONFLICT (building_key) WHERE status = 'pending' DO UPDATE SET cases = zone_proposals.cases + 1
			RETURNING id, cases`,
		sp.Community, path, sp.Estate, sp.Building, sp.BuildingKey, sp.Tube, sp.Round, tx.NowMS()).Scan(&id, &cases)
	if err != nil {
		return 0, 0, fmt.Errorf("zone: proposal: %w", err)
	}
	return id, cases, nil
}

const proposalCols = `p.id, p.community_code, COALESCE(a.name, p.community_code), p.area_path, p.estate, p.building, p.building_key,
	p.tube, p.round_id, p.cases, p.status, p.zone_id, p.decline_reason, p.decided_by, p.decided_at, p.created_at`

func scanProposal(sc db.Scanner) (*Proposal, error) {
	var p Proposal
	var zone, decided sql.NullInt64
	var created int64
	if err := sc.Scan(&p.ID, &p.CommunityCode, &p.CommunityName, &p.AreaPath, &p.Estate, &p.Building, &p.BuildingKey,
		&p.Tube, &p.RoundID, &p.Cases, &p.Status, &zone, &p.DeclineReason, &p.DecidedBy, &decided, &created); err != nil {
		return nil, err
	}
	p.StatusName = ProposalStatusNames[p.Status]
	p.ZoneID, p.DecidedAt, p.CreatedAt = idPtr(zone), msPtr(decided), clock.FromMillis(created)
	return &p, nil
}

// queryProposals lists the proposals matching where, newest first.
func queryProposals(ctx context.Context, tx *db.Tx, where string, args []any) ([]*Proposal, error) {
	out, err := db.Collect(ctx, tx, scanProposal, `SELECT `+proposalCols+` FROM zone_proposals p
		LEFT JOIN areas a ON a.code = p.community_code WHERE `+where+` ORDER BY p.created_at DESC, p.id DESC LIMIT 500`, args...)
	if err != nil {
		return nil, fmt.Errorf("zone: proposals: %w", err)
	}
	return out, nil
}

// loadProposal reads proposal id.
func loadProposal(ctx context.Context, tx *db.Tx, id int64) (*Proposal, error) {
	list, err := queryProposals(ctx, tx, "p.id = $1", []any{id})
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, errProposalNotFound()
	}
	return list[0], nil
}

// decideProposal closes pending proposal id as status (with the zone it
// made, or the reason it was declined); false when it was not pending.
func decideProposal(ctx context.Context, tx *db.Tx, id int64, status ProposalStatus, zone int64, reason, actor string) (bool, error) {
	var z any
	if zone != 0 {
		z = zone
	}
	res, err := tx.ExecContext(ctx, `UPDATE zone_proposals SET status = $1, zone_id = $2, decline_reason = $3, decided_by = $4,
			decided_at = $5 WHERE id = $6 AND status = 'pending'`, string(status), z, reason, actor, tx.NowMS(), id)
	if err != nil {
		return false, fmt.Errorf("zone: decide proposal: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// pendingCount counts the pending proposals over or inside the area at
// path.
func pendingCount(ctx context.Context, tx *db.Tx, path string) (int, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM zone_proposals WHERE status = 'pending' AND area_path LIKE $1 ESCAPE '\'`,
		db.LikePrefix(path)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("zone: pending proposals: %w", err)
	}
	return n, nil
}

// dayCounts counts the zones that started (new or changed) and those
// lifted within [from, to) over or inside path.
func dayCounts(ctx context.Context, tx *db.Tx, path string, from, to time.Time) (decided, lifted int, err error) {
	err = tx.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM zones WHERE area_path LIKE $1 ESCAPE '\' AND effective_from >= $2 AND effective_from < $3),
		(SELECT COUNT(*) FROM zones WHERE area_path LIKE $1 ESCAPE '\' AND end_kind = 'lifted' AND ended_at >= $2 AND ended_at < $3)`,
		db.LikePrefix(path), from.UnixMilli(), to.UnixMilli()).Scan(&decided, &lifted)
	if err != nil {
		return 0, 0, fmt.Errorf("zone: day counts: %w", err)
	}
	return decided, lifted, nil
}
