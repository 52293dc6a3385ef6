package account

import (
	"net/http"
	"slices"
	"strings"

	"tongxin/internal/web"
)

// The audit log stores stable codes: actions ("traffic.notice.publish")
// and kinds of object ("pass_batch"). The catalog names them under
// "action.<code>" and "object.<code>" in every language; those keys are
// also the list of codes the audit page offers as choices
// (TestEveryAuditCodeIsNamed holds the code to it).
const (
	actionPrefix = "action."
	objectPrefix = "object."
)

// auditChoice is a code with its name in the request's language.
type auditChoice struct {
	Code, Name string
}

// auditChoices lists the codes the catalog names under prefix, sorted by
// code, so that the actions of one module stay together.
func (h *Handlers) auditChoices(r *http.Request, prefix string) []auditChoice {
	c := h.render.Catalog()
	lang := web.LangOf(r)
	var out []auditChoice
	for _, k := range c.Keys(web.LangZH) {
		if code, ok := strings.CutPrefix(k, prefix); ok {
			out = append(out, auditChoice{Code: code, Name: c.T(lang, k)})
		}
	}
	return out
}

// auditCode reads what a person typed or chose as an action or object
// filter: a code as it is, or a name in any language ("发布交通管制通告",
// "traffic notice published", case and surrounding spaces aside) as its
// code. Anything else stays as typed (an older code the catalog does not
// name still filters).
func (h *Handlers) auditCode(prefix, v string) string {
	v = strings.TrimSpace(v)
	if v == "" {
		return ""
	}
	c := h.render.Catalog()
	if c.Has(web.LangZH, prefix+v) {
		return v
	}
	for _, lang := range web.Langs {
		for _, k := range c.Keys(web.LangZH) {
			if code, ok := strings.CutPrefix(k, prefix); ok && strings.EqualFold(strings.TrimSpace(c.T(lang, k)), v) {
				return code
			}
		}
	}
	return v
}

// withCurrent adds cur to choices when the catalog does not name it, so
// that the select shows the filter in force.
func withCurrent(choices []auditChoice, cur string) []auditChoice {
	if cur == "" || slices.ContainsFunc(choices, func(c auditChoice) bool { return c.Code == cur }) {
		return choices
	}
	return append(choices, auditChoice{Code: cur, Name: cur})
}
