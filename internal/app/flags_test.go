package app

import (
	"bytes"
	"strings"
	"testing"
)

// Flags may follow the arguments, as the README writes
// "tongxin import reports FILE --partial"; after "--" all is an argument.
func TestFlagsAnywhere(t *testing.T) {
	for _, c := range []struct {
		args    []string
		partial bool
		db      string
		rest    string
	}{
		{[]string{"reports.csv", "--partial"}, true, "", "reports.csv"},
		{[]string{"--partial", "reports.csv"}, true, "", "reports.csv"},
		{[]string{"reports.csv", "--db", "sqlite:x.db", "--partial"}, true, "sqlite:x.db", "reports.csv"},
		{[]string{"a.csv", "b.csv", "--partial"}, true, "", "a.csv b.csv"},
		{[]string{"a.csv"}, false, "", "a.csv"},
		{[]string{"--", "--partial"}, false, "", "--partial"},
		{[]string{"a.csv", "--", "--db", "x"}, false, "", "a.csv --db x"},
		{nil, false, "", ""},
	} {
		env := &Env{Getenv: func(string) string { return "" }, Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}}
		f := newFlags(env, "import reports", "import reports FILE [--partial]")
		partial := f.Bool("partial", false, "")
		if err := f.parse(c.args); err != nil {
			t.Fatalf("%q: %v", c.args, err)
		}
		db := *f.dbURL
		if c.db == "" {
			db = ""
		}
		if *partial != c.partial || db != c.db || strings.Join(f.Args(), " ") != c.rest {
			t.Errorf("%q: partial %v, db %q, args %q", c.args, *partial, *f.dbURL, f.Args())
		}
	}
	env := &Env{Getenv: func(string) string { return "" }, Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}}
	f := newFlags(env, "import reports", "import reports FILE [--partial]")
	if err := f.parse([]string{"a.csv", "--bogus"}); err == nil {
		t.Error("an unknown flag after the file was accepted")
	}
}
