package db_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/db/dbtest"
	"tongxin/internal/errs"
)

func TestMigrateIsIdempotentAndVersioned(t *testing.T) {
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			d, err := db.Open(ctx, dbtest.URL(t, kind), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			applied, known, err := d.SchemaVersion(ctx)
			if err != nil || applied != 0 || known == 0 {
				t.Fatalf("fresh database: applied=%d known=%d err=%v", applied, known, err)
			}
			first, err := d.Migrate(ctx)
			if err != nil || len(first) != known {
				t.Fatalf("first migrate applied %v, want %d steps, err=%v", first, known, err)
			}
			again, err := d.Migrate(ctx)
			if err != nil || len(again) != 0 {
				t.Fatalf("second migrate applied %v, want none, err=%v", again, err)
			}
			applied, _, _ = d.SchemaVersion(ctx)
			if applied != known {
				t.Fatalf("applied %d, want %d", applied, known)
			}
		})
	}
}

func TestTxCapturesClockOnceAndRollsBack(t *testing.T) {
	clk := clock.NewManual(time.Date(2022, 11, 20, 9, 0, 0, 0, time.UTC))
	dbtest.Each(t, clk, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		want := errs.E(errs.Invalid, "x", "坏")
		err := d.Write(ctx, func(tx *db.Tx) error {
			if tx.Now != clk.Now() {
				t.Errorf("tx.Now = %v, want %v", tx.Now, clk.Now())
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO areas (code, name, level, path, depth, created_at, updated_at) VALUES ('430200', '株洲市', 'city', '/430200/', 0, $1, $1)`, tx.NowMS()); err != nil {
				return err
			}
			return want
		})
		if !errors.Is(err, want) {
			t.Fatalf("Write returned %v, want the callback's error", err)
		}
		var n int
		d.Read(ctx, func(tx *db.Tx) error {
			return tx.QueryRowContext(ctx, `SELECT count(*) FROM areas`).Scan(&n)
		})
		if n != 0 {
			t.Fatalf("rolled-back insert is visible: %d rows", n)
		}
	})
}

func TestUniqueViolationIsRecognised(t *testing.T) {
	dbtest.Each(t, nil, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		ins := func() error {
			return d.Write(ctx, func(tx *db.Tx) error {
				_, err := tx.ExecContext(ctx, `INSERT INTO areas (code, name, level, path, depth, created_at, updated_at) VALUES ('430200', '株洲市', 'city', '/430200/', 0, 0, 0)`)
				return err
			})
		}
		if err := ins(); err != nil {
			t.Fatal(err)
		}
		err := ins()
		if !d.Dialect.IsUniqueViolation(err) {
			t.Fatalf("second insert: %v is not recognised as a unique violation", err)
		}
	})
}

// Many goroutines writing at once must all succeed: on SQLite they queue on
// the single write connection instead of failing with "database is locked".
func TestConcurrentWritesAllCommit(t *testing.T) {
	dbtest.Each(t, nil, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		if err := d.Write(ctx, func(tx *db.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO login_throttle (key, failures, window_start, locked_until) VALUES ('k', 0, 0, 0)`)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errc := make(chan error, 50)
		for i := 0; i < 50; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errc <- d.Write(ctx, func(tx *db.Tx) error {
					_, err := tx.ExecContext(ctx, `UPDATE login_throttle SET failures = failures + 1 WHERE key = 'k'`)
					return err
				})
			}()
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			if err != nil {
				t.Fatal(err)
			}
		}
		var n int
		d.Read(ctx, func(tx *db.Tx) error {
			return tx.QueryRowContext(ctx, `SELECT failures FROM login_throttle WHERE key = 'k'`).Scan(&n)
		})
		if n != 50 {
			t.Fatalf("failures = %d, want 50", n)
		}
	})
}

func TestOpenRejectsUnknownURL(t *testing.T) {
	_, err := db.Open(context.Background(), "mysql://x", nil)
	if !errs.Is(err, errs.Invalid) {
		t.Fatalf("got %v, want Invalid", err)
	}
}

// Statements repeated across transactions are prepared once and reused;
// the answers stay right whether a statement runs prepared or not.
func TestRepeatedStatementsArePreparedAndCorrect(t *testing.T) {
	dbtest.Each(t, nil, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		for i := 0; i < 5; i++ {
			err := d.Write(ctx, func(tx *db.Tx) error {
				_, err := tx.ExecContext(ctx, `INSERT INTO login_throttle (key, failures, window_start, locked_until) VALUES ($1, $2, 0, 0)`,
					fmt.Sprint("k", i), i)
				return err
			})
			if err != nil {
				t.Fatalf("insert %d: %v", i, err)
			}
		}
		for i := 0; i < 5; i++ {
			var n int
			err := d.Read(ctx, func(tx *db.Tx) error {
				return tx.QueryRowContext(ctx, `SELECT failures FROM login_throttle WHERE key = $1`, fmt.Sprint("k", i)).Scan(&n)
			})
			if err != nil || n != i {
				t.Fatalf("read %d: n=%d err=%v", i, n, err)
			}
		}
		// A statement that fails keeps failing with its own error.
		for i := 0; i < 3; i++ {
			err := d.Write(ctx, func(tx *db.Tx) error {
				_, err := tx.ExecContext(ctx, `INSERT INTO no_such_table VALUES (1)`)
				return err
			})
			if err == nil || !strings.Contains(err.Error(), "no_such_table") {
				t.Fatalf("attempt %d: %v", i, err)
			}
		}
	})
}

// SQLite's write pool keeps its temporary files, the savepoints'
// sub-journals among them, in memory; the read pool keeps the default.
func TestSQLiteWritePoolTempStoreInMemory(t *testing.T) {
	d := dbtest.Open(t, "sqlite", nil)
	var w, r int
	if err := d.WritePool().QueryRow(`PRAGMA temp_store`).Scan(&w); err != nil {
		t.Fatal(err)
	}
	if err := d.ReadPool().QueryRow(`PRAGMA temp_store`).Scan(&r); err != nil {
		t.Fatal(err)
	}
	if w != 2 || r != 0 {
		t.Errorf("temp_store: write pool %d, read pool %d; want 2 (memory) and 0 (default)", w, r)
	}
}
