package resumption

import (
	"context"
	"database/sql"
	_ "embed"
	"errors"
	"slices"
	"strings"

	"tongxin/internal/db"
	"tongxin/internal/errs"
)

// The SQL of the per-day figures (stats_days.go): resumption_day_deltas,
// written in the transaction of every filing and edit, read by the fast
// path of the statistics.

// lockUnits locks the units with ids (sorted) for the rest of the
// transaction on PostgreSQL, so that two transactions changing the same
// unit's reports compute their deltas one after the other, each from what
// the other committed. SQLite has one writer at a time already.
func lockUnits(ctx context.Context, tx *db.Tx, ids []int64) error {
	if tx.Dialect != db.Postgres || len(ids) == 0 {
		return nil
	}
	return chunks(ids, func(part []int64) error {
		var args db.Args
		q := `SELECT id FROM enterprises WHERE id IN ` + db.In(&args, part) + ` ORDER BY id FOR UPDATE`
		_, err := db.Collect(ctx, tx, db.Value[int64], q, args.List...)
		return errs.Wrap("resumption.lockUnits", err)
	})
}

// unitHistories reads the units with ids: area, signature and every
// report version, in order of date, filing time and id.
func unitHistories(ctx context.Context, tx *db.Tx, ids []int64) (map[int64]*unitHistory, error) {
	const op = "resumption.unitHistories"
	out := make(map[int64]*unitHistory, len(ids))
	cats, err := loadCategories(ctx, tx, ids)
	if err != nil {
		return nil, err
	}
	err = chunks(ids, func(part []int64) error {
		var args db.Args
		in := db.In(&args, part)
		err := db.Each(ctx, tx, func(sc db.Scanner) error {
			var h unitHistory
			var kind string
			var isKey bool
			if err := sc.Scan(&h.id, &h.area, &kind, &isKey); err != nil {
				return err
			}
			h.sig = sigOf(catBits(cats[h.id]), kind, isKey)
			out[h.id] = &h
			return nil
		}, `SELECT id, area_code, kind, is_key FROM enterprises WHERE id IN `+in, args.List...)
		if err != nil {
			return errs.Wrap(op, err)
		}
		return errs.Wrap(op, db.Each(ctx, tx, func(sc db.Scanner) error {
			var eid int64
			var r histReport
			var st Status
			var capacity, expected, onSite int
			if err := sc.Scan(&eid, &r.id, &r.date, &st, &capacity, &expected, &onSite); err != nil {
				return err
			}
			r.fig = figOf(st, capacity, expected, onSite)
			if h := out[eid]; h != nil {
				h.reports = append(h.reports, r)
			}
			return nil
		}, `SELECT enterprise_id, id, report_date, status, capacity_pct, staff_expected, staff_on_site
			FROM resumption_reports WHERE enterprise_id IN `+in+` ORDER BY enterprise_id, report_date, filed_at, id`, args.List...))
	})
	return out, err
}

// applyDayDeltas adds d to resumption_day_deltas, in key order (so that
// concurrent transactions on PostgreSQL lock rows in one order), leaving
// out zero changes.
func applyDayDeltas(ctx context.Context, tx *db.Tx, d map[dayKey]dayFig) error {
	keys := make([]dayKey, 0, len(d))
	for k, f := range d {
		if f != (dayFig{}) {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b dayKey) int {
		if c := strings.Compare(a.date, b.date); c != 0 {
			return c
		}
		if c := strings.Compare(a.area, b.area); c != 0 {
			return c
		}
		return int(a.sig) - int(b.sig)
	})
	return db.Chunks(len(keys), bulkRows(10), func(lo, hi int) error {
		var args db.Args
		rows := make([][]any, 0, hi-lo)
		for _, k := range keys[lo:hi] {
			f := d[k]
			rows = append(rows, []any{k.date, k.area, int(k.sig), f[0], f[1], f[2], f[3], f[4], f[5], f[6]})
		}
		q := `INSERT INTO resumption_day_deltas (report_date, area_code, sig, reported, resumed, staff_expected, staff_on_site,
			capacity_sum, capacity_n, units) VALUES ` + values(&args, rows) + ` ON CONFLICT (report_date, area_code, sig) DO UPDATE SET
			reported = resumption_day_deltas.reported + excluded.reported,
			resumed = resumption_day_deltas.resumed + excluded.resumed,
			staff_expected = resumption_day_deltas.staff_expected + excluded.staff_expected,
			staff_on_site = resumption_day_deltas.staff_on_site + excluded.staff_on_site,
			capacity_sum = resumption_day_deltas.capacity_sum + excluded.capacity_sum,
			capacity_n = resumption_day_deltas.capacity_n + excluded.capacity_n,
			units = resumption_day_deltas.units + excluded.units`
		_, err := tx.ExecContext(ctx, q, args.List...)
		return errs.Wrap("resumption.applyDayDeltas", err)
	})
}

// latestFiling is the latest filing moment of any report (0 without
// reports): one probe of resumption_reports_filed.
func latestFiling(ctx context.Context, tx *db.Tx) (int64, error) {
	var ms int64
	err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(filed_at), 0) FROM resumption_reports`).Scan(&ms)
	return ms, errs.Wrap("resumption.latestFiling", err)
}

// daySum is a sum of deltas: of a signature, and of an area (its path) or
// a date when asked for.
type daySum struct {
	area, date string
	sig        uint8
	fig        dayFig
}

// readDaySums sums the deltas of units in sc's areas dated on or before
// last, per signature; byArea adds the area's path, and with first set the
// sums are per date from first on (earlier dates summed under date "").
// sc's visibility must be by area alone (dayScopeOK).
func readDaySums(ctx context.Context, tx *db.Tx, sc *statsScope, first, last string, byArea bool) ([]daySum, error) {
	var args db.Args
	where := "d.report_date <= " + args.Add(last)
	join := sc.filter != nil || !sc.vis.all || byArea
	if !sc.vis.all {
		where += " AND " + pathsWhere("a.path", sc.vis.paths, &args)
	}
	if sc.filter != nil {
		where += " AND " + pathsWhere("a.path", sc.filter, &args)
	}
	dateCol, areaCol, groupBy := "''", "''", "d.sig"
	if first != "" {
		dateCol = "CASE WHEN d.report_date < " + args.Add(first) + " THEN '' ELSE d.report_date END"
		groupBy += ", " + dateCol
	}
	if byArea {
		areaCol = "a.path"
		groupBy += ", a.path"
	}
	from := "resumption_day_deltas d"
	if join {
		from += " JOIN areas a ON a.code = d.area_code"
	}
	q := `SELECT ` + areaCol + `, ` + dateCol + `, d.sig, CAST(SUM(d.reported) AS BIGINT), CAST(SUM(d.resumed) AS BIGINT),
		CAST(SUM(d.staff_expected) AS BIGINT), CAST(SUM(d.staff_on_site) AS BIGINT), CAST(SUM(d.capacity_sum) AS BIGINT),
		CAST(SUM(d.capacity_n) AS BIGINT), CAST(SUM(d.units) AS BIGINT)
		FROM ` + from + ` WHERE ` + where + ` GROUP BY ` + groupBy
	out, err := db.Collect(ctx, tx, func(s db.Scanner) (daySum, error) {
		var x daySum
		var sig int
		err := s.Scan(&x.area, &x.date, &sig, &x.fig[0], &x.fig[1], &x.fig[2], &x.fig[3], &x.fig[4], &x.fig[5], &x.fig[6])
		x.sig = uint8(sig)
		return x, err
	}, q, args.List...)
	return out, errs.Wrap("resumption.readDaySums", err)
}

// dayFiguresBackfill computes the per-day figures and the latest reports
// from the registry and the reports, as migration 0015 did (the same
// statements; TestDayFiguresBackfillIsTheMigrations).
//
//go:embed day_figures_backfill.sql
var dayFiguresBackfill string

// rebuildDayFigures computes resumption_day_deltas and resumption_latest
// afresh (tests and benchmarks that load reports straight into tables).
func rebuildDayFigures(ctx context.Context, tx *db.Tx) error {
	const op = "resumption.rebuildDayFigures"
	for _, q := range []string{`DELETE FROM resumption_day_deltas`, `DELETE FROM resumption_latest`} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return errs.Wrap(op, err)
		}
	}
	for _, q := range strings.Split(dayFiguresBackfill, ";\n") {
		if strings.TrimSpace(q) == "" {
			continue
		}
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return errs.Wrap(op, err)
		}
	}
	return nil
}

// applyLatest makes report ids the latest reports of units (by unit id).
func applyLatest(ctx context.Context, tx *db.Tx, latest map[int64]int64) error {
	ids := make([]int64, 0, len(latest))
	for id := range latest {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return db.Chunks(len(ids), bulkRows(2), func(lo, hi int) error {
		var args db.Args
		rows := make([][]any, 0, hi-lo)
		for _, id := range ids[lo:hi] {
			rows = append(rows, []any{id, latest[id]})
		}
		q := `INSERT INTO resumption_latest (enterprise_id, report_id) VALUES ` + values(&args, rows) + `
			ON CONFLICT (enterprise_id) DO UPDATE SET report_id = excluded.report_id`
		_, err := tx.ExecContext(ctx, q, args.List...)
		return errs.Wrap("resumption.applyLatest", err)
	})
}

// latestReportDate is the greatest report date of any report ("" without
// reports): one probe of resumption_reports_day.
func latestReportDate(ctx context.Context, tx *db.Tx) (string, error) {
	var d string
	err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(report_date), '') FROM resumption_reports`).Scan(&d)
	return d, errs.Wrap("resumption.latestReportDate", err)
}

// notResumedUnits reads the units in sc whose latest report
// (resumption_latest) says suspended, or that have none, with their names,
// areas and that report; sc's visibility must be by area alone.
func notResumedUnits(ctx context.Context, tx *db.Tx, sc *statsScope) ([]unitRow, error) {
	var args db.Args
	where := sc.vis.where(&args)
	if sc.filter != nil {
		where += " AND " + pathsWhere("a.path", sc.filter, &args)
	}
	q := `SELECT e.id, e.kind, e.is_key, a.path, e.ekey, e.name, e.area_code, a.name,
		r.id, r.report_date, r.status, r.capacity_pct, r.staff_expected, r.staff_on_site, r.note
		FROM enterprises e JOIN areas a ON a.code = e.area_code
		LEFT JOIN resumption_latest l ON l.enterprise_id = e.id
		LEFT JOIN resumption_reports r ON r.id = l.report_id
		WHERE ` + where + ` AND (r.id IS NULL OR r.status = 'suspended')`
	out, err := db.Collect(ctx, tx, func(s db.Scanner) (unitRow, error) {
		var u unitRow
		var rid, capacity, expected, onSite sql.NullInt64
		var date, status, note sql.NullString
		err := s.Scan(&u.id, &u.kind, &u.isKey, &u.areaPath, &u.key, &u.name, &u.areaCode, &u.areaName,
			&rid, &date, &status, &capacity, &expected, &onSite, &note)
		if rid.Valid {
			u.has, u.repID, u.date, u.status, u.note = true, rid.Int64, date.String, Status(status.String), note.String
			u.capacity, u.expected, u.onS = int(capacity.Int64), int(expected.Int64), int(onSite.Int64)
		}
		return u, err
	}, q, args.List...)
	return out, errs.Wrap("resumption.notResumedUnits", err)
}

// The statements of one filing's change (fileDayChange), fixed texts so
// that db.Tx keeps them prepared.
const (
	// effectiveReportSQL is the latest version of the unit $1's latest
	// report dated on or before $2, with the unit's first report date after
	// $2 ("" if none); nextReportSQL is that date alone, for a unit
	// without a report on or before $2.
	effectiveReportSQL = `SELECT r.id, r.report_date, r.filed_at, r.status, r.capacity_pct, r.staff_expected, r.staff_on_site,
		(SELECT COALESCE(MIN(n.report_date), '') FROM resumption_reports n WHERE n.enterprise_id = $1 AND n.report_date > $2)
		FROM resumption_reports r WHERE r.enterprise_id = $1 AND r.report_date <= $2
		ORDER BY r.report_date DESC, r.filed_at DESC, r.id DESC LIMIT 1`
	nextReportSQL = `SELECT COALESCE(MIN(report_date), '') FROM resumption_reports WHERE enterprise_id = $1 AND report_date > $2`
	setLatestSQL  = `INSERT INTO resumption_latest (enterprise_id, report_id) VALUES ($1, $2)
		ON CONFLICT (enterprise_id) DO UPDATE SET report_id = excluded.report_id`
)

// effective is a unit's effective report on a date: its latest report
// dated on or before it, in its latest version (ok false: none).
type effective struct {
	ok      bool
	id      int64
	date    string
	filedAt int64
	fig     dayFig
}

// effectiveReport is the unit's effective report on date and its first
// report date after date ("" if none): index probes, in one statement
// unless the unit has no report on or before date.
func effectiveReport(ctx context.Context, tx *db.Tx, id int64, date string) (effective, string, error) {
	const op = "resumption.effectiveReport"
	var e effective
	var next string
	var st Status
	var capacity, expected, onSite int
	err := tx.QueryRowContext(ctx, effectiveReportSQL, id, date).Scan(&e.id, &e.date, &e.filedAt, &st, &capacity, &expected, &onSite, &next)
	if errors.Is(err, sql.ErrNoRows) {
		err = tx.QueryRowContext(ctx, nextReportSQL, id, date).Scan(&next)
		return effective{}, next, errs.Wrap(op, err)
	}
	if err != nil {
		return effective{}, "", errs.Wrap(op, err)
	}
	e.ok, e.fig = true, figOf(st, capacity, expected, onSite)
	return e, next, nil
}

// setLatest makes report rid the unit's row of resumption_latest.
func setLatest(ctx context.Context, tx *db.Tx, id, rid int64) error {
	_, err := tx.ExecContext(ctx, setLatestSQL, id, rid)
	return errs.Wrap("resumption.setLatest", err)
}
