package masstest

import (
	"context"
	"time"

	"tongxin/internal/db"
)

// openRounds lists the rounds open at at (not closed, started, not
// ended), newest first, with their areas.
func openRounds(ctx context.Context, tx *db.Tx, at time.Time) ([]*Round, error) {
	ms := at.UnixMilli()
	return queryRounds(ctx, tx, `r.closed_at IS NULL AND r.starts_at <= $1 AND r.ends_at > $2`, []any{ms, ms})
}
