package ticket

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"tongxin/internal/area"
	"tongxin/internal/audit"
	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/notify"
	"tongxin/internal/pii"
)

// Areas looks up areas and departments; area.Service satisfies it.
type Areas interface {
	Lookup(ctx context.Context, code string) (*area.Area, error)
	Department(ctx context.Context, code string) (*area.Department, error)
}

// Holders lists the users holding roles at a scope; auth.Service
// satisfies it.
type Holders interface {
	Holders(ctx context.Context, tx *db.Tx, kind auth.ScopeKind, ref string, roles ...auth.Role) ([]int64, error)
}

// Notifier delivers notifications inside a transaction; notify.Service
// satisfies it.
type Notifier interface {
	Send(ctx context.Context, tx *db.Tx, userIDs []int64, m notify.Message) error
}

// Enterprises resolves the enterprise a ticket is about: its name, area
// and the user ids of its liaisons. The resumption service satisfies it.
type Enterprises interface {
	EnterpriseSubject(ctx context.Context, key string) (name, areaCode string, liaisons []int64, err error)
}

// Service is the ticket use cases. Every method authorizes its caller,
// validates its input and runs in one transaction, audited.
type Service struct {
	db          *db.DB
	box         *pii.Box
	areas       Areas
	holders     Holders
	notifier    Notifier
	enterprises Enterprises
	dataDir     string
	clock       clock.Clock
	log         *slog.Logger
}

// Deps are the collaborators of the service.
type Deps struct {
	Box         *pii.Box // seals the address and the reporter's name and phone
	Areas       Areas
	Holders     Holders
	Notifier    Notifier
	Enterprises Enterprises // may be nil: tickets about enterprises are then refused
	DataDir     string      // photos are kept in DataDir/uploads/tickets
	Log         *slog.Logger
}

// NewService builds the service.
func NewService(d *db.DB, deps Deps) *Service {
	log := deps.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{db: d, box: deps.Box, areas: deps.Areas, holders: deps.Holders, notifier: deps.Notifier,
		enterprises: deps.Enterprises, dataDir: deps.DataDir, clock: d.Clock, log: log}
}

func (s *Service) send(ctx context.Context, tx *db.Tx, to []int64, m notify.Message) error {
	if s.notifier == nil {
		return nil
	}
	return s.notifier.Send(ctx, tx, to, m)
}

func link(id int64) string { return fmt.Sprintf("/tickets/%d", id) }

// without returns ids without x.
func without(ids []int64, x int64) []int64 {
	out := ids[:0:0]
	for _, id := range ids {
		if id != x {
			out = append(out, id)
		}
	}
	return out
}

// clip shortens s to n runes with an ellipsis.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// canRead reports whether p may read t.
func canRead(ctx context.Context, tx *db.Tx, p *auth.Principal, t *Ticket) (bool, error) {
	if p == nil {
		return false, nil
	}
	if visibilityFor(p, auth.TicketRead).covers(t) || visibilityFor(p, auth.TicketHandle).covers(t) {
		return true, nil
	}
	if !p.Can(auth.TicketFile) && !p.Can(auth.TicketRead) {
		return false, nil
	}
	return isWatcher(ctx, tx, t.ID, p.UserID)
}

// canHandle reports whether p may work on t: an officer over its area, an
// officer of its department.
func canHandle(p *auth.Principal, t *Ticket) bool {
	return visibilityFor(p, auth.TicketHandle).covers(t)
}

// readable loads ref for p: Forbidden without any ticket permission,
// NotFound when it is out of reach.
func (s *Service) readable(ctx context.Context, tx *db.Tx, p *auth.Principal, ref, op string) (*Ticket, error) {
	if p == nil {
		return nil, auth.Require(p, auth.TicketRead, op)
	}
	if !p.Can(auth.TicketRead) && !p.Can(auth.TicketFile) && !p.Can(auth.TicketHandle) {
		return nil, auth.ErrForbidden(op)
	}
	t, err := loadTicket(ctx, tx, s.box, ref)
	if err != nil {
		return nil, err
	}
	ok, err := canRead(ctx, tx, p, t)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errNotFound()
	}
	return t, nil
}

// RevealPhone returns a ticket's reporter phone in full to a caller with
// pii.reveal over the ticket (see MayRevealPhone) who gives a reason, and
// audits it: 403 without pii.reveal, 404 out of reach, 403 not_handler
// when the caller reads the ticket but does not handle it with pii.reveal.
func (s *Service) RevealPhone(ctx context.Context, p *auth.Principal, ref, reason string) (string, error) {
	const op = "ticket.RevealPhone"
	if err := auth.Require(p, auth.PIIReveal, op); err != nil {
		return "", err
	}
	reason = strings.TrimSpace(reason)
	if msg := errs.CheckText(reason, 200, true); msg != "" {
		return "", errs.Fields("reason_required", "查看完整号码须填写事由", errs.FieldError{Field: "reason", Message: msg})
	}
	var phone string
	err := s.db.Write(ctx, func(tx *db.Tx) error {
		t, err := s.readable(ctx, tx, p, ref, op)
		if err != nil {
			return err
		}
		if !MayRevealPhone(p, t) {
			return errs.E(errs.Forbidden, "not_handler", "只有办理人可以查看完整号码")
		}
		if t.phone == "" {
			return errs.E(errs.NotFound, "no_phone", "该工单没有登记电话")
		}
		phone = t.phone
		return audit.Record(ctx, tx, audit.Entry{ActorID: p.UserID, Actor: p.Actor(), Action: "ticket.reveal_phone",
			ObjectType: "ticket", ObjectID: t.Tracking, AreaCode: t.AreaCode,
			Summary: fmt.Sprintf("查看工单 %s 提出人电话 %s，事由：%s", t.Tracking, pii.MaskPhone(t.phone), clip(reason, 80))})
	})
	if err != nil {
		return "", errs.Wrap(op, err)
	}
	return phone, nil
}

// MayRevealPhone reports whether p may see t's reporter phone in full:
// one assignment of p both handles t (its area's subtree, or the
// department it is routed to) and grants pii.reveal. A department's
// pii.reveal thus reaches the tickets routed to it, never its area.
func MayRevealPhone(p *auth.Principal, t *Ticket) bool {
	if p.IsSystem() {
		return true
	}
	if p == nil {
		return false
	}
	q := &auth.Principal{UserID: p.UserID, Username: p.Username}
	for _, a := range p.Assignments {
		if a.Grants(auth.PIIReveal) {
			q.Assignments = append(q.Assignments, a)
		}
	}
	return canHandle(q, t)
}

// CanHandle reports whether p may work on t (assign, resolve, reject,
// merge): an officer over its area, an officer of its department.
func CanHandle(p *auth.Principal, t *Ticket) bool { return canHandle(p, t) }

// IsReporter reports whether p filed t.
func IsReporter(p *auth.Principal, t *Ticket) bool {
	return p != nil && p.UserID != 0 && t.reporterID == p.UserID
}

// Actions lists the statuses p may move t to now, in lifecycle order: what
// a page offers as buttons.
func Actions(p *auth.Principal, t *Ticket) []Status {
	var out []Status
	handler, reporter := canHandle(p, t), IsReporter(p, t)
	for _, to := range Statuses {
		if !CanTransition(t.Status, to) {
			continue
		}
		switch {
		case to == Confirmed && reporter:
		case to == Reopened && (reporter || handler):
		case to != Confirmed && to != Reopened && handler:
		default:
			continue
		}
		out = append(out, to)
	}
	return out
}

// Now is the service's clock, for pages that show time left.
func (s *Service) Now() time.Time { return s.clock.Now() }

// Summary is the description shortened to n characters, for lists.
func (t *Ticket) Summary(n int) string { return clip(t.Description, n) }

// placeNames are the names of the areas t's escalations went through and
// of the departments its timeline assigned it to, read at once for its
// page; a code without a name (a deleted area) is left out.
func (s *Service) placeNames(ctx context.Context, t *Ticket) (areas, depts map[string]string, err error) {
	var areaCodes, deptCodes []string
	for _, e := range t.Escalations {
		areaCodes = appendNew(areaCodes, e.FromArea, e.ToArea)
	}
	for _, e := range t.Events {
		if e.Kind == "transition" && e.ToStatus == Assigned && e.Department != "" {
			deptCodes = appendNew(deptCodes, e.Department)
		}
	}
	err = s.db.Read(ctx, func(tx *db.Tx) (err error) {
		areas, depts, err = placeNames(ctx, tx, areaCodes, deptCodes)
		return err
	})
	if err != nil {
		return nil, nil, errs.Wrap("ticket.placeNames", err)
	}
	return areas, depts, nil
}

// appendNew appends those of vals that list does not hold yet.
func appendNew(list []string, vals ...string) []string {
	for _, v := range vals {
		if !slices.Contains(list, v) {
			list = append(list, v)
		}
	}
	return list
}
