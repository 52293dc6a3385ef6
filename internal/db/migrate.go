package db

import (
	"context"
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

// Migration is one numbered schema step.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Migrations lists the embedded migrations in order. File names are
// NNNN_name.sql; a file once landed is never edited, only followed.
func Migrations() ([]Migration, error) {
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, err
	}
	var ms []Migration
	for _, e := range entries {
		name := e.Name()
		num, rest, ok := strings.Cut(strings.TrimSuffix(name, ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("db: migration file %q is not NNNN_name.sql", name)
		}
		b, err := migrationFS.ReadFile("migrations/" + name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, Migration{Version: v, Name: rest, SQL: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("db: migration %04d missing or duplicated", i+1)
		}
	}
	return ms, nil
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
	ms, err := Migrations()
	if err != nil {
		return nil, err
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
		if _, err := tx.ExecContext(ctx, d.Dialect.expand(m.SQL)); err != nil {
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
