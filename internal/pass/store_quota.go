package pass

import (
	"context"
	"fmt"

	"tongxin/internal/db"
)

// quotaOf is the quota of an enterprise: its own, or employees (and
// true: the default).
func quotaOf(ctx context.Context, tx *db.Tx, key string, employees int) (int, bool, error) {
	var q int
	err := tx.QueryRowContext(ctx, `SELECT quota FROM pass_quotas WHERE enterprise_key = $1`, key).Scan(&q)
	if noRows(err) {
		return employees, true, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("pass: quota: %w", err)
	}
	return q, false, nil
}

// setQuota sets an enterprise's own quota, set by actor.
func setQuota(ctx context.Context, tx *db.Tx, key string, quota int, actor string) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO pass_quotas (enterprise_key, quota, updated_at, updated_by) VALUES ($1, $2, $3, $4)
		ON CONFLICT (enterprise_key) DO UPDATE SET quota = excluded.quota, updated_at = excluded.updated_at,
		updated_by = excluded.updated_by`, key, quota, tx.NowMS(), actor); err != nil {
		return fmt.Errorf("pass: quota: %w", err)
	}
	return nil
}

// deleteQuota returns an enterprise to the default quota.
func deleteQuota(ctx context.Context, tx *db.Tx, key string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM pass_quotas WHERE enterprise_key = $1`, key); err != nil {
		return fmt.Errorf("pass: quota: %w", err)
	}
	return nil
}
