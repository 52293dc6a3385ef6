package resumption

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"time"

	"tongxin/internal/db"
	"tongxin/internal/errs"
)

// pathsWhere is the condition "the path in col lies under one of paths".
func pathsWhere(col string, paths []string, args *db.Args) string {
	ors := make([]string, len(paths))
	for i, p := range paths {
		ors[i] = col + " LIKE " + args.Add(db.LikePrefix(p)) + ` ESCAPE '\'`
	}
	return "(" + strings.Join(ors, " OR ") + ")"
}

// unitRow is a unit in scope with its latest report as of a moment.
type unitRow struct {
	id                 int64
	kind               string
	isKey              bool
	areaPath           string
	cats               uint8 // bit i: Categories[i]
	key, name          string
	areaCode, areaName string // with detail only
	// The latest report as of the moment, if has.
	has                     bool
	repID, filedAt          int64
	status                  Status
	capacity, expected, onS int
	date, note              string // note with detail only
}

// Tuning of loadUnits: scopes up to probeMax units are resolved by one
// index probe per unit; larger ones by scanning whole days of reports
// (at most maxDayScans days back) and probing only the units left.
const (
	probeMax    = 300
	maxDayScans = 7
	inChunk     = 500
)

// loadUnits returns every unit in sc with its categories and its latest
// report as of m; detail adds the names, keys and notes NotResumed shows.
func loadUnits(ctx context.Context, tx *db.Tx, sc *statsScope, m moment, detail bool) ([]unitRow, error) {
	units, err := scopeUnits(ctx, tx, sc, detail)
	if err != nil {
		return nil, err
	}
	if err := attachCategories(ctx, tx, units); err != nil {
		return nil, err
	}
	if err := attachLatest(ctx, tx, units, m, detail); err != nil {
		return nil, err
	}
	return units, nil
}

// scopeUnits lists the units in sc (without reports).
func scopeUnits(ctx context.Context, tx *db.Tx, sc *statsScope, detail bool) ([]unitRow, error) {
	const op = "resumption.scopeUnits"
	var args db.Args
	where := sc.vis.where(&args)
	if sc.filter != nil {
		where += " AND " + pathsWhere("a.path", sc.filter, &args)
	}
	cols := "e.id, e.kind, e.is_key, a.path"
	if detail {
		cols += ", e.ekey, e.name, e.area_code, a.name"
	}
	out, err := db.Collect(ctx, tx, func(sc db.Scanner) (unitRow, error) {
		var u unitRow
		dest := []any{&u.id, &u.kind, &u.isKey, &u.areaPath}
		if detail {
			dest = append(dest, &u.key, &u.name, &u.areaCode, &u.areaName)
		}
		err := sc.Scan(dest...)
		return u, err
	}, `SELECT `+cols+` FROM enterprises e JOIN areas a ON a.code = e.area_code WHERE `+where, args.List...)
	return out, errs.Wrap(op, err)
}

// indexOf maps unit ids to their index in units.
func indexOf(units []unitRow) map[int64]int {
	idx := make(map[int64]int, len(units))
	for i, u := range units {
		idx[u.id] = i
	}
	return idx
}

// attachCategories sets the category bits of units: for a few units by
// their ids, for many by reading the whole (small) category table.
func attachCategories(ctx context.Context, tx *db.Tx, units []unitRow) error {
	const op = "resumption.attachCategories"
	idx := indexOf(units)
	add := func(sc db.Scanner) error {
		var id int64
		var c Category
		if err := sc.Scan(&id, &c); err != nil {
			return err
		}
		if i, ok := idx[id]; ok {
			if bit := slices.Index(Categories, c); bit >= 0 {
				units[i].cats |= 1 << bit
			}
		}
		return nil
	}
	read := func(q string, args ...any) error { return errs.Wrap(op, db.Each(ctx, tx, add, q, args...)) }
	if len(units) > inChunk {
		return read(`SELECT enterprise_id, category FROM enterprise_categories`)
	}
	ids := make([]int64, len(units))
	for i, u := range units {
		ids[i] = u.id
	}
	return chunks(ids, func(part []int64) error {
		var args db.Args
		q := `SELECT enterprise_id, category FROM enterprise_categories WHERE enterprise_id IN ` + db.In(&args, part)
		return read(q, args.List...)
	})
}

// later reports whether a report version (date, filedAt, id) comes after
// the unit's current one.
func (u *unitRow) later(date string, filedAt, id int64) bool {
	if !u.has {
		return true
	}
	if date != u.date {
		return date > u.date
	}
	if filedAt != u.filedAt {
		return filedAt > u.filedAt
	}
	return id > u.repID
}

// latestCols are the columns a report row is read with.
func latestCols(detail bool) string {
	c := "r.enterprise_id, r.id, r.report_date, r.filed_at, r.status, r.capacity_pct, r.staff_expected, r.staff_on_site"
	if detail {
		c += ", r.note"
	}
	return c
}

// readReports reads report rows and offers each to its unit (if in
// units), keeping the latest; it returns the number of rows read.
func readReports(ctx context.Context, tx *db.Tx, units []unitRow, idx map[int64]int, detail bool, q string, args ...any) (int, error) {
	const op = "resumption.readReports"
	n := 0
	err := db.Each(ctx, tx, func(sc db.Scanner) error {
		var r unitRow
		var eid int64
		dest := []any{&eid, &r.repID, &r.date, &r.filedAt, &r.status, &r.capacity, &r.expected, &r.onS}
		if detail {
			dest = append(dest, &r.note)
		}
		if err := sc.Scan(dest...); err != nil {
			return err
		}
		n++
		if i, ok := idx[eid]; ok {
			units[i].offer(&r)
		}
		return nil
	}, q, args...)
	return n, errs.Wrap(op, err)
}

// offer makes r the unit's latest report if it is later than the one it
// has.
func (u *unitRow) offer(r *unitRow) {
	if u.later(r.date, r.filedAt, r.repID) {
		u.has, u.repID, u.date, u.filedAt, u.status = true, r.repID, r.date, r.filedAt, r.status
		u.capacity, u.expected, u.onS, u.note = r.capacity, r.expected, r.onS, r.note
	}
}

// attachLatest finds each unit's latest report as of m: the greatest
// report date not after m's date and, for that date, the latest version
// filed at or before m (the greatest id on a tie). Many units: whole days
// are read through resumption_reports_day, newest first, while that pays;
// the units still without a report are probed one by one through
// resumption_reports_latest.
func attachLatest(ctx context.Context, tx *db.Tx, units []unitRow, m moment, detail bool) error {
	return attachLatestBy(ctx, tx, units, m, detail, len(units) > probeMax)
}

// attachLatestBy is attachLatest with the strategy chosen: scan reads
// whole days first, else every unit is probed.
func attachLatestBy(ctx context.Context, tx *db.Tx, units []unitRow, m moment, detail, scan bool) error {
	for i := range units {
		u := &units[i]
		u.has, u.repID, u.filedAt, u.status, u.capacity, u.expected, u.onS, u.date, u.note = false, 0, 0, "", 0, 0, 0, "", ""
	}
	idx := indexOf(units)
	if scan {
		day, err := time.Parse(DateLayout, m.date)
		if err != nil {
			return errs.Wrap("resumption.attachLatest", err)
		}
		unresolved := len(units)
		for k := 0; k < maxDayScans && unresolved > 0; k++ {
			date := day.AddDate(0, 0, -k).Format(DateLayout)
			read, err := readReports(ctx, tx, units, idx, detail,
				`SELECT `+latestCols(detail)+` FROM resumption_reports r WHERE r.report_date = $1 AND r.filed_at <= $2`, date, m.ms)
			if err != nil {
				return err
			}
			before := unresolved
			unresolved = 0
			for i := range units {
				if !units[i].has {
					unresolved++
				}
			}
			// Another day is read only while it resolves more than a
			// probe per four rows would (probes cost about four rows).
			found := before - unresolved
			if k == 0 && unresolved*4 < read || k > 0 && found*4 < read {
				break
			}
		}
	}
	var left []int64
	for _, u := range units {
		if !u.has {
			left = append(left, u.id)
		}
	}
	return probeLatest(ctx, tx, units, idx, left, m, detail)
}

// probeLatest finds the latest report of the units with ids by one index
// probe each, then reads those reports by id.
func probeLatest(ctx context.Context, tx *db.Tx, units []unitRow, idx map[int64]int, ids []int64, m moment, detail bool) error {
	const op = "resumption.probeLatest"
	return chunks(ids, func(part []int64) error {
		var args db.Args
		in := db.In(&args, part)
		q := `SELECT (SELECT x.id FROM resumption_reports x
			WHERE x.enterprise_id = e.id AND x.report_date <= ` + args.Add(m.date) + ` AND x.filed_at <= ` + args.Add(m.ms) + `
			ORDER BY x.report_date DESC, x.filed_at DESC, x.id DESC LIMIT 1)
			FROM enterprises e WHERE e.id IN ` + in
		rids, err := db.Collect(ctx, tx, db.Value[sql.NullInt64], q, args.List...)
		if err != nil {
			return errs.Wrap(op, err)
		}
		var found []int64
		for _, rid := range rids {
			if rid.Valid {
				found = append(found, rid.Int64)
			}
		}
		return chunks(found, func(part []int64) error {
			var args db.Args
			q := `SELECT ` + latestCols(detail) + ` FROM resumption_reports r WHERE r.id IN ` +
				db.In(&args, part)
			_, err := readReports(ctx, tx, units, idx, detail, q, args.List...)
			return err
		})
	})
}
