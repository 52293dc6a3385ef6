package masstest

import (
	"context"

	"tongxin/internal/db"
	"tongxin/internal/errs"
)

// Building is a building of the register as zones and estate gates name
// it: its name and its key (BuildingKey), the pseudonymous id resident
// codes carry.
type Building struct {
	Name string `json:"name"`
	Key  string `json:"key"`
}

// Estate is an estate (小区) of a community with its buildings, in order.
type Estate struct {
	Name      string     `json:"name"`
	Buildings []Building `json:"buildings"`
}

// Estates answers the estates of community in the household register,
// each with its buildings: places, not people, so no permission is asked
// (the zone module seals estates and buildings, estate gates know their
// estate's buildings). A community without households has none.
func (s *Service) Estates(ctx context.Context, community string) ([]Estate, error) {
	var out []Estate
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		places, err := estateBuildings(ctx, tx, community)
		for _, p := range places {
			if len(out) == 0 || out[len(out)-1].Name != p[0] {
				out = append(out, Estate{Name: p[0]})
			}
			e := &out[len(out)-1]
			e.Buildings = append(e.Buildings, Building{Name: p[1], Key: BuildingKey(community, p[0], p[1])})
		}
		return err
	})
	if err != nil {
		return nil, errs.Wrap("masstest.Estates", err)
	}
	return out, nil
}
