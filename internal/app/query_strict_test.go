package app

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"

	"tongxin/internal/apispec"
)

// Every API route refuses a query parameter its description does not
// list: 400 unknown_parameter naming it (date= on an endpoint without it
// was once silently ignored). Each described parameter is still taken,
// and pages ignore what they do not know (htmx adds its own).
func TestAPIRefusesUnknownParameters(t *testing.T) {
	ts := newTestSystem(t, "sqlite")
	token := ts.tokenFor(t, "admin")
	queries := apispec.MustQueryParameters()
	type problem struct {
		Code   string `json:"code"`
		Detail string `json:"detail"`
		Errors []struct {
			Field string `json:"field"`
			Code  string `json:"code"`
		} `json:"errors"`
	}
	read := func(t *testing.T, r res) problem {
		t.Helper()
		var p problem
		if ct := r.header.Get("Content-Type"); ct == "application/problem+json" {
			if err := json.Unmarshal(r.body, &p); err != nil {
				t.Fatalf("problem %s: %v", r.body, err)
			}
		}
		return p
	}
	n := 0
	for _, route := range ts.rt.table() {
		if !strings.Contains(route.Pattern, " /api/v1/") {
			continue
		}
		n++
		method, path := concretePath(route.Pattern)
		r := ts.do(t, method, path+"?zz_unknown=1&"+url.QueryEscape("名称")+"=x", token, "", nil)
		p := read(t, r)
		if r.status != 400 || p.Code != "unknown_parameter" || len(p.Errors) != 2 || p.Errors[0].Field != "zz_unknown" ||
			p.Errors[1].Field != "名称" || !strings.Contains(p.Detail, "zz_unknown") {
			t.Errorf("%s %s?zz_unknown: %d %s", method, path, r.status, r.body)
		}
		// An anonymous caller is told the same: the description is public.
		if r := ts.do(t, method, path+"?zz_unknown=1", "", "", nil); r.status != 400 || read(t, r).Code != "unknown_parameter" {
			t.Errorf("anonymous %s %s?zz_unknown: %d %s", method, path, r.status, r.body)
		}
		if method != "GET" {
			continue
		}
		// Every described parameter is known (it may still be refused
		// for its value).
		for _, name := range queries[route.Pattern] {
			r := ts.do(t, method, path+"?"+url.QueryEscape(name)+"=1", token, "", nil)
			if p := read(t, r); p.Code == "unknown_parameter" {
				t.Errorf("%s %s?%s=1: %s", method, path, name, r.body)
			}
		}
	}
	if n < 100 {
		t.Fatalf("only %d API routes", n)
	}
	// The statistics take date= now; the enterprise list does not.
	if r := ts.do(t, "GET", "/api/v1/resumption/stats?date=2022-11-20", token, "", nil); r.status != 200 {
		t.Errorf("stats?date: %d %s", r.status, r.body)
	}
	r := ts.do(t, "GET", "/api/v1/enterprises?date=2022-11-20&limit=2", token, "", nil)
	if p := read(t, r); r.status != 400 || p.Code != "unknown_parameter" || len(p.Errors) != 1 || p.Errors[0].Field != "date" ||
		!strings.Contains(p.Detail, "cursor") {
		t.Errorf("enterprises?date: %d %s", r.status, r.body)
	}
	// Paging still works.
	r = ts.do(t, "GET", "/api/v1/enterprises?limit=2", token, "", nil)
	var page struct {
		Items      []json.RawMessage `json:"items"`
		NextCursor string            `json:"next_cursor"`
	}
	if r.status != 200 || json.Unmarshal(r.body, &page) != nil || len(page.Items) != 2 || page.NextCursor == "" {
		t.Fatalf("first page: %d %s", r.status, r.body)
	}
	if r := ts.do(t, "GET", "/api/v1/enterprises?limit=2&cursor="+url.QueryEscape(page.NextCursor), token, "", nil); r.status != 200 {
		t.Errorf("next page: %d %s", r.status, r.body)
	}
	// Pages are not strict.
	if r := ts.do(t, "GET", "/help?zz_unknown=1", "", "", nil); r.status != 200 {
		t.Errorf("page with an unknown parameter: %d", r.status)
	}
}

// The parameters read from the description: query ones only (not path
// or header parameters), shared and referenced ones resolved.
func TestQueryParametersFromDescription(t *testing.T) {
	q := apispec.MustQueryParameters()
	for op, want := range map[string][]string{
		"GET /api/v1/enterprises":                {"area", "category", "cursor", "key_only", "kind", "limit", "park", "q"},
		"GET /api/v1/resumption/stats":           {"area", "at", "date"},
		"POST /api/v1/resumption/reports/import": {"partial"},
		"GET /api/v1/users/{username}":           {},
		"POST /api/v1/tickets":                   {},
		"GET /api/v1/passes/revocations":         {"limit", "since"},
	} {
		if got, ok := q[op]; !ok || !slices.Equal(got, want) {
			t.Errorf("%s: %q, want %q", op, got, want)
		}
	}
}
