package ticket

import (
	"context"
	"fmt"
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

// escalateBatch escalates the candidates still due, in one transaction,
// and returns how many it moved.
func (s *Service) escalateBatch(ctx context.Context, pass *sweepPass, list []candidate) (int, error) {
	var moved int
	err := s.db.Write(ctx, func(tx *db.Tx) error {
		moved = 0
		now := tx.NowMS()
		for _, c := range list {
			ok, err := s.escalate(ctx, tx, pass, c, now)
			if err != nil {
				return err
			}
			if ok {
				moved++
			}
		}
		return nil
	})
	return moved, err
}

// escalate moves one ticket up one level if it is still as read and still
// due; it reports whether it did.
func (s *Service) escalate(ctx context.Context, tx *db.Tx, pass *sweepPass, c candidate, now int64) (bool, error) {
	missedRespond := !c.responded && !c.status.Responded() && c.respondBy <= now
	missedResolve := c.resolveBy <= now
	if !missedRespond && !missedResolve {
		return false, nil
	}
	codes := pathCodes(c.areaPath)
	if c.holderDepth <= 0 || c.holderDepth > len(codes)-1 {
		return false, nil
	}
	key := c.category + "/" + string(c.urgency)
	pol, ok := pass.policies[key]
	if !ok {
		var err error
		if pol, err = policyOf(ctx, tx, c.category, c.urgency); err != nil {
			return false, err
		}
		pass.policies[key] = pol
	}
	respondBy, resolveBy := c.respondBy, c.resolveBy
	reason := "resolve"
	switch {
	case missedRespond && missedResolve:
		reason = "both"
	case missedRespond:
		reason = "respond"
	}
	if missedRespond {
		respondBy = pol.RespondBy.Due(tx.Now).UnixMilli()
	}
	if missedResolve {
		resolveBy = pol.ResolveBy.Due(tx.Now).UnixMilli()
	}
	toDepth := c.holderDepth - 1
	toCode := codes[toDepth]
	res, err := tx.ExecContext(ctx, `UPDATE tickets SET holder_code = $1, holder_depth = $2, escalation_level = escalation_level + 1,
		respond_by = $3, resolve_by = $4, due_at = $5, version = version + 1, updated_at = $6
		WHERE id = $7 AND version = $8 AND due_at <= $6`,
		toCode, toDepth, respondBy, resolveBy, dueAt(c.status, respondBy, resolveBy), now, c.id, c.version)
	if err != nil {
		return false, fmt.Errorf("ticket: escalate: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return false, nil // another sweeper, or a handler, got there first
	}
	hop := c.level + 1
	if _, err := tx.ExecContext(ctx, `INSERT INTO ticket_escalations (ticket_id, hop, at, reason, from_code, from_depth, to_code, to_depth)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, c.id, hop, now, reason, c.holderCode, c.holderDepth, toCode, toDepth); err != nil {
		return false, fmt.Errorf("ticket: escalation: %w", err)
	}
	missed := map[string]string{"respond": "响应时限", "resolve": "办结时限", "both": "响应和办结时限"}[reason]
	note := fmt.Sprintf("超过%s，由%s升级至%s", missed, LevelName(c.holderDepth), LevelName(toDepth))
	if err := addEvent(ctx, tx, c.id, "system", "escalated", "", "", "", note); err != nil {
		return false, err
	}
	if err := audit.Record(ctx, tx, audit.Entry{Actor: "system", Action: "ticket.escalate", ObjectType: "ticket",
		ObjectID: c.tracking, AreaCode: c.areaCode, Summary: fmt.Sprintf("工单 %s 第 %d 次升级：%s（%s → %s）", c.tracking, hop, note, c.holderCode, toCode)}); err != nil {
		return false, err
	}
	ids, ok := pass.holders[toCode]
	if !ok {
		if ids, err = s.holders.Holders(ctx, tx, auth.ScopeArea, toCode, areaOfficerRoles...); err != nil {
			return false, err
		}
		pass.holders[toCode] = ids
	}
	body := fmt.Sprintf("%s · %s · %s\n%s\n%s", c.categoryName, UrgencyNames[c.urgency], c.areaName, clip(strings.TrimSpace(c.description), 80), note)
	return true, s.send(ctx, tx, ids, notify.Message{Event: "ticket.escalated",
		Title: fmt.Sprintf("工单 %s 超时升级至%s", c.tracking, LevelName(toDepth)), Body: body,
		Link: link(c.id), ObjectType: "ticket", ObjectID: c.tracking, AreaPath: c.areaPath})
}

// autoConfirmBatch confirms resolved tickets whose reporter let the
// confirmation time pass; more is true when a full batch was done.
func (s *Service) autoConfirmBatch(ctx context.Context) (n int, more bool, err error) {
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		n = 0
		now := tx.NowMS()
		rows, err := tx.QueryContext(ctx, `SELECT id, tracking, area_code FROM tickets
			WHERE auto_confirm_at <= $1 AND status = 'resolved' ORDER BY auto_confirm_at, id LIMIT $2`, now, SweepBatch)
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
				return err
			}
			list = append(list, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		more = len(list) == SweepBatch
		for _, r := range list {
			res, err := tx.ExecContext(ctx, `UPDATE tickets SET status = 'confirmed', closed_at = $1, auto_confirm_at = NULL,
				version = version + 1, updated_at = $1 WHERE id = $2 AND status = 'resolved' AND auto_confirm_at <= $1`, now, r.id)
			if err != nil {
				return fmt.Errorf("ticket: auto-confirm: %w", err)
			}
			if k, _ := res.RowsAffected(); k != 1 {
				continue
			}
			n++
			if err := addEvent(ctx, tx, r.id, "system", "auto_confirmed", Resolved, Confirmed, "", "提出人未在时限内答复，自动确认办结"); err != nil {
				return err
			}
			if err := audit.Record(ctx, tx, audit.Entry{Actor: "system", Action: "ticket.auto_confirm", ObjectType: "ticket",
				ObjectID: r.tracking, AreaCode: r.area, Summary: "工单 " + r.tracking + " 超过确认时限，自动确认办结"}); err != nil {
				return err
			}
		}
		return nil
	})
	return n, more && n > 0, err
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
