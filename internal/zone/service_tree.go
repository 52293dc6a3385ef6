package zone

import (
	"context"

	"tongxin/internal/area"
	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/errs"
)

// Node is an area of the zone tree: its zones in force and the areas
// below it that hold some.
type Node struct {
	Code     string
	Name     string
	Zones    []*Zone
	Children []*Node
}

// Tree answers the zones in force at a moment (List) as a tree of areas
// under the city: district → street → community, each with the zones
// decided over it (its estates' and buildings' among them).
func (s *Service) Tree(ctx context.Context, p *auth.Principal, f ListFilter) ([]*Node, error) {
	const op = "zone.Tree"
	zones, err := s.List(ctx, p, f)
	if err != nil {
		return nil, err
	}
	var codes []string
	seen := map[string]bool{}
	for _, z := range zones {
		for _, c := range area.CodesOf(z.AreaPath)[1:] {
			if !seen[c] {
				seen[c] = true
				codes = append(codes, c)
			}
		}
	}
	var names map[string]string
	err = s.db.Read(ctx, func(tx *db.Tx) (err error) {
		names, err = areaNames(ctx, tx, codes)
		return err
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	var roots []*Node
	byCode := map[string]*Node{}
	for _, z := range zones {
		chain := area.CodesOf(z.AreaPath)
		if len(chain) > 1 {
			chain = chain[1:] // under the city; a city-wide zone is its own root
		}
		var parent *Node
		for _, c := range chain {
			n := byCode[c]
			if n == nil {
				n = &Node{Code: c, Name: names[c]}
				if n.Name == "" {
					n.Name = z.AreaName
				}
				byCode[c] = n
				if parent == nil {
					roots = append(roots, n)
				} else {
					parent.Children = append(parent.Children, n)
				}
			}
			parent = n
		}
		parent.Zones = append(parent.Zones, z)
	}
	return roots, nil
}
