package audit_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"tongxin/internal/audit"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/db/dbtest"
)

func record(t *testing.T, d *db.DB, n int) {
	t.Helper()
	ctx := context.Background()
	for i := 1; i <= n; i++ {
		err := d.Write(ctx, func(tx *db.Tx) error {
			return audit.Record(ctx, tx, audit.Entry{ActorID: 7, Actor: "zhang", Action: "area.update",
				ObjectType: "area", ObjectID: fmt.Sprint(430200 + i), Summary: fmt.Sprintf("改名 %d", i)})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestVerifyFindsTheFirstAlteredRow(t *testing.T) {
	clk := clock.NewManual(time.Date(2022, 11, 20, 9, 0, 0, 0, time.UTC))
	tamper := []struct {
		name    string
		sql     string
		wantSeq int64
	}{
		{"summary edited", `UPDATE audit_log SET summary = '无事发生' WHERE seq = 3`, 3},
		{"actor edited", `UPDATE audit_log SET actor = 'li' WHERE seq = 2`, 2},
		{"time edited", `UPDATE audit_log SET at = at + 1 WHERE seq = 4`, 4},
		{"row removed", `DELETE FROM audit_log WHERE seq = 3`, 3},
		{"last row removed", `DELETE FROM audit_log WHERE seq = 5`, 5},
		{"row rehashed without relinking", `UPDATE audit_log SET hash = 'x' WHERE seq = 2`, 2},
	}
	for _, tc := range tamper {
		t.Run(tc.name, func(t *testing.T) {
			dbtest.Each(t, clk, func(t *testing.T, d *db.DB) {
				record(t, d, 5)
				n, err := audit.Verify(context.Background(), d)
				if err != nil || n != 5 {
					t.Fatalf("intact chain: n=%d err=%v", n, err)
				}
				if err := d.Exec(context.Background(), tc.sql); err != nil {
					t.Fatal(err)
				}
				_, err = audit.Verify(context.Background(), d)
				var be *audit.BrokenError
				if !errors.As(err, &be) {
					t.Fatalf("after tampering: err=%v, want BrokenError", err)
				}
				if be.Seq != tc.wantSeq {
					t.Fatalf("broken at %d (%s), want %d", be.Seq, be.Reason, tc.wantSeq)
				}
			})
		})
	}
}

func TestRecordIsPartOfTheTransaction(t *testing.T) {
	dbtest.Each(t, nil, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		boom := errors.New("boom")
		err := d.Write(ctx, func(tx *db.Tx) error {
			if err := audit.Record(ctx, tx, audit.Entry{Action: "x.y", ObjectType: "x", ObjectID: "1", Summary: "s"}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		record(t, d, 1)
		rows, err := audit.List(ctx, d, audit.Filter{AllAreas: true})
		if err != nil || len(rows) != 1 || rows[0].Seq != 1 {
			t.Fatalf("rows=%+v err=%v: the rolled-back entry must leave no row and no gap", rows, err)
		}
		if n, err := audit.Verify(ctx, d); err != nil || n != 1 {
			t.Fatalf("verify: n=%d err=%v", n, err)
		}
	})
}

func TestListIsScopedByArea(t *testing.T) {
	dbtest.Each(t, nil, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		err := d.Write(ctx, func(tx *db.Tx) error {
			for _, a := range [][3]string{{"430200", "", "/430200/"}, {"430203", "430200", "/430200/430203/"}, {"430204", "430200", "/430200/430204/"}} {
				var parent any
				if a[1] != "" {
					parent = a[1]
				}
				if _, err := tx.ExecContext(ctx, `INSERT INTO areas (code, name, level, parent_code, path, depth, created_at, updated_at) VALUES ($1, $1, 'district', $2, $3, 1, 0, 0)`, a[0], parent, a[2]); err != nil {
					return err
				}
			}
			for _, code := range []string{"430203", "430204", ""} {
				if err := audit.Record(ctx, tx, audit.Entry{Action: "area.update", ObjectType: "area", ObjectID: code, AreaCode: code, Summary: "s"}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		rows, err := audit.List(ctx, d, audit.Filter{AreaPaths: []string{"/430200/430203/"}})
		if err != nil || len(rows) != 1 || rows[0].AreaCode != "430203" {
			t.Fatalf("scoped list = %+v, err=%v; want only 430203", rows, err)
		}
		none, _ := audit.List(ctx, d, audit.Filter{})
		if len(none) != 0 {
			t.Fatalf("an empty scope must see nothing, saw %d", len(none))
		}
		all, _ := audit.List(ctx, d, audit.Filter{AllAreas: true})
		if len(all) != 3 {
			t.Fatalf("all = %d rows, want 3", len(all))
		}
	})
}

// RecordAll appends many rows at once into the same chain as Record: the
// chain verifies across single and batched appends, in order, and a
// tampered row in the middle of a batch is found.
func TestRecordAllExtendsTheChain(t *testing.T) {
	dbtest.Each(t, nil, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		record(t, d, 2)
		var batch []audit.Entry
		for i := range 77 {
			batch = append(batch, audit.Entry{Action: "ticket.escalate", ObjectType: "ticket", ObjectID: fmt.Sprintf("WT-%02d", i),
				Summary: fmt.Sprintf("升级 %d", i)})
		}
		if err := d.Write(ctx, func(tx *db.Tx) error { return audit.RecordAll(ctx, tx, batch) }); err != nil {
			t.Fatal(err)
		}
		record(t, d, 1)
		n, err := audit.Verify(ctx, d)
		if err != nil || n != 80 {
			t.Fatalf("verify: %d rows, %v", n, err)
		}
		var actor, obj string
		if err := d.Read(ctx, func(tx *db.Tx) error {
			return tx.QueryRowContext(ctx, `SELECT actor, object_id FROM audit_log WHERE seq = 42`).Scan(&actor, &obj)
		}); err != nil || actor != "system" || obj != "WT-39" {
			t.Fatalf("row 42: %s %s %v", actor, obj, err)
		}
		if err := d.Exec(ctx, `UPDATE audit_log SET summary = 'x' WHERE seq = 50`); err != nil {
			t.Fatal(err)
		}
		var be *audit.BrokenError
		if _, err := audit.Verify(ctx, d); !errors.As(err, &be) || be.Seq != 50 {
			t.Fatalf("tampered batch row: %v", err)
		}
	})
}

// Appenders on two handles of one database (two instances), from many
// goroutines at once, keep one chain without gaps: each handle's
// remembered head is checked against the head row and read again when
// the other moved it; the head each remembers is the one it wrote last.
func TestRecordConcurrentAppendersOnTwoHandles(t *testing.T) {
	for _, kind := range dbtest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			url := dbtest.URL(t, kind)
			a, b := dbtest.OpenURL(t, url, nil), dbtest.OpenURL(t, url, nil)
			ctx := context.Background()
			const goroutines, each = 6, 15
			var wg sync.WaitGroup
			errc := make(chan error, goroutines)
			for g := range goroutines {
				d := a
				if g%2 == 1 {
					d = b
				}
				wg.Go(func() {
					for i := range each {
						err := d.Write(ctx, func(tx *db.Tx) error {
							return audit.Record(ctx, tx, audit.Entry{Action: "area.update", ObjectType: "area",
								ObjectID: fmt.Sprint(g, "-", i), Summary: "s"})
						})
						if err != nil {
							errc <- err
							return
						}
					}
				})
			}
			wg.Wait()
			close(errc)
			for err := range errc {
				t.Fatal(err)
			}
			if n, err := audit.Verify(ctx, a); err != nil || n != goroutines*each {
				t.Fatalf("verify: %d rows, %v; want %d", n, err, goroutines*each)
			}
			record(t, a, 1)
			err := a.Write(ctx, func(tx *db.Tx) error {
				var seq int64
				var hash string
				if err := tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&seq, &hash); err != nil {
					return err
				}
				if s, h, ok := tx.AuditHead().Load(); !ok || s != seq || h != hash {
					t.Errorf("remembered head %d %q %v, the head row %d %q", s, h, ok, seq, hash)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A row's hashes never change with the code that computes them: rows
// already written must keep verifying. The values are those of the
// encoding as first written (fmt.Fprintf of each length-prefixed field).
func TestRowHashesAreStable(t *testing.T) {
	r := &audit.Row{Seq: 42, At: time.UnixMilli(1668934800123), Entry: audit.Entry{ActorID: 7, Actor: "zhang", Action: "report.file",
		ObjectType: "enterprise", ObjectID: "91430202MA4L000001", AreaCode: "430202001",
		Summary: "填报 2022-11-20 复工日报：已复工，产能 80%，应到岗 10 人，实际到岗 8 人，闭环生产 是"}, PrevHash: "ab12"}
	if got, want := audit.PlainHash(r), "a273d6a96ed22bec43ce254e2830631470aacde0b7b5c4c83c16e62959fff3a1"; got != want {
		t.Errorf("plain hash %s, want %s", got, want)
	}
	if got, want := audit.KeyedHash([]byte("secret"))(r), "4f77c6c06f065bf1744238223339d3bb706ac6b6f4b9699f7a08752d9b75cc9b"; got != want {
		t.Errorf("keyed hash %s, want %s", got, want)
	}
}
