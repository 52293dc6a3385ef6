package resumption

import (
	"context"
	"slices"
	"strings"
	"time"

	"tongxin/internal/db"
	"tongxin/internal/errs"
)

// reportTargetSQL looks an enterprise up by key ($1) with whether the
// user $2 is one of its liaisons: the one indexed lookup of a filing. It is
// a fixed text, so that db.Tx keeps it prepared; reaches then applies the
// caller's visibility to the row.
const reportTargetSQL = `SELECT e.id, e.area_code, a.path,
	EXISTS (SELECT 1 FROM liaison_assignments la WHERE la.enterprise_id = e.id AND la.user_id = $2),
	e.kind, e.is_key, ` + catBitsSQL + `
	FROM enterprises e JOIN areas a ON a.code = e.area_code WHERE e.ekey = $1`

// catBitsSQL is the category bits (bit i: Categories[i]) of enterprise e.
const catBitsSQL = `COALESCE((SELECT SUM(CASE k.category WHEN 'industrial_above_scale' THEN 1
	WHEN 'construction_realestate' THEN 2 WHEN 'trade_catering_above_quota' THEN 4 WHEN 'services_above_scale' THEN 8
	ELSE 0 END) FROM enterprise_categories k WHERE k.enterprise_id = e.id), 0)`

// insertReportSQL adds a report version and answers its id.
const insertReportSQL = `INSERT INTO resumption_reports (enterprise_id, report_date, status, capacity_pct,
	staff_expected, staff_on_site, closed_loop, note, filed_at, filed_by)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`

// reaches reports whether v covers the enterprise with key in the area at
// path; assigned says whether v's liaison is stationed there. It is the
// rule of visibility.where, for a row already read.
func (v visibility) reaches(key, path string, assigned bool) bool {
	if v.all || slices.Contains(v.keys, key) || (v.liaisonID != 0 && assigned) {
		return true
	}
	for _, p := range v.paths {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

// reportTarget finds the enterprise with key within v; stmt, if not nil,
// is reportTargetSQL prepared on tx's pool.
func reportTarget(ctx context.Context, tx *db.Tx, v visibility, key string) (reportTargetRef, error) {
	row := tx.QueryRowContext(ctx, reportTargetSQL, key, v.liaisonID)
	var t reportTargetRef
	var assigned bool
	var kind string
	var isKey bool
	var cats int
	if err := row.Scan(&t.ID, &t.AreaCode, &t.AreaPath, &assigned, &kind, &isKey, &cats); err != nil {
		return t, db.NotFound("resumption.reportTarget", err, "enterprise_not_found", "企业不存在")
	}
	if !v.reaches(key, t.AreaPath, assigned) {
		return t, errEnterpriseNotFound()
	}
	t.sig = sigOf(uint8(cats), kind, isKey)
	return t, nil
}

// reportTargetRef is an enterprise a report import may file for.
type reportTargetRef struct {
	ID       int64
	AreaCode string
	AreaPath string
	sig      uint8 // by reportTarget only
}

// reportTargets finds the enterprises among keys within v, by key.
func reportTargets(ctx context.Context, tx *db.Tx, v visibility, keys []string) (map[string]reportTargetRef, error) {
	const op = "resumption.reportTargets"
	out := make(map[string]reportTargetRef, len(keys))
	err := chunks(keys, func(part []string) error {
		var args db.Args
		q := `SELECT e.ekey, e.id, e.area_code, a.path FROM enterprises e JOIN areas a ON a.code = e.area_code WHERE e.ekey IN ` +
			db.In(&args, part) + ` AND ` + v.where(&args)
		return errs.Wrap(op, db.Each(ctx, tx, func(sc db.Scanner) error {
			var key string
			var t reportTargetRef
			if err := sc.Scan(&key, &t.ID, &t.AreaCode, &t.AreaPath); err != nil {
				return err
			}
			out[key] = t
			return nil
		}, q, args.List...))
	})
	return out, err
}

// insertReport adds a report version filed now by filedBy and returns its
// id.
func insertReport(ctx context.Context, tx *db.Tx, enterpriseID int64, in ReportInput, filedBy string) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, insertReportSQL, enterpriseID, in.Date, string(in.Status), *in.CapacityPct,
		*in.StaffExpected, *in.StaffOnSite, in.ClosedLoop, in.Note, tx.NowMS(), filedBy).Scan(&id)
	return id, errs.Wrap("resumption.insertReport", err)
}

const reportCols = `report_date, status, capacity_pct, staff_expected, staff_on_site, closed_loop, note, filed_at, filed_by`

func scanReports(ctx context.Context, tx *db.Tx, key, q string, args ...any) ([]Report, error) {
	const op = "resumption.scanReports"
	out, err := db.Collect(ctx, tx, func(sc db.Scanner) (Report, error) {
		r := Report{EnterpriseKey: key}
		var filed int64
		if err := sc.Scan(&r.Date, &r.Status, &r.CapacityPct, &r.StaffExpected, &r.StaffOnSite, &r.ClosedLoop, &r.Note,
			&filed, &r.FiledBy); err != nil {
			return r, err
		}
		r.FiledAt = time.UnixMilli(filed).UTC()
		return r, nil
	}, q, args...)
	if out == nil {
		out = []Report{}
	}
	return out, errs.Wrap(op, err)
}

// currentReports returns the latest filed version of each date, newest
// date first. Versions filed in the same millisecond are ordered by id.
func currentReports(ctx context.Context, tx *db.Tx, enterpriseID int64, key string, limit int) ([]Report, error) {
	return scanReports(ctx, tx, key, `SELECT `+reportCols+` FROM (
		SELECT r.*, ROW_NUMBER() OVER (PARTITION BY r.report_date ORDER BY r.filed_at DESC, r.id DESC) AS version_rank
		FROM resumption_reports r WHERE r.enterprise_id = $1) x
		WHERE x.version_rank = 1 ORDER BY x.report_date DESC LIMIT $2`, enterpriseID, limit)
}

// reportVersions returns every version of one date, newest first.
func reportVersions(ctx context.Context, tx *db.Tx, enterpriseID int64, key, date string) ([]Report, error) {
	return scanReports(ctx, tx, key, `SELECT `+reportCols+` FROM resumption_reports
		WHERE enterprise_id = $1 AND report_date = $2 ORDER BY filed_at DESC, id DESC`, enterpriseID, date)
}
