package importer

import (
	"archive/zip"
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"tongxin/internal/clock"
	"tongxin/internal/errs"
)

// officeBook builds a workbook as an office fills it: an instructions
// sheet first, then the data sheet with a merged title, a 填报单位 line,
// a blank row, the header with a 序号 column, units and a line break, the
// data with full-width digits, and a 备注 column at the end.
func officeBook(t *testing.T) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", "填表说明"); err != nil {
		t.Fatal(err)
	}
	for i, line := range []string{"填表说明", "1. 编码填写区划代码", "2. 名称填写区划名称", "人口填写常住人口"} {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetCellStr("填表说明", cell, line); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.NewSheet("数据"); err != nil {
		t.Fatal(err)
	}
	set := func(cell string, row []any) {
		if err := f.SetSheetRow("数据", cell, &row); err != nil {
			t.Fatal(err)
		}
	}
	set("A1", []any{"2022年区划统计表"})
	if err := f.MergeCell("数据", "A1", "F1"); err != nil {
		t.Fatal(err)
	}
	set("A2", []any{"填报单位：芦淞区", nil, nil, "填报日期：2022-11-20"})
	set("A4", []any{"序号", "编码*", "名称", "上级编码", "人口\n（人）", "说明"})
	set("A5", []any{1, "４３０２０３", "芦淞区", "430200", "２８００００", "城区"})
	set("A6", []any{2, "430204", "石峰区", "430200", 300000})
	buf, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestOfficeLayouts(t *testing.T) {
	t.Run("xlsx", func(t *testing.T) {
		tb, err := Parse(officeBook(t), areaSpec())
		if err != nil {
			t.Fatal(err)
		}
		if len(tb.Rows) != 2 || tb.Rows[0].Num != 5 || tb.Rows[1].Num != 6 {
			t.Fatalf("rows %+v", tb.Rows)
		}
		r := tb.Rows[0]
		if r.Get("code") != "430203" || r.Get("population") != "280000" || r.Get("name") != "芦淞区" {
			t.Errorf("row 5 = %+v", r)
		}
		if !slices.Equal(tb.Ignored, []string{"序号", "说明"}) {
			t.Errorf("ignored %q, want 序号 and 说明", tb.Ignored)
		}
	})
	t.Run("csv with title, blank rows and units", func(t *testing.T) {
		tb, err := Parse([]byte("区划统计表,,\n\n填报单位：市卫健委,,\n序号,编码,名称（全称）,人口(人),备注说明\n1,001,甲,5,x\n"), areaSpec())
		if err != nil {
			t.Fatal(err)
		}
		if len(tb.Rows) != 1 || tb.Rows[0].Num != 5 || tb.Rows[0].Get("name") != "甲" || tb.Rows[0].Get("population") != "5" {
			t.Fatalf("rows %+v", tb.Rows)
		}
		if !slices.Equal(tb.Ignored, []string{"序号", "备注说明"}) {
			t.Errorf("ignored %q", tb.Ignored)
		}
	})
	t.Run("a header below row ten is not looked for", func(t *testing.T) {
		data := []byte("表\n\n\n\n\n\n\n\n\n\n\n编码,名称\n1,a\n")
		e := parseErr(t, data, areaSpec(), errs.Invalid, "import_unknown_column")
		if e.Fields[0].Row != 1 {
			t.Errorf("fields %+v", e.Fields)
		}
	})
	t.Run("ods", func(t *testing.T) {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		w, _ := zw.CreateHeader(&zip.FileHeader{Name: "mimetype", Method: zip.Store})
		_, _ = w.Write([]byte("application/vnd.oasis.opendocument.spreadsheet"))
		_ = zw.Close()
		e := parseErr(t, buf.Bytes(), areaSpec(), errs.Invalid, "import_unreadable")
		if !bytes.Contains([]byte(e.Message), []byte(".ods")) || !bytes.Contains([]byte(e.Message), []byte(".xlsx")) {
			t.Errorf("message %q", e.Message)
		}
	})
}

func TestDatePart(t *testing.T) {
	for in, want := range map[string]string{
		"2022-11-20":          "2022-11-20",
		"2022-11-20 08:30:00": "2022-11-20",
		"2022/11/20 8:30":     "2022/11/20",
		"2022-11-20T08:30:00": "2022-11-20",
		"44885":               "2022-11-20",
		"44885.5":             "2022-11-20",
		"明天":                  "明天",
		"2022-11-20 晚上":       "2022-11-20 晚上",
	} {
		if got := DatePart(in); got != want {
			t.Errorf("DatePart(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestExcelNumber(t *testing.T) {
	for in, want := range map[string]bool{
		"4.30203199001011E+17": true, "4.30203E+17": true, "430203199001011000.0": true,
		"430203199001011000": true, "430203199001011234": false, "43020319900101123X": false, "": false, "12.5": false,
	} {
		if got := ExcelNumber(in); got != want {
			t.Errorf("ExcelNumber(%q) = %v", in, got)
		}
	}
}

// TestWriteBookTypes reads a written workbook back: counts are numbers,
// dates are dates with their formats, text stays text.
func TestWriteBookTypes(t *testing.T) {
	at := time.Date(2022, 11, 20, 17, 5, 9, 0, clock.Shanghai)
	b, err := WriteBook(Sheet{Name: "表", Cols: []Col{{Header: "名称"}, {Header: "人数", Type: Int}, {Header: "比例", Type: Percent},
		{Header: "日期", Type: Date}, {Header: "时间", Type: Second}},
		Rows: [][]any{{"=1+1", 12, 0.5, "2022-11-20", at}, {"乙", nil, nil, "", time.Time{}}}})
	if err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for cell, want := range map[string]excelize.CellType{"A2": excelize.CellTypeInlineString, "B2": excelize.CellTypeUnset,
		"C2": excelize.CellTypeUnset, "D2": excelize.CellTypeUnset, "E2": excelize.CellTypeUnset} {
		if got, _ := f.GetCellType("表", cell); got != want {
			t.Errorf("%s type %v, want %v", cell, got, want)
		}
	}
	for cell, want := range map[string]string{"A2": "=1+1", "B2": "12", "C2": "50.0%", "D2": "2022-11-20", "E2": "2022-11-20 17:05:09"} {
		if got, _ := f.GetCellValue("表", cell); got != want {
			t.Errorf("%s = %q, want %q", cell, got, want)
		}
	}
	if raw, _ := f.GetCellValue("表", "E2", excelize.Options{RawCellValue: true}); raw != "44885.7119097222" && raw[:10] != "44885.7119" {
		t.Errorf("E2 raw %q", raw)
	}
	if v, _ := f.GetCellFormula("表", "A2"); v != "" {
		t.Errorf("A2 is a formula %q", v)
	}
}
