package web

import (
	"fmt"
	"io"
	"net/http"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"time"
)

// Metrics counts requests by route and status and times them, and writes
// them in the Prometheus text exposition format. Tongxin keeps this small
// registry instead of a client library: a handful of series, no dependency.
type Metrics struct {
	mu       sync.Mutex
	requests map[reqKey]*reqStat
	started  time.Time
	gauges   []Gauge
}

// Gauge is a value read when metrics are scraped.
type Gauge struct {
	Name, Help string
	Read       func() float64
}

type reqKey struct {
	method, route string
	status        int
}

type reqStat struct {
	count   uint64
	seconds float64
	buckets []uint64 // cumulative counts per latencyBuckets bound
}

var latencyBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// NewMetrics returns an empty registry.
func NewMetrics(started time.Time) *Metrics {
	return &Metrics{requests: map[reqKey]*reqStat{}, started: started}
}

// AddGauge registers a gauge.
func (m *Metrics) AddGauge(g Gauge) {
	m.mu.Lock()
	m.gauges = append(m.gauges, g)
	m.mu.Unlock()
}

// Observe records one request. route is the matched pattern ("" for none).
func (m *Metrics) Observe(method, route string, status int, d time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	if status == 0 {
		status = http.StatusOK
	}
	k := reqKey{metricMethod(method), route, status}
	s := d.Seconds()
	m.mu.Lock()
	st := m.requests[k]
	if st == nil {
		st = &reqStat{buckets: make([]uint64, len(latencyBuckets))}
		m.requests[k] = st
	}
	st.count++
	st.seconds += s
	for i, b := range latencyBuckets {
		if s <= b {
			st.buckets[i]++
		}
	}
	m.mu.Unlock()
}

// metricMethod is the method label: a method a client makes up is
// "other", so that no client can add series at will.
func metricMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return m
	}
	return "other"
}

// ServeHTTP writes the metrics.
func (m *Metrics) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	m.write(w)
}

func (m *Metrics) write(w io.Writer) {
	m.mu.Lock()
	keys := make([]reqKey, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.route != b.route {
			return a.route < b.route
		}
		if a.method != b.method {
			return a.method < b.method
		}
		return a.status < b.status
	})
	fmt.Fprintln(w, "# HELP tongxin_http_requests_total HTTP requests by method, route and status.")
	fmt.Fprintln(w, "# TYPE tongxin_http_requests_total counter")
	for _, k := range keys {
		fmt.Fprintf(w, "tongxin_http_requests_total{method=%q,route=%q,status=\"%d\"} %d\n", k.method, k.route, k.status, m.requests[k].count)
	}
	fmt.Fprintln(w, "# HELP tongxin_http_request_duration_seconds HTTP request latency by method and route.")
	fmt.Fprintln(w, "# TYPE tongxin_http_request_duration_seconds histogram")
	type agg struct {
		count   uint64
		sum     float64
		buckets []uint64
	}
	byRoute := map[[2]string]*agg{}
	var routes [][2]string
	for _, k := range keys {
		rk := [2]string{k.method, k.route}
		a := byRoute[rk]
		if a == nil {
			a = &agg{buckets: make([]uint64, len(latencyBuckets))}
			byRoute[rk] = a
			routes = append(routes, rk)
		}
		st := m.requests[k]
		a.count += st.count
		a.sum += st.seconds
		for i := range st.buckets {
			a.buckets[i] += st.buckets[i]
		}
	}
	for _, rk := range routes {
		a := byRoute[rk]
		for i, b := range latencyBuckets {
			fmt.Fprintf(w, "tongxin_http_request_duration_seconds_bucket{method=%q,route=%q,le=%q} %d\n", rk[0], rk[1], strconv.FormatFloat(b, 'g', -1, 64), a.buckets[i])
		}
		fmt.Fprintf(w, "tongxin_http_request_duration_seconds_bucket{method=%q,route=%q,le=\"+Inf\"} %d\n", rk[0], rk[1], a.count)
		fmt.Fprintf(w, "tongxin_http_request_duration_seconds_sum{method=%q,route=%q} %g\n", rk[0], rk[1], a.sum)
		fmt.Fprintf(w, "tongxin_http_request_duration_seconds_count{method=%q,route=%q} %d\n", rk[0], rk[1], a.count)
	}
	gauges := append([]Gauge(nil), m.gauges...)
	started := m.started
	m.mu.Unlock()

	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Fprintln(w, "# HELP tongxin_goroutines Goroutines now running.\n# TYPE tongxin_goroutines gauge")
	fmt.Fprintf(w, "tongxin_goroutines %d\n", runtime.NumGoroutine())
	fmt.Fprintln(w, "# HELP tongxin_heap_bytes Bytes of allocated heap objects.\n# TYPE tongxin_heap_bytes gauge")
	fmt.Fprintf(w, "tongxin_heap_bytes %d\n", ms.HeapAlloc)
	fmt.Fprintln(w, "# HELP tongxin_start_time_seconds Start time of the process, Unix seconds.\n# TYPE tongxin_start_time_seconds gauge")
	fmt.Fprintf(w, "tongxin_start_time_seconds %d\n", started.Unix())
	for _, g := range gauges {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s gauge\n%s %g\n", g.Name, g.Help, g.Name, g.Name, g.Read())
	}
}
