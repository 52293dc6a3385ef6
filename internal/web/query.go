package web

import (
	"net/http"
	"slices"
	"strings"

	"tongxin/internal/errs"
)

// StrictQuery wraps an API handler so that a query parameter outside
// allowed (the operation's parameters in the API description) answers 400
// unknown_parameter naming it, instead of being silently ignored: a
// misspelt or unsupported filter would otherwise return unfiltered data
// that looks right. Pages do not use it (htmx and browsers add their own
// parameters).
func StrictQuery(allowed []string, h Handler) Handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		if r.URL.RawQuery != "" {
			if err := checkQuery(r, allowed); err != nil {
				return err
			}
		}
		return h(w, r)
	}
}

// Bounds of what an unknown_parameter problem echoes.
const (
	maxUnknownNamed = 20
	maxNameRunes    = 64
)

// checkQuery returns the unknown_parameter error for the parameters of r
// not in allowed, nil when there are none.
func checkQuery(r *http.Request, allowed []string) error {
	var unknown []string
	for name := range r.URL.Query() {
		if !slices.Contains(allowed, name) {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	slices.Sort(unknown)
	e := &errs.Error{Kind: errs.Invalid, Code: "unknown_parameter"}
	if len(unknown) > maxUnknownNamed {
		e.Total, unknown = len(unknown), unknown[:maxUnknownNamed]
	}
	for i, name := range unknown {
		if r := []rune(name); len(r) > maxNameRunes {
			unknown[i] = string(r[:maxNameRunes]) + "…"
		}
	}
	for _, name := range unknown {
		e.Fields = append(e.Fields, errs.FieldError{Field: name, Code: "unknown_parameter", Message: "此接口不接受该查询参数"})
	}
	e.Message = "未知的查询参数：" + strings.Join(unknown, "、")
	if len(allowed) > 0 {
		e.Message += "；此接口接受：" + strings.Join(allowed, "、")
	} else {
		e.Message += "；此接口不接受查询参数"
	}
	return e
}
