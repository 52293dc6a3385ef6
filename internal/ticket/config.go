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
)

func errCategoryNotFound() *errs.Error {
	return errs.E(errs.NotFound, "category_not_found", "工单类别不存在")
}

func (s *Service) category(ctx context.Context, code string) (Category, error) {
	var c Category
	err := s.db.Read(ctx, func(tx *db.Tx) (err error) {
		c, err = s.categoryTx(ctx, tx, code)
		return err
	})
	return c, err
}

func (s *Service) categoryTx(ctx context.Context, tx *db.Tx, code string) (Category, error) {
	return getCategory(ctx, tx, code)
}

// Categories lists the categories in display order (inactive ones too, for
// managers; callers filter).
func (s *Service) Categories(ctx context.Context) ([]Category, error) {
	var out []Category
	err := s.db.Read(ctx, func(tx *db.Tx) (err error) {
		out, err = listCategories(ctx, tx)
		return err
	})
	return out, err
}

// SaveCategory creates or updates a category (HQ staff).
func (s *Service) SaveCategory(ctx context.Context, p *auth.Principal, c Category) (*Category, error) {
	const op = "ticket.SaveCategory"
	if err := auth.Require(p, auth.TicketManage, op); err != nil {
		return nil, err
	}
	c.Code = strings.TrimSpace(c.Code)
	c.Name = strings.TrimSpace(c.Name)
	c.NameEn = strings.TrimSpace(c.NameEn)
	var fields []errs.FieldError
	if !categoryCodeRE.MatchString(c.Code) {
		fields = append(fields, errs.FieldError{Field: "code", Message: "须为 2–32 位小写字母、数字或下划线，以字母开头"})
	}
	if msg := errs.CheckText(c.Name, 20, true); msg != "" {
		fields = append(fields, errs.FieldError{Field: "name", Message: msg})
	}
	if msg := errs.CheckText(c.NameEn, 50, false); msg != "" {
		fields = append(fields, errs.FieldError{Field: "name_en", Message: msg})
	}
	if c.ConfirmAfter == 0 {
		c.ConfirmAfter = Duration(DefaultConfirmAfter)
	}
	switch c.Audience {
	case "":
		c.Audience = AudienceAll
	case AudienceAll, AudienceEnterprise, AudienceResident:
	default:
		fields = append(fields, errs.FieldError{Field: "audience", Message: "须为 all、enterprise 或 resident"})
	}
	if len(fields) > 0 {
		return nil, errs.Fields("invalid_category", "类别有误", fields...)
	}
	err := s.db.Write(ctx, func(tx *db.Tx) error {
		if err := saveCategory(ctx, tx, &c); err != nil {
			return err
		}
		state := "启用"
		if !c.Active {
			state = "停用"
		}
		return audit.Record(ctx, tx, audit.Entry{ActorID: p.UserID, Actor: p.Actor(), Action: "ticket.category",
			ObjectType: "ticket_category", ObjectID: c.Code,
			Summary: fmt.Sprintf("工单类别 %s（%s），%s，%s，办结后 %s 自动确认", c.Name, c.Code, state, AudienceNames[c.Audience],
				durationLabel(time.Duration(c.ConfirmAfter)))})
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return &c, nil
}

// RuleView is a rule as the API shows it.
type RuleView struct {
	Rule  string `json:"rule"`
	Label string `json:"label"`
}

// PolicyView is the deadlines of one urgency.
type PolicyView struct {
	RespondBy RuleView `json:"respond_by"`
	ResolveBy RuleView `json:"resolve_by"`
	Default   bool     `json:"default"`
}

// CategoryPolicy is a category with its deadlines per urgency.
type CategoryPolicy struct {
	Category
	Policies map[Urgency]PolicyView `json:"policies"`
}

func viewOf(p Policy, def bool) PolicyView {
	return PolicyView{RespondBy: RuleView{p.RespondBy.String(), p.RespondBy.Label()},
		ResolveBy: RuleView{p.ResolveBy.String(), p.ResolveBy.Label()}, Default: def}
}

// Policies lists every category with its effective deadlines. Anyone who
// may file or read tickets may see them.
func (s *Service) Policies(ctx context.Context, p *auth.Principal) ([]CategoryPolicy, error) {
	const op = "ticket.Policies"
	if p == nil || (!p.Can(auth.TicketRead) && !p.Can(auth.TicketFile) && !p.Can(auth.TicketHandle)) {
		return nil, auth.Require(p, auth.TicketRead, op)
	}
	var out []CategoryPolicy
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		cats, err := listCategories(ctx, tx)
		if err != nil {
			return err
		}
		stored, err := storedPolicies(ctx, tx)
		if err != nil {
			return err
		}
		for _, c := range cats {
			cp := CategoryPolicy{Category: c, Policies: map[Urgency]PolicyView{}}
			for _, u := range Urgencies {
				pol, err := policyOf(ctx, tx, c.Code, u)
				if err != nil {
					return err
				}
				cp.Policies[u] = viewOf(pol, !stored[c.Code+"/"+string(u)])
			}
			out = append(out, cp)
		}
		return nil
	})
	return out, errs.Wrap(op, err)
}

// RuleInput is one urgency's deadlines as written: {"respond_by":"2h","resolve_by":"overnight"}.
type RuleInput struct {
	RespondBy string `json:"respond_by"`
	ResolveBy string `json:"resolve_by"`
}

// PolicyInput sets a category's deadlines; omitted urgencies keep theirs.
// ConfirmAfter, when set, changes how long a resolved ticket waits for its
// reporter.
type PolicyInput struct {
	Normal       *RuleInput `json:"normal"`
	Urgent       *RuleInput `json:"urgent"`
	Critical     *RuleInput `json:"critical"`
	ConfirmAfter string     `json:"confirm_after"`
}

// parsedRule is one urgency's deadlines as read from a PolicyInput.
type parsedRule struct {
	u                Urgency
	respond, resolve Rule
}

// parsePolicy reads the rules and the confirmation time of in.
func parsePolicy(in PolicyInput) ([]parsedRule, time.Duration, error) {
	var rules []parsedRule
	var fields []errs.FieldError
	for _, x := range []struct {
		u  Urgency
		in *RuleInput
	}{{Normal, in.Normal}, {Urgent, in.Urgent}, {Critical, in.Critical}} {
		if x.in == nil {
			continue
		}
		r1, err1 := ParseRule(x.in.RespondBy)
		r2, err2 := ParseRule(x.in.ResolveBy)
		if err1 != nil {
			fields = append(fields, errs.FieldError{Field: string(x.u) + ".respond_by", Message: err1.Error()})
		}
		if err2 != nil {
			fields = append(fields, errs.FieldError{Field: string(x.u) + ".resolve_by", Message: err2.Error()})
		}
		rules = append(rules, parsedRule{x.u, r1, r2})
	}
	var confirm time.Duration
	if in.ConfirmAfter != "" {
		r, err := ParseRule(in.ConfirmAfter)
		if err != nil || r.After == 0 {
			fields = append(fields, errs.FieldError{Field: "confirm_after", Message: "须为时长，如 72h、3d"})
		}
		confirm = r.After
	}
	if len(rules) == 0 && confirm == 0 && len(fields) == 0 {
		fields = append(fields, errs.FieldError{Field: "normal", Message: "请至少设置一个紧急程度的时限"})
	}
	if len(fields) > 0 {
		return nil, 0, errs.Fields("invalid_policy", "时限设置有误", fields...)
	}
	return rules, confirm, nil
}

// SetPolicy replaces the deadlines of a category (HQ staff).
func (s *Service) SetPolicy(ctx context.Context, p *auth.Principal, category string, in PolicyInput) (*CategoryPolicy, error) {
	const op = "ticket.SetPolicy"
	if err := auth.Require(p, auth.TicketManage, op); err != nil {
		return nil, err
	}
	rules, confirm, err := parsePolicy(in)
	if err != nil {
		return nil, err
	}
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		cat, err := s.categoryTx(ctx, tx, strings.TrimSpace(category))
		if err != nil {
			return err
		}
		var parts []string
		for _, r := range rules {
			if err := savePolicy(ctx, tx, cat.Code, r, p.Actor()); err != nil {
				return err
			}
			parts = append(parts, fmt.Sprintf("%s：响应 %s，办结 %s", UrgencyNames[r.u], r.respond.Label(), r.resolve.Label()))
		}
		if confirm > 0 {
			if err := setConfirmAfter(ctx, tx, cat.Code, confirm); err != nil {
				return err
			}
			parts = append(parts, "办结后 "+durationLabel(confirm)+" 自动确认")
		}
		return audit.Record(ctx, tx, audit.Entry{ActorID: p.UserID, Actor: p.Actor(), Action: "ticket.policy",
			ObjectType: "ticket_category", ObjectID: cat.Code, Summary: "工单时限 " + cat.Name + "：" + strings.Join(parts, "；")})
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	all, err := s.Policies(ctx, p)
	if err != nil {
		return nil, err
	}
	for i := range all {
		if all[i].Code == strings.TrimSpace(category) {
			return &all[i], nil
		}
	}
	return nil, errs.Wrap(op, errCategoryNotFound())
}

// routedDept is the department a rule sends a ticket to.
type routedDept struct{ Code, Name string }

// Route is a routing rule: tickets of Category in the subtree of AreaCode
// go to Department; the deepest matching area wins.
type Route struct {
	ID             int64     `json:"id"`
	Category       string    `json:"category"`
	CategoryName   string    `json:"category_name"`
	AreaCode       string    `json:"area_code"`
	AreaName       string    `json:"area_name"`
	Department     string    `json:"department"`
	DepartmentName string    `json:"department_name"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// RouteInput is a routing rule as written.
type RouteInput struct {
	Category   string `json:"category"`
	AreaCode   string `json:"area_code"`
	Department string `json:"department"`
}

// Routes lists the routing rules within p's reach.
func (s *Service) Routes(ctx context.Context, p *auth.Principal) ([]Route, error) {
	const op = "ticket.Routes"
	if p == nil || (!p.Can(auth.TicketRead) && !p.Can(auth.TicketManage) && !p.Can(auth.TicketHandle)) {
		return nil, auth.Require(p, auth.TicketRead, op)
	}
	// A rule is in reach when its area is inside one of p's areas or above
	// it (a city rule routes the district's tickets too); the rules of
	// other districts are not.
	var scopes []string
	all := p.IsSystem()
	for _, perm := range []auth.Permission{auth.TicketRead, auth.TicketHandle, auth.TicketManage} {
		paths, everything := p.AreaPaths(perm)
		all = all || everything
		scopes = append(scopes, paths...)
	}
	inReach := func(path string) bool {
		for _, sp := range scopes {
			if strings.HasPrefix(path, sp) || strings.HasPrefix(sp, path) {
				return true
			}
		}
		return all
	}
	var out []Route
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		rows, err := listRoutes(ctx, tx)
		for _, r := range rows {
			if inReach(r.path) {
				out = append(out, r.Route)
			}
		}
		return err
	})
	return out, errs.Wrap(op, err)
}

// SaveRoute creates or replaces the rule for (category, area) (HQ staff,
// for areas within their scope).
func (s *Service) SaveRoute(ctx context.Context, p *auth.Principal, in RouteInput) (*Route, error) {
	const op = "ticket.SaveRoute"
	if err := auth.Require(p, auth.TicketManage, op); err != nil {
		return nil, err
	}
	in.Category, in.AreaCode, in.Department = strings.TrimSpace(in.Category), strings.TrimSpace(in.AreaCode), strings.TrimSpace(in.Department)
	var fields []errs.FieldError
	var ar *area.Area
	var dept *area.Department
	if _, err := s.category(ctx, in.Category); err != nil {
		if !errs.Is(err, errs.NotFound) {
			return nil, errs.Wrap(op, err)
		}
		fields = append(fields, errs.FieldError{Field: "category", Message: "未知类别"})
	}
	ar, err := s.areas.Lookup(ctx, in.AreaCode)
	if err != nil {
		if !errs.Is(err, errs.NotFound) {
			return nil, errs.Wrap(op, err)
		}
		fields = append(fields, errs.FieldError{Field: "area_code", Message: "区划不存在"})
	} else if !p.Covers(auth.TicketManage, ar.Path) {
		fields = append(fields, errs.FieldError{Field: "area_code", Message: "不在您的管辖范围内"})
	}
	dept, err = s.areas.Department(ctx, in.Department)
	if err != nil {
		if !errs.Is(err, errs.NotFound) {
			return nil, errs.Wrap(op, err)
		}
		fields = append(fields, errs.FieldError{Field: "department", Message: "部门不存在"})
	}
	if len(fields) > 0 {
		return nil, errs.Fields("invalid_route", "分派规则有误", fields...)
	}
	var id int64
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		var err error
		if id, err = saveRoute(ctx, tx, in.Category, ar, dept); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{ActorID: p.UserID, Actor: p.Actor(), Action: "ticket.route",
			ObjectType: "ticket_route", ObjectID: fmt.Sprint(id), AreaCode: ar.Code,
			Summary: fmt.Sprintf("分派规则：%s 的「%s」工单交 %s", ar.Name, in.Category, dept.Name)})
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	routes, err := s.Routes(ctx, p)
	if err != nil {
		return nil, err
	}
	for i := range routes {
		if routes[i].ID == id {
			return &routes[i], nil
		}
	}
	return nil, errs.Wrap(op, errs.E(errs.Internal, "route_lost", "分派规则保存后未找到"))
}

// DeleteRoute removes a routing rule.
func (s *Service) DeleteRoute(ctx context.Context, p *auth.Principal, id int64) error {
	const op = "ticket.DeleteRoute"
	if err := auth.Require(p, auth.TicketManage, op); err != nil {
		return err
	}
	err := s.db.Write(ctx, func(tx *db.Tx) error {
		r, err := getRoute(ctx, tx, id)
		if noRows(err) || (err == nil && !p.Covers(auth.TicketManage, r.areaPath)) {
			return errs.E(errs.NotFound, "route_not_found", "分派规则不存在")
		}
		if err != nil {
			return fmt.Errorf("ticket: delete route: %w", err)
		}
		if err := deleteRoute(ctx, tx, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{ActorID: p.UserID, Actor: p.Actor(), Action: "ticket.route_delete",
			ObjectType: "ticket_route", ObjectID: fmt.Sprint(id), AreaCode: r.areaCode,
			Summary: fmt.Sprintf("删除分派规则：%s 的「%s」工单交 %s", r.areaCode, r.category, r.dept)})
	})
	return errs.Wrap(op, err)
}
