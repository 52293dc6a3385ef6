// Package shape_test holds the rules of docs/architecture.md that the
// compiler does not check: how large a file and a function may grow, where
// SQL may be written, and which packages may import which. `make lint`
// and `make test` run it; a module added later is held to the same shape
// as the ones it copies.
package shape_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// modules are the packages of design.md's module table that are not
// kernel (masstest is design.md's testing; quarantine is split out of
// zone): none may import another, and their SQL lives in store files.
var modules = map[string]bool{
	"resumption": true, "ticket": true, "pass": true, "checkpoint": true,
	"testing": true, "masstest": true, "zone": true, "quarantine": true, "tracing": true, "volunteer": true,
	"supply": true, "command": true, "inspection": true,
}

// storeOnly are the packages whose SQL is in store*.go files only: every
// module, and the kernel packages built like one (service over store).
var storeOnly = map[string]bool{"area": true, "notify": true}

const (
	maxFileLines = 600
	maxFuncLines = 80
	maxCyclo     = 20
)

// exempt functions are data, not logic: the route table is one list of
// every URL and its handler, read top to bottom.
var exempt = map[string]bool{"app.(routes).table": true}

type goFile struct {
	path string // relative to the repository root
	pkg  string // directory name under internal/ or cmd/
	fset *token.FileSet
	ast  *ast.File
	size int
}

func sources(t *testing.T) []goFile {
	t.Helper()
	root := filepath.Join("..", "..")
	var out []goFile
	for _, top := range []string{"internal", "cmd"} {
		err := filepath.WalkDir(filepath.Join(root, top), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && (d.Name() == "node_modules" || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, path, src, parser.SkipObjectResolution)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, path)
			parts := strings.Split(filepath.ToSlash(rel), "/")
			out = append(out, goFile{path: filepath.ToSlash(rel), pkg: parts[1], fset: fset, ast: f,
				size: strings.Count(string(src), "\n")})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(out) < 50 {
		t.Fatalf("found only %d Go files under internal/ and cmd/: is the test run from its package directory?", len(out))
	}
	return out
}

// TestFilesAndFunctionsAreSmall: no file over maxFileLines, no function
// over maxFuncLines or over maxCyclo in cyclomatic complexity (counted as
// gocyclo counts: 1, plus one per if, for, case, && and ||).
func TestFilesAndFunctionsAreSmall(t *testing.T) {
	var bad []string
	for _, f := range sources(t) {
		if f.size > maxFileLines {
			bad = append(bad, fmt.Sprintf("%s: %d lines (at most %d: cut it by subject)", f.path, f.size, maxFileLines))
		}
		for _, d := range f.ast.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			name := f.ast.Name.Name + "." + funcName(fn)
			if exempt[name] {
				continue
			}
			pos := f.fset.Position(fn.Pos())
			lines := f.fset.Position(fn.End()).Line - pos.Line + 1
			if lines > maxFuncLines {
				bad = append(bad, fmt.Sprintf("%s:%d: %s is %d lines (at most %d)", f.path, pos.Line, name, lines, maxFuncLines))
			}
			if c := cyclomatic(fn); c > maxCyclo {
				bad = append(bad, fmt.Sprintf("%s:%d: %s has cyclomatic complexity %d (at most %d)", f.path, pos.Line, name, c, maxCyclo))
			}
		}
	}
	report(t, bad)
}

func funcName(fn *ast.FuncDecl) string {
	if fn.Recv == nil || len(fn.Recv.List) == 0 {
		return fn.Name.Name
	}
	typ := fn.Recv.List[0].Type
	if s, ok := typ.(*ast.StarExpr); ok {
		typ = s.X
	}
	switch x := typ.(type) {
	case *ast.Ident:
		return "(" + x.Name + ")." + fn.Name.Name
	case *ast.IndexExpr:
		if id, ok := x.X.(*ast.Ident); ok {
			return "(" + id.Name + ")." + fn.Name.Name
		}
	}
	return fn.Name.Name
}

func cyclomatic(fn *ast.FuncDecl) int {
	c := 1
	ast.Inspect(fn.Body, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.IfStmt, *ast.ForStmt, *ast.RangeStmt:
			c++
		case *ast.CaseClause:
			if x.List != nil {
				c++
			}
		case *ast.CommClause:
			if x.Comm != nil {
				c++
			}
		case *ast.BinaryExpr:
			if x.Op == token.LAND || x.Op == token.LOR {
				c++
			}
		}
		return true
	})
	return c
}

// sqlCalls are the methods that run SQL, on *db.Tx or *sql.DB.
var sqlCalls = map[string]bool{"QueryContext": true, "ExecContext": true, "QueryRowContext": true}

// TestSQLIsInStores: in a module (and area, notify) statements run in
// store*.go files only, and no pages file imports the database package:
// a page calls services.
func TestSQLIsInStores(t *testing.T) {
	var bad []string
	for _, f := range sources(t) {
		base := filepath.Base(f.path)
		if strings.HasPrefix(base, "pages") || strings.HasSuffix(base, "_pages.go") {
			for _, imp := range f.ast.Imports {
				if p, _ := strconv.Unquote(imp.Path.Value); p == "tongxin/internal/db" || p == "database/sql" {
					bad = append(bad, fmt.Sprintf("%s imports %s: pages call services, never the database", f.path, p))
				}
			}
		}
		if !(modules[f.pkg] || storeOnly[f.pkg]) || strings.HasPrefix(base, "store") {
			continue
		}
		ast.Inspect(f.ast, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if sqlCalls[sel.Sel.Name] {
				bad = append(bad, fmt.Sprintf("%s:%d: %s outside a store file", f.path, f.fset.Position(sel.Pos()).Line, sel.Sel.Name))
			}
			if id, ok := sel.X.(*ast.Ident); ok && id.Name == "db" && (sel.Sel.Name == "Collect" || sel.Sel.Name == "Each" || sel.Sel.Name == "CollectRows") {
				bad = append(bad, fmt.Sprintf("%s:%d: db.%s outside a store file", f.path, f.fset.Position(sel.Pos()).Line, sel.Sel.Name))
			}
			return true
		})
	}
	report(t, bad)
}

// TestINListsAreBuiltFirst: no call both adds arguments to a db.Args
// (db.In, Add) and passes its List, as in f(q+db.In(&a, v), a.List...):
// Go does not specify whether a.List is read before or after the append.
func TestINListsAreBuiltFirst(t *testing.T) {
	var bad []string
	for _, f := range sources(t) {
		ast.Inspect(f.ast, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || !call.Ellipsis.IsValid() || len(call.Args) == 0 {
				return true
			}
			last, ok := call.Args[len(call.Args)-1].(*ast.SelectorExpr)
			if !ok || last.Sel.Name != "List" {
				return true
			}
			owner := exprText(last.X)
			for _, a := range call.Args[:len(call.Args)-1] {
				ast.Inspect(a, func(m ast.Node) bool {
					if in, ok := m.(*ast.CallExpr); ok && addsTo(in, owner) {
						bad = append(bad, fmt.Sprintf("%s:%d: arguments added inside the call that passes %s.List: build the query first",
							f.path, f.fset.Position(in.Pos()).Line, owner))
					}
					return true
				})
			}
			return true
		})
	}
	report(t, bad)
}

// exprText renders a simple expression (a, a.b, &a) as text.
func exprText(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.Ident:
		return x.Name
	case *ast.SelectorExpr:
		return exprText(x.X) + "." + x.Sel.Name
	case *ast.UnaryExpr:
		return exprText(x.X)
	case *ast.StarExpr:
		return exprText(x.X)
	}
	return "?"
}

// addsTo reports whether call may add to owner: owner.Add(…), or any call
// given &owner (db.In(&a, v), visibility.where(&a)).
func addsTo(call *ast.CallExpr, owner string) bool {
	if sel, ok := call.Fun.(*ast.SelectorExpr); ok {
		if sel.Sel.Name == "Add" && exprText(sel.X) == owner {
			return true
		}
		if id, ok := sel.X.(*ast.Ident); ok && id.Name == "db" && sel.Sel.Name == "In" && exprText(call.Args[0]) == owner {
			return true
		}
	}
	for _, a := range call.Args {
		if u, ok := a.(*ast.UnaryExpr); ok && u.Op == token.AND && exprText(u.X) == owner {
			return true
		}
	}
	return false
}

// TestNoModuleImportsAModule: a module reaches another only through an
// interface it declares, wired in internal/app; the kernel imports no
// module at all.
func TestNoModuleImportsAModule(t *testing.T) {
	var bad []string
	for _, f := range sources(t) {
		if f.pkg == "app" || strings.HasPrefix(f.path, "cmd/") {
			continue // the wiring imports everything
		}
		for _, imp := range f.ast.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			rest, ok := strings.CutPrefix(p, "tongxin/internal/")
			if !ok {
				continue
			}
			target := strings.Split(rest, "/")[0]
			if modules[target] && target != f.pkg {
				who := "kernel package " + f.pkg
				if modules[f.pkg] {
					who = "module " + f.pkg
				}
				bad = append(bad, fmt.Sprintf("%s: %s imports module %s", f.path, who, target))
			}
		}
	}
	report(t, bad)
}

func report(t *testing.T, bad []string) {
	t.Helper()
	sort.Strings(bad)
	for _, b := range bad {
		t.Error(b)
	}
}
