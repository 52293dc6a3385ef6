package checkpoint

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"tongxin/internal/clock"
	"tongxin/internal/db"
)

// The module's SQL, by subject: checkpoints here, then store_roster.go,
// store_scan.go, store_handover.go, store_stats.go and store_traffic.go.
// Store functions take the transaction, read or write, and return values;
// the services authorize, validate, audit and own the transactions.

func msPtr(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := clock.FromMillis(v.Int64)
	return &t
}

func msArg(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMilli()
}

// noRows reports a missing row.
func noRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// where is the SQL condition selecting the checkpoints r reaches, for a
// checkpoints table aliased c.
func (r reach) where(args *db.Args) string {
	if r.all {
		return "1 = 1"
	}
	var ors []string
	for _, p := range r.paths {
		ors = append(ors, "c.area_path LIKE "+args.Add(db.LikePrefix(p))+` ESCAPE '\'`)
	}
	if len(r.ids) > 0 {
		ors = append(ors, "c.id IN "+db.In(args, r.ids))
	}
	if len(ors) == 0 {
		return "1 = 0"
	}
	return "(" + strings.Join(ors, " OR ") + ")"
}

// checkpointFilter selects checkpoints: those reach reaches, of kind (""
// for any), inside the area at areaPath ("" for anywhere).
type checkpointFilter struct {
	reach    reach
	kind     Kind
	areaPath string
}

// where is the filter's condition, for checkpoints aliased c.
func (f checkpointFilter) where(args *db.Args) string {
	where := f.reach.where(args)
	if f.kind != "" {
		where += " AND c.kind = " + args.Add(string(f.kind))
	}
	if f.areaPath != "" {
		where += " AND c.area_path LIKE " + args.Add(db.LikePrefix(f.areaPath)) + ` ESCAPE '\'`
	}
	return where
}

// checkpointCols are the columns scanCheckpoint reads, for checkpoints
// aliased c joined with their area aliased a.
const checkpointCols = `c.id, c.name, c.kind, c.place, c.area_code, COALESCE(a.name, c.area_code), c.area_path, c.is_open,
	c.lat, c.lng, c.version, c.created_at, c.created_by, c.updated_at, c.estate`

const checkpointFrom = ` FROM checkpoints c LEFT JOIN areas a ON a.code = c.area_code`

func scanCheckpoint(sc db.Scanner) (*Checkpoint, error) {
	var c Checkpoint
	var lat, lng sql.NullFloat64
	var created, updated int64
	if err := sc.Scan(&c.ID, &c.Name, &c.Kind, &c.Place, &c.AreaCode, &c.AreaName, &c.AreaPath, &c.Open,
		&lat, &lng, &c.Version, &created, &c.CreatedBy, &updated, &c.Estate); err != nil {
		return nil, err
	}
	if lat.Valid && lng.Valid {
		c.Lat, c.Lng = &lat.Float64, &lng.Float64
	}
	c.KindName = KindNames[c.Kind]
	c.CreatedAt, c.UpdatedAt = clock.FromMillis(created), clock.FromMillis(updated)
	c.OnDuty = []Shift{}
	return &c, nil
}

// loadCheckpoint reads checkpoint id, without authorization.
func loadCheckpoint(ctx context.Context, tx *db.Tx, id int64) (*Checkpoint, error) {
	c, err := scanCheckpoint(tx.QueryRowContext(ctx, `SELECT `+checkpointCols+checkpointFrom+` WHERE c.id = $1`, id))
	if noRows(err) {
		return nil, errNotFound()
	}
	if err != nil {
		return nil, fmt.Errorf("checkpoint: load: %w", err)
	}
	return c, nil
}

// queryCheckpoints lists the checkpoints f selects, by area and name.
func queryCheckpoints(ctx context.Context, tx *db.Tx, f checkpointFilter) ([]*Checkpoint, error) {
	var args db.Args
	q := `SELECT ` + checkpointCols + checkpointFrom + ` WHERE ` + f.where(&args) +
		` ORDER BY c.area_path, c.name, c.id`
	out, err := db.Collect(ctx, tx, scanCheckpoint, q, args.List...)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: list: %w", err)
	}
	return out, nil
}

// checkpointRow is a checkpoint's fields as written, with the actor of
// the change.
type checkpointRow struct {
	in    CheckpointInput
	area  areaRef
	open  bool
	actor string
}

// areaRef is the area a row is written in.
type areaRef struct{ code, path string }

// insertCheckpoint writes a new checkpoint and returns its id.
func insertCheckpoint(ctx context.Context, tx *db.Tx, r checkpointRow) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO checkpoints (name, kind, place, area_code, area_path, is_open, lat, lng,
		created_at, created_by, updated_at, updated_by, estate) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $9, $10, $11) RETURNING id`,
		r.in.Name, string(r.in.Kind), r.in.Place, r.area.code, r.area.path, r.open, r.in.Lat, r.in.Lng, tx.NowMS(), r.actor,
		r.in.Estate).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("checkpoint: create: %w", err)
	}
	return id, nil
}

// updateCheckpoint replaces checkpoint id's fields with r's.
func updateCheckpoint(ctx context.Context, tx *db.Tx, id int64, r checkpointRow) error {
	if _, err := tx.ExecContext(ctx, `UPDATE checkpoints SET name = $1, kind = $2, place = $3, area_code = $4, area_path = $5,
		is_open = $6, lat = $7, lng = $8, version = version + 1, updated_at = $9, updated_by = $10, estate = $11 WHERE id = $12`,
		r.in.Name, string(r.in.Kind), r.in.Place, r.area.code, r.area.path, r.open, r.in.Lat, r.in.Lng, tx.NowMS(), r.actor,
		r.in.Estate, id); err != nil {
		return fmt.Errorf("checkpoint: update: %w", err)
	}
	return nil
}

// checkpointScope reads the name and area path of checkpoint id, for role
// scopes; sql.ErrNoRows when there is none.
func checkpointScope(ctx context.Context, tx *db.Tx, id int64) (name, path string, err error) {
	err = tx.QueryRowContext(ctx, `SELECT name, area_path FROM checkpoints WHERE id = $1`, id).Scan(&name, &path)
	return name, path, err
}
