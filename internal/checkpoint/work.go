package checkpoint

import (
	"context"
	"net/url"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/web"
)

// ScansToday counts the scans made since midnight (Asia/Shanghai) at the
// checkpoints p reads — an officer's own checkpoints: one range scan of
// checkpoint_scans_time per checkpoint, after the journal is loaded.
func (s *Service) ScansToday(ctx context.Context, p *auth.Principal) (int, error) {
	const op = "checkpoint.ScansToday"
	if p == nil {
		return 0, auth.Require(p, auth.CheckpointRead, op)
	}
	r := readReach(p)
	if r.none() {
		return 0, auth.ErrForbidden(op)
	}
	if err := s.scans.sync(ctx); err != nil {
		return 0, errs.Wrap(op, err)
	}
	now := s.Now().In(clock.Shanghai)
	start := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, clock.Shanghai)
	var n int
	err := s.db.Read(ctx, func(tx *db.Tx) (err error) {
		n, err = countScansSince(ctx, tx, r, start)
		return err
	})
	return n, errs.Wrap(op, err)
}

// HomeWork is the checkpoint officer's home-page figure: today's scans at
// their checkpoints, linked to the statistics of the day.
func HomeWork(svc *Service) web.Work {
	return web.Work{Show: func(p *auth.Principal) bool { return p.HasRole(auth.CheckpointOfficer) },
		Figures: func(ctx context.Context, p *auth.Principal) ([]web.Figure, error) {
			n, err := svc.ScansToday(ctx, p)
			if err != nil {
				return nil, err
			}
			day := dayOf(svc.Now())
			return []web.Figure{{Key: "checkpoint.work.scans_today", Value: n,
				Path: "/checkpoints/stats?" + url.Values{"from": {day}, "to": {day}}.Encode()}}, nil
		}}
}
