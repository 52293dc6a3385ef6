package area

import (
	"context"
	"database/sql"
	"strings"

	"tongxin/internal/db"
	"tongxin/internal/errs"
)

// scope is the set of area subtrees a query may return: all of them, or
// those under paths. No paths and not all means nothing.
type scope struct {
	all   bool
	paths []string
}

// where renders the scope as a condition on the path column col.
func (s scope) where(col string, a *db.Args) string {
	if s.all {
		return "1 = 1"
	}
	if len(s.paths) == 0 {
		return "1 = 0"
	}
	ors := make([]string, len(s.paths))
	for i, p := range s.paths {
		ors[i] = col + " LIKE " + a.Add(db.LikePrefix(p)) + ` ESCAPE '\'`
	}
	return "(" + strings.Join(ors, " OR ") + ")"
}

// in renders "col IN ($i, …)" for values.
func in(col string, values []string, a *db.Args) string {
	ph := make([]string, len(values))
	for i, v := range values {
		ph[i] = a.Add(v)
	}
	return col + " IN (" + strings.Join(ph, ", ") + ")"
}

const areaCols = `a.code, a.name, a.level, COALESCE(a.parent_code, ''), a.path, a.depth,
	(SELECT COUNT(*) FROM areas c WHERE c.parent_code = a.code)`

func queryAreas(ctx context.Context, tx *db.Tx, op, where, order string, a *db.Args) ([]Area, error) {
	q := `SELECT ` + areaCols + ` FROM areas a WHERE ` + where
	if order != "" {
		q += " ORDER BY " + order
	}
	rows, err := tx.QueryContext(ctx, q, a.List...)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	defer rows.Close()
	out := []Area{}
	for rows.Next() {
		var x Area
		if err := rows.Scan(&x.Code, &x.Name, &x.Level, &x.ParentCode, &x.Path, &x.Depth, &x.ChildCount); err != nil {
			return nil, errs.Wrap(op, err)
		}
		out = append(out, x)
	}
	return out, errs.Wrap(op, rows.Err())
}

// getArea returns the area with code inside sc, or NotFound.
func getArea(ctx context.Context, tx *db.Tx, code string, sc scope) (*Area, error) {
	var a db.Args
	where := "a.code = " + a.Add(code) + " AND " + sc.where("a.path", &a)
	list, err := queryAreas(ctx, tx, "area.getArea", where, "", &a)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, errNotFound()
	}
	return &list[0], nil
}

// listChildren returns the direct children of code inside sc.
func listChildren(ctx context.Context, tx *db.Tx, code string, sc scope) ([]Area, error) {
	var a db.Args
	where := "a.parent_code = " + a.Add(code) + " AND " + sc.where("a.path", &a)
	return queryAreas(ctx, tx, "area.listChildren", where, "a.code", &a)
}

// listRoots returns the level-0 areas when sc is unrestricted, else the
// areas at sc's paths.
func listRoots(ctx context.Context, tx *db.Tx, sc scope) ([]Area, error) {
	var a db.Args
	var where string
	switch {
	case sc.all:
		where = "a.depth = 0"
	case len(sc.paths) == 0:
		return []Area{}, nil
	default:
		where = in("a.path", sc.paths, &a)
	}
	return queryAreas(ctx, tx, "area.listRoots", where, "a.depth, a.code", &a)
}

// listByCodes returns the areas with the given codes inside sc, top down.
func listByCodes(ctx context.Context, tx *db.Tx, codes []string, sc scope) ([]Area, error) {
	if len(codes) == 0 {
		return []Area{}, nil
	}
	var a db.Args
	where := in("a.code", codes, &a) + " AND " + sc.where("a.path", &a)
	return queryAreas(ctx, tx, "area.listByCodes", where, "a.depth, a.code", &a)
}

// searchAreas finds areas whose name contains q or whose code starts with
// q, inside sc.
func searchAreas(ctx context.Context, tx *db.Tx, q string, limit int, sc scope) ([]Area, error) {
	var a db.Args
	where := "(a.name LIKE " + a.Add(db.LikeContains(q)) + ` ESCAPE '\' OR a.code LIKE ` + a.Add(db.LikePrefix(q)) + ` ESCAPE '\')` +
		" AND " + sc.where("a.path", &a)
	return queryAreas(ctx, tx, "area.searchAreas", where, "a.depth, a.code LIMIT "+a.Add(limit), &a)
}

// pathOf returns the path of an area, NotFound if none.
func pathOf(ctx context.Context, tx *db.Tx, code string) (string, error) {
	var path string
	err := tx.QueryRowContext(ctx, `SELECT path FROM areas WHERE code = $1`, code).Scan(&path)
	if err != nil {
		return "", db.NotFound("area.pathOf", err, "area_not_found", "区划不存在")
	}
	return path, nil
}

// lookupChunk bounds the number of codes in one IN list.
const lookupChunk = 500

// knownAreas returns the stored areas among codes, by code (no child
// counts).
func knownAreas(ctx context.Context, tx *db.Tx, codes []string) (map[string]Area, error) {
	const op = "area.knownAreas"
	out := make(map[string]Area, len(codes))
	for start := 0; start < len(codes); start += lookupChunk {
		chunk := codes[start:min(start+lookupChunk, len(codes))]
		var a db.Args
		rows, err := tx.QueryContext(ctx, `SELECT code, name, level, COALESCE(parent_code, ''), path, depth FROM areas WHERE `+
			in("code", chunk, &a), a.List...)
		if err != nil {
			return nil, errs.Wrap(op, err)
		}
		for rows.Next() {
			var x Area
			if err := rows.Scan(&x.Code, &x.Name, &x.Level, &x.ParentCode, &x.Path, &x.Depth); err != nil {
				rows.Close()
				return nil, errs.Wrap(op, err)
			}
			out[x.Code] = x
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, errs.Wrap(op, err)
		}
	}
	return out, nil
}

func insertArea(ctx context.Context, tx *db.Tx, x Area) error {
	var parent any
	if x.ParentCode != "" {
		parent = x.ParentCode
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO areas (code, name, level, parent_code, path, depth, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`, x.Code, x.Name, string(x.Level), parent, x.Path, x.Depth, tx.NowMS())
	if err != nil {
		if tx.Dialect.IsUniqueViolation(err) {
			return &errs.Error{Kind: errs.Conflict, Code: "area_exists", Op: "area.insertArea",
				Message: "区划编码“" + x.Code + "”已存在（可能有人同时导入），请重试", Err: err}
		}
		return errs.Wrap("area.insertArea", err)
	}
	return nil
}

func renameArea(ctx context.Context, tx *db.Tx, code, name string) error {
	_, err := tx.ExecContext(ctx, `UPDATE areas SET name = $1, updated_at = $2 WHERE code = $3`, name, tx.NowMS(), code)
	return errs.Wrap("area.renameArea", err)
}

// Departments and work groups share one table shape; org names the table.

type orgTable string

const (
	departmentsTable orgTable = "departments"
	workgroupsTable  orgTable = "workgroups"
)

// orgRow is a department or a work group with its area's path. Caps are a
// department's capabilities as stored ("pass_review,resumption_manage");
// CapsSet says an update sets them (else it keeps them).
type orgRow struct {
	Code, Name, AreaCode, Remit, AreaPath string
	Caps                                  string
	CapsSet                               bool
}

func (t orgTable) cols() string {
	remit, caps := "''", "o.capabilities"
	if t == workgroupsTable {
		remit, caps = "o.remit", "''"
	}
	return `o.code, o.name, o.area_code, ` + remit + `, a.path, ` + caps
}

func (t orgTable) query(ctx context.Context, tx *db.Tx, where string, a *db.Args) ([]orgRow, error) {
	op := "area.list_" + string(t)
	rows, err := tx.QueryContext(ctx, `SELECT `+t.cols()+` FROM `+string(t)+` o JOIN areas a ON a.code = o.area_code
		WHERE `+where+` ORDER BY a.depth, a.code, o.code`, a.List...)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	defer rows.Close()
	out := []orgRow{}
	for rows.Next() {
		var r orgRow
		if err := rows.Scan(&r.Code, &r.Name, &r.AreaCode, &r.Remit, &r.AreaPath, &r.Caps); err != nil {
			return nil, errs.Wrap(op, err)
		}
		out = append(out, r)
	}
	return out, errs.Wrap(op, rows.Err())
}

// get returns the row with code, or ok false.
func (t orgTable) get(ctx context.Context, tx *db.Tx, code string) (orgRow, bool, error) {
	var a db.Args
	list, err := t.query(ctx, tx, "o.code = "+a.Add(code), &a)
	if err != nil || len(list) == 0 {
		return orgRow{}, false, err
	}
	return list[0], true, nil
}

// list returns the rows whose area is inside sc.
func (t orgTable) list(ctx context.Context, tx *db.Tx, sc scope) ([]orgRow, error) {
	var a db.Args
	return t.query(ctx, tx, sc.where("a.path", &a), &a)
}

// insert adds a row; ok is false when the code is taken.
func (t orgTable) insert(ctx context.Context, tx *db.Tx, r orgRow) (bool, error) {
	var res sql.Result
	var err error
	if t == workgroupsTable {
		res, err = tx.ExecContext(ctx, `INSERT INTO workgroups (code, name, area_code, remit, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (code) DO NOTHING`, r.Code, r.Name, r.AreaCode, r.Remit, tx.NowMS())
	} else {
		res, err = tx.ExecContext(ctx, `INSERT INTO departments (code, name, area_code, capabilities, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (code) DO NOTHING`, r.Code, r.Name, r.AreaCode, r.Caps, tx.NowMS())
	}
	if err != nil {
		return false, errs.Wrap("area.insert_"+string(t), err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, errs.Wrap("area.insert_"+string(t), err)
	}
	return n == 1, nil
}

func (t orgTable) update(ctx context.Context, tx *db.Tx, r orgRow) error {
	var err error
	if t == workgroupsTable {
		_, err = tx.ExecContext(ctx, `UPDATE workgroups SET name = $1, area_code = $2, remit = $3, updated_at = $4 WHERE code = $5`,
			r.Name, r.AreaCode, r.Remit, tx.NowMS(), r.Code)
	} else {
		_, err = tx.ExecContext(ctx, `UPDATE departments SET name = $1, area_code = $2, capabilities = $3, updated_at = $4 WHERE code = $5`,
			r.Name, r.AreaCode, r.Caps, tx.NowMS(), r.Code)
	}
	return errs.Wrap("area.update_"+string(t), err)
}
