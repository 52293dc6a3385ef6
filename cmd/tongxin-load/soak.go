package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// The soak: after the rounds, a closed loop of online scans for -soak
// (issue 13: ten minutes) while the server's resident memory is read every
// soakEvery, to state it and to see whether it grows after the first
// minute.
const soakEvery = 10 * time.Second

// rssSample is the server's resident memory at a moment of the soak.
type rssSample struct {
	at  time.Duration // since the soak began
	rss int64         // bytes
}

// soakResult is what the soak measured.
type soakResult struct {
	run     measured
	samples []rssSample
}

// soak runs the closed loop of scans and samples the server's RSS.
func (s *suiteFlags) soak(ctx context.Context, log io.Writer) (*soakResult, error) {
	pid := s.tongxinSrv.cmd.Process.Pid
	res := &soakResult{}
	done := make(chan struct{})
	sampled := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(sampled)
		t := time.NewTicker(soakEvery)
		defer t.Stop()
		for {
			if rss, ok := residentBytes(pid); ok {
				res.samples = append(res.samples, rssSample{time.Since(start), rss})
			}
			select {
			case <-done:
				if rss, ok := residentBytes(pid); ok {
					res.samples = append(res.samples, rssSample{time.Since(start), rss})
				}
				return
			case <-t.C:
			}
		}
	}()
	fmt.Fprintf(log, "soak: scans for %s, the server's RSS every %s\n", s.soakFor, soakEvery)
	args := append(s.loadArgs(s.tongxinURL, "scan"), "-mode", "closed", "-conns", strconv.Itoa(s.conns), "-duration", s.soakFor.String(),
		"-warmup", "0s")
	run, err := generate(ctx, s.pin, s.self, s.tongxinSrv, args)
	close(done)
	<-sampled
	if err != nil {
		return nil, err
	}
	res.run = run
	fmt.Fprintf(log, "soak %s; %s\n", run, res.summary())
	return res, nil
}

// residentBytes is VmRSS of /proc/PID/status.
func residentBytes(pid int) (int64, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, false
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err == nil
		}
	}
	return 0, false
}

// at is the last sample taken at or before d (the first if none).
func (r *soakResult) at(d time.Duration) rssSample {
	out := r.samples[0]
	for _, x := range r.samples {
		if x.at <= d {
			out = x
		}
	}
	return out
}

// growth is the RSS at the end against the highest RSS of the first
// minute, in bytes and as a share of it.
func (r *soakResult) growth() (int64, float64) {
	first := r.at(time.Minute)
	var base int64
	for _, x := range r.samples {
		if x.at <= first.at {
			base = max(base, x.rss)
		}
	}
	last := r.samples[len(r.samples)-1]
	if base == 0 {
		return 0, 0
	}
	return last.rss - base, float64(last.rss-base) / float64(base)
}

func mib(b int64) string { return strconv.FormatFloat(float64(b)/(1<<20), 'f', 1, 64) + " MiB" }

// summary is the soak in one sentence.
func (r *soakResult) summary() string {
	if len(r.samples) == 0 {
		return "no RSS samples (/proc not readable)"
	}
	var peak int64
	for _, x := range r.samples {
		peak = max(peak, x.rss)
	}
	g, share := r.growth()
	last := r.samples[len(r.samples)-1]
	return fmt.Sprintf("server RSS %s at the start, %s after the first minute, %s at the end (%s), peak %s; after the first minute %+.1f MiB (%+.1f %%)",
		mib(r.samples[0].rss), mib(r.at(time.Minute).rss), mib(last.rss), last.at.Round(time.Second), mib(peak),
		float64(g)/(1<<20), share*100)
}

// soakMaxGrowth is how much the RSS may grow after the first minute and
// still be called steady.
const soakMaxGrowth = 0.10
