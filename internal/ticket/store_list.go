package ticket

import (
	"context"
	"fmt"
	"strings"

	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/pii"
)

// codeChunk bounds the codes of one IN list of area or department codes.
const codeChunk = 64

// areaPaths reads the paths of the areas with codes (trimmed), by code;
// unknown codes are left out.
func areaPaths(ctx context.Context, tx *db.Tx, codes []string) (map[string]string, error) {
	return codeNames(ctx, tx, `SELECT code, path FROM areas WHERE code IN `, trimmed(codes))
}

// codeNames runs query, a two-column read of (code, value) ending in an IN
// list, over codes in bounded chunks.
func codeNames(ctx context.Context, tx *db.Tx, query string, codes []string) (map[string]string, error) {
	out := map[string]string{}
	put := func(sc db.Scanner) error {
		var code, v string
		if err := sc.Scan(&code, &v); err != nil {
			return err
		}
		out[code] = v
		return nil
	}
	err := db.Chunks(len(codes), codeChunk, func(lo, hi int) error {
		var a db.Args
		q := query + db.In(&a, codes[lo:hi])
		return db.Each(ctx, tx, put, q, a.List...)
	})
	if err != nil {
		return nil, fmt.Errorf("ticket: codes: %w", err)
	}
	return out, nil
}

// placeNames reads the names of the areas and departments with codes,
// in one query (unknown codes are left out).
func placeNames(ctx context.Context, tx *db.Tx, areaCodes, deptCodes []string) (areas, depts map[string]string, err error) {
	areas, depts = map[string]string{}, map[string]string{}
	if len(areaCodes) == 0 && len(deptCodes) == 0 {
		return areas, depts, nil
	}
	var a db.Args
	q := `SELECT 'a', code, name FROM areas WHERE code IN ` + db.In(&a, areaCodes) +
		` UNION ALL SELECT 'd', code, name FROM departments WHERE code IN ` + db.In(&a, deptCodes)
	err = db.Each(ctx, tx, func(sc db.Scanner) error {
		var kind, code, name string
		if err := sc.Scan(&kind, &code, &name); err != nil {
			return err
		}
		if kind == "a" {
			areas[code] = name
		} else {
			depts[code] = name
		}
		return nil
	}, q, a.List...)
	if err != nil {
		return nil, nil, fmt.Errorf("ticket: place names: %w", err)
	}
	return areas, depts, nil
}

func trimmed(list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = strings.TrimSpace(s)
	}
	return out
}

// listQuery is what List reads: the filter within the caller's reach, the
// filter's areas resolved to their paths.
type listQuery struct {
	v      visibility
	f      Filter
	paths  []string
	userID int64
}

// listTickets reads the tickets q selects, with their escalations.
func listTickets(ctx context.Context, tx *db.Tx, box *pii.Box, q *listQuery) ([]*Ticket, error) {
	var a db.Args
	conds := []string{q.v.where(&a)}
	conds = append(conds, q.subjectConds(&a)...)
	conds = append(conds, q.stateConds(&a, tx.NowMS())...)
	order := "t.id DESC"
	if q.f.ByDue {
		order = "t.due_at, t.id DESC"
	}
	query := `SELECT ` + ticketCols + ticketFrom + ` WHERE ` + strings.Join(conds, " AND ") +
		` ORDER BY ` + order + ` LIMIT ` + a.Add(q.f.Limit)
	out, err := db.Collect(ctx, tx, ticketScanner(box, tx.Now), query, a.List...)
	if err != nil {
		return nil, fmt.Errorf("ticket: list: %w", err)
	}
	return out, loadEscalations(ctx, tx, out)
}

// subjectConds select by status, department, area, category, kind and
// enterprise.
func (q *listQuery) subjectConds(a *db.Args) []string {
	f := q.f
	var conds []string
	if len(f.Statuses) > 0 {
		conds = append(conds, "t.status IN "+db.In(a, statusStrings(f.Statuses)))
	}
	if f.Department != "" {
		conds = append(conds, "t.department_code = "+a.Add(f.Department))
	}
	if len(q.paths) > 0 {
		ors := make([]string, len(q.paths))
		for i, path := range q.paths {
			ors[i] = "t.area_path LIKE " + a.Add(db.LikePrefix(path)) + ` ESCAPE '\'`
		}
		conds = append(conds, "("+strings.Join(ors, " OR ")+")")
	}
	if f.Category != "" {
		conds = append(conds, "t.category = "+a.Add(f.Category))
	}
	if f.Kind != "" {
		conds = append(conds, "t.kind = "+a.Add(string(f.Kind)))
	}
	if f.Enterprise != "" {
		conds = append(conds, "t.enterprise_key = "+a.Add(f.Enterprise))
	}
	return conds
}

// stateConds select by deadline, reporter, holder, words, period and
// cursor.
func (q *listQuery) stateConds(a *db.Args, now int64) []string {
	f := q.f
	var conds []string
	if f.Overdue {
		conds = append(conds, "t.due_at <= "+a.Add(now))
	}
	if f.Expiring {
		conds = append(conds, expiringWhere(a, now))
	}
	if f.Mine {
		conds = append(conds, "t.reporter_id = "+a.Add(q.userID))
	}
	if f.Holder != "" {
		conds = append(conds, "t.holder_code = "+a.Add(f.Holder))
	}
	if w := strings.TrimSpace(f.Query); w != "" {
		conds = append(conds, "(t.tracking = "+a.Add(strings.ToUpper(w))+" OR t.description LIKE "+a.Add(db.LikeContains(w))+` ESCAPE '\')`)
	}
	if !f.From.IsZero() {
		conds = append(conds, "t.created_at >= "+a.Add(f.From.UnixMilli()))
	}
	if !f.To.IsZero() {
		conds = append(conds, "t.created_at < "+a.Add(f.To.UnixMilli()))
	}
	if f.Before > 0 {
		conds = append(conds, "t.id < "+a.Add(f.Before))
	}
	return conds
}

func statusStrings(list []Status) []string {
	out := make([]string, len(list))
	for i, st := range list {
		out[i] = string(st)
	}
	return out
}

// openIn is the SQL condition of open tickets (aliased t).
func openIn(a *db.Args) string {
	return "t.status IN " + db.In(a, statusStrings(openStatuses))
}

func scanBrief(sc db.Scanner) (Brief, error) {
	var b Brief
	var at int64
	var desc string
	err := sc.Scan(&b.ID, &b.Tracking, &b.Status, &at, &desc)
	b.CreatedAt, b.Summary = clock.FromMillis(at), clip(desc, 60)
	return b, err
}

// duplicates lists the open tickets with t's subject and category filed
// within DuplicateWindow of it, among those v reaches.
func duplicates(ctx context.Context, tx *db.Tx, t *Ticket, v visibility) ([]Brief, error) {
	var key string
	err := tx.QueryRowContext(ctx, `SELECT subject_key FROM tickets WHERE id = $1`, t.ID).Scan(&key)
	if err != nil || key == "" {
		return nil, errs.Wrap("ticket.duplicates", err)
	}
	var a db.Args
	q := `SELECT t.id, t.tracking, t.status, t.created_at, t.description FROM tickets t
		WHERE t.subject_key = ` + a.Add(key) + ` AND t.category = ` + a.Add(t.Category) + ` AND t.id <> ` + a.Add(t.ID) + `
		AND t.status IN ('new', 'assigned', 'in_progress', 'reopened')
		AND t.created_at BETWEEN ` + a.Add(t.CreatedAt.Add(-DuplicateWindow).UnixMilli()) + ` AND ` + a.Add(t.CreatedAt.Add(DuplicateWindow).UnixMilli()) + `
		AND ` + v.where(&a) + ` ORDER BY t.created_at LIMIT 20`
	out, err := db.Collect(ctx, tx, scanBrief, q, a.List...)
	if err != nil {
		return nil, fmt.Errorf("ticket: duplicates: %w", err)
	}
	return out, nil
}

// callerTickets reads the tickets v reaches that the phone with blind
// index phoneIdx filed since since, newest first, at most CallerHistoryMax.
func callerTickets(ctx context.Context, tx *db.Tx, box *pii.Box, v visibility, phoneIdx string, since int64) ([]*Ticket, error) {
	var a db.Args
	q := `SELECT ` + ticketCols + ticketFrom + ` WHERE t.reporter_phone_idx = ` + a.Add(phoneIdx) +
		` AND t.created_at > ` + a.Add(since) + ` AND ` + v.where(&a) +
		` ORDER BY t.id DESC LIMIT ` + a.Add(CallerHistoryMax)
	out, err := db.Collect(ctx, tx, ticketScanner(box, tx.Now), q, a.List...)
	if err != nil {
		return nil, fmt.Errorf("ticket: caller: %w", err)
	}
	return out, nil
}

// countRepeats counts the tickets of the phone with blind index phoneIdx
// and category filed after since, merged ones aside.
func countRepeats(ctx context.Context, tx *db.Tx, phoneIdx, category string, since int64) (int, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM tickets WHERE reporter_phone_idx = $1 AND category = $2
		AND created_at > $3 AND status <> 'merged'`, phoneIdx, category, since).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("ticket: repeats: %w", err)
	}
	return n, nil
}

// countDeadlines counts the open tickets v reaches past their deadline
// and about to expire: one range scan of tickets_due up to DueSoon.
func countDeadlines(ctx context.Context, tx *db.Tx, v visibility) (overdue, soon int, err error) {
	var a db.Args
	now := a.Add(tx.NowMS())
	until := a.Add(tx.NowMS() + DueSoon.Milliseconds())
	q := `SELECT COALESCE(SUM(CASE WHEN t.due_at <= ` + now + ` THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN ` + expiringWhere(&a, tx.NowMS()) + ` THEN 1 ELSE 0 END), 0)
		FROM tickets t WHERE t.due_at <= ` + until + ` AND ` + openIn(&a) + ` AND ` + v.where(&a)
	err = tx.QueryRowContext(ctx, q, a.List...).Scan(&overdue, &soon)
	return overdue, soon, err
}

// countIn counts the open tickets v reaches in the subtree at path.
func countIn(ctx context.Context, tx *db.Tx, v visibility, path string) (AreaCounts, error) {
	var c AreaCounts
	var a db.Args
	now := a.Add(tx.NowMS())
	help := a.Add(string(ResidentHelp))
	q := `SELECT COUNT(*), COALESCE(SUM(CASE WHEN t.due_at <= ` + now + ` THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN t.kind = ` + help + ` THEN 1 ELSE 0 END), 0)
		FROM tickets t WHERE t.area_path LIKE ` + a.Add(db.LikePrefix(path)) + ` ESCAPE '\' AND ` + openIn(&a) + ` AND ` + v.where(&a)
	err := tx.QueryRowContext(ctx, q,
		a.List...).Scan(&c.Open, &c.Overdue, &c.Help)
	return c, err
}
