package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"tongxin/internal/auth"
	"tongxin/internal/importer"
)

// ContentDisposition is an attachment header carrying a file name: an
// ASCII fallback and the UTF-8 name encoded as RFC 5987/6266 ask, so that
// Chinese names survive every browser.
func ContentDisposition(name string) string {
	fallback := strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' || r == '/' || r == ';' || r == '%' {
			return '_'
		}
		return r
	}, name)
	if fallback == "" {
		fallback = "download"
	}
	var b strings.Builder
	for _, c := range []byte(name) {
		if isAttrChar(c) {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return `attachment; filename="` + fallback + `"; filename*=UTF-8''` + b.String()
}

// isAttrChar reports whether c may stand unencoded in an RFC 5987 value.
func isAttrChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$&+-.^_`|~", c) >= 0
}

// Attachment answers with a file to download.
func Attachment(w http.ResponseWriter, mediaType, name string, b []byte) error {
	h := w.Header()
	h.Set("Content-Type", mediaType)
	h.Set("Content-Disposition", ContentDisposition(name))
	h.Set("Content-Length", strconv.Itoa(len(b)))
	h.Set("Cache-Control", "no-store")
	_, err := w.Write(b)
	return err
}

// Upload answers an import: the body is a CSV or XLSX file (or
// multipart/form-data with a "file" field, importer.ReadUpload), at most
// MaxUploadBody; 200 with what uc makes of it for the caller.
func Upload[T any](w http.ResponseWriter, r *http.Request, uc func(ctx context.Context, p *auth.Principal, data []byte) (T, error)) error {
	p, err := Principal(r)
	if err != nil {
		return err
	}
	data, err := importer.ReadUpload(w, r, MaxUploadBody)
	if err != nil {
		return err
	}
	out, err := uc(r.Context(), p, data)
	if err != nil {
		return err
	}
	return JSON(w, http.StatusOK, out)
}

// ServeTemplate answers an import template download for a logged-in
// caller: ?format=csv|xlsx, xlsx by default.
func ServeTemplate(w http.ResponseWriter, r *http.Request, spec importer.Spec) error {
	if _, err := Principal(r); err != nil {
		return err
	}
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "xlsx"
	}
	b, mediaType, name, err := importer.Template(spec, format, true)
	if err != nil {
		return err
	}
	return Attachment(w, mediaType, name, b)
}
