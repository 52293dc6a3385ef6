package masstest

import (
	"context"
	"net/http"

	"tongxin/internal/auth"
	"tongxin/internal/web"
)

// ImportHouseholds answers POST /api/v1/households/import: the body is a
// CSV or XLSX file (or multipart/form-data with a "file" field). A file
// with any bad row is refused: 400 problem+json, code import_rejected,
// with the errors by row and column.
func (a *API) ImportHouseholds(w http.ResponseWriter, r *http.Request) error {
	return web.Upload(w, r, a.svc.ImportHouseholds)
}

// HouseholdsTemplate answers GET /api/v1/households/import/template.
func (a *API) HouseholdsTemplate(w http.ResponseWriter, r *http.Request) error {
	return web.ServeTemplate(w, r, HouseholdSpec)
}

// Households answers GET /api/v1/households?area=&estate=&building=
// &page=&per_page=: a page of households with their residents, masked, in
// order of estate, building, unit and room.
func (a *API) Households(w http.ResponseWriter, r *http.Request) error {
	f, err := householdFilterOf(r)
	if err != nil {
		return err
	}
	return web.Answer(w, r, func(ctx context.Context, p *auth.Principal) (*HouseholdPage, error) {
		return a.svc.ListHouseholds(ctx, p, f)
	})
}

// householdFilterOf reads area, estate, building, page and per_page.
func householdFilterOf(r *http.Request) (HouseholdFilter, error) {
	q := r.URL.Query()
	f := HouseholdFilter{Area: q.Get("area"), Estate: q.Get("estate"), Building: q.Get("building")}
	var err error
	if f.Page, err = web.QueryInt(r, "page", 1, 1, MaxHouseholdPage); err != nil {
		return f, err
	}
	f.PerPage, err = web.QueryInt(r, "per_page", DefaultHouseholdsPerPage, 1, MaxHouseholdsPerPage)
	return f, err
}

// Household answers GET /api/v1/households/{id} with its residents.
func (a *API) Household(w http.ResponseWriter, r *http.Request) error {
	return web.Answer(w, r, func(ctx context.Context, p *auth.Principal) (*Household, error) {
		return a.svc.GetHousehold(ctx, p, r.PathValue("id"))
	})
}

// HouseholdCodes answers GET /api/v1/households/{id}/codes: the signed
// resident codes of the household and its residents.
func (a *API) HouseholdCodes(w http.ResponseWriter, r *http.Request) error {
	return web.Answer(w, r, func(ctx context.Context, p *auth.Principal) (*HouseholdCodes, error) {
		return a.svc.HouseholdCodes(ctx, p, r.PathValue("id"))
	})
}

// RevealResident answers POST /api/v1/residents/{id}/reveal
// {"reason": "…"} with the resident's full ID number, audited.
func (a *API) RevealResident(w http.ResponseWriter, r *http.Request) error {
	return web.Decode(w, r, http.StatusOK, func(ctx context.Context, p *auth.Principal, in RevealInput) (*Revealed, error) {
		return a.svc.RevealResidentID(ctx, p, r.PathValue("id"), in)
	})
}
