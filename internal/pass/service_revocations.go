package pass

import (
	"context"
	"time"

	"tongxin/internal/db"
	"tongxin/internal/errs"
)

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
		list, err := revocationPage(ctx, tx, since, limit+1)
		if err != nil {
			return err
		}
		if len(list) > limit {
			out.More, list = true, list[:limit]
		}
		if len(list) > 0 {
			out.Items, out.Next = list, list[len(list)-1].Seq
		}
		kids, err := revokedKids(ctx, tx)
		if len(kids) > 0 {
			out.RevokedKeys = kids
		}
		return err
	})
	if err != nil {
		return nil, "", errs.Wrap(op, err)
	}
	return out, tag, nil
}
