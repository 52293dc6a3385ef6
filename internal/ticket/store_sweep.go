package ticket

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"tongxin/internal/db"
)

func scanCandidate(sc db.Scanner) (candidate, error) {
	var c candidate
	err := sc.Scan(&c.id, &c.version, &c.tracking, &c.category, &c.categoryName, &c.urgency, &c.status,
		&c.areaCode, &c.areaName, &c.areaPath, &c.holderCode, &c.holderDepth, &c.level,
		&c.respondBy, &c.resolveBy, &c.responded, &c.description)
	return c, err
}

// listDue reads at most SweepBatch tickets below the top of the ladder
// whose running deadline is past at now, earliest first.
func listDue(ctx context.Context, tx *db.Tx, now int64) ([]candidate, error) {
	out, err := db.Collect(ctx, tx, scanCandidate, `SELECT t.id, t.version, t.tracking, t.category, COALESCE(c.name, t.category), t.urgency,
		t.status, t.area_code, t.area_name, t.area_path, t.holder_code, t.holder_depth, t.escalation_level,
		t.respond_by, t.resolve_by, t.responded_at IS NOT NULL, t.description
		FROM tickets t LEFT JOIN ticket_categories c ON c.code = t.category
		WHERE t.holder_depth > 0 AND t.due_at <= $1 ORDER BY t.due_at, t.id LIMIT $2`, now, SweepBatch)
	if err != nil {
		return nil, fmt.Errorf("ticket: sweep: %w", err)
	}
	return out, nil
}

// Statements of many rows are cut into chunks of a power of two rows, at
// most these many, so that a handful of SQL texts serve every batch size
// (each prepared once and cached) and no statement carries so many
// parameters that binding them dominates (SQLite looks a parameter's name
// up in a list, once per parameter).
const (
	claimChunk  = 32
	recordChunk = 32
)

// values writes rows of a VALUES list with one parameter per column,
// numbered from first: "(CAST($2 AS BIGINT), CAST($3 AS TEXT)), ($4, $5)".
// The first row casts its parameters so that PostgreSQL knows the column
// types (the other rows follow them).
func values(b *strings.Builder, rows, first int, types ...string) {
	n := first
	for r := range rows {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for i, t := range types {
			if i > 0 {
				b.WriteString(", ")
			}
			if r == 0 {
				b.WriteString("CAST($" + strconv.Itoa(n) + " AS " + t + ")")
			} else {
				b.WriteString("$" + strconv.Itoa(n))
			}
			n++
		}
		b.WriteByte(')')
	}
}

// claimHops moves the planned tickets up one level with conditional
// updates — only a ticket still at the version read and still due moves —
// and returns the hops that took place, in ticket id order. A ticket
// another sweeper or a handler changed meanwhile is left alone.
func claimHops(ctx context.Context, tx *db.Tx, plans []hop, now int64) ([]hop, error) {
	moved := make(map[int64]bool, len(plans))
	err := db.Chunks(len(plans), claimChunk, func(lo, hi int) error {
		var b strings.Builder
		b.WriteString(`UPDATE tickets SET holder_code = v.column2, holder_depth = v.column3, escalation_level = escalation_level + 1,
			respond_by = v.column4, resolve_by = v.column5, due_at = v.column6, version = version + 1, updated_at = $1,
			respond_from = CASE WHEN v.column8 = 1 THEN $1 ELSE tickets.respond_from END,
			resolve_from = CASE WHEN v.column9 = 1 THEN $1 ELSE tickets.resolve_from END
			FROM (VALUES `)
		values(&b, hi-lo, 2, "BIGINT", "TEXT", "INTEGER", "BIGINT", "BIGINT", "BIGINT", "INTEGER", "INTEGER", "INTEGER")
		b.WriteString(`) AS v WHERE tickets.id = v.column1 AND tickets.version = v.column7 AND tickets.due_at <= $1
			RETURNING tickets.id`)
		args := make([]any, 0, 1+9*(hi-lo))
		args = append(args, now)
		for _, h := range plans[lo:hi] {
			args = append(args, h.c.id, h.toCode, h.toDepth, h.respondBy, h.resolveBy, h.due, h.c.version,
				flag(h.respondFrom), flag(h.resolveFrom))
		}
		ids, err := db.Collect(ctx, tx, db.Value[int64], b.String(), args...)
		if err != nil {
			return fmt.Errorf("ticket: escalate: %w", err)
		}
		for _, id := range ids {
			moved[id] = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	done := plans[:0:0]
	for _, h := range plans {
		if moved[h.c.id] {
			done = append(done, h)
		}
	}
	return done, nil
}

// recordHops writes the hops that took place and their timeline events,
// many rows per statement. The hop's primary key (ticket, hop) would turn
// a second escalation of the same hop into an error.
func recordHops(ctx context.Context, tx *db.Tx, done []hop, now int64) error {
	err := db.Chunks(len(done), recordChunk, func(lo, hi int) error {
		var b strings.Builder
		b.WriteString(`INSERT INTO ticket_escalations (ticket_id, hop, at, reason, from_code, from_depth, to_code, to_depth) VALUES `)
		values(&b, hi-lo, 1, "BIGINT", "INTEGER", "BIGINT", "TEXT", "TEXT", "INTEGER", "TEXT", "INTEGER")
		args := make([]any, 0, 8*(hi-lo))
		for _, h := range done[lo:hi] {
			c := h.c
			args = append(args, c.id, c.level+1, now, h.reason, c.holderCode, c.holderDepth, h.toCode, h.toDepth)
		}
		if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("ticket: escalation: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return db.Chunks(len(done), recordChunk, func(lo, hi int) error {
		var b strings.Builder
		b.WriteString(`INSERT INTO ticket_events (ticket_id, at, actor, kind, note) VALUES `)
		for i := range hi - lo {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "($%d, $1, 'system', 'escalated', $%d)", 2+2*i, 3+2*i)
		}
		args := make([]any, 0, 1+2*(hi-lo))
		args = append(args, now)
		for _, h := range done[lo:hi] {
			args = append(args, h.c.id, hopNote(h))
		}
		if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("ticket: event: %w", err)
		}
		return nil
	})
}

// confirmed is a ticket confirmed by the sweeper.
type confirmed struct {
	id             int64
	tracking, area string
}

// confirmDue confirms at most SweepBatch resolved tickets whose
// confirmation time passed at now, and returns them.
func confirmDue(ctx context.Context, tx *db.Tx, now int64) ([]confirmed, error) {
	out, err := db.Collect(ctx, tx, func(sc db.Scanner) (confirmed, error) {
		var r confirmed
		err := sc.Scan(&r.id, &r.tracking, &r.area)
		return r, err
	}, `UPDATE tickets SET status = 'confirmed', closed_at = $1, auto_confirm_at = NULL,
		version = version + 1, updated_at = $1
		WHERE id IN (SELECT id FROM tickets WHERE auto_confirm_at <= $1 AND status = 'resolved' ORDER BY auto_confirm_at, id LIMIT $2)
		AND status = 'resolved' AND auto_confirm_at <= $1
		RETURNING id, tracking, area_code`, now, SweepBatch)
	if err != nil {
		return nil, fmt.Errorf("ticket: auto-confirm: %w", err)
	}
	return out, nil
}

// flag is a boolean as a statement parameter both databases compare with 1.
func flag(b bool) int {
	if b {
		return 1
	}
	return 0
}
