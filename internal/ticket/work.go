package ticket

import (
	"context"
	"net/url"

	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/web"
)

// DueSoon bounds the deadlines DeadlineCounts scans: no deadline further
// away is about to expire (StateOf's ExpiringCap).
const DueSoon = ExpiringCap

// DeadlineCounts counts the open tickets p reads (those the overdue board
// lists) that are past their deadline, and those about to expire
// (DeadlineExpiring, as the board and the queue's 即将超时 tab count
// them): one range scan of tickets_due up to DueSoon.
func (s *Service) DeadlineCounts(ctx context.Context, p *auth.Principal) (overdue, soon int, err error) {
	const op = "ticket.DeadlineCounts"
	if p == nil || (!p.Can(auth.TicketRead) && !p.Can(auth.TicketHandle)) {
		return 0, 0, auth.Require(p, auth.TicketRead, op)
	}
	v := visibilityFor(p, auth.TicketRead)
	err = s.db.Read(ctx, func(tx *db.Tx) (err error) {
		overdue, soon, err = countDeadlines(ctx, tx, v)
		return err
	})
	return overdue, soon, errs.Wrap(op, err)
}

// AreaCounts are the open tickets of an area's subtree that a caller reads.
type AreaCounts struct {
	Open, Overdue, Help int // Help: open residents' help requests
}

// CountIn counts the open tickets p reads in the subtree at path.
func (s *Service) CountIn(ctx context.Context, p *auth.Principal, path string) (AreaCounts, error) {
	const op = "ticket.CountIn"
	var c AreaCounts
	if p == nil || (!p.Can(auth.TicketRead) && !p.Can(auth.TicketHandle)) {
		return c, auth.Require(p, auth.TicketRead, op)
	}
	v := visibilityFor(p, auth.TicketRead)
	err := s.db.Read(ctx, func(tx *db.Tx) (err error) {
		c, err = countIn(ctx, tx, v, path)
		return err
	})
	return c, errs.Wrap(op, err)
}

// readsTickets reports whether p reads or handles tickets somewhere.
func readsTickets(p *auth.Principal) bool { return p.Can(auth.TicketRead) || p.Can(auth.TicketHandle) }

// HomeWork is the module's home-page figures for whoever reads or handles
// tickets: those past their deadline (the overdue board) and those about
// to be (the queue).
func HomeWork(svc *Service) web.Work {
	return web.Work{Show: readsTickets, Figures: func(ctx context.Context, p *auth.Principal) ([]web.Figure, error) {
		overdue, soon, err := svc.DeadlineCounts(ctx, p)
		if err != nil {
			return nil, err
		}
		return []web.Figure{
			{Key: "ticket.work.overdue", Value: overdue, Path: "/tickets/overdue", Alert: true},
			{Key: "ticket.work.soon", Value: soon, Path: "/tickets/overdue#expiring", Alert: true},
		}, nil
	}}
}

// AreaFigures are the ticket figures of an area's page: its open
// tickets, those overdue and the residents' help requests, each linked
// to the queue filtered to the area. A caller who reads no tickets gets
// none.
func AreaFigures(ctx context.Context, svc *Service, p *auth.Principal, code, path string) ([]web.Figure, error) {
	if !readsTickets(p) {
		return nil, nil
	}
	c, err := svc.CountIn(ctx, p, path)
	if err != nil {
		return nil, err
	}
	q := func(extra ...string) string {
		v := url.Values{"area": {code}}
		for i := 0; i+1 < len(extra); i += 2 {
			v.Set(extra[i], extra[i+1])
		}
		return "/tickets?" + v.Encode()
	}
	return []web.Figure{
		{Key: "ticket.area.open", Value: c.Open, Path: q()},
		{Key: "ticket.area.overdue", Value: c.Overdue, Path: q("overdue", "true"), Alert: true},
		{Key: "ticket.area.help", Value: c.Help, Path: q("kind", string(ResidentHelp))},
	}, nil
}
