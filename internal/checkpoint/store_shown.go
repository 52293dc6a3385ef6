package checkpoint

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"tongxin/internal/db"
)

// shownID is the id of text in scan_shown, stored now when it is not
// there (the oldest, should two writers have stored it at once).
func shownID(ctx context.Context, tx *db.Tx, text string) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM scan_shown WHERE body = $1 ORDER BY id LIMIT 1`, text).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		err = tx.QueryRowContext(ctx, `INSERT INTO scan_shown (body) VALUES ($1) RETURNING id`, text).Scan(&id)
	}
	if err != nil {
		return 0, fmt.Errorf("checkpoint: what a code showed: %w", err)
	}
	return id, nil
}
