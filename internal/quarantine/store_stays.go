package quarantine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"tongxin/internal/db"
)

// Persons, stays, their tests and checks, and the rules.

// personRec is a person to find or create.
type personRec struct {
	residentID    sql.NullInt64
	residentCode  string
	communityCode string
	nameMasked    string
	nameEnc       []byte
	idEnc         []byte
	idIdx         sql.NullString
	id4           string
	phoneEnc      []byte
}

// findPerson answers the id of the person with this resident id or ID
// number's blind index, 0 when none.
func findPerson(ctx context.Context, tx *db.Tx, r *personRec) (int64, error) {
	var id int64
	var err error
	if r.residentID.Valid {
		err = tx.QueryRowContext(ctx, `SELECT id FROM quarantine_persons WHERE resident_id = $1`, r.residentID.Int64).Scan(&id)
	} else {
		err = tx.QueryRowContext(ctx, `SELECT id FROM quarantine_persons WHERE id_idx = $1`, r.idIdx.String).Scan(&id)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("quarantine: find person: %w", err)
	}
	return id, nil
}

// insertPerson records a person.
func insertPerson(ctx context.Context, tx *db.Tx, r *personRec) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO quarantine_persons (resident_id, resident_code, community_code, name_masked,
		name_enc, id_enc, id_idx, id4, phone_enc, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
		r.residentID, r.residentCode, r.communityCode, r.nameMasked, r.nameEnc, r.idEnc, r.idIdx, r.id4, r.phoneEnc,
		tx.NowMS()).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("quarantine: insert person: %w", err)
	}
	return id, nil
}

// updateResidentPerson refreshes a resident's masked name and community
// from the register.
func updateResidentPerson(ctx context.Context, tx *db.Tx, id int64, r *personRec) error {
	_, err := tx.ExecContext(ctx, `UPDATE quarantine_persons SET resident_code = $1, community_code = $2, name_masked = $3
		WHERE id = $4`, r.residentCode, r.communityCode, r.nameMasked, id)
	if err != nil {
		return fmt.Errorf("quarantine: update person: %w", err)
	}
	return nil
}

// openStayOf answers the kind of the person's stay not ended, "" when none.
func openStayOf(ctx context.Context, tx *db.Tx, personID int64) (Kind, error) {
	var k Kind
	err := tx.QueryRowContext(ctx, `SELECT kind FROM quarantine_stays WHERE person_id = $1 AND ended_at IS NULL`, personID).Scan(&k)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("quarantine: open stay: %w", err)
	}
	return k, nil
}

// stayRec is a stay to insert.
type stayRec struct {
	personID             int64
	kind                 Kind
	category             Category
	siteID, roomID       sql.NullInt64
	areaCode, areaPath   string
	householdID          sql.NullInt64
	address, testDays    string
	startsAt, plannedEnd int64
	note, by             string
}

// insertStay records a stay.
func insertStay(ctx context.Context, tx *db.Tx, r *stayRec) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO quarantine_stays (person_id, kind, category, site_id, room_id, area_code,
		area_path, household_id, address, test_days, starts_at, planned_end, note, created_at, created_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id`,
		r.personID, r.kind, r.category, r.siteID, r.roomID, r.areaCode, r.areaPath, r.householdID, r.address, r.testDays,
		r.startsAt, r.plannedEnd, r.note, tx.NowMS(), r.by).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("quarantine: insert stay: %w", err)
	}
	return id, nil
}

// moveStay sets a central stay's site, room and area.
func moveStay(ctx context.Context, tx *db.Tx, id, siteID, roomID int64, areaCode, areaPath string) error {
	_, err := tx.ExecContext(ctx, `UPDATE quarantine_stays SET site_id = $1, room_id = $2, area_code = $3, area_path = $4
		WHERE id = $5`, siteID, roomID, areaCode, areaPath, id)
	if err != nil {
		return fmt.Errorf("quarantine: move stay: %w", err)
	}
	return nil
}

// endStay ends a stay.
func endStay(ctx context.Context, tx *db.Tx, id, at int64, reason EndReason, note, by string) error {
	_, err := tx.ExecContext(ctx, `UPDATE quarantine_stays SET ended_at = $1, end_reason = $2, end_note = $3, ended_by = $4
		WHERE id = $5 AND ended_at IS NULL`, at, reason, note, by, id)
	if err != nil {
		return fmt.Errorf("quarantine: end stay: %w", err)
	}
	return nil
}

const stayCols = `st.id, st.person_id, st.kind, st.category, pe.name_masked, pe.id4, pe.id_enc, pe.phone_enc, pe.resident_code,
	COALESCE(pe.resident_id, 0), st.area_code, COALESCE(a.name, st.area_code), st.area_path, COALESCE(st.site_id, 0),
	COALESCE(s.name, ''), COALESCE(r.number, ''), st.address, COALESCE(st.household_id, 0), st.test_days, st.starts_at,
	st.planned_end, st.ended_at, COALESCE(st.end_reason, ''), st.note, st.created_by`

const stayFrom = ` FROM quarantine_stays st JOIN quarantine_persons pe ON pe.id = st.person_id
	LEFT JOIN areas a ON a.code = st.area_code LEFT JOIN quarantine_sites s ON s.id = st.site_id
	LEFT JOIN quarantine_rooms r ON r.id = st.room_id`

func scanStay(sc db.Scanner) (*Stay, error) {
	var s Stay
	var id4, testDays string
	var start, planned int64
	var ended sql.NullInt64
	err := sc.Scan(&s.ID, &s.PersonID, &s.Kind, &s.Category, &s.Name, &id4, &s.idEnc, &s.phoneEn, &s.Resident, &s.residentID,
		&s.AreaCode, &s.AreaName, &s.areaPath, &s.SiteID, &s.Site, &s.Room, &s.Address, &s.householdID, &testDays, &start,
		&planned, &ended, &s.EndReason, &s.Note, &s.CreatedBy)
	s.Outsider = s.residentID == 0
	s.StartsAt, s.PlannedEnd = fromMS(start), fromMS(planned)
	if ended.Valid {
		t := fromMS(ended.Int64)
		s.EndedAt = &t
	}
	s.TestDays = parseDays(testDays)
	s.CategoryName = CategoryNames[s.Category]
	s.EndReasonName = EndReasonNames[s.EndReason]
	s.id4 = id4
	return &s, err
}

// loadStay answers a stay by id.
func loadStay(ctx context.Context, tx *db.Tx, id int64) (*Stay, error) {
	s, err := scanStay(tx.QueryRowContext(ctx, `SELECT `+stayCols+stayFrom+` WHERE st.id = $1`, id))
	if err != nil {
		return nil, db.NotFound("quarantine.stay", err, "stay_not_found", "隔离记录不存在")
	}
	return s, nil
}

// listStays answers the stays matching where, newest first.
func listStays(ctx context.Context, tx *db.Tx, where string, a db.Args) ([]*Stay, error) {
	q := `SELECT ` + stayCols + stayFrom + ` WHERE ` + where + ` ORDER BY st.starts_at DESC, st.id DESC LIMIT ` + fmt.Sprint(MaxListed)
	out, err := db.Collect(ctx, tx, scanStay, q, a.List...)
	if err != nil {
		return nil, fmt.Errorf("quarantine: stays: %w", err)
	}
	return out, nil
}

// homeStaysAt answers the home stays under path in force at the moment
// at, by address.
func homeStaysAt(ctx context.Context, tx *db.Tx, path string, at int64) ([]*Stay, error) {
	out, err := db.Collect(ctx, tx, scanStay, `SELECT `+stayCols+stayFrom+` WHERE st.kind = 'home'
		AND st.area_path LIKE $1 ESCAPE '\' AND st.starts_at <= $2 AND (st.ended_at IS NULL OR st.ended_at > $2)
		ORDER BY st.address, st.id LIMIT `+fmt.Sprint(MaxListed), db.LikePrefix(path), at)
	if err != nil {
		return nil, fmt.Errorf("quarantine: home stays: %w", err)
	}
	return out, nil
}

// upsertTest records a test's result.
func upsertTest(ctx context.Context, tx *db.Tx, stayID int64, day string, in TestInput, by string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO quarantine_tests (stay_id, day, result, note, recorded_at, recorded_by)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (stay_id, day) DO UPDATE SET result = excluded.result, note = excluded.note,
		recorded_at = excluded.recorded_at, recorded_by = excluded.recorded_by`, stayID, day, in.Result, in.Note, tx.NowMS(), by)
	if err != nil {
		return fmt.Errorf("quarantine: test: %w", err)
	}
	return nil
}

// stayTests answers a stay's tests by day.
func stayTests(ctx context.Context, tx *db.Tx, stayID int64) ([]Test, error) {
	out, err := db.Collect(ctx, tx, func(sc db.Scanner) (Test, error) {
		var t Test
		var at int64
		err := sc.Scan(&t.Day, &t.Result, &t.Note, &at, &t.RecordedBy)
		t.RecordedAt, t.ResultName = fromMS(at), ResultNames[t.Result]
		return t, err
	}, `SELECT day, result, note, recorded_at, recorded_by FROM quarantine_tests WHERE stay_id = $1 ORDER BY day`, stayID)
	if err != nil {
		return nil, fmt.Errorf("quarantine: tests: %w", err)
	}
	return out, nil
}

// checkRec is a check to record.
type checkRec struct {
	stayID     int64
	day        string
	areaPath   string
	done       bool
	tenths     sql.NullInt64
	contacted  bool
	sealIntact bool
	reason, by string
}

// upsertCheck records a day's check (again: the later record stands).
func upsertCheck(ctx context.Context, tx *db.Tx, c *checkRec) error {
	status := "missed"
	if c.done {
		status = "done"
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO quarantine_checks (stay_id, day, area_path, status, temp_tenths, contacted,
		seal_intact, reason, recorded_at, recorded_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (stay_id, day) DO UPDATE SET status = excluded.status, temp_tenths = excluded.temp_tenths,
		contacted = excluded.contacted, seal_intact = excluded.seal_intact, reason = excluded.reason,
		recorded_at = excluded.recorded_at, recorded_by = excluded.recorded_by`,
		c.stayID, c.day, c.areaPath, status, c.tenths, c.contacted, c.sealIntact, c.reason, tx.NowMS(), c.by)
	if err != nil {
		return fmt.Errorf("quarantine: check: %w", err)
	}
	return nil
}

type checkRow struct {
	stayID int64
	Check
}

func scanCheck(sc db.Scanner) (*checkRow, error) {
	var c checkRow
	var status string
	var tenths sql.NullInt64
	var at int64
	err := sc.Scan(&c.stayID, &c.Day, &status, &tenths, &c.Contacted, &c.SealIntact, &c.Reason, &at, &c.RecordedBy)
	c.Done, c.RecordedAt = status == "done", fromMS(at)
	if tenths.Valid {
		t := float64(tenths.Int64) / 10
		c.Temperature = &t
	}
	return &c, err
}

const checkCols = `stay_id, day, status, temp_tenths, contacted, seal_intact, reason, recorded_at, recorded_by`

// stayChecks answers a stay's checks by day.
func stayChecks(ctx context.Context, tx *db.Tx, stayID int64) ([]*checkRow, error) {
	out, err := db.Collect(ctx, tx, scanCheck, `SELECT `+checkCols+` FROM quarantine_checks WHERE stay_id = $1 ORDER BY day`, stayID)
	if err != nil {
		return nil, fmt.Errorf("quarantine: checks: %w", err)
	}
	return out, nil
}

// checksOn answers the checks of a day under path.
func checksOn(ctx context.Context, tx *db.Tx, path, day string) ([]*checkRow, error) {
	out, err := db.Collect(ctx, tx, scanCheck, `SELECT `+checkCols+` FROM quarantine_checks WHERE day = $1
		AND area_path LIKE $2 ESCAPE '\'`, day, db.LikePrefix(path))
	if err != nil {
		return nil, fmt.Errorf("quarantine: checks of the day: %w", err)
	}
	return out, nil
}

// loadRules answers the rules by category.
func loadRules(ctx context.Context, tx *db.Tx) (map[Category]*Rule, error) {
	list, err := db.Collect(ctx, tx, func(sc db.Scanner) (*Rule, error) {
		var r Rule
		var tests string
		var at int64
		err := sc.Scan(&r.Category, &r.CentralDays, &r.HomeDays, &tests, &at, &r.UpdatedBy)
		r.HomeTestDays, r.CategoryName = parseDays(tests), CategoryNames[r.Category]
		if r.HomeTestDays == nil {
			r.HomeTestDays = []int{}
		}
		if at > 0 {
			r.UpdatedAt = fromMS(at)
		}
		return &r, err
	}, `SELECT category, central_days, home_days, home_tests, updated_at, updated_by FROM quarantine_rules`)
	if err != nil {
		return nil, fmt.Errorf("quarantine: rules: %w", err)
	}
	out := make(map[Category]*Rule, len(list))
	for _, r := range list {
		out[r.Category] = r
	}
	return out, nil
}

// saveRule writes a category's rule.
func saveRule(ctx context.Context, tx *db.Tx, c Category, in RuleInput, by string) error {
	_, err := tx.ExecContext(ctx, `UPDATE quarantine_rules SET central_days = $1, home_days = $2, home_tests = $3,
		updated_at = $4, updated_by = $5 WHERE category = $6`, in.CentralDays, in.HomeDays, formatDays(in.HomeTestDays),
		tx.NowMS(), by, c)
	if err != nil {
		return fmt.Errorf("quarantine: save rule: %w", err)
	}
	return nil
}

// loadPersonSealed answers a person's sealed ID number and phone, and the
// area of their latest stay.
func loadPersonSealed(ctx context.Context, tx *db.Tx, id int64) (nameMasked string, idEnc, phoneEnc []byte, areaCode, areaPath string, err error) {
	err = tx.QueryRowContext(ctx, `SELECT pe.name_masked, pe.id_enc, pe.phone_enc, st.area_code, st.area_path
		FROM quarantine_persons pe JOIN quarantine_stays st ON st.person_id = pe.id WHERE pe.id = $1
		ORDER BY st.starts_at DESC, st.id DESC LIMIT 1`, id).Scan(&nameMasked, &idEnc, &phoneEnc, &areaCode, &areaPath)
	if err != nil {
		return "", nil, nil, "", "", db.NotFound("quarantine.person", err, "person_not_found", "隔离人员不存在")
	}
	return nameMasked, idEnc, phoneEnc, areaCode, areaPath, nil
}
