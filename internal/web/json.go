package web

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"tongxin/internal/clock"
	"tongxin/internal/errs"
)

// Body limits.
const (
	MaxJSONBody   = 1 << 20  // 1 MiB
	MaxUploadBody = 20 << 20 // 20 MiB
)

// DecodeJSON reads a JSON request body into v: the media type must be
// application/json, the body at most 1 MiB, unknown fields and trailing
// data are refused. Every failure is a 4xx with a clear message.
func DecodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	return DecodeJSONLimit(w, r, v, MaxJSONBody)
}

// DecodeJSONLimit is DecodeJSON with another body limit, for the few
// bodies that are lists by design (offline scans uploaded in one batch).
func DecodeJSONLimit(w http.ResponseWriter, r *http.Request, v any, limit int64) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return errs.E(errs.Unsupported, "unsupported_media_type", "请求体须为 JSON（Content-Type: application/json）")
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return jsonError(err)
		}
		return errs.E(errs.Invalid, "bad_json", "请求体在 JSON 之后还有多余内容")
	}
	return nil
}

func jsonError(err error) error {
	var mbe *http.MaxBytesError
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &mbe):
		return errs.Newf(errs.TooLarge, "body_too_large", "请求体超过 %d 字节上限", mbe.Limit)
	case errors.Is(err, io.EOF):
		return errs.E(errs.Invalid, "bad_json", "请求体为空")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errs.E(errs.Invalid, "bad_json", "JSON 不完整")
	case errors.As(err, &se):
		return errs.Newf(errs.Invalid, "bad_json", "JSON 格式错误（第 %d 字节附近）", se.Offset)
	case errors.As(err, &te):
		return &errs.Error{Kind: errs.Invalid, Code: "bad_json", Message: fmt.Sprintf("字段 %s 类型错误，应为 %s", te.Field, te.Type),
			Fields: []errs.FieldError{{Field: te.Field, Message: "类型错误"}}}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &errs.Error{Kind: errs.Invalid, Code: "unknown_field", Message: "未知字段 " + f,
			Fields: []errs.FieldError{{Field: f, Message: "未知字段"}}}
	}
	return errs.E(errs.Invalid, "bad_json", "JSON 无法解析")
}

// PageRequest is a cursor pagination request: ?limit=N&cursor=OPAQUE.
type PageRequest struct {
	Limit  int
	Cursor string // decoded cursor value; "" for the first page
}

// ParsePage reads limit (1–max, default def) and cursor.
func ParsePage(r *http.Request, def, max int) (PageRequest, error) {
	p := PageRequest{Limit: def}
	n, err := QueryInt(r, "limit", def, 1, max)
	if err != nil {
		return p, err
	}
	p.Limit = n
	if c := r.URL.Query().Get("cursor"); c != "" {
		b, err := base64.RawURLEncoding.DecodeString(c)
		if err != nil || len(b) == 0 {
			return p, errs.E(errs.Invalid, "bad_cursor", "cursor 无效")
		}
		p.Cursor = string(b)
	}
	return p, nil
}

// Page is a list answer: items and the cursor of the next page, if any.
type Page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// NewPage builds a page from items fetched with limit+1, using key to make
// the cursor of the last item kept.
func NewPage[T any](items []T, limit int, key func(T) string) Page[T] {
	p := Page[T]{Items: items}
	if p.Items == nil {
		p.Items = []T{}
	}
	if len(items) > limit {
		p.Items = items[:limit]
		p.NextCursor = base64.RawURLEncoding.EncodeToString([]byte(key(items[limit-1])))
	}
	return p
}

// DayRange reads a period of whole days in Asia/Shanghai: from and to are
// "YYYY-MM-DD", inclusive; an empty to is today, an empty from is days
// days before to's end. It returns [from, to) as instants; a bad date is
// 400 bad_period naming the field.
func DayRange(fromS, toS string, now time.Time, days int) (time.Time, time.Time, error) {
	bad := func(field string) error {
		return &errs.Error{Kind: errs.Invalid, Code: "bad_period", Message: "日期格式应为 YYYY-MM-DD",
			Fields: []errs.FieldError{{Field: field, Message: "格式应为 YYYY-MM-DD"}}}
	}
	today := now.In(clock.Shanghai)
	to := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, clock.Shanghai).AddDate(0, 0, 1)
	if toS = strings.TrimSpace(toS); toS != "" {
		d, err := time.ParseInLocation(time.DateOnly, toS, clock.Shanghai)
		if err != nil {
			return time.Time{}, time.Time{}, bad("to")
		}
		to = d.AddDate(0, 0, 1)
	}
	from := to.AddDate(0, 0, -days)
	if fromS = strings.TrimSpace(fromS); fromS != "" {
		d, err := time.ParseInLocation(time.DateOnly, fromS, clock.Shanghai)
		if err != nil {
			return time.Time{}, time.Time{}, bad("from")
		}
		from = d
	}
	return from, to, nil
}

// QueryInt reads an optional integer query parameter within [min, max],
// def when absent; otherwise 400 with code "bad_"+name.
func QueryInt(r *http.Request, name string, def, min, max int) (int, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < min || n > max {
		return 0, errs.Newf(errs.Invalid, "bad_"+name, "%s 须为 %d–%d 的整数", name, min, max)
	}
	return n, nil
}

// PathID reads the positive integer path value name; anything else is
// notFound, as an id that does not exist would be.
func PathID(r *http.Request, name string, notFound error) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, notFound
	}
	return id, nil
}
