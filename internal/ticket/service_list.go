package ticket

import (
	"context"
	"strings"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/pii"
)

// Get returns a ticket with its timeline, photos and possible duplicates.
func (s *Service) Get(ctx context.Context, p *auth.Principal, ref string) (*Ticket, error) {
	const op = "ticket.Get"
	var out *Ticket
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		t, err := s.readable(ctx, tx, p, ref, op)
		if err != nil {
			return err
		}
		if t.Events, err = loadEvents(ctx, tx, t.ID); err != nil {
			return err
		}
		if t.Photos, err = loadPhotos(ctx, tx, t.ID); err != nil {
			return err
		}
		if t.Status != Merged {
			if t.Duplicates, err = duplicates(ctx, tx, t, visibilityFor(p, auth.TicketRead)); err != nil {
				return err
			}
		}
		out = t
		return nil
	})
	return out, errs.Wrap(op, err)
}

// DuplicateWindow is how close in time two tickets on one subject and
// category must be to be shown as possible duplicates.
const DuplicateWindow = 24 * time.Hour

// Filter selects tickets in List.
type Filter struct {
	Statuses   []Status
	Department string
	Areas      []string // area codes: tickets in any of their subtrees
	Category   string
	Kind       Kind
	Enterprise string // only tickets about this enterprise (credit code or project code)
	Overdue    bool   // only tickets past a running deadline
	Expiring   bool   // only tickets whose running deadline is about to expire (DeadlineExpiring)
	Mine       bool   // only tickets the caller filed
	Holder     string // only tickets held at this area now (the escalation ladder)
	Query      string // tracking number or words of the description
	From, To   time.Time
	Before     int64 // cursor: ids below
	Limit      int
	ByDue      bool // order by the earliest deadline instead of newest first
}

// Limits of List.
const (
	DefaultListLimit = 50
	MaxListLimit     = 500
)

// mayList reports whether p may list tickets at all.
func mayList(p *auth.Principal) bool {
	return p != nil && (p.Can(auth.TicketRead) || p.Can(auth.TicketFile) || p.Can(auth.TicketHandle))
}

// List returns the tickets p may read that match f, newest first (or by
// deadline).
func (s *Service) List(ctx context.Context, p *auth.Principal, f Filter) ([]*Ticket, error) {
	const op = "ticket.List"
	if !mayList(p) {
		return nil, auth.Require(p, auth.TicketRead, op)
	}
	if f.Limit <= 0 {
		f.Limit = DefaultListLimit
	}
	f.Limit = min(f.Limit, MaxListLimit+1) // a page and the row that says another follows
	if f.Enterprise != "" {
		f.Enterprise = enterpriseKey(f.Enterprise)
	}
	q := listQuery{v: visibilityFor(p, auth.TicketRead), f: f, userID: p.UserID}
	var out []*Ticket
	err := s.db.Read(ctx, func(tx *db.Tx) (err error) {
		if q.paths, err = filterPaths(ctx, tx, f.Areas); err != nil {
			return err
		}
		out, err = listTickets(ctx, tx, s.box, &q)
		return err
	})
	return out, errs.Wrap(op, err)
}

// enterpriseKey is an enterprise as typed, its credit code normalized.
func enterpriseKey(s string) string {
	key := strings.TrimSpace(s)
	if c, err := pii.NormalizeCreditCode(key); err == nil {
		key = c
	}
	return key
}

// filterPaths are the paths of the areas a filter names, in its order; an
// unknown area is a bad filter.
func filterPaths(ctx context.Context, tx *db.Tx, codes []string) ([]string, error) {
	if len(codes) == 0 {
		return nil, nil
	}
	known, err := areaPaths(ctx, tx, codes)
	if err != nil {
		return nil, err
	}
	paths := make([]string, 0, len(codes))
	for _, code := range codes {
		path, ok := known[strings.TrimSpace(code)]
		if !ok {
			return nil, errs.Fields("bad_filter", "区划不存在", errs.FieldError{Field: "area", Message: "区划 " + code + " 不存在"})
		}
		paths = append(paths, path)
	}
	return paths, nil
}
