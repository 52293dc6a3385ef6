package auth

import (
	"context"
	"crypto/sha256"
	"database/sql"
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

// RetryAfter is the cause of a throttled login: how long the client should
// wait before trying again. The HTTP layer turns it into a Retry-After
// header.
type RetryAfter struct{ Wait time.Duration }

func (r *RetryAfter) Error() string { return "retry after " + r.Wait.String() }

// Seconds is the wait rounded up to whole seconds, at least one.
func (r *RetryAfter) Seconds() int64 {
	n := int64((r.Wait + time.Second - 1) / time.Second)
	return max(n, 1)
}

func waitText(d time.Duration) string {
	if d <= time.Minute {
		return fmt.Sprintf("%d 秒", max(int64((d+time.Second-1)/time.Second), 1))
	}
	return fmt.Sprintf("%d 分钟", int64((d+time.Minute-1)/time.Minute))
}

func addrSlowed(wait time.Duration) error {
	return &errs.Error{Kind: errs.TooMany, Code: "login_slowed", Err: &RetryAfter{Wait: wait},
		Message: fmt.Sprintf("来自此网络地址的登录失败过多，请 %s后再试", waitText(wait))}
}

func accountThrottled(wait time.Duration, until time.Time) error {
	return &errs.Error{Kind: errs.TooMany, Code: "login_throttled", Err: &RetryAfter{Wait: wait},
		Message: fmt.Sprintf("此账号在此网络地址登录失败次数过多，请于 %s 后再试（约 %s）", until.In(clock.Shanghai).Format("15:04:05"), waitText(wait))}
}

// throttleKeys are the rows a login from clientAddr for username counts
// against: the address, and the account at that address. The username is
// cut to the longest a username may be, so that a key stays short.
func throttleKeys(username, clientAddr string) (addr, acct string) {
	if len(username) > 64 {
		username = username[:64]
	}
	return "addr:" + clientAddr, "acct:" + clientAddr + "|" + username
}

// Login checks a username and password and opens a new session.
//
// Failures are counted per client address and per account at that
// address (see Config). While either is within its back-off the login is
// refused before the password is checked, with TooMany and a RetryAfter
// cause: an address that failed often waits a few seconds, an account that
// failed often at that address waits longer, and the same account from
// another address is not affected. A success clears the account's count
// at that address; the address's count runs out with its window.
func (s *Service) Login(ctx context.Context, username, password, clientAddr string) (token string, p *Principal, err error) {
	const op = "auth.Login"
	username = strings.ToLower(strings.TrimSpace(username))
	addrKey, acctKey := throttleKeys(username, clientAddr)

	var row userRow
	var found bool
	err = s.db.Read(ctx, func(tx *db.Tx) error {
		now := tx.NowMS()
		var addrUntil, acctUntil int64
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(CASE WHEN key = $1 THEN locked_until END), 0), COALESCE(MAX(CASE WHEN key = $2 THEN locked_until END), 0)
			FROM login_throttle WHERE key IN ($1, $2)`, acctKey, addrKey).Scan(&acctUntil, &addrUntil); err != nil {
			return errs.Wrap(op, err)
		}
		if acctUntil > now {
			return accountThrottled(time.Duration(acctUntil-now)*time.Millisecond, time.UnixMilli(acctUntil))
		}
		if addrUntil > now {
			return addrSlowed(time.Duration(addrUntil-now) * time.Millisecond)
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
		if err := s.recordFailure(ctx, addrKey, acctKey); err != nil {
			return "", nil, err
		}
		return "", nil, errBadLogin
	}
	token, tokenHash, err := newSecret(sessionPrefix)
	if err != nil {
		return "", nil, errs.Wrap(op, err)
	}
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		// The account's count at this address ends with a success; counts
		// whose windows have long run out (names typed by someone guessing)
		// are swept.
		if _, err := tx.ExecContext(ctx, `DELETE FROM login_throttle WHERE key = $1 OR (window_start < $2 AND locked_until < $3)`,
			acctKey, tx.Now.Add(-max(s.cfg.UserWindow, s.cfg.AddrWindow)).UnixMilli(), tx.NowMS()); err != nil {
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

// backoff is base doubled once per failure past limit, capped at most:
// failures == limit gives base.
func backoff(failures, limit int, base, most time.Duration) time.Duration {
	d := base
	for i := limit; i < failures && d < most; i++ {
		d *= 2
	}
	return min(d, most)
}

// recordFailure counts one failed login against the address and against
// the account at the address, and sets each key's back-off once it is past
// its limit. Each count is one atomic upsert (a count older than its
// window starts again), so that instances on one PostgreSQL never lose a
// failure; the back-off is then set from the count it returned.
func (s *Service) recordFailure(ctx context.Context, addrKey, acctKey string) error {
	return s.db.Write(ctx, func(tx *db.Tx) error {
		now := tx.NowMS()
		for _, k := range []struct {
			key        string
			window     time.Duration
			limit      int
			base, most time.Duration
		}{
			{addrKey, s.cfg.AddrWindow, s.cfg.AddrFailures, time.Second, s.cfg.AddrDelayMax},
			{acctKey, s.cfg.UserWindow, s.cfg.UserFailures, s.cfg.UserDelay, s.cfg.UserDelayMax},
		} {
			// Parameters are cast so that PostgreSQL types them as BIGINT.
			var failures int
			err := tx.QueryRowContext(ctx, `INSERT INTO login_throttle (key, failures, window_start, locked_until)
				VALUES ($1, 1, CAST($2 AS BIGINT), 0)
				ON CONFLICT (key) DO UPDATE SET
					failures = CASE WHEN login_throttle.window_start < CAST($3 AS BIGINT) THEN 1 ELSE login_throttle.failures + 1 END,
					window_start = CASE WHEN login_throttle.window_start < CAST($3 AS BIGINT) THEN CAST($2 AS BIGINT) ELSE login_throttle.window_start END
				RETURNING failures`,
				k.key, now, tx.Now.Add(-k.window).UnixMilli()).Scan(&failures)
			if err != nil {
				return errs.Wrap("auth.recordFailure", err)
			}
			if failures >= k.limit {
				until := tx.Now.Add(backoff(failures, k.limit, k.base, k.most)).UnixMilli()
				if _, err := tx.ExecContext(ctx, `UPDATE login_throttle SET locked_until = $1 WHERE key = $2`, until, k.key); err != nil {
					return errs.Wrap("auth.recordFailure", err)
				}
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
	var hb [2 * sha256.Size]byte
	hashSecretTo(&hb, token)
	clockNow := s.db.Clock.Now()
	if p := s.cache.get(hb[:], clockNow); p != nil {
		return p, nil
	}
	h := string(hb[:])
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
	ExpiresAt  int64  `json:"expires_at"`
	LastUsedAt int64  `json:"last_used_at,omitempty"`
	RevokedAt  int64  `json:"revoked_at,omitempty"`
	// State is "active", "expired" or "revoked", as of the listing.
	State string `json:"state"`
}

// Token lifetimes: a token lives 90 days unless asked otherwise, and never
// more than a year.
const (
	DefaultTokenLife = 90 * 24 * time.Hour
	MaxTokenLife     = 365 * 24 * time.Hour
)

// CreateToken issues an API token for a user that lives DefaultTokenLife.
// The secret is returned once and stored only as a hash.
func (s *Service) CreateToken(ctx context.Context, actor *Principal, username, name string) (string, *Token, error) {
	return s.CreateTokenUntil(ctx, actor, username, name, time.Time{})
}

// CreateTokenUntil issues an API token that expires at expires (zero: in
// DefaultTokenLife; at most MaxTokenLife ahead). A user may issue tokens
// for themselves; for anyone else the actor must manage the user. A
// request authenticated by an API token may not issue tokens at all (a
// leaked token must not be able to outlive its revocation): only a
// session or the command line can.
func (s *Service) CreateTokenUntil(ctx context.Context, actor *Principal, username, name string, expires time.Time) (string, *Token, error) {
	return s.createToken(ctx, actor, username, name, func(time.Time) time.Time { return expires })
}

// CreateTokenFor is CreateTokenUntil with the token's life (from the
// moment it is issued) instead of its end; zero means DefaultTokenLife.
func (s *Service) CreateTokenFor(ctx context.Context, actor *Principal, username, name string, life time.Duration) (string, *Token, error) {
	if life == 0 {
		life = DefaultTokenLife
	}
	return s.createToken(ctx, actor, username, name, func(now time.Time) time.Time { return now.Add(life) })
}

func (s *Service) createToken(ctx context.Context, actor *Principal, username, name string, end func(now time.Time) time.Time) (string, *Token, error) {
	const op = "auth.CreateToken"
	if actor != nil && actor.ViaToken {
		return "", nil, errs.E(errs.Forbidden, "token_cannot_mint", "API 令牌不能签发新的令牌，请登录网页或用命令行签发")
	}
	username = strings.ToLower(strings.TrimSpace(username))
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
		expires := end(tx.Now)
		if expires.IsZero() {
			expires = tx.Now.Add(DefaultTokenLife)
		}
		if !expires.After(tx.Now) {
			return errs.E(errs.Invalid, "bad_expiry", "令牌的到期时间须晚于现在")
		}
		if expires.After(tx.Now.Add(MaxTokenLife)) {
			return errs.E(errs.Invalid, "bad_expiry", "令牌有效期最长 365 天")
		}
		var u *User
		var err error
		if self {
			u, err = s.getUser(ctx, tx, username)
		} else {
			u, err = s.manageableUser(ctx, tx, actor, username)
		}
		if err != nil {
			return err
		}
		if u.Status != "active" {
			return errs.E(errs.Conflict, "account_disabled", "账号已停用，不能签发令牌")
		}
		t = Token{Username: u.Username, Name: strings.TrimSpace(name), CreatedAt: tx.NowMS(), ExpiresAt: expires.UnixMilli(), State: "active"}
		if err := tx.QueryRowContext(ctx, `INSERT INTO api_tokens (user_id, name, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
			u.ID, t.Name, hash, t.CreatedAt, t.ExpiresAt).Scan(&t.ID); err != nil {
			return errs.Wrap(op, err)
		}
		return audit.Record(ctx, tx, audit.Entry{ActorID: actor.UserID, Actor: actor.Actor(), Action: "token.create",
			ObjectType: "api_token", ObjectID: fmt.Sprint(t.ID), Summary: fmt.Sprintf("为 %s 签发 API 令牌 %q，%s 到期", u.Username, t.Name,
				expires.In(clock.Shanghai).Format("2006-01-02 15:04"))})
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
			if _, err := s.manageableUser(ctx, tx, actor, username); errs.Is(err, errs.NotFound) {
				return errs.E(errs.NotFound, "token_not_found", "令牌不存在")
			} else if err != nil {
				return err
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

var errBadToken = errs.E(errs.Unauthorized, "bad_token", "API 令牌无效、已过期或已吊销")

// TokenPrincipal returns the principal an API token acts as, and notes its
// use (at most once a minute).
func (s *Service) TokenPrincipal(ctx context.Context, token string) (*Principal, error) {
	if !strings.HasPrefix(token, tokenPrefix) {
		return nil, errBadToken
	}
	if err := s.lookups(ctx); err != nil {
		return nil, err
	}
	var hb [2 * sha256.Size]byte
	hashSecretTo(&hb, token)
	clockNow := s.db.Clock.Now()
	if p := s.cache.get(hb[:], clockNow); p != nil {
		return p, nil
	}
	h := string(hb[:])
	cred, found, err := lookupCredential(ctx, s.tokenStmt, h, true)
	if err != nil {
		return nil, err
	}
	id, revoked, lastUsed, expires := cred.a, cred.b, cred.c, cred.d
	if !found || revoked != 0 || clockNow.UnixMilli() >= expires {
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
	cred.p.ViaToken = true
	// Never cache past the token's own end.
	if clockNow.UnixMilli()+s.cfg.PrincipalTTL.Milliseconds() < expires {
		s.cache.put(h, cred.p, clockNow)
	}
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
			if _, err := s.manageableUser(ctx, tx, actor, username); err != nil {
				return err
			}
		}
		var err error
		out, err = db.Collect(ctx, tx, func(r db.Scanner) (Token, error) {
			var t Token
			err := r.Scan(&t.ID, &t.Username, &t.Name, &t.CreatedAt, &t.ExpiresAt, &t.LastUsedAt, &t.RevokedAt)
			t.State = tokenState(t, tx.NowMS())
			return t, err
		}, `SELECT t.id, u.username, t.name, t.created_at, COALESCE(t.expires_at, 0), COALESCE(t.last_used_at, 0), COALESCE(t.revoked_at, 0)
			FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE u.username = $1 ORDER BY t.id`, username)
		return errs.Wrap(op, err)
	})
	return out, err
}

// tokenState names a token's state at now (ms): revoked, expired or active.
func tokenState(t Token, now int64) string {
	switch {
	case t.RevokedAt != 0:
		return "revoked"
	case now >= t.ExpiresAt:
		return "expired"
	default:
		return "active"
	}
}
