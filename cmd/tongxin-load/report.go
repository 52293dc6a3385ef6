package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"tongxin/internal/loadgen"
)

// The markers between which -write puts the suite's section.
const (
	beginMarker = "<!-- tongxin-load:begin -->"
	endMarker   = "<!-- tongxin-load:end -->"
)

// figure is one row of the table.
type figure struct {
	name, unit      string
	tongxin, bare   float64 // medians of the rounds; bare 0: no bare run
	ratio           float64
	ratioOf, target string // what the ratio divides by when not bare; the target
	// floor and ceiling: the least and the most the target allows of
	// checked, else of the ratio, else of the value; 0: none.
	floor, ceiling float64
	checked        float64 // what the target applies to when neither the ratio nor the value (wrk's agreement)
	// byRound are the ratios of the runs of each round, in order (the
	// runs of a round are seconds apart: how far the machine moved the
	// ratio shows in their spread).
	byRound []float64
}

// verdict is ✔ or ✘ for a figure with a target.
func (f figure) verdict() string {
	v := f.ratio
	if f.checked != 0 {
		v = f.checked
	} else if v == 0 {
		v = f.tongxin
	}
	switch {
	case v == 0 || (f.floor == 0 && f.ceiling == 0):
		return ""
	case (f.floor == 0 || v >= f.floor) && (f.ceiling == 0 || v <= f.ceiling):
		return " ✔"
	}
	return " ✘"
}

// report is what the suite measured, for the terminal and the docs.
type report struct {
	s       *suiteFlags
	rounds  []round
	figures []figure
	at      time.Time
	errors  int64
}

func newReport(s *suiteFlags, rounds []round) *report {
	r := &report{s: s, rounds: rounds, at: time.Now().UTC()}
	p99 := func(x loadgen.Result) float64 { return float64(x.P99) / 1e6 }
	p50 := func(x loadgen.Result) float64 { return float64(x.P50) / 1e6 }
	asked := func(x loadgen.Result) float64 { return x.Rate }
	r.add("`GET /api/v1/me`, closed loop: req/s", "", "me", rps, "≥ 0.60", 0.6, 0)
	r.add("online scan `POST /api/v1/checkpoints/{id}/scans`, closed loop: req/s", "", "scan", rps, "≥ 0.50", 0.5, 0)
	r.add(fmt.Sprintf("online scan at half of each server's own maximum (Tongxin %.0f, bare %.0f req/s), open loop: p99",
		r.median("tongxin/scan-half", asked), r.median("bare/scan-half", asked)), "ms", "scan-half", p99, "≤ 3.00", 0, 3)
	if gate := r.median("tongxin/gate-scan", rps); gate > 0 {
		// The bare handler of the scans: the same answer whatever is scanned.
		f := figure{name: "estate gate scan of resident codes with the zone check (两码查验), `POST /api/v1/checkpoints/{id}/scans`, closed loop, ÷ bare's scan: req/s",
			tongxin: gate, bare: r.median("bare/scan", rps), target: "≥ 0.50", floor: 0.5, byRound: r.byRound("tongxin/gate-scan", "bare/scan", rps)}
		if f.bare > 0 {
			f.ratio = f.tongxin / f.bare
		}
		r.figures = append(r.figures, f)
	}
	raw := figure{name: "report filing `POST /api/v1/enterprises/{key}/reports`, closed loop, ÷ the same rows inserted straight into " +
		r.s.database() + " one per transaction (`raw-report`): reports/s",
		tongxin: r.median("tongxin/report", rps), bare: r.median("raw/report", rps), target: "≥ 0.50", floor: 0.5}
	if raw.bare > 0 {
		raw.ratio = raw.tongxin / raw.bare
	}
	rep := figure{name: "report filing, as above: reports/s ÷ 2,000/s",
		tongxin: r.median("tongxin/report", rps), ratioOf: "2,000/s", target: "≥ 1.00 (issue 3: 2,000/s)", floor: 1}
	rep.ratio = rep.tongxin / 2000
	r.figures = append(r.figures, raw, rep,
		figure{name: "statistics page `/resumption`, one request at a time: time to first byte, p50", unit: "ms",
			tongxin: r.median("tongxin/stats-page", p50), target: "< 200 ms", ceiling: 200},
		figure{name: "ticket queue page `/tickets`, one request at a time: time to first byte, p50", unit: "ms",
			tongxin: r.median("tongxin/queue-page", p50), target: "(no target)"})
	if s.wrk != "" {
		r.addWrk("`GET /api/v1/me`, closed loop, measured by wrk: req/s", "me", 0)
		r.addWrk("online scan `POST /api/v1/checkpoints/{id}/scans`, closed loop, measured by wrk: req/s", "scan", 1)
	}
	r.addSamples()
	for _, rd := range rounds {
		for _, res := range rd {
			r.errors += res.Errors + res.Dropped
		}
	}
	if s.soaked != nil {
		r.errors += s.soaked.run.Errors
	}
	return r
}

// add is a figure measured on both servers, the ratio tongxin ÷ bare.
func (r *report) add(name, unit, run string, pick func(loadgen.Result) float64, target string, floor, ceiling float64) {
	f := figure{name: name, unit: unit, tongxin: r.median("tongxin/"+run, pick), bare: r.median("bare/"+run, pick), target: target,
		floor: floor, ceiling: ceiling, byRound: r.byRound("tongxin/"+run, "bare/"+run, pick)}
	if f.bare > 0 {
		f.ratio = f.tongxin / f.bare
	}
	r.figures = append(r.figures, f)
}

// wrkAgreement is how far wrk's ratio may be from tongxin-load's (issue
// 13: within 10 %).
const wrkAgreement = 0.10

// addWrk is wrk's figure of run beside tongxin-load's, the figures[of]
// row: its ratio checked against that row's.
func (r *report) addWrk(name, run string, of int) {
	f := figure{name: name, tongxin: r.median("tongxin/"+run+"-wrk", rps), bare: r.median("bare/"+run+"-wrk", rps),
		floor: 1 - wrkAgreement, ceiling: 1 + wrkAgreement}
	if f.tongxin == 0 && f.bare == 0 {
		return // not run (-only)
	}
	if f.bare > 0 {
		f.ratio = f.tongxin / f.bare
	}
	own := r.figures[of].ratio
	f.target = fmt.Sprintf("within %.0f %% of tongxin-load's %.2f", wrkAgreement*100, own)
	if own > 0 && f.ratio > 0 {
		f.checked = f.ratio / own
		f.target += fmt.Sprintf(" (×%.2f)", f.checked)
	}
	r.figures = append(r.figures, f)
}

func rps(x loadgen.Result) float64 { return x.ReqPerSec }

// byRound is, for each round with both runs, one figure of run ÷ the
// same of base.
func (r *report) byRound(run, base string, pick func(loadgen.Result) float64) []float64 {
	var v []float64
	for _, rd := range r.rounds {
		t, ok1 := rd[run]
		b, ok2 := rd[base]
		if ok1 && ok2 && pick(b.Result) > 0 {
			v = append(v, pick(t.Result)/pick(b.Result))
		}
	}
	return v
}

// median is the median over the rounds of one figure of a run.
func (r *report) median(run string, pick func(loadgen.Result) float64) float64 {
	var v []float64
	for _, rd := range r.rounds {
		if res, ok := rd[run]; ok {
			v = append(v, pick(res.Result))
		}
	}
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// write prints the table on the terminal.
func (r *report) write(w io.Writer) {
	for _, f := range r.figures {
		if f.tongxin == 0 && f.bare == 0 {
			continue // not run (-only)
		}
		fmt.Fprintf(w, "%-100s tongxin %10s  bare %10s  ratio %6s  %s\n", f.name, f.value(f.tongxin), f.value(f.bare), f.ratioText(), f.target+f.verdict())
	}
	if r.s.soaked != nil {
		fmt.Fprintf(w, "soak: %s\n", r.s.soaked.summary())
	}
	fmt.Fprintf(w, "errors and dropped requests over all runs: %d\n", r.errors)
}

func (f figure) value(v float64) string {
	switch {
	case v == 0:
		return "—"
	case f.unit == "ms":
		return fmt.Sprintf("%.2f ms", v)
	}
	return group(int64(v + 0.5))
}

func (f figure) ratioText() string {
	if f.ratio == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f", f.ratio)
}

// roundsText is the ratios by round, "" for a single round or none.
func (f figure) roundsText() string {
	if len(f.byRound) < 2 {
		return ""
	}
	parts := make([]string, len(f.byRound))
	for i, v := range f.byRound {
		parts[i] = fmt.Sprintf("%.2f", v)
	}
	return "by round " + strings.Join(parts, ", ")
}

// group writes n with a space between thousands, as docs/benchmarks.md does.
func group(n int64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// markdown is the section written between the markers.
func (r *report) markdown() string {
	var b strings.Builder
	s := r.s
	fmt.Fprintf(&b, "Run of %s: `bin/tongxin-load suite %s` — %d rounds, each scenario run on bare and at once on tongxin, each run begun with both servers idle, %s measured after %s of warm-up, "+
		"%d closed-loop connections; medians of the rounds, a ratio the medians' and beside it each round's.\n\n", r.at.Format("2006-01-02 15:04 UTC"), shellJoin(s.command),
		s.rounds, s.duration, s.warmup, s.conns)
	fmt.Fprintf(&b, "Machine: %s, %d cores, %s; %s.\n\n", cpuModel(), runtime.NumCPU(), runtime.Version(), s.pin)
	if s.note != "" {
		fmt.Fprintf(&b, "%s\n\n", s.note)
	}
	b.WriteString("| figure | tongxin | bare | ratio | target |\n|---|---:|---:|---:|---|\n")
	for _, f := range r.figures {
		ratio := f.ratioText()
		if f.ratioOf != "" && f.ratio != 0 {
			ratio += " (÷ " + f.ratioOf + ")"
		}
		ratio = "**" + ratio + "**"
		if rt := f.roundsText(); rt != "" {
			ratio += " (" + rt + ")"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", f.name, f.value(f.tongxin), f.value(f.bare), ratio, f.target+f.verdict())
	}
	if s.wrk != "" {
		fmt.Fprintf(&b, "\nThe wrk rows check the ratios with an independent generator: `wrk -t1 -c%d -d%s --latency` in the same rounds, "+
			"pinned as tongxin-load is, without warm-up (it runs after tongxin-load's runs of the same scenario), on bare and then on tongxin, its Lua script "+
			"sending the same headers and, for scans, a new `client_id` each time; ✔ when its ratio is within %.0f %% of tongxin-load's.\n",
			s.conns, wrkSeconds(s.duration), wrkAgreement*100)
	} else {
		b.WriteString("\nwrk did not run (not installed — Debian package `wrk` — or `-wrk ''`): no independent check of the ratios.\n")
	}
	b.WriteString(r.samplesNote())
	if sk := s.soaked; sk != nil && len(sk.samples) > 0 {
		_, share := sk.growth()
		verdict := "steady ✔"
		if share > soakMaxGrowth {
			verdict = "growing ✘"
		}
		fmt.Fprintf(&b, "\nMemory under load (issue 13: stated, and steady after the first minute): a closed loop of online scans "+
			"for %s (%d connections, %.0f scans/s, %d errors), the server's resident memory read every %s: %s. "+
			"Growth after the first minute %.1f %% (%s, within %.0f %%).\n", s.soakFor, s.conns, sk.run.ReqPerSec, sk.run.Errors,
			soakEvery, sk.summary(), share*100, verdict, soakMaxGrowth*100)
	}
	fmt.Fprintf(&b, "\nErrors and dropped requests over all runs: %d.\n\nEvery run:\n\n```\n", r.errors)
	for i, rd := range r.rounds {
		names := make([]string, 0, len(rd))
		for name := range rd {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			fmt.Fprintf(&b, "round %d %-20s %s\n", i+1, name, rd[name])
		}
	}
	b.WriteString("```\n")
	return b.String()
}

// cpuModel is the first "model name" of /proc/cpuinfo.
func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

// checkMarkers tells whether file holds the markers, begin before end.
func checkMarkers(file string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("-write: %w", err)
	}
	_, _, err = splitMarked(string(data), file)
	return err
}

func splitMarked(text, file string) (before, after string, err error) {
	i := strings.Index(text, beginMarker)
	j := strings.Index(text, endMarker)
	if i < 0 || j < i {
		return "", "", fmt.Errorf("-write %s: no %s … %s markers", file, beginMarker, endMarker)
	}
	return text[:i+len(beginMarker)], text[j:], nil
}

// replaceMarked puts section between the markers of file.
func replaceMarked(file, section string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("-write: %w", err)
	}
	before, after, err := splitMarked(string(data), file)
	if err != nil {
		return err
	}
	if err := os.WriteFile(file, []byte(before+"\n"+section+after), 0o644); err != nil {
		return fmt.Errorf("-write: %w", err)
	}
	return nil
}

// shellJoin writes args as a shell would take them back, quoting those
// with spaces or quotes.
func shellJoin(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = a
		if strings.ContainsAny(a, " '\"$`\\") {
			out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(out, " ")
}
