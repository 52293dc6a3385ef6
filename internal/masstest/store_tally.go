package masstest

import (
	"context"
	"fmt"

	"tongxin/internal/db"
)

// Coverage per round and building (testing_tally) and per round and
// household (testing_round_households). A sample or an exemption moves
// one household's counts and its building's row by a delta (hhDelta);
// the register's changes rebuild a community's rows from the samples and
// exemptions (rebuildCommunity), which is also what the tests hold the
// deltas to.

// hhState is a household's place in a round's coverage.
type hhState int

const (
	hhMissed  hhState = iota // a member neither sampled nor exempt
	hhSampled                // every member sampled or exempt, one at least sampled
	hhExempt                 // every member exempt
)

// stateOf is the state of a household of members with sampled and
// exempt of them.
func stateOf(members, sampled, exempt int) hhState {
	switch {
	case sampled+exempt < members:
		return hhMissed
	case sampled == 0:
		return hhExempt
	}
	return hhSampled
}

// tallyDelta is a change to one building's row.
type tallyDelta struct {
	sampled, hhSampled, hhExempt int
	exempt                       map[ExemptReason]int
}

// hhDelta is the change to the building's row when a household of
// members goes from (s0, e0) to (s1, e1) sampled and exempt.
func hhDelta(members, s0, e0, s1, e1 int) tallyDelta {
	d := tallyDelta{sampled: s1 - s0}
	d.add(stateOf(members, s0, e0), -1)
	d.add(stateOf(members, s1, e1), 1)
	return d
}

// add counts a household of state st in (sign 1) or out (-1).
func (d *tallyDelta) add(st hhState, sign int) {
	switch st {
	case hhSampled:
		d.hhSampled += sign
	case hhExempt:
		d.hhExempt += sign
	}
}

// exemptColumn is the tally column of an exemption reason.
func exemptColumn(r ExemptReason) string { return "ex_" + string(r) }

// hhBump is what a batch adds to a household's counts in a round, and
// the counts it found before.
type hhBump struct {
	household int64
	ds, de    int
	s0, e0    int
}

// bumpHouseholds adds each bump's counts to its household's (households
// distinct), noting the counts before in s0 and e0: one statement for
// many households (in pieces of a few sizes, so that the texts repeat).
func bumpHouseholds(ctx context.Context, tx *db.Tx, round int64, bumps []*hhBump) error {
	for _, part := range pieces(tx, bumps, rowSizes) {
		by := make(map[int64]*hhBump, len(part))
		for _, h := range part {
			by[h.household] = h
		}
		if tx.Dialect == db.Postgres {
			if err := bumpHouseholdsPG(ctx, tx, round, part, by); err != nil {
				return err
			}
			continue
		}
		args := make([]any, 0, 4*len(part))
		for _, h := range part {
			args = append(args, round, h.household, h.ds, h.de)
		}
		q := rowsSQL(`INSERT INTO testing_round_households (round_id, household_id, sampled, exempt) VALUES `, 4, len(part),
			` ON CONFLICT (round_id, household_id) DO UPDATE SET sampled = testing_round_households.sampled + excluded.sampled,
			exempt = testing_round_households.exempt + excluded.exempt RETURNING household_id, sampled, exempt`)
		err := db.Each(ctx, tx, bumped(by), q, args...)
		if err != nil {
			return fmt.Errorf("masstest: household counts: %w", err)
		}
	}
	return nil
}

// bumped reads the counts an upsert of bumps answers (household,
// sampled, exempt) into the bumps' counts before it.
func bumped(by map[int64]*hhBump) func(db.Scanner) error {
	return func(sc db.Scanner) error {
		var id int64
		var s1, e1 int
		if err := sc.Scan(&id, &s1, &e1); err != nil {
			return err
		}
		if h := by[id]; h != nil {
			h.s0, h.e0 = s1-h.ds, e1-h.de
		}
		return nil
	}
}

// bumpHousehold adds ds sampled and de exempt to a household's counts in
// a round, answering the counts before.
func bumpHousehold(ctx context.Context, tx *db.Tx, round, household int64, ds, de int) (s0, e0 int, err error) {
	var s1, e1 int
	err = tx.QueryRowContext(ctx, `INSERT INTO testing_round_households (round_id, household_id, sampled, exempt)
		VALUES ($1, $2, $3, $4)
		ON CONFLICT (round_id, household_id) DO UPDATE SET sampled = testing_round_households.sampled + $3,
			exempt = testing_round_households.exempt + $4
		RETURNING sampled, exempt`, round, household, ds, de).Scan(&s1, &e1)
	if err != nil {
		return 0, 0, fmt.Errorf("masstest: household counts: %w", err)
	}
	return s1 - ds, e1 - de, nil
}

// applyTally adds d to the building's row of a round.
func applyTally(ctx context.Context, tx *db.Tx, round int64, hh *householdRef, d tallyDelta) error {
	var a db.Args
	set := "sampled = sampled + " + a.Add(d.sampled) + ", hh_sampled = hh_sampled + " + a.Add(d.hhSampled) +
		", hh_exempt = hh_exempt + " + a.Add(d.hhExempt)
	for _, r := range ExemptReasons {
		if n := d.exempt[r]; n != 0 {
			set += ", " + exemptColumn(r) + " = " + exemptColumn(r) + " + " + a.Add(n)
		}
	}
	q := `UPDATE testing_tally SET ` + set + ` WHERE round_id = ` + a.Add(round) + ` AND area_path = ` + a.Add(hh.areaPath) +
		` AND estate = ` + a.Add(hh.estate) + ` AND building = ` + a.Add(hh.building)
	res, err := tx.ExecContext(ctx, q, a.List...)
	if err != nil {
		return fmt.Errorf("masstest: tally: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("masstest: tally: no row for round %d, building %s %s (%d, %v)", round, hh.estate, hh.building, n, err)
	}
	return nil
}

// householdRef is where a household is, as the tally counts it.
type householdRef struct {
	id                                                    int64
	members                                               int
	communityCode, areaPath, estate, building, unit, room string
}

// personCover is one resident of the population as a round covers them.
type personCover struct {
	hh      householdRef
	sampled bool
	exempt  ExemptReason // "" when not exempt (or sampled)
}

// rebuildCommunity writes a round's rows of one community (its path)
// anew from the register, the round's samples and its exemptions.
func rebuildCommunity(ctx context.Context, tx *db.Tx, round int64, communityPath string) error {
	people, err := db.Collect(ctx, tx, scanPersonCover, `SELECT h.id, h.members, h.community_code, h.area_path, h.estate,
			h.building, h.unit, h.room,
			CASE WHEN s.id IS NULL THEN 0 ELSE 1 END, COALESCE(e.reason, '')
		FROM testing_residents r JOIN testing_households h ON h.id = r.household_id
		LEFT JOIN testing_samples s ON s.round_id = $1 AND s.resident_id = r.id AND s.retest_id IS NULL
		LEFT JOIN testing_exemptions e ON e.round_id = $1 AND e.resident_id = r.id
		WHERE h.area_path = $2 AND r.status NOT IN ('deceased', 'moved_out')
		ORDER BY h.id`, round, communityPath)
	if err != nil {
		return fmt.Errorf("masstest: rebuilding coverage: %w", err)
	}
	for _, q := range []string{
		`DELETE FROM testing_round_households WHERE round_id = $1 AND household_id IN
			(SELECT id FROM testing_households WHERE area_path = $2)`,
		`DELETE FROM testing_tally WHERE round_id = $1 AND area_path = $2`,
	} {
		if _, err := tx.ExecContext(ctx, q, round, communityPath); err != nil {
			return fmt.Errorf("masstest: rebuilding coverage: %w", err)
		}
	}
	return writeCover(ctx, tx, round, people)
}

func scanPersonCover(sc db.Scanner) (personCover, error) {
	var p personCover
	var sampled int
	err := sc.Scan(&p.hh.id, &p.hh.members, &p.hh.communityCode, &p.hh.areaPath, &p.hh.estate, &p.hh.building, &p.hh.unit,
		&p.hh.room, &sampled, &p.exempt)
	p.sampled = sampled == 1
	if p.sampled {
		p.exempt = ""
	}
	return p, err
}

// buildingKey names a building of the tally.
type buildingKey struct{ communityCode, areaPath, estate, building string }

type buildingRow struct {
	households, persons, hhSampled, hhExempt, sampled int
	exempt                                            map[ExemptReason]int
}

// writeCover inserts the rows of people, ordered by household.
func writeCover(ctx context.Context, tx *db.Tx, round int64, people []personCover) error {
	rows := map[buildingKey]*buildingRow{}
	var order []buildingKey
	for i := 0; i < len(people); {
		hh := people[i].hh
		s, e := 0, 0
		k := buildingKey{hh.communityCode, hh.areaPath, hh.estate, hh.building}
		b := rows[k]
		if b == nil {
			b = &buildingRow{exempt: map[ExemptReason]int{}}
			rows[k] = b
			order = append(order, k)
		}
		for ; i < len(people) && people[i].hh.id == hh.id; i++ {
			b.persons++
			switch {
			case people[i].sampled:
				s++
			case people[i].exempt != "":
				e++
				b.exempt[people[i].exempt]++
			}
		}
		b.households++
		b.sampled += s
		switch stateOf(hh.members, s, e) {
		case hhSampled:
			b.hhSampled++
		case hhExempt:
			b.hhExempt++
		}
		if s+e > 0 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO testing_round_households (round_id, household_id, sampled, exempt)
				VALUES ($1, $2, $3, $4)`, round, hh.id, s, e); err != nil {
				return fmt.Errorf("masstest: household counts: %w", err)
			}
		}
	}
	for _, k := range order {
		b := rows[k]
		if _, err := tx.ExecContext(ctx, `INSERT INTO testing_tally (round_id, community_code, area_path, estate, building,
			households, persons, hh_sampled, hh_exempt, sampled, ex_away, ex_hospitalized, ex_infant, ex_deceased)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
			round, k.communityCode, k.areaPath, k.estate, k.building, b.households, b.persons, b.hhSampled, b.hhExempt,
			b.sampled, b.exempt[ExemptAway], b.exempt[ExemptHospitalized], b.exempt[ExemptInfant],
			b.exempt[ExemptDeceased]); err != nil {
			return fmt.Errorf("masstest: tally: %w", err)
		}
	}
	return nil
}

// communitiesWithHouseholds lists the community paths under any of paths
// that have households.
func communitiesWithHouseholds(ctx context.Context, tx *db.Tx, paths []string) ([]string, error) {
	var a db.Args
	where := ""
	for i, p := range paths {
		if i > 0 {
			where += " OR "
		}
		where += "area_path LIKE " + a.Add(db.LikePrefix(p)) + ` ESCAPE '\'`
	}
	out, err := db.Collect(ctx, tx, db.Value[string], `SELECT DISTINCT area_path FROM testing_households WHERE `+where+
		` ORDER BY area_path`, a.List...)
	if err != nil {
		return nil, fmt.Errorf("masstest: communities: %w", err)
	}
	return out, nil
}

// openRoundsCovering lists the rounds not closed whose areas cover the
// community at path: the register's changes rebuild their rows.
func openRoundsCovering(ctx context.Context, tx *db.Tx, communityPath string) ([]int64, error) {
	out, err := db.Collect(ctx, tx, db.Value[int64], `SELECT DISTINCT r.id FROM testing_rounds r
		JOIN testing_round_areas ra ON ra.round_id = r.id
		WHERE r.closed_at IS NULL AND $1 LIKE ra.area_path || '%' ORDER BY r.id`, communityPath)
	if err != nil {
		return nil, fmt.Errorf("masstest: rounds covering: %w", err)
	}
	return out, nil
}

// rebuildCoverage writes every open round's rows of the community at
// path anew: what the register's writes call once their changes are in.
func rebuildCoverage(ctx context.Context, tx *db.Tx, communityPath string) error {
	rounds, err := openRoundsCovering(ctx, tx, communityPath)
	if err != nil {
		return err
	}
	for _, r := range rounds {
		if err := rebuildCommunity(ctx, tx, r, communityPath); err != nil {
			return err
		}
	}
	return nil
}
