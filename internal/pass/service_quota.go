package pass

import (
	"context"
	"fmt"

	"tongxin/internal/audit"
	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/errs"
)

// GetQuota returns an enterprise's quota and its use.
func (s *Service) GetQuota(ctx context.Context, p *auth.Principal, key string) (*Quota, error) {
	const op = "pass.GetQuota"
	v, err := reads(p, op)
	if err != nil {
		return nil, err
	}
	key = normalizeKey(key)
	sub, err := s.subjectOf(ctx, key)
	if err == nil && !v.covers(key, sub.Area.Path) {
		err = errEnterpriseNotFound()
	}
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	q := &Quota{Enterprise: key}
	err = s.db.Read(ctx, func(tx *db.Tx) error {
		var err error
		if q.Quota, q.Default, err = quotaOf(ctx, tx, key, sub.Employees); err != nil {
			return err
		}
		q.Active, err = activeCount(ctx, tx, key)
		return err
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return q, nil
}

// QuotaInput sets a quota; nil returns to the default (employees).
type QuotaInput struct {
	Quota *int `json:"quota"`
}

// SetQuota sets an enterprise's quota (reviewers over its area).
func (s *Service) SetQuota(ctx context.Context, p *auth.Principal, key string, in QuotaInput) (*Quota, error) {
	const op = "pass.SetQuota"
	if err := auth.Require(p, auth.PassReview, op); err != nil {
		return nil, err
	}
	if in.Quota != nil && (*in.Quota < 0 || *in.Quota > 1000000) {
		return nil, errs.Wrap(op, errs.Fields("invalid_quota", "配额须为 0 到 1000000 之间的整数",
			errs.FieldError{Field: "quota", Message: "须为 0 到 1000000"}))
	}
	key = normalizeKey(key)
	sub, err := s.subjectOf(ctx, key)
	if err == nil && !p.Covers(auth.PassReview, sub.Area.Path) {
		err = errEnterpriseNotFound()
	}
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		summary := fmt.Sprintf("%s 的通行证配额恢复为职工人数 %d", sub.Name, sub.Employees)
		if in.Quota == nil {
			if err := deleteQuota(ctx, tx, key); err != nil {
				return err
			}
		} else {
			if err := setQuota(ctx, tx, key, *in.Quota, p.Actor()); err != nil {
				return err
			}
			summary = fmt.Sprintf("%s 的通行证配额设为 %d", sub.Name, *in.Quota)
		}
		return audit.Record(ctx, tx, audit.Entry{ActorID: p.UserID, Actor: p.Actor(), Action: "pass.quota",
			ObjectType: "enterprise", ObjectID: key, AreaCode: sub.Area.Code, Summary: summary})
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return s.GetQuota(ctx, p, key)
}
