package ticket

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"tongxin/internal/audit"
	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/notify"
)

// SweepBatch is how many tickets one sweeper transaction handles.
const SweepBatch = 500

// SweepPassLimit is the most tickets one pass escalates, and the most it
// confirms: a pass stays short however large the backlog (a city whose
// sweeper was stopped for a night may find 100,000 tickets due), and
// RunSweeper starts the next pass at once while tickets are left.
const SweepPassLimit = 2 * SweepBatch

// SweepResult counts what one pass did.
type SweepResult struct {
	Escalated     int `json:"escalated"`
	AutoConfirmed int `json:"auto_confirmed"`
	// More is true when the pass stopped at SweepPassLimit with tickets
	// still due: the next pass goes on.
	More bool `json:"more"`
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
// never escalate one ticket twice. A pass escalates at most SweepPassLimit
// tickets and confirms at most as many; More says when it stopped there.
func (s *Service) Sweep(ctx context.Context) (SweepResult, error) {
	var res SweepResult
	pass := &sweepPass{policies: map[string]Policy{}, holders: map[string][]int64{}}
	for res.Escalated < SweepPassLimit {
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
		res.More = res.Escalated >= SweepPassLimit
	}
	for res.AutoConfirmed < SweepPassLimit {
		n, more, err := s.autoConfirmBatch(ctx)
		res.AutoConfirmed += n
		if err != nil || !more {
			return res, err
		}
		res.More = res.More || res.AutoConfirmed >= SweepPassLimit
	}
	return res, nil
}

// SweepAll runs passes until nothing due is left (the demo's replay of
// past days, which must end where a running sweeper would have).
func (s *Service) SweepAll(ctx context.Context) (SweepResult, error) {
	var total SweepResult
	for {
		res, err := s.Sweep(ctx)
		total.Escalated += res.Escalated
		total.AutoConfirmed += res.AutoConfirmed
		if err != nil || !res.More {
			return total, err
		}
	}
}

// sweepPass caches what one pass looks up many times.
type sweepPass struct {
	policies map[string]Policy
	holders  map[string][]int64
}

// dueCandidates reads the tickets whose running deadline is past at now
// (listDue), in a read transaction of their own.
func (s *Service) dueCandidates(ctx context.Context, now int64) ([]candidate, error) {
	var out []candidate
	err := s.db.Read(ctx, func(tx *db.Tx) (err error) {
		out, err = listDue(ctx, tx, now)
		return err
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
		list, err := confirmDue(ctx, tx, now)
		if err != nil {
			return err
		}
		slices.SortFunc(list, func(a, b confirmed) int { return cmp.Compare(a.id, b.id) })
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

// RunSweeper sweeps every interval until ctx ends, and at once again
// after a pass that stopped at SweepPassLimit, so a backlog drains pass by
// short pass. Errors are logged and the next pass tries again.
func (s *Service) RunSweeper(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		res, err := s.Sweep(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			s.log.Error("ticket sweeper", "err", err)
		case res.Escalated > 0 || res.AutoConfirmed > 0:
			s.log.Info("ticket sweeper", "escalated", res.Escalated, "auto_confirmed", res.AutoConfirmed, "more", res.More)
		}
		if err == nil && res.More && ctx.Err() == nil {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
