package resumption

import (
	"context"
	"net/http"
	"strings"

	"tongxin/internal/auth"
	"tongxin/internal/errs"
	"tongxin/internal/importer"
	"tongxin/internal/web"
)

// API serves the JSON routes of work resumption.
type API struct{ svc *Service }

// NewAPI builds the handlers.
func NewAPI(svc *Service) *API { return &API{svc: svc} }

// MaxListLimit bounds ?limit= of the enterprise list.
const MaxListLimit = 200

// List answers GET /api/v1/enterprises?area=&area=&park=&category=&kind=
// &key_only=&q=&limit=&cursor=: a page of the enterprises the caller may
// read, by key.
func (a *API) List(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	page, err := web.ParsePage(r, DefaultListLimit, MaxListLimit)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := ListFilter{Areas: q["area"], Park: q.Get("park"), Category: Category(strings.TrimSpace(q.Get("category"))),
		Kind: Kind(strings.TrimSpace(q.Get("kind"))), Query: q.Get("q"), After: page.Cursor, Limit: page.Limit + 1}
	if f.Category != "" && f.Category != "four_above" {
		c, err := ParseCategory(string(f.Category))
		if err != nil {
			return &errs.Error{Kind: errs.Invalid, Code: "bad_filter", Message: err.Error(),
				Fields: []errs.FieldError{{Field: "category", Message: "未知类别"}}}
		}
		f.Category = c
	}
	if v := q.Get("key_only"); v != "" {
		b, ok := parseFlag(v)
		if !ok {
			return &errs.Error{Kind: errs.Invalid, Code: "bad_filter", Message: "key_only 须为 true 或 false",
				Fields: []errs.FieldError{{Field: "key_only", Message: "须为 true 或 false"}}}
		}
		f.KeyOnly = b
	}
	list, err := a.svc.List(r.Context(), p, f)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, web.NewPage(list, page.Limit, func(e Enterprise) string { return e.Key }))
}

// Create answers POST /api/v1/enterprises: 201 with the new enterprise, or
// 200 with the updated one when the key exists.
func (a *API) Create(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	var in EnterpriseInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	e, created, err := a.svc.Save(r.Context(), p, in)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return web.JSON(w, status, e)
}

// Get answers GET /api/v1/enterprises/{key}.
func (a *API) Get(w http.ResponseWriter, r *http.Request) error {
	return web.Answer(w, r, func(ctx context.Context, p *auth.Principal) (*Enterprise, error) {
		return a.svc.Get(ctx, p, r.PathValue("key"))
	})
}

// partialParam reads ?partial=true.
func partialParam(r *http.Request) (bool, error) {
	v := r.URL.Query().Get("partial")
	if v == "" {
		return false, nil
	}
	b, ok := parseFlag(v)
	if !ok {
		return false, errs.E(errs.Invalid, "bad_partial", "partial 须为 true 或 false")
	}
	return b, nil
}

// importFile answers an import: the body is a CSV or XLSX file (or
// multipart/form-data with a "file" field).
func importFile(w http.ResponseWriter, r *http.Request,
	uc func(ctx context.Context, p *auth.Principal, data []byte, partial bool) (*ImportResult, error)) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	partial, err := partialParam(r)
	if err != nil {
		return err
	}
	data, err := importer.ReadUpload(w, r, web.MaxUploadBody)
	if err != nil {
		return err
	}
	res, err := uc(r.Context(), p, data, partial)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, res)
}

// Import answers POST /api/v1/enterprises/import[?partial=true]. Without
// partial a file with any bad row is refused: 400 problem+json, code
// import_rejected, with the errors by row and column.
func (a *API) Import(w http.ResponseWriter, r *http.Request) error {
	return importFile(w, r, a.svc.ImportEnterprises)
}

// ImportTemplate answers GET /api/v1/enterprises/import/template.
func (a *API) ImportTemplate(w http.ResponseWriter, r *http.Request) error {
	return web.ServeTemplate(w, r, EnterpriseSpec)
}

// FileReport answers POST /api/v1/enterprises/{key}/reports: 201 with the
// report as filed.
func (a *API) FileReport(w http.ResponseWriter, r *http.Request) error {
	return web.Decode(w, r, http.StatusCreated, func(ctx context.Context, p *auth.Principal, in ReportInput) (*Report, error) {
		return a.svc.FileReport(ctx, p, r.PathValue("key"), in)
	})
}

// Reports answers GET /api/v1/enterprises/{key}/reports: the current
// report of each date, newest first (?limit=, up to MaxReportsLimit), or
// with ?date=YYYY-MM-DD every version of that date, newest first.
func (a *API) Reports(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	key := r.PathValue("key")
	if date := r.URL.Query().Get("date"); date != "" {
		list, err := a.svc.ReportVersions(r.Context(), p, key, date)
		if err != nil {
			return err
		}
		return web.WriteItems(w, list)
	}
	limit, err := web.QueryInt(r, "limit", DefaultReportsLimit, 1, MaxReportsLimit)
	if err != nil {
		return err
	}
	list, err := a.svc.Reports(r.Context(), p, key, limit)
	if err != nil {
		return err
	}
	return web.WriteItems(w, list)
}

// ImportReports answers POST /api/v1/resumption/reports/import[?partial=true].
func (a *API) ImportReports(w http.ResponseWriter, r *http.Request) error {
	return importFile(w, r, a.svc.ImportReports)
}

// ReportsTemplate answers GET /api/v1/resumption/reports/import/template.
func (a *API) ReportsTemplate(w http.ResponseWriter, r *http.Request) error {
	return web.ServeTemplate(w, r, ReportSpec)
}

// AssignLiaison answers PUT /api/v1/enterprises/{key}/liaisons/{username}
// with the enterprise.
func (a *API) AssignLiaison(w http.ResponseWriter, r *http.Request) error {
	return web.Answer(w, r, func(ctx context.Context, p *auth.Principal) (*Enterprise, error) {
		return a.svc.AssignLiaison(ctx, p, r.PathValue("key"), r.PathValue("username"))
	})
}

// UnassignLiaison answers DELETE /api/v1/enterprises/{key}/liaisons/{username}
// with the enterprise.
func (a *API) UnassignLiaison(w http.ResponseWriter, r *http.Request) error {
	return web.Answer(w, r, func(ctx context.Context, p *auth.Principal) (*Enterprise, error) {
		return a.svc.UnassignLiaison(ctx, p, r.PathValue("key"), r.PathValue("username"))
	})
}
