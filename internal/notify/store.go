package notify

import (
	"context"
	"database/sql"
	"strings"

	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/errs"
)

// The SQL of notifications, webhooks, deliveries and attempts (this file:
// the inbox; store_hooks.go, store_deliveries.go). Nothing else reads or
// writes these tables.

// insertNotification adds one inbox row.
func insertNotification(ctx context.Context, tx *db.Tx, userID int64, m Message) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO notifications (user_id, event, title, body, link, object_type, object_id, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, userID, m.Event, m.Title, m.Body, m.Link, m.ObjectType, m.ObjectID, tx.NowMS())
	return errs.Wrap("notify.insertNotification", err)
}

const notificationCols = `id, event, title, body, link, object_type, object_id, created_at, read_at`

func scanNotification(sc db.Scanner) (Notification, error) {
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
	q := `SELECT ` + notificationCols + ` FROM notifications WHERE ` +
		strings.Join(where, " AND ") + ` ORDER BY id DESC LIMIT ` + args.Add(limit)
	out, err := db.Collect(ctx, tx, scanNotification, q, args.List...)
	return out, errs.Wrap(op, err)
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
