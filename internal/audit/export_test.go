package audit

import (
	"context"

	"tongxin/internal/db"
)

// PlainHash is the unkeyed SHA-256 of a row, as versions before the keyed
// chain computed it.
func PlainHash(r *Row) string { return r.plainHash() }

// KeyedHash hashes rows as Record does under secret.
func KeyedHash(secret []byte) func(*Row) string {
	return func(r *Row) string { return r.keyedHash(secret) }
}

// Rehash rewrites the hashes of rows from seq from on with hash, relinking
// each to the one before, and moves the head: what an intruder does after
// editing a row.
func Rehash(ctx context.Context, d *db.DB, from int64, hash func(*Row) string) error {
	return d.Write(ctx, func(tx *db.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT seq, at, COALESCE(actor_id, 0), actor, action, object_type, object_id, area_code, summary, prev_hash, hash
			FROM audit_log ORDER BY seq`)
		if err != nil {
			return err
		}
		var all []Row
		for rows.Next() {
			r, err := scanRow(rows)
			if err != nil {
				rows.Close()
				return err
			}
			all = append(all, r)
		}
		rows.Close()
		prev := ""
		for _, r := range all {
			if r.Seq >= from {
				r.PrevHash = prev
				r.Hash = hash(&r)
				if _, err := tx.ExecContext(ctx, `UPDATE audit_log SET prev_hash = $1, hash = $2 WHERE seq = $3`, r.PrevHash, r.Hash, r.Seq); err != nil {
					return err
				}
			}
			prev = r.Hash
		}
		_, err = tx.ExecContext(ctx, `UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1`, len(all), prev)
		return err
	})
}
