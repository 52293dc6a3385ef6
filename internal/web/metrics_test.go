package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// A made-up method is counted as "other": clients cannot add series.
func TestMetricsMethodLabel(t *testing.T) {
	m := NewMetrics(time.Now())
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.Observe(r.Method, "", http.StatusNotFound, time.Millisecond)
	})
	for _, method := range []string{"FOOBAR", "FOOBAR2", "get", "GET", "OPTIONS"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(method, "/x", nil))
	}
	w := httptest.NewRecorder()
	m.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	out := w.Body.String()
	for _, bad := range []string{"FOOBAR", `method="get"`} {
		if strings.Contains(out, bad) {
			t.Errorf("metrics carry %s:\n%s", bad, out)
		}
	}
	for _, want := range []string{
		`tongxin_http_requests_total{method="other",route="unmatched",status="404"} 3`,
		`tongxin_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`tongxin_http_requests_total{method="OPTIONS",route="unmatched",status="404"} 1`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %s:\n%s", want, out)
		}
	}
}
