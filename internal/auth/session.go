package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"tongxin/internal/audit"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/errs"
)

const (
	sessionPrefix = "txs_"
	tokenPrefix   = "txt_"
)

var errBadLogin = errs.E(errs.Unauthorized, "bad_credentials", "用户名或密码错误")

func throttled(until time.Time) error {
	return errs.Newf(errs.TooMany, "login_throttled", "登录失败次数过多，请于 %s 后再试", until.In(clock.Shanghai).Format("15:04"))
}

// Login checks a username and password and opens a new session. Failed
// attempts are counted per account and per client address; past the limit
// logins are refused until the lockout ends, even with the right password.
func (s *Service) Login(ctx context.Context, username, password, clientAddr string) (token string, p *Principal, err error) {
	const op = "auth.Login"
	username = strings.ToLower(strings.TrimSpace(username))
	keys := []string{"user:" + username, "addr:" + clientAddr}
	limits := []int{s.cfg.UserFailures, s.cfg.AddrFailures}

	var row userRow
	var found bool
	err = s.db.Read(ctx, func(tx *db.Tx) error {
		for _, k := range keys {
			var until int64
			err := tx.QueryRowContext(ctx, `SELECT locked_until FROM login_throttle WHERE key = $1`, k).Scan(&until)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return errs.Wrap(op, err)
			}
			if until > tx.NowMS() {
				return throttled(time.UnixMilli(until))
			}
		}
		r, err := getUserByName(ctx, tx, username)
		if errs.Is(err, errs.NotFound) {
			return nil
		}
		row, found = r, err == nil
		return err
	})
	if err != nil {
		return "", nil, err
	}
	hash := dummyHash
	if found {
		hash = row.passwordHash
	}
	ok := CheckPassword(hash, password) && found && row.Status == "active"
	if !ok {
		if err := s.recordFailure(ctx, keys, limits); err != nil {
			return "", nil, err
		}
		return "", nil, errBadLogin
	}
	token, tokenHash, err := newSecret(sessionPrefix)
	if err != nil {
		return "", nil, errs.Wrap(op, err)
	}
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM login_throttle WHERE key = $1`, keys[0]); err != nil {
			return errs.Wrap(op, err)
		}
		// Sessions past their end are swept at each login.
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at < $1 OR last_seen_at < $2`,
			tx.NowMS(), tx.Now.Add(-s.cfg.IdleTimeout).UnixMilli()); err != nil {
			return errs.Wrap(op, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, expires_at) VALUES ($1, $2, $3, $3, $4)`,
			tokenHash, row.ID, tx.NowMS(), tx.Now.Add(s.cfg.AbsoluteTimeout).UnixMilli()); err != nil {
			return errs.Wrap(op, err)
		}
		if err := audit.Record(ctx, tx, audit.Entry{ActorID: row.ID, Actor: row.Username, Action: "session.login",
			ObjectType: "user", ObjectID: row.Username, Summary: "登录"}); err != nil {
			return err
		}
		p, err = principalByID(ctx, tx, row.ID)
		return err
	})
	if err != nil {
		return "", nil, err
	}
	return token, p, nil
}

// recordFailure counts one failed login against each key, in one
// conditional upsert per key, and locks a key that reaches its limit.
func (s *Service) recordFailure(ctx context.Context, keys []string, limits []int) error {
	return s.db.Write(ctx, func(tx *db.Tx) error {
		now := tx.NowMS()
		windowStart := tx.Now.Add(-s.cfg.Window).UnixMilli()
		lockUntil := tx.Now.Add(s.cfg.Lockout).UnixMilli()
		for i, k := range keys {
			// Parameters are cast so that PostgreSQL types them as BIGINT.
			_, err := tx.ExecContext(ctx, `INSERT INTO login_throttle (key, failures, window_start, locked_until)
				VALUES ($1, 1, CAST($2 AS BIGINT), CASE WHEN 1 >= CAST($4 AS INTEGER) THEN CAST($5 AS BIGINT) ELSE 0 END)
				ON CONFLICT (key) DO UPDATE SET
					failures = CASE WHEN login_throttle.window_start < CAST($3 AS BIGINT) THEN 1 ELSE login_throttle.failures + 1 END,
					window_start = CASE WHEN login_throttle.window_start < CAST($3 AS BIGINT) THEN CAST($2 AS BIGINT) ELSE login_throttle.window_start END,
					locked_until = CASE
						WHEN (CASE WHEN login_throttle.window_start < CAST($3 AS BIGINT) THEN 1 ELSE login_throttle.failures + 1 END) >= CAST($4 AS INTEGER) THEN CAST($5 AS BIGINT)
						ELSE login_throttle.locked_until END`,
				k, now, windowStart, limits[i], lockUntil)
			if err != nil {
				return errs.Wrap("auth.recordFailure", err)
			}
		}
		return nil
	})
}

// Logout ends a session.
func (s *Service) Logout(ctx context.Context, token string) error {
	return errs.Wrap("auth.Logout", s.db.Write(ctx, func(tx *db.Tx) error {
		h := hashSecret(token)
		tx.AfterCommit(func() { s.cache.dropHash(h) })
		_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = $1`, h)
		return err
	}))
}

var errNoSession = errs.E(errs.Unauthorized, "unauthenticated", "登录已过期，请重新登录")

// SessionPrincipal returns the principal of a live session and refreshes
// its idle timer (at most once a minute, to keep reads cheap).
func (s *Service) SessionPrincipal(ctx context.Context, token string) (*Principal, error) {
	if !strings.HasPrefix(token, sessionPrefix) {
		return nil, errNoSession
	}
	if err := s.lookups(ctx); err != nil {
		return nil, err
	}
	h := hashSecret(token)
	clockNow := s.db.Clock.Now()
	if p := s.cache.get(h, clockNow); p != nil {
		return p, nil
	}
	cred, found, err := lookupCredential(ctx, s.sessionStmt, h, false)
	if err != nil {
		return nil, err
	}
	lastSeen, expires := cred.a, cred.b
	now := clockNow.UnixMilli()
	if !found || now >= expires || now-lastSeen >= s.cfg.IdleTimeout.Milliseconds() || cred.status != "active" {
		return nil, errNoSession
	}
	if now-lastSeen >= time.Minute.Milliseconds() {
		err := s.db.Write(ctx, func(tx *db.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2`, tx.NowMS(), h)
			return err
		})
		if err != nil {
			return nil, errs.Wrap("auth.SessionPrincipal: touch", err)
		}
	}
	// Never cache past the session's own end.
	if now+s.cfg.PrincipalTTL.Milliseconds() < expires {
		s.cache.put(h, cred.p, clockNow)
	}
	return cred.p, nil
}

// Token is an API token as listed (never the secret itself).
type Token struct {
	ID         int64  `json:"id"`
	Username   string `json:"username"`
	Name       string `json:"name"`
	CreatedAt  int64  `json:"created_at"`
	LastUsedAt int64  `json:"last_used_at,omitempty"`
	RevokedAt  int64  `json:"revoked_at,omitempty"`
}

// CreateToken issues an API token for a user. The secret is returned once
// and stored only as a hash.
func (s *Service) CreateToken(ctx context.Context, actor *Principal, username, name string) (string, *Token, error) {
	const op = "auth.CreateToken"
	self := actor != nil && !actor.IsSystem() && actor.Username == username
	if !self {
		if err := Require(actor, UserManage, op); err != nil {
			return "", nil, err
		}
	}
	secret, hash, err := newSecret(tokenPrefix)
	if err != nil {
		return "", nil, errs.Wrap(op, err)
	}
	var t Token
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		var u *User
		var err error
		if self {
			u, err = s.getUser(ctx, tx, username)
		} else {
			u, err = s.visibleUser(ctx, tx, actor, UserManage, username)
		}
		if err != nil {
			return err
		}
		if u.Status != "active" {
			return errs.E(errs.Conflict, "account_disabled", "账号已停用，不能签发令牌")
		}
		t = Token{Username: u.Username, Name: strings.TrimSpace(name), CreatedAt: tx.NowMS()}
		if err := tx.QueryRowContext(ctx, `INSERT INTO api_tokens (user_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id`,
			u.ID, t.Name, hash, t.CreatedAt).Scan(&t.ID); err != nil {
			return errs.Wrap(op, err)
		}
		return audit.Record(ctx, tx, audit.Entry{ActorID: actor.UserID, Actor: actor.Actor(), Action: "token.create",
			ObjectType: "api_token", ObjectID: fmt.Sprint(t.ID), Summary: fmt.Sprintf("为 %s 签发 API 令牌 %q", u.Username, t.Name)})
	})
	if err != nil {
		return "", nil, errs.Wrap(op, err)
	}
	return secret, &t, nil
}

// RevokeToken revokes a token by id.
func (s *Service) RevokeToken(ctx context.Context, actor *Principal, id int64) error {
	const op = "auth.RevokeToken"
	return errs.Wrap(op, s.db.Write(ctx, func(tx *db.Tx) error {
		var username string
		var userID int64
		var revoked sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT u.username, u.id, t.revoked_at FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.id = $1`, id).Scan(&username, &userID, &revoked)
		if err != nil {
			return db.NotFound(op, err, "token_not_found", "令牌不存在")
		}
		if actor == nil || actor.IsSystem() || actor.Username != username {
			if err := Require(actor, UserManage, op); err != nil {
				return err
			}
			if _, err := s.visibleUser(ctx, tx, actor, UserManage, username); err != nil {
				return errs.E(errs.NotFound, "token_not_found", "令牌不存在")
			}
		}
		if revoked.Valid {
			return errs.E(errs.Conflict, "token_revoked", "令牌已被吊销")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`, tx.NowMS(), id); err != nil {
			return err
		}
		tx.AfterCommit(func() { s.cache.dropUser(userID) })
		return audit.Record(ctx, tx, audit.Entry{ActorID: actor.UserID, Actor: actor.Actor(), Action: "token.revoke",
			ObjectType: "api_token", ObjectID: fmt.Sprint(id), Summary: "吊销 " + username + " 的 API 令牌"})
	}))
}

var errBadToken = errs.E(errs.Unauthorized, "bad_token", "API 令牌无效或已吊销")

// TokenPrincipal returns the principal an API token acts as, and notes its
// use (at most once a minute).
func (s *Service) TokenPrincipal(ctx context.Context, token string) (*Principal, error) {
	if !strings.HasPrefix(token, tokenPrefix) {
		return nil, errBadToken
	}
	if err := s.lookups(ctx); err != nil {
		return nil, err
	}
	h := hashSecret(token)
	clockNow := s.db.Clock.Now()
	if p := s.cache.get(h, clockNow); p != nil {
		return p, nil
	}
	cred, found, err := lookupCredential(ctx, s.tokenStmt, h, true)
	if err != nil {
		return nil, err
	}
	id, revoked, lastUsed := cred.a, cred.b, cred.c
	if !found || revoked != 0 {
		return nil, errBadToken
	}
	if cred.status != "active" {
		return nil, errs.E(errs.Unauthorized, "account_disabled", "账号已停用")
	}
	if now := clockNow.UnixMilli(); now-lastUsed >= time.Minute.Milliseconds() {
		err := s.db.Write(ctx, func(tx *db.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = $1 WHERE id = $2`, tx.NowMS(), id)
			return err
		})
		if err != nil {
			return nil, errs.Wrap("auth.TokenPrincipal: touch", err)
		}
	}
	s.cache.put(h, cred.p, clockNow)
	return cred.p, nil
}

// ListTokens lists a user's tokens.
func (s *Service) ListTokens(ctx context.Context, actor *Principal, username string) ([]Token, error) {
	const op = "auth.ListTokens"
	var out []Token
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		if actor == nil || actor.IsSystem() || actor.Username != username {
			if err := Require(actor, UserManage, op); err != nil {
				return err
			}
			if _, err := s.visibleUser(ctx, tx, actor, UserManage, username); err != nil {
				return err
			}
		}
		rows, err := tx.QueryContext(ctx, `SELECT t.id, u.username, t.name, t.created_at, COALESCE(t.last_used_at, 0), COALESCE(t.revoked_at, 0)
			FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE u.username = $1 ORDER BY t.id`, username)
		if err != nil {
			return errs.Wrap(op, err)
		}
		defer rows.Close()
		for rows.Next() {
			var t Token
			if err := rows.Scan(&t.ID, &t.Username, &t.Name, &t.CreatedAt, &t.LastUsedAt, &t.RevokedAt); err != nil {
				return errs.Wrap(op, err)
			}
			out = append(out, t)
		}
		return rows.Err()
	})
	return out, err
}
