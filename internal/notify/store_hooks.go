package notify

import (
	"context"

	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/errs"
)

// The SQL of webhooks and their events.

// hookRow is a stored webhook with its sealed parts.
type hookRow struct {
	Webhook
	urlEnc, secretEnc []byte
}

const hookCols = `w.id, w.name, w.url_enc, w.url_display, w.format, w.secret_enc, w.area_code, w.area_path, w.active,
	w.created_at, w.created_by, w.updated_at, w.updated_by`

func scanHook(sc db.Scanner) (hookRow, error) {
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
	out, err := db.Collect(ctx, tx, scanHook, `SELECT `+hookCols+` FROM webhooks w WHERE w.deleted_at IS NULL ORDER BY w.area_path, w.name, w.id`)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	ids := make([]int64, len(out))
	for i, h := range out {
		ids[i] = h.ID
	}
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

// hookEventsChunk bounds the ids of one statement of hookEvents.
const hookEventsChunk = 256

// hookEvents returns the subscriptions of the hooks, sorted.
func hookEvents(ctx context.Context, tx *db.Tx, ids []int64) (map[int64][]string, error) {
	out := map[int64][]string{}
	err := db.Chunks(len(ids), hookEventsChunk, func(lo, hi int) error {
		args := &db.Args{}
		q := `SELECT webhook_id, event FROM webhook_events WHERE webhook_id IN ` + db.In(args, ids[lo:hi]) +
			` ORDER BY webhook_id, event`
		return db.Each(ctx, tx, func(sc db.Scanner) error {
			var id int64
			var e string
			if err := sc.Scan(&id, &e); err != nil {
				return err
			}
			out[id] = append(out[id], e)
			return nil
		}, q, args.List...)
	})
	return out, errs.Wrap("notify.hookEvents", err)
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
	args := &db.Args{}
	q := `SELECT w.id, w.area_path FROM webhooks w
		WHERE w.active = TRUE AND w.deleted_at IS NULL AND EXISTS (
			SELECT 1 FROM webhook_events e WHERE e.webhook_id = w.id AND e.event IN ` + db.In(args, subscriptionsOf(event)) + `)
		ORDER BY w.id`
	err = db.Each(ctx, tx, func(sc db.Scanner) error {
		var id int64
		var p string
		if err := sc.Scan(&id, &p); err != nil {
			return err
		}
		ids, paths = append(ids, id), append(paths, p)
		return nil
	}, q, args.List...)
	return ids, paths, errs.Wrap(op, err)
}
