package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// suiteFlags are the options of `suite`.
type suiteFlags struct {
	tongxin, write, note string
	dbURL                string // -db: a PostgreSQL database instead of SQLite in the directory
	rounds, conns        int
	duration, warmup     time.Duration
	keep                 bool
	command              []string // as typed, for the docs
	self                 string
	pin                  pinning
	inst                 *install
	tongxinURL, bareURL  string
	tongxinSrv, bareSrv  *server
	only                 []string // scenarios to run; nil: all
	wrk                  string   // wrk's path; "": no check by wrk
	dir                  string   // the temporary directory
	soakFor              time.Duration
	soaked               *soakResult
	samples              sampleFlags
}

// scenarios are the suite's scenario names, as -only takes them.
var scenarios = []string{"me", "scan", "scan-half", "gate-scan", "report", "stats-page", "queue-page", "samples-one", "samples-batch"}

func parseSuite(args []string, stderr io.Writer) (*suiteFlags, error) {
	fs := newFlagSet("suite", stderr)
	s := &suiteFlags{command: args}
	fs.StringVar(&s.tongxin, "tongxin", "bin/tongxin", "the built tongxin binary")
	fs.StringVar(&s.write, "write", "", "a Markdown file whose tongxin-load markers get the table (docs/benchmarks.md)")
	fs.IntVar(&s.rounds, "rounds", 5, "rounds, each bare then tongxin")
	fs.IntVar(&s.conns, "conns", 16, "closed-loop workers")
	fs.DurationVar(&s.duration, "duration", 10*time.Second, "the measured window of each run")
	fs.DurationVar(&s.warmup, "warmup", time.Second, "the warm-up before each run's window")
	fs.StringVar(&s.note, "note", "", "a sentence written under the table's heading (the state of the machine, say)")
	fs.BoolVar(&s.keep, "keep", false, "keep the temporary data directory (its path is printed)")
	fs.StringVar(&s.wrk, "wrk", "wrk", "wrk, the independent generator that checks the ratios of me and scan (\"\": none); skipped when not installed")
	fs.DurationVar(&s.soakFor, "soak", 10*time.Minute, "after the rounds, a closed loop of scans this long with the server's memory read every 10s (0: none)")
	s.samples.define(fs)
	only := fs.String("only", "", "run only these scenarios, comma-separated ("+strings.Join(scenarios, ", ")+"); not with -write")
	fs.StringVar(&s.dbURL, "db", "", "an empty PostgreSQL database (postgres://…) to install the demo into instead of SQLite in the temporary directory; not with -write")
	if err := parse(fs, args); err != nil {
		return nil, err
	}
	if *only != "" {
		s.only = list(*only)
		for _, sc := range s.only {
			if !slices.Contains(scenarios, sc) {
				return nil, badUsage("-only: no scenario %q (%s)", sc, strings.Join(scenarios, ", "))
			}
		}
		if s.write != "" {
			return nil, badUsage("-only measures part of the table: it cannot be written with -write")
		}
	}
	if err := s.checkDB(); err != nil {
		return nil, err
	}
	switch {
	case s.rounds < 1:
		return nil, badUsage("-rounds must be at least 1")
	case s.conns < 1:
		return nil, badUsage("-conns must be at least 1")
	case s.duration <= 0 || s.warmup < 0:
		return nil, badUsage("-duration must be above 0 and -warmup not below")
	case s.soakFor < 0:
		return nil, badUsage("-soak must not be below 0")
	}
	if err := s.samples.check(); err != nil {
		return nil, err
	}
	if st, err := os.Stat(s.tongxin); err != nil || st.IsDir() {
		return nil, badUsage("-tongxin %s: no such binary (make build, or pass -tongxin PATH)", s.tongxin)
	}
	if s.write != "" {
		if err := checkMarkers(s.write); err != nil {
			return nil, badUsage("%v", err)
		}
	}
	return s, nil
}

// checkDB checks -db: PostgreSQL, and not with -write.
func (s *suiteFlags) checkDB() error {
	switch {
	case s.dbURL == "":
		return nil
	case !strings.HasPrefix(s.dbURL, "postgres://") && !strings.HasPrefix(s.dbURL, "postgresql://"):
		return badUsage("-db must be a PostgreSQL database (postgres://…); SQLite is the default")
	case s.write != "":
		return badUsage("-db measures on PostgreSQL: the table (SQLite) cannot be written with -write")
	}
	return nil
}

// database names the database the suite installs into, for the report.
func (s *suiteFlags) database() string {
	if s.dbURL != "" {
		return "PostgreSQL"
	}
	return "SQLite"
}

// runSuite is `tongxin-load suite`.
func runSuite(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	s, err := parseSuite(args, stderr)
	if err != nil {
		return err
	}
	if s.self, err = os.Executable(); err != nil {
		return fmt.Errorf("find this program: %w", err)
	}
	if s.tongxin, err = filepath.Abs(s.tongxin); err != nil {
		return err
	}
	s.pin = detectPinning()
	dir, err := os.MkdirTemp("", "tongxin-load-*")
	if err != nil {
		return fmt.Errorf("temporary directory: %w", err)
	}
	if s.keep {
		fmt.Fprintln(stderr, "data directory:", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	s.dir = dir
	fmt.Fprintf(stderr, "demo installation in %s; %s\n", dir, s.pin)
	if w := wrkPath(s.wrk); w != "" {
		s.wrk = w
		fmt.Fprintf(stderr, "wrk: %s, closed loops of me and scan beside tongxin-load's\n", w)
	} else if s.wrk == "" {
		fmt.Fprintln(stderr, "wrk: off (-wrk ''): no independent check of the ratios")
	} else {
		fmt.Fprintf(stderr, "wrk: not found (%q; Debian package wrk): no independent check of the ratios\n", s.wrk)
		s.wrk = ""
	}
	if s.inst, err = newInstall(ctx, s.tongxin, dir, s.dbURL); err != nil {
		return err
	}
	rounds, err := s.measure(ctx, dir, stderr)
	if err != nil {
		return err
	}
	rep := newReport(s, rounds)
	rep.write(stdout)
	if s.write != "" {
		return replaceMarked(s.write, rep.markdown())
	}
	return nil
}

// measure starts both servers and runs the rounds.
func (s *suiteFlags) measure(ctx context.Context, dir string, log io.Writer) ([]round, error) {
	tx, err := s.inst.serve(ctx, s.pin)
	if err != nil {
		return nil, err
	}
	defer tx.stop()
	if err := s.inst.prepare(ctx, tx.url); err != nil {
		return nil, err
	}
	if err := s.prepareSamples(ctx, tx.url, log); err != nil {
		return nil, err
	}
	if s.runs("gate-scan") {
		if err := s.inst.prepareGate(ctx, tx.url); err != nil {
			return nil, err
		}
	}
	bare, err := startServer(command(ctx, s.pin.server, s.self, "bare", "-get-bytes", strconv.Itoa(s.inst.meBytes),
		"-post-bytes", strconv.Itoa(s.inst.scanBytes)), filepath.Join(dir, "bare.log"))
	if err != nil {
		return nil, err
	}
	defer bare.stop()
	s.tongxinURL, s.bareURL = tx.url, bare.url
	s.tongxinSrv, s.bareSrv = tx, bare
	var rounds []round
	for i := range s.rounds {
		r, err := s.round(ctx, i, log)
		if err != nil {
			return nil, err
		}
		rounds = append(rounds, r)
	}
	if s.soakFor > 0 && s.runs("scan") {
		if s.soaked, err = s.soak(ctx, log); err != nil {
			return nil, err
		}
	}
	return rounds, nil
}

// round is one round's results by run name ("bare/me", "tongxin/scan", …).
type round map[string]measured

// A round: each scenario measured on both servers is run on bare, then at
// once on tongxin, so that the two runs of a ratio are seconds apart (a
// shared machine's speed moves by a quarter within minutes; the old
// order, all of bare's runs then all of tongxin's, put half a minute to a
// minute between them). Every run starts with both servers idle
// (settle): work a run left behind (the loader's last rows, a checkpoint
// of the write-ahead log) is not charged to the next. The open-loop scans
// of each go at half of its own scan maximum in this round (issue 13: the
// p99 "at 50 % load"; at half of bare's maximum a server with half of
// bare's throughput would be at full load, where latency has no bound).
func (s *suiteFlags) round(ctx context.Context, i int, log io.Writer) (round, error) {
	r := round{}
	run := func(name, url, scenario string, extra ...string) error {
		if !s.needs(name, scenario) {
			return nil
		}
		srv := s.tongxinSrv
		if url == s.bareURL {
			srv = s.bareSrv
		}
		s.settle(ctx)
		res, err := generate(ctx, s.pin, s.self, srv, append(s.loadArgs(url, scenario), extra...))
		if err != nil {
			return err
		}
		r[name] = res
		fmt.Fprintf(log, "round %d %-20s %s\n", i+1, name, res)
		return nil
	}
	closed := []string{"-mode", "closed", "-conns", strconv.Itoa(s.conns)}
	page := []string{"-mode", "closed", "-conns", "1", "-ttfb"}
	steps := []struct {
		name, url, scenario string
		extra               []string
		halfOf              string // an open loop at half of this run's rate, known when it comes
	}{
		{"bare/me", s.bareURL, "me", closed, ""},
		{"tongxin/me", s.tongxinURL, "me", closed, ""},
		{"bare/scan", s.bareURL, "scan", closed, ""},
		{"tongxin/scan", s.tongxinURL, "scan", closed, ""},
		{"bare/scan-half", s.bareURL, "scan-half", nil, "bare/scan"},
		{"tongxin/scan-half", s.tongxinURL, "scan-half", nil, "tongxin/scan"},
		{"tongxin/gate-scan", s.tongxinURL, "gate-scan", closed, ""},
		{"tongxin/report", s.tongxinURL, "report", closed, ""},
		{"tongxin/stats-page", s.tongxinURL, "stats-page", page, ""},
		{"tongxin/queue-page", s.tongxinURL, "queue-page", page, ""},
	}
	for _, st := range steps {
		if st.halfOf != "" {
			st.extra = []string{"-mode", "open", "-conns", "64", "-rate", strconv.FormatFloat(r[st.halfOf].ReqPerSec/2, 'f', 0, 64)}
		}
		if err := run(st.name, st.url, st.scenario, st.extra...); err != nil {
			return nil, err
		}
		if st.name == "tongxin/report" && s.runs("report") {
			// The floor: the same rows inserted straight into the
			// database, on the server's core, the server idle.
			s.settle(ctx)
			res, err := runMeasured(ctx, s.pin.server, s.self, s.tongxinSrv, s.rawArgs())
			if err != nil {
				return nil, err
			}
			r["raw/report"] = res
			fmt.Fprintf(log, "round %d %-20s %s\n", i+1, "raw/report", res)
		}
		if st.name == "tongxin/scan" {
			if err := s.wrkRuns(ctx, r, i, log); err != nil {
				return nil, err
			}
		}
	}
	if err := s.sampleRuns(ctx, r, i, log); err != nil {
		return nil, err
	}
	return r, nil
}

// settle waits until neither server has used more than a tick of CPU
// (10 ms) in a fifth of a second, for five seconds at most.
func (s *suiteFlags) settle(ctx context.Context) {
	const window, most = 200 * time.Millisecond, 10 * time.Millisecond
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		t0, ok0 := s.tongxinSrv.cpuTime()
		b0, ok1 := s.bareSrv.cpuTime()
		if !ok0 && !ok1 {
			return // no /proc: nothing to wait for
		}
		time.Sleep(window)
		t1, _ := s.tongxinSrv.cpuTime()
		b1, _ := s.bareSrv.cpuTime()
		if t1-t0 <= most && b1-b0 <= most {
			return
		}
	}
}

// wrkRuns are wrk's closed loops of me and scan, each against bare and
// then against tongxin, as "bare/me-wrk" and so on. Errors fail the
// suite: the check is meaningless with them.
func (s *suiteFlags) wrkRuns(ctx context.Context, r round, i int, log io.Writer) error {
	if s.wrk == "" {
		return nil
	}
	for _, sc := range wrkScenarios {
		if !s.runs(sc) {
			continue
		}
		for _, server := range []string{"bare", "tongxin"} {
			url, srv := s.tongxinURL, s.tongxinSrv
			if server == "bare" {
				url, srv = s.bareURL, s.bareSrv
			}
			name := server + "/" + sc + "-wrk"
			s.settle(ctx)
			res, err := s.runWrk(ctx, s.dir, sc, url, srv, i)
			if err != nil {
				return err
			}
			r[name] = res
			fmt.Fprintf(log, "round %d %-20s %s\n", i+1, name, res)
			if res.Errors > 0 {
				return fmt.Errorf("round %d %s: %d errors; the figures of wrk are not comparable", i+1, name, res.Errors)
			}
		}
	}
	return nil
}

// needs reports whether the run name of scenario is to be made: its
// scenario is to be run, or another needs its maximum (the open loops go
// at half of their server's scans; gate scans are measured against bare
// scans).
func (s *suiteFlags) needs(name, scenario string) bool {
	switch {
	case s.runs(scenario):
		return true
	case name == "bare/scan":
		return s.runs("scan-half") || s.runs("gate-scan")
	case name == "tongxin/scan":
		return s.runs("scan-half")
	}
	return false
}

// runs reports whether scenario is to be run.
func (s *suiteFlags) runs(scenario string) bool {
	return s.only == nil || slices.Contains(s.only, scenario)
}

// loadArgs are the options of a generator run of scenario against url
// (scan-half is the scan scenario at a set rate).
func (s *suiteFlags) loadArgs(url, scenario string) []string {
	in := s.inst
	if scenario == "scan-half" {
		scenario = "scan"
	}
	args := []string{"-url", url, "-scenario", scenario, "-duration", s.duration.String(), "-warmup", s.warmup.String()}
	switch scenario {
	case "stats-page", "queue-page":
		return append(args, "-cookie", in.cookie)
	case "scan":
		return append(args, "-token", in.officerToken, "-checkpoint", in.checkpoint, "-pass-token", strings.Join(in.passes, ","),
			"-run-id", strconv.FormatInt(time.Now().UnixNano(), 36))
	case "gate-scan":
		return append(args, "-token", in.gateToken, "-checkpoint", in.gate, "-pass-token", strings.Join(in.gateCodes, ","),
			"-run-id", strconv.FormatInt(time.Now().UnixNano(), 36))
	case "report":
		return append(args, "-token", in.hqToken, "-enterprise", strings.Join(in.enterprises, ","))
	}
	return append(args, "-token", in.hqToken)
}
