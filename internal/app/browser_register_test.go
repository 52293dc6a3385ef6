package app_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-rod/rod"

	"tongxin/internal/app"
)

// registerFile is a register of 12 households of 大园社区 in one building,
// two residents each, the second flagged.
func registerFile(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("社区代码,小区,楼栋,单元,房号,姓名,身份证号,手机号,标记\n")
	for i := range 12 {
		for m := range 2 {
			k := 2*i + m
			body := fmt.Sprintf("430203%04d0101%03d", 1940+k, 400+k)
			fmt.Fprintf(&b, "430203001001,浏览器测试小区,5栋,2单元,%d,欧阳居民%d,%s,1390733%04d,%s\n", 301+i, k, idWithCheck(body), k,
				map[int]string{1: "独居老人、行动不便"}[m])
		}
	}
	path := filepath.Join(t.TempDir(), "register.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// idWithCheck completes 17 digits with the GB 11643 check character.
func idWithCheck(body string) string {
	weights := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, w := range weights {
		sum += int(body[i]-'0') * w
	}
	return body + string("10X98765432"[sum%11])
}

// A community worker on a 360 px phone uploads the register through the
// page, sees the import's answer and the register masked, and opens the
// building's QR sheet: nothing wider than the phone.
func TestBrowserHouseholdRegisterOnAPhone(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	s := serve(t, demoInst(t, "sqlite"))
	file := registerFile(t)
	fits := func(page *rod.Page, what string) {
		t.Helper()
		// The page's folded parts (not the menu, which would cover them).
		page.MustEval(`() => document.querySelectorAll("main details").forEach(d => d.open = true)`)
		if w := page.MustEval(`() => document.documentElement.scrollWidth`).Int(); w > 360 {
			shot(t, page, "register-too-wide.png")
			t.Fatalf("%s is %d px wide on a 360 px phone", what, w)
		}
	}
	err := rod.Try(func() {
		page := b.MustPage("").Timeout(pageBudget)
		page.MustSetViewport(360, 740, 2, true)
		page.MustNavigate(s.URL + "/login")
		page.MustWaitLoad()
		login(t, page, "dayuan", app.DemoPassword)
		page.MustNavigate(s.URL + "/households")
		page.MustWaitLoad()
		fits(page, "the empty register")
		page.MustElement(`#hh-file`).MustSetFiles(file)
		newPage(t, page, func() { page.MustElement(`form[action="/households/import"] button[type="submit"]`).MustClick() })
		text := page.MustElement("#import-result").MustText()
		if !strings.Contains(text, "已导入 24 行") || !strings.Contains(text, "大园社区") {
			t.Fatalf("import answer: %s", text)
		}
		fits(page, "the register after the import")
		main := page.MustElement("main").MustText()
		if !strings.Contains(main, "430203********") || !strings.Contains(main, "独居老人") || strings.Contains(main, "欧阳居民") {
			t.Fatalf("the register is not masked as it should be:\n%s", main)
		}
		shot(t, page, "households-360.png")
		page.MustNavigate(s.URL + "/households/codes?community=430203001001&estate=%E6%B5%8F%E8%A7%88%E5%99%A8%E6%B5%8B%E8%AF%95%E5%B0%8F%E5%8C%BA&building=5%E6%A0%8B")
		page.MustWaitLoad()
		if n := page.MustEval(`() => document.querySelectorAll(".rc-card svg").length`).Int(); n != 36 {
			t.Fatalf("the QR sheet has %d codes, want 12 households and 24 residents", n)
		}
		fits(page, "the QR sheet")
		shot(t, page, "household-codes-360.png")
	})
	if err != nil {
		t.Fatal(err)
	}
}
