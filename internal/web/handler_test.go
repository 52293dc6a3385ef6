package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"tongxin/internal/errs"
)

// A problem lists at most MaxProblemErrors details and counts them all,
// including those the error itself no longer holds (errs.Error.Total).
func TestProblemErrorCount(t *testing.T) {
	fields := func(n int) []errs.FieldError {
		out := make([]errs.FieldError, n)
		for i := range out {
			out[i] = errs.FieldError{Row: i + 2, Column: "姓名", Message: fmt.Sprint(i)}
		}
		return out
	}
	for _, tc := range []struct {
		err          *errs.Error
		listed, want int
	}{
		{errs.Rows("import_rejected", "x", fields(3)), 3, 3},
		{errs.Rows("import_rejected", "x", fields(150)), 100, 150},
		{&errs.Error{Kind: errs.Invalid, Code: "import_rejected", Fields: fields(100), Total: 7000}, 100, 7000},
		{errs.E(errs.Invalid, "bad", "x"), 0, 0},
	} {
		p := ProblemOf(tc.err, 400)
		if len(p.Errors) != tc.listed || p.ErrorCount != tc.want {
			t.Errorf("%d fields, Total %d: listed %d, error_count %d", len(tc.err.Fields), tc.err.Total, len(p.Errors), p.ErrorCount)
		}
		b, _ := json.Marshal(p)
		if got := strings.Contains(string(b), `"error_count"`); got != (tc.want > 0) {
			t.Errorf("JSON %s", b)
		}
		re := RowErrorsOf(tc.err)
		if len(re.List) != tc.listed || re.More != tc.want-tc.listed {
			t.Errorf("RowErrorsOf: %d listed, %d more", len(re.List), re.More)
		}
	}
}

// The "request failed" line names the request as the access line does, so
// that an operator finds the error of a request a user reports by its
// X-Request-Id.
func TestRequestFailedLogHasRequestID(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	a := &Adapter{Log: log}
	m := &Middleware{Log: log, Adapter: a}
	h := m.Wrap(a.H(func(w http.ResponseWriter, r *http.Request) error {
		return errs.Wrap("test.fail", errors.New("disk on fire"))
	}))
	for _, sent := range []string{"", "client-chosen-id"} {
		req := httptest.NewRequest(http.MethodGet, "/api/v1/things", nil)
		if sent != "" {
			req.Header.Set("X-Request-Id", sent)
		}
		w := httptest.NewRecorder()
		buf.Reset()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusInternalServerError {
			t.Fatalf("status %d, want 500", w.Code)
		}
		id := w.Header().Get("X-Request-Id")
		if id == "" || (sent != "" && id != sent) {
			t.Fatalf("X-Request-Id %q (sent %q)", id, sent)
		}
		lines := map[string]map[string]any{}
		for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
			var rec map[string]any
			if err := json.Unmarshal([]byte(l), &rec); err != nil {
				t.Fatalf("log line %q: %v", l, err)
			}
			lines[rec["msg"].(string)] = rec
		}
		failed, ok := lines["request failed"]
		if !ok {
			t.Fatalf("no request failed line in %s", buf.String())
		}
		if failed["request_id"] != id || lines["request"]["request_id"] != id {
			t.Errorf("request_id: failed line %v, access line %v, want %q", failed["request_id"], lines["request"]["request_id"], id)
		}
		if e, _ := failed["err"].(string); !strings.Contains(e, "disk on fire") {
			t.Errorf("failed line err %q", e)
		}
	}
}
