package notify

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/errs"
)

// The SQL of notifications, webhooks, deliveries and attempts. Nothing
// else reads or writes these tables.

// ---------------------------------------------------------------------
// Inbox

// insertNotification adds one inbox row.
func insertNotification(ctx context.Context, tx *db.Tx, userID int64, m Message) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO notifications (user_id, event, title, body, link, object_type, object_id, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, userID, m.Event, m.Title, m.Body, m.Link, m.ObjectType, m.ObjectID, tx.NowMS())
	return errs.Wrap("notify.insertNotification", err)
}

const notificationCols = `id, event, title, body, link, object_type, object_id, created_at, read_at`

func scanNotification(sc interface{ Scan(...any) error }) (Notification, error) {
	var n Notification
	var created int64
	var read sql.NullInt64
	if err := sc.Scan(&n.ID, &n.Event, &n.Title, &n.Body, &n.Link, &n.ObjectType, &n.ObjectID, &created, &read); err != nil {
		return n, err
	}
	n.CreatedAt = clock.FromMillis(created)
	if read.Valid {
		t := clock.FromMillis(read.Int64)
		n.ReadAt = &t
	}
	return n, nil
}

// listNotifications returns a user's rows with id < before (0: from the
// newest), newest first.
func listNotifications(ctx context.Context, tx *db.Tx, userID int64, unreadOnly bool, before int64, limit int) ([]Notification, error) {
	const op = "notify.listNotifications"
	args := &db.Args{}
	where := []string{"user_id = " + args.Add(userID)}
	if unreadOnly {
		where = append(where, "read_at IS NULL")
	}
	if before > 0 {
		where = append(where, "id < "+args.Add(before))
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+notificationCols+` FROM notifications WHERE `+strings.Join(where, " AND ")+
		` ORDER BY id DESC LIMIT `+args.Add(limit), args.List...)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	defer rows.Close()
	var out []Notification
	for rows.Next() {
		n, err := scanNotification(rows)
		if err != nil {
			return nil, errs.Wrap(op, err)
		}
		out = append(out, n)
	}
	return out, errs.Wrap(op, rows.Err())
}

// countUnread counts a user's unread rows.
func countUnread(ctx context.Context, tx *db.Tx, userID int64) (int, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL`, userID).Scan(&n)
	return n, errs.Wrap("notify.countUnread", err)
}

// markRead marks one of the user's rows read (keeping an earlier reading
// time) and returns it; another user's row is not found.
func markRead(ctx context.Context, tx *db.Tx, userID, id int64) (Notification, error) {
	row := tx.QueryRowContext(ctx, `UPDATE notifications SET read_at = COALESCE(read_at, $1)
		WHERE id = $2 AND user_id = $3 RETURNING `+notificationCols, tx.NowMS(), id, userID)
	n, err := scanNotification(row)
	if err != nil {
		return n, db.NotFound("notify.markRead", err, "notification_not_found", "通知不存在")
	}
	return n, nil
}

// markAllRead marks every unread row of the user read.
func markAllRead(ctx context.Context, tx *db.Tx, userID int64) (int, error) {
	res, err := tx.ExecContext(ctx, `UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL`, tx.NowMS(), userID)
	if err != nil {
		return 0, errs.Wrap("notify.markAllRead", err)
	}
	n, err := res.RowsAffected()
	return int(n), errs.Wrap("notify.markAllRead", err)
}

// ---------------------------------------------------------------------
// Webhooks

// hookRow is a stored webhook with its sealed parts.
type hookRow struct {
	Webhook
	urlEnc, secretEnc []byte
}

const hookCols = `w.id, w.name, w.url_enc, w.url_display, w.format, w.secret_enc, w.area_code, w.area_path, w.active,
	w.created_at, w.created_by, w.updated_at, w.updated_by`

func scanHook(sc interface{ Scan(...any) error }) (hookRow, error) {
	var h hookRow
	var created, updated int64
	if err := sc.Scan(&h.ID, &h.Name, &h.urlEnc, &h.URL, &h.Format, &h.secretEnc, &h.AreaCode, &h.areaPath, &h.Active,
		&created, &h.CreatedBy, &updated, &h.UpdatedBy); err != nil {
		return h, err
	}
	h.HasSecret = len(h.secretEnc) > 0
	h.CreatedAt, h.UpdatedAt = clock.FromMillis(created), clock.FromMillis(updated)
	h.Events = []string{}
	return h, nil
}

// loadHook loads a webhook that is not deleted, with its events.
func loadHook(ctx context.Context, tx *db.Tx, id int64) (hookRow, error) {
	h, err := scanHook(tx.QueryRowContext(ctx, `SELECT `+hookCols+` FROM webhooks w WHERE w.id = $1 AND w.deleted_at IS NULL`, id))
	if err != nil {
		return h, db.NotFound("notify.loadHook", err, "webhook_not_found", "Webhook 不存在")
	}
	ev, err := hookEvents(ctx, tx, []int64{id})
	if err != nil {
		return h, err
	}
	if e := ev[id]; e != nil {
		h.Events = e
	}
	return h, nil
}

// listHooks returns the webhooks that are not deleted, by area path and
// name, with their events.
func listHooks(ctx context.Context, tx *db.Tx) ([]hookRow, error) {
	const op = "notify.listHooks"
	rows, err := tx.QueryContext(ctx, `SELECT `+hookCols+` FROM webhooks w WHERE w.deleted_at IS NULL ORDER BY w.area_path, w.name, w.id`)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	defer rows.Close()
	var out []hookRow
	var ids []int64
	for rows.Next() {
		h, err := scanHook(rows)
		if err != nil {
			return nil, errs.Wrap(op, err)
		}
		out = append(out, h)
		ids = append(ids, h.ID)
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Wrap(op, err)
	}
	rows.Close()
	ev, err := hookEvents(ctx, tx, ids)
	if err != nil {
		return nil, err
	}
	for i := range out {
		if e := ev[out[i].ID]; e != nil {
			out[i].Events = e
		}
	}
	return out, nil
}

// hookEvents returns the subscriptions of the hooks, sorted.
func hookEvents(ctx context.Context, tx *db.Tx, ids []int64) (map[int64][]string, error) {
	const op = "notify.hookEvents"
	out := map[int64][]string{}
	if len(ids) == 0 {
		return out, nil
	}
	args := &db.Args{}
	ph := make([]string, len(ids))
	for i, id := range ids {
		ph[i] = args.Add(id)
	}
	rows, err := tx.QueryContext(ctx, `SELECT webhook_id, event FROM webhook_events WHERE webhook_id IN (`+strings.Join(ph, ", ")+
		`) ORDER BY webhook_id, event`, args.List...)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var e string
		if err := rows.Scan(&id, &e); err != nil {
			return nil, errs.Wrap(op, err)
		}
		out[id] = append(out[id], e)
	}
	return out, errs.Wrap(op, rows.Err())
}

// insertHook stores a new webhook and its events, returning its id.
func insertHook(ctx context.Context, tx *db.Tx, h *hookRow, actor string) error {
	const op = "notify.insertHook"
	var secret any
	if len(h.secretEnc) > 0 {
		secret = h.secretEnc
	}
	err := tx.QueryRowContext(ctx, `INSERT INTO webhooks (name, url_enc, url_display, format, secret_enc, area_code, area_path, active,
		created_at, created_by, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $9, $10) RETURNING id`,
		h.Name, h.urlEnc, h.URL, h.Format, secret, h.AreaCode, h.areaPath, h.Active, tx.NowMS(), actor).Scan(&h.ID)
	if err != nil {
		return errs.Wrap(op, err)
	}
	h.CreatedAt, h.UpdatedAt, h.CreatedBy, h.UpdatedBy = tx.Now, tx.Now, actor, actor
	return setHookEvents(ctx, tx, h.ID, h.Events)
}

// updateHook stores the changed fields of a webhook.
func updateHook(ctx context.Context, tx *db.Tx, h *hookRow, eventsChanged bool, actor string) error {
	const op = "notify.updateHook"
	var secret any
	if len(h.secretEnc) > 0 {
		secret = h.secretEnc
	}
	_, err := tx.ExecContext(ctx, `UPDATE webhooks SET name = $1, url_enc = $2, url_display = $3, format = $4, secret_enc = $5,
		area_code = $6, area_path = $7, active = $8, updated_at = $9, updated_by = $10 WHERE id = $11`,
		h.Name, h.urlEnc, h.URL, h.Format, secret, h.AreaCode, h.areaPath, h.Active, tx.NowMS(), actor, h.ID)
	if err != nil {
		return errs.Wrap(op, err)
	}
	h.UpdatedAt, h.UpdatedBy = tx.Now, actor
	if !eventsChanged {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM webhook_events WHERE webhook_id = $1`, h.ID); err != nil {
		return errs.Wrap(op, err)
	}
	return setHookEvents(ctx, tx, h.ID, h.Events)
}

func setHookEvents(ctx context.Context, tx *db.Tx, id int64, events []string) error {
	for _, e := range events {
		if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_events (webhook_id, event) VALUES ($1, $2)`, id, e); err != nil {
			return errs.Wrap("notify.setHookEvents", err)
		}
	}
	return nil
}

// deleteHook marks a webhook deleted; its deliveries and their log stay.
func deleteHook(ctx context.Context, tx *db.Tx, id int64, actor string) error {
	_, err := tx.ExecContext(ctx, `UPDATE webhooks SET active = FALSE, deleted_at = $1, updated_at = $1, updated_by = $2 WHERE id = $3`,
		tx.NowMS(), actor, id)
	return errs.Wrap("notify.deleteHook", err)
}

// cancelPending cancels the deliveries of a hook that are still waiting.
// One being posted right now is recorded as an attempt, but stays
// cancelled.
func cancelPending(ctx context.Context, tx *db.Tx, hookID int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET status = 'cancelled', claimed_until = 0, updated_at = $1
		WHERE webhook_id = $2 AND status = 'pending'`, tx.NowMS(), hookID)
	return errs.Wrap("notify.cancelPending", err)
}

// subscribedHooks returns the ids and area paths of the active hooks
// subscribed to event (by name, by its module's wildcard, or to "*").
func subscribedHooks(ctx context.Context, tx *db.Tx, event string) (ids []int64, paths []string, err error) {
	const op = "notify.subscribedHooks"
	subs := subscriptionsOf(event)
	args := &db.Args{}
	ph := make([]string, len(subs))
	for i, s := range subs {
		ph[i] = args.Add(s)
	}
	rows, err := tx.QueryContext(ctx, `SELECT w.id, w.area_path FROM webhooks w
		WHERE w.active = TRUE AND w.deleted_at IS NULL AND EXISTS (
			SELECT 1 FROM webhook_events e WHERE e.webhook_id = w.id AND e.event IN (`+strings.Join(ph, ", ")+`))
		ORDER BY w.id`, args.List...)
	if err != nil {
		return nil, nil, errs.Wrap(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var p string
		if err := rows.Scan(&id, &p); err != nil {
			return nil, nil, errs.Wrap(op, err)
		}
		ids, paths = append(ids, id), append(paths, p)
	}
	return ids, paths, errs.Wrap(op, rows.Err())
}

// ---------------------------------------------------------------------
// Deliveries

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

func scanDelivery(sc interface{ Scan(...any) error }) (Delivery, error) {
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
	rows, err := tx.QueryContext(ctx, `SELECT `+deliveryCols+` FROM webhook_deliveries WHERE `+where+
		` ORDER BY id DESC LIMIT `+args.Add(limit), args.List...)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	defer rows.Close()
	var out []Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, errs.Wrap(op, err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Wrap(op, err)
	}
	rows.Close()
	return out, attachAttempts(ctx, tx, out)
}

// attachAttempts fills the Log of each delivery, oldest attempt first.
func attachAttempts(ctx context.Context, tx *db.Tx, list []Delivery) error {
	const op = "notify.attachAttempts"
	if len(list) == 0 {
		return nil
	}
	args := &db.Args{}
	ph := make([]string, len(list))
	at := make(map[int64]int, len(list))
	for i, d := range list {
		ph[i] = args.Add(d.ID)
		at[d.ID] = i
	}
	rows, err := tx.QueryContext(ctx, `SELECT delivery_id, attempt, at, http_status, error, duration_ms FROM webhook_attempts
		WHERE delivery_id IN (`+strings.Join(ph, ", ")+`) ORDER BY delivery_id, attempt`, args.List...)
	if err != nil {
		return errs.Wrap(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, ms int64
		var a Attempt
		if err := rows.Scan(&id, &a.Attempt, &ms, &a.HTTPStatus, &a.Error, &a.DurationMS); err != nil {
			return errs.Wrap(op, err)
		}
		a.At = clock.FromMillis(ms)
		a.Error = errorClass(a.Error, a.HTTPStatus)
		a.ErrorText = ErrorText(a.Error)
		i := at[id]
		list[i].Log = append(list[i].Log, a)
	}
	return errs.Wrap(op, rows.Err())
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
	rows, err := tx.QueryContext(ctx, `UPDATE webhook_deliveries SET claimed_until = $1, attempts = attempts + 1, updated_at = $2
		WHERE id IN (SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_at <= $2 AND claimed_until <= $2
			ORDER BY next_at, id LIMIT $3)
		AND status = 'pending' AND next_at <= $2 AND claimed_until <= $2
		RETURNING id, webhook_id, attempts, event, title, body, link, object_type, object_id, created_at`,
		now+claimLease.Milliseconds(), now, limit)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	defer rows.Close()
	var out []claimed
	for rows.Next() {
		var c claimed
		var created int64
		if err := rows.Scan(&c.id, &c.hookID, &c.attempt, &c.event, &c.title, &c.body, &c.link, &c.objectType, &c.objectID, &created); err != nil {
			return nil, errs.Wrap(op, err)
		}
		c.createdAt = clock.FromMillis(created)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Wrap(op, err)
	}
	rows.Close()
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
