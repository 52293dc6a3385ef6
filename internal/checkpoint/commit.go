package checkpoint

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"tongxin/internal/db"
)

// Group commit of online scans, and the journal that replaces it when the
// server keeps one (journal.go).

// committer logs online scans: to the journal when the server keeps one
// (journal.go), else with group commit: a request that finds no
// transaction running writes the queue (its own scan first) in one
// transaction; requests arriving meanwhile queue up and are written
// together by the next one. Before a transaction starts, it waits a moment
// (at most maxGather) for the scans being verified right now, so that
// under load one transaction carries many scans rather than one or two.
// Nobody is answered before the transaction holding their scan has
// committed. When a transaction fails, its scans are written again one per
// transaction, so that one bad scan does not fail the others.
type committer struct {
	db      *db.DB
	log     *slog.Logger
	shown   *shownIDs
	journal atomic.Pointer[journal] // when set, online scans go to the journal instead

	mu     sync.Mutex
	queue  []*scanReq
	busy   bool
	coming int           // scans being decided, to be queued next
	wake   chan struct{} // a scan queued while a writer gathers (buffered, 1)
}

// maxGather bounds how long a transaction waits for scans being decided.
const maxGather = 2 * time.Millisecond

// maxGroup bounds the scans of one transaction, so that writers of other
// tables never wait long behind a group.
const maxGroup = 256

type scanReq struct {
	row  *scanRow
	out  *Scan
	err  error
	done chan struct{}
}

// submit logs the row decide makes and returns its scan once it is in the
// journal, or committed. While decide runs (the pass is verified), a
// writer about to start a transaction waits for it.
func (c *committer) submit(ctx context.Context, decide func() *scanRow) (*Scan, error) {
	if j := c.journal.Load(); j != nil {
		row := decide()
		out, err := j.add(c.db.Clock.Now(), row)
		if err == nil {
			return out, nil
		}
		c.log.Error("checkpoint: scan journal write failed; the scan goes to the database", "err", err.Error())
		decide = func() *scanRow { return row }
	}
	c.mu.Lock()
	c.coming++
	c.mu.Unlock()
	queued := false
	defer func() {
		if !queued { // decide panicked
			c.mu.Lock()
			c.coming--
			c.mu.Unlock()
		}
	}()
	r := &scanReq{row: decide(), done: make(chan struct{})}
	c.mu.Lock()
	c.coming--
	queued = true
	c.queue = append(c.queue, r)
	select {
	case c.wake <- struct{}{}:
	default:
	}
	if c.busy {
		c.mu.Unlock()
		select {
		case <-r.done:
			return r.out, r.err
		case <-ctx.Done():
			// The scan is still written; the caller is gone.
			return nil, ctx.Err()
		}
	}
	c.busy = true
	c.mu.Unlock()
	c.flush()
	// Hand what queued meanwhile to a goroutine, so that this request is
	// answered now rather than after everyone else's.
	c.mu.Lock()
	if len(c.queue) > 0 {
		go c.drain()
	} else {
		c.busy = false
	}
	c.mu.Unlock()
	<-r.done
	return r.out, r.err
}

// drain writes groups until the queue is empty.
func (c *committer) drain() {
	for {
		c.flush()
		c.mu.Lock()
		if len(c.queue) == 0 {
			c.busy = false
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
	}
}

// gather waits, at most maxGather, until the scans being decided are
// queued (or a group is full).
func (c *committer) gather() {
	var timer *time.Timer
	for {
		c.mu.Lock()
		wait := c.coming > 0 && len(c.queue) < maxGroup
		c.mu.Unlock()
		if !wait {
			return
		}
		if timer == nil {
			timer = time.NewTimer(maxGather)
			defer timer.Stop()
		}
		select {
		case <-c.wake:
		case <-timer.C:
			return
		}
	}
}

// flush writes the head of the queue in one transaction.
func (c *committer) flush() {
	c.gather()
	c.mu.Lock()
	n := min(len(c.queue), maxGroup)
	group := c.queue[:n:n]
	c.queue = c.queue[n:]
	if len(c.queue) == 0 {
		c.queue = nil
	}
	c.mu.Unlock()
	if n == 0 {
		return
	}
	// The group's transaction must not die with one request's context.
	ctx := context.Background()
	rows := make([]*scanRow, n)
	for i, r := range group {
		rows[i] = r.row
	}
	err := c.db.Write(ctx, func(tx *db.Tx) error {
		out, err := insertScans(ctx, tx, c.shown, rows, false)
		for i, r := range group {
			if err == nil {
				r.out = out[i]
			}
		}
		return err
	})
	switch {
	case err == nil:
	case n == 1:
		group[0].out, group[0].err = nil, err
	default:
		c.log.Warn("checkpoint: scan group failed, writing its scans one by one", "scans", n, "err", err.Error())
		c.shown.forget()
		for _, r := range group {
			r.out, r.err = nil, c.db.Write(ctx, func(tx *db.Tx) error {
				out, err := insertScans(ctx, tx, c.shown, []*scanRow{r.row}, false)
				if err == nil {
					r.out = out[0]
				}
				return err
			})
			if r.err != nil {
				r.out = nil
			}
		}
	}
	for _, r := range group {
		close(r.done)
	}
}

// sync makes every scan answered so far readable in the database.
func (c *committer) sync(ctx context.Context) error {
	if j := c.journal.Load(); j != nil {
		return j.sync(ctx)
	}
	return nil
}

// OpenJournal makes online scans go through a journal in dir (see
// journal.go), loading first what an earlier run left there. The server
// calls it once at start and CloseJournal at the end; without it scans
// are written to the database before they are answered. If another
// process holds dir, scans keep going to the database (logged).
func (s *Service) OpenJournal(ctx context.Context, dir string) error {
	j, err := openJournal(ctx, dir, s.db, &s.shown, s.log)
	if errors.Is(err, errJournalBusy) {
		s.log.Info("checkpoint: the scan journal is in use by another process; scans go to the database directly", "dir", dir)
		return nil
	}
	if err != nil {
		return err
	}
	if !s.scans.journal.CompareAndSwap(nil, j) {
		j.close(ctx)
		return errors.New("checkpoint: a scan journal is already open")
	}
	return nil
}

// CloseJournal loads what the journal holds into the database and stops
// journaling (scans go to the database directly from then on).
func (s *Service) CloseJournal(ctx context.Context) error {
	j := s.scans.journal.Swap(nil)
	if j == nil {
		return nil
	}
	return j.close(ctx)
}
