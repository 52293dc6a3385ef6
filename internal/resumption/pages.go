package resumption

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/importer"
	"tongxin/internal/web"
)

// Templates holds the work resumption pages; the Renderer is built with it.
//
//go:embed templates
var Templates embed.FS

// Pages serves work resumption as HTML: the enterprise list and detail,
// the daily report form, the statistics page and the list of units not
// resumed, each table also as an XLSX download.
type Pages struct {
	Svc    *Service
	Render *web.Renderer
	// Problems, when set, lists the tickets about an enterprise for its
	// page and says whether the caller may file one; the app wires it to
	// the ticket module, which this module does not import.
	Problems func(ctx context.Context, p *auth.Principal, key string) (list []Problem, mayFile bool, err error)
}

// Problem is a ticket about an enterprise as its page lists it.
type Problem struct {
	ID         int64
	Tracking   string
	Category   string
	StatusName string
	Open       bool
	Overdue    bool
	Left       string // time left or overdue, for open tickets
	Summary    string
	CreatedAt  time.Time
}

// NavItems are the menu entries (and home cards) of the module, for
// Renderer.AddNav.
func NavItems() []web.NavItem {
	return []web.NavItem{
		{Key: "nav.resumption", DescKey: "card.resumption", Path: "/resumption", Perm: auth.ResumptionRead},
		{Key: "nav.enterprises", DescKey: "card.enterprises", Path: "/enterprises", Perm: auth.ResumptionRead,
			Roles: []auth.Role{auth.EnterpriseContact, auth.Liaison}},
	}
}

// Page sizes and limits of the pages.
const (
	pageListSize     = 50
	pageExportChunk  = 500
	pageExportMax    = 100000
	pageReportDays   = 30
	pageTrendDays    = DefaultTrendDays
	pageMaxFormBytes = 64 << 10
)

// pageUrbanCodes are the four urban districts of 株洲 (the seed's 城区).
var pageUrbanCodes = []string{"430202", "430203", "430204", "430211"}

// ---------------------------------------------------------------------
// Shared helpers

// now is the service clock's time.
func (pg *Pages) now() time.Time { return pg.Svc.DB().Clock.Now() }

// today is the date in Asia/Shanghai.
func (pg *Pages) today() string { return pg.now().In(clock.Shanghai).Format(DateLayout) }

// pctText writes a ratio (0.8612) as a percentage with one decimal.
func pagePct(r float64) string { return strconv.FormatFloat(r*100, 'f', 1, 64) + "%" }

// t translates a catalog key into the request's language.
func (pg *Pages) t(r *http.Request, key string, args ...any) string {
	return pg.Render.T(r, key, args...)
}

// labelOf translates "<prefix>.<value>", or gives the value back.
func (pg *Pages) labelOf(r *http.Request, prefix, value string) string {
	key := prefix + "." + value
	if pg.Render.Catalog().Has(web.LangOf(r), key) {
		return pg.t(r, key)
	}
	return value
}

func (pg *Pages) yesNo(r *http.Request, b bool) string {
	if b {
		return pg.t(r, "common.yes")
	}
	return pg.t(r, "common.no")
}

func (pg *Pages) categoryText(r *http.Request, cs []Category) string {
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = pg.labelOf(r, "category", string(c))
	}
	return strings.Join(names, "、")
}

// pageMayReport reports whether p may file reports for e: its contact, an
// assigned liaison, or an officer with ResumptionReport over its area.
func pageMayReport(p *auth.Principal, e *Enterprise) bool {
	if p == nil {
		return false
	}
	if slices.Contains(p.Refs(auth.EnterpriseContact), e.Key) {
		return true
	}
	if p.HasRole(auth.Liaison) && slices.Contains(e.Liaisons, p.Username) {
		return true
	}
	return p.Covers(auth.ResumptionReport, e.AreaPath)
}

// pageAreaOption is an area the caller may select.
type pageAreaOption struct {
	Code, Name string
	Checked    bool
}

// areaOptions are the areas offered for selection: the districts in the
// caller's reach, or the caller's own areas when they lie below a
// district. Contacts and liaisons, who reach enterprises, get none.
func (pg *Pages) areaOptions(ctx context.Context, p *auth.Principal) ([]pageAreaOption, error) {
	paths, all := p.AreaPaths(auth.ResumptionRead)
	if !all && len(paths) == 0 {
		return nil, nil
	}
	var out []pageAreaOption
	err := pg.Svc.DB().Read(ctx, func(tx *db.Tx) error {
		query := func(where string, args ...any) error {
			rows, err := tx.QueryContext(ctx, `SELECT code, name FROM areas WHERE `+where+` ORDER BY code`, args...)
			if err != nil {
				return errs.Wrap("resumption.areaOptions", err)
			}
			defer rows.Close()
			for rows.Next() {
				var o pageAreaOption
				if err := rows.Scan(&o.Code, &o.Name); err != nil {
					return errs.Wrap("resumption.areaOptions", err)
				}
				if !slices.ContainsFunc(out, func(x pageAreaOption) bool { return x.Code == o.Code }) {
					out = append(out, o)
				}
			}
			return errs.Wrap("resumption.areaOptions", rows.Err())
		}
		if all {
			return query(`level = 'district'`)
		}
		for _, pth := range paths {
			var err error
			if strings.Count(pth, "/") <= 3 { // city or district
				err = query(`level = 'district' AND path LIKE $1 ESCAPE '\'`, db.LikePrefix(pth))
			} else {
				err = query(`path = $1`, pth)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	slices.SortFunc(out, func(a, b pageAreaOption) int { return strings.Compare(a.Code, b.Code) })
	return out, err
}

// ---------------------------------------------------------------------
// Enterprise list and export

// pageListForm is the enterprise list's filter as typed.
type pageListForm struct {
	Area, Park, Category, Kind, Query string
	KeyOnly                           bool
}

// Narrowed reports whether a filter other than the search is set.
func (f pageListForm) Narrowed() bool {
	return f.Area != "" || f.Park != "" || f.Category != "" || f.Kind != "" || f.KeyOnly
}

// query encodes the filter (without the cursor).
func (f pageListForm) query() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"area": f.Area, "park": f.Park, "category": f.Category, "kind": f.Kind, "q": f.Query} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if f.KeyOnly {
		v.Set("key_only", "1")
	}
	return v
}

// pageListFilter reads the filter of the list and its export.
func pageListFilter(q url.Values) (pageListForm, ListFilter, error) {
	f := pageListForm{Area: strings.TrimSpace(q.Get("area")), Park: strings.TrimSpace(q.Get("park")),
		Category: strings.TrimSpace(q.Get("category")), Kind: strings.TrimSpace(q.Get("kind")), Query: strings.TrimSpace(q.Get("q"))}
	switch q.Get("key_only") {
	case "", "0", "false":
	default:
		f.KeyOnly = true
	}
	lf := ListFilter{Park: f.Park, Kind: Kind(f.Kind), KeyOnly: f.KeyOnly, Query: f.Query}
	if f.Area != "" {
		lf.Areas = []string{f.Area}
	}
	if pageRunes(f.Query) > 100 || pageRunes(f.Park) > 100 || pageRunes(f.Area) > 20 {
		return f, lf, errs.E(errs.Invalid, "bad_filter", "筛选条件过长")
	}
	switch {
	case f.Category == "":
	case f.Category == GroupFourAbove:
		lf.Category = GroupFourAbove
	default:
		c, err := ParseCategory(f.Category)
		if err != nil {
			return f, lf, &errs.Error{Kind: errs.Invalid, Code: "bad_filter", Message: err.Error(),
				Fields: []errs.FieldError{{Field: "category", Message: "未知类别"}}}
		}
		lf.Category = c
		f.Category = string(c)
	}
	return f, lf, nil
}

func pageRunes(s string) int { return len([]rune(s)) }

// areaByName reads an area filter given by name ("芦淞区", "建设街道") as
// the area's code, among the areas the caller reaches; a code stays as it
// is. A name that matches no area, or several, is refused with a message.
func (pg *Pages) areaByName(ctx context.Context, p *auth.Principal, lf *ListFilter) error {
	if len(lf.Areas) != 1 || strings.Trim(lf.Areas[0], "0123456789") == "" {
		return nil
	}
	name := lf.Areas[0]
	paths, all := p.AreaPaths(auth.ResumptionRead)
	var codes []string
	err := pg.Svc.DB().Read(ctx, func(tx *db.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT code, path FROM areas WHERE name = $1 ORDER BY code`, name)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var code, path string
			if err := rows.Scan(&code, &path); err != nil {
				return err
			}
			if all || slices.ContainsFunc(paths, func(r string) bool { return strings.HasPrefix(path, r) || strings.HasPrefix(r, path) }) {
				codes = append(codes, code)
			}
		}
		return rows.Err()
	})
	if err != nil {
		return errs.Wrap("resumption.areaByName", err)
	}
	msg := ""
	switch len(codes) {
	case 1:
		lf.Areas = codes
		return nil
	case 0:
		msg = fmt.Sprintf("没有名为“%s”的区划；请输入区划名称（如 芦淞区）或编码（如 430203）", name)
	default:
		msg = fmt.Sprintf("名为“%s”的区划不止一个（%s），请输入区划编码", name, strings.Join(codes, "、"))
	}
	return &errs.Error{Kind: errs.Invalid, Code: "bad_filter", Message: msg, Fields: []errs.FieldError{{Field: "area", Message: msg}}}
}

// pageListData is the data of resumption/list.
type pageListData struct {
	Filter     pageListForm
	Areas      []pageAreaOption
	Categories []Category
	Items      []Enterprise
	NextURL    string
	ExportURL  string
	Error      string
	MayReport  map[string]bool
}

// EnterpriseList shows the enterprises the caller reaches (GET
// /enterprises?area=&park=&category=&kind=&key_only=&q=&after=), 50 a page.
func (pg *Pages) EnterpriseList(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f, lf, ferr := pageListFilter(q)
	d := pageListData{Filter: f, Categories: Categories, MayReport: map[string]bool{}}
	if d.Areas, err = pg.areaOptions(r.Context(), p); err != nil {
		return err
	}
	status := http.StatusOK
	if ferr == nil {
		ferr = pg.areaByName(r.Context(), p, &lf)
	}
	if ferr == nil {
		lf.After, lf.Limit = strings.TrimSpace(q.Get("after")), pageListSize+1
		d.Items, ferr = pg.Svc.List(r.Context(), p, lf)
	}
	if ferr != nil {
		if web.FormStatus(ferr) == 0 || !errs.Is(ferr, errs.Invalid) {
			return ferr
		}
		status, d.Error, d.Items = http.StatusBadRequest, pg.Render.Message(r, ferr), nil
	}
	if len(d.Items) > pageListSize {
		d.Items = d.Items[:pageListSize]
		v := f.query()
		v.Set("after", d.Items[pageListSize-1].Key)
		d.NextURL = "/enterprises?" + v.Encode()
	}
	for i := range d.Items {
		d.MayReport[d.Items[i].Key] = pageMayReport(p, &d.Items[i])
	}
	d.ExportURL = "/enterprises.xlsx"
	if enc := f.query().Encode(); enc != "" {
		d.ExportURL += "?" + enc
	}
	return pg.Render.Page(w, r, status, "resumption/list", "ent.title", d)
}

// EnterpriseExport answers GET /enterprises.xlsx (the list's filters) with
// every matching enterprise and every column of the list, phones masked.
func (pg *Pages) EnterpriseExport(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	_, lf, err := pageListFilter(r.URL.Query())
	if err == nil {
		err = pg.areaByName(r.Context(), p, &lf)
	}
	if err != nil {
		return err
	}
	header := []string{pg.t(r, "ent.col.key"), pg.t(r, "ent.col.name"), pg.t(r, "ent.col.kind"), pg.t(r, "ent.col.area_code"),
		pg.t(r, "ent.col.area"), pg.t(r, "ent.col.park"), pg.t(r, "ent.col.categories"), pg.t(r, "ent.col.is_key"),
		pg.t(r, "ent.col.employees"), pg.t(r, "ent.col.contact"), pg.t(r, "ent.col.phone"), pg.t(r, "ent.col.closed_loop"),
		pg.t(r, "ent.col.liaisons")}
	var rows [][]string
	lf.Limit = pageExportChunk
	for len(rows) < pageExportMax {
		list, err := pg.Svc.List(r.Context(), p, lf)
		if err != nil {
			return err
		}
		for _, e := range list {
			rows = append(rows, []string{e.Key, e.Name, pg.labelOf(r, "kind", string(e.Kind)), e.AreaCode, e.AreaName, e.Park,
				pg.categoryText(r, e.Categories), pg.yesNo(r, e.IsKey), strconv.Itoa(e.Employees), e.ContactName, e.ContactPhone,
				pg.yesNo(r, e.ClosedLoop), strings.Join(e.Liaisons, "、")})
		}
		if len(list) < lf.Limit {
			break
		}
		lf.After = list[len(list)-1].Key
	}
	b, err := importer.WriteXLSX(pg.t(r, "ent.title"), header, rows)
	if err != nil {
		return err
	}
	return web.Attachment(w, importer.MediaXLSX, "enterprises-"+pg.now().In(clock.Shanghai).Format("20060102-1504")+".xlsx", b)
}

// ---------------------------------------------------------------------
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
	e, err := pg.Svc.Get(ctx, p, key)
	if err != nil {
		return nil, err
	}
	d := &pageDetailData{E: e, MayReport: pageMayReport(p, e), Today: pg.today(), MaySubmitPlan: pageMaySubmitPlan(p, e),
		PlanForm: web.NewForm(nil), MayReview: p.Covers(auth.ResumptionManage, e.AreaPath), Self: "/enterprises/" + url.PathEscape(e.Key)}
	if d.Plans, err = pg.Svc.Plans(ctx, p, PlanEnterprise, e.Key); err != nil {
		return nil, err
	}
	if d.Reports, err = pg.Svc.Reports(ctx, p, e.Key, pageReportDays); err != nil {
		return nil, err
	}
	d.ReportedDay = len(d.Reports) > 0 && d.Reports[0].Date == d.Today
	if pg.Problems != nil {
		if d.Problems, d.MayFile, err = pg.Problems(ctx, p, e.Key); err != nil {
			return nil, err
		}
	}
	if versions != "" {
		if t, perr := time.Parse(DateLayout, versions); perr != nil || t.Format(DateLayout) != versions {
			return nil, &errs.Error{Kind: errs.Invalid, Code: "bad_date", Message: "日期须为 YYYY-MM-DD 格式",
				Fields: []errs.FieldError{{Field: "versions", Message: "日期格式不正确"}}}
		}
		d.VersionsDate = versions
		if d.Versions, err = pg.Svc.ReportVersions(ctx, p, e.Key, versions); err != nil {
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
	return pg.Render.Page(w, r, http.StatusOK, "resumption/detail", d.E.Name, d)
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
		_, err = pg.Svc.SubmitPlan(r.Context(), p, in)
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
		pg.Render.Fail(d.PlanForm, r, err)
		return pg.Render.Page(w, r, status, "resumption/detail", d.E.Name, d)
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
	id, err := planID(r)
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
		_, err = pg.Svc.ReviewPlan(r.Context(), p, id, approve, note)
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
					pg.Render.Fail(d.ReviewForm, r, err)
					return pg.Render.Page(w, r, status, "resumption/detail", d.E.Name, d)
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
		if !pg.Render.Catalog().Has(web.LangOf(r), flash) {
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
	items, err := pg.Svc.WithoutApprovedPlan(r.Context(), p)
	if err != nil {
		return err
	}
	return pg.Render.Page(w, r, http.StatusOK, "resumption/plans-missing", "plan.missing.title", pagePlansMissingData{Items: items})
}

// ---------------------------------------------------------------------
// Daily report form

// pageReportData is the data of resumption/report.
type pageReportData struct {
	E        *Enterprise
	Form     *web.Form
	Today    string
	Statuses []Status
	Existing bool // a report for the form's date exists and will be replaced
}

// reportEnterprise loads the enterprise of the form and checks that the
// caller may report for it.
func (pg *Pages) reportEnterprise(r *http.Request) (*auth.Principal, *Enterprise, error) {
	p, err := web.Principal(r)
	if err != nil {
		return nil, nil, err
	}
	e, err := pg.Svc.Get(r.Context(), p, r.PathValue("key"))
	if err != nil {
		return nil, nil, err
	}
	if !pageMayReport(p, e) {
		return nil, nil, &errs.Error{Kind: errs.Forbidden, Code: "forbidden", Op: "resumption.ReportForm",
			Message: "您不能为该企业填报复工日报"}
	}
	return p, e, nil
}

// ReportForm shows the daily report form (GET /enterprises/{key}/report):
// today's date, and today's report if one was filed (a new submission
// replaces it), else the staff expected of the latest report.
func (pg *Pages) ReportForm(w http.ResponseWriter, r *http.Request) error {
	p, e, err := pg.reportEnterprise(r)
	if err != nil {
		return err
	}
	d := pageReportData{E: e, Today: pg.today(), Statuses: []Status{Resumed, Partial, Suspended}}
	v := url.Values{"date": {d.Today}}
	if e.ClosedLoop {
		v.Set("closed_loop", "1")
	}
	latest, err := pg.Svc.Reports(r.Context(), p, e.Key, 1)
	if err != nil {
		return err
	}
	if len(latest) > 0 {
		last := latest[0]
		v.Set("staff_expected", strconv.Itoa(last.StaffExpected))
		if last.Date == d.Today {
			d.Existing = true
			v.Set("status", string(last.Status))
			v.Set("capacity_pct", strconv.Itoa(last.CapacityPct))
			v.Set("staff_on_site", strconv.Itoa(last.StaffOnSite))
			v.Set("note", last.Note)
			v.Del("closed_loop")
			if last.ClosedLoop {
				v.Set("closed_loop", "1")
			}
		}
	}
	d.Form = web.NewForm(v)
	return pg.Render.Page(w, r, http.StatusOK, "resumption/report", "report.title", d)
}

// ReportSubmit files the report of the form (POST /enterprises/{key}/report)
// and goes back to the enterprise with a flash. Mistakes show the form
// again, with status 400 and a message beside each field.
func (pg *Pages) ReportSubmit(w http.ResponseWriter, r *http.Request) error {
	p, e, err := pg.reportEnterprise(r)
	if err != nil {
		return err
	}
	r.Body = http.MaxBytesReader(w, r.Body, pageMaxFormBytes)
	if err := r.ParseForm(); err != nil {
		return errs.E(errs.Invalid, "bad_form", "表单无法解析")
	}
	f := r.PostForm
	values := url.Values{}
	for _, k := range []string{"date", "status", "capacity_pct", "staff_expected", "staff_on_site", "note"} {
		values.Set(k, strings.TrimSpace(f.Get(k)))
	}
	closed := f.Get("closed_loop") != ""
	if closed {
		values.Set("closed_loop", "1")
	}
	form := web.NewForm(values)
	in := ReportInput{Date: values.Get("date"), Status: Status(values.Get("status")), ClosedLoop: closed, Note: values.Get("note")}
	var parseErrs []errs.FieldError
	num := func(field string) *int {
		s := values.Get(field)
		if s == "" {
			return nil
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			parseErrs = append(parseErrs, errs.FieldError{Field: field, Message: "请填写整数"})
			return nil
		}
		return &n
	}
	in.CapacityPct, in.StaffExpected, in.StaffOnSite = num("capacity_pct"), num("staff_expected"), num("staff_on_site")
	today := pg.today()
	d := pageReportData{E: e, Form: form, Today: today, Statuses: []Status{Resumed, Partial, Suspended}}
	if len(parseErrs) > 0 {
		fields := append(parseErrs, in.Validate(today)...)
		err = &errs.Error{Kind: errs.Invalid, Code: "invalid_report", Message: "请检查标出的字段", Fields: fields}
	} else {
		_, err = pg.Svc.FileReport(r.Context(), p, e.Key, in)
	}
	if err != nil {
		status := web.FormStatus(err)
		if status == 0 || errs.Is(err, errs.Unauthorized) || errs.Is(err, errs.Forbidden) {
			return err
		}
		pg.Render.Fail(form, r, err)
		if errs.Is(err, errs.Invalid) {
			form.Error = pg.t(r, "report.err.fields")
		}
		return pg.Render.Page(w, r, status, "resumption/report", "report.title", d)
	}
	web.SetFlash(w, "flash.report_filed")
	http.Redirect(w, r, "/enterprises/"+url.PathEscape(e.Key), http.StatusSeeOther)
	return nil
}

// ---------------------------------------------------------------------
// Statistics

// pageDatetimeLocal is the layout of <input type="datetime-local">.
const pageDatetimeLocal = "2006-01-02T15:04"

// pageStatsForm is the query of the statistics pages as typed.
type pageStatsForm struct {
	Areas []string
	At    string // datetime-local, Asia/Shanghai; "" for now
	Date  string // a report date, YYYY-MM-DD; "" for the day of At
}

// query encodes the form.
func (f pageStatsForm) query() url.Values {
	v := url.Values{}
	for _, a := range f.Areas {
		v.Add("area", a)
	}
	if f.At != "" {
		v.Set("at", f.At)
	}
	if f.Date != "" {
		v.Set("date", f.Date)
	}
	return v
}

// suffix is "?query" or "".
func (f pageStatsForm) suffix() string {
	if enc := f.query().Encode(); enc != "" {
		return "?" + enc
	}
	return ""
}

// pageStatsQuery reads ?area= (repeatable, or comma-separated), ?at= (a
// datetime-local value in Asia/Shanghai, or RFC 3339) and ?date= (a report
// date).
func pageStatsQuery(r *http.Request) (pageStatsForm, StatsQuery, error) {
	v := r.URL.Query()
	var f pageStatsForm
	for _, a := range v["area"] {
		for _, part := range strings.Split(a, ",") {
			if part = strings.TrimSpace(part); part != "" && !slices.Contains(f.Areas, part) {
				f.Areas = append(f.Areas, part)
			}
		}
	}
	q := StatsQuery{Areas: f.Areas}
	if s := strings.TrimSpace(v.Get("at")); s != "" {
		var t time.Time
		var err error
		for _, layout := range []string{pageDatetimeLocal, "2006-01-02T15:04:05"} {
			if t, err = time.ParseInLocation(layout, s, clock.Shanghai); err == nil {
				break
			}
		}
		if err != nil {
			t, err = time.Parse(time.RFC3339, s)
		}
		if err != nil {
			return f, q, &errs.Error{Kind: errs.Invalid, Code: "bad_at", Message: "统计时点格式不正确，应为 2022-11-20T17:00",
				Fields: []errs.FieldError{{Field: "at", Message: "时间格式不正确"}}}
		}
		q.At = t
		f.At = t.In(clock.Shanghai).Format(pageDatetimeLocal)
	}
	if s := strings.TrimSpace(v.Get("date")); s != "" {
		d, err := ParseStatsDate(s)
		if err != nil {
			return f, q, err
		}
		q.Date, f.Date = d, d
	}
	return f, q, nil
}

// pageGroupRow is a line of the groups table.
type pageGroupRow struct {
	Group            string
	Total, Resumed   int
	Rate             string
	Expected, OnSite int
	StaffRate        string
}

// pagePowerRow is a line of the power table.
type pagePowerRow struct {
	Name, Date         string
	LoadKW, BaselineKW string
	Recovery           string
	Total              bool
}

// pagePartRow is a line of the breakdown table.
type pagePartRow struct {
	Code, Name                     string
	Industrial, FourAbove, Project string
	Key                            string
	Staff                          string
	NotReported                    int
}

// pageTrendRow is a line of the trend table.
type pageTrendRow struct {
	Date                           string
	Industrial, FourAbove, Project string
	Staff                          string
}

// pageChartSeries is one series of a chart.
type pageChartSeries struct {
	Name string     `json:"name"`
	Data []*float64 `json:"data"` // null: no data (a gap, not 0)
}

// pageChartSpec is one chart as resumption-charts.js draws it.
type pageChartSpec struct {
	ID         string            `json:"id"`
	Type       string            `json:"type"` // bar or line
	Title      string            `json:"title"`
	Categories []string          `json:"categories"`
	Series     []pageChartSeries `json:"series"`
	Unit       string            `json:"unit"` // "%" or ""
}

// pageStatsData is the data of resumption/stats.
type pageStatsData struct {
	Form       pageStatsForm
	Areas      []pageAreaOption
	UrbanURL   string // the 城区 shortcut, when the caller reaches it
	Urban      bool   // the query is exactly the urban districts
	AsOf       time.Time
	Date       string // the report date asked for
	Stats      *Stats
	Briefing   string
	Groups     []pageGroupRow
	Capacity   string
	Power      []pagePowerRow
	Parts      []pagePartRow
	Trend      []pageTrendRow
	Charts     []pageChartSpec
	ExportURL  string
	MissingURL string
}

// pageRatioPct is a ratio in percent rounded to one decimal, for charts.
func pageRatioPct(r float64) float64 { return float64(int64(r*1000+0.5)) / 10 }

// statsQuery is the caller and the statistics query of a resumption page,
// the moment defaulting to now.
func (pg *Pages) statsQuery(r *http.Request) (*auth.Principal, pageStatsForm, StatsQuery, error) {
	p, err := web.Principal(r)
	if err != nil {
		return nil, pageStatsForm{}, StatsQuery{}, err
	}
	f, q, err := pageStatsQuery(r)
	if err != nil {
		return nil, f, q, err
	}
	if q.At.IsZero() {
		q.At = pg.now()
	}
	return p, f, q, nil
}

// statsView reads the statistics page's query (the moment defaults to now)
// and loads what both the page and its export show besides the figures:
// the breakdown by district and the trend.
func (pg *Pages) statsView(r *http.Request) (p *auth.Principal, f pageStatsForm, q StatsQuery, parts []AreaStats, trend []DayStats, err error) {
	if p, f, q, err = pg.statsQuery(r); err != nil {
		return
	}
	ctx := r.Context()
	if parts, err = pg.Svc.Breakdown(ctx, p, q, LevelDistrict); err != nil {
		return
	}
	trend, err = pg.Svc.Trend(ctx, p, q, pageTrendDays)
	return
}

// StatsPage shows the resumption figures (GET /resumption?area=&at=): a
// choice of areas and moment, the figures as tables, the briefing
// paragraph, the breakdown by district, the 14-day trend and, with
// JavaScript, charts of them.
func (pg *Pages) StatsPage(w http.ResponseWriter, r *http.Request) error {
	p, f, q, parts, trend, err := pg.statsView(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	b, err := pg.Svc.Briefing(ctx, p, q)
	if err != nil {
		return err
	}
	d := pageStatsData{Form: f, Stats: b.Stats, AsOf: b.AsOf, Briefing: b.ZH,
		ExportURL: "/resumption.xlsx" + f.suffix(), MissingURL: "/resumption/not-resumed" + f.suffix()}
	if web.LangOf(r) != web.LangZH {
		d.Briefing = b.EN
	}
	if d.Form.At == "" && f.Date == "" {
		d.Form.At = q.At.In(clock.Shanghai).Format(pageDatetimeLocal)
	}
	d.Date = b.Stats.Date
	if d.Areas, err = pg.areaOptions(ctx, p); err != nil {
		return err
	}
	reached := 0
	for i := range d.Areas {
		d.Areas[i].Checked = slices.Contains(f.Areas, d.Areas[i].Code)
		if slices.Contains(pageUrbanCodes, d.Areas[i].Code) {
			reached++
		}
	}
	if reached == len(pageUrbanCodes) {
		v := url.Values{"area": pageUrbanCodes}
		if f.At != "" {
			v.Set("at", f.At)
		}
		if f.Date != "" {
			v.Set("date", f.Date)
		}
		d.UrbanURL = "/resumption?" + v.Encode()
	}
	sorted := slices.Clone(f.Areas)
	slices.Sort(sorted)
	d.Urban = slices.Equal(sorted, pageUrbanCodes)

	st := b.Stats
	for _, g := range st.Groups {
		s := st.StaffOf(g.Group)
		d.Groups = append(d.Groups, pageGroupRow{Group: g.Group, Total: g.Total, Resumed: g.Resumed, Rate: pageGroupPct(g),
			Expected: s.Expected, OnSite: s.OnSite, StaffRate: pageStaffPct(s)})
	}
	d.Capacity = pageNoData
	if st.HasCapacity() {
		d.Capacity = strconv.FormatFloat(st.CapacityAvg, 'f', 1, 64) + "%"
	}
	kw := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	for _, pw := range st.Power {
		d.Power = append(d.Power, pagePowerRow{Name: pw.Name, Date: pw.Date, LoadKW: kw(pw.MaxLoadKW), BaselineKW: kw(pw.BaselineKW),
			Recovery: pagePct(pw.Recovery)})
	}
	if t, ok := st.ParksTotal(); ok {
		d.Power = append(d.Power, pagePowerRow{Name: pg.t(r, "res.power.parks_total"), Date: t.Date, LoadKW: kw(t.MaxLoadKW),
			BaselineKW: kw(t.BaselineKW), Recovery: pagePct(t.Recovery), Total: true})
	}
	for _, part := range parts {
		ps := part.Stats
		d.Parts = append(d.Parts, pagePartRow{Code: part.Code, Name: part.Name,
			Industrial: pageGroupPct(ps.Group(string(IndustrialAboveScale))), FourAbove: pageGroupPct(ps.Group(GroupFourAbove)),
			Project: pageGroupPct(ps.Group(GroupProject)), Key: pageGroupPct(ps.Group(GroupKey)),
			Staff: pageStaffPct(ps.StaffOf(GroupFourAbove)), NotReported: ps.NotReported})
	}
	for _, day := range trend {
		ds := &Stats{Groups: day.Groups, Staff: day.Staff}
		d.Trend = append(d.Trend, pageTrendRow{Date: day.Date, Industrial: pageGroupPct(ds.Group(string(IndustrialAboveScale))),
			FourAbove: pageGroupPct(ds.Group(GroupFourAbove)), Project: pageGroupPct(ds.Group(GroupProject)),
			Staff: pageStaffPct(ds.StaffOf(GroupFourAbove))})
	}
	d.Charts = pg.charts(r, st, parts, trend)
	return pg.Render.Page(w, r, http.StatusOK, "resumption/stats", "res.title", d)
}

// charts builds the chart specifications of the statistics page.
func (pg *Pages) charts(r *http.Request, st *Stats, parts []AreaStats, trend []DayStats) []pageChartSpec {
	groupName := func(g string) string { return pg.labelOf(r, "group", g) }
	rateGroups := []string{string(IndustrialAboveScale), GroupFourAbove, GroupProject}
	var out []pageChartSpec

	byDistrict := pageChartSpec{ID: "chart-districts", Type: "bar", Title: pg.t(r, "res.chart.districts"), Unit: "%", Categories: []string{}}
	for _, part := range parts {
		byDistrict.Categories = append(byDistrict.Categories, part.Name)
	}
	for _, g := range rateGroups {
		s := pageChartSeries{Name: groupName(g), Data: []*float64{}}
		for _, part := range parts {
			s.Data = append(s.Data, pageChartGroup(part.Stats.Group(g)))
		}
		byDistrict.Series = append(byDistrict.Series, s)
	}
	out = append(out, byDistrict)

	tr := pageChartSpec{ID: "chart-trend", Type: "line", Title: pg.t(r, "res.chart.trend", len(trend)), Unit: "%", Categories: []string{}}
	for _, day := range trend {
		tr.Categories = append(tr.Categories, day.Date[5:])
	}
	for _, g := range rateGroups {
		s := pageChartSeries{Name: groupName(g), Data: []*float64{}}
		for _, day := range trend {
			s.Data = append(s.Data, pageChartGroup((&Stats{Groups: day.Groups}).Group(g)))
		}
		tr.Series = append(tr.Series, s)
	}
	staffLine := pageChartSeries{Name: pg.t(r, "res.chart.staff_rate"), Data: []*float64{}}
	for _, day := range trend {
		s := (&Stats{Staff: day.Staff}).StaffOf(GroupFourAbove)
		staffLine.Data = append(staffLine.Data, pageChartPct(s.Rate, s.HasRate()))
	}
	tr.Series = append(tr.Series, staffLine)
	out = append(out, tr)

	staff := pageChartSpec{ID: "chart-staff", Type: "bar", Title: pg.t(r, "res.chart.staff"), Categories: []string{},
		Series: []pageChartSeries{{Name: pg.t(r, "res.col.expected"), Data: []*float64{}}, {Name: pg.t(r, "res.col.on_site"), Data: []*float64{}}}}
	for _, s := range st.Staff {
		if s.Expected == 0 && s.OnSite == 0 {
			continue
		}
		staff.Categories = append(staff.Categories, groupName(s.Group))
		staff.Series[0].Data = append(staff.Series[0].Data, pageNum(float64(s.Expected)))
		staff.Series[1].Data = append(staff.Series[1].Data, pageNum(float64(s.OnSite)))
	}
	out = append(out, staff)

	power := pageChartSpec{ID: "chart-power", Type: "bar", Title: pg.t(r, "res.chart.power"), Unit: "%", Categories: []string{},
		Series: []pageChartSeries{{Name: pg.t(r, "res.col.recovery"), Data: []*float64{}}}}
	for _, pw := range st.Power {
		power.Categories = append(power.Categories, pw.Name)
		power.Series[0].Data = append(power.Series[0].Data, pageChartPct(pw.Recovery, true))
	}
	out = append(out, power)
	return out
}

// StatsExport answers GET /resumption.xlsx (the statistics page's query)
// with the figures, the power table, the breakdown by district and the
// 14-day trend.
func (pg *Pages) StatsExport(w http.ResponseWriter, r *http.Request) error {
	p, _, q, parts, trend, err := pg.statsView(r)
	if err != nil {
		return err
	}
	st, err := pg.Svc.Stats(r.Context(), p, q)
	if err != nil {
		return err
	}
	b, err := StatsWorkbook(st, parts)
	if err != nil {
		return err
	}
	b, err = pageTrendSheet(b, pg.t(r, "res.trend"), []string{pg.t(r, "res.col.date"), pg.labelOf(r, "group", string(IndustrialAboveScale)),
		pg.labelOf(r, "group", GroupFourAbove), pg.labelOf(r, "group", GroupProject), pg.t(r, "res.chart.staff_rate")}, trend)
	if err != nil {
		return err
	}
	return web.Attachment(w, importer.MediaXLSX, "resumption-"+statsFileStamp(st)+".xlsx", b)
}

// pageTrendSheet appends the trend as a sheet to a workbook.
func pageTrendSheet(book []byte, name string, header []string, trend []DayStats) ([]byte, error) {
	const op = "resumption.pageTrendSheet"
	f, err := excelize.OpenReader(bytes.NewReader(book))
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	defer f.Close()
	if _, err := f.NewSheet(name); err != nil {
		return nil, errs.Wrap(op, err)
	}
	pct, err := f.NewStyle(&excelize.Style{NumFmt: 10})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	for i, h := range header {
		cell, _ := excelize.CoordinatesToCellName(i+1, 1)
		if err := f.SetCellStr(name, cell, h); err != nil {
			return nil, errs.Wrap(op, err)
		}
		if err := f.SetCellStyle(name, cell, cell, bold); err != nil {
			return nil, errs.Wrap(op, err)
		}
	}
	if err := f.SetColWidth(name, "A", "E", 16); err != nil {
		return nil, errs.Wrap(op, err)
	}
	for n, day := range trend {
		ds := &Stats{Groups: day.Groups, Staff: day.Staff}
		ind, four, proj, staff := ds.Group(string(IndustrialAboveScale)), ds.Group(GroupFourAbove), ds.Group(GroupProject), ds.StaffOf(GroupFourAbove)
		vals := []*float64{rateOrNil(ind.Rate, ind.HasRate()), rateOrNil(four.Rate, four.HasRate()), rateOrNil(proj.Rate, proj.HasRate()),
			rateOrNil(staff.Rate, staff.HasRate())}
		cell, _ := excelize.CoordinatesToCellName(1, n+2)
		if err := f.SetCellStr(name, cell, day.Date); err != nil {
			return nil, errs.Wrap(op, err)
		}
		for i, v := range vals {
			if v == nil {
				continue // no data: an empty cell
			}
			cell, _ := excelize.CoordinatesToCellName(i+2, n+2)
			if err := f.SetCellFloat(name, cell, *v, 4, 64); err != nil {
				return nil, errs.Wrap(op, err)
			}
			if err := f.SetCellStyle(name, cell, cell, pct); err != nil {
				return nil, errs.Wrap(op, err)
			}
		}
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return buf.Bytes(), nil
}

// ---------------------------------------------------------------------
// Units not resumed

// pageNotResumedData is the data of resumption/not-resumed.
type pageNotResumedData struct {
	Form      pageStatsForm
	AsOf      time.Time
	Date      string // the report date asked for
	Units     []Unit
	Missing   int // not reported
	Suspended int
	ExportURL string
	StatsURL  string
}

// NotResumedPage lists the units not resumed as of the moment (GET
// /resumption/not-resumed?area=&at=): those whose latest report says
// suspended, with its date and note, and those that never reported.
func (pg *Pages) NotResumedPage(w http.ResponseWriter, r *http.Request) error {
	p, f, q, err := pg.statsQuery(r)
	if err != nil {
		return err
	}
	units, err := pg.Svc.NotResumed(r.Context(), p, q)
	if err != nil {
		return err
	}
	d := pageNotResumedData{Form: f, AsOf: q.At, Date: q.Date, Units: units, ExportURL: "/resumption/not-resumed.xlsx" + f.suffix(),
		StatsURL: "/resumption" + f.suffix()}
	for _, u := range units {
		if u.Reason == ReasonNotReported {
			d.Missing++
		} else {
			d.Suspended++
		}
	}
	return pg.Render.Page(w, r, http.StatusOK, "resumption/not-resumed", "nr.title", d)
}

// NotResumedExport answers GET /resumption/not-resumed.xlsx with the list
// of the page.
func (pg *Pages) NotResumedExport(w http.ResponseWriter, r *http.Request) error {
	p, _, q, err := pg.statsQuery(r)
	if err != nil {
		return err
	}
	units, err := pg.Svc.NotResumed(r.Context(), p, q)
	if err != nil {
		return err
	}
	header := []string{pg.t(r, "ent.col.key"), pg.t(r, "ent.col.name"), pg.t(r, "ent.col.kind"), pg.t(r, "ent.col.area_code"),
		pg.t(r, "ent.col.area"), pg.t(r, "ent.col.categories"), pg.t(r, "nr.col.reason"), pg.t(r, "nr.col.last_date"),
		pg.t(r, "nr.col.note")}
	rows := make([][]string, 0, len(units))
	for _, u := range units {
		rows = append(rows, []string{u.Key, u.Name, pg.labelOf(r, "kind", u.Kind), u.AreaCode, u.AreaName,
			pg.categoryText(r, u.Categories), pg.labelOf(r, "reason", u.Reason), u.LastDate, u.Note})
	}
	b, err := importer.WriteXLSX(pg.t(r, "nr.title"), header, rows)
	if err != nil {
		return err
	}
	return web.Attachment(w, importer.MediaXLSX, fmt.Sprintf("not-resumed-%s.xlsx", statsFileStamp(&Stats{AsOf: q.At, Date: q.Date})), b)
}
