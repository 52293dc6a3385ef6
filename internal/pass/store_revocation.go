package pass

import (
	"context"
	"fmt"

	"tongxin/internal/clock"
	"tongxin/internal/db"
)

// revocationsSince reads the pass ids revoked after seq, in seq order
// (Seq and PID only), for the list in memory.
func revocationsSince(ctx context.Context, tx *db.Tx, seq int64) ([]Revocation, error) {
	return db.Collect(ctx, tx, func(sc db.Scanner) (Revocation, error) {
		var v Revocation
		err := sc.Scan(&v.Seq, &v.PID)
		return v, err
	}, `SELECT seq, pid FROM pass_revocations WHERE seq > $1 ORDER BY seq`, seq)
}

// revocationTag is the ETag of a page: it changes when a revocation or a
// revoked key is added.
func revocationTag(ctx context.Context, tx *db.Tx, since int64, limit int) (string, error) {
	var last, keys int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0), (SELECT COUNT(*) FROM pass_keys WHERE revoked_at IS NOT NULL)
		FROM pass_revocations`).Scan(&last, &keys); err != nil {
		return "", fmt.Errorf("pass: revocation tag: %w", err)
	}
	return fmt.Sprintf(`"r%d-%d-%d-%d"`, since, limit, last, keys), nil
}

// revocationPage reads at most n entries of the revocation list after
// seq since, in seq order.
func revocationPage(ctx context.Context, tx *db.Tx, since int64, n int) ([]Revocation, error) {
	list, err := db.Collect(ctx, tx, func(sc db.Scanner) (Revocation, error) {
		var r Revocation
		var at int64
		err := sc.Scan(&r.Seq, &r.PID, &r.Kid, &at)
		r.RevokedAt = clock.FromMillis(at)
		return r, err
	}, `SELECT seq, pid, kid, revoked_at FROM pass_revocations WHERE seq > $1 ORDER BY seq LIMIT $2`, since, n)
	if err != nil {
		return nil, fmt.Errorf("pass: revocations: %w", err)
	}
	return list, nil
}

// revokedKids lists the ids of the revoked keys, in order.
func revokedKids(ctx context.Context, tx *db.Tx) ([]string, error) {
	list, err := db.Collect(ctx, tx, db.Value[string], `SELECT kid FROM pass_keys WHERE revoked_at IS NOT NULL ORDER BY kid`)
	if err != nil {
		return nil, fmt.Errorf("pass: revoked keys: %w", err)
	}
	return list, nil
}

// passToRevoke is what revoking one pass needs to know of it.
type passToRevoke struct {
	status, entKey, entName, path, kid, name string
}

// passForRevoke reads the pass pid for its revocation; sql.ErrNoRows
// when there is none.
func passForRevoke(ctx context.Context, tx *db.Tx, pid string) (*passToRevoke, error) {
	var v passToRevoke
	err := tx.QueryRowContext(ctx, `SELECT status, enterprise_key, enterprise_name, area_path, kid, name_masked FROM passes WHERE pid = $1`, pid).
		Scan(&v.status, &v.entKey, &v.entName, &v.path, &v.kid, &v.name)
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// revokePass enters pid (signed by kid) in the revocation list and marks
// it revoked by actor.
func revokePass(ctx context.Context, tx *db.Tx, pid, kid, reason, actor string) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO pass_revocations (pid, kid, revoked_at, reason) VALUES ($1, $2, $3, $4)`,
		pid, kid, tx.NowMS(), reason); err != nil {
		return fmt.Errorf("pass: revoke: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE passes SET status = 'revoked', revoked_at = $1, revoke_reason = $2, revoked_by = $3
		WHERE pid = $4`, tx.NowMS(), reason, actor, pid); err != nil {
		return fmt.Errorf("pass: revoke: %w", err)
	}
	return nil
}

// revokeWhere revokes the active passes matching cond (one argument, $1)
// under the revocations lock, each with its revocation entry in id order.
func revokeWhere(ctx context.Context, tx *db.Tx, actor, cond string, arg any, reason string) (int, error) {
	if err := lock(ctx, tx, "revocations"); err != nil {
		return 0, err
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO pass_revocations (pid, kid, revoked_at, reason)
		SELECT pid, kid, CAST($2 AS BIGINT), CAST($3 AS TEXT) FROM passes WHERE `+cond+` AND status = 'active' ORDER BY id`, arg, tx.NowMS(), reason)
	if err != nil {
		return 0, fmt.Errorf("pass: revoke: %w", err)
	}
	n, _ := res.RowsAffected()
	if _, err := tx.ExecContext(ctx, `UPDATE passes SET status = 'revoked', revoked_at = $2, revoke_reason = $3, revoked_by = $4
		WHERE `+cond+` AND status = 'active'`, arg, tx.NowMS(), reason, actor); err != nil {
		return 0, fmt.Errorf("pass: revoke: %w", err)
	}
	return int(n), nil
}
