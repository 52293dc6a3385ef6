package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"tongxin/internal/audit"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/pii"
)

// Config holds the session and throttling policy.
//
// Failed logins are counted twice. Per client address: past AddrFailures
// failures in AddrWindow, the address must wait before its next attempt, a
// delay that starts at one second and doubles with each further failure up
// to AddrDelayMax (an office behind one NAT is slowed, never locked out).
// Per account and address: past UserFailures failures (counted until a
// success, or UserWindow after the first), that account is locked for that
// address for UserDelay, doubling with each further failure up to
// UserDelayMax; the owner logging in from elsewhere is not affected.
type Config struct {
	IdleTimeout     time.Duration // a session unused this long ends (30 min)
	AbsoluteTimeout time.Duration // a session ends this long after login (12 h)
	UserFailures    int           // failures of one account from one address before it is locked there (5)
	UserDelay       time.Duration // the first lock (1 min); each further failure doubles it
	UserDelayMax    time.Duration // the longest lock (15 min)
	UserWindow      time.Duration // an account-and-address count starts again this long after its first failure (24 h)
	AddrFailures    int           // failures from one address in AddrWindow before it is slowed down (30)
	AddrWindow      time.Duration // (15 min)
	AddrDelayMax    time.Duration // the longest wait asked of an address (30 s)
	// PrincipalTTL is how long a credential's principal is reused without
	// a database read; the longest another instance may take to notice a
	// logout, disabled user or revoked token. 0 turns the cache off.
	PrincipalTTL time.Duration
}

// DefaultConfig is the policy the issue asks for.
func DefaultConfig() Config {
	return Config{
		IdleTimeout:     30 * time.Minute,
		AbsoluteTimeout: 12 * time.Hour,
		UserFailures:    5,
		UserDelay:       time.Minute,
		UserDelayMax:    15 * time.Minute,
		UserWindow:      24 * time.Hour,
		AddrFailures:    30,
		AddrWindow:      15 * time.Minute,
		AddrDelayMax:    30 * time.Second,
		PrincipalTTL:    time.Second,
	}
}

// Service is the accounts use cases.
type Service struct {
	db  *db.DB
	box *pii.Box
	cfg Config

	prepare     sync.Once
	prepareErr  error
	sessionStmt *sql.Stmt
	tokenStmt   *sql.Stmt
	cache       *principalCache
	resolvers   map[ScopeKind]ScopeResolver
}

// NewService builds the service.
func NewService(d *db.DB, box *pii.Box, cfg Config) *Service {
	return &Service{db: d, box: box, cfg: cfg, cache: newPrincipalCache(cfg.PrincipalTTL, 10000)}
}

// lookups prepares the per-request credential statements once.
func (s *Service) lookups(ctx context.Context) error {
	s.prepare.Do(func() {
		pool := s.db.ReadPool()
		if s.sessionStmt, s.prepareErr = pool.PrepareContext(ctx, sessionLookupSQL); s.prepareErr != nil {
			return
		}
		s.tokenStmt, s.prepareErr = pool.PrepareContext(ctx, tokenLookupSQL)
	})
	if s.prepareErr != nil {
		return errs.Wrap("auth.prepare", s.prepareErr)
	}
	return nil
}

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
		rows, err := tx.QueryContext(ctx, sqlText, args...)
		if err != nil {
			return errs.Wrap(op, err)
		}
		defer rows.Close()
		var ids []int64
		for rows.Next() {
			row, err := scanUser(rows)
			if err != nil {
				return errs.Wrap(op, err)
			}
			u := row.User
			if phone, err := s.box.Open(row.phoneEnc); err == nil {
				u.Phone = pii.MaskPhone(phone)
			}
			out = append(out, &u)
			ids = append(ids, u.ID)
		}
		if err := rows.Err(); err != nil {
			return errs.Wrap(op, err)
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

// newSecret returns a random token of 256 bits and its stored hash.
func newSecret(prefix string) (token, hash string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	token = prefix + base64.RawURLEncoding.EncodeToString(b)
	return token, hashSecret(token), nil
}

func hashSecret(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// LookupUser returns a user's id and roles for a module that links users to
// its objects (liaisons to enterprises). It does not authorize: the caller
// has already checked what it may do.
func (s *Service) LookupUser(ctx context.Context, username string) (int64, []Assignment, error) {
	var id int64
	var roles []Assignment
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		u, err := s.getUser(ctx, tx, strings.ToLower(strings.TrimSpace(username)))
		if err != nil {
			return err
		}
		id, roles = u.ID, u.Roles
		return nil
	})
	return id, roles, err
}

// Holders returns the ids of the active users holding one of roles bound to
// the scope (kind, ref), in the caller's transaction: the people a module
// notifies about an object at that scope (the street officers of a street,
// the officers of a department). It does not authorize.
func (s *Service) Holders(ctx context.Context, tx *db.Tx, kind ScopeKind, ref string, roles ...Role) ([]int64, error) {
	if len(roles) == 0 {
		return nil, nil
	}
	args := []any{string(kind), ref}
	marks := make([]string, len(roles))
	for i, r := range roles {
		args = append(args, string(r))
		marks[i] = "$" + strconv.Itoa(len(args))
	}
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT u.id FROM role_assignments ra JOIN users u ON u.id = ra.user_id
		WHERE ra.scope_kind = $1 AND ra.scope_ref = $2 AND u.status = 'active' AND ra.role IN (`+strings.Join(marks, ", ")+`)
		ORDER BY u.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("auth: holders: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("auth: holders: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
