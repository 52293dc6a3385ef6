package zone

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/zonerule"
)

// nextSeq takes the next number of the changes to zones and permits. The
// row stays locked until the transaction ends, so that on PostgreSQL the
// writers of zones and permits run one after another and commit in the
// order of their numbers (SQLite has one writer anyway): a gate that holds
// the changes up to N never misses one numbered below N.
func nextSeq(ctx context.Context, tx *db.Tx) (int64, error) {
	var seq int64
	if err := tx.QueryRowContext(ctx, `UPDATE zone_seq SET seq = seq + 1 WHERE id = 1 RETURNING seq`).Scan(&seq); err != nil {
		return 0, fmt.Errorf("zone: next seq: %w", err)
	}
	return seq, nil
}

// currentSeq answers the number of the latest change.
func currentSeq(ctx context.Context, tx *db.Tx) (int64, error) {
	var seq int64
	if err := tx.QueryRowContext(ctx, `SELECT seq FROM zone_seq WHERE id = 1`).Scan(&seq); err != nil {
		return 0, fmt.Errorf("zone: seq: %w", err)
	}
	return seq, nil
}

const zoneCols = `z.id, z.level, z.kind, z.area_code, COALESCE(a.name, z.area_code), z.area_path, z.estate, z.building,
	z.effective_from, z.planned_end, z.ended_at, z.end_kind, z.reason, z.decision_no, z.decided_by, z.created_at,
	z.lift_reason, z.lift_decision_no, z.lifted_by, z.previous_id, (SELECT n.id FROM zones n WHERE n.previous_id = z.id), z.seq`

const zoneFrom = ` FROM zones z LEFT JOIN areas a ON a.code = z.area_code`

// inForceSQL is the condition that zone z is in force at the parameter p.
func inForceSQL(p string) string {
	return `(z.effective_from <= ` + p + ` AND (z.ended_at IS NULL OR z.ended_at > ` + p + `)
		AND (z.planned_end IS NULL OR z.planned_end > ` + p + `))`
}

func msPtr(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := clock.FromMillis(v.Int64)
	return &t
}

func idPtr(v sql.NullInt64) *int64 {
	if !v.Valid {
		return nil
	}
	return &v.Int64
}

func msArg(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMilli()
}

// scanZoneAt reads zones whose InForce is as of at.
func scanZoneAt(at time.Time) func(db.Scanner) (*Zone, error) {
	return func(sc db.Scanner) (*Zone, error) {
		var z Zone
		var from, created int64
		var planned, ended, prev, next sql.NullInt64
		if err := sc.Scan(&z.ID, &z.Level, &z.Kind, &z.AreaCode, &z.AreaName, &z.AreaPath, &z.Estate, &z.Building,
			&from, &planned, &ended, &z.EndKind, &z.Reason, &z.DecisionNo, &z.DecidedBy, &created,
			&z.LiftReason, &z.LiftDecision, &z.LiftedBy, &prev, &next, &z.Seq); err != nil {
			return nil, err
		}
		z.LevelName = zonerule.LevelNames[z.Level]
		z.EffectiveFrom, z.DecidedAt = clock.FromMillis(from), clock.FromMillis(created)
		z.PlannedEnd, z.EndedAt = msPtr(planned), msPtr(ended)
		z.PreviousID, z.NextID = idPtr(prev), idPtr(next)
		z.Target = targetName(z.AreaName, z.Estate, z.Building)
		z.InForce, z.Status = z.InForceAt(at), z.statusAt(at)
		return &z, nil
	}
}

// queryZones lists the zones matching where in order, with their
// buildings; InForce is as of at.
func queryZones(ctx context.Context, tx *db.Tx, where string, args []any, order string, at time.Time) ([]*Zone, error) {
	out, err := db.Collect(ctx, tx, scanZoneAt(at), `SELECT `+zoneCols+zoneFrom+` WHERE `+where+` ORDER BY `+order, args...)
	if err != nil {
		return nil, fmt.Errorf("zone: zones: %w", err)
	}
	return out, loadBuildings(ctx, tx, out)
}

// loadZone reads zone id, InForce as of at.
func loadZone(ctx context.Context, tx *db.Tx, id int64, at time.Time) (*Zone, error) {
	list, err := queryZones(ctx, tx, "z.id = $1", []any{id}, "z.id", at)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, errZoneNotFound()
	}
	return list[0], nil
}

// loadBuildings fills the buildings of estate and building zones.
func loadBuildings(ctx context.Context, tx *db.Tx, list []*Zone) error {
	byID := map[int64]*Zone{}
	var ids []int64
	for _, z := range list {
		if z.Kind != OverArea {
			byID[z.ID] = z
			ids = append(ids, z.ID)
		}
	}
	return db.Chunks(len(ids), 256, func(lo, hi int) error {
		var args db.Args
		q := `SELECT zone_id, building_key, building FROM zone_buildings WHERE zone_id IN ` + db.In(&args, ids[lo:hi]) +
			` ORDER BY zone_id, building`
		err := db.Each(ctx, tx, func(sc db.Scanner) error {
			var id int64
			var b Building
			if err := sc.Scan(&id, &b.Key, &b.Name); err != nil {
				return err
			}
			byID[id].Buildings = append(byID[id].Buildings, b)
			return nil
		}, q, args.List...)
		if err != nil {
			return fmt.Errorf("zone: buildings: %w", err)
		}
		return nil
	})
}

// zoneRow is a new zone as written.
type zoneRow struct {
	level      zonerule.Level
	kind       Kind
	areaCode   string
	areaPath   string
	estate     string
	building   string
	targetKey  string
	from       time.Time
	plannedEnd *time.Time
	reason     string
	decisionNo string
	actor      string
	previous   int64 // 0: none
	buildings  []Building
	seq        int64
}

// insertZone writes a zone and its buildings and returns its id.
func insertZone(ctx context.Context, tx *db.Tx, r zoneRow) (int64, error) {
	var prev any
	if r.previous != 0 {
		prev = r.previous
	}
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO zones (level, kind, area_code, area_path, estate, building, target_key,
			effective_from, planned_end, reason, decision_no, decided_by, previous_id, seq, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15) RETURNING id`,
		string(r.level), string(r.kind), r.areaCode, r.areaPath, r.estate, r.building, r.targetKey, r.from.UnixMilli(),
		msArg(r.plannedEnd), r.reason, r.decisionNo, r.actor, prev, r.seq, tx.NowMS()).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("zone: insert zone: %w", err)
	}
	for _, b := range r.buildings {
		if _, err := tx.ExecContext(ctx, `INSERT INTO zone_buildings (zone_id, building_key, building) VALUES ($1, $2, $3)`,
			id, b.Key, b.Name); err != nil {
			return 0, fmt.Errorf("zone: zone buildings: %w", err)
		}
	}
	return id, nil
}

// endRow ends a zone.
type endRow struct {
	id         int64
	at         time.Time
	kind       End
	reason     string
	decisionNo string
	actor      string
	seq        int64
}

// endZone ends open zone id at r.at; false when it had ended already.
func endZone(ctx context.Context, tx *db.Tx, r endRow) (bool, error) {
	res, err := tx.ExecContext(ctx, `UPDATE zones SET ended_at = $1, end_kind = $2, lift_reason = $3, lift_decision_no = $4,
			lifted_by = $5, seq = $6, updated_at = $7 WHERE id = $8 AND ended_at IS NULL`,
		r.at.UnixMilli(), string(r.kind), r.reason, r.decisionNo, r.actor, r.seq, tx.NowMS(), r.id)
	if err != nil {
		return false, fmt.Errorf("zone: end zone: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// zonesOfTarget lists every zone over target, oldest first.
func zonesOfTarget(ctx context.Context, tx *db.Tx, target string, at time.Time) ([]*Zone, error) {
	return queryZones(ctx, tx, "z.target_key = $1", []any{target}, "z.effective_from, z.id", at)
}

// targetOf answers a zone's target key.
func targetOf(ctx context.Context, tx *db.Tx, id int64) (string, error) {
	var key string
	err := tx.QueryRowContext(ctx, `SELECT target_key FROM zones WHERE id = $1`, id).Scan(&key)
	if err == sql.ErrNoRows {
		return "", errZoneNotFound()
	}
	if err != nil {
		return "", fmt.Errorf("zone: target: %w", err)
	}
	return key, nil
}

// pathsWhere is the condition that col lies in one of paths or above one
// of them (a community sees the district's zone over it): the areas a
// caller reads overlap the zone's. all: no condition.
func pathsWhere(a *db.Args, col string, paths []string, all bool) string {
	if all {
		return "1 = 1"
	}
	if len(paths) == 0 {
		return "1 = 0"
	}
	parts := make([]string, 0, 2*len(paths))
	for _, path := range paths {
		parts = append(parts, col+" LIKE "+a.Add(db.LikePrefix(path))+` ESCAPE '\'`, a.Add(path)+" LIKE "+col+" || '%'")
	}
	return "(" + strings.Join(parts, " OR ") + ")"
}

// communitiesUnder answers the codes of the communities at or under each
// area path, by path.
func communitiesUnder(ctx context.Context, tx *db.Tx, paths []string) (map[string][]string, error) {
	out := map[string][]string{}
	for _, p := range paths {
		if _, ok := out[p]; ok {
			continue
		}
		codes, err := db.Collect(ctx, tx, db.Value[string], `SELECT code FROM areas WHERE path LIKE $1 ESCAPE '\'
			AND level = 'community' ORDER BY code`, db.LikePrefix(p))
		if err != nil {
			return nil, fmt.Errorf("zone: communities: %w", err)
		}
		out[p] = codes
	}
	return out, nil
}

// areaNames answers the names of the areas of codes.
func areaNames(ctx context.Context, tx *db.Tx, codes []string) (map[string]string, error) {
	out := make(map[string]string, len(codes))
	err := db.Chunks(len(codes), 256, func(lo, hi int) error {
		var a db.Args
		q := `SELECT code, name FROM areas WHERE code IN ` + db.In(&a, codes[lo:hi])
		return db.Each(ctx, tx, func(sc db.Scanner) error {
			var code, name string
			if err := sc.Scan(&code, &name); err != nil {
				return err
			}
			out[code] = name
			return nil
		}, q, a.List...)
	})
	if err != nil {
		return nil, fmt.Errorf("zone: area names: %w", err)
	}
	return out, nil
}
