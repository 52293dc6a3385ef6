package importer

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/xuri/excelize/v2"

	"tongxin/internal/clock"
	"tongxin/internal/errs"
)

// CellType is how an export writes the cells of a column, so that a
// spreadsheet can count, sum and sort them: numbers are number cells,
// dates and times are date cells with a display format, percentages are
// fractions shown with a % format.
type CellType int

// The cell types of an export column.
const (
	Text    CellType = iota // a string, written as text
	Int                     // a whole number (int, int64): a number cell
	Decimal                 // a float64: a number cell shown with two decimals
	Percent                 // a fraction (0.5 is 50%): a number cell shown as 50.0%
	Date                    // a day: a date cell shown as 2022-11-20
	Minute                  // a moment: a date cell shown as 2022-11-20 17:05
	Second                  // a moment: a date cell shown as 2022-11-20 17:05:09
)

// numFmt is the display format of each type ("" for the general one).
var numFmt = map[CellType]string{
	Int:     "0",
	Percent: "0.0%",
	Date:    "yyyy-mm-dd",
	Minute:  "yyyy-mm-dd hh:mm",
	Second:  "yyyy-mm-dd hh:mm:ss",
}

// Col is one column of an exported sheet: its header and the type of its
// cells.
type Col struct {
	Header string
	Type   CellType
}

// Typed is a cell whose type differs from its column's, such as a count
// in the value column of a summary sheet.
type Typed struct {
	Type  CellType
	Value any
}

// Sheet is one sheet of an exported workbook. A row's cells follow Cols;
// a cell may be nil (empty), a string, an int or int64, a float64, a
// time.Time (written as the wall-clock time in Asia/Shanghai), a
// "2006-01-02" string in a Date column, or a Typed. A value that does not
// fit its column's type (text in a number column) is written as text.
type Sheet struct {
	Name string
	Cols []Col
	Rows [][]any
}

// Headers returns the headers of the sheet's columns.
func (s Sheet) Headers() []string {
	h := make([]string, len(s.Cols))
	for i, c := range s.Cols {
		h[i] = c.Header
	}
	return h
}

// WriteXLSX writes one sheet of text cells: every column is Text. Exports
// with numbers or dates use WriteBook so that the cells are typed.
func WriteXLSX(sheet string, header []string, rows [][]string) ([]byte, error) {
	s := Sheet{Name: sheet, Cols: make([]Col, len(header)), Rows: make([][]any, len(rows))}
	for i, h := range header {
		s.Cols[i] = Col{Header: h}
	}
	for i, r := range rows {
		s.Rows[i] = make([]any, len(r))
		for j, v := range r {
			s.Rows[i][j] = v
		}
	}
	return WriteBook(s)
}

// WriteBook writes the sheets as an XLSX workbook: a bold header row, then
// the rows with typed cells (see Sheet). Text is never a formula. Sheet
// names are made acceptable to Excel, and made unique.
func WriteBook(sheets ...Sheet) ([]byte, error) {
	const op = "importer.WriteBook"
	f := excelize.NewFile()
	defer f.Close()
	w := bookWriter{f: f, styles: map[CellType]int{}}
	var err error
	if w.bold, err = f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}}); err != nil {
		return nil, errs.Wrap(op, err)
	}
	used := map[string]bool{}
	for i, s := range sheets {
		name := sheetName(s.Name)
		for n := 2; used[name]; n++ {
			name = sheetName(fmt.Sprintf("%s (%d)", s.Name, n))
		}
		used[name] = true
		if i == 0 {
			err = f.SetSheetName(f.GetSheetName(0), name)
		} else {
			_, err = f.NewSheet(name)
		}
		if err == nil {
			err = w.sheet(name, s)
		}
		if err != nil {
			return nil, errs.Wrap(op, err)
		}
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		return nil, errs.Wrap(op, fmt.Errorf("write workbook: %w", err))
	}
	return buf.Bytes(), nil
}

type bookWriter struct {
	f      *excelize.File
	bold   int
	styles map[CellType]int
}

// style returns the style of a cell of type t (0, the default, for text).
func (w *bookWriter) style(t CellType) (int, error) {
	code := numFmt[t]
	if code == "" {
		return 0, nil
	}
	if id, ok := w.styles[t]; ok {
		return id, nil
	}
	id, err := w.f.NewStyle(&excelize.Style{CustomNumFmt: &code})
	if err != nil {
		return 0, err
	}
	w.styles[t] = id
	return id, nil
}

func (w *bookWriter) sheet(name string, s Sheet) error {
	sw, err := w.f.NewStreamWriter(name)
	if err != nil {
		return err
	}
	text := make([][]string, 0, min(len(s.Rows), 100))
	for i, r := range s.Rows {
		if i == 100 {
			break
		}
		t := make([]string, len(r))
		for j, v := range r {
			t[j] = display(v, colType(s.Cols, j))
		}
		text = append(text, t)
	}
	for i, wd := range columnWidths(s.Headers(), text) {
		if err := sw.SetColWidth(i+1, i+1, wd); err != nil {
			return err
		}
	}
	cells := make([]any, len(s.Cols))
	for i, c := range s.Cols {
		cells[i] = excelize.Cell{StyleID: w.bold, Value: c.Header}
	}
	if err := sw.SetRow("A1", cells); err != nil {
		return err
	}
	for n, r := range s.Rows {
		cells := make([]any, len(r))
		for i, v := range r {
			t := colType(s.Cols, i)
			if tv, ok := v.(Typed); ok {
				t, v = tv.Type, tv.Value
			}
			c, err := w.cell(t, v)
			if err != nil {
				return err
			}
			cells[i] = c
		}
		cell, err := excelize.CoordinatesToCellName(1, n+2)
		if err != nil {
			return err
		}
		if err := sw.SetRow(cell, cells); err != nil {
			return err
		}
	}
	return sw.Flush()
}

func colType(cols []Col, i int) CellType {
	if i < len(cols) {
		return cols[i].Type
	}
	return Text
}

// cell converts a value to what the stream writer writes: a string stays
// text, numbers and moments become numbers with the type's format.
func (w *bookWriter) cell(t CellType, v any) (any, error) {
	num, ok := number(t, v)
	if !ok {
		switch v := v.(type) {
		case nil:
			return nil, nil
		case string:
			return v, nil
		case time.Time:
			if v.IsZero() {
				return nil, nil
			}
			return v.In(clock.Shanghai).Format("2006-01-02 15:04:05"), nil
		}
		return fmt.Sprint(v), nil
	}
	style, err := w.style(t)
	if err != nil {
		return nil, err
	}
	return excelize.Cell{StyleID: style, Value: num}, nil
}

// number is the numeric value of v as a cell of type t, false when v is
// no number or moment, or t is Text.
func number(t CellType, v any) (float64, bool) {
	if t == Text {
		return 0, false
	}
	switch v := v.(type) {
	case int:
		return float64(v), true
	case int64:
		return float64(v), true
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, false
		}
		return v, true
	case time.Time:
		if v.IsZero() {
			return 0, false
		}
		return excelSerial(v), true
	case string:
		if t == Date {
			if d, err := time.ParseInLocation(time.DateOnly, v, clock.Shanghai); err == nil {
				return excelSerial(d), true
			}
		}
	}
	return 0, false
}

// excelEpoch is day 0 of Excel's 1900 date system (which counts the
// 29th of February 1900 that never was, hence the 30th of December).
var excelEpoch = time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)

// excelSerial is t's wall-clock time in Asia/Shanghai as an Excel date
// serial: days since the epoch, the time of day as the fraction, rounded
// to the millisecond.
func excelSerial(t time.Time) float64 {
	l := t.In(clock.Shanghai)
	wall := time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), l.Nanosecond(), time.UTC)
	ms := wall.Sub(excelEpoch).Milliseconds()
	return float64(ms) / float64(24*time.Hour/time.Millisecond)
}

// display is how a cell reads, for sizing its column.
func display(v any, t CellType) string {
	if tv, ok := v.(Typed); ok {
		t, v = tv.Type, tv.Value
	}
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case int:
		return strconv.Itoa(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		if t == Percent {
			return strconv.FormatFloat(v*100, 'f', 1, 64) + "%"
		}
		return strconv.FormatFloat(v, 'f', -1, 64)
	case time.Time:
		switch t {
		case Date:
			return "2006-01-02"
		case Second:
			return "2006-01-02 15:04:05"
		}
		return "2006-01-02 15:04"
	}
	return fmt.Sprint(v)
}
