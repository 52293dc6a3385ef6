package area

import (
	"context"
	"net/http"
	"strings"

	"tongxin/internal/auth"
	"tongxin/internal/errs"
	"tongxin/internal/web"
)

// API serves the JSON routes of areas, departments and work groups.
type API struct{ svc *Service }

// NewAPI builds the handlers.
func NewAPI(svc *Service) *API { return &API{svc: svc} }

// List answers GET /api/v1/areas: the caller's top areas, or with ?q= the
// areas matching q (?limit= up to MaxSearchLimit).
func (a *API) List(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if q == "" {
		roots, err := a.svc.Roots(r.Context(), p)
		if err != nil {
			return err
		}
		return web.WriteItems(w, roots)
	}
	limit, err := web.QueryInt(r, "limit", DefaultSearchLimit, 1, MaxSearchLimit)
	if err != nil {
		return err
	}
	found, err := a.svc.Search(r.Context(), p, q, limit)
	if err != nil {
		return err
	}
	return web.WriteItems(w, found)
}

// Get answers GET /api/v1/areas/{code}: the area with its children.
func (a *API) Get(w http.ResponseWriter, r *http.Request) error {
	return web.Answer(w, r, func(ctx context.Context, p *auth.Principal) (*Area, error) {
		return a.svc.Get(ctx, p, r.PathValue("code"))
	})
}

// Children answers GET /api/v1/areas/{code}/children.
func (a *API) Children(w http.ResponseWriter, r *http.Request) error {
	return web.List(w, r, func(ctx context.Context, p *auth.Principal) ([]Area, error) {
		return a.svc.Children(ctx, p, r.PathValue("code"))
	})
}

// Import answers POST /api/v1/areas/import: the body is a CSV or XLSX file
// (or multipart/form-data with a "file" field). A file with any bad row is
// refused as a whole: 400 problem+json, code "import_rejected", with errors.
func (a *API) Import(w http.ResponseWriter, r *http.Request) error {
	return web.Upload(w, r, a.svc.Import)
}

// Template answers GET /api/v1/areas/import/template?format=csv|xlsx (xlsx
// by default) with the import template as an attachment.
func (a *API) Template(w http.ResponseWriter, r *http.Request) error {
	return web.ServeTemplate(w, r, ImportSpec)
}

// Departments answers GET /api/v1/departments.
func (a *API) Departments(w http.ResponseWriter, r *http.Request) error {
	return web.List(w, r, a.svc.Departments)
}

// CreateDepartment answers POST /api/v1/departments with 201.
func (a *API) CreateDepartment(w http.ResponseWriter, r *http.Request) error {
	return web.Decode(w, r, http.StatusCreated, a.svc.CreateDepartment)
}

// UpdateDepartment answers PUT /api/v1/departments/{code}.
func (a *API) UpdateDepartment(w http.ResponseWriter, r *http.Request) error {
	return web.Decode(w, r, http.StatusOK, func(ctx context.Context, p *auth.Principal, in Department) (*Department, error) {
		code, err := pathCode(r, in.Code)
		if err != nil {
			return nil, err
		}
		in.Code = code
		return a.svc.UpdateDepartment(ctx, p, in)
	})
}

// Workgroups answers GET /api/v1/workgroups.
func (a *API) Workgroups(w http.ResponseWriter, r *http.Request) error {
	return web.List(w, r, a.svc.Workgroups)
}

// CreateWorkgroup answers POST /api/v1/workgroups with 201.
func (a *API) CreateWorkgroup(w http.ResponseWriter, r *http.Request) error {
	return web.Decode(w, r, http.StatusCreated, a.svc.CreateWorkgroup)
}

// UpdateWorkgroup answers PUT /api/v1/workgroups/{code}.
func (a *API) UpdateWorkgroup(w http.ResponseWriter, r *http.Request) error {
	return web.Decode(w, r, http.StatusOK, func(ctx context.Context, p *auth.Principal, in Workgroup) (*Workgroup, error) {
		code, err := pathCode(r, in.Code)
		if err != nil {
			return nil, err
		}
		in.Code = code
		return a.svc.UpdateWorkgroup(ctx, p, in)
	})
}

// pathCode returns the {code} of the URL; a code in the body, if any, must
// be the same.
func pathCode(r *http.Request, body string) (string, error) {
	code := r.PathValue("code")
	if body != "" && body != code {
		return "", &errs.Error{Kind: errs.Invalid, Code: "code_mismatch", Message: "请求体中的编码与地址中的编码不一致",
			Fields: []errs.FieldError{{Field: "code", Message: "与地址中的编码不一致"}}}
	}
	return code, nil
}
