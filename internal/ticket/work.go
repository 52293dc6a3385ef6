package ticket

import (
	"context"
	"net/url"
	"strings"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/web"
)

// DueSoon is how close to its deadline an open ticket counts as "about to
// expire" (即将超时) on the home page.
const DueSoon = 2 * time.Hour

// openIn is the SQL condition of open tickets (aliased t).
func openIn(a *db.Args) string {
	ms := make([]string, len(openStatuses))
	for i, st := range openStatuses {
		ms[i] = a.Add(string(st))
	}
	return "t.status IN (" + strings.Join(ms, ", ") + ")"
}

// DeadlineCounts counts the open tickets p reads (those the overdue board
// lists) that are past their deadline, and those whose deadline falls
// within DueSoon: one range scan of tickets_due.
func (s *Service) DeadlineCounts(ctx context.Context, p *auth.Principal) (overdue, soon int, err error) {
	const op = "ticket.DeadlineCounts"
	if p == nil || (!p.Can(auth.TicketRead) && !p.Can(auth.TicketHandle)) {
		return 0, 0, auth.Require(p, auth.TicketRead, op)
	}
	v := visibilityFor(p, auth.TicketRead)
	err = s.db.Read(ctx, func(tx *db.Tx) error {
		var a db.Args
		now := a.Add(tx.NowMS())
		until := a.Add(tx.NowMS() + DueSoon.Milliseconds())
		return tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(CASE WHEN t.due_at <= `+now+` THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN t.due_at > `+now+` THEN 1 ELSE 0 END), 0)
			FROM tickets t WHERE t.due_at <= `+until+` AND `+openIn(&a)+` AND `+v.where(&a), a.List...).Scan(&overdue, &soon)
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
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		var a db.Args
		now := a.Add(tx.NowMS())
		help := a.Add(string(ResidentHelp))
		return tx.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN t.due_at <= `+now+` THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN t.kind = `+help+` THEN 1 ELSE 0 END), 0)
			FROM tickets t WHERE t.area_path LIKE `+a.Add(db.LikePrefix(path))+` ESCAPE '\' AND `+openIn(&a)+` AND `+v.where(&a),
			a.List...).Scan(&c.Open, &c.Overdue, &c.Help)
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
			{Key: "ticket.work.soon", Value: soon, Path: "/tickets", Alert: true},
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
