package web

import (
	"net/http"
	"net/url"
	"strings"

	"tongxin/internal/errs"
)

// IsHTMX reports whether a request comes from htmx (and wants a fragment).
func IsHTMX(r *http.Request) bool { return r.Header.Get("HX-Request") == "true" }

// flashCookie carries a catalog key across a redirect.
const flashCookie = "flash"

// SetFlash makes the next page show the catalog text of key once.
func SetFlash(w http.ResponseWriter, key string) {
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: url.QueryEscape(key), Path: "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, MaxAge: 60})
}

// SeeOther answers a posted form: 303 to target, whose page shows the
// catalog text of flash once.
func SeeOther(w http.ResponseWriter, r *http.Request, target, flash string) error {
	SetFlash(w, flash)
	http.Redirect(w, r, target, http.StatusSeeOther)
	return nil
}

// ParseForm reads an url-encoded form of at most limit bytes; anything
// unreadable is 400 bad_form.
func ParseForm(w http.ResponseWriter, r *http.Request, limit int64) error {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	if err := r.ParseForm(); err != nil {
		return errs.E(errs.Invalid, "bad_form", "表单无法解析")
	}
	return nil
}

// Trimmed copies the named fields of a posted form, trimmed; empty ones
// are left out.
func Trimmed(r *http.Request, names ...string) url.Values {
	v := url.Values{}
	for _, n := range names {
		if s := strings.TrimSpace(r.PostForm.Get(n)); s != "" {
			v.Set(n, s)
		}
	}
	return v
}

// Form carries a submitted form's values and its errors back to the
// template that shows it again.
type Form struct {
	Values url.Values
	Error  string            // message for the whole form
	Fields map[string]string // message per field name
}

// NewForm returns a form holding values (nil for an empty form).
func NewForm(values url.Values) *Form {
	if values == nil {
		values = url.Values{}
	}
	return &Form{Values: values, Fields: map[string]string{}}
}

// Get returns a submitted value.
func (f *Form) Get(name string) string {
	if f == nil {
		return ""
	}
	return f.Values.Get(name)
}

// Field returns the error message of a field, "" when it is fine.
func (f *Form) Field(name string) string {
	if f == nil {
		return ""
	}
	return f.Fields[name]
}

// Fail records err on the form: its message in the request's language and
// its per-field messages.
func (r *Renderer) Fail(f *Form, req *http.Request, err error) {
	f.Error = r.Message(req, err)
	if e := errs.As(err); e != nil {
		for _, fe := range e.Fields {
			if fe.Field != "" && f.Fields[fe.Field] == "" {
				f.Fields[fe.Field] = fe.Message
			}
		}
	}
}

// FormStatus is the status of a form shown again after err: the error's
// status for the kinds a user can correct, 0 for any other error (which the
// handler should return instead).
func FormStatus(err error) int {
	switch k := errs.KindOf(err); k {
	case errs.Invalid, errs.Conflict, errs.Forbidden, errs.TooMany, errs.Unauthorized:
		return StatusOf(k)
	}
	return 0
}
