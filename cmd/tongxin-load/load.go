package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"tongxin/internal/loadgen"
)

// loadFlags are the options of `run`.
type loadFlags struct {
	url, scenario, mode, token, cookie, checkpoint, passTokens, enterprises, date, runID *string
	rounds, residents                                                                    *string
	rate                                                                                 *float64
	conns, batch                                                                         *int
	duration, warmup, timeout                                                            *time.Duration
	ttfb, asJSON                                                                         *bool
}

func newLoadFlags(fs *flag.FlagSet) loadFlags {
	return loadFlags{
		url:         fs.String("url", "", "the server, http://host:port (required)"),
		scenario:    fs.String("scenario", "", strings.Join(loadgen.Scenarios, " | ")+" (required)"),
		mode:        fs.String("mode", "closed", "open (a constant rate) | closed (workers back to back)"),
		rate:        fs.Float64("rate", 0, "open loop: requests per second"),
		conns:       fs.Int("conns", 16, "closed loop: workers; open loop: the most requests in flight"),
		duration:    fs.Duration("duration", 10*time.Second, "the measured window"),
		warmup:      fs.Duration("warmup", time.Second, "load sent before the window, not measured"),
		timeout:     fs.Duration("timeout", 10*time.Second, "per request"),
		token:       fs.String("token", "", "an API token"),
		cookie:      fs.String("cookie", "", "a session cookie, name=value (instead of -token)"),
		checkpoint:  fs.String("checkpoint", "", "scan: the checkpoint's id"),
		passTokens:  fs.String("pass-token", "", "scan: pass tokens, comma-separated, scanned in turn (gate-scan: resident codes)"),
		enterprises: fs.String("enterprise", "", "report: enterprise keys, comma-separated, filed for in turn"),
		date:        fs.String("date", "", "report: the day, YYYY-MM-DD (default today in China)"),
		runID:       fs.String("run-id", "", "scan, samples-*: makes client ids unique across runs (default: the time)"),
		rounds:      fs.String("round", "", "samples-*: round ids, comma-separated, used one after the other"),
		residents:   fs.String("residents", "", "samples-*: a file of resident code ids (testing_residents.code), one a line, sampled in turn"),
		batch:       fs.Int("batch", loadgen.DefaultSampleBatch, "samples-batch: records a request"),
		ttfb:        fs.Bool("ttfb", false, "latency to the first byte of the answer instead of its last"),
		asJSON:      fs.Bool("json", false, "print the result as JSON"),
	}
}

// config checks the options and makes the run's configuration.
func (f loadFlags) config() (loadgen.Config, error) {
	if *f.url == "" || *f.scenario == "" {
		return loadgen.Config{}, badUsage("-url and -scenario are required")
	}
	mode := loadgen.Mode(*f.mode)
	switch {
	case mode != loadgen.Open && mode != loadgen.Closed:
		return loadgen.Config{}, badUsage("-mode must be open or closed, not %q", *f.mode)
	case mode == loadgen.Open && *f.rate <= 0:
		return loadgen.Config{}, badUsage("-mode open needs -rate above 0")
	case *f.conns < 1:
		return loadgen.Config{}, badUsage("-conns must be at least 1")
	case *f.duration <= 0 || *f.warmup < 0 || *f.timeout <= 0:
		return loadgen.Config{}, badUsage("-duration and -timeout must be above 0, -warmup not below")
	}
	var residents []string
	if *f.residents != "" {
		data, err := os.ReadFile(*f.residents)
		if err != nil {
			return loadgen.Config{}, badUsage("-residents: %v", err)
		}
		residents = strings.Fields(string(data))
	}
	wire, err := loadgen.NewWire(*f.scenario, loadgen.Options{BaseURL: *f.url, Token: *f.token, Cookie: *f.cookie,
		Checkpoint: *f.checkpoint, PassTokens: list(*f.passTokens), RunID: *f.runID, Enterprises: list(*f.enterprises), Date: *f.date,
		Rounds: list(*f.rounds), Residents: residents, Batch: *f.batch})
	if err != nil {
		return loadgen.Config{}, badUsage("%s", strings.TrimPrefix(err.Error(), "loadgen: "))
	}
	return loadgen.Config{Wire: wire, Mode: mode, Rate: *f.rate, Conns: *f.conns, Duration: *f.duration, Warmup: *f.warmup,
		Timeout: *f.timeout, TTFB: *f.ttfb}, nil
}

func list(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// runLoad is `tongxin-load run`.
func runLoad(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("run", stderr)
	f := newLoadFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := f.config()
	if err != nil {
		return err
	}
	res, err := loadgen.Run(ctx, cfg)
	if err != nil {
		return badUsage("%s", strings.TrimPrefix(err.Error(), "loadgen: "))
	}
	if *f.asJSON {
		if err := json.NewEncoder(stdout).Encode(res); err != nil {
			return fmt.Errorf("write the result: %w", err)
		}
	} else {
		fmt.Fprintf(stdout, "%s %s\n", *f.scenario, res)
	}
	if !res.OK() {
		return errFailedRun
	}
	return nil
}

// runBare is `tongxin-load bare`: the bare server until interrupted.
func runBare(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bare", stderr)
	addr := fs.String("addr", "127.0.0.1:0", "the address to listen on")
	getBytes := fs.Int("get-bytes", 138, "bytes of the answer to a GET")
	postBytes := fs.Int("post-bytes", 445, "bytes of the answer to a POST")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *getBytes < 13 || *postBytes < 13 {
		return badUsage("-get-bytes and -post-bytes must be at least 13 (the smallest JSON body it writes)")
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return badUsage("listen on %s: %v", *addr, err)
	}
	srv := &http.Server{Handler: loadgen.BareHandler(loadgen.JSONBody(*getBytes), loadgen.JSONBody(*postBytes)),
		ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "http://%s\n", ln.Addr())
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}
