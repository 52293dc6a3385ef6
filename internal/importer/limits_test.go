package importer

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"tongxin/internal/errs"
	"tongxin/internal/importer/importtest"
)

// parseErr parses data with spec and returns its error, which must be of
// kind and code; every message in it must echo at most a short prefix of
// a cell (no run of 31 or more "A").
func parseErr(t *testing.T, data []byte, spec Spec, kind errs.Kind, code string) *errs.Error {
	t.Helper()
	_, err := Parse(data, spec)
	e := errs.As(err)
	if e == nil || e.Kind != kind || e.Code != code {
		t.Fatalf("Parse: %v, want %s %q", err, kind, code)
	}
	msgs := []string{e.Message}
	for _, f := range e.Fields {
		msgs = append(msgs, f.Column, f.Message)
	}
	for _, m := range msgs {
		if strings.Contains(m, strings.Repeat("A", echoRunes+1)) || utf8.RuneCountInString(m) > 200 {
			t.Errorf("message echoes too much: %.200q", m)
		}
	}
	return e
}

func book(t *testing.T, b importtest.Book) []byte {
	t.Helper()
	data, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// A ZIP bomb is refused by the sizes its directory declares, at once; one
// whose directory lies is refused once it inflates more than it declared.
func TestXLSXBomb(t *testing.T) {
	spec := areaSpec()
	spec.Columns = append(spec.Columns, Column{Key: "a", Header: "姓名"}, Column{Key: "b", Header: "身份证号"},
		Column{Key: "c", Header: "手机"}, Column{Key: "d", Header: "车牌"}, Column{Key: "e", Header: "区域"},
		Column{Key: "f", Header: "起"}, Column{Key: "g", Header: "止"})
	spec.Columns[0].Required, spec.Columns[1].Required = false, false
	spec.MaxRows = 20000 // as a pass batch
	for _, tc := range []struct {
		name    string
		shape   importtest.Shape
		size    int64
		declare uint64
		code    string
		detail  string
		within  time.Duration // generous: the machine may be busy
	}{
		{"declared", importtest.Cells, 465 << 20, 0, "file_too_large_unzipped", "声明大小", 3 * time.Second},
		{"lying", importtest.Rows, 200 << 20, 1 << 20, "file_too_large_unzipped", "实际内容超过其声明的大小", 3 * time.Second},
		// Inflates and scans 79 MiB: about half a second of one core.
		{"lying within the limit", importtest.Rows, 200 << 20, MaxUnzipped - 1<<20, "file_too_large_unzipped", "实际内容超过其声明的大小", 20 * time.Second},
		{"a row of millions of cells within the limit", importtest.Cells, 70 << 20, 0, "import_too_many_columns", "16384", 20 * time.Second},
		{"millions of rows within the limit", importtest.Rows, 70 << 20, 0, "import_too_many_rows", "20000", 20 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, err := importtest.Bomb(tc.shape, tc.size, tc.declare)
			if err != nil {
				t.Fatal(err)
			}
			if len(data) > 1<<20 {
				t.Fatalf("bomb is %d bytes, want < 1 MiB", len(data))
			}
			kind := errs.Invalid
			if tc.code == "file_too_large_unzipped" {
				kind = errs.TooLarge
			}
			start := time.Now()
			e := parseErr(t, data, spec, kind, tc.code)
			if d := time.Since(start); d > tc.within*raceSlowdown {
				t.Errorf("refused after %v", d)
			}
			if !strings.Contains(e.Message, tc.detail) {
				t.Errorf("message %q, want %q and the limit", e.Message, tc.detail)
			}
		})
	}
}

func sst(items ...string) func(w io.Writer) error {
	return func(w io.Writer) error {
		for _, s := range items {
			if _, err := fmt.Fprintf(w, "<si><t>%s</t></si>", s); err != nil {
				return err
			}
		}
		return nil
	}
}

func rows(rs ...string) func(w io.Writer) error {
	return func(w io.Writer) error {
		_, err := io.WriteString(w, strings.Join(rs, ""))
		return err
	}
}

// A cell over MaxCellRunes is a row error naming row and column; a text
// so long that the XML decoder would have to hold megabytes of it refuses
// the file before it is decoded. Neither repeats more than 30 characters.
func TestLongCells(t *testing.T) {
	header := importtest.SharedRow(1, 0, 1)
	long := strings.Repeat("A", MaxCellRunes+1)
	t.Run("shared string over the cell limit", func(t *testing.T) {
		data := book(t, importtest.Book{Rows: rows(header, importtest.SharedRow(2, 2, 3), importtest.SharedRow(3, 3, 2)),
			Strings: sst("编码", "名称", "001", long)})
		e := parseErr(t, data, areaSpec(), errs.Invalid, "import_cell_too_long")
		if len(e.Fields) != 2 || e.Fields[0].Row != 2 || e.Fields[0].Column != "名称" || e.Fields[1].Row != 3 ||
			!strings.Contains(e.Fields[0].Message, "“"+strings.Repeat("A", echoRunes)+"…”") ||
			!strings.Contains(e.Fields[0].Message, "501 个字") {
			t.Errorf("fields %+v", e.Fields)
		}
	})
	t.Run("inline string over the cell limit", func(t *testing.T) {
		data := book(t, importtest.Book{Rows: rows(importtest.Row(1, "编码", "名称"), importtest.Row(2, "001", "东城区", long))})
		e := parseErr(t, data, areaSpec(), errs.Invalid, "import_cell_too_long")
		if len(e.Fields) != 1 || e.Fields[0].Row != 2 || e.Fields[0].Column != "C" {
			t.Errorf("fields %+v", e.Fields)
		}
	})
	t.Run("ten megabytes in one shared string", func(t *testing.T) {
		data := book(t, importtest.Book{Rows: rows(header, importtest.SharedRow(2, 2, 3)),
			Strings: sst("编码", "名称", "001", strings.Repeat("A", 10<<20))})
		e := parseErr(t, data, areaSpec(), errs.Invalid, "import_cell_too_long")
		if !strings.Contains(e.Message, "“"+strings.Repeat("A", echoRunes)+"…”") {
			t.Errorf("message %q", e.Message)
		}
	})
	t.Run("a shared string of a hundred thousand rich-text runs", func(t *testing.T) {
		runs := strings.Repeat("<r><t>a</t></r>", 100000)
		data := book(t, importtest.Book{Rows: rows(header, importtest.SharedRow(2, 2, 3)),
			Strings: func(w io.Writer) error {
				_, err := io.WriteString(w, "<si><t>编码</t></si><si><t>名称</t></si><si><t>001</t></si><si>"+runs+"</si>")
				return err
			}})
		// Refused by the scan, before excelize decodes the runs (a row
		// error would name the row).
		if e := parseErr(t, data, areaSpec(), errs.Invalid, "import_cell_too_long"); len(e.Fields) != 0 {
			t.Errorf("fields %+v", e.Fields)
		}
	})
	t.Run("CSV cell over the cell limit", func(t *testing.T) {
		e := parseErr(t, []byte("编码,名称\n001,"+long+"\n"), areaSpec(), errs.Invalid, "import_cell_too_long")
		if len(e.Fields) != 1 || e.Fields[0].Row != 2 || e.Fields[0].Column != "名称" {
			t.Errorf("fields %+v", e.Fields)
		}
	})
	t.Run("CSV line of two megabytes", func(t *testing.T) {
		e := parseErr(t, []byte("编码,名称\n001,东城区\n002,"+strings.Repeat("A", 2<<20)+"\n"), areaSpec(), errs.Invalid, "import_cell_too_long")
		if !strings.Contains(e.Message, "第 3 行") {
			t.Errorf("message %q", e.Message)
		}
	})
	t.Run("header cell", func(t *testing.T) {
		_, err := Parse([]byte("编码,"+strings.Repeat("A", 400)+",名称\n001,,东城区\n"), areaSpec())
		e := errs.As(err)
		if e == nil || e.Code != "import_unknown_column" || len(e.Fields) != 1 || utf8.RuneCountInString(e.Fields[0].Column) > echoRunes+1 {
			t.Fatalf("Parse: %v %+v", err, e)
		}
	})
}

func TestTooManyColumns(t *testing.T) {
	cells := make([]string, MaxColumns+1)
	cells[0], cells[1], cells[MaxColumns] = "编码", "名称", "x"
	data := book(t, importtest.Book{Rows: rows(importtest.Row(1, "编码", "名称"), importtest.Row(2, cells...))})
	e := parseErr(t, data, areaSpec(), errs.Invalid, "import_too_many_columns")
	if !strings.Contains(e.Message, "第 2 行") || !strings.Contains(e.Message, "256") {
		t.Errorf("message %q", e.Message)
	}
}

// A shared string table longer than the largest file of the kind could use
// is refused before excelize indexes it.
func TestTooManySharedStrings(t *testing.T) {
	spec := areaSpec()
	spec.MaxRows = 10
	items := make([]string, sharedStringLimit(spec)+1)
	for i := range items {
		items[i] = fmt.Sprint(i)
	}
	items[0], items[1] = "编码", "名称"
	data := book(t, importtest.Book{Rows: rows(importtest.SharedRow(1, 0, 1)), Strings: sst(items...)})
	e := parseErr(t, data, spec, errs.Invalid, "import_too_many_rows")
	if !strings.Contains(e.Message, "10 行") {
		t.Errorf("message %q", e.Message)
	}
	spec.MaxRows = 20
	if _, err := Parse(data, spec); err != nil {
		t.Errorf("within the limit: %v", err)
	}
}

func TestXMLDirectives(t *testing.T) {
	for _, tc := range []struct{ name, rows, code string }{
		{"doctype", `<!DOCTYPE x [<!ENTITY a "b">]>` + importtest.Row(1, "编码", "名称"), "import_unreadable"},
		{"long comment", `<!--` + strings.Repeat("<>", 2<<20) + `-->` + importtest.Row(1, "编码", "名称"), "import_cell_too_long"},
		{"long CDATA", `<![CDATA[` + strings.Repeat("<", 3<<20) + `]]>` + importtest.Row(1, "编码", "名称"), "import_cell_too_long"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parseErr(t, book(t, importtest.Book{Rows: rows(tc.rows)}), areaSpec(), errs.Invalid, tc.code)
		})
	}
	// A short comment and CDATA are fine.
	data := book(t, importtest.Book{Rows: rows(`<!-- <a> -->`, importtest.Row(1, "编码", "名称"), importtest.Row(2, "001", "<![CDATA[东<城]]>"))})
	tbl, err := Parse(data, areaSpec())
	if err != nil || len(tbl.Rows) != 1 || tbl.Rows[0].Get("name") != "东<城" {
		t.Fatalf("Parse: %v %+v", err, tbl)
	}
}

// Errors keeps the first MaxErrors problems by row and counts them all.
func TestErrorsBounded(t *testing.T) {
	var list Errors
	for row := 250; row >= 1; row-- {
		list.Add(row, "名称", "a")
		list.Add(row, "编码", "b")
	}
	got := list.List()
	if list.Len() != 500 || list.Rows() != 250 || len(got) != MaxErrors {
		t.Fatalf("Len %d Rows %d List %d", list.Len(), list.Rows(), len(got))
	}
	for i, f := range got {
		if f.Row != i/2+1 || f.Column != []string{"名称", "编码"}[i%2] {
			t.Fatalf("List[%d] = %+v", i, f)
		}
	}
	e := errs.As(list.Err())
	if e.Total != 500 || len(e.Fields) != MaxErrors || !strings.Contains(e.Message, "250 行") {
		t.Errorf("Err: %+v", e)
	}
}
