package resumption

import (
	"context"
	"database/sql"
	"slices"

	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/errs"
)

// The power data's SQL: baselines and readings.

// baselineRow is a stored baseline with its area path.
type baselineRow struct {
	Baseline
	path string
}

const baselineCols = `b.scope, b.area_code, b.name, b.baseline_kw, b.reference, b.updated_at, a.path`

func scanBaseline(sc db.Scanner, extra ...any) (baselineRow, error) {
	var b baselineRow
	var updated int64
	if err := sc.Scan(append([]any{&b.Scope, &b.AreaCode, &b.Name, &b.BaselineKW, &b.Reference, &updated, &b.path}, extra...)...); err != nil {
		return b, err
	}
	b.UpdatedAt = clock.FromMillis(updated)
	return b, nil
}

// getBaseline reads the baseline of scope, found false if there is none.
func getBaseline(ctx context.Context, tx *db.Tx, scope string) (baselineRow, bool, error) {
	list, err := queryBaselines(ctx, tx, "b.scope = $1", scope)
	if err != nil || len(list) == 0 {
		return baselineRow{}, false, err
	}
	return list[0], true, nil
}

// listBaselines reads every baseline, the city first, then districts and
// parks.
func listBaselines(ctx context.Context, tx *db.Tx) ([]baselineRow, error) {
	return queryBaselines(ctx, tx, "")
}

func queryBaselines(ctx context.Context, tx *db.Tx, where string, args ...any) ([]baselineRow, error) {
	const op = "resumption.queryBaselines"
	q := `SELECT ` + baselineCols + ` FROM power_baselines b JOIN areas a ON a.code = b.area_code`
	if where != "" {
		q += " WHERE " + where
	}
	out, err := db.Collect(ctx, tx, func(sc db.Scanner) (baselineRow, error) { return scanBaseline(sc) }, q, args...)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	slices.SortFunc(out, func(x, y baselineRow) int { return comparePowerScopes(x.Scope, y.Scope) })
	return out, nil
}

// upsertBaseline creates or replaces the baseline b.
func upsertBaseline(ctx context.Context, tx *db.Tx, b Baseline) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO power_baselines (scope, area_code, name, baseline_kw, reference, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (scope) DO UPDATE SET area_code = excluded.area_code, name = excluded.name,
				baseline_kw = excluded.baseline_kw, reference = excluded.reference, updated_at = excluded.updated_at`,
		b.Scope, b.AreaCode, b.Name, b.BaselineKW, b.Reference, tx.NowMS())
	return err
}

// insertReading adds a reading version filed now by filedBy.
func insertReading(ctx context.Context, tx *db.Tx, in ReadingInput, filedBy string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO power_readings (scope, reading_date, max_load_kw, filed_at, filed_by)
			VALUES ($1, $2, $3, $4, $5)`, in.Scope, in.Date, in.MaxLoadKW, tx.NowMS(), filedBy)
	return err
}

// powerReading is a baseline with its latest reading as of a moment.
type powerReading struct {
	baselineRow
	date string
	load float64
}

// stat is the reading against its baseline.
func (r powerReading) stat() PowerStat {
	return PowerStat{Scope: r.Scope, Name: r.Name, Date: r.date, MaxLoadKW: r.load, BaselineKW: r.BaselineKW,
		Recovery: ratio(r.load, r.BaselineKW)}
}

// latestReadings reads every baseline with its latest reading as of m:
// the greatest date not after m's date and, for it, the latest version
// filed at or before m. Two queries whatever the number of baselines:
// the baselines with the id of that reading (one index probe each), then
// those readings by id. Baselines without such a reading are left out.
// Ordered as listBaselines.
func latestReadings(ctx context.Context, tx *db.Tx, m moment) ([]powerReading, error) {
	const op = "resumption.loadPower"
	type probe struct {
		baselineRow
		rid sql.NullInt64
	}
	probes, err := db.Collect(ctx, tx, func(sc db.Scanner) (probe, error) {
		var p probe
		var err error
		p.baselineRow, err = scanBaseline(sc, &p.rid)
		return p, err
	}, `SELECT `+baselineCols+`, (SELECT x.id FROM power_readings x
			WHERE x.scope = b.scope AND x.reading_date <= $1 AND x.filed_at <= $2
			ORDER BY x.reading_date DESC, x.filed_at DESC, x.id DESC LIMIT 1)
		FROM power_baselines b JOIN areas a ON a.code = b.area_code`, m.date, m.ms)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	var ids []int64
	for _, p := range probes {
		if p.rid.Valid {
			ids = append(ids, p.rid.Int64)
		}
	}
	type reading struct {
		id   int64
		date string
		load float64
	}
	byID := make(map[int64]reading, len(ids))
	err = chunks(ids, func(part []int64) error {
		var args db.Args
		q := `SELECT id, reading_date, max_load_kw FROM power_readings WHERE id IN ` + db.In(&args, part)
		list, err := db.Collect(ctx, tx, func(sc db.Scanner) (reading, error) {
			var r reading
			err := sc.Scan(&r.id, &r.date, &r.load)
			return r, err
		}, q, args.List...)
		for _, r := range list {
			byID[r.id] = r
		}
		return err
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	var out []powerReading
	for _, p := range probes {
		if r, ok := byID[p.rid.Int64]; ok && p.rid.Valid {
			out = append(out, powerReading{baselineRow: p.baselineRow, date: r.date, load: r.load})
		}
	}
	slices.SortFunc(out, func(x, y powerReading) int { return comparePowerScopes(x.Scope, y.Scope) })
	return out, nil
}
