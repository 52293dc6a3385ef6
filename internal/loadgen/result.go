package loadgen

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Result is what a run measured, over its window (warm-up left out).
// Latencies are exact: every request's duration is kept and sorted.
// Failed requests count in the latencies too: a request that timed out
// after ten seconds must show in the p99.
type Result struct {
	Mode      Mode          `json:"mode"`
	Rate      float64       `json:"rate,omitempty"` // open: the rate asked for
	Requests  int64         `json:"requests"`       // answered or failed in the window
	Errors    int64         `json:"errors"`         // transport errors and answers other than 2xx
	ErrorText []string      `json:"error_text,omitempty"`
	Window    time.Duration `json:"window_ns"` // open: until the last answer, if later than the window's end
	ReqPerSec float64       `json:"req_per_sec"`
	Bytes     int64         `json:"bytes"` // of the answers' bodies
	P50       time.Duration `json:"p50_ns"`
	P95       time.Duration `json:"p95_ns"`
	P99       time.Duration `json:"p99_ns"`
	Max       time.Duration `json:"max_ns"`
	// Late (open loop) counts requests sent more than Config.Late after
	// their time: there was no free sender, or the generator itself was
	// behind. Dropped counts requests of the window never sent before
	// the run's drain time ran out.
	Late    int64 `json:"late,omitempty"`
	Dropped int64 `json:"dropped,omitempty"`
	// Behind counts the late requests whose sender was free and waiting
	// before their time: the generator itself fell behind (its timers,
	// its CPU), not the server. The rest of Late waited for a free
	// sender.
	Behind int64 `json:"behind,omitempty"`
	// Sent counts every request sent, warm-up and window's edges
	// included: the generator's CPU per request is its CPU time ÷ Sent.
	Sent int64 `json:"sent"`

	last time.Time
}

// merge adds up the workers' recorders and computes the percentiles.
func merge(recs []recorder) Result {
	var res Result
	var lats []time.Duration
	for i := range recs {
		r := &recs[i]
		lats = append(lats, r.lats...)
		res.Errors += r.errors
		res.Bytes += r.bytes
		res.Late += r.late
		res.Behind += r.behind
		res.Sent += r.sent
		for _, t := range r.texts {
			if len(res.ErrorText) < maxErrorTexts {
				res.ErrorText = append(res.ErrorText, t)
			}
		}
		if r.last.After(res.last) {
			res.last = r.last
		}
	}
	res.SetLatencies(lats)
	return res
}

// SetLatencies sets the requests and percentiles from every request's
// latency (lats is sorted in place).
func (res *Result) SetLatencies(lats []time.Duration) {
	res.Requests = int64(len(lats))
	slices.Sort(lats)
	res.P50 = Percentile(lats, 50)
	res.P95 = Percentile(lats, 95)
	res.P99 = Percentile(lats, 99)
	res.Max = Percentile(lats, 100)
}

// Percentile is the p-th percentile of sorted by the nearest-rank
// method: the smallest value at least p % of the values do not exceed.
// It is 0 for an empty slice.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	rank := int(p / 100 * float64(n))
	if float64(rank) < p/100*float64(n) {
		rank++
	}
	rank = min(max(rank, 1), n)
	return sorted[rank-1]
}

// OK tells whether the run had no errors and, in an open loop, dropped
// nothing.
func (r Result) OK() bool { return r.Errors == 0 && r.Dropped == 0 }

// String is the result on one line.
func (r Result) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d requests, %.0f req/s", r.Mode, r.Requests, r.ReqPerSec)
	if r.Mode == Open {
		fmt.Fprintf(&b, " (asked %.0f)", r.Rate)
	}
	fmt.Fprintf(&b, ", p50 %s p95 %s p99 %s max %s, errors %d", ms(r.P50), ms(r.P95), ms(r.P99), ms(r.Max), r.Errors)
	if r.Mode == Open {
		fmt.Fprintf(&b, ", late %d (generator behind %d), dropped %d", r.Late, r.Behind, r.Dropped)
	}
	if len(r.ErrorText) > 0 {
		fmt.Fprintf(&b, "; first error: %s", r.ErrorText[0])
	}
	return b.String()
}

// ms writes a duration in milliseconds with three decimals.
func ms(d time.Duration) string { return fmt.Sprintf("%.3fms", float64(d)/float64(time.Millisecond)) }
