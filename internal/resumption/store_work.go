package resumption

import (
	"context"
	"fmt"

	"tongxin/internal/db"
)

// The home and area pages' counts.

// keysWithoutReport reads the keys of the enterprises within v that have
// no report dated date, by key: an index probe of
// resumption_reports_latest per enterprise.
func keysWithoutReport(ctx context.Context, tx *db.Tx, v visibility, date string) ([]string, error) {
	var a db.Args
	today := a.Add(date)
	q := `SELECT e.ekey FROM enterprises e JOIN areas a ON a.code = e.area_code
			WHERE ` + v.where(&a) + ` AND NOT EXISTS (SELECT 1 FROM resumption_reports r
			WHERE r.enterprise_id = e.id AND r.report_date = ` + today + `) ORDER BY e.ekey`
	keys, err := db.Collect(ctx, tx, db.Value[string], q, a.List...)
	if err != nil {
		return nil, fmt.Errorf("resumption: missing today: %w", err)
	}
	return keys, nil
}

// countUnder counts the enterprises and projects registered in the
// subtree at path.
func countUnder(ctx context.Context, tx *db.Tx, path string) (int, error) {
	var n int
	var a db.Args
	q := `SELECT COUNT(*) FROM enterprises e JOIN areas a ON a.code = e.area_code
			WHERE a.path LIKE ` + a.Add(db.LikePrefix(path)) + ` ESCAPE '\'`
	err := tx.QueryRowContext(ctx, q, a.List...).Scan(&n)
	return n, err
}
