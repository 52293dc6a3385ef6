package auth

import (
	"context"
	"database/sql"

	"tongxin/internal/db"
	"tongxin/internal/errs"
)

// assignmentsSQL resolves each assignment's scope to a display name, an
// area path and, for a department or a work group, its capabilities. Area,
// department and work group scopes are kernel tables; enterprise and
// checkpoint scopes carry no area path here.
const assignmentsSQL = `SELECT ra.user_id, ra.role, ra.scope_kind, ra.scope_ref,
	COALESCE(a.name, d.name, w.name, ra.scope_name),
	COALESCE(a.path, da.path, wa.path, ra.scope_path), COALESCE(d.capabilities, w.capabilities, '')
FROM role_assignments ra
LEFT JOIN areas a ON ra.scope_kind = 'area' AND a.code = ra.scope_ref
LEFT JOIN departments d ON ra.scope_kind = 'department' AND d.code = ra.scope_ref
LEFT JOIN areas da ON da.code = d.area_code
LEFT JOIN workgroups w ON ra.scope_kind = 'workgroup' AND w.code = ra.scope_ref
LEFT JOIN areas wa ON wa.code = w.area_code`

type userRow struct {
	User
	passwordHash string
	phoneEnc     []byte
}

func scanUser(s db.Scanner) (userRow, error) {
	var u userRow
	err := s.Scan(&u.ID, &u.Username, &u.DisplayName, &u.phoneEnc, &u.passwordHash, &u.Status, &u.CreatedAt, &u.UpdatedAt)
	return u, err
}

const userCols = `id, username, display_name, phone_enc, password_hash, status, created_at, updated_at`

func getUserByName(ctx context.Context, tx *db.Tx, username string) (userRow, error) {
	u, err := scanUser(tx.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE username = $1`, username))
	if err != nil {
		return u, db.NotFound("auth.getUser", err, "user_not_found", "用户不存在")
	}
	return u, nil
}

// loadAssignments fills the assignments of the given users.
func loadAssignments(ctx context.Context, tx *db.Tx, ids []int64) (map[int64][]Assignment, error) {
	out := map[int64][]Assignment{}
	if len(ids) == 0 {
		return out, nil
	}
	var args db.Args
	q := assignmentsSQL + ` WHERE ra.user_id IN ` + db.In(&args, ids) + ` ORDER BY ra.id`
	err := db.Each(ctx, tx, func(r db.Scanner) error {
		uid, a, err := scanAssignment(r)
		if err != nil {
			return err
		}
		out[uid] = append(out[uid], a)
		return nil
	}, q, args.List...)
	if err != nil {
		return nil, errs.Wrap("auth.loadAssignments", err)
	}
	return out, nil
}

// scanAssignment reads a row of assignmentsSQL: the user id and the
// assignment.
func scanAssignment(r db.Scanner) (int64, Assignment, error) {
	var uid int64
	var a Assignment
	var caps string
	if err := r.Scan(&uid, &a.Role, &a.Scope.Kind, &a.Scope.Ref, &a.Scope.Name, &a.Scope.Path, &caps); err != nil {
		return 0, a, err
	}
	a.Scope.Caps = ParseCapabilities(caps)
	return uid, a, nil
}

// ScopeResolver checks that a scope of a module's kind exists and returns
// its display name and the area path it lies in.
type ScopeResolver func(ctx context.Context, tx *db.Tx, ref string) (name, path string, err error)

// RegisterScope lets a module resolve the scopes of one kind (enterprise,
// checkpoint). Call it while wiring, before serving.
func (s *Service) RegisterScope(kind ScopeKind, r ScopeResolver) {
	if s.resolvers == nil {
		s.resolvers = map[ScopeKind]ScopeResolver{}
	}
	s.resolvers[kind] = r
}

// resolveScope checks that a scope exists and returns its name, area path
// and, for areas, level.
func (s *Service) resolveScope(ctx context.Context, tx *db.Tx, sc Scope) (name, path, level string, err error) {
	var q string
	switch sc.Kind {
	case ScopeArea:
		q = `SELECT name, path, level FROM areas WHERE code = $1`
	case ScopeDepartment:
		q = `SELECT d.name, a.path, '' FROM departments d JOIN areas a ON a.code = d.area_code WHERE d.code = $1`
	case ScopeWorkgroup:
		q = `SELECT w.name, a.path, '' FROM workgroups w JOIN areas a ON a.code = w.area_code WHERE w.code = $1`
	default:
		r, ok := s.resolvers[sc.Kind]
		if !ok {
			return "", "", "", errs.Newf(errs.Invalid, "scope_unsupported", "范围类型 %s 尚未启用（对应模块上线后可用）", sc.Kind)
		}
		name, path, err := r(ctx, tx, sc.Ref)
		return name, path, "", err
	}
	err = tx.QueryRowContext(ctx, q, sc.Ref).Scan(&name, &path, &level)
	if err == sql.ErrNoRows {
		return "", "", "", errs.Newf(errs.Invalid, "scope_not_found", "范围 %s 不存在", sc)
	}
	if err != nil {
		return "", "", "", errs.Wrap("auth.resolveScope", err)
	}
	return name, path, level, nil
}

// principalFor loads an active user's principal by a query keyed on a
// credential (session or token) that selects the user id first.
func principalByID(ctx context.Context, tx *db.Tx, userID int64) (*Principal, error) {
	var p Principal
	var status string
	err := tx.QueryRowContext(ctx, `SELECT id, username, display_name, status FROM users WHERE id = $1`, userID).
		Scan(&p.UserID, &p.Username, &p.DisplayName, &status)
	if err != nil {
		return nil, db.NotFound("auth.principal", err, "unauthenticated", "请先登录")
	}
	if status != "active" {
		return nil, errs.E(errs.Unauthorized, "account_disabled", "账号已停用")
	}
	as, err := loadAssignments(ctx, tx, []int64{userID})
	if err != nil {
		return nil, err
	}
	p.Assignments = as[userID]
	return &p, nil
}

// The credential lookups run on every authenticated request, so each is one
// prepared statement that reads the credential, its user and the user's
// resolved assignments at once, outside any transaction.
const principalJoin = ` JOIN users u ON u.id = c.user_id
LEFT JOIN role_assignments ra ON ra.user_id = u.id
LEFT JOIN areas a ON ra.scope_kind = 'area' AND a.code = ra.scope_ref
LEFT JOIN departments d ON ra.scope_kind = 'department' AND d.code = ra.scope_ref
LEFT JOIN areas da ON da.code = d.area_code
LEFT JOIN workgroups w ON ra.scope_kind = 'workgroup' AND w.code = ra.scope_ref
LEFT JOIN areas wa ON wa.code = w.area_code`

const principalCols = `u.id, u.username, u.display_name, u.status, ra.role, ra.scope_kind, ra.scope_ref,
	COALESCE(a.name, d.name, w.name, ra.scope_name), COALESCE(a.path, da.path, wa.path, ra.scope_path),
	COALESCE(d.capabilities, w.capabilities, '')`

// sessionLookupSQL yields (last_seen_at, expires_at, principal columns…).
const sessionLookupSQL = `SELECT c.last_seen_at, c.expires_at, ` + principalCols + ` FROM sessions c` + principalJoin +
	` WHERE c.token_hash = $1`

// No ORDER BY: sorting cost a fifth of the lookup; assignments come in
// the order of the (user_id, role, …) index.
//
// tokenLookupSQL yields (token id, revoked_at, last_used_at, expires_at, principal columns…).
const tokenLookupSQL = `SELECT c.id, COALESCE(c.revoked_at, 0), COALESCE(c.last_used_at, 0), COALESCE(c.expires_at, 0), ` + principalCols + ` FROM api_tokens c` + principalJoin +
	` WHERE c.token_hash = $1`

// credential is what a lookup found: numbers about the credential
// (session: last seen, expiry; token: id, revoked, last used, expiry) and
// its user.
type credential struct {
	a, b, c, d int64
	status     string
	p          *Principal
}

// lookupCredential runs one of the lookup statements. found is false when
// no credential has the hash.
func lookupCredential(ctx context.Context, stmt *sql.Stmt, hash string, token bool) (cred credential, found bool, err error) {
	rows, err := stmt.QueryContext(ctx, hash)
	if err != nil {
		return cred, false, errs.Wrap("auth.lookupCredential", err)
	}
	defer rows.Close()
	for rows.Next() {
		var p Principal
		var role, kind, ref sql.NullString
		var name, path, caps string
		dest := []any{&cred.a, &cred.b}
		if token {
			dest = append(dest, &cred.c, &cred.d)
		}
		dest = append(dest, &p.UserID, &p.Username, &p.DisplayName, &cred.status, &role, &kind, &ref, &name, &path, &caps)
		if err := rows.Scan(dest...); err != nil {
			return cred, false, errs.Wrap("auth.lookupCredential", err)
		}
		if cred.p == nil {
			cred.p = &p
		}
		if role.Valid {
			cred.p.Assignments = append(cred.p.Assignments, Assignment{Role: Role(role.String),
				Scope: Scope{Kind: ScopeKind(kind.String), Ref: ref.String, Name: name, Path: path, Caps: ParseCapabilities(caps)}})
		}
	}
	if err := rows.Err(); err != nil {
		return cred, false, errs.Wrap("auth.lookupCredential", err)
	}
	return cred, cred.p != nil, nil
}
