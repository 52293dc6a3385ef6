package area

import (
	"context"
	"embed"
	"net/http"
	"net/url"
	"strings"

	"tongxin/internal/auth"
	"tongxin/internal/web"
)

// Templates holds the area pages; the Renderer is built with it.
//
//go:embed templates
var Templates embed.FS

// searchPageLimit is how many search hits the tree page shows.
const searchPageLimit = 50

// Pages serves the jurisdiction tree as HTML.
type Pages struct {
	svc     *Service
	render  *web.Renderer
	figures Figures
}

// Figures are the counts an area's page shows from other modules (open
// and overdue tickets, help requests, enterprises), scoped to p, each
// linked to the list filtered to the area. They are wired in internal/app,
// so that area imports no other module.
type Figures func(ctx context.Context, p *auth.Principal, a *Area) ([]web.Figure, error)

// NewPages builds the pages; figures may be nil (no figures shown).
func NewPages(svc *Service, render *web.Renderer, figures Figures) *Pages {
	return &Pages{svc: svc, render: render, figures: figures}
}

// treeData is the data of area/tree.
type treeData struct {
	Query   string
	Roots   []Area
	Results []Area
}

// Tree shows the top of the caller's part of the tree (GET /areas), or the
// areas matching ?q= by name or code. Each node opens in place (htmx loads
// its children) or, without JavaScript, links to its own page.
func (pg *Pages) Tree(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	d := treeData{Query: strings.TrimSpace(r.URL.Query().Get("q"))}
	if d.Query != "" {
		d.Results, err = pg.svc.Search(r.Context(), p, d.Query, searchPageLimit)
	} else {
		d.Roots, err = pg.svc.Roots(r.Context(), p)
	}
	if err != nil {
		return err
	}
	return pg.render.Page(w, r, http.StatusOK, "area/tree", "area.title", d)
}

// nodeData is the data of area/node.
type nodeData struct {
	Area      *Area
	Ancestors []Area // root first, without the area itself
	Parent    *Area  // nil for a root or a parent outside the caller's scope
	Figures   []web.Figure
}

// Node shows one area (GET /areas/{code}): where it sits, its level and
// code, what is going on there (Pages.Figures and the number of its
// children: a community's grids) and its children.
func (pg *Pages) Node(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	a, err := pg.svc.Get(r.Context(), p, r.PathValue("code"))
	if err != nil {
		return err
	}
	anc, err := pg.svc.Ancestors(r.Context(), p, a.Code)
	if err != nil {
		return err
	}
	if n := len(anc); n > 0 && anc[n-1].Code == a.Code {
		anc = anc[:n-1]
	}
	d := nodeData{Area: a, Ancestors: anc}
	if n := len(anc); n > 0 && anc[n-1].Code == a.ParentCode {
		d.Parent = &anc[n-1]
	}
	if pg.figures != nil {
		if d.Figures, err = pg.figures(r.Context(), p, a); err != nil {
			return err
		}
	}
	if a.ChildCount > 0 {
		key := "area.figure.children"
		if a.Level == Community {
			key = "area.figure.grids"
		}
		d.Figures = append(d.Figures, web.Figure{Key: key, Value: a.ChildCount, Path: "#children"})
	}
	return pg.render.Page(w, r, http.StatusOK, "area/node", a.Name, d)
}

// ChildrenFragment answers htmx with the list items of an area's children
// (GET /areas/{code}/children). A browser that asks for it directly is
// sent to the area's page.
func (pg *Pages) ChildrenFragment(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	code := r.PathValue("code")
	kids, err := pg.svc.Children(r.Context(), p, code)
	if err != nil {
		return err
	}
	if !web.IsHTMX(r) {
		http.Redirect(w, r, "/areas/"+url.PathEscape(code), http.StatusSeeOther)
		return nil
	}
	return pg.render.Fragment(w, r, http.StatusOK, "area/children", kids)
}

// HomeWork puts a community worker's community on their home page: its
// name, linked to its page (open tickets, help requests, enterprises,
// grids). It reads the principal alone.
func HomeWork() web.Work {
	return web.Work{Show: func(p *auth.Principal) bool { return p.HasRole(auth.CommunityWorker) },
		Figures: func(ctx context.Context, p *auth.Principal) ([]web.Figure, error) {
			var out []web.Figure
			for _, a := range p.Assignments {
				if a.Role != auth.CommunityWorker || a.Scope.Kind != auth.ScopeArea {
					continue
				}
				name := a.Scope.Name
				if name == "" {
					name = a.Scope.Ref
				}
				out = append(out, web.Figure{Key: "area.work.mine", Text: name, Path: "/areas/" + url.PathEscape(a.Scope.Ref)})
			}
			return out, nil
		}}
}
