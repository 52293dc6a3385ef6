package masstest

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"tongxin/internal/db"
)

// The statements of a batch of samples written as sets (service_samples_set.go):
// each reads or writes many records of the batch at once. A batch's
// records go in pieces of fixed sizes (greedy: 128, 32, 8, 1 values a
// list; 32, 8, 1 rows an INSERT, the samples' 64, 16, 4, 1), so that every statement is one of a few
// texts short enough for the statement cache (db.maxStmtLen): modernc's
// SQLite spends more parsing a statement of a thousand rows than running
// it.

var (
	listSizes = []int{128, 32, 8, 1}
	rowSizes  = []int{32, 8, 1}
	// sampleRowSizes are the samples' INSERT's: 64 rows of 11 values is
	// the most whose text (rowsSQL) stays within the statement cache's
	// 4 KiB; each statement fewer is a statement journal fewer.
	sampleRowSizes = []int{64, 16, 4, 1}
)

// pieces cuts vals into pieces of the first of sizes that fits, greedily,
// for a statement each: on SQLite, where a statement's text is prepared
// once and kept (db.Tx) while its values are bound one by one in the
// process, few texts of a few sizes; on PostgreSQL, where each statement
// is a round trip to the server, one piece (a batch's values stay far
// below its 65,535 parameters).
func pieces[T any](tx *db.Tx, vals []T, sizes []int) [][]T {
	if tx.Dialect == db.Postgres {
		if len(vals) == 0 {
			return nil
		}
		return [][]T{vals}
	}
	var out [][]T
	for len(vals) > 0 {
		for _, n := range sizes {
			if n <= len(vals) {
				out = append(out, vals[:n])
				vals = vals[n:]
				break
			}
		}
	}
	return out
}

// residentsBy reads the residents whose column (code or id_idx) is one
// of values, by that value.
func residentsBy(ctx context.Context, tx *db.Tx, column string, values []string) (map[string]*residentRow, error) {
	out := map[string]*residentRow{}
	if len(values) == 0 {
		return out, nil
	}
	if column != "code" && column != "id_idx" {
		return nil, fmt.Errorf("masstest: residents by %s", column)
	}
	for _, part := range pieces(tx, values, listSizes) {
		if err := residentsIn(ctx, tx, column, part, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// sampleResidentCols are what a sample needs of its resident: the
// answer (code, masked name), the checks (status, the household's area)
// and the coverage (the household, its building).
const sampleResidentCols = `r.id, r.code, r.name_masked, r.status, h.id, h.members, h.community_code, h.area_path, h.estate,
	h.building`

func residentsIn(ctx context.Context, tx *db.Tx, column string, values []string, out map[string]*residentRow) error {
	var a db.Args
	cols := sampleResidentCols
	if column != "code" {
		cols += ", r." + column
	}
	q := `SELECT ` + cols + ` FROM testing_residents r JOIN testing_households h ON h.id = r.household_id
		WHERE r.` + column + inList(tx, &a, values)
	err := db.Each(ctx, tx, func(sc db.Scanner) error {
		r := new(residentRow)
		dest := []any{&r.id, &r.code, &r.nameMasked, &r.status, &r.hh.id, &r.hh.members, &r.hh.communityCode, &r.hh.areaPath,
			&r.hh.estate, &r.hh.building}
		key := &r.code
		if column != "code" {
			key = new(string)
			dest = append(dest, key)
		}
		if err := sc.Scan(dest...); err != nil {
			return err
		}
		out[*key] = r
		return nil
	}, q, a.List...)
	if err != nil {
		return fmt.Errorf("masstest: residents: %w", err)
	}
	return nil
}

// samplesWhereIn reads the round's samples whose column (client_id, or
// id) is one of values.
func samplesWhereIn[T string | int64](ctx context.Context, tx *db.Tx, round int64, column string, values []T) ([]*Sample, error) {
	if column != "client_id" && column != "id" {
		return nil, fmt.Errorf("masstest: samples by %s", column)
	}
	var out []*Sample
	for _, part := range pieces(tx, values, listSizes) {
		var a db.Args
		q := `SELECT ` + sampleCols + sampleFrom + ` WHERE s.round_id = ` + a.Add(round) + ` AND s.` + column + inList(tx, &a, part)
		list, err := db.Collect(ctx, tx, scanSample, q, a.List...)
		if err != nil {
			return nil, fmt.Errorf("masstest: samples: %w", err)
		}
		out = append(out, list...)
	}
	return out, nil
}

// coveredIn reads, with one statement a piece, which of residents have an
// exemption in the round (its reason, by resident) and, when first is not
// nil, which have a first sample in it (its id into first): most have
// neither, and answer no row.
func coveredIn(ctx context.Context, tx *db.Tx, round int64, residents []int64, first map[int64]int64) (map[int64]ExemptReason, error) {
	exempt := map[int64]ExemptReason{}
	for _, part := range pieces(tx, residents, listSizes) {
		n := len(part)
		var q string
		var args []any
		if tx.Dialect == db.Postgres { // the ids as one array: a list of parameters has no type
			args = []any{part, round}
			q = `SELECT ids.id, NULL::bigint, e.reason FROM unnest($1::bigint[]) AS ids (id)
				JOIN testing_exemptions e ON e.round_id = $2 AND e.resident_id = ids.id`
			if first != nil {
				q = `SELECT ids.id, s.id, e.reason FROM unnest($1::bigint[]) AS ids (id)
				LEFT JOIN testing_samples s ON s.round_id = $2 AND s.resident_id = ids.id AND s.retest_id IS NULL
				LEFT JOIN testing_exemptions e ON e.round_id = $2 AND e.resident_id = ids.id
				WHERE s.id IS NOT NULL OR e.reason IS NOT NULL`
			}
		} else if first != nil {
			args = rowsOf(part, round, round)
			q = rowsSQL(`WITH ids (id) AS (VALUES `, 1, n, `)
			SELECT ids.id, s.id, e.reason FROM ids
			LEFT JOIN testing_samples s ON s.round_id = $`+strconv.Itoa(n+1)+` AND s.resident_id = ids.id AND s.retest_id IS NULL
			LEFT JOIN testing_exemptions e ON e.round_id = $`+strconv.Itoa(n+2)+` AND e.resident_id = ids.id
			WHERE s.id IS NOT NULL OR e.reason IS NOT NULL`)
		} else {
			args = rowsOf(part, round)
			q = rowsSQL(`WITH ids (id) AS (VALUES `, 1, n, `)
			SELECT ids.id, NULL, e.reason FROM ids
			JOIN testing_exemptions e ON e.round_id = $`+strconv.Itoa(n+1)+` AND e.resident_id = ids.id`)
		}
		err := db.Each(ctx, tx, func(sc db.Scanner) error {
			var id int64
			var sample sql.NullInt64
			var reason sql.NullString
			if err := sc.Scan(&id, &sample, &reason); err != nil {
				return err
			}
			if sample.Valid {
				first[id] = sample.Int64
			}
			if reason.Valid {
				exempt[id] = ExemptReason(reason.String)
			}
			return nil
		}, q, args...)
		if err != nil {
			return nil, fmt.Errorf("masstest: samples and exemptions of residents: %w", err)
		}
	}
	return exempt, nil
}

// rowsOf is ids as a list of rows' values (not r.id IN (…): the
// residents' table itself has nothing to say), then more.
func rowsOf(ids []int64, more ...any) []any {
	args := make([]any, 0, len(ids)+len(more))
	for _, id := range ids {
		args = append(args, id)
	}
	return append(args, more...)
}

// tubesIn reads the tubes of barcodes.
func tubesIn(ctx context.Context, tx *db.Tx, barcodes []string) (map[string]*setTube, error) {
	out := map[string]*setTube{}
	if len(barcodes) == 0 {
		return out, nil
	}
	for _, part := range pieces(tx, barcodes, listSizes) {
		if err := tubesInPart(ctx, tx, part, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func tubesInPart(ctx context.Context, tx *db.Tx, barcodes []string, out map[string]*setTube) error {
	var a db.Args
	q := `SELECT id, barcode, round_id, pool_size, filled, result FROM testing_tubes WHERE barcode` + inList(tx, &a, barcodes)
	err := db.Each(ctx, tx, func(sc db.Scanner) error {
		var t setTube
		if err := sc.Scan(&t.id, &t.barcode, &t.round, &t.poolSize, &t.filled, &t.result); err != nil {
			return err
		}
		t.was = t.filled
		out[t.barcode] = &t
		return nil
	}, q, a.List...)
	if err != nil {
		return fmt.Errorf("masstest: tubes: %w", err)
	}
	return nil
}

// insertTubes creates tubes, setting their ids.
func insertTubes(ctx context.Context, tx *db.Tx, round int64, tubes []*setTube) error {
	for _, part := range pieces(tx, tubes, rowSizes) {
		if err := insertTubesPart(ctx, tx, round, part); err != nil {
			return err
		}
	}
	return nil
}

func insertTubesPart(ctx context.Context, tx *db.Tx, round int64, tubes []*setTube) error {
	if tx.Dialect == db.Postgres {
		return insertTubesPG(ctx, tx, round, tubes)
	}
	args := make([]any, 0, 4*len(tubes))
	r := any(round)
	for _, t := range tubes {
		args = append(args, t.barcode, r, t.poolSize, t.filled)
	}
	// Without RETURNING, as insertSamplesPart: the ids follow in order.
	q := rowsSQL(`INSERT INTO testing_tubes (barcode, round_id, pool_size, filled) VALUES `, 4, len(tubes), ``)
	res, err := tx.ExecContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("masstest: insert tubes: %w", err)
	}
	last, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("masstest: insert tubes: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != int64(len(tubes)) {
		return fmt.Errorf("masstest: insert tubes: %d of %d rows (%v)", n, len(tubes), err)
	}
	for i, t := range tubes {
		t.id = last - int64(len(tubes)-1-i)
	}
	return nil
}

// refillTubes sets the tubes' counts to what the batch made them, each
// only if no one changed it meanwhile (its count, or a result).
func refillTubes(ctx context.Context, tx *db.Tx, tubes []*setTube) error {
	if tx.Dialect == db.Postgres && len(tubes) > 0 {
		return refillTubesPG(ctx, tx, tubes)
	}
	for _, t := range tubes {
		res, err := tx.ExecContext(ctx, `UPDATE testing_tubes SET filled = $1 WHERE id = $2 AND filled = $3 AND result IS NULL`,
			t.filled, t.id, t.was)
		if err != nil {
			return fmt.Errorf("masstest: fill tube: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return fmt.Errorf("masstest: tube %s changed under the batch", t.barcode)
		}
	}
	return nil
}

// insertSamples stores rows, answering their ids by client id (on
// SQLite: insertSamplesPart).
func insertSamples(ctx context.Context, tx *db.Tx, rows []sampleRow) (map[string]int64, error) {
	out := make(map[string]int64, len(rows))
	for _, part := range pieces(tx, rows, sampleRowSizes) {
		if err := insertSamplesPart(ctx, tx, part, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func insertSamplesPart(ctx context.Context, tx *db.Tx, rows []sampleRow, out map[string]int64) error {
	if tx.Dialect == db.Postgres {
		return insertSamplesPG(ctx, tx, rows, out)
	}
	// The values the rows share are boxed once: a thousand rows' values
	// were the batch's most allocations.
	args := make([]any, 0, len(rows)*sampleInsertCols)
	var round, mode, collector any
	now := any(tx.NowMS())
	for i, r := range rows {
		if i == 0 || r.round != rows[i-1].round {
			round = r.round
		}
		if i == 0 || r.mode != rows[i-1].mode {
			mode = string(r.mode)
		}
		if i == 0 || r.collector != rows[i-1].collector {
			collector = r.collector
		}
		args = append(args, round, r.resident, r.household, r.tube, mode, nullable(r.site), collector, r.clientID, r.sampledAt, now,
			nullable(r.retest))
	}
	// No RETURNING: SQLite answers it from a table it fills first, which
	// cost a third of the INSERT. The ids are known without it: the
	// table's ids are AUTOINCREMENT and this transaction is the only
	// writer (batches as sets run on SQLite only), so the rows of one
	// INSERT … VALUES take the ids after the largest, one by one, in
	// order — the last is last_insert_rowid().
	res, err := tx.ExecContext(ctx, sampleInsertSQL(len(rows)), args...)
	if err != nil {
		return fmt.Errorf("masstest: insert samples: %w", err)
	}
	last, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("masstest: insert samples: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("masstest: insert samples: %w", err)
	}
	if n != int64(len(rows)) {
		return fmt.Errorf("masstest: insert samples: %d of %d rows: %w", n, len(rows), errStoredBefore)
	}
	for i, r := range rows {
		out[r.clientID] = last - int64(len(rows)-1-i)
	}
	return nil
}

// nullable is v as a statement's value: nil when not valid (no
// allocation for the common NULL).
func nullable(v sql.NullInt64) any {
	if !v.Valid {
		return nil
	}
	return v.Int64
}

// sampleInsertCols are the values of a row of sampleInsertSQL.
const sampleInsertCols = 11

// sampleInsertSQL is the INSERT of n samples, $1 … $11n in order: the
// same text for every piece of n rows, made once (rowsSQL).
func sampleInsertSQL(n int) string {
	return rowsSQL(`INSERT INTO testing_samples (round_id, resident_id, household_id, tube_id, mode, site_id, collector, client_id,
		sampled_at, received_at, retest_id) VALUES `, sampleInsertCols, n, ` ON CONFLICT DO NOTHING`)
}

// rowSQL keeps the texts rowsSQL made, by head and rows.
var rowSQL sync.Map // rowSQLKey → string

type rowSQLKey struct {
	head string
	n    int
}

// rowsSQL is head, n rows of cols placeholders ($1 … $cols·n in order,
// as db.Args numbers them, without spaces), and tail; made once for each
// head and n (the pieces' sizes are few).
func rowsSQL(head string, cols, n int, tail string) string {
	k := rowSQLKey{head + tail, n}
	if q, ok := rowSQL.Load(k); ok {
		return q.(string)
	}
	var b strings.Builder
	b.WriteString(head)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for c := range cols {
			if c > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(i*cols + c + 1))
		}
		b.WriteByte(')')
	}
	b.WriteString(tail)
	q := b.String()
	rowSQL.Store(k, q)
	return q
}

// deleteExemptions takes the round's exemptions of residents away.
func deleteExemptions(ctx context.Context, tx *db.Tx, round int64, residents []int64) error {
	for _, part := range pieces(tx, residents, listSizes) {
		var a db.Args
		q := `DELETE FROM testing_exemptions WHERE round_id = ` + a.Add(round) + ` AND resident_id` + inList(tx, &a, part)
		if _, err := tx.ExecContext(ctx, q, a.List...); err != nil {
			return wrap("delete exemptions", err)
		}
	}
	return nil
}

// samplesLock is the PostgreSQL advisory lock the writers of samples,
// exemptions and tubes' results hold for their transaction (lockSamples).
const samplesLock = 7243016

// lockSamples makes the transaction the only writer of samples and
// exemptions until it ends. A batch is decided as a set on what it reads
// at its start (service_samples_set.go): on SQLite nothing else writes
// meanwhile; on PostgreSQL, where writers run at once on every instance,
// this lock makes it so for what a batch reads — the round's samples and
// exemptions, and its tubes, which only samples fill and only the
// laboratory's results (which take the lock too) close.
func lockSamples(ctx context.Context, tx *db.Tx) error {
	if tx.Dialect != db.Postgres {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(samplesLock)); err != nil {
		return fmt.Errorf("masstest: lock the samples: %w", err)
	}
	return nil
}

// samplesSavepoint runs one of recordSet's savepoint statements.
func samplesSavepoint(ctx context.Context, tx *db.Tx, stmt string) error {
	if _, err := tx.ExecContext(ctx, stmt); err != nil {
		return fmt.Errorf("masstest: samples: %w", err)
	}
	return nil
}
