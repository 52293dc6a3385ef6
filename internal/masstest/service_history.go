package masstest

import (
	"context"

	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/errs"
)

// RoundCover is one round's coverage of an area.
type RoundCover struct {
	Round Round `json:"round"`
	Cover
}

// History answers a campaign's rounds, oldest first, each with its
// coverage of an area (default: the widest the caller reads): how the
// rounds went, one after the other.
func (s *Service) History(ctx context.Context, p *auth.Principal, campaignRef, areaCode string) (*Campaign, AreaRef, []RoundCover, error) {
	const op = "masstest.History"
	var c *Campaign
	var a AreaRef
	var out []RoundCover
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		var err error
		if c, err = s.readCampaign(ctx, tx, p, campaignRef, op); err != nil {
			return err
		}
		rounds, err := queryRounds(ctx, tx, "r.campaign_id = $1", []any{c.ID})
		if err != nil {
			return err
		}
		if len(rounds) == 0 {
			a = AreaRef{Code: c.AreaCode, Name: c.AreaName, Path: c.AreaPath}
			return nil
		}
		// The area is asked of the widest round, the newest.
		if a, err = s.coverageArea(ctx, tx, p, rounds[0], areaCode); err != nil {
			return err
		}
		ids := make([]int64, len(rounds))
		for i, r := range rounds {
			ids[i] = r.ID
		}
		totals, err := roundTotals(ctx, tx, ids, a.Path)
		if err != nil {
			return err
		}
		for i := len(rounds) - 1; i >= 0; i-- {
			rc := RoundCover{Round: *rounds[i]}
			if t := totals[rounds[i].ID]; t != nil {
				rc.add(t)
			}
			rc.finish()
			out = append(out, rc)
		}
		return nil
	})
	if err != nil {
		return nil, AreaRef{}, nil, errs.Wrap(op, err)
	}
	return c, a, out, nil
}
