package checkpoint

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/db/dbtest"
	"tongxin/internal/pass"
)

func BenchmarkScanLogGroup(b *testing.B) {
	clk := clock.NewManual(testBase)
	d := dbtest.Open(b, "sqlite", clk)
	f := newFixture(b, d, clk)
	c := f.checkpoint("株洲大桥", Bridge, "430211001")
	cl := claims("P1", "430211")
	info := passInfo(&cl, pass.OK)
	var n int64
	for _, g := range []int{1, 4, 16, 64, 256} {
		b.Run(fmt.Sprint(g), func(b *testing.B) {
			rows := make([]*scanRow, g)
			for i := 0; i < b.N; i += g {
				for j := range rows {
					n++
					rows[j] = &scanRow{checkpoint: c.ID, clientID: fmt.Sprintf("c-%d", n), claims: info, reason: pass.OK, scannedAt: testBase, officer: "x"}
				}
				if err := d.Write(context.Background(), func(tx *db.Tx) error {
					_, err := insertScans(context.Background(), tx, rows, false)
					return err
				}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkScanLogSingle(b *testing.B) {
	clk := clock.NewManual(testBase)
	d := dbtest.Open(b, "sqlite", clk)
	f := newFixture(b, d, clk)
	c := f.checkpoint("株洲大桥", Bridge, "430211001")
	cl := claims("P1", "430211")
	info := passInfo(&cl, pass.OK)
	j, _ := json.Marshal(info)
	var n int64
	const q = `INSERT INTO checkpoint_scans (checkpoint_id, client_id, pid, pass, reason, scanned_at, officer, verdict, received_at, offline)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (checkpoint_id, client_id) DO NOTHING`
	for _, g := range []int{0, 1, 4, 16, 64, 256} {
		b.Run(fmt.Sprint(g), func(b *testing.B) {
			gg := max(g, 1)
			for i := 0; i < b.N; i += gg {
				if err := d.Write(context.Background(), func(tx *db.Tx) error {
					for range g {
						n++
						res, err := tx.ExecContext(context.Background(), q, c.ID, fmt.Sprintf("c-%d", n), "P1", string(j), "ok", testBase.UnixMilli(), "x", "allow", tx.NowMS(), false)
						if err != nil {
							return err
						}
						if _, err := res.LastInsertId(); err != nil {
							return err
						}
					}
					return nil
				}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
