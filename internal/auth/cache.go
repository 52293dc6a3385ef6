package auth

import (
	"slices"
	"sync"
	"time"
)

// principalCache keeps the principal of a credential for a moment, so that
// a burst of requests with one token or session reads the database once.
// This instance drops a user's entries the moment it changes them (logout,
// disable, password, roles, token revocation); another instance behind the
// same database notices within the TTL (one second by default).
type principalCache struct {
	ttl time.Duration
	max int

	mu sync.Mutex
	m  map[string]cacheEntry
}

type cacheEntry struct {
	p     *Principal
	until time.Time
}

func newPrincipalCache(ttl time.Duration, max int) *principalCache {
	return &principalCache{ttl: ttl, max: max, m: map[string]cacheEntry{}}
}

// get returns the cached principal of a credential hash, if still fresh;
// the hash is in bytes, so that a hit allocates nothing. Principals are
// shared: callers must not modify them.
func (c *principalCache) get(hash []byte, now time.Time) *Principal {
	if c.ttl <= 0 {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[string(hash)]
	if !ok {
		return nil
	}
	if !now.Before(e.until) {
		delete(c.m, string(hash))
		return nil
	}
	return e.p
}

func (c *principalCache) put(hash string, p *Principal, now time.Time) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		for k, e := range c.m {
			if !now.Before(e.until) {
				delete(c.m, k)
			}
		}
		if len(c.m) >= c.max {
			c.m = map[string]cacheEntry{}
		}
	}
	c.m[hash] = cacheEntry{p: p, until: now.Add(c.ttl)}
}

func (c *principalCache) dropHash(hash string) {
	c.mu.Lock()
	delete(c.m, hash)
	c.mu.Unlock()
}

func (c *principalCache) dropUser(userID int64) {
	c.mu.Lock()
	for k, e := range c.m {
		if e.p.UserID == userID {
			delete(c.m, k)
		}
	}
	c.mu.Unlock()
}

// dropScope drops the entries of principals with an assignment bound to
// the scope kind:ref (a department or work group whose capabilities
// changed).
func (c *principalCache) dropScope(kind ScopeKind, ref string) {
	c.mu.Lock()
	for k, e := range c.m {
		if slices.ContainsFunc(e.p.Assignments, func(a Assignment) bool { return a.Scope.Kind == kind && a.Scope.Ref == ref }) {
			delete(c.m, k)
		}
	}
	c.mu.Unlock()
}

// ForgetScope drops, on this instance, the cached principals of everyone
// with an assignment bound to the scope kind:ref, so that a change to it
// (a department's or a work group's capabilities) counts at their next
// request; other instances see it within the cache's TTL. Call it after
// the change has committed (db.Tx.AfterCommit).
func (s *Service) ForgetScope(kind ScopeKind, ref string) { s.cache.dropScope(kind, ref) }
