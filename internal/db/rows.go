package db

import (
	"context"
	"database/sql"
	"strings"
)

// Scanner is one row being read: a *sql.Row or the current row of a
// *sql.Rows. A store's scanX functions take it so that the same function
// reads a single row and every row of a list.
type Scanner interface {
	Scan(dest ...any) error
}

// Collect runs query in tx and reads every row with scan. It is the one
// `for rows.Next()` loop of the code base: rows are closed and their
// iteration error reported.
func Collect[T any](ctx context.Context, tx *Tx, scan func(Scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return CollectRows(rows, scan)
}

// CollectRows reads every row of rows with scan and closes rows.
func CollectRows[T any](rows *sql.Rows, scan func(Scanner) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Each runs query in tx and calls fn for every row, for reads that fill a
// map or a tree rather than a list.
func Each(ctx context.Context, tx *Tx, fn func(Scanner) error, query string, args ...any) error {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Value reads a one-column row: db.Collect(ctx, tx, db.Value[int64], …)
// is a list of ids.
func Value[T any](s Scanner) (T, error) {
	var v T
	err := s.Scan(&v)
	return v, err
}

// In appends each of vals as an argument and returns the parenthesised
// list of their placeholders, "($3, $4, $5)", for `col IN …`. An empty
// vals gives "(NULL)", which matches no row. Callers bound the list (see
// Chunks): the statement text, and so its prepared statement, depends on
// the number of values only, never on the values. (It is a function, not a
// method of Args, because Go methods take no type parameters.)
//
// Build the query into a variable before the call that passes a.List:
// in f(q+db.In(&a, v), a.List...) Go does not specify whether a.List is
// read before or after db.In has appended to it.
func In[T any](a *Args, vals []T) string {
	if len(vals) == 0 {
		return "(NULL)"
	}
	var b strings.Builder
	b.Grow(len(vals) * 5)
	b.WriteByte('(')
	for i, v := range vals {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(a.Add(v))
	}
	b.WriteByte(')')
	return b.String()
}
