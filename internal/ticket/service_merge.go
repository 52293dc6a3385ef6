package ticket

import (
	"context"
	"fmt"
	"strings"

	"tongxin/internal/audit"
	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/notify"
)

// MergeInput names the ticket a duplicate is merged into.
type MergeInput struct {
	Into string `json:"into"`
	Note string `json:"note"`
}

// Merge closes the duplicate ref into another open ticket: the duplicate
// becomes "merged", its reporter and watchers follow the kept ticket, and
// both timelines record it. The caller must handle both.
func (s *Service) Merge(ctx context.Context, p *auth.Principal, ref string, in MergeInput) (*Ticket, error) {
	const op = "ticket.Merge"
	if err := auth.Require(p, auth.TicketHandle, op); err != nil {
		return nil, err
	}
	in.Note = strings.TrimSpace(in.Note)
	if msg := errs.CheckText(in.Note, MaxNoteLen, false); msg != "" {
		return nil, errs.Fields("invalid_merge", "说明有误", errs.FieldError{Field: "note", Message: msg})
	}
	if strings.TrimSpace(in.Into) == "" {
		return nil, errs.Fields("invalid_merge", "请填写保留的工单", errs.FieldError{Field: "into", Message: "必填"})
	}
	var out *Ticket
	err := s.db.Write(ctx, func(tx *db.Tx) error {
		dup, keep, err := s.mergePair(ctx, tx, p, ref, in.Into, op)
		if err != nil {
			return err
		}
		if err := s.merge(ctx, tx, p, dup, keep, in.Note); err != nil {
			return err
		}
		out, err = loadTicket(ctx, tx, s.box, fmt.Sprint(dup.ID))
		return err
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return out, nil
}

// mergePair loads the duplicate ref and the ticket into, which p must
// both handle and which must both be open.
func (s *Service) mergePair(ctx context.Context, tx *db.Tx, p *auth.Principal, ref, into, op string) (dup, keep *Ticket, err error) {
	if dup, err = s.readable(ctx, tx, p, ref, op); err != nil {
		return nil, nil, err
	}
	if keep, err = s.readable(ctx, tx, p, into, op); err != nil {
		if errs.Is(err, errs.NotFound) {
			return nil, nil, errs.Fields("invalid_merge", "保留的工单不存在", errs.FieldError{Field: "into", Message: "工单不存在"})
		}
		return nil, nil, err
	}
	if !canHandle(p, dup) || !canHandle(p, keep) {
		return nil, nil, errs.E(errs.Forbidden, "not_handler", "只有两张工单的办理人才能合并")
	}
	switch {
	case dup.ID == keep.ID:
		return nil, nil, errs.Fields("invalid_merge", "不能合并到自身", errs.FieldError{Field: "into", Message: "不能是同一张工单"})
	case !dup.Status.Open():
		return nil, nil, errs.Newf(errs.Conflict, "bad_transition", "工单当前为「%s」，不能合并", StatusNames[dup.Status])
	case !keep.Status.Open():
		return nil, nil, errs.Newf(errs.Conflict, "bad_transition", "保留的工单 %s 当前为「%s」，不能再并入工单", keep.Tracking, StatusNames[keep.Status])
	}
	return dup, keep, nil
}

// merge writes a checked merge of dup into keep: the duplicate closed, its
// watchers and reporter following keep, both timelines, the audit and the
// reporter's notice.
func (s *Service) merge(ctx context.Context, tx *db.Tx, p *auth.Principal, dup, keep *Ticket, note string) error {
	ok, err := markMerged(ctx, tx, dup, keep.ID)
	if err != nil {
		return err
	}
	if !ok {
		return errStale()
	}
	if err := copyWatchers(ctx, tx, dup.ID, keep.ID); err != nil {
		return fmt.Errorf("ticket: merge watchers: %w", err)
	}
	if dup.reporterID != 0 && dup.reporterID != keep.reporterID {
		if err := addWatcher(ctx, tx, keep.ID, dup.reporterID); err != nil {
			return fmt.Errorf("ticket: merge watchers: %w", err)
		}
	}
	if err := touchTicket(ctx, tx, keep.ID); err != nil {
		return fmt.Errorf("ticket: merge: %w", err)
	}
	if err := addEvent(ctx, tx, dup.ID, p.Actor(), "merged", dup.Status, Merged, "", joinNote("合并到 "+keep.Tracking, note)); err != nil {
		return err
	}
	if err := addEvent(ctx, tx, keep.ID, p.Actor(), "merged_from", "", "", "", joinNote("并入重复工单 "+dup.Tracking, note)); err != nil {
		return err
	}
	if err := audit.Record(ctx, tx, audit.Entry{ActorID: p.UserID, Actor: p.Actor(), Action: "ticket.merge",
		ObjectType: "ticket", ObjectID: dup.Tracking, AreaCode: dup.AreaCode,
		Summary: fmt.Sprintf("工单 %s 作为重复件合并到 %s", dup.Tracking, keep.Tracking)}); err != nil {
		return err
	}
	var to []int64
	if dup.reporterID != 0 {
		to = append(to, dup.reporterID)
	}
	return s.send(ctx, tx, without(to, p.UserID), notify.Message{Event: "ticket.merged",
		Title: fmt.Sprintf("工单 %s 已合并到 %s", dup.Tracking, keep.Tracking), Body: "同一诉求将在 " + keep.Tracking + " 中办理。",
		Link: link(keep.ID), ObjectType: "ticket", ObjectID: dup.Tracking, AreaPath: dup.AreaPath})
}

func joinNote(a, b string) string {
	if b == "" {
		return a
	}
	return a + "：" + b
}
