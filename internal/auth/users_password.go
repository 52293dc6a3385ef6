package auth

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"tongxin/internal/audit"
	"tongxin/internal/db"
	"tongxin/internal/errs"
)

// SetPassword is a manager's reset of a user's password (or the command
// line's). The actor must manage the user; the password must pass the
// policy. Every API token of the user is revoked and every session ended,
// the actor's own included when resetting their own password this way.
func (s *Service) SetPassword(ctx context.Context, actor *Principal, username, password string) error {
	const op = "auth.SetPassword"
	if err := Require(actor, UserManage, op); err != nil {
		return err
	}
	return errs.Wrap(op, s.db.Write(ctx, func(tx *db.Tx) error {
		row, err := s.manageableUser(ctx, tx, actor, username)
		if err != nil {
			return err
		}
		return s.replacePassword(ctx, tx, actor, row, password, "", "重置密码")
	}))
}

// ChangePassword is a user's change of their own password: the current
// password must be given and right. Every API token of the user is revoked
// and every other session ended; the session keepSession (the one making
// the change, "" for none) stays open.
func (s *Service) ChangePassword(ctx context.Context, actor *Principal, current, password, keepSession string) error {
	const op = "auth.ChangePassword"
	if actor == nil || actor.IsSystem() {
		return &errs.Error{Kind: errs.Unauthorized, Code: "unauthenticated", Op: op, Message: "请先登录"}
	}
	return errs.Wrap(op, s.db.Write(ctx, func(tx *db.Tx) error {
		row, err := getUserByName(ctx, tx, actor.Username)
		if err != nil {
			return err
		}
		if !CheckPassword(row.passwordHash, current) {
			return &errs.Error{Kind: errs.Invalid, Code: "bad_current_password", Message: "当前密码不正确",
				Fields: []errs.FieldError{{Field: "current_password", Message: "当前密码不正确"}}}
		}
		u := row.User
		keep := ""
		if keepSession != "" {
			keep = hashSecret(keepSession)
		}
		return s.replacePassword(ctx, tx, actor, &u, password, keep, "修改本人密码")
	}))
}

// replacePassword checks the policy, stores the new hash, revokes the
// user's API tokens and ends their sessions but the one whose hash is
// keep, drops their cached principals on commit, and audits.
func (s *Service) replacePassword(ctx context.Context, tx *db.Tx, actor *Principal, u *User, password, keep, what string) error {
	const op = "auth.replacePassword"
	if err := CheckPasswordPolicy(u.Username, u.DisplayName, password); err != nil {
		return err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3`, hash, tx.NowMS(), u.ID); err != nil {
		return errs.Wrap(op, err)
	}
	res, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL`, tx.NowMS(), u.ID)
	if err != nil {
		return errs.Wrap(op, err)
	}
	revoked, _ := res.RowsAffected()
	if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2`, u.ID, keep); err != nil {
		return errs.Wrap(op, err)
	}
	id := u.ID
	tx.AfterCommit(func() { s.cache.dropUser(id) })
	summary := fmt.Sprintf("%s，吊销其 %d 个 API 令牌并结束其全部会话", what, revoked)
	if keep != "" {
		summary = fmt.Sprintf("%s，吊销其 %d 个 API 令牌并结束其他会话", what, revoked)
	}
	return audit.Record(ctx, tx, audit.Entry{ActorID: actor.UserID, Actor: actor.Actor(), Action: "user.password",
		ObjectType: "user", ObjectID: u.Username, Summary: summary})
}

// RevealPhone shows a user's full phone number to an actor with the reveal
// permission over the user, for a stated reason, and audits it.
func (s *Service) RevealPhone(ctx context.Context, actor *Principal, username, reason string) (string, error) {
	const op = "auth.RevealPhone"
	// An account's phone is revealed to those who may read the account:
	// pii.reveal alone (a community worker's, for the residents of the
	// tickets they handle) does not reach the staff of their area.
	if err := Require(actor, PIIReveal, op); err != nil {
		return "", err
	}
	if err := Require(actor, UserRead, op); err != nil {
		return "", err
	}
	reason = strings.TrimSpace(reason)
	if utf8.RuneCountInString(reason) < 4 {
		return "", errs.E(errs.Invalid, "reason_required", "查看完整信息须填写理由（至少 4 个字）")
	}
	var phone string
	err := s.db.Write(ctx, func(tx *db.Tx) error {
		if _, err := s.visibleUser(ctx, tx, actor, UserRead, username); err != nil {
			return err
		}
		u, err := s.visibleUser(ctx, tx, actor, PIIReveal, username)
		if err != nil {
			return err
		}
		row, err := getUserByName(ctx, tx, u.Username)
		if err != nil {
			return err
		}
		phone, err = s.box.Open(row.phoneEnc)
		if err != nil {
			return errs.Wrap(op, err)
		}
		return audit.Record(ctx, tx, audit.Entry{ActorID: actor.UserID, Actor: actor.Actor(), Action: "pii.reveal",
			ObjectType: "user", ObjectID: u.Username, Summary: "查看完整手机号，理由：" + reason})
	})
	return phone, errs.Wrap(op, err)
}
