package pass

import (
	"context"
	"net/url"

	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/web"
)

// PendingReview counts the batches waiting for review that p lists (the
// review queue, /pass-batches?status=submitted): one probe of
// pass_batches_status. Zero for whoever does not review.
func (s *Service) PendingReview(ctx context.Context, p *auth.Principal) (int, error) {
	const op = "pass.PendingReview"
	if !p.Can(auth.PassReview) {
		return 0, nil
	}
	v, err := reads(p, op)
	if err != nil {
		return 0, err
	}
	var n int
	err = s.db.Read(ctx, func(tx *db.Tx) (err error) {
		n, err = countBatches(ctx, tx, v, Submitted)
		return err
	})
	return n, errs.Wrap(op, err)
}

// IssuedToday counts the passes issued since midnight (Asia/Shanghai)
// that p reads.
func (s *Service) IssuedToday(ctx context.Context, p *auth.Principal) (int, error) {
	const op = "pass.IssuedToday"
	v, err := reads(p, op)
	if err != nil {
		return 0, err
	}
	var n int
	since := startOfDay(s.clock.Now()).UnixMilli()
	err = s.db.Read(ctx, func(tx *db.Tx) (err error) {
		n, err = countIssuedSince(ctx, tx, v, since)
		return err
	})
	return n, errs.Wrap(op, err)
}

// reviewCount is the menu count of the batches entry: the batches waiting
// for the reviewer.
func reviewCount(svc *Service) func(ctx context.Context, p *auth.Principal) int {
	return func(ctx context.Context, p *auth.Principal) int {
		n, err := svc.PendingReview(ctx, p)
		if err != nil {
			return 0
		}
		return n
	}
}

// ReviewWork is the reviewer's home-page figure: the batches waiting for
// review, linked to the review queue.
func ReviewWork(svc *Service) web.Work {
	return web.Work{Show: func(p *auth.Principal) bool { return p.Can(auth.PassReview) },
		Figures: func(ctx context.Context, p *auth.Principal) ([]web.Figure, error) {
			n, err := svc.PendingReview(ctx, p)
			if err != nil {
				return nil, err
			}
			return []web.Figure{{Key: "pass.work.pending", Value: n, Path: "/pass-batches?status=" + string(Submitted), Alert: true}}, nil
		}}
}

// IssuedWork is a headline figure of the HQ: the passes issued today,
// linked to the statistics of the day.
func IssuedWork(svc *Service) web.Work {
	return web.Work{Show: isHQ, Figures: func(ctx context.Context, p *auth.Principal) ([]web.Figure, error) {
		n, err := svc.IssuedToday(ctx, p)
		if err != nil {
			return nil, err
		}
		day := svc.clock.Now().In(clock.Shanghai).Format(DateLayout)
		return []web.Figure{{Key: "pass.work.issued_today", Value: n,
			Path: "/pass-batches?" + url.Values{"from": {day}, "to": {day}}.Encode()}}, nil
	}}
}

// isHQ reports whether p works at the headquarters (commander or staff),
// whose home page shows the city's headline figures.
func isHQ(p *auth.Principal) bool {
	return (p.HasRole(auth.HQCommander) || p.HasRole(auth.HQStaff)) && p.Can(auth.PassRead)
}
