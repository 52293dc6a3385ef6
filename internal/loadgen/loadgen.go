// Package loadgen sends HTTP load from outside a server and measures it:
// an open loop at a constant arrival rate, whose latencies are counted from
// each request's intended send time so that a stalled server cannot hide
// its queue (coordinated omission), and a closed loop of workers sending
// back to back, for the maximum throughput. cmd/tongxin-load is its
// command; docs/benchmarks.md the figures it writes.
package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Mode is how requests are sent.
type Mode string

const (
	// Open sends at a constant rate whatever the answers: request i is
	// due at start + i/Rate, and its latency runs from that moment.
	Open Mode = "open"
	// Closed runs Conns workers, each sending its next request as soon
	// as the last one is answered.
	Closed Mode = "closed"
)

// Target makes request i (0, 1, 2, …); i lets each request carry a
// unique value (a scan's client id, a report's enterprise).
type Target func(i int64) (*http.Request, error)

// Config is one run.
type Config struct {
	Target   Target
	Mode     Mode
	Rate     float64       // open: requests per second
	Conns    int           // closed: workers; open: the most requests in flight (default 64)
	Duration time.Duration // the measured window
	Warmup   time.Duration // sent before the window and not measured
	Timeout  time.Duration // per request (default 10 s)
	// TTFB measures latency to the first byte of the answer instead of
	// its last.
	TTFB bool
	// Compress lets the client ask for gzip (off by default: a load
	// test measures the server, not the client's inflating).
	Compress bool
	// Late is how far behind its intended time an open-loop request
	// may be sent before it counts as late (default 1 ms).
	Late time.Duration
	// Drain is how long an open loop may go on after its window to
	// send the requests it owes (default 2 s); what is left is dropped.
	Drain time.Duration
	// Client replaces the client NewClient would make.
	Client *http.Client
}

// DefaultOpenConns is the default number of open-loop senders.
const DefaultOpenConns = 64

func (c *Config) check() error {
	if c.Target == nil {
		return errors.New("loadgen: no target")
	}
	if c.Duration <= 0 {
		return errors.New("loadgen: duration must be positive")
	}
	if c.Warmup < 0 {
		return errors.New("loadgen: warmup must not be negative")
	}
	switch c.Mode {
	case Open:
		if c.Rate <= 0 {
			return errors.New("loadgen: open loop needs a rate above 0")
		}
		if c.Conns == 0 {
			c.Conns = DefaultOpenConns
		}
	case Closed:
	default:
		return fmt.Errorf("loadgen: unknown mode %q (open or closed)", c.Mode)
	}
	if c.Conns <= 0 {
		return errors.New("loadgen: conns must be at least 1")
	}
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
	if c.Late <= 0 {
		c.Late = time.Millisecond
	}
	if c.Drain <= 0 {
		c.Drain = 2 * time.Second
	}
	return nil
}

// NewClient is one client for a run: keep-alive on, as many idle
// connections kept as there are workers (and no more opened), no
// compression unless asked for.
func NewClient(conns int, compress bool, timeout time.Duration) *http.Client {
	tr := &http.Transport{
		Proxy:               nil,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     conns,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  !compress,
		ForceAttemptHTTP2:   false,
	}
	return &http.Client{Transport: tr, Timeout: timeout}
}

// Run sends the load Config describes and measures it. It returns an
// error for a bad configuration only; failed requests are counted in the
// result.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if err := cfg.check(); err != nil {
		return Result{}, err
	}
	if cfg.Client == nil {
		cfg.Client = NewClient(cfg.Conns, cfg.Compress, cfg.Timeout)
		defer cfg.Client.CloseIdleConnections()
	}
	if cfg.Mode == Open {
		return runOpen(ctx, &cfg), nil
	}
	return runClosed(ctx, &cfg), nil
}
