package importer

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http/httptest"
	"strings"
	"testing"

	"tongxin/internal/errs"
)

// multipartBody builds a form with the given fields in order; a field named
// "file" or "attachment" is sent as a file.
func multipartBody(t *testing.T, fields [][2]string) (io.Reader, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for _, f := range fields {
		var w io.Writer
		var err error
		if f[0] == "file" || f[0] == "attachment" {
			w, err = mw.CreateFormFile(f[0], "区划.csv")
		} else {
			w, err = mw.CreateFormField(f[0])
		}
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, f[1])
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return &b, mw.FormDataContentType()
}

func TestReadUpload(t *testing.T) {
	csvData := "编码,名称\n110101,东城区\n"
	xlsxData := string(mustTemplate(areaSpec(), "xlsx"))
	form, formType := multipartBody(t, [][2]string{{"mode", "all"}, {"file", csvData}, {"file", "second"}})
	noFile, noFileType := multipartBody(t, [][2]string{{"mode", "all"}, {"attachment", csvData}})
	emptyFile, emptyFileType := multipartBody(t, [][2]string{{"file", ""}})
	bigForm, bigFormType := multipartBody(t, [][2]string{{"file", strings.Repeat("x", 2000)}})
	tests := []struct {
		name  string
		body  io.Reader
		ctype string
		limit int64
		want  string    // the data expected on success
		kind  errs.Kind // else the error
		code  string
	}{
		{"raw CSV", strings.NewReader(csvData), "text/csv; charset=utf-8", 1000, csvData, "", ""},
		{"raw CSV as application/csv", strings.NewReader(csvData), "application/csv", 1000, csvData, "", ""},
		{"raw CSV as text/plain", strings.NewReader(csvData), "text/plain", 1000, csvData, "", ""},
		{"raw XLSX", strings.NewReader(xlsxData), MediaXLSX, 1 << 20, xlsxData, "", ""},
		{"raw octet-stream", strings.NewReader(xlsxData), "application/octet-stream", 1 << 20, xlsxData, "", ""},
		{"no content type", strings.NewReader(csvData), "", 1000, csvData, "", ""},
		{"multipart", form, formType, 1000, csvData, "", ""},
		{"exactly at the limit", strings.NewReader(csvData), "text/csv", int64(len(csvData)), csvData, "", ""},
		{"JSON", strings.NewReader(`{"a":1}`), "application/json", 1000, "", errs.Unsupported, "unsupported_media_type"},
		{"form-urlencoded", strings.NewReader("a=1"), "application/x-www-form-urlencoded", 1000, "", errs.Unsupported, "unsupported_media_type"},
		{"malformed content type", strings.NewReader(csvData), "text/csv; ===", 1000, "", errs.Unsupported, "unsupported_media_type"},
		{"oversized raw", strings.NewReader(strings.Repeat("x", 2000)), "text/csv", 1000, "", errs.TooLarge, "body_too_large"},
		{"oversized multipart", bigForm, bigFormType, 1000, "", errs.TooLarge, "body_too_large"},
		{"multipart without file", noFile, noFileType, 1000, "", errs.Invalid, "import_no_file"},
		{"multipart without boundary", strings.NewReader(csvData), "multipart/form-data", 1000, "", errs.Invalid, "import_unreadable"},
		{"multipart with empty file", emptyFile, emptyFileType, 1000, "", errs.Invalid, "import_empty"},
		{"empty body", strings.NewReader(""), "text/csv", 1000, "", errs.Invalid, "import_empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/api/areas/import", tc.body)
			if tc.ctype != "" {
				r.Header.Set("Content-Type", tc.ctype)
			}
			w := httptest.NewRecorder()
			data, err := ReadUpload(w, r, tc.limit)
			if tc.code == "" {
				if err != nil {
					t.Fatalf("ReadUpload: %v", err)
				}
				if string(data) != tc.want {
					t.Fatalf("data = %.40q, want %.40q", data, tc.want)
				}
				if _, err := Parse(data, areaSpec()); err != nil {
					t.Errorf("Parse(upload): %v", err)
				}
				return
			}
			e := errs.As(err)
			if e == nil || e.Kind != tc.kind || e.Code != tc.code {
				t.Fatalf("ReadUpload = %v; want kind %s code %s", err, tc.kind, tc.code)
			}
			if !hasHan(e.Message) {
				t.Errorf("message %q is not Chinese", e.Message)
			}
		})
	}
}

func TestSizeText(t *testing.T) {
	tests := map[int64]string{10 << 20: "10 MB", 3 << 19: "1.5 MB", 2048: "2 KB", 100: "100 字节"}
	for n, want := range tests {
		if got := sizeText(n); got != want {
			t.Errorf("sizeText(%d) = %q, want %q", n, got, want)
		}
	}
}
