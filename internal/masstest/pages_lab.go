package masstest

import (
	"net/http"
	"net/url"
	"strconv"

	"tongxin/internal/auth"
	"tongxin/internal/errs"
	"tongxin/internal/importer"
	"tongxin/internal/web"
)

// LabNavItems are the menu entries of lab results and retests: the lab
// import for those who manage testing, the retest board for its readers.
func LabNavItems() []web.NavItem {
	return []web.NavItem{
		{Key: "testing.nav.lab", DescKey: "testing.card.lab", Path: "/testing/lab", Perm: auth.TestingManage},
		{Key: "testing.nav.retests", DescKey: "testing.card.retests", Path: "/testing/retests", Perm: auth.TestingRead},
	}
}

// labPageData is the data of testing/lab.
type labPageData struct {
	Form    *web.Form
	Errors  web.RowErrors // the rows of a refused file
	Summary *LabSummary   // the answer of a stored file
	Results map[Result]string
}

// LabPage shows the lab results upload (GET /testing/lab).
func (pg *Pages) LabPage(w http.ResponseWriter, r *http.Request) error {
	if err := auth.Require(web.PrincipalOf(r), auth.TestingManage, "masstest.LabPage"); err != nil {
		return err
	}
	return pg.render.Page(w, r, http.StatusOK, "testing/lab", "testing.lab.title",
		&labPageData{Form: web.NewForm(nil), Results: ResultNames})
}

// LabSubmit stores an uploaded lab file (POST /testing/lab, multipart:
// file) and shows what it did, or every bad row of a refused file.
func (pg *Pages) LabSubmit(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	d := &labPageData{Form: web.NewForm(nil), Results: ResultNames}
	data, err := importer.ReadUpload(w, r, web.MaxUploadBody)
	if err == nil {
		d.Summary, err = pg.svc.ImportLabResults(r.Context(), p, data)
	}
	if err != nil {
		status := web.FormStatus(err)
		if errs.Is(err, errs.TooLarge) || errs.Is(err, errs.Unsupported) {
			status = web.StatusOf(errs.KindOf(err))
		}
		if status == 0 || errs.Is(err, errs.Unauthorized) || errs.Is(err, errs.Forbidden) {
			return err
		}
		pg.render.Fail(d.Form, r, err)
		d.Errors = web.RowErrorsOf(err)
		return pg.render.Page(w, r, status, "testing/lab", "testing.lab.title", d)
	}
	return pg.render.Page(w, r, http.StatusOK, "testing/lab", "testing.lab.title", d)
}

// retestsPageData is the data of testing/retests.
type retestsPageData struct {
	Round, Area, Status string
	Statuses            []RetestStatus
	List                *ListPage[Retest]
	Error               string
	Prev, Next          string // links to the pages around, "" at an end
}

// pageLink is the board's link to page n with the same filter.
func (d *retestsPageData) pageLink(n int) string {
	q := url.Values{"page": {strconv.Itoa(n)}}
	for k, v := range map[string]string{"round": d.Round, "area": d.Area, "status": d.Status} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return "/testing/retests?" + q.Encode()
}

// RetestsPage shows the retest board (GET /testing/retests?round=&area=
// &status=&page=): masked, sorted by address, a page of 100.
func (pg *Pages) RetestsPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	if err := auth.Require(p, auth.TestingRead, "masstest.RetestsPage"); err != nil {
		return err
	}
	q := r.URL.Query()
	d := &retestsPageData{Round: q.Get("round"), Area: q.Get("area"), Status: q.Get("status"),
		Statuses: []RetestStatus{RetestOpen, RetestNegative, RetestPositive, RetestResampled}}
	page, err := web.QueryInt(r, "page", 1, 1, 1000000)
	if err == nil {
		d.List, err = pg.svc.Retests(r.Context(), p, ListFilter{Round: d.Round, Area: d.Area, Status: d.Status, Page: page,
			PerPage: 100})
	}
	status := http.StatusOK
	if err != nil {
		if status = web.FormStatus(err); status == 0 && !errs.Is(err, errs.NotFound) {
			return err
		}
		if status == 0 {
			status = http.StatusNotFound
		}
		d.Error = pg.render.Message(r, err)
		d.List = &ListPage[Retest]{Items: []Retest{}, Page: 1, PerPage: 100}
	}
	if d.List.Page > 1 {
		d.Prev = d.pageLink(d.List.Page - 1)
	}
	if d.List.Page*d.List.PerPage < d.List.Total {
		d.Next = d.pageLink(d.List.Page + 1)
	}
	return pg.render.Page(w, r, status, "testing/retests", "testing.retests.title", d)
}
