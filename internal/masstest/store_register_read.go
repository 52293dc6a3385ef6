package masstest

import (
	"context"
	"fmt"
	"strings"

	"tongxin/internal/db"
)

// The register's reads: households in order of place, residents sealed
// (the service opens and masks them).

const householdCols = `h.id, h.code, h.community_code, COALESCE(a.name, h.community_code), h.area_path, h.estate, h.building,
	h.unit, h.room, h.members`

const householdFrom = ` FROM testing_households h LEFT JOIN areas a ON a.code = h.community_code`

// hhRow is a household with its path, for scope checks.
type hhRow struct {
	Household
	areaPath string
}

func scanHousehold(sc db.Scanner) (*hhRow, error) {
	var h hhRow
	err := sc.Scan(&h.ID, &h.Code, &h.CommunityCode, &h.CommunityName, &h.areaPath, &h.Estate, &h.Building, &h.Unit, &h.Room,
		&h.Members)
	return &h, err
}

// listHouseholds answers limit households matching where from offset,
// in order of estate, building, unit and room, and how many match.
func listHouseholds(ctx context.Context, tx *db.Tx, where string, a db.Args, offset, limit int) ([]*hhRow, int, error) {
	var total int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM testing_households h WHERE `+where, a.List...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("masstest: households: %w", err)
	}
	q := `SELECT ` + householdCols + householdFrom + ` WHERE ` + where +
		` ORDER BY h.estate, h.building, h.unit, h.room, h.id LIMIT ` + a.Add(limit) + ` OFFSET ` + a.Add(offset)
	out, err := db.Collect(ctx, tx, scanHousehold, q, a.List...)
	if err != nil {
		return nil, 0, fmt.Errorf("masstest: households: %w", err)
	}
	return out, total, nil
}

// loadHousehold answers a household by id.
func loadHousehold(ctx context.Context, tx *db.Tx, id int64) (*hhRow, error) {
	h, err := scanHousehold(tx.QueryRowContext(ctx, `SELECT `+householdCols+householdFrom+` WHERE h.id = $1`, id))
	if err != nil {
		return nil, db.NotFound("masstest.household", err, "household_not_found", "户不存在")
	}
	return h, nil
}

// sealedResident is a resident as stored, name, ID number and phone
// sealed.
type sealedResident struct {
	Resident
	nameEnc, idEnc, phoneEnc []byte
}

const residentCols = `r.id, r.code, r.household_id, r.name_masked, r.name_enc, r.id_enc, r.phone_enc, r.birth_year,
	r.mobility_impaired, r.elderly_alone, r.bedridden, r.infant, r.status, r.status_date`

func scanResident(sc db.Scanner) (*sealedResident, error) {
	var r sealedResident
	err := sc.Scan(&r.ID, &r.Code, &r.HouseholdID, &r.Name, &r.nameEnc, &r.idEnc, &r.phoneEnc, &r.BirthYear,
		&r.MobilityImpaired, &r.ElderlyAlone, &r.Bedridden, &r.Infant, &r.Status, &r.StatusDate)
	return &r, err
}

// residentsOf answers the residents of these households, by household
// and id; with population, only those neither moved out nor deceased.
func residentsOf(ctx context.Context, tx *db.Tx, ids []int64, population bool) ([]*sealedResident, error) {
	var out []*sealedResident
	err := db.Chunks(len(ids), 256, func(lo, hi int) error {
		var a db.Args
		q := `SELECT ` + residentCols + ` FROM testing_residents r WHERE r.household_id IN ` + db.In(&a, ids[lo:hi])
		if population {
			q += ` AND r.status NOT IN ('deceased', 'moved_out')`
		}
		list, err := db.Collect(ctx, tx, scanResident, q+` ORDER BY r.household_id, r.id`, a.List...)
		out = append(out, list...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("masstest: residents: %w", err)
	}
	return out, nil
}

// residentPlace is a resident's sealed ID number and where they live.
type residentPlace struct {
	id                      int64
	nameMasked              string
	idEnc                   []byte
	communityCode, areaPath string
}

// loadResidentPlace answers a resident's sealed ID number and household
// area.
func loadResidentPlace(ctx context.Context, tx *db.Tx, id int64) (*residentPlace, error) {
	var r residentPlace
	err := tx.QueryRowContext(ctx, `SELECT r.id, r.name_masked, r.id_enc, h.community_code, h.area_path
		FROM testing_residents r JOIN testing_households h ON h.id = r.household_id WHERE r.id = $1`, id).
		Scan(&r.id, &r.nameMasked, &r.idEnc, &r.communityCode, &r.areaPath)
	if err != nil {
		return nil, db.NotFound("masstest.resident", err, "resident_not_found", "居民不存在")
	}
	return &r, nil
}

// buildingHouseholds answers the households of one building of a
// community, in order of unit and room.
func buildingHouseholds(ctx context.Context, tx *db.Tx, community, estate, building string, limit int) ([]*hhRow, error) {
	out, err := db.Collect(ctx, tx, scanHousehold, `SELECT `+householdCols+householdFrom+`
		WHERE h.community_code = $1 AND h.estate = $2 AND h.building = $3 ORDER BY h.unit, h.room, h.id LIMIT $4`,
		community, estate, building, limit)
	if err != nil {
		return nil, fmt.Errorf("masstest: building: %w", err)
	}
	return out, nil
}

// scopeWhere is the condition that a household lies in one of paths (all
// when all).
func scopeWhere(a *db.Args, paths []string, all bool) string {
	if all {
		return "1 = 1"
	}
	if len(paths) == 0 {
		return "1 = 0"
	}
	parts := make([]string, len(paths))
	for i, p := range paths {
		parts[i] = "h.area_path LIKE " + a.Add(db.LikePrefix(p)) + ` ESCAPE '\'`
	}
	return "(" + strings.Join(parts, " OR ") + ")"
}

// estateBuildings answers the (estate, building) pairs of community's
// households, in order.
func estateBuildings(ctx context.Context, tx *db.Tx, community string) ([][2]string, error) {
	var a db.Args
	q := `SELECT DISTINCT estate, building FROM testing_households WHERE community_code = ` + a.Add(community) +
		` ORDER BY estate, building`
	rows, err := tx.QueryContext(ctx, q, a.List...)
	if err != nil {
		return nil, fmt.Errorf("masstest: estates: %w", err)
	}
	defer rows.Close()
	var out [][2]string
	for rows.Next() {
		var p [2]string
		if err := rows.Scan(&p[0], &p[1]); err != nil {
			return nil, fmt.Errorf("masstest: estates: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}
