package masstest

import (
	"context"
	"strconv"
	"strings"
	"time"

	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/passtoken"
	"tongxin/internal/pii"
)

// Reads for the other modules (zones' exit permits, quarantine): a
// resident by id, resident code or ID number, and the days on which
// residents were sampled. Like Estates, they ask no permission: the caller
// authorizes its own caller over the resident's community and answers
// masked data only.

// ResidentRef is a resident as another module names them: masked name,
// community, the resident code's pseudonymous id, the household, its
// address and place (with the building's key, as resident codes carry it).
type ResidentRef struct {
	ID            int64
	Code          string
	NameMasked    string
	CommunityCode string
	AreaPath      string
	HouseholdID   int64
	Estate        string
	Building      string
	BuildingKey   string
	Address       string
	Status        Status
}

// LookupResident finds a resident by id, a scanned resident code (a
// household's code is refused: it names no one), the code's pseudonymous
// id or an ID number; none is errs.NotFound (resident_not_found).
func (s *Service) LookupResident(ctx context.Context, key string) (*ResidentRef, error) {
	key = strings.TrimSpace(key)
	var col string
	var val any
	if id, err := strconv.ParseInt(key, 10, 64); err == nil && id > 0 && len(key) < 15 {
		col, val = "r.id", id
	} else if n, err := pii.NormalizeResidentID(key); err == nil {
		col, val = "r.id_idx", s.box.Index(pii.KindResidentID, n)
	} else if strings.Count(key, ".") == 2 && s.codes != nil {
		c, reason := s.codes.VerifyResident(key)
		if reason != passtoken.OK || c.RID == c.HH {
			return nil, errs.E(errs.NotFound, "resident_not_found", "居民码无效或不是居民本人的码")
		}
		col, val = "r.code", c.RID
	} else if key != "" {
		col, val = "r.code", key
	} else {
		return nil, errNoResident()
	}
	var out *ResidentRef
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		var err error
		out, err = residentRef(ctx, tx, col, val)
		return err
	})
	if err != nil {
		return nil, errs.Wrap("masstest.LookupResident", err)
	}
	return out, nil
}

// SampledDays answers, of each of residents, the days (YYYY-MM-DD in
// Asia/Shanghai) in [from, to) on which a sample of them was taken.
func (s *Service) SampledDays(ctx context.Context, residents []int64, from, to time.Time) (map[int64][]string, error) {
	out := map[int64][]string{}
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		return db.Chunks(len(residents), 256, func(lo, hi int) error {
			list, err := samplesOf(ctx, tx, residents[lo:hi], from.UnixMilli(), to.UnixMilli())
			for _, x := range list {
				day := time.UnixMilli(x[1]).In(clock.Shanghai).Format(time.DateOnly)
				if ds := out[x[0]]; len(ds) == 0 || ds[len(ds)-1] != day {
					out[x[0]] = append(ds, day)
				}
			}
			return err
		})
	})
	if err != nil {
		return nil, errs.Wrap("masstest.SampledDays", err)
	}
	return out, nil
}
