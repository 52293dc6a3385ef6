package masstest

import (
	"context"

	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/errs"
)

// CollectView is what the collector's phone page needs of a round: the
// round (its window, mode, areas, whether open) and the campaign's
// sampling sites.
type CollectView struct {
	Round *Round
	Sites []Site
	// Modes are the sample modes the round takes: site and door for
	// ModeBoth, door alone for ModeDoor, site alone for ModeSites (the
	// API takes door samples there too; the page offers what the round
	// plans).
	Modes []SampleMode
	// Areas name the areas a resident code's community may be shown by:
	// the round's, the campaign's teams' and the collector's own.
	Areas map[string]string
}

// CollectPage answers the collector's page of round ref for p: whoever
// may record samples in it (Service.sampleRound's rule: TestingSample
// over an area of the round, or a member of one of the campaign's
// teams). A round p reads but may not sample in is forbidden; one p does
// not read is not found.
func (s *Service) CollectPage(ctx context.Context, p *auth.Principal, roundRef string) (*CollectView, error) {
	const op = "masstest.CollectPage"
	var out *CollectView
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		r, _, err := s.sampleRound(ctx, tx, p, roundRef, op)
		if err != nil {
			return err
		}
		sites, err := listSites(ctx, tx, r.CampaignID)
		if err != nil {
			return err
		}
		teams, err := listTeams(ctx, tx, r.CampaignID)
		if err != nil {
			return err
		}
		out = &CollectView{Round: r, Sites: sites, Modes: roundModes(r.Mode), Areas: map[string]string{}}
		for _, a := range r.Areas {
			out.Areas[a.Code] = a.Name
		}
		for _, t := range teams {
			out.Areas[t.AreaCode] = t.AreaName
		}
		for _, a := range p.Assignments {
			if a.Scope.Kind == auth.ScopeArea && a.Scope.Name != "" {
				out.Areas[a.Scope.Ref] = a.Scope.Name
			}
		}
		return nil
	})
	return out, errs.Wrap(op, err)
}

func roundModes(m Mode) []SampleMode {
	switch m {
	case ModeDoor:
		return []SampleMode{AtDoor}
	case ModeSites:
		return []SampleMode{AtSite}
	}
	return []SampleMode{AtSite, AtDoor}
}

// CollectRounds lists the open rounds where p may record samples, newest
// first: the rounds the menu's 采样 entry offers.
func (s *Service) CollectRounds(ctx context.Context, p *auth.Principal) ([]*Round, error) {
	const op = "masstest.CollectRounds"
	if p == nil {
		return nil, auth.Require(p, auth.TestingSample, op)
	}
	var out []*Round
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		rounds, err := openRounds(ctx, tx, tx.Now)
		if err != nil {
			return err
		}
		paths, all := p.AreaPaths(auth.TestingSample)
		teams := map[int64][]string{}
		for _, r := range rounds {
			mine := paths
			if !all && !p.IsSystem() {
				t, ok := teams[r.CampaignID]
				if !ok {
					if t, err = teamAreas(ctx, tx, r.CampaignID, p.Username); err != nil {
						return err
					}
					teams[r.CampaignID] = t
				}
				mine = append(append([]string(nil), paths...), t...)
			}
			if all || overlaps(r, mine) {
				out = append(out, r)
			}
		}
		return nil
	})
	return out, errs.Wrap(op, err)
}
