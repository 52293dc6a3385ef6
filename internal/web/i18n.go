package web

import (
	"embed"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"tongxin/internal/errs"
)

// Languages. zh-CN is the product's language and the catalog's reference:
// every other language must translate exactly its keys.
const (
	LangZH = "zh-CN"
	LangEN = "en"
	// LangCookie holds the chosen language.
	LangCookie = "lang"
)

// Langs lists the supported languages, the default first.
var Langs = []string{LangZH, LangEN}

//go:embed locales/*.json
var localeFiles embed.FS

// Catalog holds the user-facing strings of every language: flat maps from a
// key ("login.title") to a text, which may hold fmt verbs for arguments.
type Catalog struct {
	msgs map[string]map[string]string
}

// LoadCatalog reads the embedded locales/<lang>.json files.
func LoadCatalog() (*Catalog, error) {
	c := &Catalog{msgs: map[string]map[string]string{}}
	for _, lang := range Langs {
		b, err := localeFiles.ReadFile("locales/" + lang + ".json")
		if err != nil {
			return nil, fmt.Errorf("web: load catalog: %w", err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("web: load catalog: locales/%s.json: %w", lang, err)
		}
		c.msgs[lang] = m
	}
	return c, nil
}

// NewCatalog builds a catalog from maps, for tests.
func NewCatalog(msgs map[string]map[string]string) *Catalog {
	return &Catalog{msgs: msgs}
}

// T translates key into lang, formatting args into it. An unknown language
// falls back to zh-CN, a missing key to the key itself.
func (c *Catalog) T(lang, key string, args ...any) string {
	s, ok := c.lookup(lang, key)
	if !ok {
		return key
	}
	if len(args) == 0 {
		return s
	}
	return fmt.Sprintf(s, args...)
}

// Has reports whether key exists in lang (or in zh-CN for an unknown
// language).
func (c *Catalog) Has(lang, key string) bool {
	_, ok := c.lookup(lang, key)
	return ok
}

func (c *Catalog) lookup(lang, key string) (string, bool) {
	if c == nil {
		return "", false
	}
	m, ok := c.msgs[lang]
	if !ok {
		m = c.msgs[LangZH]
	}
	s, ok := m[key]
	if !ok && lang != LangZH {
		s, ok = c.msgs[LangZH][key]
	}
	return s, ok
}

// Keys returns the keys of lang, sorted.
func (c *Catalog) Keys(lang string) []string {
	var out []string
	for k := range c.msgs[lang] {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// LangOf returns the request's language: the lang cookie when it names a
// supported language, else zh-CN.
func LangOf(r *http.Request) string {
	if c, err := r.Cookie(LangCookie); err == nil && slices.Contains(Langs, c.Value) {
		return c.Value
	}
	return LangZH
}

// SafeNext returns next when it is a path on this site ("/…" but not
// "//host" nor "/\host", which browsers read as another host), else def.
func SafeNext(next, def string) string {
	if next == "" || next[0] != '/' || len(next) > 2048 {
		return def
	}
	if len(next) > 1 && (next[1] == '/' || next[1] == '\\') {
		return def
	}
	if strings.ContainsAny(next, "\\\r\n\t\x00") {
		return def
	}
	return next
}

// SetLang is the handler of POST /lang: it stores the form field lang in a
// cookie and sends the browser back to next (a path on this site).
func (r *Renderer) SetLang(w http.ResponseWriter, req *http.Request) error {
	if err := req.ParseForm(); err != nil {
		return errs.E(errs.Invalid, "bad_form", "表单无法解析")
	}
	lang := req.PostForm.Get("lang")
	if !slices.Contains(Langs, lang) {
		return errs.Newf(errs.Invalid, "bad_lang", "不支持的语言 %q", lang)
	}
	http.SetCookie(w, &http.Cookie{
		Name: LangCookie, Value: lang, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		MaxAge: int((365 * 24 * time.Hour).Seconds()),
	})
	http.Redirect(w, req, SafeNext(req.PostForm.Get("next"), "/"), http.StatusSeeOther)
	return nil
}

// Message is the text to show a user for err in the request's language:
// the service's own Chinese message in zh-CN; elsewhere the catalog's
// "err.<code>" when there is one, else the Chinese message.
func (r *Renderer) Message(req *http.Request, err error) string {
	lang := LangOf(req)
	e := errs.As(err)
	if e == nil || e.Kind == errs.Internal {
		return r.catalog.T(lang, "error.internal")
	}
	if lang != LangZH && e.Code != "" && r.catalog.Has(lang, "err."+e.Code) {
		return r.catalog.T(lang, "err."+e.Code)
	}
	return e.Message
}
