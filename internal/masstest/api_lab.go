package masstest

import (
	"context"
	"net/http"

	"tongxin/internal/auth"
	"tongxin/internal/web"
)

// MaxLabBody is the body limit of a JSON batch of lab results: 5,000
// records of a few hundred bytes each.
const MaxLabBody = 4 << 20

// LabResults answers POST /api/v1/lab-results: the answer of every record
// in order.
func (a *API) LabResults(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	var in LabBatch
	if err := web.DecodeJSONLimit(w, r, &in, MaxLabBody); err != nil {
		return err
	}
	out, err := a.svc.StoreLabResults(r.Context(), p, in)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, out)
}

// ImportLabResults answers POST /api/v1/lab-results/import: a CSV or XLSX
// file (or multipart/form-data with a "file" field), all or nothing.
func (a *API) ImportLabResults(w http.ResponseWriter, r *http.Request) error {
	return web.Upload(w, r, a.svc.ImportLabResults)
}

// LabTemplate answers GET /api/v1/lab-results/import/template[?format=csv].
func (a *API) LabTemplate(w http.ResponseWriter, r *http.Request) error {
	return web.ServeTemplate(w, r, LabSpec)
}

// listFilter reads round, area, status, page and per_page.
func listFilter(r *http.Request) (ListFilter, error) {
	q := r.URL.Query()
	f := ListFilter{Round: q.Get("round"), Area: q.Get("area"), Status: q.Get("status")}
	var err error
	if f.Page, err = web.QueryInt(r, "page", 1, 1, 1000000); err != nil {
		return f, err
	}
	f.PerPage, err = web.QueryInt(r, "per_page", DefaultPerPage, 1, MaxPerPage)
	return f, err
}

// Retests answers GET /api/v1/retests?round=&area=&status=&page=&per_page=.
func (a *API) Retests(w http.ResponseWriter, r *http.Request) error {
	return web.Answer(w, r, func(ctx context.Context, p *auth.Principal) (*ListPage[Retest], error) {
		f, err := listFilter(r)
		if err != nil {
			return nil, err
		}
		return a.svc.Retests(ctx, p, f)
	})
}

// Positives answers GET /api/v1/positives?round=&area=&page=&per_page=.
func (a *API) Positives(w http.ResponseWriter, r *http.Request) error {
	return web.Answer(w, r, func(ctx context.Context, p *auth.Principal) (*ListPage[PositiveCase], error) {
		f, err := listFilter(r)
		if err != nil {
			return nil, err
		}
		f.Status = ""
		return a.svc.Positives(ctx, p, f)
	})
}
