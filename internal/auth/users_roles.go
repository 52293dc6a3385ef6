package auth

import (
	"context"
	"fmt"
	"strings"

	"tongxin/internal/audit"
	"tongxin/internal/db"
	"tongxin/internal/errs"
)

func (s *Service) addRole(ctx context.Context, tx *db.Tx, actor *Principal, userID int64, username string, in RoleInput) error {
	role := Role(strings.TrimSpace(in.Role))
	if !ValidRole(role) {
		return errs.Newf(errs.Invalid, "bad_role", "角色 %q 不存在", in.Role)
	}
	scope, err := ParseScope(in.Scope)
	if err != nil {
		return err
	}
	want := roleScope[role]
	if scope.Kind != want.kind {
		return errs.Newf(errs.Invalid, "bad_scope", "角色 %s 须绑定到%s，而不是%s", role, scopeKindNames[want.kind], scopeKindNames[scope.Kind])
	}
	name, path, level, err := s.resolveScope(ctx, tx, scope)
	if err != nil {
		return err
	}
	if len(want.levels) > 0 && !containsStr(want.levels, level) {
		return errs.Newf(errs.Invalid, "bad_scope", "角色 %s 须绑定到%s级区划，%s（%s）是%s级", role, levelList(want.levels), name, scope.Ref, levelNames[level])
	}
	if !actor.Covers(UserManage, path) {
		return errs.Newf(errs.Forbidden, "forbidden", "无权在 %s 范围内分配角色", name)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO role_assignments (user_id, role, scope_kind, scope_ref, scope_name, scope_path, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		userID, role, scope.Kind, scope.Ref, name, path, tx.NowMS())
	if tx.Dialect.IsUniqueViolation(err) {
		return errs.Newf(errs.Conflict, "role_exists", "用户 %s 已有角色 %s（%s）", username, role, scope)
	}
	if err != nil {
		return errs.Wrap("auth.addRole", err)
	}
	areaCode := ""
	if scope.Kind == ScopeArea {
		areaCode = scope.Ref
	}
	return audit.Record(ctx, tx, audit.Entry{ActorID: actor.UserID, Actor: actor.Actor(), Action: "user.role.add",
		ObjectType: "user", ObjectID: username, AreaCode: areaCode, Summary: fmt.Sprintf("分配角色 %s，范围 %s（%s）", role, scope, name)})
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// AddRole binds one more role to an existing user.
func (s *Service) AddRole(ctx context.Context, actor *Principal, username string, in RoleInput) (*User, error) {
	const op = "auth.AddRole"
	if err := Require(actor, UserManage, op); err != nil {
		return nil, err
	}
	var u *User
	err := s.db.Write(ctx, func(tx *db.Tx) error {
		row, err := s.manageableUser(ctx, tx, actor, username)
		if err != nil {
			return err
		}
		if err := s.addRole(ctx, tx, actor, row.ID, row.Username, in); err != nil {
			return err
		}
		id := row.ID
		tx.AfterCommit(func() { s.cache.dropUser(id) })
		u, err = s.getUser(ctx, tx, row.Username)
		return err
	})
	return u, errs.Wrap(op, err)
}

// RemoveRole withdraws one role from a user. The actor must manage the
// user (every role the user holds, the removed one included). The last
// role is not removed: an account without roles can do nothing and only
// the command line could see it again; disable the account instead.
func (s *Service) RemoveRole(ctx context.Context, actor *Principal, username string, in RoleInput) (*User, error) {
	const op = "auth.RemoveRole"
	if err := Require(actor, UserManage, op); err != nil {
		return nil, err
	}
	role := Role(strings.TrimSpace(in.Role))
	if !ValidRole(role) {
		return nil, errs.Newf(errs.Invalid, "bad_role", "角色 %q 不存在", in.Role)
	}
	scope, err := ParseScope(in.Scope)
	if err != nil {
		return nil, err
	}
	var u *User
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		row, err := s.manageableUser(ctx, tx, actor, username)
		if err != nil {
			return err
		}
		var held *Assignment
		for i, a := range row.Roles {
			if a.Role == role && a.Scope.Kind == scope.Kind && a.Scope.Ref == scope.Ref {
				held = &row.Roles[i]
			}
		}
		if held == nil {
			return errs.Newf(errs.NotFound, "role_not_found", "用户 %s 没有角色 %s（%s）", row.Username, role, scope)
		}
		if len(row.Roles) == 1 {
			return errs.E(errs.Conflict, "last_role", "不能移除用户的最后一个角色；如需收回其全部权限，请停用账号")
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM role_assignments WHERE user_id = $1 AND role = $2 AND scope_kind = $3 AND scope_ref = $4`,
			row.ID, role, scope.Kind, scope.Ref); err != nil {
			return errs.Wrap(op, err)
		}
		id := row.ID
		tx.AfterCommit(func() { s.cache.dropUser(id) })
		areaCode := ""
		if scope.Kind == ScopeArea {
			areaCode = scope.Ref
		}
		if err := audit.Record(ctx, tx, audit.Entry{ActorID: actor.UserID, Actor: actor.Actor(), Action: "user.role.remove",
			ObjectType: "user", ObjectID: row.Username, AreaCode: areaCode,
			Summary: fmt.Sprintf("移除角色 %s，范围 %s（%s）", role, scope, held.Scope.Name)}); err != nil {
			return err
		}
		u, err = s.getUser(ctx, tx, row.Username)
		return err
	})
	return u, errs.Wrap(op, err)
}
