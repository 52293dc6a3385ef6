package resumption

import (
	"context"
	"slices"
	"strings"
	"time"

	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/pii"
)

// The registry's SQL: enterprises, their categories, report versions and
// liaison assignments. Every query that reaches enterprises for a caller
// joins the area (alias a) and applies visibility.where.

// keyChunk bounds the keys or ids in one IN list.
const keyChunk = 500

// inList appends vals as arguments and returns "($1, $2, …)".
func inList[T any](args *db.Args, vals []T) string {
	var b strings.Builder
	b.WriteByte('(')
	for i, v := range vals {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(args.Add(v))
	}
	b.WriteByte(')')
	return b.String()
}

// chunks calls fn with consecutive slices of at most keyChunk items.
func chunks[T any](vals []T, fn func([]T) error) error {
	for start := 0; start < len(vals); start += keyChunk {
		if err := fn(vals[start:min(start+keyChunk, len(vals))]); err != nil {
			return err
		}
	}
	return nil
}

// enterpriseQuery selects enterprises for queryEnterprises.
type enterpriseQuery struct {
	key         string   // exactly this key
	areaPaths   []string // within any of these subtrees
	park        string
	category    Category
	anyCategory bool
	kind        Kind
	keyOnly     bool
	query       string // name contains, or key starts with
	after       string // key cursor
	limit       int
}

const enterpriseCols = `e.id, e.ekey, e.kind, e.name, e.area_code, a.name, a.path, e.park, e.is_key, e.employees,
	e.contact_name, e.contact_phone_enc, e.closed_loop, e.created_at, e.updated_at`

// queryEnterprises returns the enterprises within v matching q, by key,
// with categories and liaisons, phones masked.
func (s *Service) queryEnterprises(ctx context.Context, tx *db.Tx, v visibility, q enterpriseQuery) ([]Enterprise, error) {
	const op = "resumption.queryEnterprises"
	var args db.Args
	where := []string{v.where(&args)}
	if q.key != "" {
		where = append(where, "e.ekey = "+args.Add(q.key))
	}
	if len(q.areaPaths) > 0 {
		var ors []string
		for _, p := range q.areaPaths {
			ors = append(ors, "a.path LIKE "+args.Add(db.LikePrefix(p))+` ESCAPE '\'`)
		}
		where = append(where, "("+strings.Join(ors, " OR ")+")")
	}
	if q.park != "" {
		where = append(where, "e.park = "+args.Add(q.park))
	}
	if q.category != "" {
		where = append(where, "EXISTS (SELECT 1 FROM enterprise_categories c WHERE c.enterprise_id = e.id AND c.category = "+args.Add(string(q.category))+")")
	} else if q.anyCategory {
		where = append(where, "EXISTS (SELECT 1 FROM enterprise_categories c WHERE c.enterprise_id = e.id)")
	}
	if q.kind != "" {
		where = append(where, "e.kind = "+args.Add(string(q.kind)))
	}
	if q.keyOnly {
		where = append(where, "e.is_key = TRUE")
	}
	if q.query != "" {
		where = append(where, "(e.name LIKE "+args.Add(db.LikeContains(q.query))+` ESCAPE '\' OR e.ekey LIKE `+
			args.Add(db.LikePrefix(q.query))+` ESCAPE '\' OR e.ekey LIKE `+args.Add(db.LikePrefix(strings.ToUpper(q.query)))+` ESCAPE '\')`)
	}
	if q.after != "" {
		where = append(where, "e.ekey > "+args.Add(q.after))
	}
	sqlText := `SELECT ` + enterpriseCols + ` FROM enterprises e JOIN areas a ON a.code = e.area_code WHERE ` +
		strings.Join(where, " AND ") + ` ORDER BY e.ekey LIMIT ` + args.Add(q.limit)
	rows, err := tx.QueryContext(ctx, sqlText, args.List...)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	defer rows.Close()
	var out []Enterprise
	var ids []int64
	for rows.Next() {
		var e Enterprise
		var enc []byte
		var created, updated int64
		if err := rows.Scan(&e.ID, &e.Key, &e.Kind, &e.Name, &e.AreaCode, &e.AreaName, &e.AreaPath, &e.Park, &e.IsKey,
			&e.Employees, &e.ContactName, &enc, &e.ClosedLoop, &created, &updated); err != nil {
			return nil, errs.Wrap(op, err)
		}
		phone, err := s.box.Open(enc)
		if err != nil {
			return nil, errs.Wrap(op+": phone", err)
		}
		e.ContactPhone = pii.MaskPhone(phone)
		e.CreatedAt, e.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
		out = append(out, e)
		ids = append(ids, e.ID)
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Wrap(op, err)
	}
	rows.Close()
	if len(out) == 0 {
		return out, nil
	}
	cats, err := loadCategories(ctx, tx, ids)
	if err != nil {
		return nil, err
	}
	liaisons, err := loadLiaisons(ctx, tx, ids)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Categories = cats[out[i].ID]
		if out[i].Categories == nil {
			out[i].Categories = []Category{}
		}
		out[i].Liaisons = liaisons[out[i].ID]
		if out[i].Liaisons == nil {
			out[i].Liaisons = []string{}
		}
	}
	return out, nil
}

// loadCategories returns the categories of the enterprises, in display
// order.
func loadCategories(ctx context.Context, tx *db.Tx, ids []int64) (map[int64][]Category, error) {
	const op = "resumption.loadCategories"
	out := make(map[int64][]Category, len(ids))
	err := chunks(ids, func(part []int64) error {
		var args db.Args
		rows, err := tx.QueryContext(ctx, `SELECT enterprise_id, category FROM enterprise_categories WHERE enterprise_id IN `+
			inList(&args, part), args.List...)
		if err != nil {
			return errs.Wrap(op, err)
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			var c Category
			if err := rows.Scan(&id, &c); err != nil {
				return errs.Wrap(op, err)
			}
			out[id] = append(out[id], c)
		}
		return errs.Wrap(op, rows.Err())
	})
	for _, cs := range out {
		sortCategories(cs)
	}
	return out, err
}

// loadLiaisons returns the usernames of the liaisons of the enterprises,
// sorted.
func loadLiaisons(ctx context.Context, tx *db.Tx, ids []int64) (map[int64][]string, error) {
	const op = "resumption.loadLiaisons"
	out := make(map[int64][]string)
	err := chunks(ids, func(part []int64) error {
		var args db.Args
		rows, err := tx.QueryContext(ctx, `SELECT la.enterprise_id, u.username FROM liaison_assignments la
			JOIN users u ON u.id = la.user_id WHERE la.enterprise_id IN `+inList(&args, part)+` ORDER BY u.username`, args.List...)
		if err != nil {
			return errs.Wrap(op, err)
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			var name string
			if err := rows.Scan(&id, &name); err != nil {
				return errs.Wrap(op, err)
			}
			out[id] = append(out[id], name)
		}
		return errs.Wrap(op, rows.Err())
	})
	return out, err
}

// storedEnterprise is what a save compares against and authorizes by.
type storedEnterprise struct {
	ID          int64
	Key         string
	Kind        Kind
	Name        string
	AreaCode    string
	AreaPath    string
	Park        string
	IsKey       bool
	Employees   int
	ContactName string
	PhoneIdx    string
	ClosedLoop  bool
	Categories  []Category
}

// storedByKeys returns the stored enterprises among keys, by key.
func storedByKeys(ctx context.Context, tx *db.Tx, keys []string) (map[string]*storedEnterprise, error) {
	const op = "resumption.storedByKeys"
	out := make(map[string]*storedEnterprise, len(keys))
	byID := map[int64]*storedEnterprise{}
	err := chunks(keys, func(part []string) error {
		var args db.Args
		rows, err := tx.QueryContext(ctx, `SELECT e.id, e.ekey, e.kind, e.name, e.area_code, a.path, e.park, e.is_key, e.employees,
			e.contact_name, COALESCE(e.contact_phone_idx, ''), e.closed_loop
			FROM enterprises e JOIN areas a ON a.code = e.area_code WHERE e.ekey IN `+inList(&args, part), args.List...)
		if err != nil {
			return errs.Wrap(op, err)
		}
		defer rows.Close()
		for rows.Next() {
			var x storedEnterprise
			if err := rows.Scan(&x.ID, &x.Key, &x.Kind, &x.Name, &x.AreaCode, &x.AreaPath, &x.Park, &x.IsKey, &x.Employees,
				&x.ContactName, &x.PhoneIdx, &x.ClosedLoop); err != nil {
				return errs.Wrap(op, err)
			}
			out[x.Key] = &x
			byID[x.ID] = &x
		}
		return errs.Wrap(op, rows.Err())
	})
	if err != nil || len(byID) == 0 {
		return out, err
	}
	ids := make([]int64, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	cats, err := loadCategories(ctx, tx, ids)
	if err != nil {
		return nil, err
	}
	for id, x := range byID {
		x.Categories = cats[id]
	}
	return out, nil
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func insertEnterprise(ctx context.Context, tx *db.Tx, r enterpriseRecord, phoneEnc []byte, phoneIdx string) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO enterprises (ekey, kind, name, area_code, park, is_key, employees,
		contact_name, contact_phone_enc, contact_phone_idx, closed_loop, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING id`,
		r.Key, string(r.Kind), r.Name, r.AreaCode, r.Park, r.IsKey, r.Employees, r.ContactName, phoneEnc, nullable(phoneIdx),
		r.ClosedLoop, tx.NowMS()).Scan(&id)
	if tx.Dialect.IsUniqueViolation(err) {
		return 0, errs.Newf(errs.Conflict, "enterprise_exists", "%s 已登记", r.Key)
	}
	if err != nil {
		return 0, errs.Wrap("resumption.insertEnterprise", err)
	}
	return id, nil
}

func updateEnterprise(ctx context.Context, tx *db.Tx, id int64, r enterpriseRecord, phoneEnc []byte, phoneIdx string) error {
	_, err := tx.ExecContext(ctx, `UPDATE enterprises SET name = $1, area_code = $2, park = $3, is_key = $4, employees = $5,
		contact_name = $6, contact_phone_enc = $7, contact_phone_idx = $8, closed_loop = $9, updated_at = $10 WHERE id = $11`,
		r.Name, r.AreaCode, r.Park, r.IsKey, r.Employees, r.ContactName, phoneEnc, nullable(phoneIdx), r.ClosedLoop, tx.NowMS(), id)
	return errs.Wrap("resumption.updateEnterprise", err)
}

// replaceCategories makes cs the categories of the enterprise.
func replaceCategories(ctx context.Context, tx *db.Tx, id int64, cs []Category) error {
	const op = "resumption.replaceCategories"
	if _, err := tx.ExecContext(ctx, `DELETE FROM enterprise_categories WHERE enterprise_id = $1`, id); err != nil {
		return errs.Wrap(op, err)
	}
	if len(cs) == 0 {
		return nil
	}
	var args db.Args
	values := make([]string, len(cs))
	for i, c := range cs {
		values[i] = "(" + args.Add(id) + ", " + args.Add(string(c)) + ")"
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO enterprise_categories (enterprise_id, category) VALUES `+strings.Join(values, ", "), args.List...)
	return errs.Wrap(op, err)
}

// reportTargetSQL looks an enterprise up by key ($1) with whether the
// user $2 is one of its liaisons: the one indexed lookup of a filing. It is
// a fixed text, so that db.Tx keeps it prepared; reaches then applies the
// caller's visibility to the row.
const reportTargetSQL = `SELECT e.id, e.area_code, a.path,
	EXISTS (SELECT 1 FROM liaison_assignments la WHERE la.enterprise_id = e.id AND la.user_id = $2)
	FROM enterprises e JOIN areas a ON a.code = e.area_code WHERE e.ekey = $1`

// insertReportSQL adds a report version.
const insertReportSQL = `INSERT INTO resumption_reports (enterprise_id, report_date, status, capacity_pct,
	staff_expected, staff_on_site, closed_loop, note, filed_at, filed_by)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`

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
	if err := row.Scan(&t.ID, &t.AreaCode, &t.AreaPath, &assigned); err != nil {
		return t, db.NotFound("resumption.reportTarget", err, "enterprise_not_found", "企业不存在")
	}
	if !v.reaches(key, t.AreaPath, assigned) {
		return t, errEnterpriseNotFound()
	}
	return t, nil
}

// reportTargetRef is an enterprise a report import may file for.
type reportTargetRef struct {
	ID       int64
	AreaCode string
	AreaPath string
}

// reportTargets finds the enterprises among keys within v, by key.
func reportTargets(ctx context.Context, tx *db.Tx, v visibility, keys []string) (map[string]reportTargetRef, error) {
	const op = "resumption.reportTargets"
	out := make(map[string]reportTargetRef, len(keys))
	err := chunks(keys, func(part []string) error {
		var args db.Args
		q := `SELECT e.ekey, e.id, e.area_code, a.path FROM enterprises e JOIN areas a ON a.code = e.area_code WHERE e.ekey IN ` +
			inList(&args, part) + ` AND ` + v.where(&args)
		rows, err := tx.QueryContext(ctx, q, args.List...)
		if err != nil {
			return errs.Wrap(op, err)
		}
		defer rows.Close()
		for rows.Next() {
			var key string
			var t reportTargetRef
			if err := rows.Scan(&key, &t.ID, &t.AreaCode, &t.AreaPath); err != nil {
				return errs.Wrap(op, err)
			}
			out[key] = t
		}
		return errs.Wrap(op, rows.Err())
	})
	return out, err
}

// insertReport adds a report version filed now by filedBy.
func insertReport(ctx context.Context, tx *db.Tx, enterpriseID int64, in ReportInput, filedBy string) error {
	_, err := tx.ExecContext(ctx, insertReportSQL, enterpriseID, in.Date, string(in.Status), *in.CapacityPct,
		*in.StaffExpected, *in.StaffOnSite, in.ClosedLoop, in.Note, tx.NowMS(), filedBy)
	return errs.Wrap("resumption.insertReport", err)
}

const reportCols = `report_date, status, capacity_pct, staff_expected, staff_on_site, closed_loop, note, filed_at, filed_by`

func scanReports(ctx context.Context, tx *db.Tx, key, q string, args ...any) ([]Report, error) {
	const op = "resumption.scanReports"
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	defer rows.Close()
	out := []Report{}
	for rows.Next() {
		r := Report{EnterpriseKey: key}
		var filed int64
		if err := rows.Scan(&r.Date, &r.Status, &r.CapacityPct, &r.StaffExpected, &r.StaffOnSite, &r.ClosedLoop, &r.Note,
			&filed, &r.FiledBy); err != nil {
			return nil, errs.Wrap(op, err)
		}
		r.FiledAt = time.UnixMilli(filed).UTC()
		out = append(out, r)
	}
	return out, errs.Wrap(op, rows.Err())
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

func insertLiaison(ctx context.Context, tx *db.Tx, enterpriseID, userID int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO liaison_assignments (enterprise_id, user_id, created_at) VALUES ($1, $2, $3)`,
		enterpriseID, userID, tx.NowMS())
	if tx.Dialect.IsUniqueViolation(err) {
		return errs.E(errs.Conflict, "liaison_exists", "该联络员已分配到此企业")
	}
	return errs.Wrap("resumption.insertLiaison", err)
}

func deleteLiaison(ctx context.Context, tx *db.Tx, enterpriseID, userID int64) (bool, error) {
	res, err := tx.ExecContext(ctx, `DELETE FROM liaison_assignments WHERE enterprise_id = $1 AND user_id = $2`, enterpriseID, userID)
	if err != nil {
		return false, errs.Wrap("resumption.deleteLiaison", err)
	}
	n, err := res.RowsAffected()
	return n > 0, errs.Wrap("resumption.deleteLiaison", err)
}

// scopeOf returns the name and area path of the enterprise with key.
func scopeOf(ctx context.Context, tx *db.Tx, key string) (name, path string, err error) {
	err = tx.QueryRowContext(ctx, `SELECT e.name, a.path FROM enterprises e JOIN areas a ON a.code = e.area_code WHERE e.ekey = $1`,
		key).Scan(&name, &path)
	if err != nil {
		return "", "", db.NotFound("resumption.scopeOf", err, "enterprise_not_found", "企业不存在")
	}
	return name, path, nil
}
