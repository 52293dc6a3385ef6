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
	"tongxin/internal/importer"
)

// Service is the use cases of the jurisdiction tree, departments and work
// groups. Each method authorises the caller, validates its input and runs
// in one transaction; every change is audited in that transaction.
type Service struct {
	db         *db.DB
	principals Principals
}

// NewService builds the service.
func NewService(d *db.DB) *Service { return &Service{db: d} }

// Principals forgets the cached principals bound to a scope;
// auth.Service satisfies it.
type Principals interface {
	ForgetScope(kind auth.ScopeKind, ref string)
}

// SetPrincipals lets a change to a department (its capabilities, name or
// area) drop the cached principals of its officers as soon as it commits.
// Call it while wiring, before serving; without it they notice within the
// principal cache's TTL.
func (s *Service) SetPrincipals(p Principals) { s.principals = p }

// forgetDepartment drops the cached principals of a department's officers
// once tx commits.
func (s *Service) forgetDepartment(tx *db.Tx, k orgKind, code string) {
	if s.principals != nil && k.table == departmentsTable {
		tx.AfterCommit(func() { s.principals.ForgetScope(auth.ScopeDepartment, code) })
	}
}

func errNotFound() *errs.Error { return errs.E(errs.NotFound, "area_not_found", "区划不存在") }

// scopeOf is the part of the tree where p holds perm.
func scopeOf(p *auth.Principal, perm auth.Permission) scope {
	paths, all := p.AreaPaths(perm)
	return scope{all: all, paths: paths}
}

// Search limits.
const (
	DefaultSearchLimit = 20
	MaxSearchLimit     = 200
)

// Get returns the area with code and its direct children. An area outside
// the caller's read scope is NotFound, like one that does not exist.
func (s *Service) Get(ctx context.Context, p *auth.Principal, code string) (*Area, error) {
	const op = "area.Get"
	if err := auth.Require(p, auth.AreaRead, op); err != nil {
		return nil, err
	}
	sc := scopeOf(p, auth.AreaRead)
	var out *Area
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		a, err := getArea(ctx, tx, strings.TrimSpace(code), sc)
		if err != nil {
			return err
		}
		if a.Children, err = listChildren(ctx, tx, a.Code, sc); err != nil {
			return err
		}
		out = a
		return nil
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return out, nil
}

// Roots returns the top areas the caller may see: the areas of its scopes,
// or every city for an unrestricted caller.
func (s *Service) Roots(ctx context.Context, p *auth.Principal) ([]Area, error) {
	const op = "area.Roots"
	if err := auth.Require(p, auth.AreaRead, op); err != nil {
		return nil, err
	}
	sc := scopeOf(p, auth.AreaRead)
	var out []Area
	err := s.db.Read(ctx, func(tx *db.Tx) (err error) {
		out, err = listRoots(ctx, tx, sc)
		return err
	})
	return out, errs.Wrap(op, err)
}

// Children returns the direct children of the area with code.
func (s *Service) Children(ctx context.Context, p *auth.Principal, code string) ([]Area, error) {
	const op = "area.Children"
	if err := auth.Require(p, auth.AreaRead, op); err != nil {
		return nil, err
	}
	sc := scopeOf(p, auth.AreaRead)
	var out []Area
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		a, err := getArea(ctx, tx, strings.TrimSpace(code), sc)
		if err != nil {
			return err
		}
		out, err = listChildren(ctx, tx, a.Code, sc)
		return err
	})
	return out, errs.Wrap(op, err)
}

// Ancestors returns the areas from the root down to the area with code
// itself, leaving out those the caller may not see (for breadcrumbs).
func (s *Service) Ancestors(ctx context.Context, p *auth.Principal, code string) ([]Area, error) {
	const op = "area.Ancestors"
	if err := auth.Require(p, auth.AreaRead, op); err != nil {
		return nil, err
	}
	sc := scopeOf(p, auth.AreaRead)
	var out []Area
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		a, err := getArea(ctx, tx, strings.TrimSpace(code), sc)
		if err != nil {
			return err
		}
		out, err = listByCodes(ctx, tx, CodesOf(a.Path), sc)
		return err
	})
	return out, errs.Wrap(op, err)
}

// Search returns areas inside the caller's scope whose name contains q or
// whose code starts with q, ordered by depth and code. limit is clamped to
// 1–MaxSearchLimit (DefaultSearchLimit when 0 or less).
func (s *Service) Search(ctx context.Context, p *auth.Principal, q string, limit int) ([]Area, error) {
	const op = "area.Search"
	if err := auth.Require(p, auth.AreaRead, op); err != nil {
		return nil, err
	}
	q = strings.TrimSpace(q)
	if q == "" {
		return []Area{}, nil
	}
	if utf8.RuneCountInString(q) > 100 {
		return nil, errs.Wrap(op, errs.E(errs.Invalid, "bad_query", "搜索词不能超过 100 个字符"))
	}
	if limit <= 0 {
		limit = DefaultSearchLimit
	}
	limit = min(limit, MaxSearchLimit)
	sc := scopeOf(p, auth.AreaRead)
	var out []Area
	err := s.db.Read(ctx, func(tx *db.Tx) (err error) {
		out, err = searchAreas(ctx, tx, q, limit, sc)
		return err
	})
	return out, errs.Wrap(op, err)
}

// PathOf returns the path of the area with code for other modules, which
// authorise their callers themselves. NotFound if there is no such area.
func (s *Service) PathOf(ctx context.Context, code string) (string, error) {
	const op = "area.PathOf"
	var path string
	err := s.db.Read(ctx, func(tx *db.Tx) (err error) {
		path, err = pathOf(ctx, tx, strings.TrimSpace(code))
		return err
	})
	return path, errs.Wrap(op, err)
}

// Lookup returns the area with code (without children) for other modules,
// which authorise their callers themselves. NotFound if there is no such
// area.
func (s *Service) Lookup(ctx context.Context, code string) (*Area, error) {
	const op = "area.Lookup"
	var out *Area
	err := s.db.Read(ctx, func(tx *db.Tx) (err error) {
		out, err = getArea(ctx, tx, strings.TrimSpace(code), scope{all: true})
		return err
	})
	return out, errs.Wrap(op, err)
}

// Names returns the names of the areas with the given codes, in one
// query, for other modules showing codes they keep (a page resolves all
// of its codes at once). Unknown codes are left out; callers show them as
// they are. Names are not secret: no caller is checked.
func (s *Service) Names(ctx context.Context, codes []string) (map[string]string, error) {
	const op = "area.Names"
	out := map[string]string{}
	if len(codes) == 0 {
		return out, nil
	}
	var a db.Args
	marks := make([]string, 0, len(codes))
	for _, c := range codes {
		marks = append(marks, a.Add(strings.TrimSpace(c)))
	}
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT code, name FROM areas WHERE code IN (`+strings.Join(marks, ", ")+`)`, a.List...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var code, name string
			if err := rows.Scan(&code, &name); err != nil {
				return err
			}
			out[code] = name
		}
		return rows.Err()
	})
	return out, errs.Wrap(op, err)
}

// Department returns the department with code for other modules, which
// authorise their callers themselves. NotFound if there is none.
func (s *Service) Department(ctx context.Context, code string) (*Department, error) {
	const op = "area.Department"
	var d Department
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT code, name, area_code FROM departments WHERE code = $1`,
			strings.TrimSpace(code)).Scan(&d.Code, &d.Name, &d.AreaCode)
		return db.NotFound(op, err, "department_not_found", "部门不存在")
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return &d, nil
}

// ImportResult is the answer to an accepted import. Rejected is always 0:
// a file with any bad row is refused as a whole with an error listing them.
type ImportResult struct {
	Accepted int               `json:"accepted"`
	Rejected int               `json:"rejected"`
	Created  int               `json:"created"`
	Updated  int               `json:"updated"`
	Errors   []errs.FieldError `json:"errors"`
}

// Import reads a CSV or XLSX file of areas (see ImportSpec), checks every
// row and then, only if all are good, creates the new areas and renames the
// existing ones in one transaction. Rows may list children before their
// parents. Every row is checked against the caller's write scope.
func (s *Service) Import(ctx context.Context, p *auth.Principal, data []byte) (*ImportResult, error) {
	const op = "area.Import"
	if err := auth.Require(p, auth.AreaWrite, op); err != nil {
		return nil, err
	}
	tbl, err := importer.Parse(data, ImportSpec)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	if len(tbl.Rows) == 0 {
		return nil, errs.Wrap(op, errs.E(errs.Invalid, "import_no_rows", "文件中没有数据行，未导入任何数据"))
	}
	rows := rowsOf(tbl)
	res := &ImportResult{Accepted: len(rows), Errors: []errs.FieldError{}}
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		changes, problems, err := s.applyAreas(ctx, tx, p, rows)
		if err != nil {
			return err
		}
		if len(problems) > 0 {
			var list importer.Errors
			for _, e := range problems {
				list.Add(e.Num, ImportSpec.HeaderOf(e.Key), e.Message)
			}
			return list.Err()
		}
		res.Created, res.Updated = countChanges(changes.list)
		top := CommonRoot(changes.paths)
		return audit.Record(ctx, tx, audit.Entry{ActorID: p.UserID, Actor: p.Actor(), Action: "area.import",
			ObjectType: "area", ObjectID: top, AreaCode: top,
			Summary: fmt.Sprintf("导入区划文件：共 %d 行，新建 %d 个，更新 %d 个", len(rows), res.Created, res.Updated)})
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return res, nil
}

// applied is what applyAreas did: the changes, and the paths of all rows.
type applied struct {
	list  []planned
	paths []string
}

// applyAreas plans rows against the stored tree and, when every row is
// good, writes and audits the changes. Problems are returned, not written.
func (s *Service) applyAreas(ctx context.Context, tx *db.Tx, p *auth.Principal, rows []rowInput) (*applied, []rowError, error) {
	var codes []string
	seen := map[string]bool{}
	for _, r := range rows {
		for _, c := range []string{normCode(r.Code), normCode(r.Parent)} {
			if c != "" && len(c) <= 32 && !seen[c] {
				seen[c] = true
				codes = append(codes, c)
			}
		}
	}
	known, err := knownAreas(ctx, tx, codes)
	if err != nil {
		return nil, nil, err
	}
	pl := planner{
		Known:    known,
		CanRead:  func(path string) bool { return p.Covers(auth.AreaRead, path) },
		CanWrite: func(path string) bool { return p.Covers(auth.AreaWrite, path) },
	}
	changes, problems := pl.Plan(rows)
	if len(problems) > 0 {
		return nil, problems, nil
	}
	paths := pl.Paths()
	for _, c := range changes {
		a := c.Area
		e := audit.Entry{ActorID: p.UserID, Actor: p.Actor(), ObjectType: "area", ObjectID: a.Code, AreaCode: a.Code}
		if c.Create {
			if err := insertArea(ctx, tx, a); err != nil {
				return nil, nil, err
			}
			e.Action = "area.create"
			e.Summary = fmt.Sprintf("新建%s级区划 %s（%s）", a.Level.Label(), a.Name, a.Code)
			if a.ParentCode != "" {
				e.Summary += "，上级 " + a.ParentCode
			}
		} else {
			if err := renameArea(ctx, tx, a.Code, a.Name); err != nil {
				return nil, nil, err
			}
			e.Action = "area.update"
			e.Summary = fmt.Sprintf("区划 %s 名称由“%s”改为“%s”", a.Code, c.OldName, a.Name)
		}
		if err := audit.Record(ctx, tx, e); err != nil {
			return nil, nil, err
		}
	}
	return &applied{list: changes, paths: paths}, nil, nil
}

func rowsOf(tbl *importer.Table) []rowInput {
	rows := make([]rowInput, len(tbl.Rows))
	for i, r := range tbl.Rows {
		rows[i] = rowInput{Num: r.Num, Code: r.Get("code"), Name: r.Get("name"), Level: r.Get("level"), Parent: r.Get("parent_code")}
	}
	return rows
}

func countChanges(changes []planned) (created, updated int) {
	for _, c := range changes {
		if c.Create {
			created++
		} else {
			updated++
		}
	}
	return created, updated
}

// CommonRoot returns the code of the deepest area shared by all non-empty
// paths, "" if none (or several roots): the area an audit row about
// several objects is filed under.
func CommonRoot(paths []string) string {
	var common []string
	first := true
	for _, p := range paths {
		if p == "" {
			continue
		}
		codes := CodesOf(p)
		if first {
			common, first = codes, false
			continue
		}
		n := 0
		for n < len(common) && n < len(codes) && common[n] == codes[n] {
			n++
		}
		common = common[:n]
	}
	if len(common) == 0 {
		return ""
	}
	return common[len(common)-1]
}

// Seed creates or updates the given areas, departments and work groups so
// that the database holds them, changing nothing that already matches: a
// second run with the same data changes nothing and writes no audit rows.
// It returns the number of objects created or changed.
func (s *Service) Seed(ctx context.Context, p *auth.Principal, areas []Area, depts []Department, groups []Workgroup) (int, error) {
	const op = "area.Seed"
	if err := auth.Require(p, auth.AreaWrite, op); err != nil {
		return 0, err
	}
	rows := make([]rowInput, len(areas))
	for i, a := range areas {
		rows[i] = rowInput{Num: i + 1, Code: a.Code, Name: a.Name, Level: string(a.Level), Parent: a.ParentCode}
	}
	changed := 0
	err := s.db.Write(ctx, func(tx *db.Tx) error {
		changes, problems, err := s.applyAreas(ctx, tx, p, rows)
		if err != nil {
			return err
		}
		if len(problems) > 0 {
			fields := make([]errs.FieldError, len(problems))
			for i, e := range problems {
				fields[i] = errs.FieldError{Row: e.Num, Field: e.Key, Message: e.Message}
			}
			return errs.Rows("seed_invalid", fmt.Sprintf("区划数据有 %d 处错误，未写入任何数据", len(fields)), fields)
		}
		changed += len(changes.list)
		for _, d := range depts {
			ok, err := s.upsertOrg(ctx, tx, p, departmentKind(), deptRow(d, true))
			if err != nil {
				return err
			}
			if ok {
				changed++
			}
		}
		for _, g := range groups {
			ok, err := s.upsertOrg(ctx, tx, p, workgroupKind(), orgRow{Code: g.Code, Name: g.Name, AreaCode: g.AreaCode, Remit: g.Remit})
			if err != nil {
				return err
			}
			if ok {
				changed++
			}
		}
		return nil
	})
	if err != nil {
		return 0, errs.Wrap(op, err)
	}
	return changed, nil
}

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

// capsOf reads a department's stored capabilities; never nil.
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

// capNames are the capabilities in Chinese, for messages and the audit.
var capNames = map[auth.Capability]string{auth.CapPassReview: "审核通行证", auth.CapResumptionManage: "管理复工复产企业名录"}

// capsSummary renders stored capabilities for the audit log.
func capsSummary(stored string) string {
	var names []string
	for _, c := range auth.ParseCapabilities(stored) {
		names = append(names, capNames[c]+"（"+string(c)+"）")
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

// validate checks the fields of a department or work group.
func (k orgKind) validate(r orgRow) error {
	var fields []errs.FieldError
	for _, c := range auth.ParseCapabilities(r.Caps) {
		if !auth.ValidCapability(c) {
			fields = append(fields, errs.FieldError{Field: "capabilities",
				Message: fmt.Sprintf("未知的部门职能“%s”：可选 pass_review（审核通行证）、resumption_manage（管理复工复产企业名录）", clip(string(c)))})
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
	if k.table == departmentsTable {
		s += "，职能：" + capsSummary(r.Caps)
	}
	return s
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
		s.forgetDepartment(tx, k, r.Code)
		was := "；原为 " + old.Name + "，所属区划 " + old.AreaCode
		if k.table == departmentsTable {
			was += "，职能：" + capsSummary(old.Caps)
		}
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
	s.forgetDepartment(tx, k, r.Code)
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
	return Workgroup{Code: r.Code, Name: r.Name, AreaCode: r.AreaCode, Remit: r.Remit}
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
	r, err := s.createOrg(ctx, p, workgroupKind(), orgRow{Code: g.Code, Name: g.Name, AreaCode: g.AreaCode, Remit: g.Remit}, "area.CreateWorkgroup")
	if err != nil {
		return nil, err
	}
	out := groupOf(r)
	return &out, nil
}

// UpdateWorkgroup changes the name, area or remit of the work group g.Code.
func (s *Service) UpdateWorkgroup(ctx context.Context, p *auth.Principal, g Workgroup) (*Workgroup, error) {
	r, err := s.updateOrg(ctx, p, workgroupKind(), orgRow{Code: g.Code, Name: g.Name, AreaCode: g.AreaCode, Remit: g.Remit}, "area.UpdateWorkgroup")
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
