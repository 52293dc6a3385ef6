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
type Config struct {
	IdleTimeout     time.Duration // a session unused this long ends (30 min)
	AbsoluteTimeout time.Duration // a session ends this long after login (12 h)
	UserFailures    int           // failed logins per account in Window before a lockout
	AddrFailures    int           // failed logins per client address in Window before a lockout
	Window          time.Duration
	Lockout         time.Duration
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
		AddrFailures:    30,
		Window:          15 * time.Minute,
		Lockout:         15 * time.Minute,
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

func validatePassword(username, pw string) error {
	n := utf8.RuneCountInString(pw)
	switch {
	case n < 8:
		return errs.E(errs.Invalid, "weak_password", "密码至少 8 个字符")
	case n > 128:
		return errs.E(errs.Invalid, "weak_password", "密码不能超过 128 个字符")
	case strings.EqualFold(pw, username):
		return errs.E(errs.Invalid, "weak_password", "密码不能与用户名相同")
	}
	return nil
}

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
	if err := validatePassword(in.Username, in.Password); err != nil {
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
		row, err := s.visibleUser(ctx, tx, actor, UserManage, username)
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

// GetUser returns one user within the actor's reach.
func (s *Service) GetUser(ctx context.Context, actor *Principal, username string) (*User, error) {
	const op = "auth.GetUser"
	if err := Require(actor, UserRead, op); err != nil {
		return nil, err
	}
	var u *User
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		var err error
		u, err = s.visibleUser(ctx, tx, actor, UserRead, username)
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
		row, err := s.visibleUser(ctx, tx, actor, UserManage, username)
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

// SetPassword replaces a user's password and ends their sessions.
func (s *Service) SetPassword(ctx context.Context, actor *Principal, username, password string) error {
	const op = "auth.SetPassword"
	self := actor != nil && actor.Username == strings.ToLower(strings.TrimSpace(username)) && !actor.IsSystem()
	if !self {
		if err := Require(actor, UserManage, op); err != nil {
			return err
		}
	}
	if err := validatePassword(username, password); err != nil {
		return err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	return errs.Wrap(op, s.db.Write(ctx, func(tx *db.Tx) error {
		var row *User
		var err error
		if self {
			row, err = s.getUser(ctx, tx, actor.Username)
		} else {
			row, err = s.visibleUser(ctx, tx, actor, UserManage, username)
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3`, hash, tx.NowMS(), row.ID); err != nil {
			return errs.Wrap(op, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1`, row.ID); err != nil {
			return errs.Wrap(op, err)
		}
		id := row.ID
		tx.AfterCommit(func() { s.cache.dropUser(id) })
		return audit.Record(ctx, tx, audit.Entry{ActorID: actor.UserID, Actor: actor.Actor(), Action: "user.password",
			ObjectType: "user", ObjectID: row.Username, Summary: "修改密码并结束其全部会话"})
	}))
}

// RevealPhone shows a user's full phone number to an actor with the reveal
// permission over the user, for a stated reason, and audits it.
func (s *Service) RevealPhone(ctx context.Context, actor *Principal, username, reason string) (string, error) {
	const op = "auth.RevealPhone"
	if err := Require(actor, PIIReveal, op); err != nil {
		return "", err
	}
	reason = strings.TrimSpace(reason)
	if utf8.RuneCountInString(reason) < 4 {
		return "", errs.E(errs.Invalid, "reason_required", "查看完整信息须填写理由（至少 4 个字）")
	}
	var phone string
	err := s.db.Write(ctx, func(tx *db.Tx) error {
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
