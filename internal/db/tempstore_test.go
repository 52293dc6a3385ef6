package db

import (
	"context"
	"path/filepath"
	"testing"
)

// The write pool keeps statement and savepoint journals in memory
// (temp_store MEMORY), the read pool SQLite's default.
func TestWritePoolJournalsInMemory(t *testing.T) {
	ctx := context.Background()
	d, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "temp.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var store int
	if err := d.write.QueryRowContext(ctx, `PRAGMA temp_store`).Scan(&store); err != nil || store != 2 {
		t.Fatalf("the write pool's temp_store is %d (%v), want 2 (MEMORY)", store, err)
	}
}
