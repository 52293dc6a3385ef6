package ticket

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"tongxin/internal/db"
)

// statsScope is the tickets Stats counts: those v reaches in the subtrees
// of paths (every one v reaches when empty), and the period [from, to) in
// milliseconds.
type statsScope struct {
	v        visibility
	paths    []string
	from, to int64
}

// where is the condition of the scope's tickets, the period aside.
func (sc *statsScope) where(a *db.Args) string {
	conds := []string{sc.v.where(a)}
	if len(sc.paths) > 0 {
		ors := make([]string, len(sc.paths))
		for i, path := range sc.paths {
			ors[i] = "t.area_path LIKE " + a.Add(db.LikePrefix(path)) + ` ESCAPE '\'`
		}
		conds = append(conds, "("+strings.Join(ors, " OR ")+")")
	}
	return strings.Join(conds, " AND ")
}

// statsRow is one ticket as Stats counts it.
type statsRow struct {
	dept, deptName, cat, catName, urg, status string
	created, resolveBy                        int64
	resolved, closed, due                     sql.NullInt64
	level                                     int
}

// eachFiled calls fn with every ticket of the scope filed in its period.
func eachFiled(ctx context.Context, tx *db.Tx, sc *statsScope, fn func(statsRow)) error {
	var a db.Args
	where := sc.where(&a)
	q := `SELECT COALESCE(t.department_code, ''), t.department_name, t.category,
		COALESCE(c.name, t.category), t.urgency, t.status, t.created_at, t.resolved_at, t.closed_at, t.resolve_by,
		t.escalation_level, t.due_at FROM tickets t LEFT JOIN ticket_categories c ON c.code = t.category
		WHERE ` + where + ` AND t.created_at >= ` + a.Add(sc.from) + ` AND t.created_at < ` + a.Add(sc.to)
	err := db.Each(ctx, tx, func(s db.Scanner) error {
		var r statsRow
		if err := s.Scan(&r.dept, &r.deptName, &r.cat, &r.catName, &r.urg, &r.status, &r.created, &r.resolved, &r.closed,
			&r.resolveBy, &r.level, &r.due); err != nil {
			return err
		}
		fn(r)
		return nil
	}, q, a.List...)
	if err != nil {
		return fmt.Errorf("ticket: stats: %w", err)
	}
	return nil
}

// eachHandled calls fn with the time of every resolution or closure of a
// ticket of the scope within its period, whenever the ticket was filed.
func eachHandled(ctx context.Context, tx *db.Tx, sc *statsScope, fn func(at int64)) error {
	var a db.Args
	where := sc.where(&a)
	from, to := a.Add(sc.from), a.Add(sc.to)
	err := db.Each(ctx, tx, func(s db.Scanner) error {
		var at int64
		if err := s.Scan(&at); err != nil {
			return err
		}
		fn(at)
		return nil
	}, `SELECT COALESCE(t.resolved_at, t.closed_at) FROM tickets t WHERE `+where+
		` AND COALESCE(t.resolved_at, t.closed_at) >= `+from+` AND COALESCE(t.resolved_at, t.closed_at) < `+to, a.List...)
	if err != nil {
		return fmt.Errorf("ticket: stats: %w", err)
	}
	return nil
}

// countOverdueNow counts the tickets of the scope past a deadline at now,
// whenever filed.
func countOverdueNow(ctx context.Context, tx *db.Tx, sc *statsScope, now int64) (int, error) {
	var a db.Args
	var n int
	q := `SELECT COUNT(*) FROM tickets t WHERE ` + sc.where(&a) + ` AND t.due_at <= ` + a.Add(now)
	if err := tx.QueryRowContext(ctx, q,
		a.List...).Scan(&n); err != nil {
		return 0, fmt.Errorf("ticket: stats: %w", err)
	}
	return n, nil
}
