package ticket

import (
	"context"
	"fmt"
	"strings"
	"time"

	"tongxin/internal/area"
	"tongxin/internal/audit"
	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/errs"
)

func errCategoryNotFound() *errs.Error {
	return errs.E(errs.NotFound, "category_not_found", "工单类别不存在")
}

func scanCategory(sc scanner) (Category, error) {
	var c Category
	var ms int64
	err := sc.Scan(&c.Code, &c.Name, &c.NameEn, &c.Position, &c.Active, &ms, &c.Audience)
	c.ConfirmAfter = Duration(time.Duration(ms) * time.Millisecond)
	return c, err
}

const categoryCols = `code, name, name_en, position, active, confirm_after_ms, audience`

func (s *Service) category(ctx context.Context, code string) (Category, error) {
	var c Category
	err := s.db.Read(ctx, func(tx *db.Tx) (err error) {
		c, err = s.categoryTx(ctx, tx, code)
		return err
	})
	return c, err
}

func (s *Service) categoryTx(ctx context.Context, tx *db.Tx, code string) (Category, error) {
	c, err := scanCategory(tx.QueryRowContext(ctx, `SELECT `+categoryCols+` FROM ticket_categories WHERE code = $1`, code))
	if noRows(err) {
		return c, errCategoryNotFound()
	}
	if err != nil {
		return c, fmt.Errorf("ticket: category: %w", err)
	}
	return c, nil
}

// Categories lists the categories in display order (inactive ones too, for
// managers; callers filter).
func (s *Service) Categories(ctx context.Context) ([]Category, error) {
	var out []Category
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+categoryCols+` FROM ticket_categories ORDER BY position, code`)
		if err != nil {
			return fmt.Errorf("ticket: categories: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			c, err := scanCategory(rows)
			if err != nil {
				return err
			}
			out = append(out, c)
		}
		return rows.Err()
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
		_, err := tx.ExecContext(ctx, `INSERT INTO ticket_categories (code, name, name_en, position, active, confirm_after_ms, created_at, updated_at, audience)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8)
			ON CONFLICT (code) DO UPDATE SET name = excluded.name, name_en = excluded.name_en, position = excluded.position,
			active = excluded.active, confirm_after_ms = excluded.confirm_after_ms, updated_at = excluded.updated_at,
			audience = excluded.audience`,
			c.Code, c.Name, c.NameEn, c.Position, c.Active, time.Duration(c.ConfirmAfter).Milliseconds(), tx.NowMS(), string(c.Audience))
		if err != nil {
			return fmt.Errorf("ticket: save category: %w", err)
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

// policyOf is the policy of a category and urgency: its own row, or the
// default.
func policyOf(ctx context.Context, tx *db.Tx, category string, u Urgency) (Policy, error) {
	var respond, resolve string
	err := tx.QueryRowContext(ctx, `SELECT respond_rule, resolve_rule FROM ticket_policies WHERE category = $1 AND urgency = $2`,
		category, string(u)).Scan(&respond, &resolve)
	if noRows(err) {
		return DefaultPolicy(u), nil
	}
	if err != nil {
		return Policy{}, fmt.Errorf("ticket: policy: %w", err)
	}
	p := Policy{Urgency: u}
	if p.RespondBy, err = ParseRule(respond); err != nil {
		return Policy{}, fmt.Errorf("ticket: stored respond rule %q: %w", respond, err)
	}
	if p.ResolveBy, err = ParseRule(resolve); err != nil {
		return Policy{}, fmt.Errorf("ticket: stored resolve rule %q: %w", resolve, err)
	}
	return p, nil
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
	cats, err := s.Categories(ctx)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	var out []CategoryPolicy
	err = s.db.Read(ctx, func(tx *db.Tx) error {
		stored := map[string]bool{}
		rows, err := tx.QueryContext(ctx, `SELECT category, urgency FROM ticket_policies`)
		if err != nil {
			return fmt.Errorf("ticket: policies: %w", err)
		}
		for rows.Next() {
			var c, u string
			if err := rows.Scan(&c, &u); err != nil {
				rows.Close()
				return err
			}
			stored[c+"/"+u] = true
		}
		rows.Close()
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

// SetPolicy replaces the deadlines of a category (HQ staff).
func (s *Service) SetPolicy(ctx context.Context, p *auth.Principal, category string, in PolicyInput) (*CategoryPolicy, error) {
	const op = "ticket.SetPolicy"
	if err := auth.Require(p, auth.TicketManage, op); err != nil {
		return nil, err
	}
	type parsed struct {
		u                Urgency
		respond, resolve Rule
	}
	var rules []parsed
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
		rules = append(rules, parsed{x.u, r1, r2})
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
		return nil, errs.Fields("invalid_policy", "时限设置有误", fields...)
	}
	err := s.db.Write(ctx, func(tx *db.Tx) error {
		cat, err := s.categoryTx(ctx, tx, strings.TrimSpace(category))
		if err != nil {
			return err
		}
		var parts []string
		for _, r := range rules {
			_, err := tx.ExecContext(ctx, `INSERT INTO ticket_policies (category, urgency, respond_rule, resolve_rule, updated_at, updated_by)
				VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (category, urgency) DO UPDATE SET respond_rule = excluded.respond_rule,
				resolve_rule = excluded.resolve_rule, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
				cat.Code, string(r.u), r.respond.String(), r.resolve.String(), tx.NowMS(), p.Actor())
			if err != nil {
				return fmt.Errorf("ticket: set policy: %w", err)
			}
			parts = append(parts, fmt.Sprintf("%s：响应 %s，办结 %s", UrgencyNames[r.u], r.respond.Label(), r.resolve.Label()))
		}
		if confirm > 0 {
			if _, err := tx.ExecContext(ctx, `UPDATE ticket_categories SET confirm_after_ms = $1, updated_at = $2 WHERE code = $3`,
				confirm.Milliseconds(), tx.NowMS(), cat.Code); err != nil {
				return fmt.Errorf("ticket: set policy: %w", err)
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

// route finds the department of the most specific rule for category whose
// area contains path; none means the area's own office.
func route(ctx context.Context, tx *db.Tx, category, path string) (routedDept, error) {
	var d routedDept
	err := tx.QueryRowContext(ctx, `SELECT r.department_code, d.name FROM ticket_routes r
		JOIN departments d ON d.code = r.department_code
		WHERE r.category = $1 AND $2 LIKE r.area_path || '%'
		ORDER BY length(r.area_path) DESC LIMIT 1`, category, path).Scan(&d.Code, &d.Name)
	if noRows(err) {
		return routedDept{}, nil
	}
	if err != nil {
		return d, fmt.Errorf("ticket: route: %w", err)
	}
	return d, nil
}

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
		rows, err := tx.QueryContext(ctx, `SELECT r.id, r.category, COALESCE(c.name, r.category), r.area_code, a.name, a.path,
			r.department_code, d.name, r.updated_at FROM ticket_routes r
			JOIN areas a ON a.code = r.area_code JOIN departments d ON d.code = r.department_code
			LEFT JOIN ticket_categories c ON c.code = r.category ORDER BY c.position, r.category, a.path`)
		if err != nil {
			return fmt.Errorf("ticket: routes: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var r Route
			var path string
			var at int64
			if err := rows.Scan(&r.ID, &r.Category, &r.CategoryName, &r.AreaCode, &r.AreaName, &path, &r.Department,
				&r.DepartmentName, &at); err != nil {
				return err
			}
			r.UpdatedAt = clock.FromMillis(at)
			if inReach(path) {
				out = append(out, r)
			}
		}
		return rows.Err()
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
		err := tx.QueryRowContext(ctx, `INSERT INTO ticket_routes (category, area_code, area_path, department_code, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (category, area_code) DO UPDATE SET department_code = excluded.department_code,
			updated_at = excluded.updated_at RETURNING id`, in.Category, ar.Code, ar.Path, dept.Code, tx.NowMS()).Scan(&id)
		if err != nil {
			return fmt.Errorf("ticket: save route: %w", err)
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
		var code, path, cat, dept string
		err := tx.QueryRowContext(ctx, `SELECT area_code, area_path, category, department_code FROM ticket_routes WHERE id = $1`, id).
			Scan(&code, &path, &cat, &dept)
		if noRows(err) || (err == nil && !p.Covers(auth.TicketManage, path)) {
			return errs.E(errs.NotFound, "route_not_found", "分派规则不存在")
		}
		if err != nil {
			return fmt.Errorf("ticket: delete route: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM ticket_routes WHERE id = $1`, id); err != nil {
			return fmt.Errorf("ticket: delete route: %w", err)
		}
		return audit.Record(ctx, tx, audit.Entry{ActorID: p.UserID, Actor: p.Actor(), Action: "ticket.route_delete",
			ObjectType: "ticket_route", ObjectID: fmt.Sprint(id), AreaCode: code,
			Summary: fmt.Sprintf("删除分派规则：%s 的「%s」工单交 %s", code, cat, dept)})
	})
	return errs.Wrap(op, err)
}
