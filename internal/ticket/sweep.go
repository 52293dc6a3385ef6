package ticket

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"tongxin/internal/audit"
	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/notify"
)

// SweepBatch is how many tickets one sweeper transaction handles.
const SweepBatch = 500

// SweepResult counts what one pass did.
type SweepResult struct {
	Escalated     int `json:"escalated"`
	AutoConfirmed int `json:"auto_confirmed"`
}

// candidate is a ticket the sweeper may escalate.
type candidate struct {
	id                   int64
	version              int
	tracking             string
	category             string
	categoryName         string
	urgency              Urgency
	status               Status
	areaCode, areaName   string
	areaPath             string
	holderCode           string
	holderDepth          int
	level                int
	respondBy, resolveBy int64
	responded            bool
	description          string
}

// Sweep runs one pass of the sweeper: every open ticket whose running
// deadline has passed climbs one level up the area tree (community →
// street → district → city HQ), gets a new deadline from its policy, and
// the officers of the new level are notified; resolved tickets whose
// reporter did not answer in time confirm themselves. Each ticket is moved
// by a conditional update on its version, so sweepers in several instances
// never escalate one ticket twice.
func (s *Service) Sweep(ctx context.Context) (SweepResult, error) {
	var res SweepResult
	pass := &sweepPass{policies: map[string]Policy{}, holders: map[string][]int64{}}
	for range 1000 {
		now := s.clock.Now().UnixMilli()
		list, err := s.dueCandidates(ctx, now)
		if err != nil {
			return res, err
		}
		if len(list) == 0 {
			break
		}
		n, err := s.escalateBatch(ctx, pass, list)
		res.Escalated += n
		if err != nil {
			return res, err
		}
		if len(list) < SweepBatch || n == 0 {
			break
		}
	}
	for range 1000 {
		n, more, err := s.autoConfirmBatch(ctx)
		res.AutoConfirmed += n
		if err != nil || !more {
			return res, err
		}
	}
	return res, nil
}

// sweepPass caches what one pass looks up many times.
type sweepPass struct {
	policies map[string]Policy
	holders  map[string][]int64
}

func (s *Service) dueCandidates(ctx context.Context, now int64) ([]candidate, error) {
	var out []candidate
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT t.id, t.version, t.tracking, t.category, COALESCE(c.name, t.category), t.urgency,
			t.status, t.area_code, t.area_name, t.area_path, t.holder_code, t.holder_depth, t.escalation_level,
			t.respond_by, t.resolve_by, t.responded_at IS NOT NULL, t.description
			FROM tickets t LEFT JOIN ticket_categories c ON c.code = t.category
			WHERE t.holder_depth > 0 AND t.due_at <= $1 ORDER BY t.due_at, t.id LIMIT $2`, now, SweepBatch)
		if err != nil {
			return fmt.Errorf("ticket: sweep: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var c candidate
			if err := rows.Scan(&c.id, &c.version, &c.tracking, &c.category, &c.categoryName, &c.urgency, &c.status,
				&c.areaCode, &c.areaName, &c.areaPath, &c.holderCode, &c.holderDepth, &c.level,
				&c.respondBy, &c.resolveBy, &c.responded, &c.description); err != nil {
				return fmt.Errorf("ticket: sweep: %w", err)
			}
			out = append(out, c)
		}
		return rows.Err()
	})
	return out, err
}

// hop is one planned escalation of a candidate: where it goes, why, and
// its new deadlines.
type hop struct {
	c                    *candidate
	reason               string // respond, resolve or both
	toCode               string
	toDepth              int
	respondBy, resolveBy int64
	due                  any
	// respondFrom and resolveFrom: the deadline starts again now.
	respondFrom, resolveFrom bool
}

// reasonNames are the missed deadlines as the timeline says them.
var reasonNames = map[string]string{"respond": "响应时限", "resolve": "办结时限", "both": "响应和办结时限"}

// escalateBatch escalates the candidates still due, in one transaction,
// and returns how many it moved.
//
// The transaction first claims every ticket it moves (conditional updates
// in ticket id order), then writes their hops, events and notices, and
// appends to the audit chain last. On PostgreSQL that order matters: the
// chain's head is one locked row, and a sweeper that held it while waiting
// for a ticket locked by a handler (who waits for the head to audit its
// own change) would deadlock.
func (s *Service) escalateBatch(ctx context.Context, pass *sweepPass, list []candidate) (int, error) {
	var moved int
	err := s.db.Write(ctx, func(tx *db.Tx) error {
		moved = 0
		now := tx.NowMS()
		plans := make([]hop, 0, len(list))
		for i := range list {
			h, ok, err := s.plan(ctx, tx, pass, &list[i], now)
			if err != nil {
				return err
			}
			if ok {
				plans = append(plans, h)
			}
		}
		slices.SortFunc(plans, func(a, b hop) int { return cmp.Compare(a.c.id, b.c.id) })
		done, err := claimHops(ctx, tx, plans, now)
		if err != nil {
			return err
		}
		if err := recordHops(ctx, tx, done, now); err != nil {
			return err
		}
		for _, h := range done {
			if err := s.notifyHop(ctx, tx, pass, h); err != nil {
				return err
			}
		}
		entries := make([]audit.Entry, len(done))
		for i, h := range done {
			c := h.c
			entries[i] = audit.Entry{Actor: "system", Action: "ticket.escalate", ObjectType: "ticket",
				ObjectID: c.tracking, AreaCode: c.areaCode,
				Summary: fmt.Sprintf("工单 %s 第 %d 次升级：%s（%s → %s）", c.tracking, c.level+1, hopNote(h), c.holderCode, h.toCode)}
		}
		if err := audit.RecordAll(ctx, tx, entries); err != nil {
			return err
		}
		moved = len(done)
		return nil
	})
	return moved, err
}

// plan decides whether c is still due at now and, if so, where it goes and
// its new deadlines from its policy.
func (s *Service) plan(ctx context.Context, tx *db.Tx, pass *sweepPass, c *candidate, now int64) (hop, bool, error) {
	missedRespond := !c.responded && !c.status.Responded() && c.respondBy <= now
	missedResolve := c.resolveBy <= now
	if !missedRespond && !missedResolve {
		return hop{}, false, nil
	}
	codes := pathCodes(c.areaPath)
	if c.holderDepth <= 0 || c.holderDepth > len(codes)-1 {
		return hop{}, false, nil
	}
	key := c.category + "/" + string(c.urgency)
	pol, ok := pass.policies[key]
	if !ok {
		var err error
		if pol, err = policyOf(ctx, tx, c.category, c.urgency); err != nil {
			return hop{}, false, err
		}
		pass.policies[key] = pol
	}
	h := hop{c: c, reason: "resolve", respondBy: c.respondBy, resolveBy: c.resolveBy, toDepth: c.holderDepth - 1}
	switch {
	case missedRespond && missedResolve:
		h.reason = "both"
	case missedRespond:
		h.reason = "respond"
	}
	if missedRespond {
		h.respondBy = pol.RespondBy.Due(tx.Now).UnixMilli()
	}
	if missedResolve {
		h.resolveBy = pol.ResolveBy.Due(tx.Now).UnixMilli()
	}
	h.respondFrom, h.resolveFrom = missedRespond, missedResolve
	h.toCode = codes[h.toDepth]
	h.due = dueAt(c.status, c.responded, h.respondBy, h.resolveBy)
	return h, true, nil
}

func hopNote(h hop) string {
	return fmt.Sprintf("超过%s，由%s升级至%s", reasonNames[h.reason], LevelName(h.c.holderDepth), LevelName(h.toDepth))
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
		rows, err := tx.QueryContext(ctx, b.String(), args...)
		if err != nil {
			return fmt.Errorf("ticket: escalate: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return fmt.Errorf("ticket: escalate: %w", err)
			}
			moved[id] = true
		}
		return rows.Err()
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

// notifyHop tells the officers of the level a ticket reached.
func (s *Service) notifyHop(ctx context.Context, tx *db.Tx, pass *sweepPass, h hop) error {
	ids, ok := pass.holders[h.toCode]
	if !ok {
		var err error
		if ids, err = s.holders.Holders(ctx, tx, auth.ScopeArea, h.toCode, areaOfficerRoles...); err != nil {
			return err
		}
		pass.holders[h.toCode] = ids
	}
	c := h.c
	body := fmt.Sprintf("%s · %s · %s\n%s\n%s", c.categoryName, UrgencyNames[c.urgency], c.areaName,
		clip(strings.TrimSpace(c.description), 80), hopNote(h))
	return s.send(ctx, tx, ids, notify.Message{Event: "ticket.escalated",
		Title: fmt.Sprintf("工单 %s 超时升级至%s", c.tracking, LevelName(h.toDepth)), Body: body,
		Link: link(c.id), ObjectType: "ticket", ObjectID: c.tracking, AreaPath: c.areaPath})
}

// autoConfirmBatch confirms resolved tickets whose reporter let the
// confirmation time pass; more is true when a full batch was done. As in
// escalateBatch, the tickets are claimed first (one conditional update)
// and the audit chain is appended to last.
func (s *Service) autoConfirmBatch(ctx context.Context) (n int, more bool, err error) {
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		n = 0
		now := tx.NowMS()
		rows, err := tx.QueryContext(ctx, `UPDATE tickets SET status = 'confirmed', closed_at = $1, auto_confirm_at = NULL,
			version = version + 1, updated_at = $1
			WHERE id IN (SELECT id FROM tickets WHERE auto_confirm_at <= $1 AND status = 'resolved' ORDER BY auto_confirm_at, id LIMIT $2)
			AND status = 'resolved' AND auto_confirm_at <= $1
			RETURNING id, tracking, area_code`, now, SweepBatch)
		if err != nil {
			return fmt.Errorf("ticket: auto-confirm: %w", err)
		}
		type row struct {
			id             int64
			tracking, area string
		}
		var list []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.id, &r.tracking, &r.area); err != nil {
				rows.Close()
				return fmt.Errorf("ticket: auto-confirm: %w", err)
			}
			list = append(list, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("ticket: auto-confirm: %w", err)
		}
		slices.SortFunc(list, func(a, b row) int { return cmp.Compare(a.id, b.id) })
		for _, r := range list {
			if err := addEvent(ctx, tx, r.id, "system", "auto_confirmed", Resolved, Confirmed, "", "提出人未在时限内答复，自动确认办结"); err != nil {
				return err
			}
		}
		entries := make([]audit.Entry, len(list))
		for i, r := range list {
			entries[i] = audit.Entry{Actor: "system", Action: "ticket.auto_confirm", ObjectType: "ticket",
				ObjectID: r.tracking, AreaCode: r.area, Summary: "工单 " + r.tracking + " 超过确认时限，自动确认办结"}
		}
		if err := audit.RecordAll(ctx, tx, entries); err != nil {
			return err
		}
		n = len(list)
		more = n == SweepBatch
		return nil
	})
	return n, more, err
}

// RunSweeper sweeps every interval until ctx ends. Errors are logged and
// the next pass tries again.
func (s *Service) RunSweeper(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		res, err := s.Sweep(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			s.log.Error("ticket sweeper", "err", err)
		case res.Escalated > 0 || res.AutoConfirmed > 0:
			s.log.Info("ticket sweeper", "escalated", res.Escalated, "auto_confirmed", res.AutoConfirmed)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// flag is a boolean as a statement parameter both databases compare with 1.
func flag(b bool) int {
	if b {
		return 1
	}
	return 0
}
