package db

import "testing"

func TestPositional(t *testing.T) {
	cases := []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"SELECT a FROM t WHERE a = $1 AND b IN ($2, $3)", "SELECT a FROM t WHERE a = ? AND b IN (?, ?)"},
		{"INSERT INTO t VALUES ($1, '$2 is text', $2) -- $9 in a comment\n", "INSERT INTO t VALUES (?, '$2 is text', ?) -- $9 in a comment\n"},
		{`SELECT "a$1" FROM t /* $5 */ WHERE x = $1`, `SELECT "a$1" FROM t /* $5 */ WHERE x = ?`},
		{"UPDATE t SET a = a + $3 WHERE id = $1", "UPDATE t SET a = a + $3 WHERE id = $1"}, // out of order
		{"UPDATE t SET a = $1, b = $1", "UPDATE t SET a = $1, b = $1"},                     // repeated
		{"SELECT $1, ?", "SELECT $1, ?"}, // mixed
		{"SELECT '$1", "SELECT '$1"},     // unterminated
		{"SELECT $", "SELECT $"},
		{"SELECT $10", "SELECT $10"},
	}
	for _, c := range cases {
		if got, _ := positional(c.in); got != c.want {
			t.Errorf("positional(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
