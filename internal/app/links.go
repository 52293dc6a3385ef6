package app

import (
	"context"

	"tongxin/internal/area"
	"tongxin/internal/auth"
	"tongxin/internal/resumption"
	"tongxin/internal/ticket"
	"tongxin/internal/web"
)

// enterpriseProblems links the two modules for the enterprise page: the
// tickets about an enterprise that the caller may read, newest first, and
// whether the caller may file one. A caller without any ticket permission
// sees no list rather than an error.
func enterpriseProblems(tickets *ticket.Service) func(ctx context.Context, p *auth.Principal, key string) ([]resumption.Problem, bool, error) {
	return func(ctx context.Context, p *auth.Principal, key string) ([]resumption.Problem, bool, error) {
		mayFile := p.Can(auth.TicketFile)
		if !p.Can(auth.TicketRead) && !p.Can(auth.TicketHandle) && !mayFile {
			return nil, false, nil
		}
		list, err := tickets.List(ctx, p, ticket.Filter{Enterprise: key, Limit: 20})
		if err != nil {
			return nil, false, err
		}
		now := tickets.Now()
		out := make([]resumption.Problem, 0, len(list))
		for _, t := range list {
			pr := resumption.Problem{ID: t.ID, Tracking: t.Tracking, Category: t.CategoryName, StatusName: t.StatusName,
				Open: t.Status.Open(), Overdue: t.Overdue, Summary: t.Summary(40), CreatedAt: t.CreatedAt}
			if t.DueAt != nil {
				pr.Left = ticket.Left(*t.DueAt, now)
			}
			out = append(out, pr)
		}
		return out, mayFile, nil
	}
}

// areaFigures links the modules for an area's page: its open and overdue
// tickets and help requests (what the caller reads of them) and the
// enterprises registered there, so that area imports neither module.
func areaFigures(sys *System) func(ctx context.Context, p *auth.Principal, a *area.Area) ([]web.Figure, error) {
	return func(ctx context.Context, p *auth.Principal, a *area.Area) ([]web.Figure, error) {
		figs, err := ticket.AreaFigures(ctx, sys.Tickets, p, a.Code, a.Path)
		if err != nil {
			return nil, err
		}
		more, err := resumption.AreaFigures(ctx, sys.Resumption, p, a.Code, a.Path)
		if err != nil {
			return nil, err
		}
		return append(figs, more...), nil
	}
}
