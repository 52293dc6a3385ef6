package app

import (
	"context"

	"tongxin/internal/db"
	"tongxin/internal/masstest"
	"tongxin/internal/zone"
)

// The zone and testing modules need each other: zones check estate and
// building names against the household register and find residents for
// exit permits; testing proposes seals and keeps sampling-only rounds off
// sealed zones. Neither imports the other: these adapters carry one's
// types into the other's. The zones are built first, reading the register
// through sys.Testing, which wireSystem sets right after.

// zoneRegister is the testing module's register as the zones ask it.
type zoneRegister struct{ sys *System }

func (r zoneRegister) Estates(ctx context.Context, community string) ([]zone.Estate, error) {
	list, err := r.sys.Testing.Estates(ctx, community)
	if err != nil {
		return nil, err
	}
	out := make([]zone.Estate, len(list))
	for i, e := range list {
		out[i].Name = e.Name
		for _, b := range e.Buildings {
			out[i].Buildings = append(out[i].Buildings, zone.Building{Name: b.Name, Key: b.Key})
		}
	}
	return out, nil
}

func (r zoneRegister) Resident(ctx context.Context, ref string) (*zone.Resident, error) {
	p, err := r.sys.Testing.LookupResident(ctx, ref)
	if err != nil {
		return nil, err
	}
	return &zone.Resident{ID: p.ID, RID: p.Code, NameMasked: p.NameMasked, CommunityCode: p.CommunityCode, AreaPath: p.AreaPath,
		Estate: p.Estate, Building: p.Building, BuildingKey: p.BuildingKey}, nil
}

// zoneSealer is the zones' proposals as the testing module makes them.
type zoneSealer struct{ zones *zone.Service }

func (z zoneSealer) ProposeSeal(ctx context.Context, tx *db.Tx, p masstest.SealProposal) error {
	return z.zones.ProposeSeal(ctx, tx, zone.SealProposal{Community: p.Community, Estate: p.Estate, Building: p.Building,
		BuildingKey: p.BuildingKey, Tube: p.Tube, Round: p.Round})
}
