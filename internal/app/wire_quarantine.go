package app

import (
	"context"
	"time"

	"tongxin/internal/masstest"
	"tongxin/internal/quarantine"
)

// quarantineRegister gives the quarantine module the testing module's
// household register and samples (quarantine.Residents).
type quarantineRegister struct{ t *masstest.Service }

func (q quarantineRegister) Resident(ctx context.Context, key string) (*quarantine.Resident, error) {
	r, err := q.t.LookupResident(ctx, key)
	if err != nil {
		return nil, err
	}
	return &quarantine.Resident{ID: r.ID, Code: r.Code, NameMasked: r.NameMasked, CommunityCode: r.CommunityCode,
		HouseholdID: r.HouseholdID, Address: r.Address, InPopulation: r.Status.InPopulation()}, nil
}

func (q quarantineRegister) SampledDays(ctx context.Context, ids []int64, from, to time.Time) (map[int64][]string, error) {
	return q.t.SampledDays(ctx, ids, from, to)
}
