package ticket

import (
	"context"
	"fmt"

	"tongxin/internal/db"
)

// limit counts one use of key in the current window and reports whether
// it is still within max.
func limit(ctx context.Context, tx *db.Tx, key string, max int) (bool, error) {
	now := tx.NowMS()
	start := now - PublicWindow.Milliseconds()
	var n int
	err := tx.QueryRowContext(ctx, `INSERT INTO ticket_rate_limits (key, window_start, count) VALUES ($1, $2, 1)
		ON CONFLICT (key) DO UPDATE SET
			count = CASE WHEN ticket_rate_limits.window_start <= CAST($3 AS BIGINT) THEN 1 ELSE ticket_rate_limits.count + 1 END,
			window_start = CASE WHEN ticket_rate_limits.window_start <= CAST($3 AS BIGINT) THEN CAST($2 AS BIGINT) ELSE ticket_rate_limits.window_start END
		RETURNING count`, key, now, start).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("ticket: rate limit: %w", err)
	}
	return n <= max, nil
}
