package testcity

import (
	"bytes"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"tongxin/internal/apispec/apitest"
	"tongxin/internal/auth"
	"tongxin/internal/web"
)

// API mounts JSON handlers (pattern → handler) behind the handler adapter,
// as the app mounts its API, with the log discarded.
func API(routes map[string]web.Handler) http.Handler {
	adapter := &web.Adapter{Log: slog.New(slog.DiscardHandler)}
	mux := http.NewServeMux()
	for pattern, h := range routes {
		mux.Handle(pattern, adapter.H(h))
	}
	return mux
}

// Answer is an API answer as a test reads it.
type Answer struct {
	Status int
	Header http.Header
	Body   []byte
	JSON   map[string]any // the decoded body when it is JSON
}

// Call serves one API request on h as p (nil: anonymous), with body of
// content type ctype ("" sets none). The request and the answer are
// checked against the API description (apitest), and a JSON answer is
// decoded.
func Call(t testing.TB, h http.Handler, p *auth.Principal, method, target, ctype string, body []byte) Answer {
	t.Helper()
	r := httptest.NewRequest(method, target, bytes.NewReader(body))
	if ctype != "" {
		r.Header.Set("Content-Type", ctype)
	}
	if p != nil {
		r = r.WithContext(web.WithPrincipal(r.Context(), p))
	}
	w := httptest.NewRecorder()
	apitest.Handler(t, h).ServeHTTP(w, r)
	res := w.Result()
	b, _ := io.ReadAll(res.Body)
	a := Answer{Status: res.StatusCode, Header: res.Header, Body: b}
	if strings.Contains(res.Header.Get("Content-Type"), "json") {
		if err := json.Unmarshal(b, &a.JSON); err != nil {
			t.Fatalf("%s %s: body is not JSON: %v\n%s", method, target, err, b)
		}
	}
	return a
}

// Multipart returns a multipart form holding content as the file name in
// field, and the form's content type.
func Multipart(t testing.TB, field, name string, content []byte) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile(field, name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fw.Write(content); err != nil {
		t.Fatal(err)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), mw.FormDataContentType()
}

// Site is pages mounted as the app mounts them: the real message catalog,
// the layout and the module's templates, behind the handler adapter with
// its error pages, on one mux.
type Site struct {
	Catalog *web.Catalog
	Render  *web.Renderer
	Adapter *web.Adapter
	Mux     *http.ServeMux
}

// NewSite loads the catalog and builds the renderer on the template sets
// (a module's Templates, ...) and the layout's menu from nav.
func NewSite(t testing.TB, nav []web.NavItem, sets ...fs.FS) *Site {
	t.Helper()
	cat, err := web.LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	render, err := web.NewRenderer(log, cat, sets...)
	if err != nil {
		t.Fatal(err)
	}
	render.AddNav(nav...)
	return &Site{Catalog: cat, Render: render, Adapter: &web.Adapter{Log: log, ErrorPage: render.ErrorPage},
		Mux: http.NewServeMux()}
}

// Mount adds page handlers (pattern → handler) behind the adapter.
func (s *Site) Mount(routes map[string]web.Handler) {
	for pattern, h := range routes {
		s.Mux.Handle(pattern, s.Adapter.H(h))
	}
}

// Request is one request to pages.
type Request struct {
	Method, Target string          // Method "" is GET
	As             *auth.Principal // nil: anonymous
	Form           url.Values      // sent url-encoded, unless Body is set
	Body           []byte          // a raw body (its Content-Type in Header)
	Header         map[string]string
	Lang           string // the language cookie, "" for none
	Cookies        []*http.Cookie
	RemoteAddr     string // "" keeps httptest's
}

// Serve serves q on h, with q.As placed in the request's context as the
// middleware places a session's principal.
func Serve(h http.Handler, q Request) *httptest.ResponseRecorder {
	if q.Method == "" {
		q.Method = "GET"
	}
	var body []byte
	switch {
	case q.Body != nil:
		body = q.Body
	case q.Form != nil:
		body = []byte(q.Form.Encode())
	}
	r := httptest.NewRequest(q.Method, q.Target, bytes.NewReader(body))
	if q.Form != nil && q.Body == nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range q.Header {
		r.Header.Set(k, v)
	}
	if q.RemoteAddr != "" {
		r.RemoteAddr = q.RemoteAddr
	}
	if q.As != nil {
		r = r.WithContext(web.WithPrincipal(r.Context(), q.As))
	}
	if q.Lang != "" {
		r.AddCookie(&http.Cookie{Name: web.LangCookie, Value: q.Lang})
	}
	for _, c := range q.Cookies {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// Sees checks an answer's status and that its body holds every string of
// want and none of not.
func Sees(t testing.TB, w *httptest.ResponseRecorder, status int, want, not []string) {
	t.Helper()
	if w.Code != status {
		t.Errorf("status %d, want %d\n%s", w.Code, status, w.Body.String())
	}
	body := w.Body.String()
	for _, s := range want {
		if !strings.Contains(body, s) {
			t.Errorf("page lacks %q", s)
		}
	}
	for _, s := range not {
		if strings.Contains(body, s) {
			t.Errorf("page shows %q", s)
		}
	}
}
