package masstest

import (
	"context"
	"fmt"

	"tongxin/internal/db"
)

// residentRef answers the resident whose col (r.id, r.code or r.id_idx)
// is val.
func residentRef(ctx context.Context, tx *db.Tx, col string, val any) (*ResidentRef, error) {
	var r ResidentRef
	var unit, room string
	err := tx.QueryRowContext(ctx, `SELECT r.id, r.code, r.name_masked, h.community_code, h.area_path, h.id, h.estate, h.building,
		h.unit, h.room, r.status FROM testing_residents r JOIN testing_households h ON h.id = r.household_id WHERE `+col+` = $1`, val).
		Scan(&r.ID, &r.Code, &r.NameMasked, &r.CommunityCode, &r.AreaPath, &r.HouseholdID, &r.Estate, &r.Building, &unit, &room,
			&r.Status)
	if err != nil {
		return nil, db.NotFound("masstest.resident", err, "resident_not_found", "居民不存在")
	}
	r.Address = placeText(r.Estate, r.Building, unit, room)
	r.BuildingKey = BuildingKey(r.CommunityCode, r.Estate, r.Building)
	return &r, nil
}

// samplesOf answers (resident, sampled_at) of the samples of residents
// taken in [from, to), by resident and time.
func samplesOf(ctx context.Context, tx *db.Tx, residents []int64, from, to int64) ([][2]int64, error) {
	var a db.Args
	q := `SELECT resident_id, sampled_at FROM testing_samples WHERE sampled_at >= ` + a.Add(from) + ` AND sampled_at < ` +
		a.Add(to) + ` AND resident_id IN ` + db.In(&a, residents) + ` ORDER BY resident_id, sampled_at`
	out, err := db.Collect(ctx, tx, func(sc db.Scanner) ([2]int64, error) {
		var x [2]int64
		err := sc.Scan(&x[0], &x[1])
		return x, err
	}, q, a.List...)
	if err != nil {
		return nil, fmt.Errorf("masstest: samples of residents: %w", err)
	}
	return out, nil
}
