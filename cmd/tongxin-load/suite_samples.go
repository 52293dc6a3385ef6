package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"tongxin/internal/loadgen"
)

// sampleFlags are the suite's options of the mass-testing scenarios
// (issue 14).
type sampleFlags struct {
	perCommunity int     // residents imported in each of testingCommunities
	batch        int     // samples-batch's records a request, and raw-samples' a transaction
	conns        int     // samples-one's closed-loop clients
	batchConns   int     // samples-batch's
	rate         float64 // samples/s a run is assumed able to reach before one was measured
	// estimate is the samples/s of the last run of each scenario: the
	// rounds made for the next one are for 1.5 times it.
	estimate map[string]float64
	template string // a round raw-samples copies
}

// samplesOneConns is issue 14's number of concurrent clients.
const samplesOneConns = 64

func (f *sampleFlags) define(fs *flag.FlagSet) {
	fs.IntVar(&f.perCommunity, "residents", 25000, "samples-*: residents imported in each of "+strings.Join(testingCommunities, ", "))
	fs.IntVar(&f.batch, "batch", loadgen.DefaultSampleBatch, "samples-batch: records a request (raw-samples: a transaction)")
	fs.IntVar(&f.conns, "sample-conns", samplesOneConns, "samples-one: closed-loop clients (issue 14: 64)")
	fs.IntVar(&f.batchConns, "batch-conns", 4, "samples-batch: closed-loop clients, each with a batch in flight")
	fs.Float64Var(&f.rate, "samples-rate", 100000, "samples-*: samples/s the first run is given rounds for (later runs: 1.5 × the last)")
}

func (f *sampleFlags) check() error {
	switch {
	case f.perCommunity < 1 || f.perCommunity > 50000:
		return badUsage("-residents must be 1 to 50000 (a register file's rows)")
	case f.batch < 1 || f.batch > loadgen.DefaultSampleBatch:
		return badUsage("-batch must be 1 to %d", loadgen.DefaultSampleBatch)
	case f.perCommunity*len(testingCommunities) < f.batch:
		return badUsage("-residents: %d residents do not fill a batch of %d", f.perCommunity*len(testingCommunities), f.batch)
	case f.conns < 1 || f.batchConns < 1:
		return badUsage("-sample-conns and -batch-conns must be at least 1")
	case f.rate <= 0:
		return badUsage("-samples-rate must be above 0")
	}
	f.estimate = map[string]float64{}
	return nil
}

func (s *suiteFlags) runsSamples() bool { return s.runs("samples-one") || s.runs("samples-batch") }

// prepareSamples imports the register and makes the round raw-samples
// copies, when a samples scenario is to run.
func (s *suiteFlags) prepareSamples(ctx context.Context, base string, log io.Writer) error {
	if !s.runsSamples() {
		return nil
	}
	t0 := time.Now()
	if err := s.inst.prepareTesting(ctx, base, s.samples.perCommunity); err != nil {
		return err
	}
	ids, err := s.inst.newRounds(ctx, base, 1)
	if err != nil {
		return err
	}
	s.samples.template = ids[0]
	fmt.Fprintf(log, "mass testing: %d residents imported in %s in %s\n", s.inst.residentCount, strings.Join(testingCommunities, ", "),
		time.Since(t0).Round(time.Millisecond))
	return nil
}

// sampleRuns are a round's mass-testing runs: samples-one (64 clients),
// samples-batch, and its floor raw-samples on the server's core with the
// server idle. Each API run samples in rounds of its own, made before it.
func (s *suiteFlags) sampleRuns(ctx context.Context, r round, i int, log io.Writer) error {
	for _, sc := range []string{"samples-one", "samples-batch"} {
		if !s.runs(sc) {
			continue
		}
		args, err := s.sampleArgs(ctx, sc)
		if err != nil {
			return err
		}
		s.settle(ctx)
		res, err := generate(ctx, s.pin, s.self, s.tongxinSrv, args)
		if err != nil {
			return err
		}
		name := "tongxin/" + sc
		r[name] = res
		s.samples.estimate[sc] = res.ReqPerSec * float64(s.batchOf(sc))
		fmt.Fprintf(log, "round %d %-20s %s\n", i+1, name, res)
		if sc != "samples-batch" {
			continue
		}
		s.settle(ctx)
		res, err = runMeasured(ctx, s.pin.server, s.self, s.tongxinSrv, s.rawSamplesArgs())
		if err != nil {
			return err
		}
		r["raw/samples-batch"] = res
		fmt.Fprintf(log, "round %d %-20s %s\n", i+1, "raw/samples-batch", res)
	}
	return nil
}

// batchOf is the records of a request of scenario.
func (s *suiteFlags) batchOf(scenario string) int {
	if scenario == "samples-batch" {
		return s.samples.batch
	}
	return 1
}

// sampleArgs are the generator's options for a run of scenario, with
// the rounds made for it: enough for 1.5 × the last run's samples/s (or
// -samples-rate) over the warm-up, the window and two seconds more.
func (s *suiteFlags) sampleArgs(ctx context.Context, scenario string) ([]string, error) {
	batch := s.batchOf(scenario)
	rate := s.samples.rate
	if last := s.samples.estimate[scenario]; last > 0 {
		rate = 1.5 * last
	}
	usable := s.inst.residentCount / batch * batch
	k := int(math.Ceil(rate * (s.warmup + s.duration + 2*time.Second).Seconds() / float64(usable)))
	rounds, err := s.inst.newRounds(ctx, s.tongxinURL, max(k, 1))
	if err != nil {
		return nil, err
	}
	conns := s.samples.batchConns
	if scenario == "samples-one" {
		conns = s.samples.conns
	}
	return []string{"-url", s.tongxinURL, "-scenario", scenario, "-duration", s.duration.String(), "-warmup", s.warmup.String(),
		"-mode", "closed", "-conns", strconv.Itoa(conns), "-token", s.inst.testingToken, "-round", strings.Join(rounds, ","),
		"-residents", s.inst.residentsFile, "-batch", strconv.Itoa(batch), "-run-id", strconv.FormatInt(time.Now().UnixNano(), 36)}, nil
}

// rawSamplesArgs are the options of a raw-samples run beside the suite's
// installation.
func (s *suiteFlags) rawSamplesArgs() []string {
	return []string{"raw-samples", "-json", "-db", s.inst.dbURL, "-round", s.samples.template, "-community",
		strings.Join(testingCommunities, ","), "-batch", strconv.Itoa(s.samples.batch), "-duration", s.duration.String(),
		"-warmup", s.warmup.String()}
}

// addSamples are the table's rows of mass testing.
func (r *report) addSamples() {
	s := r.s
	if r.median("tongxin/samples-one", rps) > 0 {
		one := figure{name: fmt.Sprintf("mass testing: single-record samples `POST /api/v1/rounds/{id}/samples`, closed loop of %d: "+
			"samples/s ÷ 5,000/s (each answered once committed)", s.samples.conns), tongxin: r.median("tongxin/samples-one", rps),
			ratioOf: "5,000/s", target: "≥ 1.00 (issue 14: 5,000/s)", floor: 1}
		one.ratio = one.tongxin / 5000
		r.figures = append(r.figures, one, figure{name: "single-record samples, as above: p99", unit: "ms",
			tongxin: r.median("tongxin/samples-one", func(x loadgen.Result) float64 { return float64(x.P99) / 1e6 }),
			target:  "(no target)"})
	}
	n := float64(s.samples.batch)
	rows := func(x loadgen.Result) float64 { return x.ReqPerSec * n }
	if b := r.median("tongxin/samples-batch", rows); b > 0 {
		f := figure{name: fmt.Sprintf("mass testing: batched samples, %d a request, closed loop of %d, ÷ the same rows inserted straight "+
			"into %s by multi-row INSERTs, %d a transaction (`raw-samples`): samples/s", s.samples.batch, s.samples.batchConns, s.database(),
			s.samples.batch),
			tongxin: b, bare: r.median("raw/samples-batch", rows), target: "≥ 0.50", floor: 0.5}
		if f.bare > 0 {
			f.ratio = f.tongxin / f.bare
		}
		r.figures = append(r.figures, f)
	}
}

// samplesNote says, under the table, how the mass-testing rows were
// measured; "" when they were not.
func (r *report) samplesNote() string {
	s := r.s
	if r.median("tongxin/samples-one", rps) == 0 && r.median("tongxin/samples-batch", rps) == 0 {
		return ""
	}
	return fmt.Sprintf("\nThe mass-testing rows (issue 14; \"Mass testing\" below): %d residents imported by `%s` in %s, new rounds "+
		"for every run, each record a new sample; a request counts as an error unless every record of its answer is `created`. "+
		"`raw-samples` runs on the server's core with the server idle.\n", s.inst.residentCount, testingUser,
		strings.Join(testingCommunities, " and "))
}
