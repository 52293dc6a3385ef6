package masstest

import (
	"context"
	"time"

	"tongxin/internal/db"
	"tongxin/internal/errs"
)

// SealProposal is what a positive single tube proposes to the zones: to
// seal the resident's building. It names the place and the cause, never
// the resident.
type SealProposal struct {
	Community   string // the community's code
	Estate      string
	Building    string
	BuildingKey string // BuildingKey of the three
	Tube        string // the tube's barcode
	Round       int64
}

// SealProposer records a proposal to seal a building in the lab result's
// transaction; the zone module satisfies it (wired in internal/app).
type SealProposer interface {
	ProposeSeal(ctx context.Context, tx *db.Tx, p SealProposal) error
}

// Zones says whether sealed zones lie in a round's areas while it runs;
// the zone module satisfies it. A sealed zone is sampled door to door, so
// a round that samples only at sites may not cover one.
type Zones interface {
	// SealedIn names a sealed zone in force at some moment of [from, to)
	// over, inside or above one of the areas at paths; "" when none is.
	SealedIn(ctx context.Context, paths []string, from, to time.Time) (string, error)
}

// checkSealed refuses a round sampling only at sites over areas holding a
// sealed zone during its window.
func (s *Service) checkSealed(ctx context.Context, in RoundInput, areas []AreaRef) error {
	if s.zones == nil || in.Mode != ModeSites {
		return nil
	}
	paths := make([]string, len(areas))
	for i, a := range areas {
		paths[i] = a.Path
	}
	name, err := s.zones.SealedIn(ctx, paths, in.StartsAt, in.EndsAt)
	if err != nil || name == "" {
		return err
	}
	return errs.Fields("sealed_zone_sites", "本轮区域内有封控区 "+name+"：封控区须上门采样，请选择“上门”或“采样点和上门”",
		errs.FieldError{Field: "mode", Message: "封控区须上门采样"})
}

// proposeSeal proposes sealing the building of a resident whose single
// tube came back positive.
func (s *Service) proposeSeal(ctx context.Context, tx *db.Tx, t *tubeRef, m tubeMember) error {
	if s.sealer == nil {
		return nil
	}
	return s.sealer.ProposeSeal(ctx, tx, SealProposal{Community: m.CommunityCode, Estate: m.Estate, Building: m.Building,
		BuildingKey: BuildingKey(m.CommunityCode, m.Estate, m.Building), Tube: t.Barcode, Round: t.RoundID})
}
