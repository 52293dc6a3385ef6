// Command tongxin-load measures Tongxin from outside: `run` sends one load
// (open or closed loop) and prints what it measured, `bare` serves the
// bare net/http limit, `suite` builds a demo installation, alternates
// rounds of bare and Tongxin with server and generator in separate
// processes on separate cores, and writes the medians and ratios into
// docs/benchmarks.md. The load itself is internal/loadgen.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usageText = `usage: tongxin-load <command> [options]

commands:
  run    send one load to a server and print req/s, p50, p95, p99, max and errors
  bare   serve the bare net/http limit (prints its URL on the first line)
  suite  the whole external measurement against a demo installation
  raw-report  insert report rows straight into a database, one per transaction (the floor of filing)
  raw-samples insert sample rows straight into a database, a batch a transaction (the floor of sample ingestion)

tongxin-load <command> -h lists the command's options.
`

// usageError is a mistake on the command line: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func badUsage(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

// run is the program: it returns the exit status (0 done, 1 failed or a
// run with errors, 2 a bad command line).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, usageText)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmds := map[string]func(context.Context, []string, io.Writer, io.Writer) error{
		"run": runLoad, "bare": runBare, "suite": runSuite, "raw-report": runRawReport, "raw-samples": runRawSamples,
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "tongxin-load: unknown command %q\n\n%s", args[0], usageText)
		return 2
	}
	err := cmd(ctx, args[1:], stdout, stderr)
	var ue *usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errFailedRun):
		return 1
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "tongxin-load %s: %v\n", args[0], err)
		return 2
	}
	fmt.Fprintf(stderr, "tongxin-load %s: %v\n", args[0], err)
	return 1
}

// errFailedRun is a load that ran and had errors or dropped requests: its
// result is printed, the exit status is 1.
var errFailedRun = errors.New("the run had errors")

// newFlagSet is a command's flag set, writing its usage to stderr.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("tongxin-load "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parse parses args; a flag error is a usage error, -h is flag.ErrHelp.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return badUsage("%v", err)
	}
	if fs.NArg() > 0 {
		return badUsage("unexpected argument %q", fs.Arg(0))
	}
	return nil
}
