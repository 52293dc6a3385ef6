package pass

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"fmt"
	"time"

	"tongxin/internal/db"
)

// readKeys reads every row of pass_keys, newest first (the signing key
// before a key retired at the same moment).
func readKeys(ctx context.Context, tx *db.Tx) ([]KeyInfo, error) {
	list, err := db.Collect(ctx, tx, scanKey, `SELECT kid, public_key, created_at, retired_at, revoked_at, last_exp
		FROM pass_keys ORDER BY created_at DESC, CASE WHEN retired_at IS NULL THEN 0 ELSE 1 END, kid`)
	if err != nil {
		return nil, fmt.Errorf("pass: keys: %w", err)
	}
	for i, k := range list {
		pub, err := b64.DecodeString(k.X)
		if err != nil || len(pub) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("pass: key %s: stored public key is not an Ed25519 key", k.Kid)
		}
		list[i].pub = ed25519.PublicKey(pub)
	}
	return list, nil
}

func scanKey(sc db.Scanner) (KeyInfo, error) {
	var k KeyInfo
	var created, lastExp int64
	var retired, revoked sql.NullInt64
	if err := sc.Scan(&k.Kid, &k.X, &created, &retired, &revoked, &lastExp); err != nil {
		return k, err
	}
	k.CreatedAt = time.UnixMilli(created).UTC()
	k.RetiredAt, k.RevokedAt = nullTime(retired), nullTime(revoked)
	if lastExp > 0 {
		t := time.UnixMilli(lastExp).UTC()
		k.LastExp = &t
	}
	return k, nil
}

// signingKid is the key new passes are signed with, "" when there is none.
func signingKid(ctx context.Context, tx *db.Tx) (string, error) {
	var kid string
	err := tx.QueryRowContext(ctx, `SELECT kid FROM pass_keys WHERE retired_at IS NULL AND revoked_at IS NULL
		ORDER BY created_at DESC, kid LIMIT 1`).Scan(&kid)
	if noRows(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("pass: signing key: %w", err)
	}
	return kid, nil
}

// storeKey retires every key and stores pub as the signing key kid.
func storeKey(ctx context.Context, tx *db.Tx, kid string, pub ed25519.PublicKey) error {
	if _, err := tx.ExecContext(ctx, `UPDATE pass_keys SET retired_at = $1 WHERE retired_at IS NULL`, tx.NowMS()); err != nil {
		return fmt.Errorf("pass: retire keys: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO pass_keys (kid, public_key, created_at) VALUES ($1, $2, $3)`,
		kid, b64.EncodeToString(pub), tx.NowMS()); err != nil {
		return fmt.Errorf("pass: store key: %w", err)
	}
	return nil
}

// extendKeyExpiry moves the last expiry of a pass kid signed to lastExp,
// when later.
func extendKeyExpiry(ctx context.Context, tx *db.Tx, kid string, lastExp int64) error {
	if _, err := tx.ExecContext(ctx, `UPDATE pass_keys SET last_exp = $1 WHERE kid = $2 AND last_exp < $1`, lastExp, kid); err != nil {
		return fmt.Errorf("pass: key expiry: %w", err)
	}
	return nil
}

// keyRevokedAt reads when kid was revoked (invalid when it is not);
// sql.ErrNoRows when there is no such key.
func keyRevokedAt(ctx context.Context, tx *db.Tx, kid string) (sql.NullInt64, error) {
	var revoked sql.NullInt64
	err := tx.QueryRowContext(ctx, `SELECT revoked_at FROM pass_keys WHERE kid = $1`, kid).Scan(&revoked)
	return revoked, err
}

// markKeyRevoked revokes (and retires) kid, as the system.
func markKeyRevoked(ctx context.Context, tx *db.Tx, kid string) error {
	if _, err := tx.ExecContext(ctx, `UPDATE pass_keys SET revoked_at = $1, retired_at = COALESCE(retired_at, $1),
		revoked_by = 'system' WHERE kid = $2`, tx.NowMS(), kid); err != nil {
		return fmt.Errorf("pass: revoke key: %w", err)
	}
	return nil
}
