package importer

import (
	"bytes"
	"strings"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/width"

	"tongxin/internal/errs"
)

// MediaXLSX is the media type of XLSX files.
const MediaXLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

func errUnreadableXLSX() *errs.Error {
	return errs.E(errs.Invalid, "import_unreadable",
		"无法读取 XLSX 文件，文件可能已损坏或设置了密码，请用 Excel 另存后再导入")
}

// readXLSX calls fn with each row of the data sheet of the workbook (the
// first whose header names the most columns, see dataSheet) and its row
// number. Cells are read as Excel displays them, except that dates in the
// default short date format come out as yyyy-mm-dd. The workbook is checked
// first (checkXLSX); the sheet is then read as a stream, from a temporary
// file when it is larger than xmlInMemory.
func readXLSX(data []byte, spec Spec, score func(cells []string) int, fn func(num int, cells []string) error) (err error) {
	if err := checkXLSX(data, spec); err != nil {
		return err
	}
	defer func() {
		// The workbook is untrusted input to a large parser: a panic in it
		// is an unreadable file, not a crash.
		if p := recover(); p != nil {
			err = errUnreadableXLSX()
		}
	}()
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{
		UnzipSizeLimit:    MaxUnzipped,
		UnzipXMLSizeLimit: xmlInMemory,
		ShortDatePattern:  "yyyy-mm-dd",
	})
	if err != nil {
		return errUnreadableXLSX()
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return errUnreadableXLSX()
	}
	rows, err := f.Rows(dataSheet(f, sheets, score))
	if err != nil {
		return errUnreadableXLSX()
	}
	defer rows.Close()
	for num := 1; rows.Next(); num++ {
		cells, err := rows.Columns()
		if err != nil {
			return errUnreadableXLSX()
		}
		if err := fn(num, cells); err != nil {
			return err
		}
	}
	if rows.Error() != nil {
		return errUnreadableXLSX()
	}
	return nil
}

// sheetName makes name acceptable to Excel: no []:*?/\ characters, no
// apostrophe at either end, at most 31 characters, "Sheet1" when empty.
func sheetName(name string) string {
	name = strings.Map(func(r rune) rune {
		if strings.ContainsRune(`[]:*?/\`, r) || r < ' ' {
			return '_'
		}
		return r
	}, name)
	name = strings.Trim(strings.TrimSpace(name), "'")
	if r := []rune(name); len(r) > 31 {
		name = string(r[:31])
	}
	if name == "" {
		return "Sheet1"
	}
	return name
}

// textWidth estimates the width of s in Excel column units: East Asian wide
// characters count double.
func textWidth(s string) int {
	n := 0
	for _, r := range s {
		switch width.LookupRune(r).Kind() {
		case width.EastAsianWide, width.EastAsianFullwidth:
			n += 2
		default:
			n++
		}
	}
	return n
}

// columnWidths sizes each column to its header and the first rows, within
// reasonable bounds.
func columnWidths(header []string, rows [][]string) []float64 {
	w := make([]int, len(header))
	measure := func(cells []string) {
		for i, c := range cells {
			if i < len(w) {
				w[i] = max(w[i], textWidth(c))
			}
		}
	}
	measure(header)
	for i, r := range rows {
		if i == 100 {
			break
		}
		measure(r)
	}
	out := make([]float64, len(w))
	for i, n := range w {
		out[i] = float64(min(max(n+2, 10), 60))
	}
	return out
}

// maxSheetsScanned bounds the sheets looked at for the data sheet.
const maxSheetsScanned = 20

// dataSheet is the sheet whose first rows name the most columns (by
// score): an instructions sheet before the data sheet is passed over. The
// first sheet when none names any.
func dataSheet(f *excelize.File, sheets []string, score func(cells []string) int) string {
	best, bestScore := sheets[0], 0
	for _, name := range sheets[:min(len(sheets), maxSheetsScanned)] {
		if s := headerScore(f, name, score); s > bestScore {
			best, bestScore = name, s
		}
	}
	return best
}

// headerScore is the best score of the first headerScan rows of a sheet.
func headerScore(f *excelize.File, sheet string, score func(cells []string) int) int {
	rows, err := f.Rows(sheet)
	if err != nil {
		return 0
	}
	defer rows.Close()
	best := 0
	for n := 0; n < headerScan && rows.Next(); n++ {
		cells, err := rows.Columns()
		if err != nil {
			return best
		}
		best = max(best, score(cells))
	}
	return best
}
