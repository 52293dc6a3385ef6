package masstest

import (
	"context"
	"sync"
	"time"

	"tongxin/internal/db"
)

// roundCache keeps what every sample of a round reads again — the round
// with its areas, and the areas of a collector's teams in its campaign —
// for roundCacheTTL. A sample still reads in its own transaction whether
// the round has been closed (roundClosedAt); a new team member or a
// round's changed areas count within the TTL. Its reads go to the read
// pool without a transaction of their own, which on a busy collector's
// round cost more than the sample's writes.
type roundCache struct {
	mu     sync.Mutex
	rounds map[int64]cachedRound
	teams  map[teamKey]cachedTeams
}

const (
	roundCacheTTL = 5 * time.Second
	roundCacheMax = 4096 // entries of each map; past it the map starts again
)

type cachedRound struct {
	r  *Round
	at time.Time
}

type teamKey struct {
	campaign int64
	username string
}

type cachedTeams struct {
	paths []string
	at    time.Time
}

func newRoundCache() *roundCache {
	return &roundCache{rounds: map[int64]cachedRound{}, teams: map[teamKey]cachedTeams{}}
}

// round answers round id as of now (Open is computed at now), reading it
// when it is not cached or older than the TTL.
func (c *roundCache) round(ctx context.Context, d *db.DB, id int64, now time.Time) (*Round, error) {
	c.mu.Lock()
	e, ok := c.rounds[id]
	c.mu.Unlock()
	if !ok || now.Sub(e.at) > roundCacheTTL || now.Before(e.at) {
		var r *Round
		err := d.Read(ctx, func(tx *db.Tx) (err error) {
			r, err = loadRound(ctx, tx, id, tx.Now)
			return err
		})
		if err != nil {
			return nil, err
		}
		e = cachedRound{r: r, at: now}
		c.mu.Lock()
		if len(c.rounds) >= roundCacheMax {
			c.rounds = map[int64]cachedRound{}
		}
		c.rounds[id] = e
		c.mu.Unlock()
	}
	r := *e.r
	r.Open = r.OpenAt(now)
	return &r, nil
}

// teamAreas answers the areas of username's teams in campaign.
func (c *roundCache) teamAreas(ctx context.Context, d *db.DB, campaign int64, username string, now time.Time) ([]string, error) {
	k := teamKey{campaign, username}
	c.mu.Lock()
	e, ok := c.teams[k]
	c.mu.Unlock()
	if ok && now.Sub(e.at) <= roundCacheTTL && !now.Before(e.at) {
		return e.paths, nil
	}
	var paths []string
	err := d.Read(ctx, func(tx *db.Tx) (err error) {
		paths, err = teamAreas(ctx, tx, campaign, username)
		return err
	})
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.teams) >= roundCacheMax {
		c.teams = map[teamKey]cachedTeams{}
	}
	c.teams[k] = cachedTeams{paths: paths, at: now}
	c.mu.Unlock()
	return paths, nil
}

// forget drops round id, at once on this instance (a close).
func (c *roundCache) forget(id int64) {
	c.mu.Lock()
	delete(c.rounds, id)
	c.mu.Unlock()
}

// forgetTeams drops the teams of campaign, at once on this instance (a
// new team).
func (c *roundCache) forgetTeams(campaign int64) {
	c.mu.Lock()
	for k := range c.teams {
		if k.campaign == campaign {
			delete(c.teams, k)
		}
	}
	c.mu.Unlock()
}
