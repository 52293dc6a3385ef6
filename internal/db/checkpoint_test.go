package db

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Writers do not copy the log back themselves; the checkpointer does,
// within a few of its periods, and a database closed and opened again has
// everything.
func TestCheckpointerCopiesTheLogBack(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ckpt.db")
	d, err := Open(ctx, "sqlite:"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Exec(ctx, `CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)`); err != nil {
		t.Fatal(err)
	}
	var auto int
	if err := d.write.QueryRowContext(ctx, `PRAGMA wal_autocheckpoint`).Scan(&auto); err != nil || auto != 0 {
		t.Fatalf("the write pool's wal_autocheckpoint is %d (%v), want 0", auto, err)
	}
	// About 3,000 pages: three times what a writer would have copied back
	// itself by default.
	pad := strings.Repeat("x", 3000)
	for i := range 100 {
		if err := d.Write(ctx, func(tx *Tx) error {
			for j := range 30 {
				if _, err := tx.ExecContext(ctx, `INSERT INTO t (id, v) VALUES ($1, $2)`, i*30+j, pad); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	// The database file grows only when the log is copied back into it.
	deadline := time.Now().Add(20 * checkpointEvery)
	for {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() >= 3000*3000 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the database file holds %d bytes after %v: the log was not copied back", st.Size(), 20*checkpointEvery)
		}
		time.Sleep(checkpointEvery / 5)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d, err = Open(ctx, "sqlite:"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var n int
	if err := d.read.QueryRowContext(ctx, `SELECT count(*) FROM t`).Scan(&n); err != nil || n != 3000 {
		t.Fatalf("%d rows after reopening (%v), want 3000", n, err)
	}
}

// Under a steady stream of write transactions the log still starts again
// once it is past restartFrames: its file stays about that plus what is
// written between two checkpoints instead of growing with everything
// written (and being cut back by a writer later, holding its processor).
func TestCheckpointerRestartsTheLogUnderSteadyWrites(t *testing.T) {
	ctx := context.Background()
	// Set before the checkpointer starts and put back after it stopped.
	defer func(n int64) { restartFrames = n }(restartFrames)
	restartFrames = 512 // 2 MiB: a shorter log than a server's, for a test of seconds
	path := filepath.Join(t.TempDir(), "steady.db")
	d, err := Open(ctx, "sqlite:"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Exec(ctx, `CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)`); err != nil {
		t.Fatal(err)
	}
	pad := strings.Repeat("x", 2000)
	var written, largest int64
	id := 0
	// Some 16 MB a second, a millisecond between transactions: less than
	// a checkpoint of the last half second's takes.
	for end := time.Now().Add(8 * checkpointEvery); time.Now().Before(end); time.Sleep(time.Millisecond) {
		if err := d.Write(ctx, func(tx *Tx) error {
			for range 8 {
				id++
				if _, err := tx.ExecContext(ctx, `INSERT INTO t (id, v) VALUES ($1, $2)`, id, pad); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		written += 8 * int64(len(pad))
		if id%64 == 0 {
			if st, err := os.Stat(path + "-wal"); err == nil {
				largest = max(largest, st.Size())
			}
		}
	}
	if written < 8<<20 {
		t.Fatalf("only %d bytes written in %v: too few to tell", written, 8*checkpointEvery)
	}
	if largest > written/3 {
		t.Fatalf("the log grew to %d bytes while %d were written: it did not start again at the checkpoints", largest, written)
	}
	t.Logf("%d bytes written, the log at most %d", written, largest)
}
