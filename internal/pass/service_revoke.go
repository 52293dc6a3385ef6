package pass

import (
	"context"
	"fmt"
	"strings"

	"tongxin/internal/audit"
	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/notify"
)

// checkReason trims a reviewer's reason and refuses an empty or overlong
// one (invalid_reason) with ask, the message that asks for it.
func checkReason(reason, ask string) (string, error) {
	reason = strings.TrimSpace(reason)
	if msg := errs.CheckLine(reason, MaxReasonLen, true); msg != "" {
		return "", errs.Fields("invalid_reason", ask, errs.FieldError{Field: "reason", Message: msg})
	}
	return reason, nil
}

// Revoke revokes one pass with a reason: it joins the revocation list.
func (s *Service) Revoke(ctx context.Context, p *auth.Principal, pid string, in ReasonInput) (*Pass, error) {
	const op = "pass.Revoke"
	if err := auth.Require(p, auth.PassReview, op); err != nil {
		return nil, err
	}
	reason, err := checkReason(in.Reason, "请填写吊销理由")
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	if !validPID(pid) {
		return nil, errs.Wrap(op, errPassNotFound())
	}
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		if err := lock(ctx, tx, "revocations"); err != nil {
			return err
		}
		v, err := passForRevoke(ctx, tx, pid)
		if noRows(err) || (err == nil && !p.Covers(auth.PassReview, v.path)) {
			return errPassNotFound()
		}
		if err != nil {
			return fmt.Errorf("pass: revoke: %w", err)
		}
		if v.status != string(StatusActive) {
			return errs.E(errs.Conflict, "pass_revoked", "该通行证已吊销")
		}
		if err := revokePass(ctx, tx, pid, v.kid, reason, p.Actor()); err != nil {
			return err
		}
		tx.AfterCommit(s.verifier.revoked)
		entKey, entName, path, name := v.entKey, v.entName, v.path, v.name
		if err := audit.Record(ctx, tx, audit.Entry{ActorID: p.UserID, Actor: p.Actor(), Action: "pass.revoke",
			ObjectType: "pass", ObjectID: pid, AreaCode: areaOfPath(path),
			Summary: fmt.Sprintf("吊销 %s 的通行证 %s（%s）：%s", entName, pid, name, reason)}); err != nil {
			return err
		}
		return s.notifyEnterprise(ctx, tx, entKey, notify.Message{Event: EventRevoked, Title: "通行证已吊销",
			Body: fmt.Sprintf("%s 的通行证 %s（%s）已吊销。理由：%s", entName, pid, name, reason),
			Link: "/pass-batches", ObjectType: "pass", ObjectID: pid, AreaPath: path})
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	list, err := s.passes(ctx, func(tx *db.Tx) ([]sealedPass, error) { return passByPID(ctx, tx, pid) }, false)
	if err != nil || len(list) == 0 {
		return nil, errs.Wrap(op, err)
	}
	return &list[0], nil
}

// areaOfPath is the last code of an area path.
func areaOfPath(path string) string {
	codes := strings.Split(strings.Trim(path, "/"), "/")
	return codes[len(codes)-1]
}

// RevokeResult counts the passes a bulk revocation revoked.
type RevokeResult struct {
	Revoked int `json:"revoked"`
}

// RevokeEnterprise revokes every active pass of an enterprise.
func (s *Service) RevokeEnterprise(ctx context.Context, p *auth.Principal, key string, in ReasonInput) (*RevokeResult, error) {
	const op = "pass.RevokeEnterprise"
	if err := auth.Require(p, auth.PassReview, op); err != nil {
		return nil, err
	}
	reason, err := checkReason(in.Reason, "请填写吊销理由")
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	key = normalizeKey(key)
	sub, err := s.subjectOf(ctx, key)
	if err == nil && !p.Covers(auth.PassReview, sub.Area.Path) {
		err = errEnterpriseNotFound()
	}
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	res := &RevokeResult{}
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		n, err := revokeWhere(ctx, tx, p.Actor(), "enterprise_key = $1", key, reason)
		if err != nil {
			return err
		}
		tx.AfterCommit(s.verifier.revoked)
		res.Revoked = n
		if err := audit.Record(ctx, tx, audit.Entry{ActorID: p.UserID, Actor: p.Actor(), Action: "pass.revoke_enterprise",
			ObjectType: "enterprise", ObjectID: key, AreaCode: sub.Area.Code,
			Summary: fmt.Sprintf("吊销 %s 的全部有效通行证 %d 张：%s", sub.Name, n, reason)}); err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		return s.notifyEnterprise(ctx, tx, key, notify.Message{Event: EventRevoked, Title: "全部通行证已吊销",
			Body: fmt.Sprintf("%s 的全部有效通行证 %d 张已吊销。理由：%s", sub.Name, n, reason),
			Link: "/pass-batches", ObjectType: "enterprise", ObjectID: key, AreaPath: sub.Area.Path})
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return res, nil
}
