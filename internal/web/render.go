package web

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	texttemplate "text/template"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/errs"
)

//go:embed templates
var layoutFiles embed.FS

// Renderer renders the HTML pages: a shared layout around module templates,
// parsed and checked once at start-up, one template set per language so
// that `t` knows its language without a per-request clone.
//
// Every template — page, fragment or partial — receives a *View; the
// handler's own data is .Data.
type Renderer struct {
	log     *slog.Logger
	catalog *Catalog
	files   []templateFile
	sets    *templateSets
	assets  *assets
	nav     []NavItem
	work    []Work
}

// templateSets holds a parsed set per language: Chinese from the start,
// another language once a page is first shown in it (Renderer.set). A set
// is some 50,000 objects of parse tree that every collection marks again
// — at a collection a second under load, the longest part of each — so a
// server nobody reads in English does not keep an English set. A copy of
// a Renderer shares its sets (their functions read only the catalog and
// the static files, which copies share too).
type templateSets struct {
	mu sync.RWMutex
	m  map[string]*template.Template
}

// View is what every template receives.
type View struct {
	Title  string          // page title, translated
	User   *auth.Principal // nil when anonymous
	Lang   string          // "zh-CN" or "en"
	Nav    []NavLink       // menu entries the user may see
	Flash  string          // one-time message after a redirect, translated
	Path   string          // this page, for the language switch's way back
	Status int
	Data   any // the handler's data
}

// NewRenderer parses the layout and partials of internal/web/templates and
// every *.html file of the given module template sets, and loads the static
// files. A parse error, a template defined twice, a reference to an
// undefined template, a `t "key"` missing from the zh-CN catalog or a
// `static "file"` that does not exist (vendor files excepted) fails here.
func NewRenderer(log *slog.Logger, catalog *Catalog, sets ...fs.FS) (*Renderer, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if catalog == nil {
		return nil, errors.New("web: new renderer: nil catalog")
	}
	staticRoot, err := fs.Sub(staticFiles, "static")
	if err != nil {
		return nil, fmt.Errorf("web: new renderer: static files: %w", err)
	}
	return newRenderer(log, catalog, staticRoot, sets...)
}

// newRenderer is NewRenderer with the static files given, for tests.
func newRenderer(log *slog.Logger, catalog *Catalog, staticRoot fs.FS, sets ...fs.FS) (*Renderer, error) {
	a, err := loadAssets(staticRoot)
	if err != nil {
		return nil, err
	}
	r := &Renderer{log: log, catalog: catalog, sets: &templateSets{m: map[string]*template.Template{}}, assets: a, nav: DefaultNav()}

	layout, err := fs.Sub(layoutFiles, "templates")
	if err != nil {
		return nil, fmt.Errorf("web: new renderer: layout templates: %w", err)
	}
	if r.files, err = readTemplateFiles(append([]fs.FS{layout}, sets...)); err != nil {
		return nil, err
	}
	zh, err := r.buildSet(LangZH)
	if err != nil {
		return nil, err
	}
	for _, n := range []string{"layout/top", "layout/bottom", "web/error"} {
		if zh.Lookup(n) == nil {
			return nil, fmt.Errorf("web: new renderer: template %q is not defined", n)
		}
	}
	r.sets.m[LangZH] = zh
	return r, nil
}

// buildSet parses the template files into a set for lang, checks the
// Chinese one (check), and escapes every template by executing it once,
// so that escaping errors surface when the set is built. Execution errors
// from the empty data are expected and ignored.
func (r *Renderer) buildSet(lang string) (*template.Template, error) {
	set := template.New("tongxin").Funcs(r.funcs(lang))
	for _, f := range r.files {
		if _, err := set.New(f.name).Parse(f.text); err != nil {
			return nil, fmt.Errorf("web: new renderer: parse templates: %w", err)
		}
	}
	if lang == LangZH {
		if err := r.check(set); err != nil {
			return nil, err
		}
	}
	for _, t := range set.Templates() {
		err := set.ExecuteTemplate(io.Discard, t.Name(), &View{Lang: lang})
		var te *template.Error
		if errors.As(err, &te) {
			return nil, fmt.Errorf("web: new renderer: escape templates: %w", err)
		}
	}
	return set, nil
}

// set is the template set of lang, built on its first use. The files and
// functions are those the Chinese set was built and checked from, so a
// set that fails here (it cannot, short of memory) falls back to Chinese.
func (r *Renderer) set(lang string) *template.Template {
	sets := r.sets
	sets.mu.RLock()
	set := sets.m[lang]
	sets.mu.RUnlock()
	if set != nil {
		return set
	}
	sets.mu.Lock()
	defer sets.mu.Unlock()
	if set = sets.m[lang]; set != nil {
		return set
	}
	set, err := r.buildSet(lang)
	if err != nil {
		r.log.Error("web: template set", "lang", lang, "err", err.Error())
		return sets.m[LangZH]
	}
	sets.m[lang] = set
	return set
}

type templateFile struct {
	name string // unique: "set<N>:<path>"
	text string
}

// readTemplateFiles reads every *.html file of the sets and refuses a
// template name defined in two files, which would silently replace one.
func readTemplateFiles(sets []fs.FS) ([]templateFile, error) {
	var out []templateFile
	definedIn := map[string]string{}
	for i, fsys := range sets {
		err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || path.Ext(p) != ".html" {
				return err
			}
			b, err := fs.ReadFile(fsys, p)
			if err != nil {
				return err
			}
			f := templateFile{name: fmt.Sprintf("set%d:%s", i, p), text: string(b)}
			// A throwaway text/template parse lists the file's templates.
			probe, err := texttemplate.New(f.name).Funcs(texttemplate.FuncMap((&Renderer{}).funcs(""))).Parse(f.text)
			if err != nil {
				return err
			}
			for _, t := range probe.Templates() {
				name := t.Name()
				if name == f.name || t.Tree == nil || t.Tree.Root == nil || isBlank(t.Tree.Root) {
					continue
				}
				if prev, dup := definedIn[name]; dup {
					return fmt.Errorf("template %q is defined in %s and in %s", name, prev, f.name)
				}
				definedIn[name] = f.name
			}
			out = append(out, f)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("web: new renderer: read templates: %w", err)
		}
	}
	return out, nil
}

// funcs are the template functions, bound to a language.
func (r *Renderer) funcs(lang string) template.FuncMap {
	label := func(prefix string, v any) string {
		s := fmt.Sprint(v)
		if key := prefix + "." + s; r.catalog.Has(lang, key) {
			return r.catalog.T(lang, key)
		}
		return s
	}
	return template.FuncMap{
		// t translates a catalog key, formatting args into it.
		"t": func(key string, args ...any) string { return r.catalog.T(lang, key, args...) },
		// static is the fingerprinted URL of a static file, "" when absent.
		"static": r.assets.URL,
		// time shows Unix milliseconds (or a time.Time, or a *time.Time) in
		// Shanghai time; zero or nil shows nothing.
		"time": func(v any) string {
			var t time.Time
			switch x := v.(type) {
			case int64:
				if x == 0 {
					return ""
				}
				t = time.UnixMilli(x)
			case int:
				if x == 0 {
					return ""
				}
				t = time.UnixMilli(int64(x))
			case time.Time:
				if x.IsZero() {
					return ""
				}
				t = x
			case *time.Time: // optional times (reviewed_at, revoked_at)
				if x == nil || x.IsZero() {
					return ""
				}
				t = *x
			default:
				return ""
			}
			return t.In(clock.Shanghai).Format("2006-01-02 15:04")
		},
		// label translates "<prefix>.<value>", showing the bare value when
		// the catalog has no such key.
		"label":     label,
		"roleName":  func(v any) string { return label("role", v) },
		"levelName": func(v any) string { return label("level", v) },
		"hasPerm": func(p *auth.Principal, perm string) bool {
			return p.Can(auth.Permission(perm))
		},
		// short cuts s to n runes (hashes, long summaries).
		"short": func(n int, s string) string {
			if rs := []rune(s); len(rs) > n {
				return string(rs[:n])
			}
			return s
		},
	}
}

// Catalog returns the renderer's catalog.
func (r *Renderer) Catalog() *Catalog { return r.catalog }

// T translates key into the request's language.
func (r *Renderer) T(req *http.Request, key string, args ...any) string {
	return r.catalog.T(LangOf(req), key, args...)
}

func (r *Renderer) view(w http.ResponseWriter, req *http.Request, status int, title string, data any) *View {
	lang := LangOf(req)
	v := &View{User: PrincipalOf(req), Lang: lang, Status: status, Data: data, Path: req.URL.Path}
	if req.Method == http.MethodGet && req.URL.RawQuery != "" {
		v.Path = req.URL.RequestURI()
	}
	v.Title = title
	if r.catalog.Has(lang, title) {
		v.Title = r.catalog.T(lang, title)
	}
	// The entry whose path is the longest prefix of the page's is the
	// current one (/checkpoints/stats is 卡口统计, not 卡口).
	current := -1
	for i, it := range r.NavFor(v.User) {
		link := NavLink{NavItem: it}
		if it.Count != nil && v.User != nil {
			link.Count = it.Count(req.Context(), v.User)
		}
		v.Nav = append(v.Nav, link)
		if req.URL.Path == it.Path || (it.Path != "/" && strings.HasPrefix(req.URL.Path, it.Path+"/")) {
			if current < 0 || len(it.Path) > len(v.Nav[current].Path) {
				current = i
			}
		}
	}
	if current >= 0 {
		v.Nav[current].Active = true
	}
	if c, err := req.Cookie(flashCookie); err == nil {
		if key, err := url.QueryUnescape(c.Value); err == nil && r.catalog.Has(lang, key) {
			v.Flash = r.catalog.T(lang, key)
		}
		http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: "", Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, MaxAge: -1})
	}
	return v
}

// Page renders the template name inside the layout. title is a catalog key
// or an already translated text.
func (r *Renderer) Page(w http.ResponseWriter, req *http.Request, status int, name, title string, data any) error {
	set := r.set(LangOf(req))
	if set.Lookup(name) == nil {
		return errs.Wrap("web.Page", fmt.Errorf("template %q is not defined", name))
	}
	v := r.view(w, req, status, title, data)
	var buf bytes.Buffer
	for _, n := range []string{"layout/top", name, "layout/bottom"} {
		if err := set.ExecuteTemplate(&buf, n, v); err != nil {
			return errs.Wrap("web.Page", err)
		}
	}
	writeHTML(w, req, status, buf.Bytes())
	return nil
}

// Fragment renders one template without the layout, for htmx requests.
func (r *Renderer) Fragment(w http.ResponseWriter, req *http.Request, status int, name string, data any) error {
	set := r.set(LangOf(req))
	if set.Lookup(name) == nil {
		return errs.Wrap("web.Fragment", fmt.Errorf("template %q is not defined", name))
	}
	v := &View{User: PrincipalOf(req), Lang: LangOf(req), Status: status, Data: data, Path: req.URL.Path}
	var buf bytes.Buffer
	if err := set.ExecuteTemplate(&buf, name, v); err != nil {
		return errs.Wrap("web.Fragment", err)
	}
	writeHTML(w, req, status, buf.Bytes())
	return nil
}

func writeHTML(w http.ResponseWriter, req *http.Request, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	// Pages show one user's data: never stored by a shared cache, and the
	// htmx fragment and the full page of one URL must not be confused.
	h.Set("Cache-Control", "no-store")
	h.Add("Vary", "HX-Request")
	h.Add("Vary", "Accept-Encoding")
	if len(body) >= minGzip {
		var z []byte
		coding := acceptedCoding(req)
		switch coding {
		case codingBrotli:
			z = compressBrotli(body, pageBrotli)
		case codingGzip:
			z = gzipHTML(body)
		}
		if z != nil {
			h.Set("Content-Encoding", coding)
			body = z
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}
