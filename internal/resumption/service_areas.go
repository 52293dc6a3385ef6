package resumption

import (
	"context"
	"slices"
	"strings"

	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/errs"
)

// The areas the pages offer and read in their filters.

// AreaChoice is an area a filter offers.
type AreaChoice struct {
	Code, Name string
}

// AreaChoices are the areas offered for selection in the pages' filters:
// the districts in p's reach, or p's own areas when they lie below a
// district, by code. Contacts and liaisons, who reach enterprises, get
// none.
func (s *Service) AreaChoices(ctx context.Context, p *auth.Principal) ([]AreaChoice, error) {
	paths, all := p.AreaPaths(auth.ResumptionRead)
	if !all && len(paths) == 0 {
		return nil, nil
	}
	var out []AreaChoice
	err := s.db.Read(ctx, func(tx *db.Tx) (err error) {
		out, err = areaChoices(ctx, tx, all, paths)
		return err
	})
	slices.SortFunc(out, func(a, b AreaChoice) int { return strings.Compare(a.Code, b.Code) })
	return out, err
}

// AreasNamed returns the codes of the areas called name that p reaches
// (inside or above p's areas), by code.
func (s *Service) AreasNamed(ctx context.Context, p *auth.Principal, name string) ([]string, error) {
	paths, all := p.AreaPaths(auth.ResumptionRead)
	var named []areaRef
	err := s.db.Read(ctx, func(tx *db.Tx) (err error) {
		named, err = areasByName(ctx, tx, name)
		return err
	})
	if err != nil {
		return nil, errs.Wrap("resumption.areaByName", err)
	}
	var codes []string
	for _, a := range named {
		if all || slices.ContainsFunc(paths, func(r string) bool { return strings.HasPrefix(a.Path, r) || strings.HasPrefix(r, a.Path) }) {
			codes = append(codes, a.Code)
		}
	}
	return codes, nil
}
