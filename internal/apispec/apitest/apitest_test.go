package apitest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func exchange(method, target, ctype, body string) *http.Request {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	if ctype != "" {
		r.Header.Set("Content-Type", ctype)
	}
	return r
}

func header(ct string) http.Header {
	h := http.Header{}
	h.Set("Content-Type", ct)
	return h
}

const problem = `{"type":"about:blank","title":"Not Found","status":404,"code":"area_not_found","detail":"区划不存在","instance":"/api/v1/areas/1"}`

// The checker refuses what the description does not say, with a message
// naming the operation and what is wrong.
func TestCheckRefusesWhatIsNotDescribed(t *testing.T) {
	area := `{"code":"430203","name":"芦淞区","level":"district","parent_code":"430200","depth":1,"child_count":0}`
	cases := []struct {
		name     string
		req      *http.Request
		reqBody  string
		status   int
		ct, body string
		want     string // "" when the exchange is fine
	}{
		{"good answer", exchange("GET", "/api/v1/areas/430203", "", ""), "", 200, "application/json; charset=utf-8", area, ""},
		{"missing field", exchange("GET", "/api/v1/areas/430203", "", ""), "", 200, "application/json", `{"code":"430203"}`, `getArea`},
		{"wrong type", exchange("GET", "/api/v1/areas/430203", "", ""), "", 200, "application/json", strings.Replace(area, `"depth":1`, `"depth":"1"`, 1), `depth`},
		{"status not listed", exchange("GET", "/api/v1/areas/430203", "", ""), "", 418, "application/problem+json", problem, "does not list"},
		{"error that is not a problem", exchange("GET", "/api/v1/areas/430203", "", ""), "", 404, "text/plain", "not found", "problem+json"},
		{"problem without code", exchange("GET", "/api/v1/areas/430203", "", ""), "", 404, "application/problem+json", `{"type":"about:blank","title":"Not Found","status":404}`, "code"},
		{"problem with extension members", exchange("GET", "/api/v1/areas/430203", "", ""), "", 404, "application/problem+json",
			`{"type":"about:blank","title":"Not Found","status":404,"code":"x","error_count":3,"errors":[{"row":2,"column":"a","message":"b","hint":"c"}]}`, ""},
		{"route without a description", exchange("GET", "/api/v1/nowhere", "", ""), "", 200, "application/json", `{}`, "no operation"},
		{"unknown route answered 404", exchange("GET", "/api/v1/nowhere", "", ""), "", 404, "application/problem+json", problem, ""},
		{"accepted request with an unknown field", exchange("POST", "/api/v1/departments", "application/json", ""), `{"code":"x","name":"y","area_code":"430200","boss":"z"}`,
			201, "application/json", `{"code":"x","name":"y","area_code":"430200"}`, "the request"},
		{"refused request is not held to the description", exchange("POST", "/api/v1/departments", "application/json", ""), `{"boss":"z"}`,
			400, "application/problem+json", `{"type":"about:blank","title":"Bad Request","status":400,"code":"unknown_field","detail":"未知字段 boss"}`, ""},
		{"query limit out of range accepted", exchange("GET", "/api/v1/users?limit=900", "", ""), "", 200, "application/json", `{"items":[]}`, "limit"},
		{"pages are not checked", exchange("GET", "/areas", "", ""), "", 200, "text/html", "<html>", ""},
	}
	if _, err := Load(); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := check(c.req, []byte(c.reqBody), c.status, header(c.ct), []byte(c.body))
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case c.want != "" && err == nil:
				t.Fatalf("accepted, want an error about %q", c.want)
			case c.want != "" && !strings.Contains(err.Error(), c.want):
				t.Fatalf("error %q does not mention %q", err, c.want)
			}
		})
	}
}

// Operation finds operations as the server's router does: a fixed
// segment wins over a wildcard.
func TestOperationMatchesLikeTheRouter(t *testing.T) {
	for path, want := range map[string]string{
		"GET /api/v1/passes/jwks.json":      "passJWKS",
		"GET /api/v1/passes/P123":           "getPass",
		"POST /api/v1/areas/import":         "importAreas",
		"GET /api/v1/areas/430203":          "getArea",
		"GET /api/v1/areas/import/template": "areasTemplate",
		"GET /api/v1/openapi.json":          "openapi",
		"DELETE /api/v1/me":                 "",
	} {
		method, p, _ := strings.Cut(path, " ")
		if got := Operation(method, p); got != want {
			t.Errorf("%s: %q, want %q", path, got, want)
		}
	}
}

// Validate finds what a linter must: dangling references, examples that
// contradict their schema, a document that is not 3.1; and takes 3.1's
// type lists.
func TestValidateFindsBrokenDocuments(t *testing.T) {
	doc := func(schema, example string) []byte {
		return []byte(`{"openapi":"3.1.0","info":{"title":"t","version":"1"},"paths":{"/a":{"get":{"operationId":"a",
			"responses":{"200":{"description":"ok","content":{"application/json":{"schema":` + schema + `,"example":` + example + `}}}}}}}}`)
	}
	if _, err := Validate(doc(`{"type":["string","null"]}`, `null`)); err != nil {
		t.Fatalf("a valid 3.1 document refused: %v", err)
	}
	for name, b := range map[string][]byte{
		"dangling $ref":      doc(`{"$ref":"#/components/schemas/Nothing"}`, `1`),
		"example off-schema": doc(`{"type":"object","required":["code"]}`, `{}`),
		"schema example off-schema": []byte(`{"openapi":"3.1.0","info":{"title":"t","version":"1"},"paths":{},
			"components":{"schemas":{"A":{"type":"object","required":["code"],"examples":[{"name":"x"}]}}}}`),
		"not 3.1":  []byte(`{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{}}`),
		"not JSON": []byte(`{"openapi":`),
	} {
		if _, err := Validate(b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
