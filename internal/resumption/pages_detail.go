package resumption

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/errs"
	"tongxin/internal/web"
)

// Enterprise detail

// pageDetailData is the data of resumption/detail.
type pageDetailData struct {
	E             *Enterprise
	Plans         []Plan
	Reports       []Report
	VersionsDate  string
	Versions      []Report
	MayReport     bool
	Today         string
	ReportedDay   bool // today's report exists
	MaySubmitPlan bool
	PlanForm      *web.Form // the plan upload form
	MayReview     bool
	ReviewID      int64     // the plan whose review form ReviewForm is
	ReviewForm    *web.Form // a refused review, shown again
	Self          string    // this page, the review forms' way back
	Problems      []Problem // tickets about the enterprise
	MayFile       bool      // the caller may file a problem about it
}

// Pending reports whether a plan version awaits review.
func (d *pageDetailData) Pending(pl Plan) bool { return pl.Status == PlanSubmitted }

// ReviewFormOf is the review form of a plan: the refused one shown again,
// or an empty one.
func (d *pageDetailData) ReviewFormOf(id int64) *web.Form {
	if d.ReviewForm != nil && d.ReviewID == id {
		return d.ReviewForm
	}
	return web.NewForm(nil)
}

// pageMaySubmitPlan reports whether the plan upload form is offered to p
// for e: its contact, an assigned liaison or a manager over its area. The
// service decides.
func pageMaySubmitPlan(p *auth.Principal, e *Enterprise) bool {
	if p == nil {
		return false
	}
	if slices.Contains(p.Refs(auth.EnterpriseContact), e.Key) {
		return true
	}
	if p.HasRole(auth.Liaison) && slices.Contains(e.Liaisons, p.Username) {
		return true
	}
	return p.Covers(auth.ResumptionManage, e.AreaPath)
}

// detail loads the data of the detail page of the enterprise key;
// versions is the ?versions= date, "" for none.
func (pg *Pages) detail(r *http.Request, p *auth.Principal, key, versions string) (*pageDetailData, error) {
	ctx := r.Context()
	e, err := pg.svc.Get(ctx, p, key)
	if err != nil {
		return nil, err
	}
	d := &pageDetailData{E: e, MayReport: pageMayReport(p, e), Today: pg.today(), MaySubmitPlan: pageMaySubmitPlan(p, e),
		PlanForm: web.NewForm(nil), MayReview: p.Covers(auth.ResumptionManage, e.AreaPath), Self: "/enterprises/" + url.PathEscape(e.Key)}
	if d.Plans, err = pg.svc.Plans(ctx, p, PlanEnterprise, e.Key); err != nil {
		return nil, err
	}
	if d.Reports, err = pg.svc.Reports(ctx, p, e.Key, pageReportDays); err != nil {
		return nil, err
	}
	d.ReportedDay = len(d.Reports) > 0 && d.Reports[0].Date == d.Today
	if pg.problems != nil {
		if d.Problems, d.MayFile, err = pg.problems(ctx, p, e.Key); err != nil {
			return nil, err
		}
	}
	if versions != "" {
		if t, perr := time.Parse(DateLayout, versions); perr != nil || t.Format(DateLayout) != versions {
			return nil, &errs.Error{Kind: errs.Invalid, Code: "bad_date", Message: "日期须为 YYYY-MM-DD 格式",
				Fields: []errs.FieldError{{Field: "versions", Message: "日期格式不正确"}}}
		}
		d.VersionsDate = versions
		if d.Versions, err = pg.svc.ReportVersions(ctx, p, e.Key, versions); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// EnterpriseDetail shows one enterprise (GET /enterprises/{key}): its
// registry data, liaisons, prevention plans and the reports of its latest
// 30 dates; ?versions=YYYY-MM-DD lists every version filed for that date.
// Those who may submit a plan get the upload form, managers the review
// forms of versions awaiting review.
func (pg *Pages) EnterpriseDetail(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	d, err := pg.detail(r, p, r.PathValue("key"), strings.TrimSpace(r.URL.Query().Get("versions")))
	if err != nil {
		return err
	}
	return pg.render.Page(w, r, http.StatusOK, "resumption/detail", d.E.Name, d)
}

// pageFormStatus is the status of a page shown again after err, 0 when
// the handler should return err instead: the kinds a user can correct, and
// a file too large.
func pageFormStatus(err error) int {
	if errs.Is(err, errs.Unauthorized) {
		return 0
	}
	if errs.Is(err, errs.TooLarge) {
		return http.StatusRequestEntityTooLarge
	}
	return web.FormStatus(err)
}

// PlanSubmit files a prevention plan version for the enterprise (POST
// /enterprises/{key}/plans, multipart/form-data: title, file optional) and
// goes back to the enterprise with a flash. A refusal shows the enterprise
// again with the message above the upload form.
func (pg *Pages) PlanSubmit(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	key := r.PathValue("key")
	in := PlanInput{SubjectKind: PlanEnterprise, Subject: key}
	r.Body = http.MaxBytesReader(w, r.Body, web.MaxUploadBody)
	err = r.ParseMultipartForm(MaxPlanFile + 1<<20)
	if r.MultipartForm != nil {
		defer r.MultipartForm.RemoveAll()
	}
	if err == nil {
		in.Title = r.PostForm.Get("title")
		err = pageReadPlanFile(r, &in)
	} else {
		err = planFormError(err)
	}
	if err == nil {
		_, err = pg.svc.SubmitPlan(r.Context(), p, in)
	}
	if err != nil {
		status := pageFormStatus(err)
		if status == 0 {
			return err
		}
		d, derr := pg.detail(r, p, key, "")
		if derr != nil {
			return derr
		}
		d.PlanForm = web.NewForm(url.Values{"title": {strings.TrimSpace(in.Title)}})
		pg.render.Fail(d.PlanForm, r, err)
		return pg.render.Page(w, r, status, "resumption/detail", d.E.Name, d)
	}
	web.SetFlash(w, "flash.plan_submitted")
	http.Redirect(w, r, "/enterprises/"+url.PathEscape(planSubjectKey(key)), http.StatusSeeOther)
	return nil
}

// pageReadPlanFile reads the optional field "file" of a parsed multipart
// form into in.
func pageReadPlanFile(r *http.Request, in *PlanInput) error {
	f, h, err := r.FormFile("file")
	if errors.Is(err, http.ErrMissingFile) {
		return nil
	}
	if err != nil {
		return planFormError(err)
	}
	defer f.Close()
	if h.Size > MaxPlanFile {
		return planTooLarge()
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxPlanFile+1))
	if err != nil {
		return planFormError(err)
	}
	if len(b) > MaxPlanFile {
		return planTooLarge()
	}
	if len(b) > 0 || h.Filename != "" {
		in.File, in.FileName = b, h.Filename
	}
	if len(b) == 0 && h.Filename != "" {
		return &errs.Error{Kind: errs.Invalid, Code: "plan_file_type", Message: "上传的预案文件是空的",
			Fields: []errs.FieldError{{Field: "file", Message: "文件为空"}}}
	}
	return nil
}

// PlanReview approves or rejects a plan version (POST /plans/{id}/review;
// decision=approve|reject, note, next) and goes back to next with a flash.
// When next is an enterprise's page, a refusal shows that page again with
// the message beside the review form; otherwise it comes back as a flash.
func (pg *Pages) PlanReview(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", errPlanNotFound())
	if err != nil {
		return err
	}
	r.Body = http.MaxBytesReader(w, r.Body, pageMaxFormBytes)
	if err := r.ParseForm(); err != nil {
		return errs.E(errs.Invalid, "bad_form", "表单无法解析")
	}
	f := r.PostForm
	next := web.SafeNext(f.Get("next"), "/enterprises")
	note := strings.TrimSpace(f.Get("note"))
	var approve bool
	switch f.Get("decision") {
	case "approve":
		approve = true
	case "reject":
	default:
		err = &errs.Error{Kind: errs.Invalid, Code: "plan_review_invalid", Message: "请选择通过或退回",
			Fields: []errs.FieldError{{Field: "decision", Message: "请选择通过或退回"}}}
	}
	if err == nil {
		_, err = pg.svc.ReviewPlan(r.Context(), p, id, approve, note)
	}
	if err != nil {
		status := pageFormStatus(err)
		if status == 0 {
			return err
		}
		path, _, _ := strings.Cut(next, "#")
		path, _, _ = strings.Cut(path, "?")
		if key, ok := strings.CutPrefix(path, "/enterprises/"); ok && key != "" && !strings.Contains(key, "/") {
			if key, uerr := url.PathUnescape(key); uerr == nil {
				d, derr := pg.detail(r, p, key, "")
				if derr == nil {
					d.ReviewID, d.ReviewForm = id, web.NewForm(url.Values{"note": {note}})
					pg.render.Fail(d.ReviewForm, r, err)
					return pg.render.Page(w, r, status, "resumption/detail", d.E.Name, d)
				}
			}
		}
		if errs.Is(err, errs.Forbidden) {
			// Not a mistake in the form: the caller may not review.
			return err
		}
		flash := "plan.review_failed"
		if e := errs.As(err); e != nil && e.Code != "" {
			flash = "err." + e.Code
		}
		if !pg.render.Catalog().Has(web.LangOf(r), flash) {
			flash = "plan.review_failed"
		}
		web.SetFlash(w, flash)
		http.Redirect(w, r, next, http.StatusSeeOther)
		return nil
	}
	if approve {
		web.SetFlash(w, "flash.plan_approved")
	} else {
		web.SetFlash(w, "flash.plan_rejected")
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

// pagePlansMissingData is the data of resumption/plans-missing.
type pagePlansMissingData struct {
	Items []Enterprise
}

// PlansMissingPage lists the enterprises and projects in reach without an
// approved prevention plan (GET /plans/missing): their latest version is
// not approved, or they have none.
func (pg *Pages) PlansMissingPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	items, err := pg.svc.WithoutApprovedPlan(r.Context(), p)
	if err != nil {
		return err
	}
	return pg.render.Page(w, r, http.StatusOK, "resumption/plans-missing", "plan.missing.title", pagePlansMissingData{Items: items})
}
