package web

import (
	"bytes"
	"context"
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
	"slices"
	"strings"
	texttemplate "text/template"
	"text/template/parse"
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
	sets    map[string]*template.Template
	assets  *assets
	nav     []NavItem
	work    []Work
}

// NavItem is an entry of the menu, and a card on the home page when it has
// a description.
type NavItem struct {
	Key     string          // catalog key of the label
	DescKey string          // catalog key of the home card's text; "" keeps it off the home page
	Path    string          // "/areas"
	Perm    auth.Permission // needed to see it
	// Roles, if any, also show the item to holders of these roles without
	// Perm: enterprise contacts and liaisons reach their own enterprises.
	// An item with neither Perm nor Roles is shown to every signed-in
	// user; one with Roles alone only to holders of those roles.
	Roles []auth.Role
	// Allow, if set, alone decides who sees the item: the same check the
	// page's handler makes, where a permission is not enough (the hotline
	// form is refused to enterprise contacts, who may file only about
	// their own enterprise). It must not do I/O.
	Allow func(p *auth.Principal) bool
	// Count, if set, is a number shown beside the link on full pages (the
	// unread messages of the inbox); 0 shows nothing. It must be cheap.
	Count func(ctx context.Context, p *auth.Principal) int
}

// NavLink is a NavItem as shown to one request.
type NavLink struct {
	NavItem
	Active bool
	Count  int
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

// DefaultNav is the menu of the kernel pages. Modules add theirs with
// AddNav while the program is wired.
func DefaultNav() []NavItem {
	return []NavItem{
		{Key: "nav.home", Path: "/"},
		{Key: "nav.areas", DescKey: "card.areas", Path: "/areas", Perm: auth.AreaRead},
		{Key: "nav.users", DescKey: "card.users", Path: "/users", Perm: auth.UserRead},
		{Key: "nav.audit", DescKey: "card.audit", Path: "/audit", Perm: auth.AuditRead},
	}
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
		return nil, errors.New("web.NewRenderer: nil catalog")
	}
	staticRoot, err := fs.Sub(staticFiles, "static")
	if err != nil {
		return nil, fmt.Errorf("web.NewRenderer: %w", err)
	}
	return newRenderer(log, catalog, staticRoot, sets...)
}

// newRenderer is NewRenderer with the static files given, for tests.
func newRenderer(log *slog.Logger, catalog *Catalog, staticRoot fs.FS, sets ...fs.FS) (*Renderer, error) {
	a, err := loadAssets(staticRoot)
	if err != nil {
		return nil, err
	}
	r := &Renderer{log: log, catalog: catalog, sets: map[string]*template.Template{}, assets: a, nav: DefaultNav()}

	layout, err := fs.Sub(layoutFiles, "templates")
	if err != nil {
		return nil, fmt.Errorf("web.NewRenderer: %w", err)
	}
	files, err := readTemplateFiles(append([]fs.FS{layout}, sets...))
	if err != nil {
		return nil, err
	}
	for _, lang := range Langs {
		set := template.New("tongxin").Funcs(r.funcs(lang))
		for _, f := range files {
			if _, err := set.New(f.name).Parse(f.text); err != nil {
				return nil, fmt.Errorf("web.NewRenderer: %w", err)
			}
		}
		if lang == LangZH {
			if err := r.check(set); err != nil {
				return nil, err
			}
		}
		// Executing each template once escapes it and everything it calls,
		// so that escaping errors surface now. Execution errors from the
		// empty data are expected and ignored.
		for _, t := range set.Templates() {
			err := set.ExecuteTemplate(io.Discard, t.Name(), &View{Lang: lang})
			var te *template.Error
			if errors.As(err, &te) {
				return nil, fmt.Errorf("web.NewRenderer: %w", err)
			}
		}
		r.sets[lang] = set
	}
	for _, n := range []string{"layout/top", "layout/bottom", "web/error"} {
		if r.sets[LangZH].Lookup(n) == nil {
			return nil, fmt.Errorf("web.NewRenderer: template %q is not defined", n)
		}
	}
	return r, nil
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
			return nil, fmt.Errorf("web.NewRenderer: %w", err)
		}
	}
	return out, nil
}

func isBlank(n *parse.ListNode) bool {
	for _, c := range n.Nodes {
		if t, ok := c.(*parse.TextNode); !ok || len(bytes.TrimSpace(t.Text)) > 0 {
			return false
		}
	}
	return true
}

// check walks every template: each {{template "x"}} must be defined, each
// t "key" must be in the zh-CN catalog, each static "file" must exist.
func (r *Renderer) check(set *template.Template) error {
	var problems []string
	for _, t := range set.Templates() {
		if t.Tree == nil || t.Tree.Root == nil {
			continue
		}
		walk(t.Tree.Root, func(n parse.Node) {
			switch n := n.(type) {
			case *parse.TemplateNode:
				if set.Lookup(n.Name) == nil {
					problems = append(problems, fmt.Sprintf("%s: template %q is not defined", t.Name(), n.Name))
				}
			case *parse.CommandNode:
				if len(n.Args) < 2 {
					return
				}
				id, ok := n.Args[0].(*parse.IdentifierNode)
				s, isStr := n.Args[1].(*parse.StringNode)
				if !ok || !isStr {
					return
				}
				switch id.Ident {
				case "t":
					if _, ok := r.catalog.msgs[LangZH][s.Text]; !ok {
						problems = append(problems, fmt.Sprintf("%s: catalog key %q is missing from zh-CN", t.Name(), s.Text))
					}
				case "static":
					if r.assets.URL(s.Text) == "" && !strings.HasPrefix(s.Text, "vendor/") {
						problems = append(problems, fmt.Sprintf("%s: static file %q does not exist", t.Name(), s.Text))
					}
				}
			}
		})
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return fmt.Errorf("web.NewRenderer: %s", strings.Join(slices.Compact(problems), "; "))
	}
	return nil
}

// walk calls fn for n and every node below it.
func walk(n parse.Node, fn func(parse.Node)) {
	if n == nil {
		return
	}
	switch x := n.(type) {
	case *parse.ListNode:
		if x == nil {
			return
		}
		fn(x)
		for _, c := range x.Nodes {
			walk(c, fn)
		}
		return
	case *parse.PipeNode:
		if x == nil {
			return
		}
		fn(x)
		for _, c := range x.Cmds {
			walk(c, fn)
		}
		return
	}
	fn(n)
	switch x := n.(type) {
	case *parse.ActionNode:
		walk(x.Pipe, fn)
	case *parse.CommandNode:
		for _, a := range x.Args {
			walk(a, fn)
		}
	case *parse.ChainNode:
		walk(x.Node, fn)
	case *parse.IfNode:
		walkBranch(&x.BranchNode, fn)
	case *parse.RangeNode:
		walkBranch(&x.BranchNode, fn)
	case *parse.WithNode:
		walkBranch(&x.BranchNode, fn)
	case *parse.TemplateNode:
		walk(x.Pipe, fn)
	}
}

func walkBranch(b *parse.BranchNode, fn func(parse.Node)) {
	walk(b.Pipe, fn)
	walk(b.List, fn)
	walk(b.ElseList, fn)
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

// AddNav adds menu entries (and home cards). Call it while wiring, before
// serving.
func (r *Renderer) AddNav(items ...NavItem) { r.nav = append(r.nav, items...) }

// NavFor returns the menu entries p may see, in order.
func (r *Renderer) NavFor(p *auth.Principal) []NavItem {
	if p == nil {
		return nil
	}
	var out []NavItem
	for _, it := range r.nav {
		if it.allows(p) {
			out = append(out, it)
		}
	}
	return out
}

// allows reports whether p may see the item (p is not nil).
func (it NavItem) allows(p *auth.Principal) bool {
	switch {
	case it.Allow != nil:
		return it.Allow(p)
	case it.Perm == "" && len(it.Roles) == 0:
		return true
	}
	return (it.Perm != "" && p.Can(it.Perm)) || slices.ContainsFunc(it.Roles, p.HasRole)
}

// Catalog returns the renderer's catalog.
func (r *Renderer) Catalog() *Catalog { return r.catalog }

// T translates key into the request's language.
func (r *Renderer) T(req *http.Request, key string, args ...any) string {
	return r.catalog.T(LangOf(req), key, args...)
}

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
	set := r.sets[LangOf(req)]
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
	writeHTML(w, status, buf.Bytes())
	return nil
}

// Fragment renders one template without the layout, for htmx requests.
func (r *Renderer) Fragment(w http.ResponseWriter, req *http.Request, status int, name string, data any) error {
	set := r.sets[LangOf(req)]
	if set.Lookup(name) == nil {
		return errs.Wrap("web.Fragment", fmt.Errorf("template %q is not defined", name))
	}
	v := &View{User: PrincipalOf(req), Lang: LangOf(req), Status: status, Data: data, Path: req.URL.Path}
	var buf bytes.Buffer
	if err := set.ExecuteTemplate(&buf, name, v); err != nil {
		return errs.Wrap("web.Fragment", err)
	}
	writeHTML(w, status, buf.Bytes())
	return nil
}

func writeHTML(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	// Pages show one user's data: never stored by a shared cache, and the
	// htmx fragment and the full page of one URL must not be confused.
	h.Set("Cache-Control", "no-store")
	h.Add("Vary", "HX-Request")
	w.WriteHeader(status)
	w.Write(body)
}

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
