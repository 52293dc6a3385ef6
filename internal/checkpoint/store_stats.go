package checkpoint

import (
	"context"
	"fmt"
	"time"

	"tongxin/internal/db"
	"tongxin/internal/passtoken"
)

// scanCount is the scans of one checkpoint in one hour with one verdict
// and reason.
type scanCount struct {
	checkpoint int64
	hour       int64 // hours since the Unix epoch
	verdict    Verdict
	reason     passtoken.Reason
	shown      Shown
	count      int
}

// eachScanCount calls fn for the scans made in [from, to) at the
// checkpoints f selects, counted by checkpoint, hour, verdict and reason.
func eachScanCount(ctx context.Context, tx *db.Tx, f checkpointFilter, from, to time.Time, fn func(scanCount)) error {
	var args db.Args
	where := f.where(&args)
	where += ` AND s.scanned_at >= ` + args.Add(from.UnixMilli()) + ` AND s.scanned_at < ` + args.Add(to.UnixMilli())
	err := db.Each(ctx, tx, func(sc db.Scanner) error {
		var c scanCount
		if err := sc.Scan(&c.checkpoint, &c.hour, &c.verdict, &c.reason, &c.shown, &c.count); err != nil {
			return err
		}
		fn(c)
		return nil
	}, `SELECT s.checkpoint_id, s.scanned_at / 3600000, s.verdict, s.reason, s.shown, COUNT(*)
			FROM checkpoint_scans s JOIN checkpoints c ON c.id = s.checkpoint_id
			WHERE `+where+`
			GROUP BY s.checkpoint_id, s.scanned_at / 3600000, s.verdict, s.reason, s.shown`, args.List...)
	if err != nil {
		return fmt.Errorf("checkpoint: scan stats: %w", err)
	}
	return nil
}
