package ticket

import (
	"context"
	"database/sql"
	"errors"
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
	Areas       Areas
	Holders     Holders
	Notifier    Notifier
	Enterprises Enterprises // may be nil: tickets about enterprises are then refused
	DataDir     string      // photos are kept in DataDir/uploads/tickets
	Log         *slog.Logger
}

// NewService builds the service.
func NewService(d *db.DB, box *pii.Box, deps Deps) *Service {
	log := deps.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{db: d, box: box, areas: deps.Areas, holders: deps.Holders, notifier: deps.Notifier,
		enterprises: deps.Enterprises, dataDir: deps.DataDir, clock: d.Clock, log: log}
}

// Input is a ticket as filed. The subject is an enterprise (Enterprise, a
// credit code or project code) or an address (Address) in an area
// (AreaCode); an enterprise's area is its own unless AreaCode is given.
type Input struct {
	Kind          Kind        `json:"kind"`
	Category      string      `json:"category"`
	Urgency       Urgency     `json:"urgency"`
	Channel       Channel     `json:"channel"`
	SubjectKind   SubjectKind `json:"subject_kind"`
	Enterprise    string      `json:"enterprise"`
	AreaCode      string      `json:"area_code"`
	Address       string      `json:"address"`
	Description   string      `json:"description"`
	ReporterName  string      `json:"reporter_name"`
	ReporterPhone string      `json:"reporter_phone"`
}

// areaOfficerRoles are the roles notified at a level of the ladder.
var areaOfficerRoles = []auth.Role{auth.HQCommander, auth.HQStaff, auth.DistrictOfficer, auth.StreetOfficer, auth.CommunityWorker}

// filing is a validated Input.
type filing struct {
	in          Input
	category    Category
	area        *area.Area
	entName     string
	liaisons    []int64
	phone       string // normalized
	subjectKey  string
	reporterID  int64
	createdBy   string
	publicActor bool
}

// validate checks in and resolves its category, area and enterprise.
func (s *Service) validate(ctx context.Context, in Input) (*filing, error) {
	f := &filing{in: in}
	in.Description = strings.TrimSpace(in.Description)
	in.Address = strings.TrimSpace(in.Address)
	in.ReporterName = strings.TrimSpace(in.ReporterName)
	in.Enterprise = strings.TrimSpace(in.Enterprise)
	var fields []errs.FieldError
	bad := func(field, msg string) { fields = append(fields, errs.FieldError{Field: field, Message: msg}) }
	if in.Urgency == "" {
		in.Urgency = Normal
	}
	if in.Channel == "" {
		in.Channel = ChannelWeb
	}
	if in.Kind == "" {
		in.Kind = ResidentHelp
		if in.Enterprise != "" {
			in.Kind = EnterpriseProblem
		}
	}
	if !slices.Contains(Kinds, in.Kind) {
		bad("kind", "须为 enterprise_problem、resident_help 或 other")
	}
	if !slices.Contains(Urgencies, in.Urgency) {
		bad("urgency", "须为 normal、urgent 或 critical")
	}
	if !slices.Contains(Channels, in.Channel) {
		bad("channel", "须为 web、hotline_12345、phone、wechat、liaison 或 walk_in")
	}
	if msg := errs.CheckText(in.Description, MaxDescriptionLen, true); msg != "" {
		bad("description", msg)
	}
	if msg := errs.CheckText(in.Address, MaxAddressLen, false); msg != "" {
		bad("address", msg)
	}
	if msg := errs.CheckText(in.ReporterName, MaxNameLen, false); msg != "" {
		bad("reporter_name", msg)
	}
	if strings.TrimSpace(in.ReporterPhone) != "" {
		p, err := pii.NormalizePhone(in.ReporterPhone)
		if err != nil {
			bad("reporter_phone", err.Error())
		}
		f.phone = p
	} else if in.Channel == ChannelHotline || in.Channel == ChannelPhone {
		bad("reporter_phone", "电话来件须登记来电号码")
	}
	cat, err := s.category(ctx, strings.TrimSpace(in.Category))
	switch {
	case err != nil && errs.Is(err, errs.NotFound):
		bad("category", "未知类别")
	case err != nil:
		return nil, err
	case !cat.Active:
		bad("category", "该类别已停用")
	}
	f.category = cat
	switch in.SubjectKind {
	case "":
		switch {
		case in.Enterprise != "":
			in.SubjectKind = SubjectEnterprise
		case in.Kind == ResidentHelp:
			in.SubjectKind = SubjectHousehold
		default:
			in.SubjectKind = SubjectAddress
		}
	case SubjectEnterprise, SubjectHousehold, SubjectAddress:
	default:
		bad("subject_kind", "须为 enterprise、household 或 address")
	}
	areaCode := strings.TrimSpace(in.AreaCode)
	if in.SubjectKind == SubjectEnterprise {
		if in.Enterprise == "" {
			bad("enterprise", "请填写企业的统一社会信用代码或项目编码")
		} else if s.enterprises == nil {
			bad("enterprise", "未接入企业名录")
		} else {
			key := in.Enterprise
			if c, err := pii.NormalizeCreditCode(key); err == nil {
				key = c
			}
			name, code, liaisons, err := s.enterprises.EnterpriseSubject(ctx, key)
			switch {
			case errs.Is(err, errs.NotFound):
				bad("enterprise", "企业不存在")
			case err != nil:
				return nil, err
			default:
				in.Enterprise, f.entName, f.liaisons = key, name, liaisons
				if areaCode == "" {
					areaCode = code
				}
			}
		}
	} else if in.Enterprise != "" {
		bad("enterprise", "只有关于企业的工单才填写企业")
	}
	if areaCode == "" {
		if in.SubjectKind != SubjectEnterprise {
			bad("area_code", "请选择所在区划（社区）")
		}
	} else {
		a, err := s.areas.Lookup(ctx, areaCode)
		switch {
		case errs.Is(err, errs.NotFound):
			bad("area_code", "区划不存在")
		case err != nil:
			return nil, err
		default:
			f.area = a
		}
	}
	if in.SubjectKind == SubjectAddress && in.Address == "" {
		bad("address", "请填写地址")
	}
	if len(fields) > 0 {
		return nil, errs.Fields("invalid_ticket", "工单内容有误", fields...)
	}
	switch {
	case in.SubjectKind == SubjectEnterprise:
		f.subjectKey = "ent:" + in.Enterprise
	case in.Address != "":
		f.subjectKey = "addr:" + s.box.Index("ticket_address", f.area.Code+"|"+normalizeAddress(in.Address))
	case f.phone != "":
		f.subjectKey = "phone:" + s.box.Index("phone", f.phone)
	}
	f.in = in
	return f, nil
}

// normalizeAddress folds spacing and full-width forms so that the same
// address typed twice finds its duplicate.
func normalizeAddress(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '！' && r <= '～':
			r -= 0xFEE0
		case r == '　' || r == ' ' || r == '\t':
			continue
		}
		b.WriteRune(r)
	}
	return strings.ToLower(b.String())
}

// FilesForAnyone reports whether p may file tickets about anything (a
// caller on the hotline, a resident's address): TicketFile from a role
// other than enterprise contact, who files only about their own
// enterprise.
func FilesForAnyone(p *auth.Principal) bool {
	if p.IsSystem() {
		return true
	}
	for _, a := range p.Assignments {
		if a.Role != auth.EnterpriseContact && auth.RoleHas(a.Role, auth.TicketFile) {
			return true
		}
	}
	return false
}

// canFileAbout checks an enterprise contact files only about their own
// enterprises; other filers may file about anything.
func canFileAbout(p *auth.Principal, in Input) error {
	if FilesForAnyone(p) {
		return nil
	}
	if in.SubjectKind != SubjectEnterprise || !slices.Contains(p.Refs(auth.EnterpriseContact), in.Enterprise) {
		return errs.Fields("invalid_ticket", "企业联系人只能反映本企业的问题",
			errs.FieldError{Field: "enterprise", Message: "只能是本企业"})
	}
	return nil
}

// Create files a ticket: it is numbered, timed by its category's policy,
// routed to a department by the most specific rule (or left with the
// area's own office), and the people concerned are notified.
func (s *Service) Create(ctx context.Context, p *auth.Principal, in Input) (*Ticket, error) {
	const op = "ticket.Create"
	if err := auth.Require(p, auth.TicketFile, op); err != nil {
		return nil, err
	}
	f, err := s.validate(ctx, in)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	if err := canFileAbout(p, f.in); err != nil {
		return nil, errs.Wrap(op, err)
	}
	if !p.IsSystem() {
		f.reporterID = p.UserID
		if f.in.ReporterName == "" {
			f.in.ReporterName = p.DisplayName
		}
	}
	f.createdBy = p.Actor()
	var out *Ticket
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		id, err := s.insert(ctx, tx, f)
		if err != nil {
			return err
		}
		out, err = loadTicket(ctx, tx, s.box, fmt.Sprint(id))
		return err
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return out, nil
}

// insert writes a validated ticket with its routing, first events, audit
// and notifications, and returns its id.
func (s *Service) insert(ctx context.Context, tx *db.Tx, f *filing) (int64, error) {
	now := tx.Now
	pol, err := policyOf(ctx, tx, f.category.Code, f.in.Urgency)
	if err != nil {
		return 0, err
	}
	respondBy, resolveBy := pol.RespondBy.Due(now).UnixMilli(), pol.ResolveBy.Due(now).UnixMilli()
	tracking, err := nextTracking(ctx, tx)
	if err != nil {
		return 0, err
	}
	dept, err := route(ctx, tx, f.category.Code, f.area.Path)
	if err != nil {
		return 0, err
	}
	status := New
	var deptCode any
	if dept.Code != "" {
		status, deptCode = Assigned, dept.Code
	}
	var addrEnc, nameEnc, phoneEnc []byte
	var phoneIdx any
	if f.in.Address != "" {
		if addrEnc, err = s.box.Seal(f.in.Address); err != nil {
			return 0, err
		}
	}
	if f.in.ReporterName != "" {
		if nameEnc, err = s.box.Seal(f.in.ReporterName); err != nil {
			return 0, err
		}
	}
	if f.phone != "" {
		if phoneEnc, err = s.box.Seal(f.phone); err != nil {
			return 0, err
		}
		phoneIdx = s.box.Index("phone", f.phone)
	}
	var reporter any
	if f.reporterID != 0 {
		reporter = f.reporterID
	}
	var id int64
	err = tx.QueryRowContext(ctx, `INSERT INTO tickets (tracking, kind, category, urgency, channel, status, subject_kind,
		enterprise_key, enterprise_name, address_enc, subject_key, area_code, area_name, area_path, description,
		reporter_id, reporter_name_enc, reporter_phone_enc, reporter_phone_idx, department_code, department_name,
		holder_code, holder_depth, respond_by, resolve_by, due_at, created_at, created_by, updated_at, respond_from, resolve_from)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21,
		$22, $23, $24, $25, $26, $27, $28, $27, $27, $27) RETURNING id`,
		tracking, string(f.in.Kind), f.category.Code, string(f.in.Urgency), string(f.in.Channel), string(status),
		string(f.in.SubjectKind), f.in.Enterprise, f.entName, addrEnc, f.subjectKey, f.area.Code, f.area.Name, f.area.Path,
		f.in.Description, reporter, nameEnc, phoneEnc, phoneIdx, deptCode, dept.Name,
		f.area.Code, f.area.Depth, respondBy, resolveBy, dueAt(status, false, respondBy, resolveBy), now.UnixMilli(), f.createdBy,
	).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("ticket: insert: %w", err)
	}
	if err := addEvent(ctx, tx, id, f.createdBy, "filed", "", New, "", ""); err != nil {
		return 0, err
	}
	if dept.Code != "" {
		if err := addEvent(ctx, tx, id, "system", "routed", New, Assigned, dept.Code, "按分派规则交 "+dept.Name+" 办理"); err != nil {
			return 0, err
		}
	}
	for _, uid := range f.liaisons {
		if _, err := tx.ExecContext(ctx, `INSERT INTO ticket_watchers (ticket_id, user_id) VALUES ($1, $2)
			ON CONFLICT (ticket_id, user_id) DO NOTHING`, id, uid); err != nil {
			return 0, fmt.Errorf("ticket: watcher: %w", err)
		}
	}
	summary := fmt.Sprintf("受理工单 %s：%s，%s，%s", tracking, f.category.Name, UrgencyNames[f.in.Urgency], f.area.Name)
	if f.entName != "" {
		summary += "，" + f.entName
	}
	if dept.Code != "" {
		summary += "，分派 " + dept.Name
	}
	actorID := f.reporterID
	if err := audit.Record(ctx, tx, audit.Entry{ActorID: actorID, Actor: f.createdBy, Action: "ticket.create",
		ObjectType: "ticket", ObjectID: tracking, AreaCode: f.area.Code, Summary: summary}); err != nil {
		return 0, err
	}
	// Notify who must act (the department, or the area's own office) and
	// the enterprise's liaisons.
	var to []int64
	if dept.Code != "" {
		to, err = s.holders.Holders(ctx, tx, auth.ScopeDepartment, dept.Code, auth.DepartmentOfficer)
	} else {
		to, err = s.holders.Holders(ctx, tx, auth.ScopeArea, f.area.Code, areaOfficerRoles...)
	}
	if err != nil {
		return 0, err
	}
	to = append(to, f.liaisons...)
	body := fmt.Sprintf("%s · %s · %s\n%s", f.category.Name, UrgencyNames[f.in.Urgency], f.area.Name, clip(f.in.Description, 120))
	if f.entName != "" {
		body = f.entName + " · " + body
	}
	return id, s.send(ctx, tx, without(to, f.reporterID), notify.Message{Event: "ticket.created",
		Title: "新工单 " + tracking, Body: body, Link: link(id), ObjectType: "ticket", ObjectID: tracking, AreaPath: f.area.Path})
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

// Get returns a ticket with its timeline, photos and possible duplicates.
func (s *Service) Get(ctx context.Context, p *auth.Principal, ref string) (*Ticket, error) {
	const op = "ticket.Get"
	var out *Ticket
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		t, err := s.readable(ctx, tx, p, ref, op)
		if err != nil {
			return err
		}
		if t.Events, err = loadEvents(ctx, tx, t.ID); err != nil {
			return err
		}
		if t.Photos, err = loadPhotos(ctx, tx, t.ID); err != nil {
			return err
		}
		if t.Duplicates, err = duplicates(ctx, tx, t, visibilityFor(p, auth.TicketRead)); err != nil {
			return err
		}
		out = t
		return nil
	})
	return out, errs.Wrap(op, err)
}

// DuplicateWindow is how close in time two tickets on one subject and
// category must be to be shown as possible duplicates.
const DuplicateWindow = 24 * time.Hour

// duplicates lists the open tickets with t's subject and category filed
// within DuplicateWindow of it, among those v reaches.
func duplicates(ctx context.Context, tx *db.Tx, t *Ticket, v visibility) ([]Brief, error) {
	if t.Status == Merged {
		return nil, nil
	}
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
	rows, err := tx.QueryContext(ctx, q, a.List...)
	if err != nil {
		return nil, fmt.Errorf("ticket: duplicates: %w", err)
	}
	defer rows.Close()
	var out []Brief
	for rows.Next() {
		var b Brief
		var at int64
		var desc string
		if err := rows.Scan(&b.ID, &b.Tracking, &b.Status, &at, &desc); err != nil {
			return nil, fmt.Errorf("ticket: duplicates: %w", err)
		}
		b.CreatedAt, b.Summary = clock.FromMillis(at), clip(desc, 60)
		out = append(out, b)
	}
	return out, rows.Err()
}

// Filter selects tickets in List.
type Filter struct {
	Statuses   []Status
	Department string
	Areas      []string // area codes: tickets in any of their subtrees
	Category   string
	Kind       Kind
	Enterprise string // only tickets about this enterprise (credit code or project code)
	Overdue    bool   // only tickets past a running deadline
	Expiring   bool   // only tickets whose running deadline is about to expire (DeadlineExpiring)
	Mine       bool   // only tickets the caller filed
	Holder     string // only tickets held at this area now (the escalation ladder)
	Query      string // tracking number or words of the description
	From, To   time.Time
	Before     int64 // cursor: ids below
	Limit      int
	ByDue      bool // order by the earliest deadline instead of newest first
}

// Limits of List.
const (
	DefaultListLimit = 50
	MaxListLimit     = 500
)

// List returns the tickets p may read that match f, newest first (or by
// deadline).
func (s *Service) List(ctx context.Context, p *auth.Principal, f Filter) ([]*Ticket, error) {
	const op = "ticket.List"
	if p == nil || (!p.Can(auth.TicketRead) && !p.Can(auth.TicketFile) && !p.Can(auth.TicketHandle)) {
		return nil, auth.Require(p, auth.TicketRead, op)
	}
	if f.Limit <= 0 {
		f.Limit = DefaultListLimit
	}
	f.Limit = min(f.Limit, MaxListLimit+1) // a page and the row that says another follows
	v := visibilityFor(p, auth.TicketRead)
	var out []*Ticket
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		var a db.Args
		conds := []string{v.where(&a)}
		if len(f.Statuses) > 0 {
			var ms []string
			for _, st := range f.Statuses {
				ms = append(ms, a.Add(string(st)))
			}
			conds = append(conds, "t.status IN ("+strings.Join(ms, ", ")+")")
		}
		if f.Department != "" {
			conds = append(conds, "t.department_code = "+a.Add(f.Department))
		}
		if len(f.Areas) > 0 {
			var ors []string
			for _, code := range f.Areas {
				ar, err := s.areas.Lookup(ctx, code)
				if err != nil {
					if errs.Is(err, errs.NotFound) {
						return errs.Fields("bad_filter", "区划不存在", errs.FieldError{Field: "area", Message: "区划 " + code + " 不存在"})
					}
					return err
				}
				ors = append(ors, "t.area_path LIKE "+a.Add(db.LikePrefix(ar.Path))+` ESCAPE '\'`)
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
			key := strings.TrimSpace(f.Enterprise)
			if c, err := pii.NormalizeCreditCode(key); err == nil {
				key = c
			}
			conds = append(conds, "t.enterprise_key = "+a.Add(key))
		}
		if f.Overdue {
			conds = append(conds, "t.due_at <= "+a.Add(tx.NowMS()))
		}
		if f.Expiring {
			conds = append(conds, expiringWhere(&a, tx.NowMS()))
		}
		if f.Mine {
			conds = append(conds, "t.reporter_id = "+a.Add(p.UserID))
		}
		if f.Holder != "" {
			conds = append(conds, "t.holder_code = "+a.Add(f.Holder))
		}
		if q := strings.TrimSpace(f.Query); q != "" {
			conds = append(conds, "(t.tracking = "+a.Add(strings.ToUpper(q))+" OR t.description LIKE "+a.Add(db.LikeContains(q))+` ESCAPE '\')`)
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
		order := "t.id DESC"
		if f.ByDue {
			order = "t.due_at, t.id DESC"
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+ticketCols+ticketFrom+` WHERE `+strings.Join(conds, " AND ")+
			` ORDER BY `+order+` LIMIT `+a.Add(f.Limit), a.List...)
		if err != nil {
			return fmt.Errorf("ticket: list: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			t, err := scanTicket(rows, s.box, tx.Now)
			if err != nil {
				return fmt.Errorf("ticket: list: %w", err)
			}
			out = append(out, t)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		return loadEscalations(ctx, tx, out)
	})
	return out, errs.Wrap(op, err)
}

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
	if _, ok := ParseStatus(string(in.To)); !ok {
		return nil, errs.Fields("bad_transition", "目标状态无效", errs.FieldError{Field: "to", Message: "未知状态 " + string(in.To)})
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
		return nil, errs.Fields("note_required", "请填写"+what, errs.FieldError{Field: "note", Message: what + msg})
	}
	var dept *area.Department
	if in.To == Assigned {
		if in.Department == "" {
			return nil, errs.Fields("department_required", "请选择承办部门", errs.FieldError{Field: "department", Message: "必填"})
		}
		d, err := s.areas.Department(ctx, in.Department)
		if err != nil {
			if errs.Is(err, errs.NotFound) {
				return nil, errs.Fields("department_not_found", "部门不存在", errs.FieldError{Field: "department", Message: "部门 " + in.Department + " 不存在"})
			}
			return nil, errs.Wrap(op, err)
		}
		dept = d
	} else if in.Department != "" {
		return nil, errs.Fields("bad_transition", "只有分派时才选择部门", errs.FieldError{Field: "department", Message: "只有分派时才填写"})
	}
	var out *Ticket
	err := s.db.Write(ctx, func(tx *db.Tx) error {
		t, err := s.readable(ctx, tx, p, ref, op)
		if err != nil {
			return err
		}
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

func errStale() *errs.Error {
	return errs.E(errs.Conflict, "stale_ticket", "工单已被他人更新，请刷新后重试")
}

// apply writes a checked transition.
func (s *Service) apply(ctx context.Context, tx *db.Tx, p *auth.Principal, t *Ticket, in TransitionInput, dept *area.Department) error {
	now := tx.NowMS()
	respondBy, resolveBy := t.RespondBy.UnixMilli(), t.ResolveBy.UnixMilli()
	respondFrom, resolveFrom := t.RespondFrom.UnixMilli(), t.ResolveFrom.UnixMilli()
	var responded, resolved, closed, autoConfirm any
	if t.RespondedAt != nil {
		responded = t.RespondedAt.UnixMilli()
	}
	deptCode, deptName := any(nil), t.DepartmentName
	if t.Department != "" {
		deptCode = t.Department
	}
	switch in.To {
	case Assigned:
		deptCode, deptName = dept.Code, dept.Name
	case InProgress:
		if responded == nil {
			responded = now
		}
	case Resolved, Rejected:
		if responded == nil {
			responded = now
		}
		if in.To == Resolved {
			resolved = now
			cat, err := s.categoryTx(ctx, tx, t.Category)
			if err != nil {
				return err
			}
			autoConfirm = tx.Now.Add(time.Duration(cat.ConfirmAfter)).UnixMilli()
		} else {
			closed = now
		}
	case Confirmed:
		if t.ResolvedAt != nil {
			resolved = t.ResolvedAt.UnixMilli()
		}
		closed = now
	case Reopened:
		// A reopened ticket runs again against fresh deadlines.
		pol, err := policyOf(ctx, tx, t.Category, t.Urgency)
		if err != nil {
			return err
		}
		resolveBy, resolveFrom = pol.ResolveBy.Due(tx.Now).UnixMilli(), now
		if responded == nil {
			respondBy, respondFrom = pol.RespondBy.Due(tx.Now).UnixMilli(), now
		}
	}
	status := in.To
	due := dueAt(status, responded != nil, respondBy, resolveBy)
	res, err := tx.ExecContext(ctx, `UPDATE tickets SET status = $1, department_code = $2, department_name = $3,
		respond_by = $4, resolve_by = $5, due_at = $6, responded_at = $7, resolved_at = $8, closed_at = $9,
		auto_confirm_at = $10, version = version + 1, updated_at = $11, respond_from = $14, resolve_from = $15
		WHERE id = $12 AND version = $13`,
		string(status), deptCode, deptName, respondBy, resolveBy, due, responded, resolved, closed, autoConfirm,
		now, t.ID, t.Version, respondFrom, resolveFrom)
	if err != nil {
		return fmt.Errorf("ticket: transition: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return errStale()
	}
	evDept := ""
	if in.To == Assigned {
		evDept = dept.Code
	}
	if err := addEvent(ctx, tx, t.ID, p.Actor(), "transition", t.Status, status, evDept, in.Note); err != nil {
		return err
	}
	summary := fmt.Sprintf("工单 %s：%s → %s", t.Tracking, StatusNames[t.Status], StatusNames[status])
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
	return s.notifyTransition(ctx, tx, p, t, status, dept, in.Note)
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

func watchers(ctx context.Context, tx *db.Tx, id int64) ([]int64, error) {
	rows, err := tx.QueryContext(ctx, `SELECT user_id FROM ticket_watchers WHERE ticket_id = $1`, id)
	if err != nil {
		return nil, fmt.Errorf("ticket: watchers: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var u int64
		if err := rows.Scan(&u); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
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
		if err := addEvent(ctx, tx, t.ID, p.Actor(), "comment", "", "", "", in.Note); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE tickets SET updated_at = $1 WHERE id = $2`, tx.NowMS(), t.ID); err != nil {
			return fmt.Errorf("ticket: comment: %w", err)
		}
		if err := audit.Record(ctx, tx, audit.Entry{ActorID: p.UserID, Actor: p.Actor(), Action: "ticket.comment",
			ObjectType: "ticket", ObjectID: t.Tracking, AreaCode: t.AreaCode, Summary: "工单 " + t.Tracking + " 留言：" + clip(in.Note, 80)}); err != nil {
			return err
		}
		ids, err := s.handlerIDs(ctx, tx, t)
		if err != nil {
			return err
		}
		w, err := watchers(ctx, tx, t.ID)
		if err != nil {
			return err
		}
		ids = append(ids, w...)
		if t.reporterID != 0 {
			ids = append(ids, t.reporterID)
		}
		if err := s.send(ctx, tx, without(ids, p.UserID), notify.Message{Event: "ticket.comment",
			Title: "工单 " + t.Tracking + " 有新留言", Body: p.DisplayName + "：" + clip(in.Note, 120),
			Link: link(t.ID), ObjectType: "ticket", ObjectID: t.Tracking, AreaPath: t.AreaPath}); err != nil {
			return err
		}
		evs, err := loadEvents(ctx, tx, t.ID)
		if err != nil {
			return err
		}
		out = &evs[len(evs)-1]
		return nil
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return out, nil
}

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
		dup, err := s.readable(ctx, tx, p, ref, op)
		if err != nil {
			return err
		}
		keep, err := s.readable(ctx, tx, p, in.Into, op)
		if err != nil {
			if errs.Is(err, errs.NotFound) {
				return errs.Fields("invalid_merge", "保留的工单不存在", errs.FieldError{Field: "into", Message: "工单不存在"})
			}
			return err
		}
		if !canHandle(p, dup) || !canHandle(p, keep) {
			return errs.E(errs.Forbidden, "not_handler", "只有两张工单的办理人才能合并")
		}
		switch {
		case dup.ID == keep.ID:
			return errs.Fields("invalid_merge", "不能合并到自身", errs.FieldError{Field: "into", Message: "不能是同一张工单"})
		case !dup.Status.Open():
			return errs.Newf(errs.Conflict, "bad_transition", "工单当前为「%s」，不能合并", StatusNames[dup.Status])
		case !keep.Status.Open():
			return errs.Newf(errs.Conflict, "bad_transition", "保留的工单 %s 当前为「%s」，不能再并入工单", keep.Tracking, StatusNames[keep.Status])
		}
		now := tx.NowMS()
		res, err := tx.ExecContext(ctx, `UPDATE tickets SET status = 'merged', merged_into = $1, closed_at = $2, due_at = NULL,
			version = version + 1, updated_at = $2 WHERE id = $3 AND version = $4`, keep.ID, now, dup.ID, dup.Version)
		if err != nil {
			return fmt.Errorf("ticket: merge: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errStale()
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO ticket_watchers (ticket_id, user_id)
			SELECT $1, w.user_id FROM ticket_watchers w WHERE w.ticket_id = $2
			ON CONFLICT (ticket_id, user_id) DO NOTHING`, keep.ID, dup.ID); err != nil {
			return fmt.Errorf("ticket: merge watchers: %w", err)
		}
		if dup.reporterID != 0 && dup.reporterID != keep.reporterID {
			if _, err := tx.ExecContext(ctx, `INSERT INTO ticket_watchers (ticket_id, user_id) VALUES ($1, $2)
				ON CONFLICT (ticket_id, user_id) DO NOTHING`, keep.ID, dup.reporterID); err != nil {
				return fmt.Errorf("ticket: merge watchers: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE tickets SET updated_at = $1 WHERE id = $2`, now, keep.ID); err != nil {
			return fmt.Errorf("ticket: merge: %w", err)
		}
		if err := addEvent(ctx, tx, dup.ID, p.Actor(), "merged", dup.Status, Merged, "", joinNote("合并到 "+keep.Tracking, in.Note)); err != nil {
			return err
		}
		if err := addEvent(ctx, tx, keep.ID, p.Actor(), "merged_from", "", "", "", joinNote("并入重复工单 "+dup.Tracking, in.Note)); err != nil {
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
		if err := s.send(ctx, tx, without(to, p.UserID), notify.Message{Event: "ticket.merged",
			Title: fmt.Sprintf("工单 %s 已合并到 %s", dup.Tracking, keep.Tracking), Body: "同一诉求将在 " + keep.Tracking + " 中办理。",
			Link: link(keep.ID), ObjectType: "ticket", ObjectID: dup.Tracking, AreaPath: dup.AreaPath}); err != nil {
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

func joinNote(a, b string) string {
	if b == "" {
		return a
	}
	return a + "：" + b
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

// noRows reports a missing row.
func noRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

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
