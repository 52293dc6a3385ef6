package db

import (
	"context"
	"database/sql"
	"sync"
)

// SQLite parses every statement it is given; on hot write paths (reports,
// audit rows) parsing costs as much as the work. Tx therefore runs its
// statements through prepared statements kept per pool and SQL text, which
// database/sql re-binds to the transaction's connection. A statement is
// prepared when it is seen a second time (SQL built once, such as a bulk
// INSERT, is never worth it), after the transaction that saw it has ended:
// preparing needs a connection, and the SQLite write pool's only one is
// held by that transaction. Everything is bounded: SQL beyond the bounds
// runs unprepared.
type stmtCache struct {
	mu      sync.Mutex
	m       map[stmtKey]*sql.Stmt
	pending map[stmtKey]bool
	seen    map[stmtKey]bool
}

type stmtKey struct {
	pool  *sql.DB
	query string
}

const (
	maxCachedStmts = 512
	maxSeenStmts   = 4096
	maxStmtLen     = 4096 // longer SQL is generated in bulk, not repeated
)

// get returns the prepared statement for query, or nil after noting it
// for preparation (want reports whether the caller should prepare it once
// its transaction has ended).
func (c *stmtCache) get(pool *sql.DB, query string) (st *sql.Stmt, want bool) {
	k := stmtKey{pool, query}
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[k]; ok {
		return st, false
	}
	if len(query) > maxStmtLen || len(c.m)+len(c.pending) >= maxCachedStmts || c.pending[k] {
		return nil, false
	}
	if !c.seen[k] {
		if c.seen == nil || len(c.seen) >= maxSeenStmts {
			c.seen = map[stmtKey]bool{}
		}
		c.seen[k] = true
		return nil, false
	}
	delete(c.seen, k)
	if c.pending == nil {
		c.pending = map[stmtKey]bool{}
	}
	c.pending[k] = true
	return nil, true
}

// prepare prepares query on pool (outside any transaction) and keeps it.
func (c *stmtCache) prepare(ctx context.Context, pool *sql.DB, query string) {
	k := stmtKey{pool, query}
	st, err := pool.PrepareContext(ctx, sqliteSQL(query))
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending == nil { // closed meanwhile
		if err == nil {
			st.Close()
		}
		return
	}
	delete(c.pending, k)
	if err != nil {
		// A statement that does not prepare is run unprepared again, and
		// its error reported there, in context; do not retry it.
		c.pending[k] = true
		return
	}
	if c.m == nil {
		c.m = map[stmtKey]*sql.Stmt{}
	}
	c.m[k] = st
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	c.m, c.pending, c.seen = nil, nil, nil
}

// stmt returns the transaction's binding of the cached statement for
// query, or nil to run it unprepared.
func (tx *Tx) stmt(ctx context.Context, query string) *sql.Stmt {
	if tx.db == nil || tx.Dialect != SQLite {
		return nil
	}
	st, want := tx.db.stmts.get(tx.pool, query)
	if want {
		tx.toPrepare = append(tx.toPrepare, query)
	}
	if st == nil {
		return nil
	}
	return tx.Tx.StmtContext(ctx, st)
}

// ExecContext runs a statement in the transaction, prepared once per pool.
func (tx *Tx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	ctx = tx.context(ctx)
	if st := tx.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	if tx.Dialect == SQLite {
		query = sqliteSQL(query)
	}
	return tx.Tx.ExecContext(ctx, query, args...)
}

// QueryContext runs a query in the transaction, prepared once per pool.
func (tx *Tx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	ctx = tx.context(ctx)
	if st := tx.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	if tx.Dialect == SQLite {
		query = sqliteSQL(query)
	}
	return tx.Tx.QueryContext(ctx, query, args...)
}

// QueryRowContext runs a one-row query in the transaction, prepared once
// per pool.
func (tx *Tx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	ctx = tx.context(ctx)
	if st := tx.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	if tx.Dialect == SQLite {
		query = sqliteSQL(query)
	}
	return tx.Tx.QueryRowContext(ctx, query, args...)
}

// context is the context a statement runs with: the caller's, or in a
// group's transaction one that is never cancelled (group.go: on SQLite an
// interrupted statement rolls the whole transaction back).
func (tx *Tx) context(ctx context.Context) context.Context {
	if tx.grouped {
		return context.WithoutCancel(ctx)
	}
	return ctx
}
