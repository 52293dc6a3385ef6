package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"tongxin/internal/errs"
)

// ErrorData is the data of the error page.
type ErrorData struct {
	Status   int
	Code     string
	Detail   string
	Errors   []errs.FieldError
	More     int    // problems beyond Errors (Problem.ErrorCount - len(Errors))
	LoginURL string // for 401: the login page, coming back here afterwards
}

// RowErrors are the per-row problems of a refused import, for a page: the
// first MaxProblemErrors and the number of the others.
type RowErrors struct {
	List []errs.FieldError
	More int
}

// RowErrorsOf returns the problems of err that name a row.
func RowErrorsOf(err error) RowErrors {
	var re RowErrors
	e := errs.As(err)
	if e == nil {
		return re
	}
	n := 0
	for _, f := range e.Fields {
		if f.Row > 0 {
			n++
			if len(re.List) < MaxProblemErrors {
				re.List = append(re.List, f)
			}
		}
	}
	if e.Total > len(e.Fields) {
		n += e.Total - len(e.Fields)
	}
	re.More = n - len(re.List)
	return re
}

// ErrorPage renders a problem for a browser. It is the Adapter's
// ErrorPage hook.
func (r *Renderer) ErrorPage(w http.ResponseWriter, req *http.Request, status int, p Problem) {
	lang := LangOf(req)
	d := ErrorData{Status: status, Code: p.Code, Detail: p.Detail, Errors: p.Errors, More: p.ErrorCount - len(p.Errors)}
	if lang != LangZH && r.catalog.Has(lang, "err."+p.Code) {
		d.Detail = r.catalog.T(lang, "err."+p.Code)
	}
	if p.Code == "internal" {
		d.Detail = r.catalog.T(lang, "error.internal")
	}
	if status == http.StatusUnauthorized {
		next := "/"
		if req.Method == http.MethodGet || req.Method == http.MethodHead {
			next = req.URL.RequestURI()
		} else if ref, err := url.Parse(req.Referer()); err == nil && ref.Host == req.Host {
			next = ref.RequestURI()
		}
		d.LoginURL = "/login"
		if next = SafeNext(next, "/"); next != "/" && !strings.HasPrefix(next, "/login") {
			d.LoginURL += "?next=" + url.QueryEscape(next)
		}
	}
	title := "error.title"
	if k := fmt.Sprintf("error.%d", status); r.catalog.Has(lang, k) {
		title = k
	}
	var err error
	if IsHTMX(req) {
		err = r.Fragment(w, req, status, "web/error", d)
	} else {
		err = r.Page(w, req, status, "web/error", title, d)
	}
	if err != nil {
		r.log.ErrorContext(req.Context(), "error page failed", "err", err.Error())
		http.Error(w, d.Detail, status)
	}
}
