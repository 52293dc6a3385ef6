package dbtest

import (
	"context"
	"strings"
	"testing"

	"tongxin/internal/db"
)

// Insert writes n rows straight into a table for a benchmark's data:
// multi-row INSERTs of head ("INSERT INTO t (a, b) VALUES ") and the
// rows row(i) makes ("(1, 'x')"), 500 a statement, 200,000 a
// transaction. The services would take far too long for a city's worth.
func Insert(tb testing.TB, d *db.DB, head string, n int, row func(i int) string) {
	tb.Helper()
	ctx := context.Background()
	const perStmt, perTx = 500, 200000
	for start := 0; start < n; start += perTx {
		err := d.Write(ctx, func(tx *db.Tx) error {
			for s := start; s < min(start+perTx, n); s += perStmt {
				var q strings.Builder
				q.WriteString(head)
				for i := s; i < min(s+perStmt, n, start+perTx); i++ {
					if i > s {
						q.WriteByte(',')
					}
					q.WriteString(row(i))
				}
				if _, err := tx.ExecContext(ctx, q.String()); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			tb.Fatalf("dbtest: bulk insert: %v", err)
		}
	}
}
