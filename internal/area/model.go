// Package area holds the jurisdiction tree — 市 city → 区/县 district →
// 街道/乡镇 street → 社区/村 community → 网格 grid — and the departments
// (部门) and work groups (工作组) that tickets and directives are routed to.
//
// Every area has a materialised path ("/430200/430203/430203001/"), so that
// a subtree is one "path LIKE prefix%" and a caller's scope is filtered in
// SQL. Codes follow GB/T 2260 at the city and district levels and the
// project's own convention below them: a street is its district's code plus
// three digits (9), a community its street's plus three (12), a grid its
// community's plus three (15).
package area

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/width"

	"tongxin/internal/auth"
)

// Level is the level of an area in the tree.
type Level string

const (
	City      Level = "city"      // 市
	District  Level = "district"  // 区/县 (and county-level cities)
	Street    Level = "street"    // 街道/乡镇
	Community Level = "community" // 社区/村
	Grid      Level = "grid"      // 网格
)

// levels lists the levels from the top down; a level's index is its depth.
// It is never modified.
var levels = [...]Level{City, District, Street, Community, Grid}

// Levels returns the levels from the top down.
func Levels() []Level { return levels[:] }

// Depth returns the depth of the level (city 0 … grid 4), -1 if unknown.
func (l Level) Depth() int {
	for i, x := range levels {
		if x == l {
			return i
		}
	}
	return -1
}

// Valid reports whether l is a known level.
func (l Level) Valid() bool { return l.Depth() >= 0 }

// Child returns the level below l, "" for a grid or an unknown level.
func (l Level) Child() Level {
	d := l.Depth()
	if d < 0 || d+1 >= len(levels) {
		return ""
	}
	return levels[d+1]
}

// Label is the Chinese name of the level.
func (l Level) Label() string {
	switch l {
	case City:
		return "市"
	case District:
		return "区/县"
	case Street:
		return "街道/乡镇"
	case Community:
		return "社区/村"
	case Grid:
		return "网格"
	}
	return string(l)
}

// CodeLen is the number of digits of a code at the level.
func (l Level) CodeLen() int {
	switch l {
	case City, District:
		return 6
	case Street:
		return 9
	case Community:
		return 12
	case Grid:
		return 15
	}
	return 0
}

// levelNames (never modified) maps the accepted spellings of a level (folded by foldLevel)
// to the level.
var levelNames = map[string]Level{
	"city": City, "市": City, "地级市": City, "地区": City, "州": City, "盟": City, "直辖市": City, "0": City,
	"district": District, "county": District, "区": District, "县": District, "区县": District, "区/县": District,
	"县区": District, "县级市": District, "市辖区": District, "旗": District, "1": District,
	"street": Street, "town": Street, "township": Street, "subdistrict": Street, "街道": Street, "乡镇": Street,
	"街道/乡镇": Street, "街道乡镇": Street, "乡": Street, "镇": Street, "苏木": Street, "2": Street,
	"community": Community, "village": Community, "社区": Community, "村": Community, "社区/村": Community,
	"社区村": Community, "村/社区": Community, "居委会": Community, "村委会": Community, "嘎查": Community, "3": Community,
	"grid": Grid, "网格": Grid, "4": Grid,
}

// foldLevel normalises a level cell: full-width to half-width, no spaces,
// lower case, "、" and "／" read as "/".
func foldLevel(s string) string {
	s = width.Fold.String(s)
	s = strings.ReplaceAll(s, "、", "/")
	s = strings.Join(strings.Fields(s), "")
	return strings.ToLower(s)
}

// ParseLevel reads a level written as its code name (city, district, …),
// its depth (0–4) or in Chinese (市, 区, 县, 区县, 街道, 乡镇, 社区, 村, 网格,
// …). ok is false for anything else.
func ParseLevel(s string) (Level, bool) {
	l, ok := levelNames[foldLevel(s)]
	return l, ok
}

// Area is one node of the jurisdiction tree.
type Area struct {
	Code       string `json:"code"`
	Name       string `json:"name"`
	Level      Level  `json:"level"`
	ParentCode string `json:"parent_code,omitempty"`
	Path       string `json:"-"`
	Depth      int    `json:"depth"`
	ChildCount int    `json:"child_count"`
	Children   []Area `json:"children,omitempty"`
}

// Department is a government body (部门) that work is routed to. Its
// capabilities are what its officers do beyond the tickets routed to it
// (auth.Capabilities: pass_review, resumption_manage, testing_manage). On
// an update, nil Capabilities (the field left out) keeps them; [] removes
// them all.
type Department struct {
	Code         string            `json:"code"`
	Name         string            `json:"name"`
	AreaCode     string            `json:"area_code"`
	Capabilities []auth.Capability `json:"capabilities"`
}

// Workgroup is a standing group of a headquarters (工作组) with one remit.
// Its capabilities are what its members do beyond what their role grants,
// over the group's area, from the same list as a department's (the demo's
// 全员核酸检测组 manages testing campaigns); nil on an update keeps them,
// [] removes them all.
type Workgroup struct {
	Code         string            `json:"code"`
	Name         string            `json:"name"`
	AreaCode     string            `json:"area_code"`
	Remit        string            `json:"remit"`
	Capabilities []auth.Capability `json:"capabilities"`
}

// Limits of names and texts, in characters.
const (
	MaxNameLen  = 50
	MaxRemitLen = 200
)

var (
	digitsRE  = regexp.MustCompile(`^[0-9]+$`)
	orgCodeRE = regexp.MustCompile(`^[a-z0-9_-]{2,32}$`)
)

// PathOf builds the path of an area from its parent's path ("" for a root).
func PathOf(parentPath, code string) string {
	if parentPath == "" {
		return "/" + code + "/"
	}
	return parentPath + code + "/"
}

// CodesOf splits a path into its codes, root first.
func CodesOf(path string) []string {
	return strings.FieldsFunc(path, func(r rune) bool { return r == '/' })
}

// normCode trims a code cell and folds full-width digits.
func normCode(s string) string {
	return strings.TrimSpace(width.Fold.String(s))
}

// codeFormatProblem checks a code on its own: digits, and a length some
// level has. It returns a Chinese message, "" when the code is well formed.
func codeFormatProblem(code string) string {
	if code == "" {
		return "编码不能为空"
	}
	if !digitsRE.MatchString(code) {
		return fmt.Sprintf("编码“%s”格式错误：只能包含数字", clip(code))
	}
	switch len(code) {
	case 6, 9, 12, 15:
		return ""
	}
	return fmt.Sprintf("编码“%s”格式错误：应为 6 位（市、区县）、9 位（街道乡镇）、12 位（社区村）或 15 位（网格）数字", clip(code))
}

// childCodeProblem checks the code of an area of level l under the parent
// with parentCode ("" for a city). It returns a Chinese message, "" when the
// code fits.
func childCodeProblem(l Level, code, parentCode string) string {
	if n := l.CodeLen(); len(code) != n || !digitsRE.MatchString(code) {
		return fmt.Sprintf("%s级区划的编码应为 %d 位数字，“%s”不符", l.Label(), n, clip(code))
	}
	switch l {
	case City:
		return ""
	case District:
		// GB/T 2260: a county-level code shares the city's first four digits
		// (the first two under a municipality such as 110000).
		prefix := parentCode[:4]
		if strings.HasSuffix(parentCode, "0000") {
			prefix = parentCode[:2]
		}
		if !strings.HasPrefix(code, prefix) || code == parentCode {
			return fmt.Sprintf("区县编码“%s”应以上级市编码的前 %d 位“%s”开头且不同于市编码", code, len(prefix), prefix)
		}
	default:
		if !strings.HasPrefix(code, parentCode) {
			return fmt.Sprintf("编码“%s”应以上级编码“%s”开头，再加 3 位数字", code, parentCode)
		}
	}
	return ""
}

// nameProblem checks a name; "" when it is acceptable.
func nameProblem(name string) string {
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		return "名称不能为空"
	case n > MaxNameLen:
		return fmt.Sprintf("名称不能超过 %d 个字符（现有 %d 个）", MaxNameLen, n)
	case strings.ContainsFunc(name, isControl):
		return "名称不能包含换行符或控制字符"
	}
	return ""
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// orgCodeProblem checks a department or work group code.
func orgCodeProblem(code string) string {
	if code == "" {
		return "编码不能为空"
	}
	if !orgCodeRE.MatchString(code) {
		return "编码须为 2–32 位小写字母、数字、下划线或连字符"
	}
	return ""
}

// clip shortens a value for an error message.
func clip(s string) string {
	if r := []rune(s); len(r) > 30 {
		return string(r[:30]) + "…"
	}
	return s
}

// rowInput is one area as a user or the demo data states it, before the
// rules of the tree are checked. Num is the row number reported in errors.
type rowInput struct {
	Num    int
	Code   string
	Name   string
	Level  string
	Parent string
}

// rowError is one problem of one row; Key names the input column.
type rowError struct {
	Num     int
	Key     string
	Message string
}

// planned is an area to create or rename.
type planned struct {
	Num     int
	Area    Area
	Create  bool
	OldName string // for renames
}

// planner checks a batch of areas against the tree rules and against the
// areas already stored, and works out what to write. It does no I/O: the
// caller passes the stored areas the batch refers to (by code or parent
// code) and the caller's read and write coverage.
type planner struct {
	Known    map[string]Area        // stored areas referred to by the batch
	CanRead  func(path string) bool // caller may see the area at path
	CanWrite func(path string) bool // caller may change the area at path
	errors   []rowError
	rows     []rowInput
	first    map[string]int // code -> index of its first row
	state    []int8         // 0 unvisited, 1 on the stack, 2 done
	resolved []resolvedRow
	stack    []int
}

type resolvedRow struct {
	ok    bool
	level Level
	path  string
	exist bool
}

func (p *planner) fail(num int, key, msg string) {
	p.errors = append(p.errors, rowError{Num: num, Key: key, Message: msg})
}

// Plan checks every row and returns the changes in an order that writes
// parents before children, or the problems found (then nothing may be
// written). Rows may come in any order.
func (p *planner) Plan(rows []rowInput) ([]planned, []rowError) {
	p.rows = rows
	p.first = make(map[string]int, len(rows))
	p.state = make([]int8, len(rows))
	p.resolved = make([]resolvedRow, len(rows))
	wellFormed := make([]bool, len(rows))
	for i := range rows {
		r := &rows[i]
		r.Code, r.Parent = normCode(r.Code), normCode(r.Parent)
		r.Name, r.Level = strings.TrimSpace(r.Name), strings.TrimSpace(r.Level)
		ok := true
		if msg := codeFormatProblem(r.Code); msg != "" {
			p.fail(r.Num, "code", msg)
			ok = false
		} else if j, dup := p.first[r.Code]; dup {
			p.fail(r.Num, "code", fmt.Sprintf("编码“%s”在文件中重复（与第 %d 行相同）", clip(r.Code), rows[j].Num))
			ok = false
		} else {
			p.first[r.Code] = i
		}
		if msg := nameProblem(r.Name); msg != "" {
			p.fail(r.Num, "name", msg)
		}
		if r.Level != "" {
			if _, known := ParseLevel(r.Level); !known {
				p.fail(r.Num, "level", fmt.Sprintf("层级“%s”无法识别：应为 市、区县、街道乡镇、社区村、网格（或 city、district、street、community、grid）", clip(r.Level)))
				ok = false
			}
		}
		if r.Parent != "" {
			if msg := codeFormatProblem(r.Parent); msg != "" {
				p.fail(r.Num, "parent_code", "上级"+msg)
				ok = false
			}
		}
		wellFormed[i] = ok
	}
	for i := range rows {
		if !wellFormed[i] {
			p.state[i] = 2 // never taken as a parent; its errors are reported
		}
	}
	for i := range rows {
		p.resolve(i)
	}
	if len(p.errors) > 0 {
		sort.SliceStable(p.errors, func(a, b int) bool { return p.errors[a].Num < p.errors[b].Num })
		return nil, p.errors
	}
	var out []planned
	for i, r := range rows {
		res := p.resolved[i]
		if res.exist {
			old := p.Known[r.Code]
			if old.Name != r.Name {
				a := old
				a.Name = r.Name
				out = append(out, planned{Num: r.Num, Area: a, OldName: old.Name})
			}
			continue
		}
		a := Area{Code: r.Code, Name: r.Name, Level: res.level, ParentCode: r.Parent, Path: res.path, Depth: res.level.Depth()}
		out = append(out, planned{Num: r.Num, Area: a, Create: true})
	}
	sort.SliceStable(out, func(a, b int) bool {
		x, y := out[a].Area, out[b].Area
		if x.Depth != y.Depth {
			return x.Depth < y.Depth
		}
		return x.Code < y.Code
	})
	return out, nil
}

// resolve works out the level and path of row i (the first row of its
// code, well formed), resolving its parent first. A row whose parent row is
// itself wrong stays unresolved without a second error.
func (p *planner) resolve(i int) resolvedRow {
	switch p.state[i] {
	case 2:
		return p.resolved[i]
	case 1:
		// i is on the stack: every row from i to the top is in a cycle.
		at := len(p.stack) - 1
		for p.stack[at] != i {
			at--
		}
		cycle := p.stack[at:]
		codes := make([]string, 0, len(cycle)+1)
		for _, j := range cycle {
			codes = append(codes, p.rows[j].Code)
		}
		codes = append(codes, p.rows[i].Code)
		msg := "上级关系形成循环：" + strings.Join(codes, " → ")
		for _, j := range cycle {
			p.fail(p.rows[j].Num, "parent_code", msg)
			p.state[j] = 2 // resolved (as failed) once the recursion unwinds
		}
		return resolvedRow{}
	}
	p.state[i] = 1
	p.stack = append(p.stack, i)
	res := p.resolveRow(i)
	p.stack = p.stack[:len(p.stack)-1]
	if p.state[i] == 1 {
		p.state[i] = 2
		p.resolved[i] = res
	}
	return p.resolved[i]
}

// resolveRow resolves row i once its state is set: an area already
// stored, a new city, or a new area under a parent.
func (p *planner) resolveRow(i int) resolvedRow {
	r := p.rows[i]
	var given Level
	if r.Level != "" {
		given, _ = ParseLevel(r.Level)
	}
	if old, ok := p.Known[r.Code]; ok {
		return p.resolveStored(r, old, given)
	}
	if r.Parent == "" {
		return p.resolveCity(r, given)
	}
	if r.Parent == r.Code {
		p.fail(r.Num, "parent_code", "上级编码不能是本区划自己的编码")
		return resolvedRow{}
	}
	return p.resolveChild(r, given)
}

// resolveStored checks a row of an area already stored: it may rename it,
// never move it.
func (p *planner) resolveStored(r rowInput, old Area, given Level) resolvedRow {
	if !p.CanRead(old.Path) || !p.CanWrite(old.Path) {
		p.fail(r.Num, "code", fmt.Sprintf("区划“%s”不在您的管辖范围内，无权修改", clip(r.Code)))
		return resolvedRow{}
	}
	if r.Parent != old.ParentCode || (given != "" && given != old.Level) {
		p.fail(r.Num, "parent_code", fmt.Sprintf("不能更改已有区划的上级或层级（区划“%s”现为%s级，上级编码“%s”）",
			r.Code, old.Level.Label(), old.ParentCode))
	}
	// Children resolve against the stored node either way.
	return resolvedRow{ok: true, level: old.Level, path: old.Path, exist: true}
}

// resolveCity checks a new row without a parent, which must be a city.
func (p *planner) resolveCity(r rowInput, given Level) resolvedRow {
	if given != "" && given != City {
		p.fail(r.Num, "parent_code", fmt.Sprintf("缺少上级编码：只有市级区划可以没有上级（本行层级为%s）", given.Label()))
		return resolvedRow{}
	}
	if msg := childCodeProblem(City, r.Code, ""); msg != "" {
		p.fail(r.Num, "code", msg)
		return resolvedRow{}
	}
	path := PathOf("", r.Code)
	if !p.CanWrite(path) {
		p.fail(r.Num, "code", "只有全市范围的管理员可以新建市级区划")
		return resolvedRow{}
	}
	return resolvedRow{ok: true, level: City, path: path}
}

// resolveChild checks a new row under its parent, stored or in the file.
func (p *planner) resolveChild(r rowInput, given Level) resolvedRow {
	parentLevel, parentPath, ok := p.parentOf(r)
	if !ok {
		return resolvedRow{}
	}
	want := parentLevel.Child()
	if want == "" {
		p.fail(r.Num, "level", fmt.Sprintf("上级“%s”是网格，网格下不能再设下级区划", clip(r.Parent)))
		return resolvedRow{}
	}
	if given != "" && given != want {
		p.fail(r.Num, "level", fmt.Sprintf("层级错误：上级“%s”是%s级，本行应为%s级，文件中为“%s”",
			clip(r.Parent), parentLevel.Label(), want.Label(), clip(r.Level)))
		return resolvedRow{}
	}
	if msg := childCodeProblem(want, r.Code, r.Parent); msg != "" {
		p.fail(r.Num, "code", msg)
		return resolvedRow{}
	}
	path := PathOf(parentPath, r.Code)
	if !p.CanWrite(path) {
		p.fail(r.Num, "code", fmt.Sprintf("区划“%s”不在您的管辖范围内，无权新建", clip(r.Code)))
		return resolvedRow{}
	}
	return resolvedRow{ok: true, level: want, path: path}
}

// parentOf finds the level and path of r's parent, stored (and readable)
// or resolved from its own row in the file. ok is false when it cannot be
// used: a parent row that is wrong, or out of scope, carries the error
// itself; a parent found nowhere is this row's error.
func (p *planner) parentOf(r rowInput) (Level, string, bool) {
	old, stored := p.Known[r.Parent]
	j, inFile := p.first[r.Parent]
	switch {
	case stored && p.CanRead(old.Path):
		return old.Level, old.Path, true
	case inFile && !stored:
		res := p.resolve(j)
		return res.level, res.path, res.ok
	case inFile && stored:
		return "", "", false
	}
	p.fail(r.Num, "parent_code", fmt.Sprintf("上级编码“%s”不存在：系统中和本文件中都没有该区划", clip(r.Parent)))
	return "", "", false
}

// Paths returns the paths of the rows Plan resolved.
func (p *planner) Paths() []string {
	var out []string
	for _, r := range p.resolved {
		if r.ok {
			out = append(out, r.path)
		}
	}
	return out
}
