package area

import (
	"context"
	"strings"
	"unicode/utf8"

	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/errs"
)

// Service is the use cases of the jurisdiction tree, departments and work
// groups. Each method authorises the caller, validates its input and runs
// in one transaction; every change is audited in that transaction.
type Service struct {
	db         *db.DB
	principals Principals
}

// Deps are what the service needs besides the database.
type Deps struct {
	// Principals lets a change to a department or a work group (its
	// capabilities, name or area) drop the cached principals of its
	// officers or members as soon as it commits (auth.Service). Without it
	// they notice within the principal cache's TTL.
	Principals Principals
}

// NewService builds the service over d.
func NewService(d *db.DB, deps Deps) *Service { return &Service{db: d, principals: deps.Principals} }

// Principals forgets the cached principals bound to a scope;
// auth.Service satisfies it.
type Principals interface {
	ForgetScope(kind auth.ScopeKind, ref string)
}

// forgetOrg drops the cached principals of a department's officers or a
// work group's members once tx commits.
func (s *Service) forgetOrg(tx *db.Tx, k orgKind, code string) {
	if s.principals == nil {
		return
	}
	kind := auth.ScopeDepartment
	if k.table == workgroupsTable {
		kind = auth.ScopeWorkgroup
	}
	tx.AfterCommit(func() { s.principals.ForgetScope(kind, code) })
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

// Resolve finds the area a form or request names by code in field: a
// missing code is area_required, an unknown one area_not_found, both
// with the field, so that every module refuses them alike.
func (s *Service) Resolve(ctx context.Context, code, field string) (*Area, error) {
	code = strings.TrimSpace(code)
	if code == "" {
		return nil, errs.Fields("area_required", "请填写区划代码", errs.FieldError{Field: field, Message: "必填"})
	}
	a, err := s.Lookup(ctx, code)
	if errs.Is(err, errs.NotFound) {
		return nil, errs.Fields("area_not_found", "区划 "+code+" 不存在", errs.FieldError{Field: field, Message: "区划不存在"})
	}
	return a, err
}

// Readable resolves the area a request names in its field area and
// checks that p holds perm over it: an area out of p's reach is refused
// as area_not_found, as one that does not exist would be.
func (s *Service) Readable(ctx context.Context, p *auth.Principal, perm auth.Permission, code string) (*Area, error) {
	a, err := s.Resolve(ctx, code, "area")
	if err != nil {
		return nil, err
	}
	if !p.Covers(perm, a.Path) {
		return nil, errs.Fields("area_not_found", "区划 "+a.Code+" 不在您的查看范围内",
			errs.FieldError{Field: "area", Message: "不在查看范围内"})
	}
	return a, nil
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
	trimmed := make([]string, len(codes))
	for i, c := range codes {
		trimmed[i] = strings.TrimSpace(c)
	}
	err := s.db.Read(ctx, func(tx *db.Tx) (err error) {
		out, err = areaNames(ctx, tx, trimmed)
		return err
	})
	return out, errs.Wrap(op, err)
}

// Department returns the department with code for other modules, which
// authorise their callers themselves. NotFound if there is none.
func (s *Service) Department(ctx context.Context, code string) (*Department, error) {
	const op = "area.Department"
	var d Department
	err := s.db.Read(ctx, func(tx *db.Tx) (err error) {
		d, err = getDepartment(ctx, tx, strings.TrimSpace(code))
		return err
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return &d, nil
}
