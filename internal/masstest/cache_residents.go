package masstest

import (
	"context"
	"sync"

	"tongxin/internal/db"
)

// residentCache keeps the register's residents as a sample needs them
// (sampleResidentCols: code, masked name, status, household and its
// building), by resident code and by the ID number's blind index: a round
// samples the same residents as the round before, and reading a thousand
// of them was a third of a batch's statements' time on SQLite and 12 ms
// of a set's 56 under PostgreSQL's samples lock. Only found residents are
// kept; a miss is read.
//
// The register changes only by an import (ImportHouseholds), which drops
// the cache in its transaction, before and after its writes, and holds
// the samples' lock (lockSamples; on SQLite the one writer) from before
// them to its commit. A batch reads the cache under the same lock, so
// either before an import's writes or after them, never in between.
// Another process's import is seen by a version a batch reads in its
// transaction, under the lock, with whether its round has closed
// (roundClosedAt), and the cache is dropped when it moved: on SQLite the
// connection's data_version, which changes when another connection
// commits; on PostgreSQL, which has nothing like it, the register's
// version that every import adds one to (migration 0021).
type residentCache struct {
	mu      sync.Mutex
	version int64 // the version the entries were read under (roundClosedAt)
	byKey   [2]map[string]*residentRow
}

// residentCacheMax bounds each map; past it the map starts again.
const residentCacheMax = 1 << 18

const (
	byCode = 0 // testing_residents.code
	byIdx  = 1 // testing_residents.id_idx
)

func newResidentCache() *residentCache {
	return &residentCache{byKey: [2]map[string]*residentRow{{}, {}}}
}

// forget drops every entry (a register import).
func (c *residentCache) forget() {
	c.mu.Lock()
	c.byKey = [2]map[string]*residentRow{{}, {}}
	c.mu.Unlock()
}

// residents answers the residents of keys (codes, or ID indexes) as tx
// sees them: from the cache, the rest read and kept. version is tx's
// register version (roundClosedAt reads it). The rows answered are shared:
// never changed.
func (c *residentCache) residents(ctx context.Context, tx *db.Tx, version int64, kind int, keys []string) (map[string]*residentRow, error) {
	out := make(map[string]*residentRow, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	column := "code"
	if kind == byIdx {
		column = "id_idx"
	}
	var miss []string
	c.mu.Lock()
	if version != c.version {
		c.byKey, c.version = [2]map[string]*residentRow{{}, {}}, version
	}
	m := c.byKey[kind]
	for _, k := range keys {
		if r := m[k]; r != nil {
			out[k] = r
		} else {
			miss = append(miss, k)
		}
	}
	c.mu.Unlock()
	if len(miss) == 0 {
		return out, nil
	}
	read, err := residentsBy(ctx, tx, column, miss)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.version == version {
		m := c.byKey[kind]
		if len(m)+len(read) > residentCacheMax {
			m = map[string]*residentRow{}
			c.byKey[kind] = m
		}
		for k, r := range read {
			m[k] = r
		}
	}
	c.mu.Unlock()
	for k, r := range read {
		out[k] = r
	}
	return out, nil
}
