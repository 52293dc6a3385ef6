package area

import (
	"context"
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

const areaCols = `a.code, a.name, a.level, COALESCE(a.parent_code, ''), a.path, a.depth,
	(SELECT COUNT(*) FROM areas c WHERE c.parent_code = a.code)`

func queryAreas(ctx context.Context, tx *db.Tx, op, where, order string, a *db.Args) ([]Area, error) {
	q := `SELECT ` + areaCols + ` FROM areas a WHERE ` + where
	if order != "" {
		q += " ORDER BY " + order
	}
	out, err := db.Collect(ctx, tx, scanArea, q, a.List...)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	if out == nil {
		out = []Area{}
	}
	return out, nil
}

func scanArea(sc db.Scanner) (Area, error) {
	var x Area
	err := sc.Scan(&x.Code, &x.Name, &x.Level, &x.ParentCode, &x.Path, &x.Depth, &x.ChildCount)
	return x, err
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
		where = "a.path IN " + db.In(&a, sc.paths)
	}
	return queryAreas(ctx, tx, "area.listRoots", where, "a.depth, a.code", &a)
}

// listByCodes returns the areas with the given codes inside sc, top down.
func listByCodes(ctx context.Context, tx *db.Tx, codes []string, sc scope) ([]Area, error) {
	if len(codes) == 0 {
		return []Area{}, nil
	}
	var a db.Args
	where := "a.code IN " + db.In(&a, codes) + " AND " + sc.where("a.path", &a)
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
	out := make(map[string]Area, len(codes))
	err := db.Chunks(len(codes), lookupChunk, func(lo, hi int) error {
		var a db.Args
		q := `SELECT code, name, level, COALESCE(parent_code, ''), path, depth FROM areas WHERE code IN ` + db.In(&a, codes[lo:hi])
		return db.Each(ctx, tx, func(sc db.Scanner) error {
			var x Area
			if err := sc.Scan(&x.Code, &x.Name, &x.Level, &x.ParentCode, &x.Path, &x.Depth); err != nil {
				return err
			}
			out[x.Code] = x
			return nil
		}, q, a.List...)
	})
	if err != nil {
		return nil, errs.Wrap("area.knownAreas", err)
	}
	return out, nil
}

// areaNames returns the names of the areas among codes, by code.
func areaNames(ctx context.Context, tx *db.Tx, codes []string) (map[string]string, error) {
	out := map[string]string{}
	err := db.Chunks(len(codes), lookupChunk, func(lo, hi int) error {
		var a db.Args
		q := `SELECT code, name FROM areas WHERE code IN ` + db.In(&a, codes[lo:hi])
		return db.Each(ctx, tx, func(sc db.Scanner) error {
			var code, name string
			if err := sc.Scan(&code, &name); err != nil {
				return err
			}
			out[code] = name
			return nil
		}, q, a.List...)
	})
	return out, err
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
