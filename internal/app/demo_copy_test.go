package app

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"

	"tongxin/internal/db/dbtest"
)

// TestMain removes the demo cities built for the tests once they ran. Run
// with TONGXIN_TEST_AS_TONGXIN=1, the test binary is the tongxin command
// instead (its arguments are tongxin's): tests start it as a process of
// its own to kill it (RunAsTongxin).
func TestMain(m *testing.M) {
	if os.Getenv(asTongxinEnv) == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err := Run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, "tongxin:", Message(err))
			os.Exit(ExitCode(err))
		}
		os.Exit(0)
	}
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

const asTongxinEnv = "TONGXIN_TEST_AS_TONGXIN"

// TongxinCommand is the tongxin command with args as a process of its own
// — this test binary, which TestMain turns into it — with env added to the
// environment.
func TongxinCommand(env []string, args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), asTongxinEnv+"=1"), env...)
	return cmd
}
