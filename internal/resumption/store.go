package resumption

import (
	"context"
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

// chunks calls fn with consecutive slices of at most keyChunk items.
func chunks[T any](vals []T, fn func([]T) error) error {
	return db.Chunks(len(vals), keyChunk, func(lo, hi int) error { return fn(vals[lo:hi]) })
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

// where is the condition of q (and of v) on enterprises e joined with
// their area a.
func (q enterpriseQuery) where(v visibility, args *db.Args) string {
	where := []string{v.where(args)}
	add := func(cond string) { where = append(where, cond) }
	if q.key != "" {
		add("e.ekey = " + args.Add(q.key))
	}
	if len(q.areaPaths) > 0 {
		add(pathsWhere("a.path", q.areaPaths, args))
	}
	if q.park != "" {
		add("e.park = " + args.Add(q.park))
	}
	if q.category != "" {
		add("EXISTS (SELECT 1 FROM enterprise_categories c WHERE c.enterprise_id = e.id AND c.category = " + args.Add(string(q.category)) + ")")
	} else if q.anyCategory {
		add("EXISTS (SELECT 1 FROM enterprise_categories c WHERE c.enterprise_id = e.id)")
	}
	if q.kind != "" {
		add("e.kind = " + args.Add(string(q.kind)))
	}
	if q.keyOnly {
		add("e.is_key = TRUE")
	}
	if q.query != "" {
		add("(e.name LIKE " + args.Add(db.LikeContains(q.query)) + ` ESCAPE '\' OR e.ekey LIKE ` +
			args.Add(db.LikePrefix(q.query)) + ` ESCAPE '\' OR e.ekey LIKE ` + args.Add(db.LikePrefix(strings.ToUpper(q.query))) + ` ESCAPE '\')`)
	}
	if q.after != "" {
		add("e.ekey > " + args.Add(q.after))
	}
	return strings.Join(where, " AND ")
}

// queryEnterprises returns the enterprises within v matching q, by key,
// with categories and liaisons, phones masked.
func (s *Service) queryEnterprises(ctx context.Context, tx *db.Tx, v visibility, q enterpriseQuery) ([]Enterprise, error) {
	const op = "resumption.queryEnterprises"
	var args db.Args
	sqlText := `SELECT ` + enterpriseCols + ` FROM enterprises e JOIN areas a ON a.code = e.area_code WHERE ` +
		q.where(v, &args) + ` ORDER BY e.ekey LIMIT ` + args.Add(q.limit)
	out, err := db.Collect(ctx, tx, s.scanEnterprise, sqlText, args.List...)
	if err != nil {
		if errs.As(err) != nil { // the phone could not be opened
			return nil, err
		}
		return nil, errs.Wrap(op, err)
	}
	if len(out) == 0 {
		return out, nil
	}
	ids := make([]int64, len(out))
	for i, e := range out {
		ids[i] = e.ID
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

// scanEnterprise reads a row of enterpriseCols, the phone opened and
// masked.
func (s *Service) scanEnterprise(sc db.Scanner) (Enterprise, error) {
	var e Enterprise
	var enc []byte
	var created, updated int64
	if err := sc.Scan(&e.ID, &e.Key, &e.Kind, &e.Name, &e.AreaCode, &e.AreaName, &e.AreaPath, &e.Park, &e.IsKey,
		&e.Employees, &e.ContactName, &enc, &e.ClosedLoop, &created, &updated); err != nil {
		return e, err
	}
	phone, err := s.box.Open(enc)
	if err != nil {
		return e, errs.Wrap("resumption.queryEnterprises: phone", err)
	}
	e.ContactPhone = pii.MaskPhone(phone)
	e.CreatedAt, e.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	return e, nil
}

// loadCategories returns the categories of the enterprises, in display
// order.
func loadCategories(ctx context.Context, tx *db.Tx, ids []int64) (map[int64][]Category, error) {
	const op = "resumption.loadCategories"
	out := make(map[int64][]Category, len(ids))
	err := chunks(ids, func(part []int64) error {
		var args db.Args
		q := `SELECT enterprise_id, category FROM enterprise_categories WHERE enterprise_id IN ` + db.In(&args, part)
		return errs.Wrap(op, db.Each(ctx, tx, func(sc db.Scanner) error {
			var id int64
			var c Category
			if err := sc.Scan(&id, &c); err != nil {
				return err
			}
			out[id] = append(out[id], c)
			return nil
		}, q, args.List...))
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
		q := `SELECT la.enterprise_id, u.username FROM liaison_assignments la
			JOIN users u ON u.id = la.user_id WHERE la.enterprise_id IN ` + db.In(&args, part) + ` ORDER BY u.username`
		return errs.Wrap(op, db.Each(ctx, tx, func(sc db.Scanner) error {
			var id int64
			var name string
			if err := sc.Scan(&id, &name); err != nil {
				return err
			}
			out[id] = append(out[id], name)
			return nil
		}, q, args.List...))
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
		q := `SELECT e.id, e.ekey, e.kind, e.name, e.area_code, a.path, e.park, e.is_key, e.employees,
			e.contact_name, COALESCE(e.contact_phone_idx, ''), e.closed_loop
			FROM enterprises e JOIN areas a ON a.code = e.area_code WHERE e.ekey IN ` + db.In(&args, part)
		return errs.Wrap(op, db.Each(ctx, tx, func(sc db.Scanner) error {
			var x storedEnterprise
			if err := sc.Scan(&x.ID, &x.Key, &x.Kind, &x.Name, &x.AreaCode, &x.AreaPath, &x.Park, &x.IsKey, &x.Employees,
				&x.ContactName, &x.PhoneIdx, &x.ClosedLoop); err != nil {
				return err
			}
			out[x.Key] = &x
			byID[x.ID] = &x
			return nil
		}, q, args.List...))
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

// enterpriseSubject reads the name and area of the enterprise with key and
// the user ids of its liaisons.
func enterpriseSubject(ctx context.Context, tx *db.Tx, key string) (name, areaCode string, liaisons []int64, err error) {
	const op = "resumption.EnterpriseSubject"
	var id int64
	err = tx.QueryRowContext(ctx, `SELECT id, name, area_code FROM enterprises WHERE ekey = $1`, key).Scan(&id, &name, &areaCode)
	if err != nil {
		return "", "", nil, db.NotFound(op, err, "enterprise_not_found", "企业不存在")
	}
	liaisons, err = db.Collect(ctx, tx, db.Value[int64], `SELECT user_id FROM liaison_assignments WHERE enterprise_id = $1 ORDER BY user_id`, id)
	return name, areaCode, liaisons, err
}

// passSubject reads the name, area and registered employees of the
// enterprise with key.
func passSubject(ctx context.Context, tx *db.Tx, key string) (name, areaCode string, employees int, err error) {
	err = tx.QueryRowContext(ctx, `SELECT name, area_code, employees FROM enterprises WHERE ekey = $1`, key).
		Scan(&name, &areaCode, &employees)
	if err != nil {
		return "", "", 0, db.NotFound("resumption.PassSubject", err, "enterprise_not_found", "企业不存在")
	}
	return name, areaCode, employees, nil
}
