package loadgen

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// maxErrorTexts is how many error texts a result keeps.
const maxErrorTexts = 5

// recorder is one worker's measurements, merged at the end of a run.
type recorder struct {
	lats   []time.Duration
	errors int64
	texts  []string
	bytes  int64
	late   int64
	behind int64     // late ones whose sender was free before their time
	sent   int64     // all requests sent, measured or not
	last   time.Time // the last measured answer
}

func (r *recorder) add(lat time.Duration, n int64, err error, done time.Time) {
	r.lats = append(r.lats, lat)
	r.bytes += n
	if err != nil {
		r.errors++
		if len(r.texts) < maxErrorTexts {
			r.texts = append(r.texts, err.Error())
		}
	}
	if done.After(r.last) {
		r.last = done
	}
}

// schedule is an open loop's timetable: request i is due at
// start + i/rate.
type schedule struct {
	start, window, end time.Time
	rate               float64
	total, firstInWin  int64 // requests due before end; the first due in the window
}

func newSchedule(cfg *Config, start time.Time) schedule {
	s := schedule{start: start, window: start.Add(cfg.Warmup), rate: cfg.Rate}
	s.end = s.window.Add(cfg.Duration)
	s.total = ceilCount(cfg.Warmup+cfg.Duration, cfg.Rate)
	s.firstInWin = ceilCount(cfg.Warmup, cfg.Rate)
	return s
}

// ceilCount is how many of the instants 0, 1/rate, 2/rate, … fall
// before d.
func ceilCount(d time.Duration, rate float64) int64 {
	n := int64(d.Seconds() * rate)
	if float64(n)/rate < d.Seconds() {
		n++
	}
	return n
}

func (s *schedule) due(i int64) time.Time {
	return s.start.Add(time.Duration(float64(i) / s.rate * float64(time.Second)))
}

// runOpen sends at cfg.Rate with cfg.Conns senders. Each sender takes the
// next request of the timetable, waits for its time if it is early, and
// measures its latency from that time: a request that waited for a free
// sender because the server was slow counts its wait.
func runOpen(ctx context.Context, cfg *Config) Result {
	s := newSchedule(cfg, time.Now())
	ctx, cancel := context.WithDeadline(ctx, s.end.Add(cfg.Drain))
	defer cancel()
	var next atomic.Int64
	recs := make([]recorder, cfg.Conns)
	var wg sync.WaitGroup
	for w := range recs {
		wg.Go(func() { openSender(newConn(ctx, cfg.wire, cfg.Timeout), cfg, &s, &next, &recs[w]) })
	}
	wg.Wait()
	res := merge(recs)
	res.Mode, res.Rate = Open, cfg.Rate
	res.Window = cfg.Duration
	if !res.last.IsZero() && res.last.After(s.window) {
		res.Window = max(res.last.Sub(s.window), cfg.Duration)
	}
	res.ReqPerSec = float64(res.Requests) / res.Window.Seconds()
	res.Dropped = s.total - s.firstInWin - res.Requests
	return res
}

func openSender(c *conn, cfg *Config, s *schedule, next *atomic.Int64, rec *recorder) {
	defer c.close()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		i := next.Add(1) - 1
		if i >= s.total {
			return
		}
		due := s.due(i)
		wait := time.Until(due)
		if wait > 0 {
			timer.Reset(wait)
			select {
			case <-c.ctx.Done():
				return
			case <-timer.C:
			}
		}
		if c.done() {
			return
		}
		measured := i >= s.firstInWin
		if measured && time.Since(due) > cfg.Late {
			rec.late++
			if wait > 0 { // the sender was free before its time
				rec.behind++
			}
		}
		first, n, err := c.do(i)
		rec.sent++
		done := time.Now()
		if !measured {
			continue
		}
		if cfg.TTFB && !first.IsZero() {
			done = first
		}
		rec.add(done.Sub(due), n, err, time.Now())
	}
}

// runClosed runs cfg.Conns workers sending back to back; what starts
// before the window or ends after it is not measured.
func runClosed(ctx context.Context, cfg *Config) Result {
	start := time.Now()
	window := start.Add(cfg.Warmup)
	end := window.Add(cfg.Duration)
	var next atomic.Int64
	recs := make([]recorder, cfg.Conns)
	var wg sync.WaitGroup
	for w := range recs {
		wg.Go(func() { closedWorker(newConn(ctx, cfg.wire, cfg.Timeout), cfg, window, end, &next, &recs[w]) })
	}
	wg.Wait()
	res := merge(recs)
	res.Mode, res.Window = Closed, cfg.Duration
	res.ReqPerSec = float64(res.Requests) / cfg.Duration.Seconds()
	return res
}

func closedWorker(c *conn, cfg *Config, window, end time.Time, next *atomic.Int64, rec *recorder) {
	defer c.close()
	for !c.done() {
		sent := time.Now()
		if !sent.Before(end) {
			return
		}
		first, n, err := c.do(next.Add(1) - 1)
		rec.sent++
		done := time.Now()
		if sent.Before(window) || done.After(end) {
			continue
		}
		lat := done.Sub(sent)
		if cfg.TTFB && !first.IsZero() {
			lat = first.Sub(sent)
		}
		rec.add(lat, n, err, done)
	}
}
