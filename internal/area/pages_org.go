package area

import (
	"context"
	"net/http"
	"net/url"

	"tongxin/internal/auth"
	"tongxin/internal/web"
)

// The pages of departments and work groups: a list with the form for a
// new one (GET /departments, GET /workgroups), and an edit form each
// (GET /departments/{code}, GET /workgroups/{code}). Both forms offer every
// capability (auth.Capabilities) as a checkbox: which body holds which is
// the administrator's choice.

// orgForm is how a page reads and writes one of the two kinds.
type orgForm struct {
	kind   string // "departments" or "workgroups": the path and the template's switch
	title  string // catalog key of the page title
	flash  string // catalog key stem of the flashes (.created, .updated)
	remit  bool   // the form has a remit
	org    orgKind
	list   func(ctx context.Context, p *auth.Principal) ([]orgView, error)
	create func(ctx context.Context, p *auth.Principal, v orgView) error
	update func(ctx context.Context, p *auth.Principal, v orgView) error
}

// orgView is a department or a work group as the pages show it.
type orgView struct {
	Code, Name, AreaCode, Remit string
	Capabilities                []auth.Capability
}

// orgsData is the data of area/orgs and area/org.
type orgsData struct {
	Kind    string
	Remit   bool
	Items   []orgView
	Item    *orgView // the one being edited (area/org)
	CanEdit bool
	Form    *web.Form
	Caps    []auth.Capability
	Checked map[auth.Capability]bool
}

func (pg *Pages) departmentForm() orgForm {
	return orgForm{kind: "departments", title: "area.org.departments", flash: "area.flash.department", org: departmentKind(),
		list: func(ctx context.Context, p *auth.Principal) ([]orgView, error) {
			ds, err := pg.svc.Departments(ctx, p)
			out := make([]orgView, len(ds))
			for i, d := range ds {
				out[i] = orgView{Code: d.Code, Name: d.Name, AreaCode: d.AreaCode, Capabilities: d.Capabilities}
			}
			return out, err
		},
		create: func(ctx context.Context, p *auth.Principal, v orgView) error {
			_, err := pg.svc.CreateDepartment(ctx, p, Department{Code: v.Code, Name: v.Name, AreaCode: v.AreaCode, Capabilities: v.Capabilities})
			return err
		},
		update: func(ctx context.Context, p *auth.Principal, v orgView) error {
			_, err := pg.svc.UpdateDepartment(ctx, p, Department{Code: v.Code, Name: v.Name, AreaCode: v.AreaCode, Capabilities: v.Capabilities})
			return err
		}}
}

func (pg *Pages) workgroupForm() orgForm {
	return orgForm{kind: "workgroups", title: "area.org.workgroups", flash: "area.flash.workgroup", remit: true, org: workgroupKind(),
		list: func(ctx context.Context, p *auth.Principal) ([]orgView, error) {
			gs, err := pg.svc.Workgroups(ctx, p)
			out := make([]orgView, len(gs))
			for i, g := range gs {
				out[i] = orgView(g)
			}
			return out, err
		},
		create: func(ctx context.Context, p *auth.Principal, v orgView) error {
			_, err := pg.svc.CreateWorkgroup(ctx, p, Workgroup(v))
			return err
		},
		update: func(ctx context.Context, p *auth.Principal, v orgView) error {
			_, err := pg.svc.UpdateWorkgroup(ctx, p, Workgroup(v))
			return err
		}}
}

// orgMaxFormBytes bounds the forms.
const orgMaxFormBytes = 16 << 10

// Departments shows the departments in the caller's reach with their
// capabilities, and the form for a new one (GET /departments).
func (pg *Pages) Departments(w http.ResponseWriter, r *http.Request) error {
	return pg.orgList(w, r, pg.departmentForm(), http.StatusOK, web.NewForm(url.Values{}))
}

// Workgroups shows the work groups (GET /workgroups), as Departments.
func (pg *Pages) Workgroups(w http.ResponseWriter, r *http.Request) error {
	return pg.orgList(w, r, pg.workgroupForm(), http.StatusOK, web.NewForm(url.Values{}))
}

// DepartmentCreate adds a department from the form (POST /departments).
func (pg *Pages) DepartmentCreate(w http.ResponseWriter, r *http.Request) error {
	return pg.orgSubmit(w, r, pg.departmentForm(), "")
}

// WorkgroupCreate adds a work group from the form (POST /workgroups).
func (pg *Pages) WorkgroupCreate(w http.ResponseWriter, r *http.Request) error {
	return pg.orgSubmit(w, r, pg.workgroupForm(), "")
}

// DepartmentEdit shows the form of one department (GET /departments/{code}).
func (pg *Pages) DepartmentEdit(w http.ResponseWriter, r *http.Request) error {
	return pg.orgEdit(w, r, pg.departmentForm(), http.StatusOK, nil)
}

// WorkgroupEdit shows the form of one work group (GET /workgroups/{code}).
func (pg *Pages) WorkgroupEdit(w http.ResponseWriter, r *http.Request) error {
	return pg.orgEdit(w, r, pg.workgroupForm(), http.StatusOK, nil)
}

// DepartmentUpdate saves the form of one department (POST
// /departments/{code}); the capabilities are those ticked.
func (pg *Pages) DepartmentUpdate(w http.ResponseWriter, r *http.Request) error {
	return pg.orgSubmit(w, r, pg.departmentForm(), r.PathValue("code"))
}

// WorkgroupUpdate saves the form of one work group (POST
// /workgroups/{code}).
func (pg *Pages) WorkgroupUpdate(w http.ResponseWriter, r *http.Request) error {
	return pg.orgSubmit(w, r, pg.workgroupForm(), r.PathValue("code"))
}

func newOrgsData(k orgForm, p *auth.Principal, form *web.Form) orgsData {
	d := orgsData{Kind: k.kind, Remit: k.remit, CanEdit: p.Can(auth.AreaWrite), Form: form, Caps: auth.Capabilities,
		Checked: map[auth.Capability]bool{}}
	for _, c := range form.Values["capabilities"] {
		d.Checked[auth.Capability(c)] = true
	}
	return d
}

func (pg *Pages) orgList(w http.ResponseWriter, r *http.Request, k orgForm, status int, form *web.Form) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	d := newOrgsData(k, p, form)
	if d.Items, err = k.list(r.Context(), p); err != nil {
		return err
	}
	return pg.render.Page(w, r, status, "area/orgs", k.title, d)
}

// orgEdit shows the form of the department or work group {code}; form is
// nil for its stored values.
func (pg *Pages) orgEdit(w http.ResponseWriter, r *http.Request, k orgForm, status int, form *web.Form) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	if err := auth.Require(p, auth.AreaWrite, "area.EditPage"); err != nil {
		return err
	}
	items, err := k.list(r.Context(), p)
	if err != nil {
		return err
	}
	code := r.PathValue("code")
	var item *orgView
	for i := range items {
		if items[i].Code == code {
			item = &items[i]
		}
	}
	if item == nil {
		return k.org.notFound()
	}
	if form == nil {
		v := url.Values{"name": {item.Name}, "area_code": {item.AreaCode}, "remit": {item.Remit}}
		for _, c := range item.Capabilities {
			v.Add("capabilities", string(c))
		}
		form = web.NewForm(v)
	}
	d := newOrgsData(k, p, form)
	d.Item = item
	return pg.render.Page(w, r, status, "area/org", item.Name, d)
}

// orgSubmit creates (code "") or updates the department or work group
// from the form; a refusal shows the form again with the messages.
func (pg *Pages) orgSubmit(w http.ResponseWriter, r *http.Request, k orgForm, code string) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	if err := web.ParseForm(w, r, orgMaxFormBytes); err != nil {
		return err
	}
	f := r.PostForm
	v := orgView{Code: code, Name: f.Get("name"), AreaCode: f.Get("area_code"), Remit: f.Get("remit"), Capabilities: []auth.Capability{}}
	if code == "" {
		v.Code = f.Get("code")
	}
	for _, c := range f["capabilities"] {
		v.Capabilities = append(v.Capabilities, auth.Capability(c))
	}
	do, flash := k.create, k.flash+".created"
	if code != "" {
		do, flash = k.update, k.flash+".updated"
	}
	if err := do(r.Context(), p, v); err != nil {
		status := web.FormStatus(err)
		if status == 0 {
			return err
		}
		form := web.NewForm(url.Values{"code": {v.Code}, "name": {v.Name}, "area_code": {v.AreaCode}, "remit": {v.Remit},
			"capabilities": f["capabilities"]})
		pg.render.Fail(form, r, err)
		if code != "" {
			return pg.orgEdit(w, r, k, status, form)
		}
		return pg.orgList(w, r, k, status, form)
	}
	return web.SeeOther(w, r, "/"+k.kind, flash)
}
