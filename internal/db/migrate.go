package db

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"tongxin/internal/errs"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migration is one numbered schema step: one SQL text for both dialects
// (NNNN_name.sql, with the {{id}} and {{blob}} macros), or one text per
// dialect (NNNN_name.sqlite.sql and NNNN_name.postgres.sql, both present)
// where the two cannot share one — a CHECK constraint changed is a table
// rebuilt on SQLite and a constraint dropped and added on PostgreSQL.
type Migration struct {
	Version int
	Name    string
	SQL     string             // both dialects; "" when PerDialect holds the texts
	Dialect map[Dialect]string // the text of each dialect, for a migration written twice
}

// For is the migration's text for dialect d, macros not yet expanded.
func (m Migration) For(d Dialect) string {
	if m.Dialect != nil {
		return m.Dialect[d]
	}
	return m.SQL
}

// dialectSuffixes are the file-name suffixes of dialect-specific texts.
var dialectSuffixes = map[string]Dialect{".sqlite": SQLite, ".postgres": Postgres}

// Migrations lists the embedded migrations in order. File names are
// NNNN_name.sql, or NNNN_name.sqlite.sql and NNNN_name.postgres.sql; a
// file once landed is never edited, only followed.
func Migrations() ([]Migration, error) {
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, err
	}
	byVersion := map[int]*Migration{}
	var ms []*Migration
	for _, e := range entries {
		v, name, dialect, err := migrationFile(e.Name())
		if err != nil {
			return nil, err
		}
		b, err := migrationFS.ReadFile("migrations/" + e.Name())
		if err != nil {
			return nil, err
		}
		m := byVersion[v]
		if m == nil {
			m = &Migration{Version: v, Name: name}
			byVersion[v] = m
			ms = append(ms, m)
		}
		if !m.add(name, dialect, string(b)) {
			return nil, fmt.Errorf("db: migration %04d duplicated (%s)", v, e.Name())
		}
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	out := make([]Migration, len(ms))
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("db: migration %04d missing or duplicated", i+1)
		}
		if m.Dialect != nil && (m.Dialect[SQLite] == "" || m.Dialect[Postgres] == "") {
			return nil, fmt.Errorf("db: migration %04d needs both %04d_%s.sqlite.sql and .postgres.sql", m.Version, m.Version, m.Name)
		}
		out[i] = *m
	}
	return out, nil
}

// migrationFile reads a migration file's name: its version, its name and
// its dialect (0 for both).
func migrationFile(file string) (version int, name string, dialect Dialect, err error) {
	base := strings.TrimSuffix(file, ".sql")
	for suffix, d := range dialectSuffixes {
		if strings.HasSuffix(base, suffix) {
			base, dialect = strings.TrimSuffix(base, suffix), d
		}
	}
	num, name, ok := strings.Cut(base, "_")
	version, err = strconv.Atoi(num)
	if !ok || err != nil || version <= 0 {
		return 0, "", 0, fmt.Errorf("db: migration file %q is not NNNN_name.sql", file)
	}
	return version, name, dialect, nil
}

// add puts the text of one file of m (dialect 0: both dialects); false
// when it clashes with a file already read.
func (m *Migration) add(name string, dialect Dialect, text string) bool {
	switch {
	case m.Name != name:
		return false
	case dialect == 0:
		if m.SQL != "" || m.Dialect != nil {
			return false
		}
		m.SQL = text
		return true
	case m.SQL != "" || m.Dialect[dialect] != "":
		return false
	}
	if m.Dialect == nil {
		m.Dialect = map[Dialect]string{}
	}
	m.Dialect[dialect] = text
	return true
}

// expand replaces the dialect macros in a migration.
func (d Dialect) expand(sql string) string {
	return strings.NewReplacer("{{id}}", d.IDColumn(), "{{blob}}", d.BlobType()).Replace(sql)
}

const createVersions = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version INTEGER PRIMARY KEY,
	name TEXT NOT NULL,
	applied_at BIGINT NOT NULL
)`

// SchemaVersion returns the applied version and the version this binary knows.
func (d *DB) SchemaVersion(ctx context.Context) (applied, known int, err error) {
	ms, err := Migrations()
	if err != nil {
		return 0, 0, err
	}
	known = len(ms)
	var exists bool
	switch d.Dialect {
	case Postgres:
		err = d.read.QueryRowContext(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&exists)
	default:
		var n int
		err = d.read.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`).Scan(&n)
		exists = n > 0
	}
	if err != nil {
		return 0, known, errs.Wrap("db.SchemaVersion", err)
	}
	if !exists {
		return 0, known, nil
	}
	err = d.read.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&applied)
	return applied, known, errs.Wrap("db.SchemaVersion", err)
}

// Migrate applies every migration not yet applied, each in its own
// transaction. On PostgreSQL an advisory lock keeps two instances that start
// together from migrating at once. It returns the versions applied.
func (d *DB) Migrate(ctx context.Context) ([]int, error) {
	return d.MigrateTo(ctx, 0)
}

// MigrateTo applies the migrations not yet applied up to version upTo (0:
// all of them), as Migrate does: tests of an upgrade fill a database of an
// older schema, then migrate the rest.
func (d *DB) MigrateTo(ctx context.Context, upTo int) ([]int, error) {
	ms, err := Migrations()
	if err != nil {
		return nil, err
	}
	if upTo > 0 && upTo < len(ms) {
		ms = ms[:upTo]
	}
	conn, err := d.write.Conn(ctx)
	if err != nil {
		return nil, errs.Wrap("db.Migrate", err)
	}
	defer conn.Close()
	if d.Dialect == Postgres {
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(7243001)`); err != nil {
			return nil, errs.Wrap("db.Migrate: lock", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(7243001)`)
	}
	if _, err := conn.ExecContext(ctx, createVersions); err != nil {
		return nil, errs.Wrap("db.Migrate", err)
	}
	var applied []int
	for _, m := range ms {
		var n int
		if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = $1`, m.Version).Scan(&n); err != nil {
			return applied, errs.Wrap("db.Migrate", err)
		}
		if n > 0 {
			continue
		}
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return applied, errs.Wrap("db.Migrate", err)
		}
		if _, err := tx.ExecContext(ctx, d.Dialect.expand(m.For(d.Dialect))); err != nil {
			tx.Rollback()
			return applied, fmt.Errorf("db: migrate: %04d_%s: %w", m.Version, m.Name, err)
		}
		if err := foreignKeyCheck(ctx, tx, d.Dialect); err != nil {
			tx.Rollback()
			return applied, fmt.Errorf("db: migrate: %04d_%s: %w", m.Version, m.Name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
			m.Version, m.Name, d.Clock.Now().UnixMilli()); err != nil {
			tx.Rollback()
			return applied, fmt.Errorf("db: migrate: record %04d: %w", m.Version, err)
		}
		if err := tx.Commit(); err != nil {
			return applied, fmt.Errorf("db: migrate: commit %04d: %w", m.Version, err)
		}
		applied = append(applied, m.Version)
	}
	return applied, nil
}

// foreignKeyCheck fails when a row of the SQLite database references a row
// that is not there: a migration that rebuilds a table other tables
// reference (the SQLite way to change a CHECK constraint: copy, drop,
// create, copy back, with PRAGMA defer_foreign_keys on) must leave none.
// PostgreSQL keeps its foreign keys through any DDL.
func foreignKeyCheck(ctx context.Context, tx *sql.Tx, d Dialect) error {
	if d != SQLite {
		return nil
	}
	rows, err := tx.QueryContext(ctx, `PRAGMA foreign_key_check`)
	if err != nil {
		return err
	}
	defer rows.Close()
	if rows.Next() {
		var table, parent string
		var rowid sql.NullInt64
		var fk int
		if err := rows.Scan(&table, &rowid, &parent, &fk); err != nil {
			return err
		}
		return fmt.Errorf("foreign key check: a row of %s (rowid %d) references a missing row of %s", table, rowid.Int64, parent)
	}
	return rows.Err()
}
