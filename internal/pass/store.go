package pass

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"tongxin/internal/db"
)

// The module's SQL lives in the store*.go files, one per subject:
// store_batch.go (batches and their rows), store_pass.go (passes, their
// numbers and counts), store_holdings.go (what a person or vehicle
// already holds), store_quota.go, store_keys.go (signing keys) and
// store_revocation.go (the revocation list). Store functions take the
// transaction and return values; the services authorize, validate, audit
// and open the transactions.

func noRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// lock takes the lock row name until the transaction ends.
func lock(ctx context.Context, tx *db.Tx, name string) error {
	if _, err := tx.ExecContext(ctx, `UPDATE pass_locks SET at = $1 WHERE name = $2`, tx.NowMS(), name); err != nil {
		return fmt.Errorf("pass: lock %s: %w", name, err)
	}
	return nil
}

func nullTime(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := time.UnixMilli(v.Int64).UTC()
	return &t
}
