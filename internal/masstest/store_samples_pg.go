package masstest

import (
	"context"
	"fmt"

	"tongxin/internal/db"
)

// A batch's statements on PostgreSQL take their values as arrays, a
// parameter a column: one text whatever the number of rows, planned once
// on each connection, where a list of a thousand parameters cost more to
// parse, bind and plan than to run (a batch's residents, 60 ms).

// inList is "IN (…)" of vals on SQLite, "= ANY($n::type[])" on
// PostgreSQL, for a condition on a column of that type (text or bigint).
func inList[T string | int64](tx *db.Tx, a *db.Args, vals []T) string {
	if tx.Dialect != db.Postgres {
		return ` IN ` + db.In(a, vals)
	}
	var zero T
	typ := "text[]"
	if _, ok := any(zero).(int64); ok {
		typ = "bigint[]"
	}
	return ` = ANY(` + a.Add(vals) + `::` + typ + `)`
}

// insertSamplesPG is insertSamplesPart on PostgreSQL: the rows as arrays
// (no site and no retest as 0, which no id is), their ids answered by
// the INSERT, drawn from a sequence other transactions draw from too.
func insertSamplesPG(ctx context.Context, tx *db.Tx, rows []sampleRow, out map[string]int64) error {
	n := len(rows)
	res, hh, tube, site, sampled, retest := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n),
		make([]int64, n), make([]int64, n)
	mode, collector, client := make([]string, n), make([]string, n), make([]string, n)
	for i, r := range rows {
		res[i], hh[i], tube[i], site[i], sampled[i], retest[i] = r.resident, r.household, r.tube, r.site.Int64, r.sampledAt,
			r.retest.Int64
		mode[i], collector[i], client[i] = string(r.mode), r.collector, r.clientID
	}
	got := 0
	err := db.Each(ctx, tx, func(sc db.Scanner) error {
		var id int64
		var c string
		err := sc.Scan(&id, &c)
		out[c] = id
		got++
		return err
	}, `INSERT INTO testing_samples (round_id, resident_id, household_id, tube_id, mode, site_id, collector, client_id, sampled_at,
			received_at, retest_id)
		SELECT $1, u.resident, u.household, u.tube, u.mode, NULLIF(u.site, 0), u.collector, u.client, u.sampled, $2, NULLIF(u.retest, 0)
		FROM unnest($3::bigint[], $4::bigint[], $5::bigint[], $6::text[], $7::bigint[], $8::text[], $9::text[], $10::bigint[],
			$11::bigint[]) AS u (resident, household, tube, mode, site, collector, client, sampled, retest)
		ON CONFLICT DO NOTHING RETURNING id, client_id`,
		rows[0].round, tx.NowMS(), res, hh, tube, mode, site, collector, client, sampled, retest)
	if err != nil {
		return fmt.Errorf("masstest: insert samples: %w", err)
	}
	if got != n {
		return fmt.Errorf("masstest: insert samples: %d of %d rows: %w", got, n, errStoredBefore)
	}
	return nil
}

// insertTubesPG is insertTubesPart on PostgreSQL.
func insertTubesPG(ctx context.Context, tx *db.Tx, round int64, tubes []*setTube) error {
	barcodes, pool, filled := make([]string, len(tubes)), make([]int64, len(tubes)), make([]int64, len(tubes))
	for i, t := range tubes {
		barcodes[i], pool[i], filled[i] = t.barcode, int64(t.poolSize), int64(t.filled)
	}
	ids := make(map[string]int64, len(tubes))
	err := db.Each(ctx, tx, func(sc db.Scanner) error {
		var id int64
		var barcode string
		err := sc.Scan(&id, &barcode)
		ids[barcode] = id
		return err
	}, `INSERT INTO testing_tubes (barcode, round_id, pool_size, filled)
		SELECT u.barcode, $1, u.pool, u.filled FROM unnest($2::text[], $3::bigint[], $4::bigint[]) AS u (barcode, pool, filled)
		RETURNING id, barcode`, round, barcodes, pool, filled)
	if err != nil {
		return fmt.Errorf("masstest: insert tubes: %w", err)
	}
	for _, t := range tubes {
		if t.id = ids[t.barcode]; t.id == 0 {
			return fmt.Errorf("masstest: insert tubes: %s not inserted", t.barcode)
		}
	}
	return nil
}

// bumpHouseholdsPG is a piece of bumpHouseholds on PostgreSQL.
func bumpHouseholdsPG(ctx context.Context, tx *db.Tx, round int64, bumps []*hhBump, by map[int64]*hhBump) error {
	hh, ds, de := make([]int64, len(bumps)), make([]int64, len(bumps)), make([]int64, len(bumps))
	for i, h := range bumps {
		hh[i], ds[i], de[i] = h.household, int64(h.ds), int64(h.de)
	}
	err := db.Each(ctx, tx, bumped(by), `INSERT INTO testing_round_households (round_id, household_id, sampled, exempt)
		SELECT $1, u.hh, u.ds, u.de FROM unnest($2::bigint[], $3::bigint[], $4::bigint[]) AS u (hh, ds, de)
		ON CONFLICT (round_id, household_id) DO UPDATE SET sampled = testing_round_households.sampled + excluded.sampled,
			exempt = testing_round_households.exempt + excluded.exempt RETURNING household_id, sampled, exempt`, round, hh, ds, de)
	if err != nil {
		return fmt.Errorf("masstest: household counts: %w", err)
	}
	return nil
}

// refillTubesPG is refillTubes on PostgreSQL: one statement.
func refillTubesPG(ctx context.Context, tx *db.Tx, tubes []*setTube) error {
	ids, filled, was := make([]int64, len(tubes)), make([]int64, len(tubes)), make([]int64, len(tubes))
	for i, t := range tubes {
		ids[i], filled[i], was[i] = t.id, int64(t.filled), int64(t.was)
	}
	res, err := tx.ExecContext(ctx, `UPDATE testing_tubes t SET filled = u.filled
		FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS u (id, filled, was)
		WHERE t.id = u.id AND t.filled = u.was AND t.result IS NULL`, ids, filled, was)
	if err != nil {
		return fmt.Errorf("masstest: fill tubes: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != int64(len(tubes)) {
		return fmt.Errorf("masstest: %d of %d tubes changed under the batch", int64(len(tubes))-n, len(tubes))
	}
	return nil
}
