package resumption

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"tongxin/internal/audit"
	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/errs"
)

// liaisonUser looks up username and checks that it holds the liaison role.
func (s *Service) liaisonUser(ctx context.Context, username string, mustBeLiaison bool) (int64, error) {
	id, roles, err := s.users.LookupUser(ctx, username)
	if err != nil {
		return 0, err
	}
	if mustBeLiaison && !slices.ContainsFunc(roles, func(a auth.Assignment) bool { return a.Role == auth.Liaison }) {
		return 0, &errs.Error{Kind: errs.Invalid, Code: "not_a_liaison", Message: fmt.Sprintf("用户 %s 没有驻企联络员（liaison）角色", username),
			Fields: []errs.FieldError{{Field: "username", Message: "不是驻企联络员"}}}
	}
	return id, nil
}

// managed loads the enterprise with key for a change that needs
// ResumptionManage over its area: NotFound when it is out of reach.
func (s *Service) managed(ctx context.Context, tx *db.Tx, p *auth.Principal, key, op string) (*Enterprise, error) {
	e, err := s.enterpriseTx(ctx, tx, visibility{all: true}, lookupKey(key))
	if err != nil {
		return nil, err
	}
	if err := auth.Authorize(p, auth.ResumptionManage, e.AreaPath, op, errEnterpriseNotFound()); err != nil {
		return nil, err
	}
	return e, nil
}

// AssignLiaison stations the liaison username at the enterprise with key.
// Conflict if already assigned.
func (s *Service) AssignLiaison(ctx context.Context, p *auth.Principal, key, username string) (*Enterprise, error) {
	const op = "resumption.AssignLiaison"
	if err := auth.Require(p, auth.ResumptionManage, op); err != nil {
		return nil, err
	}
	username = strings.ToLower(strings.TrimSpace(username))
	userID, err := s.liaisonUser(ctx, username, true)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	var e *Enterprise
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		cur, err := s.managed(ctx, tx, p, key, op)
		if err != nil {
			return err
		}
		if slices.Contains(cur.Liaisons, username) {
			return errs.Newf(errs.Conflict, "liaison_exists", "%s 已是 %s 的驻企联络员", username, cur.Name)
		}
		if err := insertLiaison(ctx, tx, cur.ID, userID); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, audit.Entry{ActorID: p.UserID, Actor: p.Actor(), Action: "liaison.assign",
			ObjectType: "enterprise", ObjectID: cur.Key, AreaCode: cur.AreaCode,
			Summary: fmt.Sprintf("为 %s（%s）分配驻企联络员 %s", cur.Name, cur.Key, username)}); err != nil {
			return err
		}
		e, err = s.enterpriseTx(ctx, tx, visibility{all: true}, cur.Key)
		return err
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return e, nil
}

// UnassignLiaison removes the liaison username from the enterprise with
// key. NotFound if not assigned.
func (s *Service) UnassignLiaison(ctx context.Context, p *auth.Principal, key, username string) (*Enterprise, error) {
	const op = "resumption.UnassignLiaison"
	if err := auth.Require(p, auth.ResumptionManage, op); err != nil {
		return nil, err
	}
	username = strings.ToLower(strings.TrimSpace(username))
	userID, err := s.liaisonUser(ctx, username, false)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	var e *Enterprise
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		cur, err := s.managed(ctx, tx, p, key, op)
		if err != nil {
			return err
		}
		removed, err := deleteLiaison(ctx, tx, cur.ID, userID)
		if err != nil {
			return err
		}
		if !removed {
			return errs.Newf(errs.NotFound, "liaison_not_assigned", "%s 不是 %s 的驻企联络员", username, cur.Name)
		}
		if err := audit.Record(ctx, tx, audit.Entry{ActorID: p.UserID, Actor: p.Actor(), Action: "liaison.unassign",
			ObjectType: "enterprise", ObjectID: cur.Key, AreaCode: cur.AreaCode,
			Summary: fmt.Sprintf("取消 %s 在 %s（%s）的驻企联络员分配", username, cur.Name, cur.Key)}); err != nil {
			return err
		}
		e, err = s.enterpriseTx(ctx, tx, visibility{all: true}, cur.Key)
		return err
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return e, nil
}
