package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/errs"
)

type decodeIn struct {
	Limit  int            `json:"limit"`
	Ratio  float64        `json:"ratio"`
	Name   string         `json:"name"`
	Active bool           `json:"active"`
	Tags   []string       `json:"tags"`
	At     time.Time      `json:"at"`
	Times  []*time.Time   `json:"times"`
	Opt    *int           `json:"opt"`
	Counts map[string]int `json:"counts"`
	A      struct {
		B []decodeC `json:"b"`
	} `json:"a"`
}

type decodeC struct {
	C int `json:"c"`
}

// decodeErr runs body through web.Decode and returns the error answered.
func decodeErr(t *testing.T, body string) *errs.Error {
	t.Helper()
	r := httptest.NewRequest("POST", "/x", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r = r.WithContext(WithPrincipal(r.Context(), &auth.Principal{Username: "wang"}))
	err := Decode(httptest.NewRecorder(), r, http.StatusOK, func(ctx context.Context, p *auth.Principal, in decodeIn) (decodeIn, error) {
		return in, nil
	})
	if err == nil {
		return nil
	}
	e := errs.As(err)
	if e == nil {
		t.Fatalf("%s: not an errs.Error: %v", body, err)
	}
	return e
}

func TestDecodeTypeErrorsInChinese(t *testing.T) {
	for _, c := range []struct{ body, field, detail string }{
		{`{"limit":"x"}`, "limit", "字段 limit 应为整数"},
		{`{"limit":1.5}`, "limit", "字段 limit 应为整数"},
		{`{"limit":true}`, "limit", "字段 limit 应为整数"},
		{`{"ratio":"0.5"}`, "ratio", "字段 ratio 应为数字"},
		{`{"name":5}`, "name", "字段 name 应为字符串"},
		{`{"name":{"x":1}}`, "name", "字段 name 应为字符串"},
		{`{"active":"yes"}`, "active", "字段 active 应为布尔值（true 或 false）"},
		{`{"tags":"a,b"}`, "tags", "字段 tags 应为数组"},
		{`{"tags":["a", 3]}`, "tags[1]", "字段 tags[1] 应为字符串"},
		{`{"at":20221120}`, "at", "字段 at 应为 RFC 3339 格式的时间字符串（如 2022-11-20T09:00:00+08:00）"},
		{`{"at":"2022-11-20"}`, "at", "字段 at 应为 RFC 3339 格式的时间字符串（如 2022-11-20T09:00:00+08:00）"},
		{`{"a":{"b":[{"c":1}]},"times":[null,"2022-11-20T09:00:00Z","昨天"]}`, "times[2]", "字段 times[2] 应为 RFC 3339 格式的时间字符串（如 2022-11-20T09:00:00+08:00）"},
		{`{"opt":"1"}`, "opt", "字段 opt 应为整数"},
		{`{"counts":[1]}`, "counts", "字段 counts 应为对象"},
		{`{"counts":{"x":1,"y":"2"}}`, "counts.y", "字段 counts.y 应为整数"},
		{`{"a":5}`, "a", "字段 a 应为对象"},
		{`{"a":{"b":{}}}`, "a.b", "字段 a.b 应为数组"},
		{` { "name" : "ok", "a" : { "b" : [ {"c":1}, {"c": "x"} ] } }`, "a.b[1].c", "字段 a.b[1].c 应为整数"},
		{`{"a":{"b":[{"c":1},{"c":[2]}]}}`, "a.b[1].c", "字段 a.b[1].c 应为整数"},
	} {
		e := decodeErr(t, c.body)
		if e == nil || e.Kind != errs.Invalid || e.Message != c.detail || len(e.Fields) != 1 || e.Fields[0].Field != c.field {
			t.Errorf("%s: %+v, want %q on %s", c.body, e, c.detail, c.field)
			continue
		}
		for _, goish := range []string{"json:", "Go ", "int", "float", "[]string", "struct", "time.Time", "unmarshal"} {
			if strings.Contains(e.Message+e.Fields[0].Message, goish) {
				t.Errorf("%s: message %q speaks Go (%s)", c.body, e.Message, goish)
			}
		}
	}
	if e := decodeErr(t, `[1,2]`); e == nil || e.Message != "请求体应为对象" {
		t.Errorf("array body: %+v", e)
	}
	for _, body := range []string{`{"limit":1,}`, `{"limit" 1}`, `{'name':'x'}`, `{"name":"x"}}`} {
		e := decodeErr(t, body)
		if e == nil || e.Code != "bad_json" || strings.ContainsAny(e.Message, "0123456789") || strings.Contains(e.Message, "json") {
			t.Errorf("syntax error %s: %+v", body, e)
		}
	}
	if e := decodeErr(t, `{"limit":1,"name":"x","a":{"b":[{"c":2}]}}`); e != nil {
		t.Errorf("good body: %+v", e)
	}
}
