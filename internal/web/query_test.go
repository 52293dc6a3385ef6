package web

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestStrictQuery(t *testing.T) {
	a := &Adapter{Log: slog.New(slog.DiscardHandler)}
	called := 0
	h := a.H(StrictQuery([]string{"area", "limit"}, func(w http.ResponseWriter, r *http.Request) error {
		called++
		return JSON(w, http.StatusOK, map[string]string{"ok": "yes"})
	}))
	none := a.H(StrictQuery(nil, func(w http.ResponseWriter, r *http.Request) error {
		called++
		w.WriteHeader(http.StatusNoContent)
		return nil
	}))
	type problem struct {
		Code       string `json:"code"`
		Detail     string `json:"detail"`
		ErrorCount int    `json:"error_count"`
		Errors     []struct {
			Field, Code string
		} `json:"errors"`
	}
	do := func(h http.Handler, target string) (int, problem) {
		t.Helper()
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", target, nil))
		var p problem
		if w.Code == 400 {
			if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
				t.Fatal(err)
			}
		}
		return w.Code, p
	}
	for _, target := range []string{"/x", "/x?area=1&area=2&limit=3", "/x?"} {
		if code, _ := do(h, target); code != 200 {
			t.Errorf("%s: %d", target, code)
		}
	}
	if called != 3 {
		t.Fatalf("handler called %d times", called)
	}
	code, p := do(h, "/x?area=1&date=2022-11-20&Area=2")
	if code != 400 || p.Code != "unknown_parameter" || len(p.Errors) != 2 || p.Errors[0].Field != "Area" || p.Errors[1].Field != "date" ||
		p.Errors[0].Code != "unknown_parameter" || p.Detail != "未知的查询参数：Area、date；此接口接受：area、limit" {
		t.Errorf("unknown: %d %+v", code, p)
	}
	if called != 3 {
		t.Error("the handler ran despite an unknown parameter")
	}
	if code, p := do(none, "/x?a=1"); code != 400 || p.Detail != "未知的查询参数：a；此接口不接受查询参数" {
		t.Errorf("no parameters: %d %+v", code, p)
	}
	// Long names and many of them are cut in the answer.
	target := "/x?" + strings.Repeat("n", 100) + "=1"
	for i := range 30 {
		target += "&p" + string(rune('a'+i%26)) + string(rune('a'+i/26)) + "=1"
	}
	code, p = do(h, target)
	if code != 400 || len(p.Errors) != 20 || p.ErrorCount != 31 || len([]rune(p.Errors[0].Field)) != 65 || !strings.HasSuffix(p.Errors[0].Field, "…") {
		t.Errorf("many unknown: %d %d errors of %d, first %q", code, len(p.Errors), p.ErrorCount, p.Errors[0].Field)
	}
}
