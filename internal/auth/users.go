package auth

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"tongxin/internal/audit"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/pii"
)

// User is an account as shown to those who may see it. Phone is masked.
type User struct {
	ID          int64        `json:"-"`
	Username    string       `json:"username"`
	DisplayName string       `json:"display_name"`
	Phone       string       `json:"phone,omitempty"`
	Status      string       `json:"status"`
	Roles       []Assignment `json:"roles"`
	CreatedAt   int64        `json:"-"`
	UpdatedAt   int64        `json:"-"`
}

// NewUser is the input of CreateUser.
type NewUser struct {
	Username    string
	DisplayName string
	Phone       string
	Password    string
	Roles       []RoleInput
}

// RoleInput is a role and a scope as typed ("430203", "department:gxj").
type RoleInput struct {
	Role  string `json:"role"`
	Scope string `json:"scope"`
}

var usernameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{2,31}$`)

// CreateUser adds an account with at least one role. The actor must manage
// users over every scope it grants.
func (s *Service) CreateUser(ctx context.Context, actor *Principal, in NewUser) (*User, error) {
	const op = "auth.CreateUser"
	if err := Require(actor, UserManage, op); err != nil {
		return nil, err
	}
	in.Username = strings.ToLower(strings.TrimSpace(in.Username))
	in.DisplayName = strings.TrimSpace(in.DisplayName)
	var fields []errs.FieldError
	if !usernameRE.MatchString(in.Username) {
		fields = append(fields, errs.FieldError{Field: "username", Message: "用户名须为 3–32 位小写字母、数字或 _ . -，以字母或数字开头"})
	}
	if n := utf8.RuneCountInString(in.DisplayName); n == 0 || n > 50 {
		fields = append(fields, errs.FieldError{Field: "display_name", Message: "姓名须为 1–50 个字符"})
	}
	if err := CheckPasswordPolicy(in.Username, in.DisplayName, in.Password); err != nil {
		fields = append(fields, errs.FieldError{Field: "password", Message: errs.As(err).Message})
	}
	var phone string
	if in.Phone != "" {
		p, err := pii.NormalizePhone(in.Phone)
		if err != nil {
			fields = append(fields, errs.FieldError{Field: "phone", Message: err.Error()})
		}
		phone = p
	}
	if len(in.Roles) == 0 {
		fields = append(fields, errs.FieldError{Field: "roles", Message: "至少指定一个角色"})
	}
	if len(fields) > 0 {
		return nil, &errs.Error{Kind: errs.Invalid, Code: "invalid_user", Op: op, Message: fields[0].Message, Fields: fields}
	}
	hash, err := HashPassword(in.Password)
	if err != nil {
		return nil, err
	}
	phoneEnc, err := s.box.Seal(phone)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	var u *User
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		var phoneIdx any
		if phone != "" {
			phoneIdx = s.box.Index("phone", phone)
		}
		var id int64
		err := tx.QueryRowContext(ctx, `INSERT INTO users (username, display_name, phone_enc, phone_idx, password_hash, status, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, 'active', $6, $6) RETURNING id`,
			in.Username, in.DisplayName, phoneEnc, phoneIdx, hash, tx.NowMS()).Scan(&id)
		if tx.Dialect.IsUniqueViolation(err) {
			return errs.Newf(errs.Conflict, "username_taken", "用户名 %s 已被使用", in.Username)
		}
		if err != nil {
			return errs.Wrap(op, err)
		}
		summary := fmt.Sprintf("新建用户 %s（%s）", in.Username, pii.MaskName(in.DisplayName))
		if phone != "" {
			summary += "，手机 " + pii.MaskPhone(phone)
		}
		if err := audit.Record(ctx, tx, audit.Entry{ActorID: actor.UserID, Actor: actor.Actor(), Action: "user.create",
			ObjectType: "user", ObjectID: in.Username, Summary: summary}); err != nil {
			return err
		}
		for _, r := range in.Roles {
			if err := s.addRole(ctx, tx, actor, id, in.Username, r); err != nil {
				return err
			}
		}
		got, err := s.getUser(ctx, tx, in.Username)
		u = got
		return err
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return u, nil
}

// manageableUser loads a user the actor may manage: the actor's user.manage
// scopes must cover every role the user holds (a user who also holds a role
// elsewhere, say a city-wide commander, is out of a district admin's
// reach). A user the actor cannot see at all (user.read or user.manage over
// none of the user's roles) is NotFound, as GET /users/{username} answers;
// one the actor sees but cannot fully manage is Forbidden, code
// user_out_of_reach. A user without roles is manageable only by an
// unrestricted actor (the command line).
func (s *Service) manageableUser(ctx context.Context, tx *db.Tx, actor *Principal, username string) (*User, error) {
	u, err := s.getUser(ctx, tx, strings.ToLower(strings.TrimSpace(username)))
	if err != nil {
		return nil, err
	}
	if !userVisible(actor, UserRead, u) && !userVisible(actor, UserManage, u) {
		return nil, errs.E(errs.NotFound, "user_not_found", "用户不存在")
	}
	if !userManageable(actor, u) {
		return nil, errs.Newf(errs.Forbidden, "user_out_of_reach", "用户 %s 还持有您管理范围以外的角色，您无权管理该账号", u.Username)
	}
	return u, nil
}

func userManageable(actor *Principal, u *User) bool {
	if _, all := actor.AreaPaths(UserManage); all {
		return true
	}
	if len(u.Roles) == 0 {
		return false
	}
	for _, a := range u.Roles {
		if !actor.Covers(UserManage, a.Scope.Path) {
			return false
		}
	}
	return true
}

// visibleUser loads a user the actor may see with perm: one with no role
// yet is visible to unrestricted actors only; otherwise one of the user's
// scopes must lie inside the actor's.
func (s *Service) visibleUser(ctx context.Context, tx *db.Tx, actor *Principal, perm Permission, username string) (*User, error) {
	u, err := s.getUser(ctx, tx, strings.ToLower(strings.TrimSpace(username)))
	if err != nil {
		return nil, err
	}
	if !userVisible(actor, perm, u) {
		return nil, errs.E(errs.NotFound, "user_not_found", "用户不存在")
	}
	return u, nil
}

func userVisible(actor *Principal, perm Permission, u *User) bool {
	if _, all := actor.AreaPaths(perm); all {
		return true
	}
	for _, a := range u.Roles {
		if actor.Covers(perm, a.Scope.Path) {
			return true
		}
	}
	return false
}

func (s *Service) getUser(ctx context.Context, tx *db.Tx, username string) (*User, error) {
	row, err := getUserByName(ctx, tx, username)
	if err != nil {
		return nil, err
	}
	u := row.User
	if phone, err := s.box.Open(row.phoneEnc); err == nil {
		u.Phone = pii.MaskPhone(phone)
	} else {
		return nil, errs.Wrap("auth.getUser: phone", err)
	}
	as, err := loadAssignments(ctx, tx, []int64{u.ID})
	if err != nil {
		return nil, err
	}
	u.Roles = as[u.ID]
	if u.Roles == nil {
		u.Roles = []Assignment{}
	}
	return &u, nil
}

// GetUser returns one user within the actor's reach. Everyone may read
// their own account (to change their password there).
func (s *Service) GetUser(ctx context.Context, actor *Principal, username string) (*User, error) {
	const op = "auth.GetUser"
	username = strings.ToLower(strings.TrimSpace(username))
	self := actor != nil && !actor.IsSystem() && actor.Username == username
	if !self {
		if err := Require(actor, UserRead, op); err != nil {
			return nil, err
		}
	}
	var u *User
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		var err error
		if self {
			u, err = s.getUser(ctx, tx, username)
		} else {
			u, err = s.visibleUser(ctx, tx, actor, UserRead, username)
		}
		return err
	})
	return u, errs.Wrap(op, err)
}

// Page sizes of the user list: ?limit= is 1–MaxUsersLimit.
const (
	DefaultUsersLimit = 50
	MaxUsersLimit     = 200
)

// ListUsers returns the users the actor may see, by username, after the
// cursor (a username), at most MaxUsersLimit+1.
func (s *Service) ListUsers(ctx context.Context, actor *Principal, query, after string, limit int) ([]*User, error) {
	const op = "auth.ListUsers"
	if err := Require(actor, UserRead, op); err != nil {
		return nil, err
	}
	paths, all := actor.AreaPaths(UserRead)
	if !all && len(paths) == 0 {
		return []*User{}, nil
	}
	if limit <= 0 {
		limit = DefaultUsersLimit
	}
	// A page of MaxUsersLimit users is asked for with one more, to know
	// whether another page follows: never cut that one.
	limit = min(limit, MaxUsersLimit+1)
	var where []string
	var args []any
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	if !all {
		var ors []string
		for _, p := range paths {
			ors = append(ors, `x.path LIKE `+arg(db.LikePrefix(p))+` ESCAPE '\'`)
		}
		where = append(where, `u.id IN (SELECT x.user_id FROM (`+scopePathsSQL+`) x WHERE `+strings.Join(ors, " OR ")+`)`)
	}
	if q := strings.TrimSpace(query); q != "" {
		like := arg(db.LikeContains(strings.ToLower(q)))
		where = append(where, `(u.username LIKE `+like+` ESCAPE '\' OR lower(u.display_name) LIKE `+like+` ESCAPE '\')`)
	}
	if after != "" {
		where = append(where, `u.username > `+arg(after))
	}
	sqlText := `SELECT ` + prefixed("u.", userCols) + ` FROM users u`
	if len(where) > 0 {
		sqlText += ` WHERE ` + strings.Join(where, " AND ")
	}
	sqlText += ` ORDER BY u.username LIMIT ` + arg(limit)
	var out []*User
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		rows, err := db.Collect(ctx, tx, scanUser, sqlText, args...)
		if err != nil {
			return errs.Wrap(op, err)
		}
		ids := make([]int64, len(rows))
		for i, row := range rows {
			u := row.User
			if phone, err := s.box.Open(row.phoneEnc); err == nil {
				u.Phone = pii.MaskPhone(phone)
			}
			out = append(out, &u)
			ids[i] = u.ID
		}
		as, err := loadAssignments(ctx, tx, ids)
		if err != nil {
			return err
		}
		for _, u := range out {
			u.Roles = as[u.ID]
			if u.Roles == nil {
				u.Roles = []Assignment{}
			}
		}
		return nil
	})
	if out == nil {
		out = []*User{}
	}
	return out, err
}

// scopePathsSQL yields (user_id, path) for every assignment.
const scopePathsSQL = `SELECT ra.user_id, COALESCE(a.path, da.path, wa.path, ra.scope_path) AS path
FROM role_assignments ra
LEFT JOIN areas a ON ra.scope_kind = 'area' AND a.code = ra.scope_ref
LEFT JOIN departments d ON ra.scope_kind = 'department' AND d.code = ra.scope_ref
LEFT JOIN areas da ON da.code = d.area_code
LEFT JOIN workgroups w ON ra.scope_kind = 'workgroup' AND w.code = ra.scope_ref
LEFT JOIN areas wa ON wa.code = w.area_code`

func prefixed(p, cols string) string {
	parts := strings.Split(cols, ", ")
	for i := range parts {
		parts[i] = p + parts[i]
	}
	return strings.Join(parts, ", ")
}

// SetStatus disables or re-enables a user. Disabling ends every session of
// the user at once; their API tokens stop working because they act as the
// user.
func (s *Service) SetStatus(ctx context.Context, actor *Principal, username string, active bool) (*User, error) {
	const op = "auth.SetStatus"
	if err := Require(actor, UserManage, op); err != nil {
		return nil, err
	}
	status, action, summary := "disabled", "user.disable", "停用账号并结束其全部会话"
	if active {
		status, action, summary = "active", "user.enable", "启用账号"
	}
	var u *User
	err := s.db.Write(ctx, func(tx *db.Tx) error {
		row, err := s.manageableUser(ctx, tx, actor, username)
		if err != nil {
			return err
		}
		if actor.UserID == row.ID && !active {
			return errs.E(errs.Conflict, "self_disable", "不能停用自己的账号")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET status = $1, updated_at = $2 WHERE id = $3`, status, tx.NowMS(), row.ID); err != nil {
			return errs.Wrap(op, err)
		}
		if !active {
			if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1`, row.ID); err != nil {
				return errs.Wrap(op, err)
			}
		}
		id := row.ID
		tx.AfterCommit(func() { s.cache.dropUser(id) })
		if err := audit.Record(ctx, tx, audit.Entry{ActorID: actor.UserID, Actor: actor.Actor(), Action: action,
			ObjectType: "user", ObjectID: row.Username, Summary: summary}); err != nil {
			return err
		}
		u, err = s.getUser(ctx, tx, row.Username)
		return err
	})
	return u, errs.Wrap(op, err)
}
