package masstest

import (
	"context"
	"sync"

	"tongxin/internal/db"
)

// residentCache keeps the register's residents as a sample needs them
// (sampleResidentCols: code, masked name, status, household and its
// building), by resident code and by the ID number's blind index, for
// batches on SQLite: a round samples the same residents as the round
// before, and reading a thousand of them was a third of a batch's
// statements' time. Only found residents are kept; a miss is read.
//
// The register changes only by an import (ImportHouseholds), which drops
// the cache in its transaction, before and after its writes. On SQLite
// this process's writes are one at a time on one connection, so a batch
// reads the cache either before an import's writes or after them, never
// in between. Another process writing the same database file (a command
// run beside the server) is seen by SQLite's data_version, which changes
// when another connection commits: a batch reads it in its transaction
// (with whether its round has closed) and drops the cache when it moved. PostgreSQL (other instances, and its
// own path) does not use the cache.
type residentCache struct {
	mu      sync.Mutex
	version int64 // data_version the entries were read under
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
// data_version (roundClosedAt reads it). The rows answered are shared:
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
	if tx.Dialect != db.SQLite {
		return residentsBy(ctx, tx, column, keys)
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
