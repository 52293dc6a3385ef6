package web

import (
	"context"
	"errors"

	"tongxin/internal/auth"
)

// Work is what a module puts on the home page beside its menu entries: the
// few counts that need the user today (今日日报未填, 待审核批次, 已超时工单)
// or, for the HQ, a headline figure. Modules add theirs with AddWork while
// the program is wired, as they add NavItems with AddNav.
type Work struct {
	// Show reports whether the figures concern p at all: the same check
	// as the page the figures link to. It must not do I/O.
	Show func(p *auth.Principal) bool
	// Figures computes the figures for p, scoped to what p may see: one
	// indexed query each, since the home page runs every one of them.
	Figures func(ctx context.Context, p *auth.Principal) ([]Figure, error)
}

// Figure is one number of the home page or of an area's page, linked to
// the filtered page that lists what it counts.
type Figure struct {
	Key   string // catalog key of the label ("home.work.reports_missing")
	Value int    // the count
	Text  string // the value as shown when it is not a plain count ("86.0%"); "" shows Value
	Path  string // the filtered page; "" when p may not open any
	// Alert marks a count that asks for action now (overdue, waiting for
	// review) when it is not zero.
	Alert bool
}

// Urgent reports whether the figure asks for action now.
func (f Figure) Urgent() bool { return f.Alert && f.Value > 0 }

// AddWork adds home-page work. Call it while wiring, before serving.
func (r *Renderer) AddWork(items ...Work) { r.work = append(r.work, items...) }

// WorkFor computes the figures of every Work shown to p, in the order the
// work was added. A Work that fails leaves its figures out and is
// reported in the error (joined), logged, so that the page can say some
// figures are missing rather than fail or hide the loss.
func (r *Renderer) WorkFor(ctx context.Context, p *auth.Principal) ([]Figure, error) {
	if p == nil {
		return nil, nil
	}
	var out []Figure
	var errList []error
	for _, w := range r.work {
		if w.Show != nil && !w.Show(p) {
			continue
		}
		figs, err := w.Figures(ctx, p)
		if err != nil {
			r.log.Warn("home work figures failed", "user", p.Username, "err", err)
			errList = append(errList, err)
			continue
		}
		out = append(out, figs...)
	}
	return out, errors.Join(errList...)
}
