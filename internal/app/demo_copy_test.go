package app

import (
	"context"
	"io"
	"os"
	"strings"
	"testing"

	"tongxin/internal/db/dbtest"
)

// TestMain removes the demo cities built for the tests once they ran.
func TestMain(m *testing.M) {
	code := m.Run()
	dbtest.DropTemplates()
	os.Exit(code)
}

// demoCopy is a demo city of the test's own on the kind of database: a
// copy of one built once per test process, since building takes seconds
// (a minute under the race detector) and dozens of tests start from it.
// TestDemoCity builds its own.
func demoCopy(t testing.TB, kind string) dbtest.Installation {
	t.Helper()
	return dbtest.Copy(t, kind, "demo", func(in dbtest.Installation) error {
		env := &Env{Getenv: func(string) string { return "" }, Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard}
		f := newFlags(env, "test", "test")
		if err := f.parse([]string{"--db", in.URL, "--data-dir", in.DataDir}); err != nil {
			return err
		}
		ctx := context.Background()
		sys, err := f.open(ctx, true, nil)
		if err != nil {
			return err
		}
		defer sys.Close()
		_, err = Demo(ctx, sys)
		return err
	})
}

// DemoShiftStart is demoShiftStart for the package's external tests.
var DemoShiftStart = demoShiftStart

// DemoCopy is demoCopy for the package's external tests.
var DemoCopy = demoCopy
