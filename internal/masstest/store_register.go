package masstest

import (
	"context"
	"database/sql"
	"fmt"

	"tongxin/internal/db"
)

// The register's writes: households by place, residents by the blind
// index of their ID number.

// storedHH is a household as the import finds it.
type storedHH struct {
	id       int64
	code     string
	place    placeKey
	areaPath string
}

func (h *storedHH) address() string {
	return placeText(h.place.estate, h.place.building, h.place.unit, h.place.room)
}

func scanStoredHH(sc db.Scanner) (*storedHH, error) {
	var h storedHH
	err := sc.Scan(&h.id, &h.code, &h.place.community, &h.areaPath, &h.place.estate, &h.place.building, &h.place.unit, &h.place.room)
	return &h, err
}

const storedHHCols = `h.id, h.code, h.community_code, h.area_path, h.estate, h.building, h.unit, h.room`

// householdsOf answers the households of a community by place.
func householdsOf(ctx context.Context, tx *db.Tx, community string) (map[placeKey]*storedHH, error) {
	list, err := db.Collect(ctx, tx, scanStoredHH, `SELECT `+storedHHCols+` FROM testing_households h
		WHERE h.community_code = $1`, community)
	if err != nil {
		return nil, fmt.Errorf("masstest: households: %w", err)
	}
	out := make(map[placeKey]*storedHH, len(list))
	for _, h := range list {
		out[h.place] = h
	}
	return out, nil
}

// insertHousehold creates the household at k with a fresh code.
func insertHousehold(ctx context.Context, tx *db.Tx, k placeKey, areaPath string) (*storedHH, error) {
	h := &storedHH{code: newCode("h"), place: k, areaPath: areaPath}
	err := tx.QueryRowContext(ctx, `INSERT INTO testing_households (code, community_code, area_path, estate, building, unit,
		room, members, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $8) RETURNING id`,
		h.code, k.community, areaPath, k.estate, k.building, k.unit, k.room, tx.NowMS()).Scan(&h.id)
	if err != nil {
		return nil, fmt.Errorf("masstest: insert household: %w", err)
	}
	return h, nil
}

// storedRes is a resident as the import finds them, with their
// household.
type storedRes struct {
	id, householdID   int64
	idIdx, nameMasked string
	nameEnc           []byte
	phoneIdx          sql.NullString
	birthYear         int
	flags             Flags
	status            Status
	statusDate        string
	hh                storedHH
	idEnc             []byte
}

const storedResCols = `r.id, r.household_id, r.id_idx, r.name_masked, r.name_enc, r.phone_idx, r.birth_year,
	r.mobility_impaired, r.elderly_alone, r.bedridden, r.infant, r.status, r.status_date, r.id_enc, ` + storedHHCols

const storedResFrom = ` FROM testing_residents r JOIN testing_households h ON h.id = r.household_id`

func scanStoredRes(sc db.Scanner) (*storedRes, error) {
	var r storedRes
	h := &r.hh
	err := sc.Scan(&r.id, &r.householdID, &r.idIdx, &r.nameMasked, &r.nameEnc, &r.phoneIdx, &r.birthYear,
		&r.flags.MobilityImpaired, &r.flags.ElderlyAlone, &r.flags.Bedridden, &r.flags.Infant, &r.status, &r.statusDate, &r.idEnc,
		&h.id, &h.code, &h.place.community, &h.areaPath, &h.place.estate, &h.place.building, &h.place.unit, &h.place.room)
	return &r, err
}

// residentsByIdx answers the residents whose ID numbers have these blind
// indexes, wherever they live.
func residentsByIdx(ctx context.Context, tx *db.Tx, idxs []string) (map[string]*storedRes, error) {
	out := make(map[string]*storedRes, len(idxs))
	err := db.Chunks(len(idxs), 256, func(lo, hi int) error {
		var a db.Args
		q := `SELECT ` + storedResCols + storedResFrom + ` WHERE r.id_idx IN ` + db.In(&a, idxs[lo:hi])
		list, err := db.Collect(ctx, tx, scanStoredRes, q, a.List...)
		for _, r := range list {
			out[r.idIdx] = r
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("masstest: residents by ID: %w", err)
	}
	return out, nil
}

// registeredIn answers the residents of a community in its population
// (neither moved out nor deceased), by place and id: those a file that
// leaves them out moves out.
func registeredIn(ctx context.Context, tx *db.Tx, community string) ([]*storedRes, error) {
	out, err := db.Collect(ctx, tx, scanStoredRes, `SELECT `+storedResCols+storedResFrom+`
		WHERE h.community_code = $1 AND r.status NOT IN ('moved_out', 'deceased') ORDER BY h.estate, h.building, h.unit, h.room, r.id`, community)
	if err != nil {
		return nil, fmt.Errorf("masstest: residents of %s: %w", community, err)
	}
	return out, nil
}

// residentRec is what the register writes of a resident.
type residentRec struct {
	householdID       int64
	nameMasked        string
	nameEnc, phoneEnc []byte
	phoneIdx          sql.NullString
	idEnc             []byte
	idIdx, id4        string
	birthYear         int
	flags             Flags
	status            Status
	statusDate        string
}

// insertResident registers a resident with a fresh code.
func insertResident(ctx context.Context, tx *db.Tx, r *residentRec) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO testing_residents (code, household_id, name_masked, name_enc, id_enc, id_idx,
		id4, phone_enc, phone_idx, birth_year, mobility_impaired, elderly_alone, bedridden, infant, status, status_date,
		created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17)
		RETURNING id`, newCode("r"), r.householdID, r.nameMasked, r.nameEnc, r.idEnc, r.idIdx, r.id4, r.phoneEnc, r.phoneIdx,
		r.birthYear, r.flags.MobilityImpaired, r.flags.ElderlyAlone, r.flags.Bedridden, r.flags.Infant, r.status, r.statusDate,
		tx.NowMS()).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("masstest: insert resident: %w", err)
	}
	return id, nil
}

// updateResident writes a resident's household and details anew (the ID
// number stays).
func updateResident(ctx context.Context, tx *db.Tx, id int64, r *residentRec) error {
	_, err := tx.ExecContext(ctx, `UPDATE testing_residents SET household_id = $1, name_masked = $2, name_enc = $3,
		phone_enc = $4, phone_idx = $5, birth_year = $6, mobility_impaired = $7, elderly_alone = $8, bedridden = $9,
		infant = $10, status = $11, status_date = $12, updated_at = $13 WHERE id = $14`,
		r.householdID, r.nameMasked, r.nameEnc, r.phoneEnc, r.phoneIdx, r.birthYear, r.flags.MobilityImpaired,
		r.flags.ElderlyAlone, r.flags.Bedridden, r.flags.Infant, r.status, r.statusDate, tx.NowMS(), id)
	if err != nil {
		return fmt.Errorf("masstest: update resident: %w", err)
	}
	return nil
}

// moveOut marks a resident moved out on date.
func moveOut(ctx context.Context, tx *db.Tx, id int64, date string) error {
	_, err := tx.ExecContext(ctx, `UPDATE testing_residents SET status = 'moved_out', status_date = $1, updated_at = $2
		WHERE id = $3`, date, tx.NowMS(), id)
	if err != nil {
		return fmt.Errorf("masstest: move out: %w", err)
	}
	return nil
}

// bumpRegisterVersion adds one to the register's version (migration
// 0021): batches that kept residents read before it drop them. A row
// deleted by hand is made again (roundClosedAt reads none as 0).
func bumpRegisterVersion(ctx context.Context, tx *db.Tx) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO testing_register_version (id, version) VALUES (1, 1)
		ON CONFLICT (id) DO UPDATE SET version = testing_register_version.version + 1`); err != nil {
		return fmt.Errorf("masstest: register version: %w", err)
	}
	return nil
}

// recountMembers sets members of these households to their residents in
// the population.
func recountMembers(ctx context.Context, tx *db.Tx, ids []int64) error {
	return db.Chunks(len(ids), 256, func(lo, hi int) error {
		var a db.Args
		now := a.Add(tx.NowMS())
		q := `UPDATE testing_households SET members = (SELECT COUNT(*) FROM testing_residents r
			WHERE r.household_id = testing_households.id AND r.status NOT IN ('deceased', 'moved_out')), updated_at = ` + now +
			` WHERE id IN ` + db.In(&a, ids[lo:hi])
		if _, err := tx.ExecContext(ctx, q, a.List...); err != nil {
			return fmt.Errorf("masstest: members: %w", err)
		}
		return nil
	})
}
