package masstest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"tongxin/internal/db"
)

// The testing group's figures, each one query over an area's subtree
// (path) and a day [from, to) in Unix milliseconds.

// overlapsArea is the condition that round r has an area inside the
// subtree at $1 or above it.
const overlapsArea = `EXISTS (SELECT 1 FROM testing_round_areas ra WHERE ra.round_id = r.id
	AND (ra.area_path LIKE $1 ESCAPE '\' OR $2 LIKE ra.area_path || '%'))`

// roundsInProgress counts the rounds over the area open during the day.
func roundsInProgress(ctx context.Context, tx *db.Tx, path string, from, to int64) (int, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM testing_rounds r WHERE `+overlapsArea+`
		AND r.starts_at < $3 AND r.ends_at > $4 AND (r.closed_at IS NULL OR r.closed_at > $4)`,
		db.LikePrefix(path), path, to, from).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("masstest: rounds in progress: %w", err)
	}
	return n, nil
}

// samplesOfDay counts the samples taken in the area during the day, and
// those of them for a retest.
func samplesOfDay(ctx context.Context, tx *db.Tx, path string, from, to int64) (all, retests int, err error) {
	err = tx.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(s.retest_id) FROM testing_samples s
		JOIN testing_households h ON h.id = s.household_id
		WHERE s.sampled_at >= $1 AND s.sampled_at < $2 AND h.area_path LIKE $3 ESCAPE '\'`,
		from, to, db.LikePrefix(path)).Scan(&all, &retests)
	if err != nil {
		return 0, 0, fmt.Errorf("masstest: samples of the day: %w", err)
	}
	return all, retests, nil
}

// latestCoverage is the persons of the latest round over the area
// started before to, nil when there is none.
func latestCoverage(ctx context.Context, tx *db.Tx, path string, to int64) (*RoundCoverage, error) {
	var c RoundCoverage
	err := tx.QueryRowContext(ctx, `SELECT r.id, c.name, r.number FROM testing_rounds r
		JOIN testing_campaigns c ON c.id = r.campaign_id WHERE `+overlapsArea+` AND r.starts_at < $3
		ORDER BY r.starts_at DESC, r.id DESC LIMIT 1`, db.LikePrefix(path), path, to).Scan(&c.RoundID, &c.Campaign, &c.Number)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("masstest: latest round: %w", err)
	}
	err = tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(persons), 0), COALESCE(SUM(sampled), 0),
		COALESCE(SUM(ex_away + ex_hospitalized + ex_infant + ex_deceased), 0)
		FROM testing_tally WHERE round_id = $1 AND area_path LIKE $2 ESCAPE '\'`,
		c.RoundID, db.LikePrefix(path)).Scan(&c.Persons, &c.Sampled, &c.Exempt)
	if err != nil {
		return nil, fmt.Errorf("masstest: latest coverage: %w", err)
	}
	return &c, nil
}

// positivesAndRetests counts the positives found in the area during the
// day and in all by its end, and its retests open at its end (a retest is
// open from its creation until it is done).
func positivesAndRetests(ctx context.Context, tx *db.Tx, path string, from, to int64) (day, total, open int, err error) {
	like := db.LikePrefix(path)
	err = tx.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM testing_positives WHERE area_path LIKE $1 ESCAPE '\' AND found_at >= $2 AND found_at < $3),
		(SELECT COUNT(*) FROM testing_positives WHERE area_path LIKE $1 ESCAPE '\' AND found_at < $3),
		(SELECT COUNT(*) FROM testing_retests WHERE area_path LIKE $1 ESCAPE '\' AND created_at < $3
			AND (done_at IS NULL OR done_at >= $3))`,
		like, from, to).Scan(&day, &total, &open)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("masstest: positives and retests: %w", err)
	}
	return day, total, open, nil
}
