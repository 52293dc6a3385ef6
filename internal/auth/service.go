package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"time"
	"unsafe"

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

// newSecret returns a random token of 256 bits and its stored hash.
func newSecret(prefix string) (token, hash string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	token = prefix + base64.RawURLEncoding.EncodeToString(b)
	return token, hashSecret(token), nil
}

// hashSecret is the stored hash of a token: SHA-256, in hex.
func hashSecret(token string) string {
	var h [2 * sha256.Size]byte
	hashSecretTo(&h, token)
	return string(h[:])
}

// hashSecretTo writes hashSecret(token) to h, without allocating: a
// request's credential is looked up in the cache of principals by it.
func hashSecretTo(h *[2 * sha256.Size]byte, token string) {
	sum := sha256.Sum256(unsafe.Slice(unsafe.StringData(token), len(token))) // read only
	hex.Encode(h[:], sum[:])
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
	args := db.Args{List: []any{string(kind), ref}}
	q := `SELECT DISTINCT u.id FROM role_assignments ra JOIN users u ON u.id = ra.user_id
		WHERE ra.scope_kind = $1 AND ra.scope_ref = $2 AND u.status = 'active' AND ra.role IN ` + db.In(&args, roleNames(roles)) + `
		ORDER BY u.id`
	ids, err := db.Collect(ctx, tx, db.Value[int64], q, args.List...)
	if err != nil {
		return nil, fmt.Errorf("auth: holders: %w", err)
	}
	return ids, nil
}
