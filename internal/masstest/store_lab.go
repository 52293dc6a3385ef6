package masstest

import (
	"context"
	"database/sql"
	"fmt"

	"tongxin/internal/clock"
	"tongxin/internal/db"
)

// tubeRef is a tube as a lab result finds it.
type tubeRef struct {
	ID       int64
	Barcode  string
	RoundID  int64
	PoolSize int
	Filled   int
	Result   Result // "" until the lab's result is stored
}

// loadTubes finds the tubes of barcodes, by barcode.
func loadTubes(ctx context.Context, tx *db.Tx, barcodes []string) (map[string]*tubeRef, error) {
	out := make(map[string]*tubeRef, len(barcodes))
	err := db.Chunks(len(barcodes), 500, func(lo, hi int) error {
		var a db.Args
		q := `SELECT id, barcode, round_id, pool_size, filled, COALESCE(result, '') FROM testing_tubes
			WHERE barcode IN ` + db.In(&a, barcodes[lo:hi])
		return db.Each(ctx, tx, func(sc db.Scanner) error {
			var t tubeRef
			if err := sc.Scan(&t.ID, &t.Barcode, &t.RoundID, &t.PoolSize, &t.Filled, &t.Result); err != nil {
				return err
			}
			out[t.Barcode] = &t
			return nil
		}, q, a.List...)
	})
	if err != nil {
		return nil, fmt.Errorf("masstest: tubes: %w", err)
	}
	return out, nil
}

// roundAreaPaths answers the paths of the areas of each round of ids.
func roundAreaPaths(ctx context.Context, tx *db.Tx, ids []int64) (map[int64][]AreaRef, error) {
	out := map[int64][]AreaRef{}
	if len(ids) == 0 {
		return out, nil
	}
	var a db.Args
	q := `SELECT round_id, area_code, area_path FROM testing_round_areas WHERE round_id IN ` + db.In(&a, ids) +
		` ORDER BY round_id, area_path`
	err := db.Each(ctx, tx, func(sc db.Scanner) error {
		var id int64
		var ar AreaRef
		if err := sc.Scan(&id, &ar.Code, &ar.Path); err != nil {
			return err
		}
		out[id] = append(out[id], ar)
		return nil
	}, q, a.List...)
	if err != nil {
		return nil, fmt.Errorf("masstest: round areas: %w", err)
	}
	return out, nil
}

// storeTubeResult writes a tube's result if it has none, answering
// whether it did.
func storeTubeResult(ctx context.Context, tx *db.Tx, id int64, r Result, lab string, at int64) (bool, error) {
	res, err := tx.ExecContext(ctx, `UPDATE testing_tubes SET result = $1, lab = $2, result_at = $3, received_at = $4
		WHERE id = $5 AND result IS NULL`, string(r), lab, at, tx.NowMS(), id)
	if err != nil {
		return false, fmt.Errorf("masstest: store result: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// tubeResult reads a tube's stored result.
func tubeResult(ctx context.Context, tx *db.Tx, id int64) (Result, error) {
	var r Result
	err := tx.QueryRowContext(ctx, `SELECT COALESCE(result, '') FROM testing_tubes WHERE id = $1`, id).Scan(&r)
	if err != nil {
		return "", fmt.Errorf("masstest: tube result: %w", err)
	}
	return r, nil
}

// tubeMember is a resident sampled into a tube.
type tubeMember struct {
	ResidentID    int64
	RetestID      sql.NullInt64
	CommunityCode string
	CommunityName string
	CommunityPath string
	Estate        string
	Building      string
}

// tubeMembers lists the samples of a tube with where their households are.
func tubeMembers(ctx context.Context, tx *db.Tx, tube int64) ([]tubeMember, error) {
	out, err := db.Collect(ctx, tx, func(sc db.Scanner) (tubeMember, error) {
		var m tubeMember
		err := sc.Scan(&m.ResidentID, &m.RetestID, &m.CommunityCode, &m.CommunityName, &m.CommunityPath, &m.Estate,
			&m.Building)
		return m, err
	}, `SELECT s.resident_id, s.retest_id, h.community_code, COALESCE(a.name, h.community_code), h.area_path,
		h.estate, h.building FROM testing_samples s JOIN testing_households h ON h.id = s.household_id
		LEFT JOIN areas a ON a.code = h.community_code WHERE s.tube_id = $1 ORDER BY s.id`, tube)
	if err != nil {
		return nil, fmt.Errorf("masstest: tube members: %w", err)
	}
	return out, nil
}

// insertRetest puts a resident on the retest list for a tube, answering
// whether the row is new (a tube lists each resident once).
func insertRetest(ctx context.Context, tx *db.Tx, round, tube int64, m tubeMember, cause RetestCause) (bool, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO testing_retests
		(round_id, resident_id, tube_id, cause, area_path, status, created_at) VALUES ($1, $2, $3, $4, $5, 'open', $6)
		ON CONFLICT (tube_id, resident_id) DO NOTHING`, round, m.ResidentID, tube, string(cause), m.CommunityPath, tx.NowMS())
	if err != nil {
		return false, fmt.Errorf("masstest: insert retest: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// finishRetest closes an open retest with status, or, for a resample
// (status open), marks it done and leaves its status open: a new retest
// replaces it. It answers whether the retest was open.
func finishRetest(ctx context.Context, tx *db.Tx, id int64, status RetestStatus) (bool, error) {
	res, err := tx.ExecContext(ctx, `UPDATE testing_retests SET status = $1, done_at = $2
		WHERE id = $3 AND status = 'open' AND done_at IS NULL`, string(status), tx.NowMS(), id)
	if err != nil {
		return false, fmt.Errorf("masstest: close retest: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// insertPositive records a resident positive by a single tube, once.
func insertPositive(ctx context.Context, tx *db.Tx, round, tube int64, m tubeMember) (bool, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO testing_positives (resident_id, tube_id, round_id, area_path, found_at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tube_id) DO NOTHING`, m.ResidentID, tube, round, m.CommunityPath, tx.NowMS())
	if err != nil {
		return false, fmt.Errorf("masstest: insert positive: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// personCols are the columns of a listed resident: masked name, sealed ID
// number and the household's place.
const personCols = `p.resident_id, rs.name_masked, rs.id_enc, h.community_code, COALESCE(ca.name, h.community_code),
	h.estate, h.building, h.unit, h.room, t.barcode`

// personJoins join a retest or positive (p) to its resident, household,
// community and tube.
const personJoins = ` JOIN testing_residents rs ON rs.id = p.resident_id
	JOIN testing_households h ON h.id = rs.household_id
	LEFT JOIN areas ca ON ca.code = h.community_code
	JOIN testing_tubes t ON t.id = p.tube_id`

// addressOrder sorts a list by address.
const addressOrder = ` ORDER BY h.estate, h.building, h.unit, h.room, p.resident_id, p.id`

// listedPerson is a listed resident before the ID number is masked.
type listedPerson struct {
	ResidentID int64
	Name       string
	IDEnc      []byte
	Place      Place
	Tube       string
}

func (lp *listedPerson) targets() []any {
	return []any{&lp.ResidentID, &lp.Name, &lp.IDEnc, &lp.Place.CommunityCode, &lp.Place.CommunityName,
		&lp.Place.Estate, &lp.Place.Building, &lp.Place.Unit, &lp.Place.Room, &lp.Tube}
}

// retestRow is a retest as the store reads it.
type retestRow struct {
	Retest
	listedPerson
}

func scanRetest(sc db.Scanner) (*retestRow, error) {
	var r retestRow
	var created int64
	var done sql.NullInt64
	dest := append([]any{&r.ID, &r.RoundID, &r.Cause, &r.Status, &created, &done}, r.targets()...)
	if err := sc.Scan(dest...); err != nil {
		return nil, err
	}
	r.CreatedAt = clock.FromMillis(created)
	if done.Valid {
		t := clock.FromMillis(done.Int64)
		r.DoneAt = &t
		if r.Status == RetestOpen {
			r.Status = RetestResampled
		}
	}
	return &r, nil
}

// listRetests lists a page of the retests matching where, by address.
func listRetests(ctx context.Context, tx *db.Tx, where string, args []any, limit, offset int) ([]*retestRow, int, error) {
	from := ` FROM testing_retests p` + personJoins + ` WHERE ` + where
	var total int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*)`+from, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("masstest: count retests: %w", err)
	}
	out, err := db.Collect(ctx, tx, scanRetest, `SELECT p.id, p.round_id, p.cause, p.status, p.created_at, p.done_at, `+
		personCols+from+addressOrder+fmt.Sprintf(` LIMIT %d OFFSET %d`, limit, offset), args...)
	if err != nil {
		return nil, 0, fmt.Errorf("masstest: retests: %w", err)
	}
	return out, total, nil
}

// positiveRow is a positive as the store reads it.
type positiveRow struct {
	PositiveCase
	listedPerson
}

func scanPositive(sc db.Scanner) (*positiveRow, error) {
	var r positiveRow
	var found int64
	if err := sc.Scan(append([]any{&r.ID, &r.RoundID, &found}, r.targets()...)...); err != nil {
		return nil, err
	}
	r.FoundAt = clock.FromMillis(found)
	return &r, nil
}

// listPositives lists a page of the positives matching where, by address.
func listPositives(ctx context.Context, tx *db.Tx, where string, args []any, limit, offset int) ([]*positiveRow, int, error) {
	from := ` FROM testing_positives p` + personJoins + ` WHERE ` + where
	var total int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*)`+from, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("masstest: count positives: %w", err)
	}
	out, err := db.Collect(ctx, tx, scanPositive, `SELECT p.id, p.round_id, p.found_at, `+personCols+from+addressOrder+
		fmt.Sprintf(` LIMIT %d OFFSET %d`, limit, offset), args...)
	if err != nil {
		return nil, 0, fmt.Errorf("masstest: positives: %w", err)
	}
	return out, total, nil
}
