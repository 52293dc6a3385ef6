package masstest

import (
	"context"
	"fmt"
	"strings"

	"tongxin/internal/db"
)

// tallyRows reads a round's rows under the area at path summed by
// community (estate and building empty): a district is some hundreds of
// rows, however many buildings it has.
func tallyRows(ctx context.Context, tx *db.Tx, round int64, path string) ([]tallyRow, error) {
	return queryTally(ctx, tx, `SELECT area_path, '', '', SUM(households), SUM(persons), SUM(hh_sampled), SUM(hh_exempt),
		SUM(sampled), SUM(ex_away), SUM(ex_hospitalized), SUM(ex_infant), SUM(ex_deceased)
		FROM testing_tally WHERE round_id = $1 AND area_path LIKE $2 ESCAPE '\'
		GROUP BY area_path ORDER BY area_path`, round, db.LikePrefix(path))
}

// buildingRows reads a round's rows of the community at path, a building
// each.
func buildingRows(ctx context.Context, tx *db.Tx, round int64, path string) ([]tallyRow, error) {
	return queryTally(ctx, tx, `SELECT area_path, estate, building, households, persons, hh_sampled, hh_exempt, sampled,
		ex_away, ex_hospitalized, ex_infant, ex_deceased
		FROM testing_tally WHERE round_id = $1 AND area_path = $2 ORDER BY estate, building`, round, path)
}

func queryTally(ctx context.Context, tx *db.Tx, q string, args ...any) ([]tallyRow, error) {
	out, err := db.Collect(ctx, tx, func(sc db.Scanner) (tallyRow, error) {
		var t tallyRow
		err := sc.Scan(&t.areaPath, &t.estate, &t.building, &t.households, &t.persons, &t.hhSampled, &t.hhExempt, &t.sampled,
			&t.exempt[0], &t.exempt[1], &t.exempt[2], &t.exempt[3])
		return t, err
	}, q, args...)
	if err != nil {
		return nil, fmt.Errorf("masstest: tally rows: %w", err)
	}
	return out, nil
}

// missedRow is a missed resident with their sealed values.
type missedRow struct {
	p               MissedPerson
	idEnc, phoneEnc []byte
}

const missedCols = `r.id, r.code, r.name_masked, r.id_enc, r.phone_enc, r.birth_year, r.mobility_impaired, r.elderly_alone,
	r.bedridden, r.infant, r.status, h.id, h.community_code, COALESCE(a.name, h.community_code), h.estate, h.building, h.unit, h.room`

func scanMissed(sc db.Scanner) (missedRow, error) {
	var m missedRow
	p := &m.p
	err := sc.Scan(&p.ResidentID, &p.Resident, &p.Name, &m.idEnc, &m.phoneEnc, &p.BirthYear, &p.MobilityImpaired, &p.ElderlyAlone,
		&p.Bedridden, &p.Infant, &p.Status, &p.HouseholdID, &p.Address.CommunityCode, &p.Address.CommunityName, &p.Address.Estate,
		&p.Address.Building, &p.Address.Unit, &p.Address.Room)
	p.StatusName = StatusNames[p.Status]
	p.AtHome = p.Flags.Any()
	return m, err
}

// inAreas is the condition that col, a household's path, lies under path
// and under one of the round's area paths.
func inAreas(a *db.Args, col, path string, roundPaths []string) string {
	var any []string
	for _, p := range roundPaths {
		any = append(any, col+" LIKE "+a.Add(db.LikePrefix(p))+` ESCAPE '\'`)
	}
	return col + " LIKE " + a.Add(db.LikePrefix(path)) + ` ESCAPE '\' AND (` + strings.Join(any, " OR ") + ")"
}

// notCovered is the condition that resident r is neither sampled nor
// exempt in the round whose id is the placeholder ph.
func notCovered(ph string) string {
	return `NOT EXISTS (SELECT 1 FROM testing_samples s WHERE s.round_id = ` + ph + ` AND s.resident_id = r.id
			AND s.retest_id IS NULL)
		AND NOT EXISTS (SELECT 1 FROM testing_exemptions e WHERE e.round_id = ` + ph + ` AND e.resident_id = r.id)`
}

// missedPage reads a page of the round's missed residents of the
// communities at paths (in the round), by address. The households are
// walked in the order of their index, one community after the other, and
// those whose members are all covered are skipped by their counts before
// any resident is looked at: a first page reads a few hundred households,
// however large the area.
func missedPage(ctx context.Context, tx *db.Tx, round int64, communities []string, limit, offset int) ([]missedRow, error) {
	if len(communities) == 0 {
		return nil, nil
	}
	var a db.Args
	rp := a.Add(round)
	q := `SELECT ` + missedCols + ` FROM testing_households h
		LEFT JOIN testing_round_households rh ON rh.round_id = ` + rp + ` AND rh.household_id = h.id
		JOIN testing_residents r ON r.household_id = h.id
		LEFT JOIN areas a ON a.code = h.community_code
		WHERE h.area_path IN ` + db.In(&a, communities) + `
		AND h.members > COALESCE(rh.sampled, 0) + COALESCE(rh.exempt, 0)
		AND r.status NOT IN ('deceased', 'moved_out') AND ` + notCovered(rp) + `
		ORDER BY h.area_path, h.estate, h.building, h.unit, h.room, r.id LIMIT ` + a.Add(limit) + ` OFFSET ` + a.Add(offset)
	out, err := db.Collect(ctx, tx, scanMissed, q, a.List...)
	if err != nil {
		return nil, fmt.Errorf("masstest: missed: %w", err)
	}
	return out, nil
}

// communitiesOf lists the communities of tally rows, in order.
func communitiesOf(rows []tallyRow) []string {
	var out []string
	for _, t := range rows {
		if len(out) == 0 || out[len(out)-1] != t.areaPath {
			out = append(out, t.areaPath)
		}
	}
	return out
}

// comparePage reads who round covered and other missed under path (both
// rounds' areas), by address, at most limit, and how many there are.
func comparePage(ctx context.Context, tx *db.Tx, round, other int64, paths []string, path string, limit int) ([]missedRow, int, error) {
	var a db.Args
	rp, op := a.Add(round), a.Add(other)
	where := inAreas(&a, "h.area_path", path, paths) + ` AND r.status NOT IN ('deceased', 'moved_out')
		AND NOT (` + notCovered(rp) + `) AND ` + notCovered(op)
	from := ` FROM testing_residents r JOIN testing_households h ON h.id = r.household_id
		LEFT JOIN areas a ON a.code = h.community_code WHERE ` + where
	var total int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*)`+from, a.List...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("masstest: compare: %w", err)
	}
	q := `SELECT ` + missedCols + from + ` ORDER BY h.area_path, h.estate, h.building, h.unit, h.room, r.id LIMIT ` + a.Add(limit)
	out, err := db.Collect(ctx, tx, scanMissed, q, a.List...)
	if err != nil {
		return nil, 0, fmt.Errorf("masstest: compare: %w", err)
	}
	return out, total, nil
}

// roundTotals sums the building rows under path of each of rounds.
func roundTotals(ctx context.Context, tx *db.Tx, rounds []int64, path string) (map[int64]*tallyRow, error) {
	out := map[int64]*tallyRow{}
	if len(rounds) == 0 {
		return out, nil
	}
	var a db.Args
	q := `SELECT round_id, SUM(households), SUM(persons), SUM(hh_sampled), SUM(hh_exempt), SUM(sampled), SUM(ex_away),
		SUM(ex_hospitalized), SUM(ex_infant), SUM(ex_deceased) FROM testing_tally
		WHERE round_id IN ` + db.In(&a, rounds) + ` AND area_path LIKE ` + a.Add(db.LikePrefix(path)) + ` ESCAPE '\'
		GROUP BY round_id`
	err := db.Each(ctx, tx, func(sc db.Scanner) error {
		var id int64
		var t tallyRow
		if err := sc.Scan(&id, &t.households, &t.persons, &t.hhSampled, &t.hhExempt, &t.sampled, &t.exempt[0], &t.exempt[1],
			&t.exempt[2], &t.exempt[3]); err != nil {
			return err
		}
		out[id] = &t
		return nil
	}, q, a.List...)
	if err != nil {
		return nil, fmt.Errorf("masstest: round totals: %w", err)
	}
	return out, nil
}
