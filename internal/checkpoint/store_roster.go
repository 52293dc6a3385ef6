package checkpoint

import (
	"context"
	"fmt"

	"tongxin/internal/clock"
	"tongxin/internal/db"
)

const shiftCols = `id, checkpoint_id, name, username, post, starts_at, ends_at`

// dutyShift is a shift with the checkpoint it belongs to.
type dutyShift struct {
	checkpoint int64
	shift      Shift
}

func scanShift(sc db.Scanner) (dutyShift, error) {
	var d dutyShift
	var start, end int64
	sh := &d.shift
	if err := sc.Scan(&sh.ID, &d.checkpoint, &sh.Name, &sh.Username, &sh.Post, &start, &end); err != nil {
		return d, err
	}
	sh.Start, sh.End = clock.FromMillis(start), clock.FromMillis(end)
	return d, nil
}

// loadShifts reads the shifts of a checkpoint overlapping [from, to).
func loadShifts(ctx context.Context, tx *db.Tx, id, from, to int64) ([]Shift, error) {
	out := []Shift{}
	err := db.Each(ctx, tx, func(sc db.Scanner) error {
		d, err := scanShift(sc)
		if err != nil {
			return err
		}
		out = append(out, d.shift)
		return nil
	}, `SELECT `+shiftCols+` FROM checkpoint_shifts
		WHERE checkpoint_id = $1 AND ends_at > $2 AND starts_at < $3 ORDER BY starts_at, id`, id, from, to)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: shifts: %w", err)
	}
	return out, nil
}

// onDutyChunk bounds the checkpoints of one query of loadOnDuty.
const onDutyChunk = 256

// loadOnDuty fills the shifts running at the transaction's time.
func loadOnDuty(ctx context.Context, tx *db.Tx, list []*Checkpoint) error {
	byID := make(map[int64]*Checkpoint, len(list))
	ids := make([]int64, len(list))
	for i, c := range list {
		byID[c.ID], ids[i] = c, c.ID
	}
	now := tx.NowMS()
	return db.Chunks(len(ids), onDutyChunk, func(lo, hi int) error {
		args := db.Args{List: []any{now}}
		q := `SELECT ` + shiftCols + ` FROM checkpoint_shifts
			WHERE checkpoint_id IN ` + db.In(&args, ids[lo:hi]) + ` AND starts_at <= $1 AND ends_at > $1 ORDER BY starts_at, id`
		err := db.Each(ctx, tx, func(sc db.Scanner) error {
			d, err := scanShift(sc)
			if err != nil {
				return err
			}
			byID[d.checkpoint].OnDuty = append(byID[d.checkpoint].OnDuty, d.shift)
			return nil
		}, q, args.List...)
		if err != nil {
			return fmt.Errorf("checkpoint: on duty: %w", err)
		}
		return nil
	})
}

// plannedShifts counts the shifts of checkpoint id that have not ended.
func plannedShifts(ctx context.Context, tx *db.Tx, id int64) (int, error) {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM checkpoint_shifts WHERE checkpoint_id = $1 AND ends_at > $2`,
		id, tx.NowMS()).Scan(&n); err != nil {
		return 0, fmt.Errorf("checkpoint: roster: %w", err)
	}
	return n, nil
}

// deletePlannedShifts deletes the shifts of checkpoint id that have not
// ended.
func deletePlannedShifts(ctx context.Context, tx *db.Tx, id int64) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM checkpoint_shifts WHERE checkpoint_id = $1 AND ends_at > $2`, id, tx.NowMS()); err != nil {
		return fmt.Errorf("checkpoint: roster: %w", err)
	}
	return nil
}

// insertShift adds a shift to checkpoint id's roster.
func insertShift(ctx context.Context, tx *db.Tx, id int64, sh ShiftInput, actor string) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO checkpoint_shifts (checkpoint_id, name, username, post, starts_at, ends_at,
		created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		id, sh.Name, sh.Username, sh.Post, sh.Start.UnixMilli(), sh.End.UnixMilli(), tx.NowMS(), actor); err != nil {
		return fmt.Errorf("checkpoint: roster: %w", err)
	}
	return nil
}
