package web

import (
	"encoding/json"
	"fmt"
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
