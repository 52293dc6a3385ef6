package ticket

import (
	"context"
	"slices"
	"strings"
	"unicode/utf8"

	"tongxin/internal/area"
	"tongxin/internal/auth"
	"tongxin/internal/errs"
)

// What the pages need from the area tree beyond the ticket service: the
// community pickers of the filing forms, the departments a ticket may be
// assigned to and the areas offered as filters. Names of areas and
// departments are public (they are printed on every notice), so the
// pickers search the whole tree whoever asks, the public help form too;
// nothing here reads a ticket.

// pageAreaChoice is a community or grid offered by a picker.
type pageAreaChoice struct {
	Code, Name string
	Parent     string // the street (or community of a grid), to tell namesakes apart
	Checked    bool
}

// pageChoicesMax bounds the choices a picker shows.
const pageChoicesMax = 12

// pageMaxPickerQuery bounds what a picker searches for, in characters.
const pageMaxPickerQuery = 50

// areaChoices lists the communities and grids whose name contains q, or
// whose code starts with q, at most pageChoicesMax, top of the tree first.
func (pg *Pages) areaChoices(ctx context.Context, q string) ([]pageAreaChoice, error) {
	q = strings.TrimSpace(q)
	if q == "" || utf8.RuneCountInString(q) > pageMaxPickerQuery {
		return nil, nil
	}
	// The search orders by depth: ask for enough rows that the cities,
	// districts and streets matching q do not crowd out the communities.
	found, err := pg.areas.Search(ctx, auth.System(), q, area.MaxSearchLimit)
	if err != nil {
		return nil, err
	}
	parents := map[string]string{}
	var out []pageAreaChoice
	for _, a := range found {
		if a.Level != area.Community && a.Level != area.Grid {
			continue
		}
		c := pageAreaChoice{Code: a.Code, Name: a.Name}
		if a.ParentCode != "" {
			name, ok := parents[a.ParentCode]
			if !ok {
				if pa, err := pg.areas.Lookup(ctx, a.ParentCode); err == nil {
					name = pa.Name
				} else if !errs.Is(err, errs.NotFound) {
					return nil, err
				}
				parents[a.ParentCode] = name
			}
			c.Parent = name
		}
		out = append(out, c)
		if len(out) == pageChoicesMax {
			break
		}
	}
	return out, nil
}

// areaChoice is the chosen area code as a checked choice; nil when the
// code names no area (the service then says so).
func (pg *Pages) areaChoice(ctx context.Context, code string) (*pageAreaChoice, error) {
	a, err := pg.areas.Lookup(ctx, code)
	if errs.Is(err, errs.NotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	c := &pageAreaChoice{Code: a.Code, Name: a.Name, Checked: true}
	if a.ParentCode != "" {
		if pa, err := pg.areas.Lookup(ctx, a.ParentCode); err == nil {
			c.Parent = pa.Name
		}
	}
	return c, nil
}

// resolveArea reads a filing form's community: the picked area_code, or,
// when none was picked (no JavaScript, or the typist pressed Enter), the
// typed text q when it names exactly one community. choices is what the
// picker shows again; problem, when not empty, is the field's message.
func (pg *Pages) resolveArea(ctx context.Context, code, q string) (resolved string, choices []pageAreaChoice, problem string, err error) {
	code, q = strings.TrimSpace(code), strings.TrimSpace(q)
	if code != "" {
		c, err := pg.areaChoice(ctx, code)
		if err != nil || c == nil {
			return code, nil, "", err
		}
		return code, []pageAreaChoice{*c}, "", nil
	}
	if q == "" {
		return "", nil, "", nil
	}
	if utf8.RuneCountInString(q) > pageMaxPickerQuery {
		return "", nil, "社区名称过长", nil
	}
	choices, err = pg.areaChoices(ctx, q)
	if err != nil {
		return "", nil, "", err
	}
	exact := -1
	for i, c := range choices {
		if c.Name == q || c.Code == q {
			if exact >= 0 {
				exact = -2
				break
			}
			exact = i
		}
	}
	switch {
	case len(choices) == 1:
		exact = 0
	case len(choices) == 0:
		return "", nil, "未找到「" + q + "」，请换个写法，如“大园”", nil
	}
	if exact >= 0 {
		choices[exact].Checked = true
		return choices[exact].Code, choices[exact : exact+1], "", nil
	}
	return "", choices, "找到多个，请在下面选择一个", nil
}

// pageAreaOption is an area offered as a filter.
type pageAreaOption struct {
	Code, Name string
	Child      bool // below one of the caller's own areas
}

// areaOptions are the caller's own areas and their children, for the
// area filters; none for callers without an area scope.
func (pg *Pages) areaOptions(ctx context.Context, p *auth.Principal) ([]pageAreaOption, error) {
	if !p.Can(auth.AreaRead) {
		return nil, nil
	}
	roots, err := pg.areas.Roots(ctx, p)
	if err != nil {
		return nil, err
	}
	var out []pageAreaOption
	for _, r := range roots {
		out = append(out, pageAreaOption{Code: r.Code, Name: r.Name})
		kids, err := pg.areas.Children(ctx, p, r.Code)
		if err != nil {
			return nil, err
		}
		for _, k := range kids {
			out = append(out, pageAreaOption{Code: k.Code, Name: k.Name, Child: true})
		}
	}
	return out, nil
}

// assignable lists the departments t may be assigned to: those of the
// areas above it (a community's ticket goes to its district's or the
// city's departments) and those in the caller's own reach.
func (pg *Pages) assignable(ctx context.Context, p *auth.Principal, t *Ticket) ([]area.Department, error) {
	all, err := pg.areas.Departments(ctx, auth.System())
	if err != nil {
		return nil, err
	}
	var mine []area.Department
	if p.Can(auth.AreaRead) {
		if mine, err = pg.areas.Departments(ctx, p); err != nil {
			return nil, err
		}
	}
	above := pathCodes(t.AreaPath)
	var out []area.Department
	for _, d := range all {
		if slices.Contains(above, d.AreaCode) || d.Code == t.Department ||
			slices.ContainsFunc(mine, func(m area.Department) bool { return m.Code == d.Code }) {
			out = append(out, d)
		}
	}
	return out, nil
}
