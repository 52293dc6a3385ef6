package resumption

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"

	"tongxin/internal/db"
	"tongxin/internal/errs"
)

// Reads of the kernel's areas table (read-only): the areas of statistics,
// filters and plans.

// areaChoices reads the districts (all), or for each of paths the
// districts inside it (a city or a district) or the area itself (below a
// district), each once.
func areaChoices(ctx context.Context, tx *db.Tx, all bool, paths []string) ([]AreaChoice, error) {
	const op = "resumption.areaOptions"
	var out []AreaChoice
	add := func(sc db.Scanner) error {
		var o AreaChoice
		if err := sc.Scan(&o.Code, &o.Name); err != nil {
			return err
		}
		if !slices.ContainsFunc(out, func(x AreaChoice) bool { return x.Code == o.Code }) {
			out = append(out, o)
		}
		return nil
	}
	query := func(where string, args ...any) error {
		return errs.Wrap(op, db.Each(ctx, tx, add, `SELECT code, name FROM areas WHERE `+where+` ORDER BY code`, args...))
	}
	if all {
		return out, query(`level = 'district'`)
	}
	for _, pth := range paths {
		var err error
		if strings.Count(pth, "/") <= 3 { // city or district
			err = query(`level = 'district' AND path LIKE $1 ESCAPE '\'`, db.LikePrefix(pth))
		} else {
			err = query(`path = $1`, pth)
		}
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// areasByName reads the code and path of the areas called name, by code.
func areasByName(ctx context.Context, tx *db.Tx, name string) ([]areaRef, error) {
	return db.Collect(ctx, tx, func(sc db.Scanner) (areaRef, error) {
		var a areaRef
		err := sc.Scan(&a.Code, &a.Path)
		return a, err
	}, `SELECT code, path FROM areas WHERE name = $1 ORDER BY code`, name)
}

// areaRefCols are the columns scanAreaRef reads.
const areaRefCols = `code, name, level, path`

func scanAreaRef(sc db.Scanner) (areaRef, error) {
	var a areaRef
	err := sc.Scan(&a.Code, &a.Name, &a.Level, &a.Path)
	return a, err
}

// getAreaRef reads the area with code: NotFound (area_not_found) when
// there is none.
func getAreaRef(ctx context.Context, tx *db.Tx, code string) (areaRef, error) {
	a, err := scanAreaRef(tx.QueryRowContext(ctx, `SELECT `+areaRefCols+` FROM areas WHERE code = $1`, code))
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return a, errAreaNotFound()
		}
		return a, errs.Wrap("resumption.getAreaRef", err)
	}
	return a, nil
}

// areaRefsByCode reads the areas with codes (those that exist), by code.
func areaRefsByCode(ctx context.Context, tx *db.Tx, codes []string) (map[string]areaRef, error) {
	out := make(map[string]areaRef, len(codes))
	err := db.Chunks(len(codes), keyChunk, func(lo, hi int) error {
		var args db.Args
		q := `SELECT ` + areaRefCols + ` FROM areas WHERE code IN ` + db.In(&args, codes[lo:hi])
		list, err := db.Collect(ctx, tx, scanAreaRef, q, args.List...)
		for _, a := range list {
			out[a.Code] = a
		}
		return err
	})
	return out, errs.Wrap("resumption.areaRefsByCode", err)
}

// queryAreaRefs reads the areas matching where, by path.
func queryAreaRefs(ctx context.Context, tx *db.Tx, where string, args ...any) ([]areaRef, error) {
	out, err := db.Collect(ctx, tx, scanAreaRef, `SELECT `+areaRefCols+` FROM areas WHERE `+where+` ORDER BY path`, args...)
	return out, errs.Wrap("resumption.queryAreaRefs", err)
}

// planAreaPath returns the path of an area, found false when it does not
// exist.
func planAreaPath(ctx context.Context, tx *db.Tx, code string) (string, bool, error) {
	var p string
	err := tx.QueryRowContext(ctx, `SELECT path FROM areas WHERE code = $1`, code).Scan(&p)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, errs.Wrap("resumption.areaPath", err)
	}
	return p, true, nil
}
