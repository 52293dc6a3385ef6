package resumption

import (
	"context"
	"fmt"

	"tongxin/internal/db"
	"tongxin/internal/errs"
)

// ResolveScope is the auth.ScopeResolver of "enterprise:KEY" role scopes:
// the enterprise's name and area path.
func (s *Service) ResolveScope(ctx context.Context, tx *db.Tx, ref string) (name, path string, err error) {
	name, path, err = scopeOf(ctx, tx, ref)
	if err == nil || !errs.Is(err, errs.NotFound) {
		return name, path, err
	}
	msg := fmt.Sprintf("企业 %s 不存在", ref)
	if c := lookupKey(ref); c != ref {
		if _, _, err2 := scopeOf(ctx, tx, c); err2 == nil {
			msg += fmt.Sprintf("（请写作 %s）", c)
		}
	}
	return "", "", errs.E(errs.Invalid, "scope_not_found", msg)
}

// EnterpriseSubject tells the ticket module about the enterprise a ticket is
// about: its name, its area and the user ids of its liaisons. It does not
// authorize: filing a problem about an enterprise reveals nothing of it.
func (s *Service) EnterpriseSubject(ctx context.Context, key string) (name, areaCode string, liaisons []int64, err error) {
	const op = "resumption.EnterpriseSubject"
	err = s.db.Read(ctx, func(tx *db.Tx) (err error) {
		name, areaCode, liaisons, err = enterpriseSubject(ctx, tx, lookupKey(key))
		return err
	})
	return name, areaCode, liaisons, errs.Wrap(op, err)
}

// PassSubject tells the pass module about the enterprise a pass batch is
// for: its name, its area and its registered employees (the default quota
// of its passes). It does not authorize: the pass module decides who may
// apply for whom.
func (s *Service) PassSubject(ctx context.Context, key string) (name, areaCode string, employees int, err error) {
	const op = "resumption.PassSubject"
	err = s.db.Read(ctx, func(tx *db.Tx) (err error) {
		name, areaCode, employees, err = passSubject(ctx, tx, lookupKey(key))
		return err
	})
	return name, areaCode, employees, errs.Wrap(op, err)
}
