package importer

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"

	"tongxin/internal/errs"
)

// DefaultUploadLimit is the body limit ReadUpload applies when given none.
const DefaultUploadLimit = 32 << 20

// rawTypes are the media types accepted for a body that is the file itself.
// Windows browsers label .csv files application/vnd.ms-excel.
var rawTypes = map[string]bool{
	"text/csv":                  true,
	"application/csv":           true,
	"text/plain":                true,
	"text/tab-separated-values": true,
	MediaXLSX:                   true,
	"application/octet-stream":  true,
	"application/vnd.ms-excel":  true,
}

// ReadUpload reads the file of an import request: either the body itself,
// with Content-Type text/csv, application/csv, text/plain, MediaXLSX or
// application/octet-stream (or none), or multipart/form-data with a field
// named "file". The body is limited to limit bytes (DefaultUploadLimit if
// limit <= 0). Errors: over the limit -> Kind TooLarge, code
// "body_too_large"; another Content-Type -> Kind Unsupported, code
// "unsupported_media_type"; multipart without "file" -> Invalid
// "import_no_file"; an empty file -> Invalid "import_empty".
func ReadUpload(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	const op = "importer.ReadUpload"
	if limit <= 0 {
		limit = DefaultUploadLimit
	}
	mt, params := "application/octet-stream", map[string]string(nil)
	if ct := r.Header.Get("Content-Type"); ct != "" {
		var err error
		if mt, params, err = mime.ParseMediaType(ct); err != nil {
			return nil, errs.Wrap(op, errUnsupported())
		}
	}
	if r.Body == nil {
		return nil, errs.Wrap(op, errEmpty())
	}
	body := http.MaxBytesReader(w, r.Body, limit)
	var data []byte
	var err error
	switch {
	case rawTypes[mt]:
		data, err = io.ReadAll(body)
	case mt == "multipart/form-data":
		data, err = readFilePart(body, params["boundary"])
	default:
		return nil, errs.Wrap(op, errUnsupported())
	}
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, errs.Wrap(op, &errs.Error{Kind: errs.TooLarge, Code: "body_too_large",
				Message: "上传的文件太大，最大允许 " + sizeText(limit), Err: err})
		}
		if e := errs.As(err); e != nil {
			return nil, errs.Wrap(op, e)
		}
		return nil, errs.Wrap(op, &errs.Error{Kind: errs.Invalid, Code: "import_unreadable",
			Message: "上传内容读取失败，请重新上传", Err: err})
	}
	if len(data) == 0 {
		return nil, errs.Wrap(op, errEmpty())
	}
	return data, nil
}

func errUnsupported() *errs.Error {
	return errs.E(errs.Unsupported, "unsupported_media_type",
		"不支持的上传格式：请上传 CSV 或 XLSX 文件，或以 multipart/form-data 表单的 file 字段上传")
}

// readFilePart returns the content of the first part named "file".
func readFilePart(body io.Reader, boundary string) ([]byte, error) {
	if boundary == "" {
		return nil, errs.E(errs.Invalid, "import_unreadable", "上传的表单缺少 boundary 参数，无法读取")
	}
	mr := multipart.NewReader(body, boundary)
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, errs.E(errs.Invalid, "import_no_file", "上传的表单中没有名为 file 的文件字段")
		}
		if err != nil {
			return nil, err
		}
		if p.FormName() == "file" {
			return io.ReadAll(p)
		}
		if _, err := io.Copy(io.Discard, p); err != nil {
			return nil, err
		}
	}
}

// sizeText writes a byte count for people: "512 KB", "10 MB".
func sizeText(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d 字节", n)
}
