package importer

import (
	"bytes"
	"encoding/csv"
	"strings"

	"github.com/xuri/excelize/v2"

	"tongxin/internal/errs"
)

// MediaCSV is the media type of the CSV templates.
const MediaCSV = "text/csv; charset=utf-8"

// Template renders an empty import template for spec: the plain Chinese
// headers (no required markers, so the file re-imports cleanly) and, when
// withExample is true, one row of Example values. format is "csv" (UTF-8 with
// BOM so that Excel shows Chinese) or "xlsx" (columns formatted as text so
// that Excel keeps leading zeros of codes). It returns the bytes, the media
// type and a file name like "areas-template.xlsx".
func Template(spec Spec, format string, withExample bool) ([]byte, string, string, error) {
	const op = "importer.Template"
	if _, err := newMatcher(spec); err != nil {
		return nil, "", "", errs.Wrap(op, err)
	}
	header := make([]string, len(spec.Columns))
	example := make([]string, len(spec.Columns))
	for i, c := range spec.Columns {
		header[i], example[i] = c.title(), c.Example
	}
	var rows [][]string
	if withExample {
		rows = [][]string{example}
	}
	base := fileBase(spec.Kind) + "-template."
	switch strings.ToLower(strings.TrimSpace(format)) {
	case "csv":
		var buf bytes.Buffer
		buf.Write(bomUTF8)
		w := csv.NewWriter(&buf)
		w.UseCRLF = true
		_ = w.Write(header)
		_ = w.WriteAll(rows) // flushes; a bytes.Buffer does not fail
		if err := w.Error(); err != nil {
			return nil, "", "", errs.Wrap(op, err)
		}
		return buf.Bytes(), MediaCSV, base + "csv", nil
	case "xlsx":
		b, err := templateXLSX(spec.Kind, header, rows)
		if err != nil {
			return nil, "", "", errs.Wrap(op, err)
		}
		return b, MediaXLSX, base + "xlsx", nil
	}
	return nil, "", "", errs.E(errs.Invalid, "template_format", "模板格式只能是 csv 或 xlsx")
}

// fileBase keeps the ASCII letters, digits, "-" and "_" of kind, for a file
// name that needs no escaping; "import" when nothing is left.
func fileBase(kind string) string {
	b := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return -1
	}, kind)
	if b == "" {
		return "import"
	}
	return b
}

func templateXLSX(kind string, header []string, rows [][]string) ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	name := sheetName(kind)
	if err := f.SetSheetName(f.GetSheetName(0), name); err != nil {
		return nil, err
	}
	if len(header) == 0 {
		buf, err := f.WriteToBuffer()
		if err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	}
	text, err := f.NewStyle(&excelize.Style{NumFmt: 49}) // "@": text
	if err != nil {
		return nil, err
	}
	bold, err := f.NewStyle(&excelize.Style{NumFmt: 49, Font: &excelize.Font{Bold: true}})
	if err != nil {
		return nil, err
	}
	last, err := excelize.ColumnNumberToName(len(header))
	if err != nil {
		return nil, err
	}
	if err := f.SetColStyle(name, "A:"+last, text); err != nil {
		return nil, err
	}
	for i, wd := range columnWidths(header, rows) {
		col, _ := excelize.ColumnNumberToName(i + 1)
		if err := f.SetColWidth(name, col, col, wd); err != nil {
			return nil, err
		}
	}
	if err := f.SetSheetRow(name, "A1", &header); err != nil {
		return nil, err
	}
	if err := f.SetCellStyle(name, "A1", last+"1", bold); err != nil {
		return nil, err
	}
	for n, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, n+2)
		if err := f.SetSheetRow(name, cell, &r); err != nil {
			return nil, err
		}
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
