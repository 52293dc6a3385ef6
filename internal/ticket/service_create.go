package ticket

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"tongxin/internal/area"
	"tongxin/internal/audit"
	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/notify"
	"tongxin/internal/pii"
)

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
	in         Input
	category   Category
	area       *area.Area
	entName    string
	liaisons   []int64
	phone      string // normalized
	subjectKey string
	reporterID int64
	createdBy  string
}

// validation is the state of validate: the filing being resolved and the
// fields found wrong so far, in the order the form shows them.
type validation struct {
	s      *Service
	f      *filing
	fields []errs.FieldError
}

func (v *validation) bad(field, msg string) {
	v.fields = append(v.fields, errs.FieldError{Field: field, Message: msg})
}

// validate checks in and resolves its category, area and enterprise.
func (s *Service) validate(ctx context.Context, in Input) (*filing, error) {
	v := &validation{s: s, f: &filing{in: in}}
	in = withDefaults(in)
	v.checkChoices(in)
	v.checkTexts(in)
	if err := v.checkCategory(ctx, in.Category); err != nil {
		return nil, err
	}
	in.SubjectKind = v.subjectKind(in)
	areaCode, err := v.checkEnterprise(ctx, &in)
	if err != nil {
		return nil, err
	}
	if err := v.checkArea(ctx, in.SubjectKind, areaCode); err != nil {
		return nil, err
	}
	if in.SubjectKind == SubjectAddress && in.Address == "" {
		v.bad("address", "请填写地址")
	}
	if len(v.fields) > 0 {
		return nil, errs.Fields("invalid_ticket", "工单内容有误", v.fields...)
	}
	f := v.f
	f.subjectKey = s.subjectKeyOf(in, f)
	f.in = in
	return f, nil
}

// withDefaults trims in and fills its urgency, channel and kind when they
// are not given.
func withDefaults(in Input) Input {
	in.Description = strings.TrimSpace(in.Description)
	in.Address = strings.TrimSpace(in.Address)
	in.ReporterName = strings.TrimSpace(in.ReporterName)
	in.Enterprise = strings.TrimSpace(in.Enterprise)
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
	return in
}

// checkChoices checks the kind, urgency and channel.
func (v *validation) checkChoices(in Input) {
	if !slices.Contains(Kinds, in.Kind) {
		v.bad("kind", "须为 enterprise_problem、resident_help 或 other")
	}
	if !slices.Contains(Urgencies, in.Urgency) {
		v.bad("urgency", "须为 normal、urgent 或 critical")
	}
	if !slices.Contains(Channels, in.Channel) {
		v.bad("channel", "须为 web、hotline_12345、phone、wechat、liaison 或 walk_in")
	}
}

// checkTexts checks the description, address, reporter's name and phone
// (which a call must carry).
func (v *validation) checkTexts(in Input) {
	if msg := errs.CheckText(in.Description, MaxDescriptionLen, true); msg != "" {
		v.bad("description", msg)
	}
	if msg := errs.CheckText(in.Address, MaxAddressLen, false); msg != "" {
		v.bad("address", msg)
	}
	if msg := errs.CheckText(in.ReporterName, MaxNameLen, false); msg != "" {
		v.bad("reporter_name", msg)
	}
	if strings.TrimSpace(in.ReporterPhone) != "" {
		p, err := pii.NormalizePhone(in.ReporterPhone)
		if err != nil {
			v.bad("reporter_phone", err.Error())
		}
		v.f.phone = p
	} else if in.Channel == ChannelHotline || in.Channel == ChannelPhone {
		v.bad("reporter_phone", "电话来件须登记来电号码")
	}
}

// checkCategory resolves the category, which must exist and be active.
func (v *validation) checkCategory(ctx context.Context, code string) error {
	cat, err := v.s.category(ctx, strings.TrimSpace(code))
	switch {
	case err != nil && errs.Is(err, errs.NotFound):
		v.bad("category", "未知类别")
	case err != nil:
		return err
	case !cat.Active:
		v.bad("category", "该类别已停用")
	}
	v.f.category = cat
	return nil
}

// subjectKind is the subject kind given, or the one the input implies.
func (v *validation) subjectKind(in Input) SubjectKind {
	switch in.SubjectKind {
	case "":
		switch {
		case in.Enterprise != "":
			return SubjectEnterprise
		case in.Kind == ResidentHelp:
			return SubjectHousehold
		default:
			return SubjectAddress
		}
	case SubjectEnterprise, SubjectHousehold, SubjectAddress:
	default:
		v.bad("subject_kind", "须为 enterprise、household 或 address")
	}
	return in.SubjectKind
}

// checkEnterprise resolves the enterprise of a ticket about one (its key
// normalized in in) and returns the area code of the ticket: the one
// given, else the enterprise's.
func (v *validation) checkEnterprise(ctx context.Context, in *Input) (string, error) {
	areaCode := strings.TrimSpace(in.AreaCode)
	switch {
	case in.SubjectKind != SubjectEnterprise:
		if in.Enterprise != "" {
			v.bad("enterprise", "只有关于企业的工单才填写企业")
		}
		return areaCode, nil
	case in.Enterprise == "":
		v.bad("enterprise", "请填写企业的统一社会信用代码或项目编码")
		return areaCode, nil
	case v.s.enterprises == nil:
		v.bad("enterprise", "未接入企业名录")
		return areaCode, nil
	}
	key := in.Enterprise
	if c, err := pii.NormalizeCreditCode(key); err == nil {
		key = c
	}
	name, code, liaisons, err := v.s.enterprises.EnterpriseSubject(ctx, key)
	switch {
	case errs.Is(err, errs.NotFound):
		v.bad("enterprise", "企业不存在")
	case err != nil:
		return "", err
	default:
		in.Enterprise, v.f.entName, v.f.liaisons = key, name, liaisons
		if areaCode == "" {
			areaCode = code
		}
	}
	return areaCode, nil
}

// checkArea resolves the ticket's area, which only a ticket about an
// enterprise may leave out.
func (v *validation) checkArea(ctx context.Context, kind SubjectKind, code string) error {
	if code == "" {
		if kind != SubjectEnterprise {
			v.bad("area_code", "请选择所在区划（社区）")
		}
		return nil
	}
	a, err := v.s.areas.Lookup(ctx, code)
	switch {
	case errs.Is(err, errs.NotFound):
		v.bad("area_code", "区划不存在")
	case err != nil:
		return err
	default:
		v.f.area = a
	}
	return nil
}

// subjectKeyOf is the key that finds the duplicates of a filing: its
// enterprise, its address in its area, or its reporter's phone.
func (s *Service) subjectKeyOf(in Input, f *filing) string {
	switch {
	case in.SubjectKind == SubjectEnterprise:
		return "ent:" + in.Enterprise
	case in.Address != "":
		return "addr:" + s.box.Index("ticket_address", f.area.Code+"|"+normalizeAddress(in.Address))
	case f.phone != "":
		return "phone:" + s.box.Index("phone", f.phone)
	}
	return ""
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
	n, err := s.newTicket(ctx, tx, f)
	if err != nil {
		return 0, err
	}
	id, err := insertTicket(ctx, tx, n)
	if err != nil {
		return 0, err
	}
	if err := addEvent(ctx, tx, id, f.createdBy, "filed", "", New, "", ""); err != nil {
		return 0, err
	}
	if n.dept.Code != "" {
		if err := addEvent(ctx, tx, id, "system", "routed", New, Assigned, n.dept.Code, "按分派规则交 "+n.dept.Name+" 办理"); err != nil {
			return 0, err
		}
	}
	for _, uid := range f.liaisons {
		if err := addWatcher(ctx, tx, id, uid); err != nil {
			return 0, fmt.Errorf("ticket: watcher: %w", err)
		}
	}
	if err := auditCreate(ctx, tx, n); err != nil {
		return 0, err
	}
	return id, s.notifyCreate(ctx, tx, id, n)
}

// newTicket numbers, times and routes a filing and seals its personal
// data.
func (s *Service) newTicket(ctx context.Context, tx *db.Tx, f *filing) (*newTicket, error) {
	pol, err := policyOf(ctx, tx, f.category.Code, f.in.Urgency)
	if err != nil {
		return nil, err
	}
	n := &newTicket{f: f, status: New,
		respondBy: pol.RespondBy.Due(tx.Now).UnixMilli(), resolveBy: pol.ResolveBy.Due(tx.Now).UnixMilli()}
	if n.tracking, err = nextTracking(ctx, tx); err != nil {
		return nil, err
	}
	if n.dept, err = route(ctx, tx, f.category.Code, f.area.Path); err != nil {
		return nil, err
	}
	if n.dept.Code != "" {
		n.status = Assigned
	}
	if n.addrEnc, err = s.sealIf(f.in.Address); err != nil {
		return nil, err
	}
	if n.nameEnc, err = s.sealIf(f.in.ReporterName); err != nil {
		return nil, err
	}
	if n.phoneEnc, err = s.sealIf(f.phone); err != nil {
		return nil, err
	}
	if f.phone != "" {
		n.phoneIdx = s.box.Index("phone", f.phone)
	}
	return n, nil
}

// sealIf seals v, or gives nil for an empty v.
func (s *Service) sealIf(v string) ([]byte, error) {
	if v == "" {
		return nil, nil
	}
	return s.box.Seal(v)
}

// auditCreate records a filed ticket.
func auditCreate(ctx context.Context, tx *db.Tx, n *newTicket) error {
	f := n.f
	summary := fmt.Sprintf("受理工单 %s：%s，%s，%s", n.tracking, f.category.Name, UrgencyNames[f.in.Urgency], f.area.Name)
	if f.entName != "" {
		summary += "，" + f.entName
	}
	if n.dept.Code != "" {
		summary += "，分派 " + n.dept.Name
	}
	return audit.Record(ctx, tx, audit.Entry{ActorID: f.reporterID, Actor: f.createdBy, Action: "ticket.create",
		ObjectType: "ticket", ObjectID: n.tracking, AreaCode: f.area.Code, Summary: summary})
}

// notifyCreate tells who must act (the department, or the area's own
// office) and the enterprise's liaisons of a filed ticket.
func (s *Service) notifyCreate(ctx context.Context, tx *db.Tx, id int64, n *newTicket) error {
	f := n.f
	var to []int64
	var err error
	if n.dept.Code != "" {
		to, err = s.holders.Holders(ctx, tx, auth.ScopeDepartment, n.dept.Code, auth.DepartmentOfficer)
	} else {
		to, err = s.holders.Holders(ctx, tx, auth.ScopeArea, f.area.Code, areaOfficerRoles...)
	}
	if err != nil {
		return err
	}
	to = append(to, f.liaisons...)
	body := fmt.Sprintf("%s · %s · %s\n%s", f.category.Name, UrgencyNames[f.in.Urgency], f.area.Name, clip(f.in.Description, 120))
	if f.entName != "" {
		body = f.entName + " · " + body
	}
	return s.send(ctx, tx, without(to, f.reporterID), notify.Message{Event: "ticket.created",
		Title: "新工单 " + n.tracking, Body: body, Link: link(id), ObjectType: "ticket", ObjectID: n.tracking, AreaPath: f.area.Path})
}
