package pass

import (
	"context"
	"fmt"
	"strings"

	"tongxin/internal/audit"
	"tongxin/internal/db"
	"tongxin/internal/errs"
)

// JWKS is the published key set: every key not revoked that signs, or
// that signed a pass not yet expired. It needs no login.
func (s *Service) JWKS(ctx context.Context) (*JWKSet, error) {
	snap, err := s.verifier.keys.refresh(ctx)
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
	snap, err := s.verifier.keys.refresh(ctx)
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
		k.HasPrivate = s.verifier.keys.hasPrivate(k.Kid)
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
		if kid, _, err = s.verifier.keys.addKey(ctx, tx); err != nil {
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
		revoked, err := keyRevokedAt(ctx, tx, kid)
		if noRows(err) {
			return errs.E(errs.NotFound, "key_not_found", "签发密钥 "+kid+" 不存在")
		}
		if err != nil {
			return fmt.Errorf("pass: revoke key: %w", err)
		}
		if revoked.Valid {
			return errs.E(errs.Conflict, "key_revoked", "签发密钥 "+kid+" 已吊销")
		}
		if err := markKeyRevoked(ctx, tx, kid); err != nil {
			return err
		}
		if n, err = revokeWhere(ctx, tx, "system", "kid = $1", kid, reason); err != nil {
			return err
		}
		tx.AfterCommit(func() {
			s.verifier.revoked()
			s.verifier.keys.forget(kid)
			s.verifier.keys.refreshLater()
		})
		return audit.Record(ctx, tx, audit.Entry{Actor: "system", Action: "pass.key_revoke", ObjectType: "pass_key", ObjectID: kid,
			Summary: fmt.Sprintf("吊销通行证签发密钥 %s 及其签发的有效通行证 %d 张：%s", kid, n, reason)})
	})
	if err != nil {
		return 0, errs.Wrap(op, err)
	}
	return n, nil
}
