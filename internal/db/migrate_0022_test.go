package db_test

import (
	"fmt"
	"strings"
	"testing"

	"tongxin/internal/db"
)

// TestUpgradeTo0022KeepsWhatScansShowed: a scan log of schema 0021
// migrates to 0022 with every scan reading what its code showed as
// before, each distinct content stored once, the scans without one
// still without, and the scan ids as they were; a scan added after
// refers to the content by id.
func TestUpgradeTo0022KeepsWhatScansShowed(t *testing.T) {
	eachUpgrade(t, 21, func(t *testing.T, u *upgrade) {
		ctx, d, must := u.ctx, u.d, u.must
		u.bridge()
		shown := []string{`{"pid":"P1","name":"王*明"}`, `{"rid":"R7","name":"李*"}`, ``, `{"pid":"P1","name":"王*明"}`,
			`{"pid":"P2","name":"` + strings.Repeat("长", 1200) + `"}`, ``, `{"rid":"R7","name":"李*"}`}
		for i, body := range shown {
			var pass any
			if body != "" {
				pass = body
			}
			must(`INSERT INTO checkpoint_scans (checkpoint_id, client_id, pid, pass, verdict, reason, scanned_at, received_at,
				officer, offline, shown) VALUES (1, $1, 'P1', $2, 'allow', 'ok', $3, $4, 'kakou', FALSE, 'pass')`,
				fmt.Sprintf("scan-%05d", i), pass, 1000+i, 2000+i)
		}
		if applied, err := d.MigrateTo(ctx, 22); err != nil || len(applied) != 1 || applied[0] != 22 {
			t.Fatalf("applied %v: %v", applied, err)
		}
		read := func() []string {
			var out []string
			err := d.Read(ctx, func(tx *db.Tx) error {
				rows, err := tx.QueryContext(ctx, `SELECT s.id, s.client_id, COALESCE(v.body, '')
					FROM checkpoint_scans s LEFT JOIN scan_shown v ON v.id = s.shown_id ORDER BY s.id`)
				if err != nil {
					return err
				}
				defer rows.Close()
				for rows.Next() {
					var id int64
					var client, body string
					if err := rows.Scan(&id, &client, &body); err != nil {
						return err
					}
					out = append(out, fmt.Sprintf("%d %s %s", id, client, body))
				}
				return rows.Err()
			})
			if err != nil {
				t.Fatal(err)
			}
			return out
		}
		got := read()
		for i, body := range shown {
			if want := fmt.Sprintf("%d scan-%05d %s", i+1, i, body); i >= len(got) || got[i] != want {
				t.Fatalf("scan %d after 0022: %q, want %q", i, got, want)
			}
		}
		var contents int
		if err := d.Read(ctx, func(tx *db.Tx) error {
			return tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM scan_shown`).Scan(&contents)
		}); err != nil || contents != 3 {
			t.Fatalf("%d contents stored (want 3, each once): %v", contents, err)
		}
		must(`INSERT INTO checkpoint_scans (checkpoint_id, client_id, pid, shown_id, verdict, reason, scanned_at, received_at,
			officer) VALUES (1, 'scan-new', 'P1', 1, 'allow', 'ok', 1, 1, 'kakou')`)
		if err := u.exec(`INSERT INTO checkpoint_scans (checkpoint_id, client_id, shown_id, verdict, reason, scanned_at,
			received_at, officer) VALUES (1, 'scan-dangling', 999, 'allow', 'ok', 1, 1, 'kakou')`); err == nil {
			t.Error("a scan referring to no stored content was taken")
		}
		if got := read(); len(got) != len(shown)+1 || !strings.HasPrefix(got[len(shown)], fmt.Sprintf("%d scan-new {", len(shown)+1)) {
			t.Fatalf("the new scan: %q", got[len(got)-1])
		}
	})
}
