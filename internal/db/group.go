package db

import (
	"context"
	"database/sql"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"tongxin/internal/errs"
)

// Group commit of SQLite writes. SQLite has one writer, and on this
// kind of machine a commit costs more than the small transaction it
// ends: each changed page is a system call into the write-ahead log, and
// every thousand pages a checkpoint copies them back (a daily report's
// transaction spent half its time committing). So Write on SQLite joins
// a group: a writer that finds no transaction running starts one; writers
// arriving meanwhile queue, and the next transaction runs all of them, one
// after the other, each inside a savepoint of its own, and commits once.
//
// Each writer still sees exactly its own outcome: a function that fails
// (or panics) is rolled back to its savepoint and gets its error (or its
// panic, re-raised in its own goroutine); the others commit. Nobody is
// answered before the commit that holds their writes. Later members see
// the writes of earlier ones, as if the transactions had run one by one.
// If the commit itself fails, the members that succeeded run again, each
// in a transaction of its own. A writer whose context ends while it waits
// is dropped unrun; once its turn has come it runs to the end, since on
// SQLite an interrupted statement rolls back the whole transaction, the
// group's: a grouped transaction's statements do not see their caller's
// cancellation (Tx.grouped).
//
// PostgreSQL commits concurrent transactions on separate connections and
// groups their log flushes itself: Write there runs alone, as before.
type writeGroup struct {
	mu    sync.Mutex
	queue []*writeReq
	busy  bool // a goroutine is running transactions for the queue
	// txMu is held while a group's transaction runs, and by the
	// checkpointer when it copies back a log grown long: that checkpoint
	// then copies the whole log, and the next transaction writes the log
	// from its start again (checkpoint.go).
	txMu sync.Mutex

	txs, writes atomic.Int64 // transactions committed and writes they held (tests, docs)
}

// maxWriteGroup bounds the writers of one transaction, so that none waits
// behind an unbounded group.
const maxWriteGroup = 64

type writeReq struct {
	db    *DB // the writer's view of the database (its clock: WithClock)
	ctx   context.Context
	fn    func(*Tx) error
	taken bool // under writeGroup.mu: a transaction has it
	tx    *Tx
	err   error
	panic any // what fn panicked with, re-raised by the writer
	done  chan struct{}
}

// groupWrite runs fn in the next group transaction and returns its
// outcome.
func (d *DB) groupWrite(ctx context.Context, fn func(*Tx) error) error {
	g := d.group
	r := &writeReq{db: d, ctx: ctx, fn: fn, done: make(chan struct{})}
	g.mu.Lock()
	g.queue = append(g.queue, r)
	if !g.busy {
		// The queue was empty (a queue is never left without a runner).
		// Before the transaction starts, the goroutines ready to run do:
		// on a busy server they are writers on their way here, who then
		// join this group rather than each waiting for a commit of its
		// own. Without it, on one core (GOMAXPROCS 1) nothing else ran
		// while a writer's transaction did, and 64 concurrent writers
		// committed one at a time.
		g.busy = true
		g.mu.Unlock()
		runtime.Gosched()
		d.runNext()
		// Whoever queued meanwhile is written by a goroutine, so that this
		// writer is answered now rather than after everyone else; it runs
		// the queue until it is empty, and only then is nobody running it.
		g.mu.Lock()
		if len(g.queue) > 0 {
			go d.drain()
		} else {
			g.busy = false
		}
		g.mu.Unlock()
		return r.result()
	}
	g.mu.Unlock()
	select {
	case <-r.done:
	case <-ctx.Done():
		g.mu.Lock()
		if !r.taken {
			for i, q := range g.queue {
				if q == r {
					g.queue = append(g.queue[:i], g.queue[i+1:]...)
					break
				}
			}
			g.mu.Unlock()
			return ctx.Err()
		}
		g.mu.Unlock()
		<-r.done
	}
	return r.result()
}

// result is the writer's outcome, in its own goroutine: its panic again,
// or its after-commit hooks run and its error.
func (r *writeReq) result() error {
	<-r.done
	if r.panic != nil {
		panic(r.panic)
	}
	if r.err == nil && r.tx != nil {
		for _, f := range r.tx.afterCommit {
			f()
		}
	}
	return r.err
}

// drain runs transactions until the queue is empty, then leaves it to
// the next writer.
func (d *DB) drain() {
	g := d.group
	for {
		d.runNext()
		g.mu.Lock()
		if len(g.queue) == 0 {
			g.busy = false
			g.mu.Unlock()
			return
		}
		g.mu.Unlock()
	}
}

// runNext takes up to maxWriteGroup queued writers and runs them in one
// transaction.
func (d *DB) runNext() {
	g := d.group
	g.mu.Lock()
	n := min(len(g.queue), maxWriteGroup)
	reqs := make([]*writeReq, n)
	copy(reqs, g.queue)
	g.queue = append(g.queue[:0], g.queue[n:]...)
	for _, r := range reqs {
		r.taken = true
	}
	g.mu.Unlock()
	if n > 0 {
		g.txMu.Lock()
		defer g.txMu.Unlock()
		d.runGroup(reqs)
	}
}

// runGroup runs reqs in one transaction and answers each.
func (d *DB) runGroup(reqs []*writeReq) {
	defer func() {
		for _, r := range reqs {
			close(r.done)
		}
	}()
	var ready []*writeReq
	for _, r := range reqs {
		if err := r.ctx.Err(); err != nil {
			r.err = err
			continue
		}
		ready = append(ready, r)
	}
	if len(ready) == 0 {
		return
	}
	stx, err := d.write.BeginTx(context.Background(), nil)
	if err != nil {
		if !d.Dialect.IsRetryable(err) {
			err = &errs.Error{Kind: errs.Unavailable, Code: "db_unavailable", Op: "db.Begin", Message: "数据库不可用", Err: err}
		}
		for _, r := range ready {
			r.err = err
		}
		return
	}
	ok, broken := d.runMembers(stx, ready)
	switch {
	case broken:
		stx.Rollback()
		d.runAlone(ready)
	case len(ok) == 0:
		stx.Rollback()
		d.prepareAfter(ready)
	default:
		if err := stx.Commit(); err != nil {
			// Run the writes that succeeded again, each alone: one of
			// them may be what the commit could not take.
			d.runAlone(ok)
			return
		}
		d.group.txs.Add(1)
		d.group.writes.Add(int64(len(ok)))
		d.prepareAfter(ready)
	}
}

// runMembers runs each writer in stx, inside a savepoint of its own when
// there are several, and returns those that succeeded; broken: a
// savepoint statement failed, and the transaction is to be abandoned.
func (d *DB) runMembers(stx *sql.Tx, ready []*writeReq) (ok []*writeReq, broken bool) {
	multi := len(ready) > 1
	for _, r := range ready {
		now := r.db.Clock.Now().UTC().Truncate(time.Millisecond)
		r.tx = &Tx{Tx: stx, Dialect: d.Dialect, Now: now, db: r.db, pool: d.write, grouped: true}
		// The savepoint statements go through the transaction's cache of
		// prepared statements (stmt.go), like the writers' own.
		ctx := context.Background()
		if multi {
			if _, err := r.tx.ExecContext(ctx, `SAVEPOINT tongxin_write`); err != nil {
				return nil, true
			}
		}
		r.panic, r.err = call(r)
		failed := r.err != nil || r.panic != nil
		if multi {
			if failed {
				if _, err := r.tx.ExecContext(ctx, `ROLLBACK TO tongxin_write`); err != nil {
					return nil, true
				}
			}
			if _, err := r.tx.ExecContext(ctx, `RELEASE tongxin_write`); err != nil {
				return nil, true
			}
		}
		if !failed {
			ok = append(ok, r)
		}
	}
	return ok, false
}

// call runs the writer's function, catching a panic to hand it back.
func call(r *writeReq) (p any, err error) {
	defer func() {
		if v := recover(); v != nil {
			p = v
		}
	}()
	return nil, r.fn(r.tx)
}

// runAlone runs each writer in a transaction of its own (after a failed
// group), as Write did before groups.
func (d *DB) runAlone(reqs []*writeReq) {
	for _, r := range reqs {
		// run runs the after-commit hooks itself: r.tx stays nil, so
		// that result does not run them again.
		r.tx, r.err, r.panic = nil, nil, nil
		func() {
			defer func() {
				if v := recover(); v != nil {
					r.panic = v
				}
			}()
			r.err = r.db.run(context.WithoutCancel(r.ctx), d.write, nil, r.fn)
		}()
	}
}

// prepareAfter prepares the statements the members saw for the second
// time, now that the write connection is free.
func (d *DB) prepareAfter(reqs []*writeReq) {
	for _, r := range reqs {
		if r.tx == nil {
			continue
		}
		for _, q := range r.tx.toPrepare {
			r.db.stmts.prepare(context.Background(), d.write, q)
		}
	}
}

// GroupStats are the write transactions group commit has committed on
// this database and the writes they held (zero on PostgreSQL).
func (d *DB) GroupStats() (txs, writes int64) {
	if d.group == nil {
		return 0, 0
	}
	return d.group.txs.Load(), d.group.writes.Load()
}
