package importer

import (
	"fmt"
	"sort"

	"tongxin/internal/errs"
)

// Errors collects per-row errors while a caller validates rows. It keeps
// the first MaxErrors problems by row and counts all of them, so that a
// file with a problem in every cell costs no more than one with a hundred.
// The zero value is ready to use.
type Errors struct {
	list []errs.FieldError // sorted by row, at most MaxErrors
	n    int
	rows map[int]bool
}

// Add records a problem of the given row (Row.Num) and column (preferably
// the Chinese header, see Spec.HeaderOf).
func (e *Errors) Add(row int, column, message string) {
	e.AddCode(row, column, "", message)
}

// AddCode is Add with a stable code for the problem.
func (e *Errors) AddCode(row int, column, code, message string) {
	e.n++
	if e.rows == nil {
		e.rows = map[int]bool{}
	}
	e.rows[row] = true
	if len(e.list) == MaxErrors && e.list[MaxErrors-1].Row <= row {
		return
	}
	// Insert after every problem of the same or an earlier row.
	i := sort.Search(len(e.list), func(i int) bool { return e.list[i].Row > row })
	if len(e.list) < MaxErrors {
		e.list = append(e.list, errs.FieldError{})
	}
	copy(e.list[i+1:], e.list[i:])
	e.list[i] = errs.FieldError{Row: row, Column: column, Code: code, Message: message}
}

// Len returns the number of problems recorded.
func (e *Errors) Len() int { return e.n }

// Rows returns the number of distinct rows with a problem.
func (e *Errors) Rows() int { return len(e.rows) }

// List returns the first MaxErrors problems, sorted by row, and within a
// row in the order they were added; Len counts them all.
func (e *Errors) List() []errs.FieldError {
	return append([]errs.FieldError(nil), e.list...)
}

// Err returns nil when no problem was recorded, else an Invalid error with
// code "import_rejected" that lists the first MaxErrors of them, with
// Total counting all; N in its message counts rows.
func (e *Errors) Err() error {
	if e.n == 0 {
		return nil
	}
	return e.err("import_rejected", fmt.Sprintf("导入文件有 %d 行错误，未导入任何数据", len(e.rows)))
}

func (e *Errors) err(code, msg string) *errs.Error {
	err := errs.Rows(code, msg, e.List())
	err.Total = e.n
	return err
}
