package masstest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"tongxin/internal/clock"
	"tongxin/internal/db"
)

// residentRow is a resident as sampling needs them.
type residentRow struct {
	id         int64
	code       string
	nameMasked string
	birthYear  int
	status     Status
	flags      Flags
	hh         householdRef
}

const residentRowCols = `r.id, r.code, r.name_masked, r.birth_year, r.status, r.mobility_impaired, r.elderly_alone, r.bedridden,
	r.infant, h.id, h.members, h.community_code, h.area_path, h.estate, h.building, h.unit, h.room`

func scanResidentRow(sc db.Scanner) (*residentRow, error) {
	var r residentRow
	err := sc.Scan(&r.id, &r.code, &r.nameMasked, &r.birthYear, &r.status, &r.flags.MobilityImpaired, &r.flags.ElderlyAlone,
		&r.flags.Bedridden, &r.flags.Infant, &r.hh.id, &r.hh.members, &r.hh.communityCode, &r.hh.areaPath, &r.hh.estate,
		&r.hh.building, &r.hh.unit, &r.hh.room)
	return &r, err
}

// residentBy finds a resident by code or by the ID number's blind index;
// nil when there is none.
func residentBy(ctx context.Context, tx *db.Tx, column, value string) (*residentRow, error) {
	if column != "code" && column != "id_idx" {
		return nil, fmt.Errorf("masstest: resident by %s", column)
	}
	list, err := db.Collect(ctx, tx, scanResidentRow, `SELECT `+residentRowCols+` FROM testing_residents r
		JOIN testing_households h ON h.id = r.household_id WHERE r.`+column+` = $1`, value)
	if err != nil || len(list) == 0 {
		return nil, err
	}
	return list[0], nil
}

const sampleCols = `s.id, s.round_id, s.resident_id, r.code, r.name_masked, s.household_id, t.barcode, t.pool_size, s.mode,
	s.site_id, s.collector, s.client_id, s.sampled_at, s.received_at, s.retest_id`

const sampleFrom = ` FROM testing_samples s JOIN testing_residents r ON r.id = s.resident_id
	JOIN testing_tubes t ON t.id = s.tube_id`

func scanSample(sc db.Scanner) (*Sample, error) {
	var s Sample
	var sampled, received int64
	var site, retest sql.NullInt64
	if err := sc.Scan(&s.ID, &s.RoundID, &s.ResidentID, &s.Resident, &s.Name, &s.HouseholdID, &s.Tube, &s.PoolSize, &s.Mode,
		&site, &s.Collector, &s.ClientID, &sampled, &received, &retest); err != nil {
		return nil, err
	}
	s.SampledAt, s.ReceivedAt = clock.FromMillis(sampled), clock.FromMillis(received)
	if site.Valid {
		s.SiteID = &site.Int64
	}
	if retest.Valid {
		s.RetestID = &retest.Int64
	}
	return &s, nil
}

// sampleWhere answers the one sample matching where, nil if none.
func sampleWhere(ctx context.Context, tx *db.Tx, where string, args ...any) (*Sample, error) {
	list, err := db.Collect(ctx, tx, scanSample, `SELECT `+sampleCols+sampleFrom+` WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("masstest: sample: %w", err)
	}
	if len(list) == 0 {
		return nil, nil
	}
	return list[0], nil
}

// roundClosedAt reads when a round was closed, nil if it is not, and in
// the same statement the register's version for residentCache: on SQLite
// the connection's data_version, on PostgreSQL the number every import
// adds one to (migration 0021).
func roundClosedAt(ctx context.Context, tx *db.Tx, round int64) (*time.Time, int64, error) {
	var closed sql.NullInt64
	var version int64
	q := `SELECT closed_at, COALESCE((SELECT version FROM testing_register_version WHERE id = 1), 0) FROM testing_rounds WHERE id = $1`
	if tx.Dialect == db.SQLite {
		q = `SELECT closed_at, (SELECT data_version FROM pragma_data_version()) FROM testing_rounds WHERE id = $1`
	}
	if err := tx.QueryRowContext(ctx, q, round).Scan(&closed, &version); err != nil {
		return nil, 0, fmt.Errorf("masstest: round: %w", err)
	}
	if !closed.Valid {
		return nil, version, nil
	}
	t := clock.FromMillis(closed.Int64)
	return &t, version, nil
}

func firstSample(ctx context.Context, tx *db.Tx, round, resident int64) (*Sample, error) {
	return sampleWhere(ctx, tx, `s.round_id = $1 AND s.resident_id = $2 AND s.retest_id IS NULL`, round, resident)
}

func retestSample(ctx context.Context, tx *db.Tx, retest int64) (*Sample, error) {
	return sampleWhere(ctx, tx, `s.retest_id = $1`, retest)
}

func wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("masstest: %s: %w", what, err)
}

// sampleRow is a sample to insert.
type sampleRow struct {
	round, resident, household, tube int64
	mode                             SampleMode
	site, retest                     sql.NullInt64
	collector, clientID              string
	sampledAt                        int64
}

// exemptionReason is a resident's exemption in a round, "" if none.
func exemptionReason(ctx context.Context, tx *db.Tx, round, resident int64) (ExemptReason, error) {
	list, err := db.Collect(ctx, tx, db.Value[string], `SELECT reason FROM testing_exemptions WHERE round_id = $1 AND resident_id = $2`,
		round, resident)
	if err != nil || len(list) == 0 {
		return "", err
	}
	return ExemptReason(list[0]), nil
}

// deleteExemption takes a resident's exemption in a round away,
// answering its reason ("" if there was none).
func deleteExemption(ctx context.Context, tx *db.Tx, round, resident int64) (ExemptReason, error) {
	list, err := db.Collect(ctx, tx, db.Value[string], `DELETE FROM testing_exemptions WHERE round_id = $1 AND resident_id = $2
		RETURNING reason`, round, resident)
	if err != nil || len(list) == 0 {
		return "", wrap("delete exemption", err)
	}
	return ExemptReason(list[0]), nil
}

func upsertExemption(ctx context.Context, tx *db.Tx, round, resident int64, reason ExemptReason, note, actor string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO testing_exemptions (round_id, resident_id, reason, note, created_at, created_by)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (round_id, resident_id) DO UPDATE SET reason = $3, note = $4,
		created_at = $5, created_by = $6`, round, resident, string(reason), note, tx.NowMS(), actor)
	if err != nil {
		return fmt.Errorf("masstest: exemption: %w", err)
	}
	return nil
}

// retestRef is a retest as a retest sample checks it: done once it has
// a result or was resampled (done_at).
type retestRef struct {
	id, round, resident int64
	done                bool
}

// loadRetest reads a retest; ok false if there is none.
func loadRetest(ctx context.Context, tx *db.Tx, id int64) (retestRef, bool, error) {
	var r retestRef
	var done sql.NullInt64
	err := tx.QueryRowContext(ctx, `SELECT id, round_id, resident_id, done_at FROM testing_retests WHERE id = $1`, id).
		Scan(&r.id, &r.round, &r.resident, &done)
	if errors.Is(err, sql.ErrNoRows) {
		return r, false, nil
	}
	if err != nil {
		return r, false, fmt.Errorf("masstest: retest: %w", err)
	}
	r.done = done.Valid
	return r, true, nil
}

const exemptionCols = `e.round_id, e.resident_id, r.code, r.name_masked, h.community_code, COALESCE(a.name, h.community_code),
	h.estate, h.building, h.unit, h.room, e.reason, e.note, e.created_at, e.created_by`

func scanExemption(sc db.Scanner) (Exemption, error) {
	var e Exemption
	var created int64
	err := sc.Scan(&e.RoundID, &e.ResidentID, &e.Resident, &e.Name, &e.Address.CommunityCode, &e.Address.CommunityName,
		&e.Address.Estate, &e.Address.Building, &e.Address.Unit, &e.Address.Room, &e.Reason, &e.Note, &created, &e.CreatedBy)
	e.CreatedAt = clock.FromMillis(created)
	e.ReasonName = ExemptReasonNames[e.Reason]
	return e, err
}

// listExemptions lists a round's exemptions under the area at path, by
// address.
func listExemptions(ctx context.Context, tx *db.Tx, round int64, path string, limit int) ([]Exemption, error) {
	out, err := db.Collect(ctx, tx, scanExemption, `SELECT `+exemptionCols+` FROM testing_exemptions e
		JOIN testing_residents r ON r.id = e.resident_id JOIN testing_households h ON h.id = r.household_id
		LEFT JOIN areas a ON a.code = h.community_code
		WHERE e.round_id = $1 AND h.area_path LIKE $2 ESCAPE '\'
		ORDER BY h.area_path, h.estate, h.building, h.unit, h.room, r.id LIMIT $3`, round, db.LikePrefix(path), limit)
	if err != nil {
		return nil, fmt.Errorf("masstest: exemptions: %w", err)
	}
	return out, nil
}

// listExemptionOf reads one resident's exemption in a round.
func listExemptionOf(ctx context.Context, tx *db.Tx, round, resident int64) (*Exemption, error) {
	out, err := db.Collect(ctx, tx, scanExemption, `SELECT `+exemptionCols+` FROM testing_exemptions e
		JOIN testing_residents r ON r.id = e.resident_id JOIN testing_households h ON h.id = r.household_id
		LEFT JOIN areas a ON a.code = h.community_code WHERE e.round_id = $1 AND e.resident_id = $2`, round, resident)
	if err != nil {
		return nil, fmt.Errorf("masstest: exemption of %d: %w", resident, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("masstest: exemption of %d not found after it was written", resident)
	}
	return &out[0], nil
}
