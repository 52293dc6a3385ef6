// Package loadgen sends HTTP load from outside a server and measures it:
// an open loop at a constant arrival rate, whose latencies are counted from
// each request's intended send time so that a stalled server cannot hide
// its queue (coordinated omission), and a closed loop of workers sending
// back to back, for the maximum throughput. cmd/tongxin-load is its
// command; docs/benchmarks.md the figures it writes.
package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
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
// unique value (a scan's client id, a report's enterprise). All its
// requests go to the host of request 0. A Wire is the cheaper way to
// say the same (NewWire).
type Target func(i int64) (*http.Request, error)

// Config is one run: its requests are Wire's or, without one, Target's.
type Config struct {
	Wire     *Wire
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
	// Late is how far behind its intended time an open-loop request
	// may be sent before it counts as late (default 1 ms).
	Late time.Duration
	// Drain is how long an open loop may go on after its window to
	// send the requests it owes (default 2 s); what is left is dropped.
	Drain time.Duration

	wire *Wire // Wire, or Target's requests written out
}

// DefaultOpenConns is the default number of open-loop senders.
const DefaultOpenConns = 64

func (c *Config) check() error {
	if c.Wire == nil && c.Target == nil {
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

// Run sends the load Config describes and measures it, each worker on a
// connection of its own (HTTP/1.1, keep-alive; the client is this
// package's: net/http's Client cost the generator about twice the CPU
// per request). It returns an error for a bad configuration only; failed
// requests are counted in the result.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if err := cfg.check(); err != nil {
		return Result{}, err
	}
	cfg.wire = cfg.Wire
	if cfg.wire == nil {
		w, err := targetWire(cfg.Target)
		if err != nil {
			return Result{}, err
		}
		cfg.wire = w
	}
	if cfg.Mode == Open {
		return runOpen(ctx, &cfg), nil
	}
	return runClosed(ctx, &cfg), nil
}

// targetWire is t's requests as a Wire, written out by net/http
// (Request.Write) as they are made; the address and the label are those
// of request 0.
func targetWire(t Target) (*Wire, error) {
	req, err := t(0)
	if err != nil {
		return nil, fmt.Errorf("loadgen: make request 0: %w", err)
	}
	w := &Wire{Addr: req.URL.Host, TLS: req.URL.Scheme == "https", Label: req.Method + " " + req.URL.Path}
	if req.URL.Port() == "" {
		port := "80"
		if w.TLS {
			port = "443"
		}
		w.Addr = net.JoinHostPort(req.URL.Hostname(), port)
	}
	w.Append = func(dst []byte, i int64) ([]byte, error) {
		req, err := t(i)
		if err != nil {
			return dst, err
		}
		b := bytes.NewBuffer(dst)
		err = req.Write(b)
		return b.Bytes(), err
	}
	return w, nil
}
