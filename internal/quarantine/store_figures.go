package quarantine

import (
	"context"
	"fmt"

	"tongxin/internal/db"
)

// The figures' counts over an area's subtree (path) and a span [from, to)
// in Unix milliseconds.

// centralMoves counts the admissions to the area's sites during the span
// (a stay's first placement, or a transfer in from a site outside the
// area) and the releases from them (a stay's release, or a transfer out
// to a site outside).
func centralMoves(ctx context.Context, tx *db.Tx, path string, from, to int64) (in, out int, err error) {
	like := db.LikePrefix(path)
	err = tx.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM quarantine_placements pl JOIN quarantine_sites s ON s.id = pl.site_id
			WHERE s.area_path LIKE $1 ESCAPE '\' AND pl.from_at >= $2 AND pl.from_at < $3
			AND NOT EXISTS (SELECT 1 FROM quarantine_placements q JOIN quarantine_sites qs ON qs.id = q.site_id
				WHERE q.stay_id = pl.stay_id AND q.to_at = pl.from_at AND q.end_kind = 'transfer' AND qs.area_path LIKE $1 ESCAPE '\')),
		(SELECT COUNT(*) FROM quarantine_placements pl JOIN quarantine_sites s ON s.id = pl.site_id
			WHERE s.area_path LIKE $1 ESCAPE '\' AND pl.to_at >= $2 AND pl.to_at < $3
			AND (pl.end_kind = 'release' OR NOT EXISTS (SELECT 1 FROM quarantine_placements q JOIN quarantine_sites qs ON qs.id = q.site_id
				WHERE q.stay_id = pl.stay_id AND q.from_at = pl.to_at AND q.id <> pl.id AND qs.area_path LIKE $1 ESCAPE '\')))`,
		like, from, to).Scan(&in, &out)
	if err != nil {
		return 0, 0, fmt.Errorf("quarantine: central moves: %w", err)
	}
	return in, out, nil
}

// homeMoves counts the home stays in the area begun and ended during the
// span.
func homeMoves(ctx context.Context, tx *db.Tx, path string, from, to int64) (started, ended int, err error) {
	like := db.LikePrefix(path)
	err = tx.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM quarantine_stays WHERE kind = 'home' AND area_path LIKE $1 ESCAPE '\' AND starts_at >= $2 AND starts_at < $3),
		(SELECT COUNT(*) FROM quarantine_stays WHERE kind = 'home' AND area_path LIKE $1 ESCAPE '\' AND ended_at >= $2 AND ended_at < $3)`,
		like, from, to).Scan(&started, &ended)
	if err != nil {
		return 0, 0, fmt.Errorf("quarantine: home moves: %w", err)
	}
	return started, ended, nil
}
