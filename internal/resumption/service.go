package resumption

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"tongxin/internal/audit"
	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/pii"
)

// AreaPaths resolves area codes to their paths; area.Service satisfies it.
type AreaPaths interface {
	PathOf(ctx context.Context, code string) (string, error)
}

// Users looks up accounts; auth.Service satisfies it.
type Users interface {
	LookupUser(ctx context.Context, username string) (int64, []auth.Assignment, error)
}

// Service is the work resumption use cases. Every method authorizes its
// caller, validates its input and runs in one transaction.
type Service struct {
	db      *db.DB
	box     *pii.Box
	areas   AreaPaths
	users   Users
	dataDir string
	clock   clock.Clock
	// perUnitStats turns the per-day figures off (tests compare the two
	// paths).
	perUnitStats bool
}

// Deps are what the service needs besides the database.
type Deps struct {
	// Box seals and indexes contact phones.
	Box *pii.Box
	// Areas resolves area codes to paths (area.Service).
	Areas AreaPaths
	// Users looks up liaison accounts (auth.Service).
	Users Users
	// DataDir holds uploaded plan files (see PlanDir).
	DataDir string
}

// NewService builds the service.
func NewService(d *db.DB, deps Deps) *Service {
	return &Service{db: d, box: deps.Box, areas: deps.Areas, users: deps.Users, dataDir: deps.DataDir, clock: d.Clock}
}

// Now is the service clock's time.
func (s *Service) Now() time.Time { return s.db.Clock.Now() }

// EnterpriseInput is an enterprise or project as registered or imported.
// Key is the unified social credit code of an enterprise, or the project
// code of a project. Categories are codes or Chinese names.
type EnterpriseInput struct {
	Key          string   `json:"key"`
	Kind         Kind     `json:"kind"`
	Name         string   `json:"name"`
	AreaCode     string   `json:"area_code"`
	Park         string   `json:"park"`
	Categories   []string `json:"categories"`
	IsKey        bool     `json:"is_key"`
	Employees    int      `json:"employees"`
	ContactName  string   `json:"contact_name"`
	ContactPhone string   `json:"contact_phone"`
	ClosedLoop   bool     `json:"closed_loop"`
}

// Limits of the registry's text fields, in characters.
const (
	maxNameLen        = 100
	maxParkLen        = 100
	maxContactNameLen = 50
)

var projectCodeRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,40}$`)

// errEnterpriseNotFound answers a key that does not exist or is out of reach.
func errEnterpriseNotFound() *errs.Error {
	return errs.E(errs.NotFound, "enterprise_not_found", "企业不存在")
}

// enterpriseRecord is a validated EnterpriseInput.
type enterpriseRecord struct {
	Key         string
	Kind        Kind
	Name        string
	AreaCode    string
	AreaPath    string
	Park        string
	Categories  []Category
	IsKey       bool
	Employees   int
	ContactName string
	Phone       string // normalized, in clear; stored sealed
	ClosedLoop  bool
}

// normalizeKey checks the key of an enterprise (credit code) or a project
// (project code) and returns it in canonical form, or a message.
func normalizeKey(kind Kind, raw string) (string, string) {
	raw = strings.TrimSpace(raw)
	if kind == KindProject {
		switch {
		case raw == "":
			return "", "请填写项目编码"
		case !projectCodeRE.MatchString(raw):
			return "", "项目编码须为 1–40 位字母、数字、- 或 _"
		}
		return raw, ""
	}
	c, err := pii.NormalizeCreditCode(raw)
	if err != nil {
		return "", err.Error()
	}
	return c, ""
}

// lookupKey is the stored form of a key typed by a user: a valid credit
// code canonicalized, anything else (a project code) trimmed.
func lookupKey(raw string) string {
	raw = strings.TrimSpace(raw)
	if c, err := pii.NormalizeCreditCode(raw); err == nil {
		return c
	}
	return raw
}

// validateEnterprise checks everything of in that needs no database and
// returns the record and the problems by field (the JSON names of
// EnterpriseInput). The area is checked by checkArea.
func validateEnterprise(in EnterpriseInput) (enterpriseRecord, []errs.FieldError) {
	var fe []errs.FieldError
	add := func(field, msg string) { fe = append(fe, errs.FieldError{Field: field, Message: msg}) }
	r := enterpriseRecord{
		Kind:        in.Kind,
		Name:        strings.TrimSpace(in.Name),
		AreaCode:    strings.TrimSpace(in.AreaCode),
		Park:        strings.TrimSpace(in.Park),
		IsKey:       in.IsKey,
		Employees:   in.Employees,
		ContactName: strings.TrimSpace(in.ContactName),
		ClosedLoop:  in.ClosedLoop,
	}
	if r.Kind == "" {
		r.Kind = KindEnterprise
	}
	if r.Kind != KindEnterprise && r.Kind != KindProject {
		add("kind", "类型须为 enterprise（企业）或 project（项目）")
	} else if k, msg := normalizeKey(r.Kind, in.Key); msg != "" {
		add("key", msg)
	} else {
		r.Key = k
	}
	if n := utf8.RuneCountInString(r.Name); n == 0 || n > maxNameLen {
		add("name", fmt.Sprintf("名称须为 1–%d 个字", maxNameLen))
	}
	if r.AreaCode == "" {
		add("area_code", "请填写区域编码")
	}
	if utf8.RuneCountInString(r.Park) > maxParkLen {
		add("park", fmt.Sprintf("园区名称不能超过 %d 个字", maxParkLen))
	}
	seen := map[Category]bool{}
	for _, c := range in.Categories {
		if strings.TrimSpace(c) == "" {
			continue
		}
		cat, err := ParseCategory(c)
		if err != nil {
			add("categories", err.Error())
			continue
		}
		if !seen[cat] {
			seen[cat] = true
			r.Categories = append(r.Categories, cat)
		}
	}
	sortCategories(r.Categories)
	if r.Employees < 0 {
		add("employees", "职工人数不能为负")
	}
	if utf8.RuneCountInString(r.ContactName) > maxContactNameLen {
		add("contact_name", fmt.Sprintf("联系人不能超过 %d 个字", maxContactNameLen))
	}
	if strings.TrimSpace(in.ContactPhone) != "" {
		phone, err := pii.NormalizeContactPhone(in.ContactPhone)
		if err != nil {
			add("contact_phone", err.Error())
		}
		r.Phone = phone
	}
	return r, fe
}

// sortCategories puts categories in display order.
func sortCategories(cs []Category) {
	slices.SortFunc(cs, func(a, b Category) int {
		return slices.Index(Categories, a) - slices.Index(Categories, b)
	})
}

// checkArea resolves the area an enterprise is registered in and checks
// that it is below the city and within p's ResumptionManage scope. It
// returns the path, or a message for the user.
func (s *Service) checkArea(ctx context.Context, p *auth.Principal, code string) (string, string, error) {
	path, err := s.areas.PathOf(ctx, code)
	if errs.Is(err, errs.NotFound) {
		return "", fmt.Sprintf("区域编码 %s 不存在", code), nil
	}
	if err != nil {
		return "", "", err
	}
	if strings.Count(path, "/") <= 2 {
		return "", fmt.Sprintf("区域 %s 是全市，企业须登记到区县、街道、社区或网格", code), nil
	}
	if !p.Covers(auth.ResumptionManage, path) {
		return "", fmt.Sprintf("无权在区域 %s 登记企业（不在您的管辖范围内）", code), nil
	}
	return path, "", nil
}

// reach is the visibility of p with perm: Unauthorized without a
// principal, Forbidden when p holds perm nowhere and is neither an
// enterprise contact nor a liaison.
func reach(p *auth.Principal, perm auth.Permission, op string) (visibility, error) {
	if p == nil {
		return visibility{}, auth.Require(p, perm, op)
	}
	v := visibilityFor(p, perm)
	if !p.Can(perm) && len(v.keys) == 0 && v.liaisonID == 0 {
		return v, auth.ErrForbidden(op)
	}
	return v, nil
}

// Save creates the enterprise with in.Key or updates it. The caller needs
// ResumptionManage over its area (for an update, the old and the new one).
// created reports whether it was new.
func (s *Service) Save(ctx context.Context, p *auth.Principal, in EnterpriseInput) (*Enterprise, bool, error) {
	const op = "resumption.Save"
	if err := auth.Require(p, auth.ResumptionManage, op); err != nil {
		return nil, false, err
	}
	rec, fe := validateEnterprise(in)
	if rec.AreaCode != "" {
		path, msg, err := s.checkArea(ctx, p, rec.AreaCode)
		if err != nil {
			return nil, false, errs.Wrap(op, err)
		}
		if msg != "" {
			fe = append(fe, errs.FieldError{Field: "area_code", Message: msg})
		}
		rec.AreaPath = path
	}
	if len(fe) > 0 {
		return nil, false, &errs.Error{Kind: errs.Invalid, Code: "invalid_enterprise", Op: op, Message: fe[0].Message, Fields: fe}
	}
	phoneEnc, err := s.box.Seal(rec.Phone)
	if err != nil {
		return nil, false, errs.Wrap(op, err)
	}
	var e *Enterprise
	var created bool
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		old, err := storedByKeys(ctx, tx, []string{rec.Key})
		if err != nil {
			return err
		}
		prev := old[rec.Key]
		if msg := updateProblem(p, rec, prev); msg != "" {
			return errs.E(errs.Conflict, "enterprise_conflict", msg)
		}
		if created, err = s.writeEnterprise(ctx, tx, p, rec, phoneEnc, prev); err != nil {
			return err
		}
		e, err = s.enterpriseTx(ctx, tx, visibility{all: true}, rec.Key)
		return err
	})
	if err != nil {
		return nil, false, errs.Wrap(op, err)
	}
	return e, created, nil
}

// updateProblem says why rec may not replace the stored prev, "" if it may
// (or there is no prev).
func updateProblem(p *auth.Principal, rec enterpriseRecord, prev *storedEnterprise) string {
	switch {
	case prev == nil:
		return ""
	case !p.Covers(auth.ResumptionManage, prev.AreaPath):
		return fmt.Sprintf("%s 已登记在您管辖范围之外的区域，无法修改", rec.Key)
	case prev.Kind != rec.Kind:
		return fmt.Sprintf("%s 已登记为%s，不能改为%s", rec.Key, zhKind(prev.Kind), zhKind(rec.Kind))
	}
	return ""
}

func zhKind(k Kind) string {
	if k == KindProject {
		return "项目"
	}
	return "企业"
}

// writeEnterprise inserts rec (prev nil) or updates prev to rec, replaces
// its categories and audits the change.
func (s *Service) writeEnterprise(ctx context.Context, tx *db.Tx, p *auth.Principal, rec enterpriseRecord, phoneEnc []byte, prev *storedEnterprise) (bool, error) {
	phoneIdx := s.box.Index("phone", rec.Phone)
	entry := audit.Entry{ActorID: p.UserID, Actor: p.Actor(), ObjectType: "enterprise", ObjectID: rec.Key, AreaCode: rec.AreaCode}
	var id int64
	var moved *dayChange
	if prev == nil {
		var err error
		if id, err = insertEnterprise(ctx, tx, rec, phoneEnc, phoneIdx); err != nil {
			return false, err
		}
		moved = newUnitsChange([]int64{id})
		entry.Action = "enterprise.create"
		entry.Summary = createSummary(rec)
	} else {
		id = prev.ID
		// The unit's per-day figures move with its area, categories and
		// key flag (a new unit's count is added).
		var err error
		if moved, err = beginDayChange(ctx, tx, []int64{id}); err != nil {
			return false, err
		}
		if err := updateEnterprise(ctx, tx, id, rec, phoneEnc, phoneIdx); err != nil {
			return false, err
		}
		entry.Action = "enterprise.update"
		entry.Summary = updateSummary(rec, prev, phoneIdx)
	}
	if err := replaceCategories(ctx, tx, id, rec.Categories); err != nil {
		return false, err
	}
	if moved != nil {
		if err := moved.commit(ctx, tx); err != nil {
			return false, err
		}
	}
	return prev == nil, audit.Record(ctx, tx, entry)
}

func zhCategories(cs []Category) string {
	if len(cs) == 0 {
		return "无"
	}
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = CategoryNames[c]
	}
	return strings.Join(names, "、")
}

func zhYesNo(b bool) string {
	if b {
		return "是"
	}
	return "否"
}

func createSummary(r enterpriseRecord) string {
	s := fmt.Sprintf("新建%s %s（%s），区域 %s", zhKind(r.Kind), r.Name, r.Key, r.AreaCode)
	if r.Park != "" {
		s += "，园区 " + r.Park
	}
	s += fmt.Sprintf("，类别 %s，重点 %s，职工 %d 人，闭环生产 %s", zhCategories(r.Categories), zhYesNo(r.IsKey), r.Employees, zhYesNo(r.ClosedLoop))
	if r.ContactName != "" {
		s += "，联系人 " + pii.MaskName(r.ContactName)
	}
	if r.Phone != "" {
		s += "，电话 " + pii.MaskPhone(r.Phone)
	}
	return s
}

func updateSummary(r enterpriseRecord, prev *storedEnterprise, phoneIdx string) string {
	var ch []string
	if r.Name != prev.Name {
		ch = append(ch, fmt.Sprintf("名称“%s”改为“%s”", prev.Name, r.Name))
	}
	if r.AreaCode != prev.AreaCode {
		ch = append(ch, fmt.Sprintf("区域 %s 改为 %s", prev.AreaCode, r.AreaCode))
	}
	if r.Park != prev.Park {
		ch = append(ch, fmt.Sprintf("园区“%s”改为“%s”", prev.Park, r.Park))
	}
	if !slices.Equal(r.Categories, prev.Categories) {
		ch = append(ch, fmt.Sprintf("类别 %s 改为 %s", zhCategories(prev.Categories), zhCategories(r.Categories)))
	}
	if r.IsKey != prev.IsKey {
		ch = append(ch, "重点 改为 "+zhYesNo(r.IsKey))
	}
	if r.Employees != prev.Employees {
		ch = append(ch, fmt.Sprintf("职工人数 %d 改为 %d", prev.Employees, r.Employees))
	}
	if r.ContactName != prev.ContactName {
		ch = append(ch, "联系人改为 "+pii.MaskName(r.ContactName))
	}
	if phoneIdx != prev.PhoneIdx {
		if r.Phone == "" {
			ch = append(ch, "联系电话已删除")
		} else {
			ch = append(ch, "联系电话改为 "+pii.MaskPhone(r.Phone))
		}
	}
	if r.ClosedLoop != prev.ClosedLoop {
		ch = append(ch, "闭环生产 改为 "+zhYesNo(r.ClosedLoop))
	}
	s := fmt.Sprintf("更新%s %s（%s）：", zhKind(r.Kind), r.Name, r.Key)
	if len(ch) == 0 {
		return s + "无变化"
	}
	return s + strings.Join(ch, "，")
}

// Get returns the enterprise with key, with its categories and liaisons.
// NotFound when it does not exist or p may not read it.
func (s *Service) Get(ctx context.Context, p *auth.Principal, key string) (*Enterprise, error) {
	const op = "resumption.Get"
	v, err := reach(p, auth.ResumptionRead, op)
	if err != nil {
		return nil, err
	}
	var e *Enterprise
	err = s.db.Read(ctx, func(tx *db.Tx) (err error) {
		e, err = s.enterpriseTx(ctx, tx, v, lookupKey(key))
		return err
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return e, nil
}

// enterpriseTx loads one enterprise within v, with categories and liaisons.
func (s *Service) enterpriseTx(ctx context.Context, tx *db.Tx, v visibility, key string) (*Enterprise, error) {
	list, err := s.queryEnterprises(ctx, tx, v, enterpriseQuery{key: key, limit: 1})
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, errEnterpriseNotFound()
	}
	return &list[0], nil
}

// ListFilter selects enterprises. Areas are area codes (subtrees);
// Category "four_above" means any category; After is a key cursor.
type ListFilter struct {
	Areas    []string
	Park     string
	Category Category
	Kind     Kind
	KeyOnly  bool
	Query    string
	After    string
	Limit    int
}

// DefaultListLimit is the page size when ListFilter.Limit is 0.
const DefaultListLimit = 50

// List returns the enterprises p may read that match f, ordered by key,
// at most f.Limit of them after f.After.
func (s *Service) List(ctx context.Context, p *auth.Principal, f ListFilter) ([]Enterprise, error) {
	const op = "resumption.List"
	v, err := reach(p, auth.ResumptionRead, op)
	if err != nil {
		return nil, err
	}
	q := enterpriseQuery{park: strings.TrimSpace(f.Park), kind: f.Kind, keyOnly: f.KeyOnly,
		query: strings.TrimSpace(f.Query), after: f.After, limit: f.Limit}
	if q.limit <= 0 {
		q.limit = DefaultListLimit
	}
	switch {
	case f.Category == "":
	case f.Category == "four_above": // "四上": any of the four
		q.anyCategory = true
	case slices.Contains(Categories, f.Category):
		q.category = f.Category
	default:
		return nil, errs.Wrap(op, &errs.Error{Kind: errs.Invalid, Code: "bad_filter", Message: fmt.Sprintf("未知类别 %q", f.Category),
			Fields: []errs.FieldError{{Field: "category", Message: "未知类别"}}})
	}
	if f.Kind != "" && f.Kind != KindEnterprise && f.Kind != KindProject {
		return nil, errs.Wrap(op, &errs.Error{Kind: errs.Invalid, Code: "bad_filter", Message: "类型须为 enterprise 或 project",
			Fields: []errs.FieldError{{Field: "kind", Message: "类型须为 enterprise 或 project"}}})
	}
	for _, code := range f.Areas {
		code = strings.TrimSpace(code)
		if code == "" {
			continue
		}
		path, err := s.areas.PathOf(ctx, code)
		if errs.Is(err, errs.NotFound) {
			return nil, errs.Wrap(op, &errs.Error{Kind: errs.Invalid, Code: "bad_filter", Message: fmt.Sprintf("区域 %s 不存在", code),
				Fields: []errs.FieldError{{Field: "area", Message: "区域不存在"}}})
		}
		if err != nil {
			return nil, errs.Wrap(op, err)
		}
		q.areaPaths = append(q.areaPaths, path)
	}
	var out []Enterprise
	err = s.db.Read(ctx, func(tx *db.Tx) (err error) {
		out, err = s.queryEnterprises(ctx, tx, v, q)
		return err
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	if out == nil {
		out = []Enterprise{}
	}
	return out, nil
}
