package area

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"tongxin/internal/audit"
	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/errs"
)

// orgKind describes departments or work groups to the shared code.
type orgKind struct {
	table  orgTable
	object string // audit object type and error code stem
	noun   string // Chinese noun
}

func departmentKind() orgKind {
	return orgKind{table: departmentsTable, object: "department", noun: "部门"}
}

func workgroupKind() orgKind {
	return orgKind{table: workgroupsTable, object: "workgroup", noun: "工作组"}
}

func (k orgKind) notFound() *errs.Error {
	return errs.E(errs.NotFound, k.object+"_not_found", k.noun+"不存在")
}

func normOrg(r orgRow) orgRow {
	r.Code = strings.TrimSpace(r.Code)
	r.Name = strings.TrimSpace(r.Name)
	r.AreaCode = normCode(r.AreaCode)
	r.Remit = strings.TrimSpace(r.Remit)
	return r
}

// capsOf reads a department's or work group's stored capabilities; never
// nil.
func capsOf(stored string) []auth.Capability {
	caps := auth.ParseCapabilities(stored)
	if caps == nil {
		caps = []auth.Capability{}
	}
	return caps
}

// capsText is the stored form of capabilities: in the order of
// auth.Capabilities, each once, unknown ones kept (validate refuses them).
func capsText(caps []auth.Capability) string {
	seen := map[auth.Capability]bool{}
	var out []string
	for _, c := range append(append([]auth.Capability(nil), auth.Capabilities...), caps...) {
		if slices.Contains(caps, c) && !seen[c] {
			seen[c] = true
			out = append(out, string(c))
		}
	}
	return strings.Join(out, ",")
}

// capNames are the capabilities in Chinese, for messages, the audit and
// the forms; departments and work groups choose from all of
// auth.Capabilities.
var capNames = map[auth.Capability]string{auth.CapPassReview: "审核通行证", auth.CapResumptionManage: "管理复工复产企业名录",
	auth.CapTestingManage: "管理全员核酸检测", auth.CapCentralQuarantine: "管理集中隔离", auth.CapHomeQuarantine: "管理居家隔离"}

// CapabilityName is the Chinese name of a capability (its code when it
// has none).
func CapabilityName(c auth.Capability) string {
	if n, ok := capNames[c]; ok {
		return n
	}
	return string(c)
}

// capChoices lists the known capabilities for a message:
// "pass_review（审核通行证）、…".
func capChoices() string {
	names := make([]string, len(auth.Capabilities))
	for i, c := range auth.Capabilities {
		names[i] = string(c) + "（" + CapabilityName(c) + "）"
	}
	return strings.Join(names, "、")
}

// capsSummary renders stored capabilities for the audit log.
func capsSummary(stored string) string {
	var names []string
	for _, c := range auth.ParseCapabilities(stored) {
		names = append(names, CapabilityName(c)+"（"+string(c)+"）")
	}
	if len(names) == 0 {
		return "无"
	}
	return strings.Join(names, "、")
}

// deptRow is the row of a department as given; setCaps says its
// capabilities are set (a create, or an update naming them).
func deptRow(d Department, setCaps bool) orgRow {
	return orgRow{Code: d.Code, Name: d.Name, AreaCode: d.AreaCode, Caps: capsText(d.Capabilities), CapsSet: setCaps || d.Capabilities != nil}
}

// groupRow is the row of a work group as given, as deptRow.
func groupRow(g Workgroup, setCaps bool) orgRow {
	return orgRow{Code: g.Code, Name: g.Name, AreaCode: g.AreaCode, Remit: g.Remit, Caps: capsText(g.Capabilities),
		CapsSet: setCaps || g.Capabilities != nil}
}

// validate checks the fields of a department or work group.
func (k orgKind) validate(r orgRow) error {
	var fields []errs.FieldError
	for _, c := range auth.ParseCapabilities(r.Caps) {
		if !auth.ValidCapability(c) {
			fields = append(fields, errs.FieldError{Field: "capabilities",
				Message: fmt.Sprintf("未知的%s职能“%s”：可选 %s", k.noun, clip(string(c)), capChoices())})
			break
		}
	}
	if msg := orgCodeProblem(r.Code); msg != "" {
		fields = append(fields, errs.FieldError{Field: "code", Message: msg})
	}
	if msg := nameProblem(r.Name); msg != "" {
		fields = append(fields, errs.FieldError{Field: "name", Message: msg})
	}
	if r.AreaCode == "" {
		fields = append(fields, errs.FieldError{Field: "area_code", Message: "所属区划不能为空"})
	} else if msg := codeFormatProblem(r.AreaCode); msg != "" {
		fields = append(fields, errs.FieldError{Field: "area_code", Message: "所属区划" + msg})
	}
	if k.table == workgroupsTable {
		if n := utf8.RuneCountInString(r.Remit); n > MaxRemitLen {
			fields = append(fields, errs.FieldError{Field: "remit", Message: fmt.Sprintf("职责不能超过 %d 个字符（现有 %d 个）", MaxRemitLen, n)})
		} else if strings.ContainsFunc(r.Remit, isControl) {
			fields = append(fields, errs.FieldError{Field: "remit", Message: "职责不能包含换行符或控制字符"})
		}
	}
	if len(fields) == 0 {
		return nil
	}
	msgs := make([]string, len(fields))
	for i, f := range fields {
		msgs[i] = f.Message
	}
	return &errs.Error{Kind: errs.Invalid, Code: "invalid_" + k.object, Message: k.noun + "信息有误：" + strings.Join(msgs, "；"), Fields: fields}
}

// areaForWrite returns the path of the area with code, which p must be
// allowed to change.
func areaForWrite(ctx context.Context, tx *db.Tx, p *auth.Principal, code, op string) (string, error) {
	path, err := pathOf(ctx, tx, code)
	if err != nil {
		return "", err
	}
	if err := auth.Authorize(p, auth.AreaWrite, path, op, errNotFound()); err != nil {
		return "", err
	}
	return path, nil
}

func (k orgKind) summary(r orgRow) string {
	s := fmt.Sprintf("%s %s（%s），所属区划 %s", k.noun, r.Name, r.Code, r.AreaCode)
	if r.Remit != "" {
		s += "，职责：" + r.Remit
	}
	return s + "，职能：" + capsSummary(r.Caps)
}

func (k orgKind) record(ctx context.Context, tx *db.Tx, p *auth.Principal, action string, r orgRow, summary string) error {
	return audit.Record(ctx, tx, audit.Entry{ActorID: p.UserID, Actor: p.Actor(), Action: k.object + "." + action,
		ObjectType: k.object, ObjectID: r.Code, AreaCode: r.AreaCode, Summary: summary})
}

func (s *Service) createOrg(ctx context.Context, p *auth.Principal, k orgKind, r orgRow, op string) (orgRow, error) {
	if err := auth.Require(p, auth.AreaWrite, op); err != nil {
		return orgRow{}, err
	}
	r = normOrg(r)
	if err := k.validate(r); err != nil {
		return orgRow{}, errs.Wrap(op, err)
	}
	err := s.db.Write(ctx, func(tx *db.Tx) error {
		if _, err := areaForWrite(ctx, tx, p, r.AreaCode, op); err != nil {
			return err
		}
		ok, err := k.table.insert(ctx, tx, r)
		if err != nil {
			return err
		}
		if !ok {
			return errs.Newf(errs.Conflict, k.object+"_exists", "%s编码“%s”已存在", k.noun, r.Code)
		}
		return k.record(ctx, tx, p, "create", r, "新建"+k.summary(r))
	})
	if err != nil {
		return orgRow{}, errs.Wrap(op, err)
	}
	return r, nil
}

func (s *Service) updateOrg(ctx context.Context, p *auth.Principal, k orgKind, r orgRow, op string) (orgRow, error) {
	if err := auth.Require(p, auth.AreaWrite, op); err != nil {
		return orgRow{}, err
	}
	r = normOrg(r)
	if err := k.validate(r); err != nil {
		return orgRow{}, errs.Wrap(op, err)
	}
	err := s.db.Write(ctx, func(tx *db.Tx) error {
		old, ok, err := k.table.get(ctx, tx, r.Code)
		if err != nil {
			return err
		}
		if !ok {
			return k.notFound()
		}
		if err := auth.Authorize(p, auth.AreaWrite, old.AreaPath, op, k.notFound()); err != nil {
			return err
		}
		if r.AreaCode != old.AreaCode {
			if _, err := areaForWrite(ctx, tx, p, r.AreaCode, op); err != nil {
				return err
			}
		}
		if !r.CapsSet {
			r.Caps = old.Caps
		}
		if r.Name == old.Name && r.AreaCode == old.AreaCode && r.Remit == old.Remit && r.Caps == old.Caps {
			return nil
		}
		if err := k.table.update(ctx, tx, r); err != nil {
			return err
		}
		s.forgetOrg(tx, k, r.Code)
		was := "；原为 " + old.Name + "，所属区划 " + old.AreaCode + "，职能：" + capsSummary(old.Caps)
		return k.record(ctx, tx, p, "update", r, "修改"+k.summary(r)+was)
	})
	if err != nil {
		return orgRow{}, errs.Wrap(op, err)
	}
	return r, nil
}

// upsertOrg makes the stored row equal r; changed is false when it already
// was.
func (s *Service) upsertOrg(ctx context.Context, tx *db.Tx, p *auth.Principal, k orgKind, r orgRow) (bool, error) {
	op := "area.Seed"
	r = normOrg(r)
	if err := k.validate(r); err != nil {
		return false, err
	}
	if _, err := areaForWrite(ctx, tx, p, r.AreaCode, op); err != nil {
		return false, err
	}
	old, ok, err := k.table.get(ctx, tx, r.Code)
	if err != nil {
		return false, err
	}
	if !ok {
		created, err := k.table.insert(ctx, tx, r)
		if err != nil {
			return false, err
		}
		if !created {
			return false, errs.Newf(errs.Conflict, k.object+"_exists", "%s编码“%s”已存在", k.noun, r.Code)
		}
		return true, k.record(ctx, tx, p, "create", r, "新建"+k.summary(r))
	}
	if err := auth.Authorize(p, auth.AreaWrite, old.AreaPath, op, k.notFound()); err != nil {
		return false, err
	}
	if !r.CapsSet {
		r.Caps = old.Caps
	}
	if r.Name == old.Name && r.AreaCode == old.AreaCode && r.Remit == old.Remit && r.Caps == old.Caps {
		return false, nil
	}
	if err := k.table.update(ctx, tx, r); err != nil {
		return false, err
	}
	s.forgetOrg(tx, k, r.Code)
	return true, k.record(ctx, tx, p, "update", r, "修改"+k.summary(r))
}

func (s *Service) listOrgs(ctx context.Context, p *auth.Principal, k orgKind, op string) ([]orgRow, error) {
	if err := auth.Require(p, auth.AreaRead, op); err != nil {
		return nil, err
	}
	sc := scopeOf(p, auth.AreaRead)
	var out []orgRow
	err := s.db.Read(ctx, func(tx *db.Tx) (err error) {
		out, err = k.table.list(ctx, tx, sc)
		return err
	})
	return out, errs.Wrap(op, err)
}

func deptOf(r orgRow) Department {
	return Department{Code: r.Code, Name: r.Name, AreaCode: r.AreaCode, Capabilities: capsOf(r.Caps)}
}
func groupOf(r orgRow) Workgroup {
	return Workgroup{Code: r.Code, Name: r.Name, AreaCode: r.AreaCode, Remit: r.Remit, Capabilities: capsOf(r.Caps)}
}

// CreateDepartment adds a department in an area the caller may change.
// Conflict if the code is taken.
func (s *Service) CreateDepartment(ctx context.Context, p *auth.Principal, d Department) (*Department, error) {
	r, err := s.createOrg(ctx, p, departmentKind(), deptRow(d, true), "area.CreateDepartment")
	if err != nil {
		return nil, err
	}
	out := deptOf(r)
	return &out, nil
}

// UpdateDepartment changes the name, area or capabilities of the
// department d.Code (nil capabilities keep them). Its officers' cached
// principals are dropped on commit, so a capability granted or withdrawn
// counts at their next request.
func (s *Service) UpdateDepartment(ctx context.Context, p *auth.Principal, d Department) (*Department, error) {
	r, err := s.updateOrg(ctx, p, departmentKind(), deptRow(d, false), "area.UpdateDepartment")
	if err != nil {
		return nil, err
	}
	out := deptOf(r)
	return &out, nil
}

// Departments lists the departments whose area is in the caller's read
// scope, top of the tree first.
func (s *Service) Departments(ctx context.Context, p *auth.Principal) ([]Department, error) {
	rows, err := s.listOrgs(ctx, p, departmentKind(), "area.Departments")
	if err != nil {
		return nil, err
	}
	out := make([]Department, len(rows))
	for i, r := range rows {
		out[i] = deptOf(r)
	}
	return out, nil
}

// CreateWorkgroup adds a work group in an area the caller may change.
// Conflict if the code is taken.
func (s *Service) CreateWorkgroup(ctx context.Context, p *auth.Principal, g Workgroup) (*Workgroup, error) {
	r, err := s.createOrg(ctx, p, workgroupKind(), groupRow(g, true), "area.CreateWorkgroup")
	if err != nil {
		return nil, err
	}
	out := groupOf(r)
	return &out, nil
}

// UpdateWorkgroup changes the name, area, remit or capabilities of the
// work group g.Code (nil capabilities keep them). Its members' cached
// principals are dropped on commit, as a department's officers' are.
func (s *Service) UpdateWorkgroup(ctx context.Context, p *auth.Principal, g Workgroup) (*Workgroup, error) {
	r, err := s.updateOrg(ctx, p, workgroupKind(), groupRow(g, false), "area.UpdateWorkgroup")
	if err != nil {
		return nil, err
	}
	out := groupOf(r)
	return &out, nil
}

// Workgroups lists the work groups whose area is in the caller's read
// scope, top of the tree first.
func (s *Service) Workgroups(ctx context.Context, p *auth.Principal) ([]Workgroup, error) {
	rows, err := s.listOrgs(ctx, p, workgroupKind(), "area.Workgroups")
	if err != nil {
		return nil, err
	}
	out := make([]Workgroup, len(rows))
	for i, r := range rows {
		out[i] = groupOf(r)
	}
	return out, nil
}
