package db_test

import (
	"context"
	"testing"

	"tongxin/internal/db"
	"tongxin/internal/db/dbtest"
)

// upgrade is a database of kind migrated to version, for a test that
// fills an older schema and then migrates it; exec runs a statement in a
// transaction of its own, must fails the test when it fails.
type upgrade struct {
	t   *testing.T
	ctx context.Context
	d   *db.DB
}

func openAt(t *testing.T, kind string, version int) *upgrade {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, dbtest.URL(t, kind), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if _, err := d.MigrateTo(ctx, version); err != nil {
		t.Fatal(err)
	}
	return &upgrade{t: t, ctx: ctx, d: d}
}

func (u *upgrade) exec(q string, args ...any) error {
	return u.d.Write(u.ctx, func(tx *db.Tx) error { _, err := tx.ExecContext(u.ctx, q, args...); return err })
}

// eachUpgrade runs fn on each database kind, opened at schema version.
func eachUpgrade(t *testing.T, version int, fn func(t *testing.T, u *upgrade)) {
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) { fn(t, openAt(t, kind, version)) })
	}
}

// bridge adds the city and one checkpoint (id 1), for scans to be logged at.
func (u *upgrade) bridge() {
	u.t.Helper()
	u.must(`INSERT INTO areas (code, name, level, parent_code, path, depth, created_at, updated_at) VALUES
		('430200', '株洲市', 'city', NULL, '/430200/', 0, 1, 1)`)
	u.must(`INSERT INTO checkpoints (name, kind, place, area_code, area_path, created_at, created_by, updated_at, updated_by)
		VALUES ('建宁大桥', 'bridge', '', '430200', '/430200/', 1, 'admin', 1, 'admin')`)
}

func (u *upgrade) must(q string, args ...any) {
	u.t.Helper()
	if err := u.exec(q, args...); err != nil {
		u.t.Fatalf("%s: %v", q, err)
	}
}
