package masstest

import (
	"context"
	"math"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/errs"
)

// Figures answers the testing group's figures for the daily report of an
// area on a day (YYYY-MM-DD, Asia/Shanghai): rounds in progress, samples
// taken, the latest round's coverage, positives and open retests. p must
// read testing over the area.
func (s *Service) Figures(ctx context.Context, p *auth.Principal, day string, areaCode string) (*Figures, error) {
	const op = "masstest.Figures"
	if err := auth.Require(p, auth.TestingRead, op); err != nil {
		return nil, err
	}
	start, err := clock.ParseDay(day)
	if err != nil {
		return nil, err
	}
	a, err := s.areas.Readable(ctx, p, auth.TestingRead, areaCode)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	from, to := start.UnixMilli(), start.AddDate(0, 0, 1).UnixMilli()
	out := &Figures{Day: start.Format(time.DateOnly), AreaCode: a.Code, AreaName: a.Name}
	err = s.db.Read(ctx, func(tx *db.Tx) error {
		var err error
		if out.RoundsInProgress, err = roundsInProgress(ctx, tx, a.Path, from, to); err != nil {
			return err
		}
		if out.Samples, out.RetestSamples, err = samplesOfDay(ctx, tx, a.Path, from, to); err != nil {
			return err
		}
		if out.Latest, err = latestCoverage(ctx, tx, a.Path, to); err != nil {
			return err
		}
		out.PositivesDay, out.PositivesTotal, out.RetestsOpen, err = positivesAndRetests(ctx, tx, a.Path, from, to)
		return err
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	if c := out.Latest; c != nil {
		c.Missed = max(c.Persons-c.Sampled-c.Exempt, 0)
		if c.Persons > 0 {
			c.Rate = math.Round(float64(c.Sampled+c.Exempt)*1000/float64(c.Persons)) / 10
		}
	}
	return out, nil
}
