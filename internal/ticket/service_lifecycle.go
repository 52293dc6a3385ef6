package ticket

import (
	"context"
	"fmt"
	"strings"
	"time"

	"tongxin/internal/area"
	"tongxin/internal/audit"
	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/notify"
)

// TransitionInput moves a ticket: {"to":"assigned","department":"gxj","note":"…"}.
// Version, when set, must be the ticket's current version (optimistic
// locking for forms).
type TransitionInput struct {
	To         Status `json:"to"`
	Department string `json:"department"`
	Note       string `json:"note"`
	Version    int    `json:"version"`
}

// Transition moves a ticket along its lifecycle. Handlers (officers over
// its area, officers of its department) assign, work on, resolve and
// reject; the reporter confirms or reopens a resolved ticket.
func (s *Service) Transition(ctx context.Context, p *auth.Principal, ref string, in TransitionInput) (*Ticket, error) {
	const op = "ticket.Transition"
	in.Note = strings.TrimSpace(in.Note)
	in.Department = strings.TrimSpace(in.Department)
	if err := checkTransition(in); err != nil {
		return nil, err
	}
	dept, err := s.assignee(ctx, in)
	if err != nil {
		return nil, err
	}
	var out *Ticket
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		t, err := s.readable(ctx, tx, p, ref, op)
		if err != nil {
			return err
		}
		if err := mayTransition(p, t, in, op); err != nil {
			return err
		}
		if err := s.apply(ctx, tx, p, t, in, dept); err != nil {
			return err
		}
		out, err = loadTicket(ctx, tx, s.box, fmt.Sprint(t.ID))
		return err
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return out, nil
}

// checkTransition checks the target status and the note it needs.
func checkTransition(in TransitionInput) error {
	if _, ok := ParseStatus(string(in.To)); !ok {
		return errs.Fields("bad_transition", "目标状态无效", errs.FieldError{Field: "to", Message: "未知状态 " + string(in.To)})
	}
	if msg := errs.CheckText(in.Note, MaxNoteLen, in.To == Rejected || in.To == Reopened || in.To == Resolved); msg != "" {
		what := "说明"
		switch in.To {
		case Rejected:
			what = "退回理由"
		case Reopened:
			what = "重启理由"
		case Resolved:
			what = "办理结果"
		}
		return errs.Fields("note_required", "请填写"+what, errs.FieldError{Field: "note", Message: what + msg})
	}
	return nil
}

// assignee is the department an assignment names; no other transition
// names one.
func (s *Service) assignee(ctx context.Context, in TransitionInput) (*area.Department, error) {
	if in.To != Assigned {
		if in.Department != "" {
			return nil, errs.Fields("bad_transition", "只有分派时才选择部门", errs.FieldError{Field: "department", Message: "只有分派时才填写"})
		}
		return nil, nil
	}
	if in.Department == "" {
		return nil, errs.Fields("department_required", "请选择承办部门", errs.FieldError{Field: "department", Message: "必填"})
	}
	d, err := s.areas.Department(ctx, in.Department)
	if err != nil {
		if errs.Is(err, errs.NotFound) {
			return nil, errs.Fields("department_not_found", "部门不存在", errs.FieldError{Field: "department", Message: "部门 " + in.Department + " 不存在"})
		}
		return nil, errs.Wrap("ticket.Transition", err)
	}
	return d, nil
}

// mayTransition checks p may move t as in asks, from t's current version
// and status.
func mayTransition(p *auth.Principal, t *Ticket, in TransitionInput, op string) error {
	if in.Version != 0 && in.Version != t.Version {
		return errStale()
	}
	switch {
	case in.To == Confirmed && !IsReporter(p, t):
		return errs.E(errs.Forbidden, "not_reporter", "只有提出人可以确认办结")
	case in.To == Reopened && !IsReporter(p, t) && !canHandle(p, t):
		return errs.E(errs.Forbidden, "not_reporter", "只有提出人或办理人可以重启此工单")
	case in.To != Confirmed && in.To != Reopened && !canHandle(p, t):
		if p.Can(auth.TicketHandle) {
			return errs.E(errs.Forbidden, "not_handler", "此工单不由您的区划或部门办理")
		}
		return auth.ErrForbidden(op)
	}
	if !CanTransition(t.Status, in.To) {
		return errBadTransition(t.Status, in.To)
	}
	return nil
}

func errStale() *errs.Error {
	return errs.E(errs.Conflict, "stale_ticket", "工单已被他人更新，请刷新后重试")
}

// apply writes a checked transition.
func (s *Service) apply(ctx context.Context, tx *db.Tx, p *auth.Principal, t *Ticket, in TransitionInput, dept *area.Department) error {
	m, err := s.moveTo(ctx, tx, t, in.To, dept)
	if err != nil {
		return err
	}
	ok, err := updateTransition(ctx, tx, t, m)
	if err != nil {
		return err
	}
	if !ok {
		return errStale()
	}
	evDept := ""
	if in.To == Assigned {
		evDept = dept.Code
	}
	if err := addEvent(ctx, tx, t.ID, p.Actor(), "transition", t.Status, in.To, evDept, in.Note); err != nil {
		return err
	}
	summary := fmt.Sprintf("工单 %s：%s → %s", t.Tracking, StatusNames[t.Status], StatusNames[in.To])
	if in.To == Assigned {
		summary += "，承办部门 " + dept.Name
	}
	if in.Note != "" {
		summary += "，说明：" + clip(in.Note, 80)
	}
	if err := audit.Record(ctx, tx, audit.Entry{ActorID: p.UserID, Actor: p.Actor(), Action: "ticket.transition",
		ObjectType: "ticket", ObjectID: t.Tracking, AreaCode: t.AreaCode, Summary: summary}); err != nil {
		return err
	}
	return s.notifyTransition(ctx, tx, p, t, in.To, dept, in.Note)
}

// moveTo is t's row once moved to status to: its department, the times
// of its answer, resolution and closing, and its deadlines.
func (s *Service) moveTo(ctx context.Context, tx *db.Tx, t *Ticket, to Status, dept *area.Department) (*moved, error) {
	now := tx.NowMS()
	m := &moved{status: to, deptName: t.DepartmentName,
		respondBy: t.RespondBy.UnixMilli(), resolveBy: t.ResolveBy.UnixMilli(),
		respondFrom: t.RespondFrom.UnixMilli(), resolveFrom: t.ResolveFrom.UnixMilli()}
	if t.RespondedAt != nil {
		m.responded = t.RespondedAt.UnixMilli()
	}
	if t.Department != "" {
		m.deptCode = t.Department
	}
	switch to {
	case Assigned:
		m.deptCode, m.deptName = dept.Code, dept.Name
	case InProgress:
		m.answer(now)
	case Resolved:
		m.answer(now)
		m.resolved = now
		cat, err := s.categoryTx(ctx, tx, t.Category)
		if err != nil {
			return nil, err
		}
		m.autoConfirm = tx.Now.Add(time.Duration(cat.ConfirmAfter)).UnixMilli()
	case Rejected:
		m.answer(now)
		m.closed = now
	case Confirmed:
		if t.ResolvedAt != nil {
			m.resolved = t.ResolvedAt.UnixMilli()
		}
		m.closed = now
	case Reopened:
		// A reopened ticket runs again against fresh deadlines.
		pol, err := policyOf(ctx, tx, t.Category, t.Urgency)
		if err != nil {
			return nil, err
		}
		m.resolveBy, m.resolveFrom = pol.ResolveBy.Due(tx.Now).UnixMilli(), now
		if m.responded == nil {
			m.respondBy, m.respondFrom = pol.RespondBy.Due(tx.Now).UnixMilli(), now
		}
	}
	return m, nil
}

// answer records the first answer at now, unless there was one.
func (m *moved) answer(now int64) {
	if m.responded == nil {
		m.responded = now
	}
}

// notifyTransition tells the people concerned: the new department on
// assignment, the reporter and watchers when the ticket is resolved or
// rejected, the handlers when the reporter reopens it.
func (s *Service) notifyTransition(ctx context.Context, tx *db.Tx, p *auth.Principal, t *Ticket, to Status, dept *area.Department, note string) error {
	var ids []int64
	var err error
	event := "ticket." + string(to)
	title := fmt.Sprintf("工单 %s %s", t.Tracking, StatusNames[to])
	switch to {
	case Assigned:
		ids, err = s.holders.Holders(ctx, tx, auth.ScopeDepartment, dept.Code, auth.DepartmentOfficer)
		title = fmt.Sprintf("工单 %s 分派至 %s", t.Tracking, dept.Name)
	case Resolved, Rejected, Confirmed:
		ids, err = watchers(ctx, tx, t.ID)
		if t.reporterID != 0 {
			ids = append(ids, t.reporterID)
		}
	case Reopened:
		ids, err = s.handlerIDs(ctx, tx, t)
	default:
		return nil
	}
	if err != nil {
		return err
	}
	body := t.CategoryName + " · " + t.AreaName + "\n" + clip(t.Description, 80)
	if note != "" {
		body += "\n说明：" + clip(note, 120)
	}
	return s.send(ctx, tx, without(ids, p.UserID), notify.Message{Event: event, Title: title, Body: body,
		Link: link(t.ID), ObjectType: "ticket", ObjectID: t.Tracking, AreaPath: t.AreaPath})
}

// handlerIDs are the officers of t's department, or of the area now
// holding it.
func (s *Service) handlerIDs(ctx context.Context, tx *db.Tx, t *Ticket) ([]int64, error) {
	if t.Department != "" {
		return s.holders.Holders(ctx, tx, auth.ScopeDepartment, t.Department, auth.DepartmentOfficer)
	}
	return s.holders.Holders(ctx, tx, auth.ScopeArea, t.HolderArea, areaOfficerRoles...)
}

// CommentInput is a comment on a ticket.
type CommentInput struct {
	Note string `json:"note"`
}

// Comment adds a comment to the timeline of a ticket p may read; the
// reporter, watchers and handlers hear of it.
func (s *Service) Comment(ctx context.Context, p *auth.Principal, ref string, in CommentInput) (*Event, error) {
	const op = "ticket.Comment"
	in.Note = strings.TrimSpace(in.Note)
	if msg := errs.CheckText(in.Note, MaxNoteLen, true); msg != "" {
		return nil, errs.Fields("invalid_comment", "请填写意见", errs.FieldError{Field: "note", Message: msg})
	}
	var out *Event
	err := s.db.Write(ctx, func(tx *db.Tx) error {
		t, err := s.readable(ctx, tx, p, ref, op)
		if err != nil {
			return err
		}
		if t.Status == Merged {
			return errs.Newf(errs.Conflict, "ticket_merged", "工单已合并到 %s，请在该工单上留言", t.MergedInto)
		}
		out, err = s.comment(ctx, tx, p, t, in.Note)
		return err
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return out, nil
}

// comment writes a comment on t, audits it, tells the people concerned
// and returns its timeline entry.
func (s *Service) comment(ctx context.Context, tx *db.Tx, p *auth.Principal, t *Ticket, note string) (*Event, error) {
	if err := addEvent(ctx, tx, t.ID, p.Actor(), "comment", "", "", "", note); err != nil {
		return nil, err
	}
	if err := touchTicket(ctx, tx, t.ID); err != nil {
		return nil, fmt.Errorf("ticket: comment: %w", err)
	}
	if err := audit.Record(ctx, tx, audit.Entry{ActorID: p.UserID, Actor: p.Actor(), Action: "ticket.comment",
		ObjectType: "ticket", ObjectID: t.Tracking, AreaCode: t.AreaCode, Summary: "工单 " + t.Tracking + " 留言：" + clip(note, 80)}); err != nil {
		return nil, err
	}
	ids, err := s.handlerIDs(ctx, tx, t)
	if err != nil {
		return nil, err
	}
	w, err := watchers(ctx, tx, t.ID)
	if err != nil {
		return nil, err
	}
	ids = append(ids, w...)
	if t.reporterID != 0 {
		ids = append(ids, t.reporterID)
	}
	if err := s.send(ctx, tx, without(ids, p.UserID), notify.Message{Event: "ticket.comment",
		Title: "工单 " + t.Tracking + " 有新留言", Body: p.DisplayName + "：" + clip(note, 120),
		Link: link(t.ID), ObjectType: "ticket", ObjectID: t.Tracking, AreaPath: t.AreaPath}); err != nil {
		return nil, err
	}
	evs, err := loadEvents(ctx, tx, t.ID)
	if err != nil {
		return nil, err
	}
	return &evs[len(evs)-1], nil
}
