// Package auth holds users, their roles bound to scopes, sessions, API
// tokens and the one authorization check every module calls.
//
// Authorization is deny by default. A role grants permissions; a role
// assignment binds the role to one scope (an area subtree, a department, a
// work group, an enterprise or a checkpoint). A caller without the
// permission at all gets Forbidden; a caller with the permission whose
// scopes do not cover the object gets NotFound, so that objects outside a
// caller's reach are indistinguishable from objects that do not exist.
package auth

import (
	"slices"
	"strings"

	"tongxin/internal/errs"
)

// Role names a set of permissions.
type Role string

const (
	SystemAdmin       Role = "system_admin"
	HQCommander       Role = "hq_commander"
	HQStaff           Role = "hq_staff"
	DistrictOfficer   Role = "district_officer"
	StreetOfficer     Role = "street_officer"
	CommunityWorker   Role = "community_worker"
	DepartmentOfficer Role = "department_officer"
	WorkgroupMember   Role = "workgroup_member"
	Liaison           Role = "liaison"
	EnterpriseContact Role = "enterprise_contact"
	Volunteer         Role = "volunteer"
	CheckpointOfficer Role = "checkpoint_officer"
	Inspector         Role = "inspector"
)

// Roles lists every role in display order.
var Roles = []Role{SystemAdmin, HQCommander, HQStaff, DistrictOfficer, StreetOfficer, CommunityWorker,
	DepartmentOfficer, WorkgroupMember, Liaison, EnterpriseContact, Volunteer, CheckpointOfficer, Inspector}

// ScopeKind is what a role assignment is bound to.
type ScopeKind string

const (
	ScopeArea       ScopeKind = "area"
	ScopeDepartment ScopeKind = "department"
	ScopeWorkgroup  ScopeKind = "workgroup"
	ScopeEnterprise ScopeKind = "enterprise"
	ScopeCheckpoint ScopeKind = "checkpoint"
)

// Permission is one thing a role may do.
type Permission string

const (
	AreaRead   Permission = "area.read"
	AreaWrite  Permission = "area.write"
	UserRead   Permission = "user.read"
	UserManage Permission = "user.manage"
	AuditRead  Permission = "audit.read"
	PIIReveal  Permission = "pii.reveal"

	// Work resumption. Enterprise contacts and liaisons reach their own
	// enterprises through the resumption module, not through area scopes.
	ResumptionRead   Permission = "resumption.read"   // registry, reports, statistics in scope
	ResumptionReport Permission = "resumption.report" // file daily reports for enterprises in scope
	ResumptionManage Permission = "resumption.manage" // registry, imports, liaisons, power data, plan review

	// Problem and help tickets. TicketRead and TicketHandle over an area
	// reach the tickets of its subtree; a department officer's TicketHandle
	// reaches the tickets routed to the department, not the department's
	// area. Anyone with TicketFile reads the tickets they filed or watch.
	TicketFile   Permission = "ticket.file"   // file tickets (hotline, liaisons, enterprise contacts)
	TicketRead   Permission = "ticket.read"   // read tickets and their statistics in scope
	TicketHandle Permission = "ticket.handle" // assign, work on, resolve, reject, merge tickets in scope
	TicketManage Permission = "ticket.manage" // categories, routing rules, deadline policies

	NotifyManage Permission = "notify.manage" // outgoing webhooks and their delivery log

	// Passes (白名单卡, vehicle passes). Enterprise contacts apply for their
	// own enterprise's staff and vehicles (through the pass module, not
	// area scopes); department officers review batches.
	PassApply  Permission = "pass.apply"  // upload pass batches for one's own enterprise
	PassRead   Permission = "pass.read"   // read passes, batches and their statistics in scope
	PassReview Permission = "pass.review" // approve or reject batches, revoke passes

	// Checkpoints (卡口), transfer points and traffic control.
	CheckpointScan   Permission = "checkpoint.scan"   // scan passes and log handovers at one's checkpoints
	CheckpointRead   Permission = "checkpoint.read"   // checkpoints, scans, rosters and statistics in scope
	CheckpointManage Permission = "checkpoint.manage" // register checkpoints, duty rosters
	TrafficManage    Permission = "traffic.manage"    // traffic-control measures and public notices

	// Mass testing (全员核酸): the household register, campaigns, rounds,
	// samples, coverage, lab results and retests.
	TestingRead     Permission = "testing.read"     // register, rounds, coverage, missed lists, retests in scope
	TestingRegister Permission = "testing.register" // import and correct the household register in scope
	TestingSample   Permission = "testing.sample"   // record samples and exemptions in scope
	TestingManage   Permission = "testing.manage"   // campaigns, rounds, sites, teams, lab results

	// Zones (封控区/管控区/防范区) and quarantine (集中/居家隔离). Zones are
	// the HQ's decisions; communities issue exit permits (medical visits)
	// to residents of sealed zones and keep the home-quarantine checks.
	ZoneRead          Permission = "zone.read"          // zones, their history and proposals in scope
	ZoneDecide        Permission = "zone.decide"        // raise, lower and lift zones; confirm or decline proposals
	ZoneExempt        Permission = "zone.exempt"        // issue and cancel exit permits for residents in scope
	QuarantineRead    Permission = "quarantine.read"    // quarantine sites, persons, checks and figures in scope
	QuarantineCentral Permission = "quarantine.central" // sites and rooms; admit, transfer, test and release persons
	QuarantineHome    Permission = "quarantine.home"    // home quarantine: persons, daily checks, tests
)

// rolePermissions is the grant table. Modules add their permissions here as
// they arrive; anything not listed is denied. PIIReveal is held by those
// who call people back: the HQ commander, street officers, community
// workers and department officers (whose reach for it is the tickets
// routed to their department, never the department's area: see
// AreaPaths); district officers, HQ staff and system administrators
// coordinate and do not read full phone numbers.
var rolePermissions = map[Role][]Permission{
	SystemAdmin: {AreaRead, AreaWrite, UserRead, UserManage, AuditRead, ResumptionRead, ResumptionReport, ResumptionManage,
		TicketFile, TicketRead, TicketHandle, TicketManage, NotifyManage,
		PassRead, PassReview, CheckpointRead, CheckpointManage, TrafficManage, TestingRead, TestingRegister, TestingManage,
		ZoneRead, ZoneDecide, QuarantineRead, QuarantineCentral},
	HQCommander: {AreaRead, UserRead, AuditRead, PIIReveal, ResumptionRead, TicketFile, TicketRead, TicketHandle,
		PassRead, CheckpointRead, TestingRead, ZoneRead, ZoneDecide, QuarantineRead},
	HQStaff: {AreaRead, AreaWrite, UserRead, ResumptionRead, ResumptionReport, ResumptionManage,
		TicketFile, TicketRead, TicketHandle, TicketManage, NotifyManage,
		PassRead, PassReview, CheckpointRead, CheckpointManage, TrafficManage, TestingRead, TestingRegister, TestingManage,
		ZoneRead, ZoneDecide, QuarantineRead, QuarantineCentral},
	DistrictOfficer: {AreaRead, UserRead, ResumptionRead, ResumptionReport, TicketFile, TicketRead, TicketHandle, PassRead, CheckpointRead,
		TestingRead, ZoneRead, QuarantineRead},
	StreetOfficer: {AreaRead, UserRead, PIIReveal, ResumptionRead, ResumptionReport, TicketFile, TicketRead, TicketHandle, PassRead,
		CheckpointRead, TestingRead, TestingRegister, TestingSample, ZoneRead, ZoneExempt, QuarantineRead, QuarantineHome},
	CommunityWorker: {AreaRead, PIIReveal, TicketFile, TicketRead, TicketHandle, TestingRead, TestingRegister, TestingSample,
		ZoneRead, ZoneExempt, QuarantineRead, QuarantineHome},
	DepartmentOfficer: {AreaRead, PIIReveal, TicketFile, TicketHandle}, // and what the department's capabilities grant
	WorkgroupMember:   {AreaRead, ResumptionRead, TicketFile, CheckpointRead, ZoneRead},
	Liaison:           {AreaRead, TicketFile},
	EnterpriseContact: {TicketFile, PassApply},
	Volunteer:         {}, // a volunteer samples as a member of a testing team
	CheckpointOfficer: {CheckpointScan},
	Inspector:         {AreaRead, AuditRead, ResumptionRead, TicketRead, PassRead, CheckpointRead, TestingRead, ZoneRead, QuarantineRead},
}

// Capability is something a department does beyond the tickets routed to
// it, or a work group beyond its members' role. A department officer (a
// work group member) holds the permissions of their department's (group's)
// capabilities over its area, and no others beyond the role's. Departments
// and work groups choose from the one list, Capabilities.
type Capability string

const (
	CapPassReview        Capability = "pass_review"        // 工信局: review pass batches, quotas, revocation
	CapResumptionManage  Capability = "resumption_manage"  // the resumption registry, liaisons, power data, plans
	CapTestingManage     Capability = "testing_manage"     // 全员核酸检测组: campaigns, rounds, lab results, in the group's area
	CapCentralQuarantine Capability = "central_quarantine" // 集中隔离管控组: sites, rooms, admissions, releases
	CapHomeQuarantine    Capability = "home_quarantine"    // 居家隔离管控组: home quarantine and its daily checks
)

// Capabilities lists every capability in display order.
var Capabilities = []Capability{CapPassReview, CapResumptionManage, CapTestingManage, CapCentralQuarantine, CapHomeQuarantine}

// capabilityPermissions is the grant table of capabilities.
var capabilityPermissions = map[Capability][]Permission{
	CapPassReview:        {PassRead, PassReview},
	CapResumptionManage:  {ResumptionRead, ResumptionManage},
	CapTestingManage:     {TestingRead, TestingManage},
	CapCentralQuarantine: {QuarantineRead, QuarantineCentral},
	CapHomeQuarantine:    {QuarantineRead, QuarantineHome},
}

// ValidCapability reports whether c is a known capability.
func ValidCapability(c Capability) bool { _, ok := capabilityPermissions[c]; return ok }

// ParseCapabilities reads a stored list ("pass_review,resumption_manage").
func ParseCapabilities(s string) []Capability {
	var out []Capability
	for _, c := range strings.Split(s, ",") {
		if c = strings.TrimSpace(c); c != "" {
			out = append(out, Capability(c))
		}
	}
	return out
}

// roleScope says which scope kind each role is bound to, and for area-bound
// roles the area levels allowed ("" means any level).
var roleScope = map[Role]struct {
	kind   ScopeKind
	levels []string
}{
	SystemAdmin:       {ScopeArea, nil},
	HQCommander:       {ScopeArea, []string{"city", "district"}},
	HQStaff:           {ScopeArea, []string{"city", "district"}},
	DistrictOfficer:   {ScopeArea, []string{"district"}},
	StreetOfficer:     {ScopeArea, []string{"street"}},
	CommunityWorker:   {ScopeArea, []string{"community", "grid"}},
	DepartmentOfficer: {ScopeDepartment, nil},
	WorkgroupMember:   {ScopeWorkgroup, nil},
	Liaison:           {ScopeArea, nil},
	EnterpriseContact: {ScopeEnterprise, nil},
	Volunteer:         {ScopeArea, nil},
	CheckpointOfficer: {ScopeCheckpoint, nil},
	Inspector:         {ScopeArea, nil},
}

// levelNames are the Chinese names of area levels, for messages.
var levelNames = map[string]string{"city": "市", "district": "区县", "street": "街道", "community": "社区村", "grid": "网格"}

func levelList(levels []string) string {
	names := make([]string, len(levels))
	for i, l := range levels {
		names[i] = levelNames[l]
	}
	return strings.Join(names, "或")
}

var scopeKindNames = map[ScopeKind]string{ScopeArea: "行政区划", ScopeDepartment: "部门", ScopeWorkgroup: "工作组",
	ScopeEnterprise: "企业", ScopeCheckpoint: "卡口"}

// RoleHas reports whether role r grants perm in every scope, without what
// a department's capabilities add (see Assignment.Grants).
func RoleHas(r Role, perm Permission) bool { return slices.Contains(rolePermissions[r], perm) }

// ValidRole reports whether r is a known role.
func ValidRole(r Role) bool { _, ok := rolePermissions[r]; return ok }

// Scope is what an assignment is bound to. Path is the area path the scope
// covers ("/430200/430203/"): the area itself, or the area of the
// department or work group; empty when the scope has no area.
type Scope struct {
	Kind ScopeKind `json:"kind"`
	Ref  string    `json:"ref"`
	Name string    `json:"name,omitempty"`
	Path string    `json:"-"`
	// Caps are a department's or a work group's capabilities, resolved
	// with the scope.
	Caps []Capability `json:"-"`
}

// String renders a scope as the command line takes it: an area code, or
// "kind:ref".
func (s Scope) String() string {
	if s.Kind == ScopeArea {
		return s.Ref
	}
	return string(s.Kind) + ":" + s.Ref
}

// ParseScope reads "430203", "area:430203", "department:gxj", ….
func ParseScope(s string) (Scope, error) {
	s = strings.TrimSpace(s)
	kind, ref, ok := strings.Cut(s, ":")
	if !ok {
		kind, ref = string(ScopeArea), s
	}
	ref = strings.TrimSpace(ref)
	switch ScopeKind(kind) {
	case ScopeArea, ScopeDepartment, ScopeWorkgroup, ScopeEnterprise, ScopeCheckpoint:
	default:
		return Scope{}, errs.Newf(errs.Invalid, "bad_scope", "范围 %q 无效：应为区划编码，或 department:编码、workgroup:编码、enterprise:信用代码、checkpoint:编号", s)
	}
	if ref == "" {
		return Scope{}, errs.Newf(errs.Invalid, "bad_scope", "范围 %q 缺少编码", s)
	}
	return Scope{Kind: ScopeKind(kind), Ref: ref}, nil
}

// Assignment is a role bound to a scope.
type Assignment struct {
	Role  Role  `json:"role"`
	Scope Scope `json:"scope"`
}

// Grants reports whether the assignment grants perm: its role does, or,
// bound to a department or a work group, one of its capabilities does.
func (a Assignment) Grants(perm Permission) bool {
	if slices.Contains(rolePermissions[a.Role], perm) {
		return true
	}
	if a.Scope.Kind == ScopeDepartment || a.Scope.Kind == ScopeWorkgroup {
		for _, c := range a.Scope.Caps {
			if slices.Contains(capabilityPermissions[c], perm) {
				return true
			}
		}
	}
	return false
}

// Principal is who is acting: a user with their assignments, or the system
// itself (command line, sweepers).
type Principal struct {
	UserID      int64
	Username    string
	DisplayName string
	Assignments []Assignment
	// ViaToken is true when the request was authenticated by an API token
	// (not a session or the command line); some acts need a session.
	ViaToken bool
	system   bool
}

// System is the principal of the command line and of background work: it
// may do everything, and is audited as "system".
func System() *Principal {
	return &Principal{Username: "system", DisplayName: "系统", system: true}
}

// IsSystem reports whether p is the system principal.
func (p *Principal) IsSystem() bool { return p != nil && p.system }

// Actor is the name written into the audit log.
func (p *Principal) Actor() string {
	if p == nil {
		return "anonymous"
	}
	return p.Username
}

// Refs returns the scope refs of p's assignments of role r (for example the
// credit codes of an enterprise contact's enterprises).
func (p *Principal) Refs(r Role) []string {
	if p == nil {
		return nil
	}
	var out []string
	for _, a := range p.Assignments {
		if a.Role == r {
			out = append(out, a.Scope.Ref)
		}
	}
	return out
}

// HasRole reports whether p holds role r in any scope.
func (p *Principal) HasRole(r Role) bool {
	if p == nil {
		return false
	}
	for _, a := range p.Assignments {
		if a.Role == r {
			return true
		}
	}
	return false
}

// Can reports whether p holds perm in any scope.
func (p *Principal) Can(perm Permission) bool {
	if p == nil {
		return false
	}
	if p.system {
		return true
	}
	for _, a := range p.Assignments {
		if a.Grants(perm) {
			return true
		}
	}
	return false
}

// AreaPaths returns the area subtrees in which p holds perm, without
// nested duplicates. all is true for the system principal, which is
// unrestricted.
func (p *Principal) AreaPaths(perm Permission) (paths []string, all bool) {
	if p == nil {
		return nil, false
	}
	if p.system {
		return nil, true
	}
	for _, a := range p.Assignments {
		// A department's personal data are those of its tickets, which
		// the ticket module reaches by department; the department's area
		// (the whole city for a city department) is not its reach.
		if perm == PIIReveal && a.Scope.Kind == ScopeDepartment {
			continue
		}
		if a.Scope.Path != "" && a.Grants(perm) {
			paths = append(paths, a.Scope.Path)
		}
	}
	return minimalPaths(paths), false
}

// minimalPaths drops paths inside other paths of the list.
func minimalPaths(paths []string) []string {
	slices.Sort(paths)
	var out []string
	for _, p := range paths {
		if len(out) > 0 && strings.HasPrefix(p, out[len(out)-1]) {
			continue
		}
		out = append(out, p)
	}
	return out
}

// Covers reports whether p holds perm over the area at path (its own scope
// or an ancestor's).
func (p *Principal) Covers(perm Permission, path string) bool {
	paths, all := p.AreaPaths(perm)
	if all {
		return true
	}
	if path == "" {
		return false
	}
	for _, s := range paths {
		if strings.HasPrefix(path, s) {
			return true
		}
	}
	return false
}

// ErrForbidden is returned to a caller who lacks a permission entirely.
func ErrForbidden(op string) error {
	return &errs.Error{Kind: errs.Forbidden, Code: "forbidden", Op: op, Message: "没有执行此操作的权限"}
}

// Require checks that p holds perm somewhere: Unauthorized without a
// principal, Forbidden without the permission.
func Require(p *Principal, perm Permission, op string) error {
	if p == nil {
		return &errs.Error{Kind: errs.Unauthorized, Code: "unauthenticated", Op: op, Message: "请先登录"}
	}
	if !p.Can(perm) {
		return ErrForbidden(op)
	}
	return nil
}

// Authorize is the one check for an object in an area: Forbidden without
// the permission, NotFound (with notFound's message) when the object's area
// path is outside every scope that grants it.
func Authorize(p *Principal, perm Permission, path string, op string, notFound *errs.Error) error {
	if err := Require(p, perm, op); err != nil {
		return err
	}
	if !p.Covers(perm, path) {
		e := *notFound
		e.Op = op
		return &e
	}
	return nil
}
