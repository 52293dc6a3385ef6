package notify

import (
	"context"
	"time"

	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/errs"
)

// The SQL of deliveries and their attempts.

// insertDelivery queues m for a hook, due at once.
func insertDelivery(ctx context.Context, tx *db.Tx, hookID int64, m Message) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO webhook_deliveries (webhook_id, event, title, body, link, object_type, object_id,
		status, attempts, next_at, claimed_until, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', 0, $8, 0, $8, $8) RETURNING id`,
		hookID, m.Event, m.Title, m.Body, m.Link, m.ObjectType, m.ObjectID, tx.NowMS()).Scan(&id)
	return id, errs.Wrap("notify.insertDelivery", err)
}

const deliveryCols = `id, webhook_id, event, title, object_type, object_id, status, attempts, next_at, last_status, last_error,
	created_at, updated_at`

func scanDelivery(sc db.Scanner) (Delivery, error) {
	var d Delivery
	var next, created, updated int64
	if err := sc.Scan(&d.ID, &d.WebhookID, &d.Event, &d.Title, &d.ObjectType, &d.ObjectID, &d.Status, &d.Attempts, &next,
		&d.LastStatus, &d.LastError, &created, &updated); err != nil {
		return d, err
	}
	d.LastError = errorClass(d.LastError, d.LastStatus)
	d.LastErrorText = ErrorText(d.LastError)
	if d.Status == StatusPending {
		t := clock.FromMillis(next)
		d.NextAt = &t
	}
	d.CreatedAt, d.UpdatedAt = clock.FromMillis(created), clock.FromMillis(updated)
	d.Log = []Attempt{}
	return d, nil
}

// loadDelivery loads one delivery with its log.
func loadDelivery(ctx context.Context, tx *db.Tx, id int64) (Delivery, error) {
	d, err := scanDelivery(tx.QueryRowContext(ctx, `SELECT `+deliveryCols+` FROM webhook_deliveries WHERE id = $1`, id))
	if err != nil {
		return d, db.NotFound("notify.loadDelivery", err, "delivery_not_found", "投递记录不存在")
	}
	list := []Delivery{d}
	if err := attachAttempts(ctx, tx, list); err != nil {
		return d, err
	}
	return list[0], nil
}

// listDeliveries returns a hook's deliveries with id < before (0: from the
// newest), newest first, each with its attempts.
func listDeliveries(ctx context.Context, tx *db.Tx, hookID, before int64, limit int) ([]Delivery, error) {
	const op = "notify.listDeliveries"
	args := &db.Args{}
	where := "webhook_id = " + args.Add(hookID)
	if before > 0 {
		where += " AND id < " + args.Add(before)
	}
	q := `SELECT ` + deliveryCols + ` FROM webhook_deliveries WHERE ` + where +
		` ORDER BY id DESC LIMIT ` + args.Add(limit)
	out, err := db.Collect(ctx, tx, scanDelivery, q, args.List...)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return out, attachAttempts(ctx, tx, out)
}

// attachAttempts fills the Log of each delivery, oldest attempt first.
func attachAttempts(ctx context.Context, tx *db.Tx, list []Delivery) error {
	const op = "notify.attachAttempts"
	if len(list) == 0 {
		return nil
	}
	at := make(map[int64]int, len(list))
	ids := make([]int64, len(list))
	for i, d := range list {
		ids[i] = d.ID
		at[d.ID] = i
	}
	args := &db.Args{}
	q := `SELECT delivery_id, attempt, at, http_status, error, duration_ms FROM webhook_attempts
		WHERE delivery_id IN ` + db.In(args, ids) + ` ORDER BY delivery_id, attempt`
	err := db.Each(ctx, tx, func(sc db.Scanner) error {
		var id, ms int64
		var a Attempt
		if err := sc.Scan(&id, &a.Attempt, &ms, &a.HTTPStatus, &a.Error, &a.DurationMS); err != nil {
			return err
		}
		a.At = clock.FromMillis(ms)
		a.Error = errorClass(a.Error, a.HTTPStatus)
		a.ErrorText = ErrorText(a.Error)
		i := at[id]
		list[i].Log = append(list[i].Log, a)
		return nil
	}, q, args.List...)
	return errs.Wrap(op, err)
}

// claimed is a delivery taken by this worker for one attempt.
type claimed struct {
	id, hookID                                     int64
	attempt                                        int
	event, title, body, link, objectType, objectID string
	createdAt                                      time.Time
	name, format, display                          string
	urlEnc, secretEnc                              []byte
}

// claimDue takes up to limit due deliveries for one attempt each: one
// conditional UPDATE moves their lease into the future and counts the
// attempt. A row another worker claimed first fails the condition (on
// PostgreSQL the UPDATE re-reads a row it waited for), so every attempt is
// made once.
func claimDue(ctx context.Context, tx *db.Tx, limit int) ([]claimed, error) {
	const op = "notify.claimDue"
	now := tx.NowMS()
	out, err := db.Collect(ctx, tx, scanClaimed, `UPDATE webhook_deliveries SET claimed_until = $1, attempts = attempts + 1, updated_at = $2
		WHERE id IN (SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_at <= $2 AND claimed_until <= $2
			ORDER BY next_at, id LIMIT $3)
		AND status = 'pending' AND next_at <= $2 AND claimed_until <= $2
		RETURNING id, webhook_id, attempts, event, title, body, link, object_type, object_id, created_at`,
		now+claimLease.Milliseconds(), now, limit)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	for i := range out {
		c := &out[i]
		err := tx.QueryRowContext(ctx, `SELECT name, format, url_display, url_enc, secret_enc FROM webhooks WHERE id = $1`, c.hookID).
			Scan(&c.name, &c.format, &c.display, &c.urlEnc, &c.secretEnc)
		if err != nil {
			return nil, errs.Wrap(op, err)
		}
	}
	return out, nil
}

func scanClaimed(sc db.Scanner) (claimed, error) {
	var c claimed
	var created int64
	err := sc.Scan(&c.id, &c.hookID, &c.attempt, &c.event, &c.title, &c.body, &c.link, &c.objectType, &c.objectID, &created)
	c.createdAt = clock.FromMillis(created)
	return c, err
}

// result is the outcome of one attempt.
type result struct {
	at         time.Time
	httpStatus int
	err        string // "" on success
	duration   time.Duration
}

// recordAttempt logs an attempt and, unless another worker has claimed the
// delivery since (after this claim expired) or it was cancelled, settles it:
// delivered, failed after MaxAttempts, or pending again after the backoff.
func recordAttempt(ctx context.Context, tx *db.Tx, c claimed, r result) error {
	const op = "notify.recordAttempt"
	if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_attempts (delivery_id, attempt, at, http_status, error, duration_ms)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (delivery_id, attempt) DO NOTHING`,
		c.id, c.attempt, r.at.UnixMilli(), r.httpStatus, r.err, r.duration.Milliseconds()); err != nil {
		return errs.Wrap(op, err)
	}
	status, next := StatusDelivered, tx.NowMS()
	if r.err != "" {
		if c.attempt >= MaxAttempts {
			status = StatusFailed
		} else {
			status, next = StatusPending, tx.Now.Add(RetryWait(c.attempt)).UnixMilli()
		}
	}
	_, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET status = $1, next_at = $2, claimed_until = 0, last_status = $3,
		last_error = $4, updated_at = $5 WHERE id = $6 AND attempts = $7 AND status = 'pending'`,
		status, next, r.httpStatus, r.err, tx.NowMS(), c.id, c.attempt)
	return errs.Wrap(op, err)
}
