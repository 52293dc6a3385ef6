package db_test

import (
	"strings"
	"testing"

	"tongxin/internal/db"
)

// TestUpgradeTo0019KeepsCheckpoints: a database of schema 0018 holding
// checkpoints, shifts, scans and handovers migrates to 0019 (the tables
// rebuilt on SQLite, the constraints replaced on PostgreSQL) with every
// row as it was, the references intact and still enforced, the ids not
// given twice, and the new kind, reasons and columns taken.
func TestUpgradeTo0019KeepsCheckpoints(t *testing.T) {
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			u := openAt(t, kind, 18)
			ctx, d, exec, must := u.ctx, u.d, u.exec, u.must
			must(`INSERT INTO areas (code, name, level, parent_code, path, depth, created_at, updated_at) VALUES
				('430200', '株洲市', 'city', NULL, '/430200/', 0, 1, 1)`)
			for i, name := range []string{"建宁大桥", "天台路口", "荷塘接驳点"} {
				must(`INSERT INTO checkpoints (name, kind, place, area_code, area_path, created_at, created_by, updated_at, updated_by)
					VALUES ($1, $2, '', '430200', '/430200/', 1, 'admin', 1, 'admin')`, name, []string{"bridge", "road", "transfer_point"}[i])
			}
			// The last checkpoint and the last scan deleted: their ids must
			// not come back.
			must(`DELETE FROM checkpoints WHERE name = '荷塘接驳点'`)
			must(`INSERT INTO checkpoint_shifts (checkpoint_id, name, username, starts_at, ends_at, created_at, created_by)
				VALUES (1, '王五', 'kakou', 1, 2, 1, 'admin'), (2, '赵六', '', 1, 2, 1, 'admin')`)
			for i := range 5 {
				must(`INSERT INTO checkpoint_scans (checkpoint_id, client_id, pid, pass, verdict, reason, scanned_at, received_at,
					officer, offline) VALUES ($1, $2, 'P1', '{"pid":"P1"}', 'deny', 'expired', $3, $3, 'kakou', $4)`,
					1+i%2, "scan-0000"+string(rune('a'+i)), 1000+i, i%2 == 0)
			}
			must(`DELETE FROM checkpoint_scans WHERE client_id = 'scan-0000e'`)
			must(`INSERT INTO checkpoint_handovers (checkpoint_id, enterprise_key, enterprise_name, goods, quantity, unit,
				outside_plate, inside_plate, handed_at, recorded_at, recorded_by) VALUES (2, 'K', '企业', '蔬菜', 3, '吨', '湘B1', '湘B2', 1, 1, 'kakou')`)
			snapshot := func() string {
				var b strings.Builder
				err := d.Read(ctx, func(tx *db.Tx) error {
					for _, q := range []string{
						`SELECT id || ':' || name || ':' || kind || ':' || version FROM checkpoints ORDER BY id`,
						`SELECT id || ':' || checkpoint_id || ':' || name FROM checkpoint_shifts ORDER BY id`,
						`SELECT id || ':' || checkpoint_id || ':' || client_id || ':' || pid || ':' || pass || ':' || reason || ':' ||
							scanned_at || ':' || CASE WHEN offline THEN 'off' ELSE 'on' END FROM checkpoint_scans ORDER BY id`,
						`SELECT id || ':' || checkpoint_id || ':' || goods FROM checkpoint_handovers ORDER BY id`,
					} {
						rows, err := tx.QueryContext(ctx, q)
						if err != nil {
							return err
						}
						for rows.Next() {
							var s string
							if err := rows.Scan(&s); err != nil {
								rows.Close()
								return err
							}
							b.WriteString(s + "\n")
						}
						rows.Close()
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				return b.String()
			}
			before := snapshot()
			applied, err := d.MigrateTo(ctx, 21) // 0022 moves what scans showed out of the row (its own test)
			if err != nil {
				t.Fatal(err)
			}
			if len(applied) == 0 || applied[0] != 19 {
				t.Fatalf("applied %v", applied)
			}
			if after := snapshot(); after != before {
				t.Fatalf("rows changed:\nbefore\n%s\nafter\n%s", before, after)
			}
			// The new kind, with its estate; the reasons and the shown code.
			must(`INSERT INTO checkpoints (name, kind, place, area_code, area_path, created_at, created_by, updated_at, updated_by,
				estate) VALUES ('翠园门岗', 'estate_gate', '', '430200', '/430200/', 1, 'admin', 1, 'admin', '翠园')`)
			var id int64
			if err := d.Read(ctx, func(tx *db.Tx) error {
				return tx.QueryRowContext(ctx, `SELECT id FROM checkpoints WHERE kind = 'estate_gate'`).Scan(&id)
			}); err != nil || id != 4 {
				t.Fatalf("new checkpoint id %d (want 4, after the deleted 3): %v", id, err)
			}
			must(`INSERT INTO checkpoint_scans (checkpoint_id, client_id, verdict, reason, scanned_at, received_at, officer, shown)
				VALUES (4, 'scan-0000f', 'deny', 'zone_sealed', 1, 1, 'kakou', 'resident')`)
			if err := d.Read(ctx, func(tx *db.Tx) error {
				return tx.QueryRowContext(ctx, `SELECT id FROM checkpoint_scans WHERE client_id = 'scan-0000f'`).Scan(&id)
			}); err != nil || id != 6 {
				t.Fatalf("new scan id %d (want 6, after the deleted 5): %v", id, err)
			}
			for _, bad := range []string{
				`INSERT INTO checkpoints (name, kind, place, area_code, area_path, created_at, created_by, updated_at, updated_by)
					VALUES ('x', 'estate_gate', '', '430200', '/430200/', 1, 'a', 1, 'a')`,
				`INSERT INTO checkpoints (name, kind, place, area_code, area_path, created_at, created_by, updated_at, updated_by, estate)
					VALUES ('x', 'road', '', '430200', '/430200/', 1, 'a', 1, 'a', '翠园')`,
				`INSERT INTO checkpoints (name, kind, place, area_code, area_path, created_at, created_by, updated_at, updated_by)
					VALUES ('x', 'tunnel', '', '430200', '/430200/', 1, 'a', 1, 'a')`,
				`INSERT INTO checkpoint_scans (checkpoint_id, client_id, verdict, reason, scanned_at, received_at, officer)
					VALUES (1, 'scan-0000g', 'deny', 'zone_closed', 1, 1, 'kakou')`,
				`INSERT INTO checkpoint_scans (checkpoint_id, client_id, verdict, reason, scanned_at, received_at, officer, shown)
					VALUES (1, 'scan-0000h', 'deny', 'expired', 1, 1, 'kakou', 'health')`,
				`INSERT INTO checkpoint_scans (checkpoint_id, client_id, verdict, reason, scanned_at, received_at, officer)
					VALUES (3, 'scan-0000i', 'deny', 'expired', 1, 1, 'kakou')`,
				`INSERT INTO checkpoint_shifts (checkpoint_id, name, starts_at, ends_at, created_at, created_by) VALUES (9, 'x', 1, 2, 1, 'a')`,
				`DELETE FROM checkpoints WHERE id = 1`,
			} {
				if err := exec(bad); err == nil {
					t.Errorf("taken after 0019: %s", bad)
				}
			}
			if kind == "sqlite" {
				var n int
				if err := d.Read(ctx, func(tx *db.Tx) error {
					return tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM pragma_foreign_key_check`).Scan(&n)
				}); err != nil || n != 0 {
					t.Fatalf("foreign_key_check: %d rows, %v", n, err)
				}
			}
		})
	}
}
