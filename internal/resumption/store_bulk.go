package resumption

import (
	"context"
	"strings"

	"tongxin/internal/db"
	"tongxin/internal/errs"
)

// bulkArgs bounds the arguments of one multi-row INSERT: SQLite looks
// each numbered parameter up in a list as long as the statement's, so the
// cost of binding grows with the square of the arguments of a statement.
const bulkArgs = 640

// bulkRows is the number of rows of width arguments in one INSERT: a
// power of two, so that db.Chunks repeats a few statement texts.
func bulkRows(width int) int {
	n := 1
	for n*2*width <= bulkArgs {
		n *= 2
	}
	return n
}

// values writes "($1, …, $n), (…)" for rows of n arguments each.
func values(args *db.Args, rows [][]any) string {
	var b strings.Builder
	for i, r := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for k, v := range r {
			if k > 0 {
				b.WriteString(", ")
			}
			b.WriteString(args.Add(v))
		}
		b.WriteByte(')')
	}
	return b.String()
}

// insertEnterprises inserts recs, with their sealed phones encs and the
// phones' blind indexes idxs, and returns their ids, in order.
func insertEnterprises(ctx context.Context, tx *db.Tx, recs []enterpriseRecord, encs [][]byte, idxs []string) ([]int64, error) {
	const op = "resumption.insertEnterprises"
	ids := make([]int64, 0, len(recs))
	now := tx.NowMS()
	err := db.Chunks(len(recs), bulkRows(13), func(lo, hi int) error {
		var args db.Args
		rows := make([][]any, 0, hi-lo)
		for i := lo; i < hi; i++ {
			r := recs[i]
			rows = append(rows, []any{r.Key, string(r.Kind), r.Name, r.AreaCode, r.Park, r.IsKey, r.Employees, r.ContactName,
				encs[i], nullable(idxs[i]), r.ClosedLoop, now, now})
		}
		q := `INSERT INTO enterprises (ekey, kind, name, area_code, park, is_key, employees, contact_name, contact_phone_enc,
			contact_phone_idx, closed_loop, created_at, updated_at) VALUES ` + values(&args, rows) + ` RETURNING id, ekey`
		byKey := make(map[string]int64, hi-lo)
		err := db.Each(ctx, tx, func(sc db.Scanner) error {
			var id int64
			var key string
			if err := sc.Scan(&id, &key); err != nil {
				return err
			}
			byKey[key] = id
			return nil
		}, q, args.List...)
		if err != nil {
			return errs.Wrap(op, err)
		}
		for i := lo; i < hi; i++ {
			id, ok := byKey[recs[i].Key]
			if !ok {
				return errs.Newf(errs.Conflict, "enterprise_exists", "%s 重复", recs[i].Key)
			}
			ids = append(ids, id)
		}
		return nil
	})
	if tx.Dialect.IsUniqueViolation(err) {
		return nil, errs.E(errs.Conflict, "enterprise_exists", "批量登记中有重复或已登记的编码")
	}
	return ids, err
}

// insertCategories inserts the categories of recs (ids in the same order).
func insertCategories(ctx context.Context, tx *db.Tx, recs []enterpriseRecord, ids []int64) error {
	var rows [][]any
	for i, r := range recs {
		for _, c := range r.Categories {
			rows = append(rows, []any{ids[i], string(c)})
		}
	}
	return db.Chunks(len(rows), bulkRows(2), func(lo, hi int) error {
		var args db.Args
		q := `INSERT INTO enterprise_categories (enterprise_id, category) VALUES ` +
			values(&args, rows[lo:hi])
		_, err := tx.ExecContext(ctx, q, args.List...)
		return errs.Wrap("resumption.insertCategories", err)
	})
}

// insertReportRows inserts report versions, rows of the ten columns of
// resumption_reports from enterprise_id to filed_by.
func insertReportRows(ctx context.Context, tx *db.Tx, rows [][]any) error {
	return db.Chunks(len(rows), bulkRows(10), func(lo, hi int) error {
		var args db.Args
		q := `INSERT INTO resumption_reports (enterprise_id, report_date, status, capacity_pct,
				staff_expected, staff_on_site, closed_loop, note, filed_at, filed_by) VALUES ` + values(&args, rows[lo:hi])
		_, err := tx.ExecContext(ctx, q, args.List...)
		return err
	})
}

// insertReadingRows inserts power readings, rows of scope, reading_date,
// max_load_kw, filed_at and filed_by.
func insertReadingRows(ctx context.Context, tx *db.Tx, rows [][]any) error {
	return db.Chunks(len(rows), bulkRows(5), func(lo, hi int) error {
		var args db.Args
		q := `INSERT INTO power_readings (scope, reading_date, max_load_kw, filed_at, filed_by) VALUES ` +
			values(&args, rows[lo:hi])
		_, err := tx.ExecContext(ctx, q, args.List...)
		return err
	})
}
