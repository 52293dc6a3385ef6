// Package apitest holds the API's tests to its description: every request
// to /api/v1/ that a test makes, and the answer it gets, is checked
// against internal/apispec/openapi.json with kin-openapi. Only tests
// import it, so the validator stays out of the binary.
package apitest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"tongxin/internal/apispec"
)

var (
	once    sync.Once
	doc     *openapi3.T
	mux     *http.ServeMux
	loadErr error
)

// Load parses and validates the description: OpenAPI 3.1 structure, every
// $ref resolved, every example valid against its schema.
func Load() (*openapi3.T, error) {
	once.Do(func() {
		if doc, loadErr = Validate(apispec.JSON()); loadErr != nil {
			return
		}
		mux = http.NewServeMux()
		for path, item := range doc.Paths.Map() {
			for method, op := range item.Operations() {
				m := &operation{path: path, method: method, item: item, op: op}
				mux.Handle(method+" "+path, m)
			}
		}
	})
	return doc, loadErr
}

// Validate parses an OpenAPI document and validates it: OpenAPI 3.1
// structure, every $ref resolved, every example valid against its schema.
func Validate(data []byte) (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	d, err := loader.LoadFromData(data)
	if err != nil {
		return nil, err
	}
	if !d.IsOpenAPI31OrLater() {
		return nil, fmt.Errorf("openapi %q: want 3.1", d.OpenAPI)
	}
	if err := d.Validate(context.Background(), openapi3.EnableExamplesValidation()); err != nil {
		return nil, err
	}
	// kin-openapi checks the examples of media types and parameters; the
	// JSON Schema "examples" of schemas are checked here.
	var bad []string
	check := func(where string, s *openapi3.SchemaRef) {
		if s == nil || s.Value == nil {
			return
		}
		for i, ex := range s.Value.Examples {
			if err := s.Value.VisitJSON(ex, openapi3.EnableJSONSchema2020()); err != nil {
				bad = append(bad, fmt.Sprintf("%s: example %d: %v", where, i+1, err))
			}
		}
	}
	if d.Components != nil {
		for name, s := range d.Components.Schemas {
			check("components.schemas."+name, s)
		}
	}
	for path, item := range d.Paths.Map() {
		for method, op := range item.Operations() {
			for _, p := range op.Parameters {
				if p.Value != nil {
					check(method+" "+path+" parameter "+p.Value.Name, p.Value.Schema)
				}
			}
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return nil, errors.New(strings.Join(bad, "\n"))
	}
	return d, nil
}

// operation is one described path and method; routed through a
// ServeMux, it records itself and the path values of the request, so
// that the description is matched exactly as routes.go's patterns are.
type operation struct {
	path, method string
	item         *openapi3.PathItem
	op           *openapi3.Operation
}

type found struct {
	op     *operation
	params map[string]string
}

type foundKey struct{}

func (o *operation) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f := r.Context().Value(foundKey{}).(*found)
	f.op = o
	f.params = map[string]string{}
	for _, p := range o.op.Parameters {
		if p.Value != nil && p.Value.In == "path" {
			f.params[p.Value.Name] = r.PathValue(p.Value.Name)
		}
	}
}

// Operation returns the operationId described for a method and path
// ("" when none is), as the server's router would pick it.
func Operation(method, path string) string {
	if _, err := Load(); err != nil {
		return ""
	}
	req := httptest.NewRequest(method, path, nil)
	if o := lookup(req); o.op != nil {
		return o.op.op.OperationID
	}
	return ""
}

func lookup(r *http.Request) *found {
	f := &found{}
	probe := r.Clone(context.WithValue(context.Background(), foundKey{}, f))
	probe.Body = http.NoBody
	if _, pattern := mux.Handler(probe); pattern == "" {
		return f
	}
	mux.ServeHTTP(httptest.NewRecorder(), probe)
	return f
}

// Check validates one exchange with the API: the request (method, URL,
// headers, body) and the answer (status, headers, body). Paths outside
// /api/v1/ are not checked. The answer must have a status the operation
// lists, a problem+json body for every error, and a body that fits the
// schema; a request the server accepted (2xx) must fit the description
// too. A request refused with 4xx may be malformed on purpose, so only
// its answer is checked.
func Check(t testing.TB, req *http.Request, reqBody []byte, status int, header http.Header, body []byte) {
	t.Helper()
	if err := check(req, reqBody, status, header, body); err != nil {
		t.Errorf("API contract (internal/apispec/openapi.json): %v", err)
	}
}

func check(req *http.Request, reqBody []byte, status int, header http.Header, body []byte) error {
	if !strings.HasPrefix(req.URL.Path, "/api/v1/") {
		return nil
	}
	if _, err := Load(); err != nil {
		return fmt.Errorf("the description does not load: %w", err)
	}
	where := req.Method + " " + req.URL.Path
	f := lookup(req)
	if f.op == nil {
		if status == http.StatusNotFound || status == http.StatusMethodNotAllowed {
			return nil // an unknown path or method, answered as such
		}
		return fmt.Errorf("%s answered %d, but the description has no operation for it", where, status)
	}
	o := f.op
	where = fmt.Sprintf("%s (%s, path %s)", where, o.op.OperationID, o.path)
	if o.op.Responses.Status(status) == nil {
		return fmt.Errorf("%s answered %d, which the description does not list (it lists %s); body: %s",
			where, status, strings.Join(statuses(o.op), ", "), clip(body))
	}
	ct := header.Get("Content-Type")
	if status >= 400 {
		if mt, _, _ := mime.ParseMediaType(ct); mt != "application/problem+json" {
			return fmt.Errorf("%s answered %d with Content-Type %q, want application/problem+json; body: %s", where, status, ct, clip(body))
		}
	}
	route := &routers.Route{Spec: doc, Path: o.path, PathItem: o.item, Method: o.method, Operation: o.op}
	r := req.Clone(context.Background())
	r.Body = io.NopCloser(bytes.NewReader(reqBody))
	r.ContentLength = int64(len(reqBody))
	opts := &openapi3filter.Options{
		AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
		IncludeResponseStatus: true,
		MultiError:            true,
	}
	in := &openapi3filter.RequestValidationInput{Request: r, PathParams: f.params, Route: route, Options: opts}
	if status >= 200 && status < 300 {
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
			return fmt.Errorf("%s: the request, accepted with %d, does not fit the description: %v", where, status, explain(err))
		}
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: status, Header: header,
		Body: io.NopCloser(bytes.NewReader(body)), Options: opts}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		return fmt.Errorf("%s: the %d answer does not fit the description: %v; body: %s", where, status, explain(err), clip(body))
	}
	return nil
}

func statuses(op *openapi3.Operation) []string {
	var s []string
	for k := range op.Responses.Map() {
		s = append(s, k)
	}
	sort.Strings(s)
	return s
}

func explain(err error) string {
	var me openapi3.MultiError
	if errors.As(err, &me) {
		parts := make([]string, len(me))
		for i, e := range me {
			parts[i] = e.Error()
		}
		return strings.Join(parts, "; ")
	}
	return err.Error()
}

func clip(b []byte) string {
	const max = 600
	if !isText(b) {
		return strconv.Itoa(len(b)) + " bytes"
	}
	if len(b) > max {
		return string(b[:max]) + "…"
	}
	return string(b)
}

func isText(b []byte) bool {
	return !bytes.ContainsRune(b, 0) && len(b) > 0 && (b[0] == '{' || b[0] == '[' || b[0] == '"')
}

// Handler wraps h so that every exchange with /api/v1/ through it is
// checked with Check (for test servers built on the real router).
func Handler(t testing.TB, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/v1/") {
			h.ServeHTTP(w, r)
			return
		}
		// The handler reads the body as it comes (an upload may be held
		// open on purpose); what it read is kept and checked afterwards,
		// with whatever it left unread.
		var seen bytes.Buffer
		orig := r.Clone(r.Context())
		if r.Body != nil && r.Body != http.NoBody {
			body := r.Body
			r.Body = struct {
				io.Reader
				io.Closer
			}{io.TeeReader(body, &seen), body}
		}
		rec := &recorder{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		if r.Body != nil && r.Body != http.NoBody && rec.status/100 == 2 {
			io.Copy(&seen, orig.Body)
		}
		reqBody := seen.Bytes()
		if rec.status == 0 {
			rec.status = http.StatusOK
			rec.header = w.Header().Clone()
		}
		if err := check(orig, reqBody, rec.status, rec.header, rec.body.Bytes()); err != nil {
			t.Errorf("API contract (internal/apispec/openapi.json): %v", err)
		}
	})
}

// recorder passes an answer through and keeps a copy.
type recorder struct {
	http.ResponseWriter
	status int
	header http.Header
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
		r.header = r.ResponseWriter.Header().Clone()
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.WriteHeader(http.StatusOK)
	}
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}

func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
