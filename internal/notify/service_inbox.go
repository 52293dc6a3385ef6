package notify

import (
	"context"

	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/errs"
)

// Inbox limits.
const (
	DefaultInboxLimit = 50
	MaxInboxLimit     = 200
)

// InboxFilter selects inbox rows: unread only, older than the row Before
// (0: from the newest), at most Limit.
type InboxFilter struct {
	UnreadOnly bool
	Before     int64
	Limit      int
}

// requireUser refuses an anonymous caller. The system principal has no
// inbox (its user id is 0) and sees an empty one.
func requireUser(p *auth.Principal, op string) error {
	if p == nil {
		return &errs.Error{Kind: errs.Unauthorized, Code: "unauthenticated", Op: op, Message: "请先登录"}
	}
	return nil
}

// Inbox returns the caller's notifications, newest first. Nobody reads
// another user's inbox.
func (s *Service) Inbox(ctx context.Context, p *auth.Principal, f InboxFilter) ([]Notification, error) {
	const op = "notify.Inbox"
	if err := requireUser(p, op); err != nil {
		return nil, err
	}
	if p.UserID <= 0 {
		return nil, nil
	}
	if f.Limit <= 0 {
		f.Limit = DefaultInboxLimit
	}
	f.Limit = min(f.Limit, MaxInboxLimit+1) // a page and the row that says another follows
	var out []Notification
	err := s.db.Read(ctx, func(tx *db.Tx) (err error) {
		out, err = listNotifications(ctx, tx, p.UserID, f.UnreadOnly, f.Before, f.Limit)
		return err
	})
	return out, errs.Wrap(op, err)
}

// UnreadCount counts the caller's unread notifications (the menu badge).
func (s *Service) UnreadCount(ctx context.Context, p *auth.Principal) (int, error) {
	const op = "notify.UnreadCount"
	if err := requireUser(p, op); err != nil {
		return 0, err
	}
	if p.UserID <= 0 {
		return 0, nil
	}
	var n int
	err := s.db.Read(ctx, func(tx *db.Tx) (err error) {
		n, err = countUnread(ctx, tx, p.UserID)
		return err
	})
	return n, errs.Wrap(op, err)
}

// MarkRead marks one of the caller's notifications read and returns it;
// another user's notification is not found. Marking it again keeps the
// first reading time.
func (s *Service) MarkRead(ctx context.Context, p *auth.Principal, id int64) (*Notification, error) {
	const op = "notify.MarkRead"
	if err := requireUser(p, op); err != nil {
		return nil, err
	}
	if p.UserID <= 0 || id <= 0 {
		return nil, &errs.Error{Kind: errs.NotFound, Code: "notification_not_found", Op: op, Message: "通知不存在"}
	}
	var n Notification
	err := s.db.Write(ctx, func(tx *db.Tx) (err error) {
		n, err = markRead(ctx, tx, p.UserID, id)
		return err
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return &n, nil
}

// MarkAllRead marks every unread notification of the caller read and says
// how many there were.
func (s *Service) MarkAllRead(ctx context.Context, p *auth.Principal) (int, error) {
	const op = "notify.MarkAllRead"
	if err := requireUser(p, op); err != nil {
		return 0, err
	}
	if p.UserID <= 0 {
		return 0, nil
	}
	var n int
	err := s.db.Write(ctx, func(tx *db.Tx) (err error) {
		n, err = markAllRead(ctx, tx, p.UserID)
		return err
	})
	return n, errs.Wrap(op, err)
}
