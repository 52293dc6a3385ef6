package importer

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"

	"tongxin/internal/errs"
)

func areaSpec() Spec {
	return Spec{
		Kind: "areas",
		Columns: []Column{
			{Key: "code", Header: "编码", Aliases: []string{"区划代码"}, Required: true, Example: "0012"},
			{Key: "name", Header: "名称", Aliases: []string{"区划名称"}, Required: true, Example: "东城区"},
			{Key: "parent", Header: "上级编码", Aliases: []string{"parent_code"}, Example: "110100"},
			{Key: "population", Header: "人口", Example: "708829"},
			{Key: "note", Header: "备注", Example: "含“王府井”, 东单"},
		},
	}
}

// want is the expected content of one row.
type want struct {
	num  int
	vals map[string]string
}

func checkTable(t *testing.T, tb *Table, cols []string, rows []want) {
	t.Helper()
	if !slices.Equal(tb.Columns, cols) {
		t.Errorf("Columns = %q, want %q", tb.Columns, cols)
	}
	if len(tb.Rows) != len(rows) {
		t.Fatalf("got %d rows %+v, want %d", len(tb.Rows), tb.Rows, len(rows))
	}
	for i, w := range rows {
		r := tb.Rows[i]
		if r.Num != w.num {
			t.Errorf("row %d: Num = %d, want %d", i, r.Num, w.num)
		}
		for _, k := range areaSpec().Columns {
			if got := r.Get(k.Key); got != w.vals[k.Key] {
				t.Errorf("row %d: Get(%q) = %q, want %q", w.num, k.Key, got, w.vals[k.Key])
			}
		}
	}
}

func gb18030(t *testing.T, s string) []byte {
	t.Helper()
	b, err := simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func utf16le(t *testing.T, s string) []byte {
	t.Helper()
	b, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseCSV(t *testing.T) {
	dongcheng := map[string]string{"code": "110101", "name": "东城区"}
	two := []want{{2, dongcheng}, {3, map[string]string{"code": "110102", "name": "西城区"}}}
	chinese := "编码,名称\n110101,东城区\n110102,西城区\n"
	tests := []struct {
		name string
		data []byte
		cols []string
		rows []want
	}{
		{"chinese headers", []byte(chinese), []string{"code", "name"}, two},
		{"english headers", []byte("code,name\n110101,东城区\n110102,西城区\n"), []string{"code", "name"}, two},
		{"english headers any case, order kept", []byte("Name,CODE\n东城区,110101\n西城区,110102"), []string{"name", "code"}, two},
		{"mixed headers and aliases", []byte("区划代码,name,parent_code,人口\n110101,东城区,110100,708829\n"),
			[]string{"code", "name", "parent", "population"},
			[]want{{2, map[string]string{"code": "110101", "name": "东城区", "parent": "110100", "population": "708829"}}}},
		{"required markers and full-width spaces", []byte("编码*,　名称（必填）　, 人口 (必填)\n110101,东城区,1\n"),
			[]string{"code", "name", "population"},
			[]want{{2, map[string]string{"code": "110101", "name": "东城区", "population": "1"}}}},
		{"BOM and CRLF", append(slices.Clone(bomUTF8), "编码,名称\r\n110101,东城区\r\n110102,西城区\r\n"...), []string{"code", "name"}, two},
		{"GB18030", gb18030(t, chinese), []string{"code", "name"}, two},
		{"GB18030 rare character", gb18030(t, "编码,名称\n110101,𠀾东城区\n"), []string{"code", "name"},
			[]want{{2, map[string]string{"code": "110101", "name": "𠀾东城区"}}}},
		{"UTF-16 with BOM, tab separated", utf16le(t, "编码\t名称\r\n110101\t东城区\r\n110102\t西城区\r\n"), []string{"code", "name"}, two},
		{"semicolon", []byte("编码;名称\n110101;东城区\n110102;西城区\n"), []string{"code", "name"}, two},
		{"semicolon with commas in values", []byte("编码;名称;备注\n110101;东城区;a, b\n"), []string{"code", "name", "note"},
			[]want{{2, map[string]string{"code": "110101", "name": "东城区", "note": "a, b"}}}},
		{"tab", []byte("编码\t名称\n110101\t东城区\n110102\t西城区\n"), []string{"code", "name"}, two},
		{"values trimmed, quotes", []byte("编码,名称,备注\n  110101 ,\"东城区\",\"含\"\"王府井\"\", 东单\"\n"), []string{"code", "name", "note"},
			[]want{{2, map[string]string{"code": "110101", "name": "东城区", "note": "含\"王府井\", 东单"}}}},
		{"short rows and trailing empty cells", []byte("编码,名称,人口,\n110101\n110102,西城区,,,\n"), []string{"code", "name", "population"},
			[]want{{2, map[string]string{"code": "110101"}}, {3, map[string]string{"code": "110102", "name": "西城区"}}}},
		{"header only", []byte("编码,名称\n"), []string{"code", "name"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tb, err := Parse(tc.data, areaSpec())
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			checkTable(t, tb, tc.cols, tc.rows)
		})
	}
}

func TestRowNumbering(t *testing.T) {
	tests := []struct {
		name string
		data string
		nums []int
	}{
		{"blank line in the middle", "编码,名称\n1,a\n\n3,c\n", []int{2, 4}},
		{"several blank and white lines", "编码,名称\n\n1,a\n  \n,\n\r\n5,e\n\n", []int{3, 7}},
		{"blank lines before the header", "\n\n编码,名称\n1,a\n", []int{4}},
		{"multi-line quoted cell", "编码,名称,备注\n1,a,\"line1\nline2\nline3\"\n\n2,b,x\n", []int{2, 4}},
		{"multi-line cell in the middle", "编码,备注,名称\n1,\"x\r\ny\",a\n2,z,b\n", []int{2, 3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tb, err := Parse([]byte(tc.data), areaSpec())
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			var nums []int
			for _, r := range tb.Rows {
				nums = append(nums, r.Num)
			}
			if !slices.Equal(nums, tc.nums) {
				t.Errorf("row numbers = %v, want %v", nums, tc.nums)
			}
		})
	}
}

// makeXLSX builds a workbook whose first sheet has the given rows, starting
// at row 1 (a nil row is left empty), and a second sheet that must be
// ignored.
func makeXLSX(t *testing.T, rows [][]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", "区划"); err != nil {
		t.Fatal(err)
	}
	for i, r := range rows {
		if r == nil {
			continue
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("区划", cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.NewSheet("其他"); err != nil {
		t.Fatal(err)
	}
	if err := f.SetSheetRow("其他", "A1", &[]any{"颜色", "尺寸"}); err != nil {
		t.Fatal(err)
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestParseXLSX(t *testing.T) {
	tests := []struct {
		name string
		rows [][]any
		cols []string
		want []want
	}{
		{"chinese headers, numbers, blank row", [][]any{
			{"编码", "名称", "人口"},
			{"110101", "东城区", 708829},
			nil,
			{"", " ", ""},
			{"110102", "西城区", 1.5},
		}, []string{"code", "name", "population"}, []want{
			{2, map[string]string{"code": "110101", "name": "东城区", "population": "708829"}},
			{5, map[string]string{"code": "110102", "name": "西城区", "population": "1.5"}},
		}},
		{"english and marked headers", [][]any{
			{"Code *", "NAME", nil, "备注"},
			{"0012", "东城区", nil, "a\nb"},
		}, []string{"code", "name", "note"}, []want{
			{2, map[string]string{"code": "0012", "name": "东城区", "note": "a\nb"}},
		}},
		{"header after blank rows", [][]any{nil, nil, {"编码", "名称"}, {"1", "a"}},
			[]string{"code", "name"}, []want{{4, map[string]string{"code": "1", "name": "a"}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tb, err := Parse(makeXLSX(t, tc.rows), areaSpec())
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			checkTable(t, tb, tc.cols, tc.want)
		})
	}
}

func TestParseXLSXDate(t *testing.T) {
	f := excelize.NewFile()
	defer f.Close()
	_ = f.SetSheetRow("Sheet1", "A1", &[]any{"编码", "备注"})
	_ = f.SetCellValue("Sheet1", "A2", "1")
	if err := f.SetCellFloat("Sheet1", "B2", 45296, -1, 64); err != nil { // 2024-01-05
		t.Fatal(err)
	}
	style, err := f.NewStyle(&excelize.Style{NumFmt: 14})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.SetCellStyle("Sheet1", "B2", "B2", style); err != nil {
		t.Fatal(err)
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	tb, err := Parse(buf.Bytes(), Spec{Columns: []Column{{Key: "code", Header: "编码"}, {Key: "note", Header: "备注"}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := tb.Rows[0].Get("note"); got != "2024-01-05" {
		t.Errorf("date cell = %q, want 2024-01-05", got)
	}
}

func TestParseErrors(t *testing.T) {
	type fe struct {
		row int
		col string
	}
	many := "编码,名称\n1,a\n\n2,b\n3,c\n"
	tests := []struct {
		name   string
		data   []byte
		max    int
		code   string
		fields []fe
	}{
		{"empty", nil, 0, "import_empty", nil},
		{"only white space", []byte(" \r\n\t\n"), 0, "import_empty", nil},
		{"only BOM and separators", append(slices.Clone(bomUTF8), ",,,\n , ,\n"...), 0, "import_empty", nil},
		{"empty xlsx sheet", makeXLSX(t, nil), 0, "import_empty", nil},
		{"broken zip", []byte("PK\x03\x04 this is not really a zip file"), 0, "import_unreadable", nil},
		{"old xls", append(slices.Clone(oleMagic), make([]byte, 600)...), 0, "import_unreadable", nil},
		{"binary", []byte{0x89, 'P', 'N', 'G', 0, 0, 0, 0x0d, 0xff, 0xfe, 0xfd}, 0, "import_unreadable", nil},
		{"missing one required", []byte("名称,人口\na,1\n"), 0, "import_missing_column", []fe{{1, "编码"}}},
		{"missing all required", []byte("人口\n1\n"), 0, "import_missing_column", []fe{{1, "编码"}, {1, "名称"}}},
		{"missing, header on row 3", []byte("\n\n名称\na\n"), 0, "import_missing_column", []fe{{3, "编码"}}},
		{"missing in xlsx", makeXLSX(t, [][]any{{"code"}, {"1"}}), 0, "import_missing_column", []fe{{1, "名称"}}},
		{"unknown between known columns", []byte("编码,颜色,名称\n1,red,a\n"), 0, "import_unknown_column", []fe{{1, "颜色"}}},
		{"unknown comes first and missing is listed too", []byte("区号,名称\n1,a\n"), 0, "import_unknown_column",
			[]fe{{1, "区号"}, {1, "编码"}}},
		{"trailing unknown reported when a required column is missing", []byte("名称,颜色\n1,a\n"), 0, "import_unknown_column",
			[]fe{{1, "颜色"}, {1, "编码"}}},
		{"duplicate", []byte("编码,名称,code\n1,a,1\n"), 0, "import_duplicate_column", []fe{{1, "code"}}},
		{"duplicate through alias", []byte("区划名称,编码,名称*\n1,a,1\n"), 0, "import_duplicate_column", []fe{{1, "名称*"}}},
		{"too many rows", []byte(many), 2, "import_too_many_rows", nil},
		{"too many xlsx rows", makeXLSX(t, [][]any{{"编码", "名称"}, {"1", "a"}, {"2", "b"}}), 1, "import_too_many_rows", nil},
		{"cell under no header", []byte("编码,名称\n1,a\n2,北京市,东城区\n3,c,,x\n"), 0, "import_extra_cells",
			[]fe{{3, "C"}, {4, "D"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spec := areaSpec()
			spec.MaxRows = tc.max
			tb, err := Parse(tc.data, spec)
			e := errs.As(err)
			if e == nil {
				t.Fatalf("Parse = %+v, %v; want *errs.Error %s", tb, err, tc.code)
			}
			if e.Kind != errs.Invalid || e.Code != tc.code {
				t.Fatalf("error %v: kind %s code %q, want invalid %q", err, e.Kind, e.Code, tc.code)
			}
			if e.Message == "" || !hasHan(e.Message) {
				t.Errorf("message %q is not Chinese", e.Message)
			}
			var got []fe
			for _, f := range e.Fields {
				got = append(got, fe{f.Row, f.Column})
				if !hasHan(f.Message) {
					t.Errorf("field message %q is not Chinese", f.Message)
				}
			}
			if !slices.Equal(got, tc.fields) {
				t.Errorf("fields = %v, want %v", got, tc.fields)
			}
		})
	}
	t.Run("exactly MaxRows is fine", func(t *testing.T) {
		spec := areaSpec()
		spec.MaxRows = 3
		if tb, err := Parse([]byte(many), spec); err != nil || len(tb.Rows) != 3 {
			t.Fatalf("Parse = %v, %v; want 3 rows", tb, err)
		}
	})
}

func hasHan(s string) bool {
	for _, r := range s {
		if r >= 0x4e00 && r <= 0x9fff {
			return true
		}
	}
	return false
}

func TestSpecConflict(t *testing.T) {
	spec := Spec{Columns: []Column{{Key: "code", Header: "编码"}, {Key: "name", Aliases: []string{"编码 *"}}}}
	_, err := Parse([]byte("编码\n1\n"), spec)
	if errs.KindOf(err) != errs.Internal {
		t.Errorf("Parse with a conflicting spec: %v, want an internal error", err)
	}
	if _, _, _, err := Template(spec, "csv", false); errs.KindOf(err) != errs.Internal {
		t.Errorf("Template with a conflicting spec: %v, want an internal error", err)
	}
}

func TestNormHeader(t *testing.T) {
	tests := map[string]string{
		"编码":                "编码",
		" Code ":            "code",
		"ＣＯＤＥ":              "code",
		"　编码　":              "编码",
		"编码*":               "编码",
		"*编码":               "编码",
		"编码 ＊":              "编码",
		"编码（必填）":            "编码",
		"编码(必填) *":          "编码",
		"contact  \n phone": "contact phone",
		"*":                 "",
		"(必填)":              "",
	}
	for in, want := range tests {
		t.Run(in, func(t *testing.T) {
			if got := normHeader(in); got != want {
				t.Errorf("normHeader(%q) = %q, want %q", in, got, want)
			}
		})
	}
}

func TestTemplateRoundTrip(t *testing.T) {
	spec := areaSpec()
	var keys []string
	example := map[string]string{}
	for _, c := range spec.Columns {
		keys = append(keys, c.Key)
		example[c.Key] = c.Example
	}
	for _, format := range []string{"csv", "xlsx", "XLSX"} {
		for _, withExample := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s example=%v", format, withExample), func(t *testing.T) {
				data, media, name, err := Template(spec, format, withExample)
				if err != nil {
					t.Fatal(err)
				}
				ext := strings.ToLower(format)
				if name != "areas-template."+ext {
					t.Errorf("file name %q", name)
				}
				wantMedia := map[string]string{"csv": MediaCSV, "xlsx": MediaXLSX}[ext]
				if media != wantMedia {
					t.Errorf("media type %q, want %q", media, wantMedia)
				}
				if ext == "csv" {
					if !bytes.HasPrefix(data, bomUTF8) {
						t.Error("CSV template has no BOM")
					}
					if !bytes.HasPrefix(data[3:], []byte("编码,名称,上级编码,人口,备注\r\n")) {
						t.Errorf("CSV header line: %q", data)
					}
				}
				var rows []want
				if withExample {
					rows = []want{{2, example}}
				}
				tb, err := Parse(data, spec)
				if err != nil {
					t.Fatalf("Parse(template): %v", err)
				}
				checkTable(t, tb, keys, rows)
			})
		}
	}
	t.Run("xlsx columns are text", func(t *testing.T) {
		data, _, _, err := Template(spec, "xlsx", false)
		if err != nil {
			t.Fatal(err)
		}
		f, err := excelize.OpenReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		id, err := f.GetColStyle(f.GetSheetName(0), "A")
		if err != nil {
			t.Fatal(err)
		}
		st, err := f.GetStyle(id)
		if err != nil {
			t.Fatal(err)
		}
		if st.NumFmt != 49 {
			t.Errorf("column A number format %d, want 49 (text)", st.NumFmt)
		}
		if got := f.GetSheetName(0); got != "areas" {
			t.Errorf("sheet name %q", got)
		}
	})
	t.Run("bad format", func(t *testing.T) {
		_, _, _, err := Template(spec, "pdf", true)
		if e := errs.As(err); e == nil || e.Kind != errs.Invalid {
			t.Errorf("Template(pdf) = %v, want invalid", err)
		}
	})
	t.Run("kind unfit for a file name", func(t *testing.T) {
		s := spec
		s.Kind = "../区划"
		_, _, name, err := Template(s, "csv", false)
		if err != nil || name != "import-template.csv" {
			t.Errorf("Template = %q, %v", name, err)
		}
	})
}

func TestWriteXLSX(t *testing.T) {
	header := []string{"编码", "名称", "备注"}
	rows := [][]string{
		{"0012", "东城区", "=1+1"},
		{"110102", "西城区"},
		{"110105", "朝阳区", "@SUM(A1)"},
	}
	tests := []struct{ sheet, want string }{
		{"区划", "区划"},
		{"a/b:c", "a_b_c"},
		{"", "Sheet1"},
		{strings.Repeat("长", 40), strings.Repeat("长", 31)},
	}
	for _, tc := range tests {
		t.Run(tc.sheet, func(t *testing.T) {
			data, err := WriteXLSX(tc.sheet, header, rows)
			if err != nil {
				t.Fatal(err)
			}
			f, err := excelize.OpenReader(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if got := f.GetSheetList(); !slices.Equal(got, []string{tc.want}) {
				t.Errorf("sheets %q, want [%q]", got, tc.want)
			}
			got, err := f.GetRows(tc.want)
			if err != nil {
				t.Fatal(err)
			}
			wantRows := append([][]string{header}, rows...)
			if !slices.EqualFunc(got, wantRows, slices.Equal) {
				t.Errorf("rows %q, want %q", got, wantRows)
			}
			if fm, _ := f.GetCellFormula(tc.want, "C2"); fm != "" {
				t.Errorf("C2 became formula %q", fm)
			}
			tb, err := Parse(data, areaSpec())
			if err != nil {
				t.Fatal(err)
			}
			checkTable(t, tb, []string{"code", "name", "note"}, []want{
				{2, map[string]string{"code": "0012", "name": "东城区", "note": "=1+1"}},
				{3, map[string]string{"code": "110102", "name": "西城区"}},
				{4, map[string]string{"code": "110105", "name": "朝阳区", "note": "@SUM(A1)"}},
			})
		})
	}
}

func TestErrors(t *testing.T) {
	var e Errors
	if e.Err() != nil || e.Len() != 0 {
		t.Fatal("empty Errors is not empty")
	}
	e.Add(5, "名称", "不能为空")
	e.Add(2, "编码", "格式有误")
	e.Add(5, "编码", "重复")
	e.Add(2, "人口", "不是数字")
	if e.Len() != 4 {
		t.Errorf("Len = %d", e.Len())
	}
	want := []errs.FieldError{
		{Row: 2, Column: "编码", Message: "格式有误"},
		{Row: 2, Column: "人口", Message: "不是数字"},
		{Row: 5, Column: "名称", Message: "不能为空"},
		{Row: 5, Column: "编码", Message: "重复"},
	}
	if got := e.List(); !slices.Equal(got, want) {
		t.Errorf("List = %+v, want %+v", got, want)
	}
	x := errs.As(e.Err())
	if x == nil || x.Kind != errs.Invalid || x.Code != "import_rejected" {
		t.Fatalf("Err = %v", e.Err())
	}
	if x.Message != "导入文件有 2 行错误，未导入任何数据" {
		t.Errorf("message %q", x.Message)
	}
	if !slices.Equal(x.Fields, want) {
		t.Errorf("fields %+v", x.Fields)
	}
}

func TestSpecHelpers(t *testing.T) {
	s := areaSpec()
	if got := s.HeaderOf("parent"); got != "上级编码" {
		t.Errorf("HeaderOf(parent) = %q", got)
	}
	if got := s.HeaderOf("nope"); got != "nope" {
		t.Errorf("HeaderOf(nope) = %q", got)
	}
	tb, err := Parse([]byte("name,code\na,1\n"), s)
	if err != nil {
		t.Fatal(err)
	}
	if !tb.Has("code") || tb.Has("parent") {
		t.Errorf("Has: columns %q", tb.Columns)
	}
	if got := colName(0) + colName(25) + colName(26) + colName(701) + colName(702); got != "AZAAZZAAA" {
		t.Errorf("colName: %q", got)
	}
}

func FuzzParse(f *testing.F) {
	spec := areaSpec()
	spec.MaxRows = 50
	for _, s := range []string{
		"", "编码,名称\n1,a\n", "code;name\n1;\"a\n\nb\"\n", "编码\t名称\n", "\"", "a,\"b", ",,,\n",
		"编码,名称,x\n", "编码,编码\n", "PK\x03\x04", "\xef\xbb\xbf编码,名称\n1,a,b\n", "\xff\xfe\x00",
	} {
		f.Add([]byte(s))
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.WriteAll([][]string{{"编码", "名称"}, {"1", "a"}})
	f.Add(gb18030Bytes(b.String()))
	f.Add(mustTemplate(spec, "xlsx"))
	f.Add(mustTemplate(spec, "csv"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tb, err := Parse(data, spec)
		if err != nil {
			if e := errs.As(err); e == nil || e.Kind != errs.Invalid || e.Message == "" {
				t.Fatalf("error %v is not an invalid *errs.Error with a message", err)
			}
			return
		}
		keys := map[string]bool{}
		for _, c := range spec.Columns {
			keys[c.Key] = true
		}
		if len(tb.Rows) > spec.MaxRows {
			t.Fatalf("%d rows over MaxRows", len(tb.Rows))
		}
		last := 1
		for _, r := range tb.Rows {
			if r.Num <= last {
				t.Fatalf("row numbers not increasing: %d after %d", r.Num, last)
			}
			last = r.Num
			for k := range maps.Keys(r.values) {
				if !keys[k] {
					t.Fatalf("row has unknown key %q", k)
				}
			}
		}
	})
}

func gb18030Bytes(s string) []byte {
	b, _ := simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(s))
	return b
}

func mustTemplate(spec Spec, format string) []byte {
	b, _, _, err := Template(spec, format, true)
	if err != nil {
		panic(err)
	}
	return b
}
