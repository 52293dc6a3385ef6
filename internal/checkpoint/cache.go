package checkpoint

import (
	"context"
	"sync"
	"time"

	"tongxin/internal/db"
)

// Checkpoint cache: scans read a checkpoint's area path and state from
// memory. An update on this instance drops its entry on commit; other
// instances see it within the TTL.

type checkpointCache struct {
	mu  sync.RWMutex
	ttl time.Duration
	m   map[int64]cacheEntry
}

type cacheEntry struct {
	c  *Checkpoint // never modified once cached
	at time.Time
}

const maxCached = 10000

func (c *checkpointCache) get(id int64, now time.Time) *Checkpoint {
	c.mu.RLock()
	e, ok := c.m[id]
	c.mu.RUnlock()
	if !ok || now.Sub(e.at) >= c.ttl || now.Before(e.at) {
		return nil
	}
	return e.c
}

func (c *checkpointCache) put(cp *Checkpoint, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxCached {
		clear(c.m)
	}
	c.m[cp.ID] = cacheEntry{c: cp, at: now}
}

func (c *checkpointCache) drop(id int64) {
	c.mu.Lock()
	delete(c.m, id)
	c.mu.Unlock()
}

// cached returns checkpoint ref for the scan path, from memory when fresh.
func (s *Service) cached(ctx context.Context, ref string) (*Checkpoint, error) {
	id, err := parseID(ref)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	if c := s.cache.get(id, now); c != nil {
		return c, nil
	}
	var c *Checkpoint
	if err := s.db.Read(ctx, func(tx *db.Tx) (err error) {
		c, err = loadCheckpoint(ctx, tx, id)
		return err
	}); err != nil {
		return nil, err
	}
	if err := s.withBuildings(ctx, c); err != nil {
		return nil, err
	}
	s.cache.put(c, now)
	return c, nil
}
