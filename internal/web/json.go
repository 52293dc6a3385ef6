package web

import (
	"bytes"
	"encoding"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
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
	if ct := r.Header.Get("Content-Type"); ct != "application/json" && ct != "application/json; charset=utf-8" { // the usual two, without parsing
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return errs.E(errs.Unsupported, "unsupported_media_type", "请求体须为 JSON（Content-Type: application/json）")
		}
	}
	// The body is read whole first (into a pooled buffer): the decoder
	// then reads from memory, what it read is there to name the path of a
	// value of the wrong type (a.b[0].c, which encoding/json reports
	// without indices), and what follows the value is checked in place.
	body := bodyPool.Get().(*bytes.Buffer)
	defer putBody(body)
	body.Reset()
	if n := r.ContentLength; n > 0 && n <= limit {
		body.Grow(int(n) + bytes.MinRead) // read in place, not regrown as it comes
	}
	if _, err := body.ReadFrom(http.MaxBytesReader(w, r.Body, limit)); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return jsonError(err)
		}
		return errs.E(errs.Invalid, "bad_json", "请求体读取中断")
	}
	data := body.Bytes()
	if f, ok := v.(JSONFastDecoder); ok && f.DecodeJSONFast(data) {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return typeError(te, jsonPath(data, te.Offset))
		}
		if e := jsonError(err); errs.As(e).Message != msgUnparsable {
			return e
		}
		// A type's own decoding refused its value (a time that is not
		// RFC 3339): find which.
		if path, t := refusedValue(reflect.TypeOf(v), data, ""); t != nil {
			return valueError(path, t)
		}
		return jsonError(err)
	}
	if len(bytes.TrimLeft(data[dec.InputOffset():], " \t\r\n")) > 0 {
		return errs.E(errs.Invalid, "bad_json", "请求体在 JSON 之后还有多余内容")
	}
	return nil
}

// bodyPool holds the buffers request bodies are read into.
var bodyPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// putBody returns a body buffer to the pool, unless an upload made it
// larger than a batch of records or its answer (a megabyte): those are
// left to the collector.
func putBody(b *bytes.Buffer) {
	if b.Cap() <= 1<<20 {
		bodyPool.Put(b)
	}
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
		return errs.E(errs.Invalid, "bad_json", "请求体不是有效的 JSON，请检查括号、引号和逗号")
	case errors.As(err, &te):
		return typeError(te, te.Field)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &errs.Error{Kind: errs.Invalid, Code: "unknown_field", Message: "未知字段 " + f,
			Fields: []errs.FieldError{{Field: f, Message: "未知字段"}}}
	}
	return errs.E(errs.Invalid, "bad_json", msgUnparsable)
}

const msgUnparsable = "JSON 无法解析"

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	timeType        = reflect.TypeFor[time.Time]()
)

// refusedValue finds the first value of data, read as type t, that a
// type's own decoding (UnmarshalJSON, UnmarshalText) refuses, and returns
// its path and type; nil when none does.
func refusedValue(t reflect.Type, data []byte, path string) (string, reflect.Type) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if string(bytes.TrimSpace(data)) == "null" {
		return "", nil
	}
	pt := reflect.PointerTo(t)
	if pt.Implements(jsonUnmarshaler) || pt.Implements(textUnmarshaler) {
		if json.Unmarshal(data, reflect.New(t).Interface()) != nil {
			return path, t
		}
		return "", nil
	}
	join := func(key string) string {
		if path == "" {
			return key
		}
		return path + "." + key
	}
	switch t.Kind() {
	case reflect.Struct:
		var obj map[string]json.RawMessage
		if json.Unmarshal(data, &obj) != nil {
			return "", nil
		}
		for key, raw := range obj {
			if f, ok := jsonField(t, key); ok {
				if p, bad := refusedValue(f.Type, raw, join(key)); bad != nil {
					return p, bad
				}
			}
		}
	case reflect.Map:
		var obj map[string]json.RawMessage
		if json.Unmarshal(data, &obj) != nil {
			return "", nil
		}
		for key, raw := range obj {
			if p, bad := refusedValue(t.Elem(), raw, join(key)); bad != nil {
				return p, bad
			}
		}
	case reflect.Slice, reflect.Array:
		var list []json.RawMessage
		if json.Unmarshal(data, &list) != nil {
			return "", nil
		}
		for i, raw := range list {
			if p, bad := refusedValue(t.Elem(), raw, fmt.Sprintf("%s[%d]", path, i)); bad != nil {
				return p, bad
			}
		}
	}
	return "", nil
}

// jsonField is the field of struct t that the JSON key names, as
// encoding/json matches it (tag or name, case-insensitively, through
// embedded structs).
func jsonField(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" {
			et := f.Type
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				if sf, ok := jsonField(et, key); ok {
					return sf, true
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if strings.EqualFold(name, key) {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// valueError names a field whose value its type refused.
func valueError(path string, t reflect.Type) error {
	want := "格式不正确"
	if t == timeType {
		want = "应为 RFC 3339 格式的时间字符串（如 2022-11-20T09:00:00+08:00）"
	}
	if path == "" {
		return errs.E(errs.Invalid, "bad_json", "请求体"+want)
	}
	return &errs.Error{Kind: errs.Invalid, Code: "bad_json", Message: "字段 " + path + " " + want,
		Fields: []errs.FieldError{{Field: path, Message: want}}}
}

// typeError says which field holds a value of the wrong type and what it
// should be, in the words of JSON, never of Go.
func typeError(te *json.UnmarshalTypeError, path string) error {
	want := "应为" + jsonKind(te.Type)
	if path == "" {
		return errs.E(errs.Invalid, "bad_json", "请求体"+want)
	}
	return &errs.Error{Kind: errs.Invalid, Code: "bad_json", Message: "字段 " + path + " " + want,
		Fields: []errs.FieldError{{Field: path, Message: want}}}
}

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

// jsonKind names the JSON kind a Go type is decoded from.
func jsonKind(t reflect.Type) string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return "其他类型"
	}
	if reflect.PointerTo(t).Implements(textUnmarshaler) {
		return "字符串" // time.Time and the like
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "整数"
	case reflect.Float32, reflect.Float64:
		return "数字"
	case reflect.String:
		return "字符串"
	case reflect.Bool:
		return "布尔值（true 或 false）"
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return "字符串" // []byte is base64
		}
		return "数组"
	case reflect.Struct, reflect.Map:
		return "对象"
	}
	return "其他类型"
}

// jsonPath is the path (a.b[0].c) of the value of data that ends at
// offset, where encoding/json reports a type error: the value is a
// scalar, or the opening bracket of an object or array. "" when not found.
func jsonPath(data []byte, offset int64) string {
	type frame struct {
		array   bool
		index   int
		key     string
		wantKey bool
	}
	var stack []frame
	done := func() { // a value of the innermost container is complete
		if n := len(stack); n > 0 {
			if stack[n-1].array {
				stack[n-1].index++
			} else {
				stack[n-1].wantKey = true
			}
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		d, isDelim := tok.(json.Delim)
		if isDelim && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			done()
			continue
		}
		if n := len(stack); n > 0 && !stack[n-1].array && stack[n-1].wantKey {
			stack[n-1].key, _ = tok.(string)
			stack[n-1].wantKey = false
			continue
		}
		if dec.InputOffset() >= offset {
			var b strings.Builder
			for _, f := range stack {
				if f.array {
					fmt.Fprintf(&b, "[%d]", f.index)
				} else {
					if b.Len() > 0 {
						b.WriteByte('.')
					}
					b.WriteString(f.key)
				}
			}
			return b.String()
		}
		if isDelim {
			stack = append(stack, frame{array: d == '[', wantKey: d == '{'})
			continue
		}
		done()
	}
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

// DecodeStandard decodes data with encoding/json alone, as DecodeJSON does
// when a type has no fast path: unknown fields refused, nothing but white
// space after the value. The fast decoders (JSONFastDecoder) are held to
// it by their tests: where one answers, it must answer the same.
func DecodeStandard[T any](data []byte) (T, bool) {
	var v T
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if dec.Decode(&v) != nil {
		return v, false
	}
	_, err := dec.Token()
	return v, err == io.EOF
}
