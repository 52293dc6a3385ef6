package shape_test

import (
	"bufio"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// raceTests reads RACE_TESTS from the Makefile: the pattern of the tests
// `make test` runs a second time under the race detector.
func raceTests(t *testing.T) *regexp.Regexp {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":=")
		if ok && strings.TrimSpace(name) == "RACE_TESTS" {
			re, err := regexp.Compile(strings.TrimSpace(value))
			if err != nil {
				t.Fatalf("Makefile: RACE_TESTS: %v", err)
			}
			return re
		}
	}
	t.Fatal("Makefile: no RACE_TESTS := line")
	return nil
}

// unraced are tests that start goroutines yet stay out of RACE_TESTS,
// each with the reason.
var unraced = map[string]string{
	"TestImportBombPassBatch": "three bombs parsed at once, for the heap growth it measures (meaningless under -race, " +
		"which costs it half a minute); the import gate they queue at is TestImportGate's, which runs under -race",
}

// startsGoroutines tells whether the function's own body starts a
// goroutine: a go statement or a call of a method named Go
// (sync.WaitGroup.Go, errgroup.Group.Go).
func startsGoroutines(fn *ast.FuncDecl) bool {
	found := false
	ast.Inspect(fn.Body, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.GoStmt:
			found = true
		case *ast.CallExpr:
			if sel, ok := x.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Go" {
				found = true
			}
		}
		return !found
	})
	return found
}

// TestConcurrentTestsRunUnderRace: `make test` runs the whole suite once
// without the race detector and again, under it, the tests RACE_TESTS
// names: those of concurrent code. A test that starts goroutines of its
// own is one of them, and must be named so that the pattern takes it
// (or be listed in unraced, with the reason).
func TestConcurrentTestsRunUnderRace(t *testing.T) {
	re := raceTests(t)
	root := filepath.Join("..", "..")
	var bad []string
	seen := 0
	err := filepath.WalkDir(filepath.Join(root, "internal"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv != nil || fn.Body == nil || !strings.HasPrefix(fn.Name.Name, "Test") || !startsGoroutines(fn) {
				continue
			}
			seen++
			if !re.MatchString(fn.Name.Name) && unraced[fn.Name.Name] == "" {
				rel, _ := filepath.Rel(root, path)
				bad = append(bad, filepath.ToSlash(rel)+": "+fn.Name.Name+" starts goroutines but RACE_TESTS in the Makefile does not take it")
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen < 5 {
		t.Fatalf("found only %d tests starting goroutines: is the test run from its package directory?", seen)
	}
	report(t, bad)
}
