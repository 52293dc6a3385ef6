package app

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"tongxin/internal/clock"
	"tongxin/internal/db/dbtest"
	"tongxin/internal/importer"
)

// officeSheet writes a workbook as an office makes one: an instructions
// sheet first, then the data sheet with a merged title, a 填报单位 line, a
// blank row, the header (with a 序号 column) on row 5 and the rows.
func officeSheet(t *testing.T, title string, header []string, rows [][]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(f.SetSheetName("Sheet1", "填表说明"))
	must(f.SetCellStr("填表说明", "A1", "填表说明：请勿修改表头；日期写作 2022-11-20；身份证号列请设为文本格式。"))
	_, err := f.NewSheet("数据")
	must(err)
	must(f.SetCellStr("数据", "A1", title))
	last, _ := excelize.ColumnNumberToName(len(header) + 1)
	must(f.MergeCell("数据", "A1", last+"1"))
	must(f.SetSheetRow("数据", "A2", &[]any{"填报单位：株洲市工信局", nil, nil, "填报日期：" + time.Now().In(clock.Shanghai).Format("2006-01-02")}))
	must(f.SetSheetRow("数据", "A4", &[]any{"序号"}))
	must(f.SetSheetRow("数据", "B4", &header))
	stamp, err := f.NewStyle(&excelize.Style{NumFmt: 22}) // m/d/yy h:mm
	must(err)
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+5)
		row := append([]any{i + 1}, r...)
		must(f.SetSheetRow("数据", cell, &row))
		for j, v := range r {
			if _, ok := v.(time.Time); ok {
				c, _ := excelize.CoordinatesToCellName(j+2, i+5)
				must(f.SetCellStyle("数据", c, c, stamp))
			}
		}
	}
	buf, err := f.WriteToBuffer()
	must(err)
	return buf.Bytes()
}

// importAnswer is the part of an import answer these tests read.
type importAnswer struct {
	Accepted       int      `json:"accepted"`
	Created        int      `json:"created"`
	IgnoredColumns []string `json:"ignored_columns"`
	ID             int64    `json:"id"`
	RowCount       int      `json:"row_count"`
	Code           string   `json:"code"`
	Detail         string   `json:"detail"`
	Errors         []struct {
		Row     int    `json:"row"`
		Column  string `json:"column"`
		Message string `json:"message"`
	} `json:"errors"`
}

func decodeAnswer(t *testing.T, r res) importAnswer {
	t.Helper()
	var a importAnswer
	if err := json.Unmarshal(r.body, &a); err != nil {
		t.Fatalf("answer %d %s: %v", r.status, r.body, err)
	}
	return a
}

// Spreadsheets as offices make them import through the real router:
// enterprises (title, 填报单位 line, 序号, units and a line break in a
// header, full-width digits, a landline, 备注), pass batches (an
// instructions sheet first, date cells with a time, and an ID number
// Excel turned into a number), reports written by openpyxl, and an .ods.
func TestOfficeSpreadsheetsImport(t *testing.T) {
	for _, kind := range dbtest.Kinds() {
		t.Run(kind, func(t *testing.T) { officeImports(t, kind) })
	}
}

func officeImports(t *testing.T, kind string) {
	ts := newTestSystem(t, kind)
	admin, contact := ts.tokenFor(t, "admin"), ts.tokenFor(t, "qianjin")
	today := time.Now().In(clock.Shanghai)
	k1, k2 := creditCode("91430203MA4T00001"), creditCode("91430203MA4T00002")
	wide := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' {
			return r + 0xFEE0
		}
		return r
	}, k2)

	t.Run("enterprises", func(t *testing.T) {
		book := officeSheet(t, "2022年规上工业企业名录", []string{"统一社会信用代码", "名称", "区域编码", "类别",
			"职工人数\n（人）", "联系人", "联系电话", "备注"}, [][]any{
			{k1, "建设南路制衣厂", "430203001", "规上工业", 300, "厂办", "0731-22837000", "新增"},
			{wide, "建设南路印刷厂", "430203001", "规上工业", "１２０", "厂办", "139 0733 8123"},
		})
		r := ts.do(t, "POST", "/api/v1/enterprises/import", admin, importer.MediaXLSX, bytes.NewReader(book))
		a := decodeAnswer(t, r)
		if r.status != 200 || a.Created != 2 || !slices.Equal(a.IgnoredColumns, []string{"序号", "备注"}) {
			t.Fatalf("import: %d %s", r.status, r.body)
		}
		r = ts.do(t, "GET", "/api/v1/enterprises/"+k2, admin, "", nil)
		var e struct {
			Employees    int    `json:"employees"`
			ContactPhone string `json:"contact_phone"`
		}
		if json.Unmarshal(r.body, &e) != nil || r.status != 200 || e.Employees != 120 || e.ContactPhone != "139****8123" {
			t.Errorf("enterprise in full-width digits: %d %s", r.status, r.body)
		}
		r = ts.do(t, "GET", "/api/v1/enterprises/"+k1, admin, "", nil)
		if r.status != 200 || !strings.Contains(string(r.body), `"employees":300`) || !strings.Contains(string(r.body), `"contact_phone":"073******7000"`) {
			t.Errorf("enterprise with a landline: %d %s", r.status, r.body)
		}
	})

	passRow := func(i int, id any) []any {
		from := time.Date(today.Year(), today.Month(), today.Day(), 8, 30, 0, 0, time.UTC) // a date cell with a time
		return []any{fmt.Sprintf("工人%d", i), id, fmt.Sprintf("１３９０７３４%04d", i), "", "430211001", from, from.AddDate(0, 0, 20), "夜班"}
	}
	passHeader := []string{"姓名", "身份证号", "手机", "车牌", "区域", "起", "止", "备注"}
	t.Run("pass batch", func(t *testing.T) {
		book := officeSheet(t, "通行证申请表", passHeader, [][]any{
			passRow(1, passIDNumber("430211", "19850301", 901)), passRow(2, passIDNumber("430211", "19850302", 902))})
		r := ts.do(t, "POST", "/api/v1/pass-batches", contact, importer.MediaXLSX, bytes.NewReader(book))
		a := decodeAnswer(t, r)
		if r.status != 201 || a.RowCount != 2 || !slices.Equal(a.IgnoredColumns, []string{"序号", "备注"}) {
			t.Fatalf("upload: %d %s", r.status, r.body)
		}
		r = ts.do(t, "GET", fmt.Sprintf("/api/v1/pass-batches/%d", a.ID), contact, "", nil)
		last := today.AddDate(0, 0, 20).Format("2006-01-02")
		if r.status != 200 || !strings.Contains(string(r.body), `"valid_to":"`+last) && !strings.Contains(string(r.body), last) {
			t.Errorf("batch: %d %s", r.status, r.body)
		}
	})
	t.Run("pass batch page names the ignored columns", func(t *testing.T) {
		cookie := ts.login(t, "qianjin", DemoPassword)
		book := officeSheet(t, "通行证申请表", passHeader, [][]any{passRow(5, passIDNumber("430211", "19850305", 905))})
		var mp bytes.Buffer
		mw := multipart.NewWriter(&mp)
		fw, _ := mw.CreateFormFile("file", "申请表.xlsx")
		fw.Write(book)
		mw.Close()
		r := ts.do(t, "POST", "/pass-batches", "", mw.FormDataContentType(), &mp, "Cookie", cookie, "Sec-Fetch-Site", "same-origin")
		loc := r.header.Get("Location")
		if r.status != 303 || !strings.HasPrefix(loc, "/pass-batches/") || !strings.Contains(loc, "ignored=") {
			t.Fatalf("upload page: %d %s %.300s", r.status, loc, r.body)
		}
		r = ts.do(t, "GET", loc, "", "", nil, "Cookie", cookie)
		if r.status != 200 || !strings.Contains(string(r.body), "导入时忽略了以下列（不属于导入模板）：序号、备注") {
			t.Errorf("batch page: %d %s", r.status, r.body)
		}
	})
	t.Run("an ID number Excel made a number", func(t *testing.T) {
		book := officeSheet(t, "通行证申请表", passHeader, [][]any{
			passRow(3, passIDNumber("430211", "19850303", 903)), passRow(4, 4.30211198503041e+17)})
		r := ts.do(t, "POST", "/api/v1/pass-batches", contact, importer.MediaXLSX, bytes.NewReader(book))
		a := decodeAnswer(t, r)
		if r.status != 400 || a.Code != "import_rejected" || len(a.Errors) != 1 || a.Errors[0].Row != 6 || a.Errors[0].Column != "身份证号" ||
			!strings.Contains(a.Errors[0].Message, "设置该列为文本格式后重新填写") {
			t.Errorf("upload: %d %s", r.status, r.body)
		}
	})

	t.Run("reports written by openpyxl", func(t *testing.T) {
		py := python(t)
		dir := t.TempDir()
		script := filepath.Join(dir, "reports.py")
		file := filepath.Join(dir, "reports.xlsx")
		if err := os.WriteFile(script, []byte(openpyxlReports), 0o600); err != nil {
			t.Fatal(err)
		}
		day := today.Format("2006-01-02")
		if out, err := exec.Command(py, script, file, day, k1, k2).CombinedOutput(); err != nil {
			t.Fatalf("openpyxl: %v %s", err, out)
		}
		book, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		r := ts.do(t, "POST", "/api/v1/resumption/reports/import", admin, importer.MediaXLSX, bytes.NewReader(book))
		a := decodeAnswer(t, r)
		if r.status != 200 || a.Accepted != 2 || !slices.Equal(a.IgnoredColumns, []string{"序号", "填表人"}) {
			t.Fatalf("import: %d %s", r.status, r.body)
		}
		r = ts.do(t, "GET", "/api/v1/enterprises/"+k2+"/reports", admin, "", nil)
		if r.status != 200 || !strings.Contains(string(r.body), `"date":"`+day+`"`) || !strings.Contains(string(r.body), `"staff_on_site":95`) {
			t.Errorf("reports: %d %s", r.status, r.body)
		}
	})

	t.Run("ods", func(t *testing.T) {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		w, _ := zw.CreateHeader(&zip.FileHeader{Name: "mimetype", Method: zip.Store})
		w.Write([]byte("application/vnd.oasis.opendocument.spreadsheet"))
		c, _ := zw.Create("content.xml")
		c.Write([]byte(`<?xml version="1.0"?><office:document-content/>`))
		zw.Close()
		r := ts.do(t, "POST", "/api/v1/resumption/reports/import", admin, "application/octet-stream", &buf)
		a := decodeAnswer(t, r)
		if r.status != 400 || a.Code != "import_unreadable" || !strings.Contains(a.Detail, ".ods") || !strings.Contains(a.Detail, ".xlsx") {
			t.Errorf("ods: %d %s", r.status, r.body)
		}
	})
}

// openpyxlReports writes a reports workbook as LibreOffice or a Python
// script of an office would: a title, a blank row, the header with units
// and a running number, the day as a date-time cell, counts as numbers,
// and a 填表人 column after the data.
const openpyxlReports = `
import datetime, sys
import openpyxl
path, day, k1, k2 = sys.argv[1:5]
d = datetime.datetime.strptime(day, "%Y-%m-%d").replace(hour=9, minute=15)
wb = openpyxl.Workbook()
ws = wb.active
ws.title = "日报"
ws["A1"] = "复工复产日报（" + day + "）"
ws.merge_cells("A1:J1")
ws.append([])
ws.append(["序号", "统一社会信用代码", "日期", "状态", "产能（%）", "应到岗人数（人）", "实到岗人数\n（人）", "闭环生产", "备注", "填表人"])
for i, key in enumerate([k1, k2], start=1):
    ws.append([i, key, d, "已复工", 80, 120, 95, "否", "", "王五"])
    ws.cell(row=ws.max_row, column=3).number_format = "yyyy-mm-dd hh:mm"
wb.save(path)
`
