// Package dbtest opens real, migrated, isolated databases for tests: a
// SQLite file in t.TempDir() always, and a fresh PostgreSQL schema when
// TONGXIN_TEST_POSTGRES holds a DSN.
package dbtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tongxin/internal/clock"
	"tongxin/internal/db"
)

// EnvPostgres names the variable holding the PostgreSQL test DSN.
const EnvPostgres = "TONGXIN_TEST_POSTGRES"

// Kinds lists the database kinds available to this test run.
func Kinds() []string {
	if os.Getenv(EnvPostgres) != "" {
		return []string{"sqlite", "postgres"}
	}
	return []string{"sqlite"}
}

// Each runs fn once per available database kind, as subtests named
// "sqlite" and "postgres", each on a new migrated database. When PostgreSQL
// is not configured the "postgres" subtest is reported as skipped.
func Each(t *testing.T, clk clock.Clock, fn func(t *testing.T, d *db.DB)) {
	t.Helper()
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			fn(t, Open(t, kind, clk))
		})
	}
}

// URL returns a database URL of the given kind for a new, empty database
// that is removed when the test ends. It skips the test for "postgres" when
// TONGXIN_TEST_POSTGRES is unset.
func URL(t testing.TB, kind string) string {
	t.Helper()
	if kind == "sqlite" {
		return "sqlite:" + filepath.Join(t.TempDir(), "tongxin.db")
	}
	dsn := os.Getenv(EnvPostgres)
	if dsn == "" {
		t.Skip("PostgreSQL runs skipped: " + EnvPostgres + " is not set")
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	defer admin.Close()
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("dbtest: create schema: %v", err)
	}
	t.Cleanup(func() {
		a, err := sql.Open("pgx", dsn)
		if err != nil {
			return
		}
		defer a.Close()
		a.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
	})
	u, err := schemaURL(schema, false)
	if err != nil {
		t.Fatalf("dbtest: bad %s: %v", EnvPostgres, err)
	}
	return u
}

// Open opens and migrates a new database of the given kind.
func Open(t testing.TB, kind string, clk clock.Clock) *db.DB {
	t.Helper()
	return OpenURL(t, URL(t, kind), clk)
}

// OpenURL opens the database at rawURL (typically from URL) and migrates
// it; it is closed when the test ends. Opening the same URL twice gives two
// independent handles on one database, as two instances of the program
// would have.
func OpenURL(t testing.TB, rawURL string, clk clock.Clock) *db.DB {
	t.Helper()
	if clk == nil {
		clk = clock.Real{}
	}
	kind := "sqlite"
	if !strings.HasPrefix(rawURL, "sqlite:") {
		kind = "postgres"
	}
	d, err := db.Open(context.Background(), rawURL, clk)
	if err != nil {
		t.Fatalf("dbtest: open %s: %v", kind, err)
	}
	t.Cleanup(func() { d.Close() })
	if _, err := d.Migrate(context.Background()); err != nil {
		t.Fatalf("dbtest: migrate %s: %v", kind, err)
	}
	d.AuditKey = AuditKey(rawURL)
	return d
}

// AuditKey is the audit chain's key of the test database at rawURL: the
// same for every handle on it, as instances sharing DATA_DIR/audit.key.
func AuditKey(rawURL string) db.AuditKey {
	k := sha256.Sum256([]byte("tongxin-dbtest-audit-key\x00" + rawURL))
	return db.AuditKey{Secret: k[:], From: 1}
}
