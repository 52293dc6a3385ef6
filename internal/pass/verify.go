package pass

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"tongxin/internal/audit"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/passtoken"
)

// Keys is the in-memory lookup of the public keys that may verify a pass
// (every key not revoked, published or not: a pass of a retired key still
// verifies, and then expires). It reads no file and, within KeyCacheTTL,
// no database; an unknown kid reads pass_keys at most once a second.
func (s *Service) Keys() passtoken.Keys { return s.keys.lookup }

// Verify is the online check of a pass token at a moment: the signature
// with a known key, the validity window, and the revocation of the pass.
// A token signed by a revoked key answers Revoked once its signature is
// checked against that key (BadSignature if it does not match), as
// offline verifiers do with the revoked key ids of the revocation list.
// Area and checkpoint limits are the caller's (Claims.AllowedAt).
//
// A pass is scanned many times in its life, so a token whose signature
// has been checked is remembered (by its SHA-256, bounded): scanned
// again, only the key's revocation, the validity window and the
// revocation list are looked at. The revocation list is kept in memory
// (revset): a revocation made here counts at once, one made by another
// instance within RevocationRefresh. If the list cannot be read
// (database down), Verify answers from the last list it read, as an
// offline verifier would, and logs the error.
//
// The claims answered are the caller's to read, not to change.
func (s *Service) Verify(ctx context.Context, token string, at time.Time) (*passtoken.Claims, passtoken.Reason) {
	var sum [sha256.Size]byte
	cacheable := len(token) <= passtoken.MaxTokenLen
	if cacheable {
		sum = sha256.Sum256([]byte(token))
		if c, kid, ok := s.verified.get(sum); ok {
			if _, revoked := s.keys.revokedKey(kid); revoked {
				return c, passtoken.Revoked
			}
			return s.validAt(ctx, c, at)
		}
	}
	p, r := passtoken.Parse(token)
	if r != passtoken.OK {
		return nil, r
	}
	if key, revoked := s.keys.revokedKey(p.Header.Kid); revoked {
		if !p.SignedBy(key) {
			return nil, passtoken.BadSignature
		}
		return &p.Claims, passtoken.Revoked
	}
	key := s.keys.lookup(p.Header.Kid)
	if key == nil {
		return &p.Claims, passtoken.UnknownKey
	}
	if !p.SignedBy(key) {
		return nil, passtoken.BadSignature
	}
	if cacheable {
		s.verified.put(sum, p.Claims, p.Header.Kid)
	}
	return s.validAt(ctx, &p.Claims, at)
}

// validAt finishes Verify for a pass whose signature is good: its
// validity window at at, then the revocation list.
func (s *Service) validAt(ctx context.Context, c *passtoken.Claims, at time.Time) (*passtoken.Claims, passtoken.Reason) {
	if r := c.ValidAt(at); r != passtoken.OK {
		return c, r
	}
	revoked, err := s.revs.has(ctx, c.PID)
	if err != nil {
		s.log.ErrorContext(ctx, "pass: reading the revocation list failed", "err", err.Error())
	}
	if revoked {
		return c, passtoken.Revoked
	}
	return c, passtoken.OK
}

// Revocation is one entry of the revocation list.
type Revocation struct {
	Seq       int64     `json:"seq"`
	PID       string    `json:"pid"`
	Kid       string    `json:"kid"`
	RevokedAt time.Time `json:"revoked_at"`
}

// RevocationList is a page of the revocation list after a seq: the
// entries in seq order, the seq to ask from next, whether more follow,
// and the ids of revoked keys (every pass they signed is revoked).
type RevocationList struct {
	Items       []Revocation `json:"items"`
	Next        int64        `json:"next"`
	More        bool         `json:"more"`
	RevokedKeys []string     `json:"revoked_keys"`
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

// RevocationTag is the ETag the page after since would have now.
func (s *Service) RevocationTag(ctx context.Context, since int64, limit int) (string, error) {
	var tag string
	err := s.db.Read(ctx, func(tx *db.Tx) (err error) {
		tag, err = revocationTag(ctx, tx, since, limit)
		return err
	})
	return tag, errs.Wrap("pass.RevocationTag", err)
}

// Revocations is the public revocation list after seq since, at most
// limit entries, with its ETag. It needs no login: it names pass ids and
// key ids only.
func (s *Service) Revocations(ctx context.Context, since int64, limit int) (*RevocationList, string, error) {
	const op = "pass.Revocations"
	if limit <= 0 || limit > MaxRevocationPage {
		limit = MaxRevocationPage
	}
	out := &RevocationList{Items: []Revocation{}, Next: since, RevokedKeys: []string{}}
	var tag string
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		var err error
		if tag, err = revocationTag(ctx, tx, since, limit); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT seq, pid, kid, revoked_at FROM pass_revocations WHERE seq > $1 ORDER BY seq LIMIT $2`,
			since, limit+1)
		if err != nil {
			return fmt.Errorf("pass: revocations: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var r Revocation
			var at int64
			if err := rows.Scan(&r.Seq, &r.PID, &r.Kid, &at); err != nil {
				return err
			}
			if len(out.Items) == limit {
				out.More = true
				break
			}
			r.RevokedAt = clock.FromMillis(at)
			out.Items = append(out.Items, r)
			out.Next = r.Seq
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		krows, err := tx.QueryContext(ctx, `SELECT kid FROM pass_keys WHERE revoked_at IS NOT NULL ORDER BY kid`)
		if err != nil {
			return fmt.Errorf("pass: revoked keys: %w", err)
		}
		defer krows.Close()
		for krows.Next() {
			var kid string
			if err := krows.Scan(&kid); err != nil {
				return err
			}
			out.RevokedKeys = append(out.RevokedKeys, kid)
		}
		return krows.Err()
	})
	if err != nil {
		return nil, "", errs.Wrap(op, err)
	}
	return out, tag, nil
}

// JWKS is the published key set: every key not revoked that signs, or
// that signed a pass not yet expired. It needs no login.
func (s *Service) JWKS(ctx context.Context) (*JWKSet, error) {
	snap, err := s.keys.refresh(ctx)
	if err != nil {
		return nil, errs.Wrap("pass.JWKS", err)
	}
	now := s.clock.Now()
	set := &JWKSet{Keys: []JWK{}}
	for _, k := range snap.infos {
		if published(k, now) {
			set.Keys = append(set.Keys, JWK{Kty: "OKP", Crv: "Ed25519", X: k.X, Kid: k.Kid, Use: "sig", Alg: "EdDSA"})
		}
	}
	return set, nil
}

// ListKeys lists every signing key, newest first (the command line).
func (s *Service) ListKeys(ctx context.Context) ([]KeyInfo, error) {
	snap, err := s.keys.refresh(ctx)
	if err != nil {
		return nil, errs.Wrap("pass.ListKeys", err)
	}
	now := s.clock.Now()
	out := make([]KeyInfo, len(snap.infos))
	signing := false
	for i, k := range snap.infos {
		k.Published = published(k, now)
		if !signing && k.RetiredAt == nil && k.RevokedAt == nil {
			k.Signing, signing = true, true
		}
		k.HasPrivate = s.keys.hasPrivate(k.Kid)
		out[i] = k
	}
	return out, nil
}

// Rotate adds a new signing key; the old ones stop signing and stay
// published until the last pass they signed has expired (the command
// line, as the system).
func (s *Service) Rotate(ctx context.Context) (*KeyInfo, error) {
	const op = "pass.Rotate"
	var kid string
	err := s.db.Write(ctx, func(tx *db.Tx) error {
		if err := lock(ctx, tx, "keys"); err != nil {
			return err
		}
		var err error
		if kid, _, err = s.keys.addKey(ctx, tx); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: "system", Action: "pass.key_rotate", ObjectType: "pass_key", ObjectID: kid,
			Summary: "启用新的通行证签发密钥 " + kid + "，旧密钥停止签发"})
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return s.keyInfo(ctx, kid)
}

func (s *Service) keyInfo(ctx context.Context, kid string) (*KeyInfo, error) {
	list, err := s.ListKeys(ctx)
	if err != nil {
		return nil, err
	}
	for i := range list {
		if list[i].Kid == kid {
			return &list[i], nil
		}
	}
	return nil, errs.E(errs.NotFound, "key_not_found", "签发密钥不存在")
}

// RevokeKey revokes a leaked key and every active pass it signed, each
// with a revocation entry; its private key file is deleted. The next
// issue creates a new signing key if this one was signing.
func (s *Service) RevokeKey(ctx context.Context, kid, reason string) (int, error) {
	const op = "pass.RevokeKey"
	kid = strings.TrimSpace(kid)
	reason = strings.TrimSpace(reason)
	if reason == "" {
		reason = "签发密钥泄露"
	}
	if msg := errs.CheckLine(reason, MaxReasonLen, true); msg != "" {
		return 0, errs.Wrap(op, errs.Fields("invalid_reason", "吊销理由有误", errs.FieldError{Field: "reason", Message: msg}))
	}
	var n int
	err := s.db.Write(ctx, func(tx *db.Tx) error {
		if err := lock(ctx, tx, "keys"); err != nil {
			return err
		}
		var revoked sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT revoked_at FROM pass_keys WHERE kid = $1`, kid).Scan(&revoked)
		if noRows(err) {
			return errs.E(errs.NotFound, "key_not_found", "签发密钥 "+kid+" 不存在")
		}
		if err != nil {
			return fmt.Errorf("pass: revoke key: %w", err)
		}
		if revoked.Valid {
			return errs.E(errs.Conflict, "key_revoked", "签发密钥 "+kid+" 已吊销")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE pass_keys SET revoked_at = $1, retired_at = COALESCE(retired_at, $1),
			revoked_by = 'system' WHERE kid = $2`, tx.NowMS(), kid); err != nil {
			return fmt.Errorf("pass: revoke key: %w", err)
		}
		if n, err = revokeWhere(ctx, tx, "system", "kid = $1", kid, reason); err != nil {
			return err
		}
		tx.AfterCommit(func() {
			s.revs.invalidate()
			s.keys.forget(kid)
			s.keys.refreshLater()
		})
		return audit.Record(ctx, tx, audit.Entry{Actor: "system", Action: "pass.key_revoke", ObjectType: "pass_key", ObjectID: kid,
			Summary: fmt.Sprintf("吊销通行证签发密钥 %s 及其签发的有效通行证 %d 张：%s", kid, n, reason)})
	})
	if err != nil {
		return 0, errs.Wrap(op, err)
	}
	return n, nil
}
