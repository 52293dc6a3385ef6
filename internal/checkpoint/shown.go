package checkpoint

import (
	"context"
	"sync"

	"tongxin/internal/db"
)

// shownIDs remembers the ids of what codes showed (scan_shown, migration
// 0022) by their text, as committed: a scan's row refers to its pass's
// content by id, and the loader finds that id here, without a statement,
// for every scan but the first of a pass. The ids are those of one
// database: each Service has its own.
type shownIDs struct {
	mu  sync.Mutex
	ids map[string]any // text → id, boxed once (scanInsert binds it)
}

// shownMax bounds the texts remembered (some 200 bytes each, one for
// each pass scanned); past it the map starts again.
const shownMax = 1 << 16

// idsOf sets ids[i] to the id of what rows[i]'s code showed (nil when it
// showed nothing), storing in tx each text not stored before. Ids found
// in tx are remembered once it commits.
func (c *shownIDs) idsOf(ctx context.Context, tx *db.Tx, rows []*scanRow, ids []any) error {
	missing := false
	c.mu.Lock()
	for i, r := range rows {
		ids[i] = nil
		if b := r.passJSON(); b != nil {
			ids[i] = c.ids[string(b)]
			missing = missing || ids[i] == nil
		}
	}
	c.mu.Unlock()
	if !missing {
		return nil
	}
	found := map[string]any{}
	for i, r := range rows {
		b := r.passJSON()
		if b == nil || ids[i] != nil {
			continue
		}
		if id, ok := found[string(b)]; ok {
			ids[i] = id
			continue
		}
		n, err := shownID(ctx, tx, string(b))
		if err != nil {
			return err
		}
		id := any(n)
		ids[i], found[string(b)] = id, id
	}
	tx.AfterCommit(func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.ids == nil || len(c.ids)+len(found) > shownMax {
			c.ids = make(map[string]any, len(found))
		}
		for text, id := range found {
			c.ids[text] = id
		}
	})
	return nil
}

// forget drops every remembered id. A writer whose transaction failed
// calls it before trying again: should the failure be a remembered id
// that no longer refers to a row (a row removed by hand), the next try
// reads the ids afresh rather than failing the same way for ever.
func (c *shownIDs) forget() {
	c.mu.Lock()
	c.ids = nil
	c.mu.Unlock()
}
