package web

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"tongxin/internal/auth"
	"tongxin/internal/errs"
)

func loadCatalog(t *testing.T) *Catalog {
	t.Helper()
	c, err := LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Every language translates exactly the zh-CN keys, and none is empty.
func TestCatalogLanguagesMatchReference(t *testing.T) {
	c := loadCatalog(t)
	ref := c.Keys(LangZH)
	if len(ref) < 50 {
		t.Fatalf("zh-CN has only %d keys", len(ref))
	}
	for _, lang := range Langs {
		keys := c.Keys(lang)
		for _, k := range ref {
			if _, ok := slices.BinarySearch(keys, k); !ok {
				t.Errorf("%s.json misses key %q", lang, k)
			}
		}
		for _, k := range keys {
			if _, ok := slices.BinarySearch(ref, k); !ok {
				t.Errorf("%s.json has key %q that zh-CN.json lacks", lang, k)
			}
			if strings.TrimSpace(c.msgs[lang][k]) == "" {
				t.Errorf("%s.json: %q is empty", lang, k)
			}
			if strings.Count(c.msgs[lang][k], "%") != strings.Count(c.msgs[LangZH][k], "%") {
				t.Errorf("%s.json: %q has other format verbs than zh-CN", lang, k)
			}
		}
	}
}

// Every role and area level has a name in the catalog.
func TestCatalogNamesRolesAndLevels(t *testing.T) {
	c := loadCatalog(t)
	want := map[string]string{
		"role.system_admin": "系统管理员", "role.hq_commander": "指挥部指挥长", "role.hq_staff": "指挥部工作人员",
		"role.district_officer": "区县干部", "role.street_officer": "街道干部", "role.community_worker": "社区工作者",
		"role.department_officer": "部门干部", "role.workgroup_member": "工作组成员", "role.liaison": "驻企联络员",
		"role.enterprise_contact": "企业联系人", "role.volunteer": "志愿者", "role.checkpoint_officer": "卡口执勤人员",
		"role.inspector": "督查人员",
		"level.city":     "市", "level.district": "区县", "level.street": "街道", "level.community": "社区村", "level.grid": "网格",
	}
	for k, zh := range want {
		if got := c.T(LangZH, k); got != zh {
			t.Errorf("T(zh-CN, %s) = %q, want %q", k, got, zh)
		}
	}
	for _, r := range auth.Roles {
		if !c.Has(LangZH, "role."+string(r)) {
			t.Errorf("role %s has no name", r)
		}
	}
}

var tCall = regexp.MustCompile(`\bt "([^"]+)"`)

// templateDirs returns every template directory of the repository: the
// layout's (templates) and each module's (../<module>/templates), as paths
// from this package.
func templateDirs(t *testing.T) []string {
	t.Helper()
	dirs := []string{"templates"}
	modules, err := filepath.Glob("../*/templates")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range modules {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			dirs = append(dirs, filepath.ToSlash(d))
		}
	}
	// The modules known to have pages: the scan must find at least these.
	for _, m := range []string{"account", "area", "checkpoint", "notify", "pass", "resumption", "ticket"} {
		if !slices.Contains(dirs, "../"+m+"/templates") {
			t.Errorf("template directory of %s not found: the scan is broken", m)
		}
	}
	return dirs
}

// Every `t "key"` of every template directory in the repository names a
// zh-CN key.
func TestTemplateKeysExist(t *testing.T) {
	c := loadCatalog(t)
	seen, missing := 0, map[string]bool{}
	for _, dir := range templateDirs(t) {
		err := fs.WalkDir(os.DirFS(dir), ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".html") {
				return err
			}
			b, err := os.ReadFile(dir + "/" + p)
			if err != nil {
				return err
			}
			for _, m := range tCall.FindAllStringSubmatch(string(b), -1) {
				seen++
				if !c.Has(LangZH, m[1]) && !missing[m[1]] {
					missing[m[1]] = true
					t.Errorf("%s/%s uses key %q, missing from zh-CN.json", dir, p, m[1])
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if seen < 800 {
		t.Fatalf("found only %d t calls: the scan is broken", seen)
	}
}

func TestT(t *testing.T) {
	c := NewCatalog(map[string]map[string]string{
		LangZH: {"a": "甲", "n": "共 %d 项", "only.zh": "仅中文"},
		LangEN: {"a": "A", "n": "%d items"},
	})
	tests := []struct {
		lang, key string
		args      []any
		want      string
	}{
		{LangZH, "a", nil, "甲"},
		{LangEN, "a", nil, "A"},
		{LangEN, "n", []any{3}, "3 items"},
		{LangZH, "n", []any{3}, "共 3 项"},
		{LangEN, "only.zh", nil, "仅中文"},
		{"fr", "a", nil, "甲"},
		{LangZH, "missing.key", nil, "missing.key"},
		{LangZH, "missing.key", []any{1}, "missing.key"},
		{LangZH, "n", []any{"x", 2}, "共 %!d(string=x) 项%!(EXTRA int=2)"},
		{LangZH, "n", nil, "共 %d 项"},
	}
	for _, tt := range tests {
		if got := c.T(tt.lang, tt.key, tt.args...); got != tt.want {
			t.Errorf("T(%s, %s, %v) = %q, want %q", tt.lang, tt.key, tt.args, got, tt.want)
		}
	}
	var nilCat *Catalog
	if got := nilCat.T(LangZH, "x"); got != "x" {
		t.Errorf("nil catalog: %q", got)
	}
}

func TestLangOf(t *testing.T) {
	for _, tt := range []struct{ cookie, want string }{
		{"", LangZH}, {"en", LangEN}, {"zh-CN", LangZH}, {"fr", LangZH}, {"EN", LangZH},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		if tt.cookie != "" {
			r.AddCookie(&http.Cookie{Name: LangCookie, Value: tt.cookie})
		}
		if got := LangOf(r); got != tt.want {
			t.Errorf("cookie %q: LangOf = %q, want %q", tt.cookie, got, tt.want)
		}
	}
}

func TestSafeNext(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", "/"},
		{"/", "/"},
		{"/users?q=a", "/users?q=a"},
		{"/areas/430200", "/areas/430200"},
		{"//evil.example", "/"},
		{"/\\evil.example", "/"},
		{"https://evil.example/", "/"},
		{"javascript:alert(1)", "/"},
		{"users", "/"},
		{"/a\r\nSet-Cookie: x", "/"},
		{"/" + strings.Repeat("a", 3000), "/"},
	} {
		if got := SafeNext(tt.in, "/"); got != tt.want {
			t.Errorf("SafeNext(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSetLang(t *testing.T) {
	r := newTestRenderer(t)
	tests := []struct {
		name, form   string
		wantLocation string
		wantCookie   string
		wantKind     errs.Kind
	}{
		{"english back to page", "lang=en&next=%2Fusers%3Fq%3Dli", "/users?q=li", "en", ""},
		{"chinese", "lang=zh-CN&next=%2F", "/", "zh-CN", ""},
		{"open redirect refused", "lang=en&next=%2F%2Fevil.example%2F", "/", "en", ""},
		{"absolute url refused", "lang=en&next=https%3A%2F%2Fevil.example%2F", "/", "en", ""},
		{"no next", "lang=en", "/", "en", ""},
		{"unknown language", "lang=fr&next=%2F", "", "", errs.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", "/lang", strings.NewReader(tt.form))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			w := httptest.NewRecorder()
			err := r.SetLang(w, req)
			if tt.wantKind != "" {
				if !errs.Is(err, tt.wantKind) {
					t.Fatalf("err = %v, want kind %s", err, tt.wantKind)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if w.Code != http.StatusSeeOther || w.Header().Get("Location") != tt.wantLocation {
				t.Fatalf("got %d to %q, want 303 to %q", w.Code, w.Header().Get("Location"), tt.wantLocation)
			}
			var got string
			for _, c := range w.Result().Cookies() {
				if c.Name == LangCookie {
					got = c.Value
				}
			}
			if got != tt.wantCookie {
				t.Fatalf("lang cookie = %q, want %q", got, tt.wantCookie)
			}
		})
	}
}

func TestMessage(t *testing.T) {
	r := newTestRenderer(t)
	err := errs.Wrap("auth.Login", errs.E(errs.Unauthorized, "bad_credentials", "用户名或密码错误"))
	zh := httptest.NewRequest("GET", "/", nil)
	en := httptest.NewRequest("GET", "/", nil)
	en.AddCookie(&http.Cookie{Name: LangCookie, Value: LangEN})
	if got := r.Message(zh, err); got != "用户名或密码错误" {
		t.Errorf("zh: %q", got)
	}
	if got := r.Message(en, err); got != "Wrong user name or password." {
		t.Errorf("en: %q", got)
	}
	// A code without an English text keeps the Chinese message.
	other := errs.E(errs.Invalid, "no_such_code_here", "中文说明")
	if got := r.Message(en, other); got != "中文说明" {
		t.Errorf("en fallback: %q", got)
	}
	// Internal errors never show their cause.
	if got := r.Message(zh, errs.Wrap("x", os.ErrPermission)); strings.Contains(got, "permission") || got == "" {
		t.Errorf("internal: %q", got)
	}
}

func formValues(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}
