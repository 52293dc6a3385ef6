package importer

import (
	"fmt"
	"sort"

	"tongxin/internal/errs"
)

// Errors collects per-row errors while a caller validates rows. The zero
// value is ready to use.
type Errors struct{ list []errs.FieldError }

// Add records a problem of the given row (Row.Num) and column (preferably
// the Chinese header, see Spec.HeaderOf).
func (e *Errors) Add(row int, column, message string) {
	e.list = append(e.list, errs.FieldError{Row: row, Column: column, Message: message})
}

// AddCode is Add with a stable code for the problem.
func (e *Errors) AddCode(row int, column, code, message string) {
	e.list = append(e.list, errs.FieldError{Row: row, Column: column, Code: code, Message: message})
}

// Len returns the number of problems recorded.
func (e *Errors) Len() int { return len(e.list) }

// List returns the problems sorted by row, and within a row in the order
// they were added.
func (e *Errors) List() []errs.FieldError {
	out := append([]errs.FieldError(nil), e.list...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Row < out[j].Row })
	return out
}

// Err returns nil when no problem was recorded, else an Invalid error with
// code "import_rejected" that lists them all; N in its message counts rows.
func (e *Errors) Err() error {
	if len(e.list) == 0 {
		return nil
	}
	rows := map[int]bool{}
	for _, f := range e.list {
		rows[f.Row] = true
	}
	return errs.Rows("import_rejected", fmt.Sprintf("导入文件有 %d 行错误，未导入任何数据", len(rows)), e.List())
}
