package checkpoint

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"tongxin/internal/clock"
	"tongxin/internal/db"
)

// handoverRow is a handover as logged at checkpoint, with the actor.
type handoverRow struct {
	checkpoint      int64
	key, entName    string
	in              HandoverInput
	outside, inside string
	at              time.Time
	actor           string
}

// insertHandover logs a handover and returns its id.
func insertHandover(ctx context.Context, tx *db.Tx, r handoverRow) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO checkpoint_handovers (checkpoint_id, enterprise_key, enterprise_name, goods,
			quantity, unit, outside_plate, inside_plate, handed_at, recorded_at, recorded_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
		r.checkpoint, r.key, r.entName, r.in.Goods, r.in.Quantity, r.in.Unit, r.outside, r.inside, r.at.UnixMilli(), tx.NowMS(),
		r.actor).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("checkpoint: handover: %w", err)
	}
	return id, nil
}

const handoverCols = `h.id, h.checkpoint_id, c.name, h.enterprise_key, h.enterprise_name, h.goods, h.quantity, h.unit,
	h.outside_plate, h.inside_plate, h.handed_at, h.recorded_by, h.recorded_at`

func scanHandover(sc db.Scanner) (*Handover, error) {
	var h Handover
	var at, rec int64
	if err := sc.Scan(&h.ID, &h.CheckpointID, &h.CheckpointName, &h.Enterprise, &h.EnterpriseName, &h.Goods, &h.Quantity,
		&h.Unit, &h.OutsidePlate, &h.InsidePlate, &at, &h.RecordedBy, &rec); err != nil {
		return nil, err
	}
	h.At, h.RecordedAt = clock.FromMillis(at), clock.FromMillis(rec)
	return &h, nil
}

// queryHandovers lists the handovers of checkpoint id, newest first.
func queryHandovers(ctx context.Context, tx *db.Tx, id int64, limit int) ([]*Handover, error) {
	out, err := db.Collect(ctx, tx, scanHandover, `SELECT `+handoverCols+` FROM checkpoint_handovers h JOIN checkpoints c ON c.id = h.checkpoint_id
			WHERE h.checkpoint_id = $1 ORDER BY h.handed_at DESC, h.id DESC LIMIT `+strconv.Itoa(limit), id)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: handovers: %w", err)
	}
	return out, nil
}

// handoverFact is one handover as the statistics count it.
type handoverFact struct {
	at          time.Time
	key, name   string
	goods, unit string
	quantity    float64
}

// eachHandover calls fn for every handover made in [from, to) at the
// checkpoints f selects.
func eachHandover(ctx context.Context, tx *db.Tx, f checkpointFilter, from, to time.Time, fn func(handoverFact)) error {
	var args db.Args
	where := f.where(&args)
	where += " AND h.handed_at >= " + args.Add(from.UnixMilli()) + " AND h.handed_at < " + args.Add(to.UnixMilli())
	err := db.Each(ctx, tx, func(sc db.Scanner) error {
		var h handoverFact
		var at int64
		if err := sc.Scan(&at, &h.key, &h.name, &h.goods, &h.unit, &h.quantity); err != nil {
			return err
		}
		h.at = clock.FromMillis(at)
		fn(h)
		return nil
	}, `SELECT h.handed_at, h.enterprise_key, h.enterprise_name, h.goods, h.unit, h.quantity
			FROM checkpoint_handovers h JOIN checkpoints c ON c.id = h.checkpoint_id WHERE `+where, args.List...)
	if err != nil {
		return fmt.Errorf("checkpoint: handover stats: %w", err)
	}
	return nil
}
