package db_test

import (
	"fmt"
	"strings"
	"testing"

	"tongxin/internal/db"
)

// scanReasons are the reasons the scan log takes after 0019.
var scanReasons = []string{"ok", "malformed", "bad_signature", "unknown_key", "not_yet_valid", "expired", "revoked",
	"area_not_allowed", "checkpoint_not_allowed", "zone_sealed", "zone_controlled"}

// TestUpgradeTo0020KeepsScans: a scan log of schema 0019 migrates to 0020
// with every row and column as it was and its ids not given twice; the
// reasons taken and refused are the same as before; and on SQLite
// inserting a scan no longer builds a temporary b-tree for the check.
func TestUpgradeTo0020KeepsScans(t *testing.T) {
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			u := openAt(t, kind, 19)
			ctx, d, exec, must := u.ctx, u.d, u.exec, u.must
			u.bridge()
			for i, reason := range scanReasons {
				verdict, shown := "deny", "pass"
				if reason == "ok" {
					verdict = "allow"
				}
				if i%3 == 0 {
					shown = "resident"
				}
				must(`INSERT INTO checkpoint_scans (checkpoint_id, client_id, pid, pass, verdict, reason, scanned_at, received_at,
					officer, offline, shown) VALUES (1, $1, 'P1', '{"pid":"P1"}', $2, $3, $4, $5, 'kakou', $6, $7)`,
					fmt.Sprintf("scan-%05d", i), verdict, reason, 1000+i, 2000+i, i%2 == 0, shown)
			}
			// The last scan deleted: its id must not come back.
			must(`DELETE FROM checkpoint_scans WHERE client_id = $1`, fmt.Sprintf("scan-%05d", len(scanReasons)-1))
			snapshot := func() string {
				var b strings.Builder
				err := d.Read(ctx, func(tx *db.Tx) error {
					rows, err := tx.QueryContext(ctx, `SELECT id || ':' || checkpoint_id || ':' || client_id || ':' || pid || ':' || pass ||
						':' || verdict || ':' || reason || ':' || scanned_at || ':' || received_at || ':' || officer || ':' ||
						CASE WHEN offline THEN 'off' ELSE 'on' END || ':' || shown FROM checkpoint_scans ORDER BY id`)
					if err != nil {
						return err
					}
					defer rows.Close()
					for rows.Next() {
						var s string
						if err := rows.Scan(&s); err != nil {
							return err
						}
						b.WriteString(s + "\n")
					}
					return rows.Err()
				})
				if err != nil {
					t.Fatal(err)
				}
				return b.String()
			}
			before := snapshot()
			if applied, err := d.MigrateTo(ctx, 20); err != nil || len(applied) != 1 || applied[0] != 20 {
				t.Fatalf("applied %v: %v", applied, err)
			}
			if after := snapshot(); after != before || strings.Count(after, "\n") != len(scanReasons)-1 {
				t.Fatalf("rows changed:\nbefore\n%s\nafter\n%s", before, after)
			}
			must(`INSERT INTO checkpoint_scans (checkpoint_id, client_id, verdict, reason, scanned_at, received_at, officer)
				VALUES (1, 'scan-new', 'deny', 'zone_controlled', 1, 1, 'kakou')`)
			var id int64
			if err := d.Read(ctx, func(tx *db.Tx) error {
				return tx.QueryRowContext(ctx, `SELECT id FROM checkpoint_scans WHERE client_id = 'scan-new'`).Scan(&id)
			}); err != nil || id != int64(len(scanReasons)+1) {
				t.Fatalf("new scan id %d (want %d, after the deleted one): %v", id, len(scanReasons)+1, err)
			}
			for i, reason := range scanReasons {
				must(`INSERT INTO checkpoint_scans (checkpoint_id, client_id, verdict, reason, scanned_at, received_at, officer)
					VALUES (1, $1, 'deny', $2, 1, 1, 'kakou')`, fmt.Sprintf("again-%05d", i), reason)
			}
			for _, bad := range []string{"zone_closed", "", "OK", "ok "} {
				if err := exec(`INSERT INTO checkpoint_scans (checkpoint_id, client_id, verdict, reason, scanned_at, received_at, officer)
					VALUES (1, 'scan-bad', 'deny', $1, 1, 1, 'kakou')`, bad); err == nil {
					t.Errorf("reason %q taken after 0020", bad)
				}
			}
			if kind != "sqlite" {
				return
			}
			var program strings.Builder
			if err := d.Read(ctx, func(tx *db.Tx) error {
				rows, err := tx.QueryContext(ctx, `EXPLAIN INSERT INTO checkpoint_scans (checkpoint_id, client_id, verdict, reason,
					scanned_at, received_at, officer) VALUES (1, 'x', 'deny', 'expired', 1, 1, 'k')`)
				if err != nil {
					return err
				}
				defer rows.Close()
				cols, _ := rows.Columns()
				vals := make([]any, len(cols))
				for i := range vals {
					vals[i] = new(any)
				}
				for rows.Next() {
					if err := rows.Scan(vals...); err != nil {
						return err
					}
					fmt.Fprintln(&program, *vals[1].(*any))
				}
				return rows.Err()
			}); err != nil {
				t.Fatal(err)
			}
			if p := program.String(); !strings.Contains(p, "Insert") || strings.Contains(p, "OpenEphemeral") {
				t.Fatalf("the insert's program builds a temporary b-tree:\n%s", p)
			}
		})
	}
}
