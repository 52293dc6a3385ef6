package db_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"tongxin/internal/db"
	"tongxin/internal/db/dbtest"
)

// insertKey writes one row of login_throttle keyed k.
func insertKey(ctx context.Context, tx *db.Tx, k string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO login_throttle (key, failures, window_start, locked_until) VALUES ($1, 0, 0, 0)`, k)
	return err
}

// keysPresent reads which of keys are in login_throttle.
func keysPresent(t *testing.T, d *db.DB, keys []string) map[string]bool {
	t.Helper()
	ctx := context.Background()
	got := map[string]bool{}
	err := d.Read(ctx, func(tx *db.Tx) error {
		for _, k := range keys {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM login_throttle WHERE key = $1`, k).Scan(&n); err != nil {
				return err
			}
			got[k] = n == 1
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// hold starts a writer that keeps SQLite's transaction until release is
// closed, so that the writers started meanwhile queue into one group.
func hold(t *testing.T, d *db.DB) (release func()) {
	t.Helper()
	started, rel, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- d.Write(context.Background(), func(tx *db.Tx) error {
			close(started)
			<-rel
			return nil
		})
	}()
	<-started
	return func() {
		close(rel)
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

// Writers queued behind a running transaction commit together, and each
// gets exactly its own outcome: a writer that fails or panics after
// writing leaves nothing and gets its error or its panic back; the others
// commit and run their after-commit hooks; nobody else's failure touches
// them.
func TestGroupCommitKeepsEachWritersOutcome(t *testing.T) {
	d := dbtest.Open(t, "sqlite", nil)
	ctx := context.Background()
	txs0, writes0 := d.GroupStats()
	release := hold(t, d)
	const n = 120
	errBoom := errors.New("boom")
	type outcome struct {
		err      error
		panicked any
	}
	out := make([]outcome, n)
	var hooks atomic.Int64
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			defer func() { out[i].panicked = recover() }()
			out[i].err = d.Write(ctx, func(tx *db.Tx) error {
				if err := insertKey(ctx, tx, fmt.Sprint("k", i)); err != nil {
					return err
				}
				switch {
				case i%7 == 3:
					return errBoom
				case i%31 == 5:
					panic(fmt.Sprint("panic ", i))
				}
				tx.AfterCommit(func() { hooks.Add(1) })
				return nil
			})
		})
	}
	time.Sleep(200 * time.Millisecond) // let them all queue
	release()
	wg.Wait()
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprint("k", i)
	}
	present := keysPresent(t, d, keys)
	ok := 0
	for i := range n {
		failed, panics := i%7 == 3, i%7 != 3 && i%31 == 5
		switch {
		case failed && !errors.Is(out[i].err, errBoom):
			t.Errorf("writer %d: error %v, want its own", i, out[i].err)
		case panics && out[i].panicked != fmt.Sprint("panic ", i):
			t.Errorf("writer %d: panic %v, want its own", i, out[i].panicked)
		case !failed && !panics && (out[i].err != nil || out[i].panicked != nil):
			t.Errorf("writer %d: %v %v, want success", i, out[i].err, out[i].panicked)
		}
		if present[keys[i]] != (!failed && !panics) {
			t.Errorf("writer %d: row present %v, want %v", i, present[keys[i]], !failed && !panics)
		}
		if !failed && !panics {
			ok++
		}
	}
	if hooks.Load() != int64(ok) {
		t.Errorf("%d after-commit hooks ran, want %d", hooks.Load(), ok)
	}
	txs, writes := d.GroupStats()
	txs, writes = txs-txs0, writes-writes0
	if writes != int64(ok)+1 || txs > 1+int64(n/64+2) {
		t.Errorf("%d writes committed in %d transactions: want %d writes in a few groups", writes, txs, ok+1)
	}
	t.Logf("%d writers (%d committed) in %d transactions", n, ok, txs)
}

// A writer whose context ends while it waits is dropped without running;
// once its turn has come, its caller's cancellation does not interrupt
// it, nor roll back the group (on SQLite an interrupted statement rolls
// back the whole transaction).
func TestGroupCommitCancellation(t *testing.T) {
	d := dbtest.Open(t, "sqlite", nil)
	release := hold(t, d)
	waiting, cancelWaiting := context.WithCancel(context.Background())
	ran := false
	dropped := make(chan error, 1)
	go func() {
		dropped <- d.Write(waiting, func(tx *db.Tx) error {
			ran = true
			return insertKey(waiting, tx, "dropped")
		})
	}()
	running, cancelRunning := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	errs := make([]error, 3)
	wg.Go(func() {
		errs[0] = d.Write(running, func(tx *db.Tx) error {
			cancelRunning() // the client goes away mid-transaction
			return insertKey(running, tx, "mine")
		})
	})
	for i := 1; i < 3; i++ {
		wg.Go(func() {
			errs[i] = d.Write(context.Background(), func(tx *db.Tx) error { return insertKey(context.Background(), tx, fmt.Sprint("other", i)) })
		})
	}
	time.Sleep(100 * time.Millisecond)
	cancelWaiting()
	if err := <-dropped; !errors.Is(err, context.Canceled) {
		t.Fatalf("a writer cancelled while waiting: %v, want context.Canceled", err)
	}
	release()
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("writer %d: %v", i, err)
		}
	}
	if ran {
		t.Error("a writer cancelled while waiting ran")
	}
	present := keysPresent(t, d, []string{"dropped", "mine", "other1", "other2"})
	want := map[string]bool{"dropped": false, "mine": true, "other1": true, "other2": true}
	for k, w := range want {
		if present[k] != w {
			t.Errorf("row %s present %v, want %v", k, present[k], w)
		}
	}
}

// A commit that fails (here a foreign key checked at commit) does not
// take the group's other writers down: they run again, each alone, and
// commit; the writer at fault gets the error.
func TestGroupCommitFailedCommitRunsAlone(t *testing.T) {
	d := dbtest.Open(t, "sqlite", nil)
	ctx := context.Background()
	release := hold(t, d)
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Go(func() {
			errs[i] = d.Write(ctx, func(tx *db.Tx) error {
				if i == 2 {
					// A scan at a checkpoint that does not exist, its key
					// checked only when the transaction commits.
					if _, err := tx.ExecContext(ctx, `PRAGMA defer_foreign_keys = ON`); err != nil {
						return err
					}
					_, err := tx.ExecContext(ctx, `INSERT INTO checkpoint_scans (checkpoint_id, client_id, verdict, reason, scanned_at,
						received_at, officer) VALUES (999999, 'x', 'deny', 'malformed', 0, 0, 'o')`)
					return err
				}
				return insertKey(ctx, tx, fmt.Sprint("k", i))
			})
		})
	}
	time.Sleep(100 * time.Millisecond)
	release()
	wg.Wait()
	for i, err := range errs {
		if (err != nil) != (i == 2) {
			t.Errorf("writer %d: %v", i, err)
		}
	}
	present := keysPresent(t, d, []string{"k0", "k1", "k3", "k4", "k5"})
	for k, ok := range present {
		if !ok {
			t.Errorf("row %s lost with the failed commit", k)
		}
	}
}

// Writers that arrive together on one core (GOMAXPROCS 1, as the server
// runs pinned) commit in a few groups, not one transaction each: the
// writer that starts a group lets the others reach it first.
func TestGroupCommitGathersWritersOnOneCore(t *testing.T) {
	d := dbtest.Open(t, "sqlite", nil)
	ctx := context.Background()
	if err := d.Write(ctx, func(tx *db.Tx) error { return insertKey(ctx, tx, "warm") }); err != nil {
		t.Fatal(err)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	txs0, writes0 := d.GroupStats()
	const n = 48
	start := make(chan struct{})
	errc := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errc <- d.Write(ctx, func(tx *db.Tx) error { return insertKey(ctx, tx, fmt.Sprint("g", i)) })
		})
	}
	close(start)
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Fatal(err)
		}
	}
	txs, writes := d.GroupStats()
	txs, writes = txs-txs0, writes-writes0
	if writes != n || txs > n/4 {
		t.Errorf("%d writes in %d transactions: want %d in a few", writes, txs, n)
	}
	t.Logf("%d writers in %d transactions", n, txs)
}
