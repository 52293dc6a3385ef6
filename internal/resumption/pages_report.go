package resumption

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"tongxin/internal/auth"
	"tongxin/internal/errs"
	"tongxin/internal/web"
)

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
	e, err := pg.svc.Get(r.Context(), p, r.PathValue("key"))
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
	latest, err := pg.svc.Reports(r.Context(), p, e.Key, 1)
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
	return pg.render.Page(w, r, http.StatusOK, "resumption/report", "report.title", d)
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
		_, err = pg.svc.FileReport(r.Context(), p, e.Key, in)
	}
	if err != nil {
		status := web.FormStatus(err)
		if status == 0 || errs.Is(err, errs.Unauthorized) || errs.Is(err, errs.Forbidden) {
			return err
		}
		pg.render.Fail(form, r, err)
		if errs.Is(err, errs.Invalid) {
			form.Error = pg.t(r, "report.err.fields")
		}
		return pg.render.Page(w, r, status, "resumption/report", "report.title", d)
	}
	web.SetFlash(w, "flash.report_filed")
	http.Redirect(w, r, "/enterprises/"+url.PathEscape(e.Key), http.StatusSeeOther)
	return nil
}
