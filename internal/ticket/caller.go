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

// RepeatWindow is how recent a ticket of the same phone and category must
// be for a new one to be flagged as a likely repeat ("filed twice within
// minutes"): the public help form asks the resident to confirm, the
// hotline form tells the operator.
const RepeatWindow = 30 * time.Minute

// Limits of a caller's history.
const (
	CallerHistoryDays = 30
	CallerHistoryMax  = 10
)

func errPossibleRepeat() error {
	return &errs.Error{Kind: errs.Conflict, Code: "possible_duplicate", Message: "此手机号 30 分钟内已提交过同类求助，社区正在办理",
		Fields: []errs.FieldError{{Field: "confirm_duplicate", Message: "如情况有变、确需再次提交，请勾选“仍要提交”"}}}
}

// recentRepeats counts the tickets of phone (normalized) and category
// filed within RepeatWindow of now, merged ones aside.
func (s *Service) recentRepeats(ctx context.Context, tx *db.Tx, phone, category string) (int, error) {
	return countRepeats(ctx, tx, s.box.Index("phone", phone), category, tx.Now.Add(-RepeatWindow).UnixMilli())
}

// CallerHistory is what the hotline form shows once a caller's phone is
// typed: the caller's earlier tickets the operator may read, and how many
// tickets of the chosen category the number filed within RepeatWindow,
// readable or not (a count only: where they went is not the operator's).
type CallerHistory struct {
	Phone    string    `json:"phone"` // masked
	Tickets  []*Ticket `json:"tickets"`
	Repeats  int       `json:"repeats"`
	Category string    `json:"category,omitempty"`
}

// CallerTickets looks a caller's phone up for the hotline form: the
// tickets of that number within p's reach from the last 30 days, newest
// first, and the count of repeats of category. It is for staff who file
// tickets for callers; a number that is not a phone number answers no
// history rather than an error while it is being typed.
func (s *Service) CallerTickets(ctx context.Context, p *auth.Principal, phone, category string) (*CallerHistory, error) {
	const op = "ticket.CallerTickets"
	if err := auth.Require(p, auth.TicketFile, op); err != nil {
		return nil, err
	}
	if !FilesForAnyone(p) {
		return nil, auth.ErrForbidden(op)
	}
	norm, err := pii.NormalizePhone(phone)
	if err != nil {
		return &CallerHistory{}, nil
	}
	category = strings.TrimSpace(category)
	out := &CallerHistory{Phone: pii.MaskPhone(norm), Category: category, Tickets: []*Ticket{}}
	v := visibilityFor(p, auth.TicketRead)
	err = s.db.Read(ctx, func(tx *db.Tx) error {
		if category != "" {
			if out.Repeats, err = s.recentRepeats(ctx, tx, norm, category); err != nil {
				return err
			}
		}
		list, err := callerTickets(ctx, tx, s.box, v, s.box.Index("phone", norm), tx.Now.AddDate(0, 0, -CallerHistoryDays).UnixMilli())
		out.Tickets = append(out.Tickets, list...)
		return err
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return out, nil
}
