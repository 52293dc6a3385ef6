package app_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/proto"
	"github.com/xuri/excelize/v2"

	"tongxin/internal/app"
	"tongxin/internal/clock"
	"tongxin/internal/pass"
)

// A pass application on a phone, as a contact and a reviewer meet it:
// the contact downloads the template through the page's link, fills it
// as its example row shows (names of areas, not codes), uploads it and
// gets a batch; the reviewer finds it in the inbox, leaves one row out
// with a reason and approves after the confirmation; the contact is told
// and prints cards that fit the phone and eight to an A4 sheet.
func TestBrowserPassApplication(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	in, _ := setup(t, "sqlite")
	s := serve(t, in)
	contactTok := strings.TrimSpace(mustCLI(t, in, "", "token", "create", "--username", "qianjin", "--name", "测试"))
	gxjTok := strings.TrimSpace(mustCLI(t, in, "", "token", "create", "--username", "gxj", "--name", "测试"))

	err := rod.Try(func() {
		contact := b.MustIncognito().MustPage("").Timeout(pageBudget)
		contact.MustSetViewport(360, 740, 2, true)
		cpLogin(t, contact, s.URL, "qianjin", app.DemoPassword)
		upload := cpOpen(contact, s.URL, "/pass-batches")
		cpMust(t, "the upload form", upload, "下载模板（XLSX）", "可填写的区域", "示例")
		cpNarrow(t, contact, "the batches page")

		// The areas the enterprise may name.
		newPage(t, contact, func() { contact.MustElementR("a", "可填写的区域").MustClick() })
		areas := contact.MustElement("main").MustText()
		cpMust(t, "the areas page", areas, "天元区", "嵩山路街道", "天元区嵩山路街道", "430211001")
		cpMustNot(t, "the areas page", areas, "建设街道", "石峰区")
		cpNarrow(t, contact, "the areas page")

		// The template, downloaded by the page's own link with the
		// contact's session.
		cpOpen(contact, s.URL, "/pass-batches")
		href := contact.MustElementR("a", "下载模板（XLSX）").MustAttribute("href")
		enc := contact.MustEval(`(u) => fetch(u, {credentials: "same-origin"}).then(r => r.arrayBuffer()).then(b => {
			let s = ""; new Uint8Array(b).forEach(c => s += String.fromCharCode(c)); return btoa(s); })`, *href).String()
		tmpl, err := base64.StdEncoding.DecodeString(enc)
		if err != nil {
			t.Fatal(err)
		}
		file := fillTemplate(t, tmpl, 9)
		contact.MustElement(`#pass-file`).MustSetFiles(file)
		newPage(t, contact, func() { contact.MustElement(`form[action="/pass-batches"] button[type="submit"]`).MustClick() })
		waitForURL(t, contact, "/pass-batches/")
		batch := contact.MustElement("main").MustText()
		cpMust(t, "the new batch", batch, "待审核", "共 9 行", "嵩山路街道 430211001", "填**1", "填**9")
		cpMustNot(t, "the new batch", batch, "（示例）张三")
		cpNarrow(t, contact, "the batch page")
		batchURL := contact.MustInfo().URL
		id := batchURL[strings.LastIndex(batchURL, "/")+1:]

		// The reviewer: the inbox names the batch; one row left out needs
		// its reason; the confirmation counts; then the passes.
		gxj := b.MustIncognito().MustPage("").Timeout(pageBudget)
		gxj.MustSetViewport(360, 740, 2, true)
		cpLogin(t, gxj, s.URL, "gxj", app.DemoPassword)
		inbox := cpOpen(gxj, s.URL, "/inbox")
		cpMust(t, "the reviewer's inbox", inbox, "通行证申请第 "+id+" 批待审核", "株洲千金药业股份有限公司 提交通行证申请 9 份")
		newPage(t, gxj, func() { gxj.MustElement(`main a[href="/pass-batches/` + id + `"]`).MustClick() })
		cpNarrow(t, gxj, "the review page")
		gxj.MustElement(`input[type="checkbox"][name="row"][value="11"]`).MustClick()
		page := cpSubmit(t, gxj, `form[action="/pass-batches/`+id+`/approve"]`)
		cpMust(t, "approval without a reason", page, "未批准的行须逐行填写理由", "第 11 行")
		if cpStatus(gxj) != 400 {
			t.Fatalf("approval without a reason answered %d", cpStatus(gxj))
		}
		// The row stays unticked on the refused page.
		if gxj.MustElement(`input[type="checkbox"][name="row"][value="11"]`).MustProperty("checked").Bool() {
			t.Fatal("the refused page ticks row 11 again")
		}
		gxj.MustElement(`input[name="reason_11"]`).MustInput("该员工已离岗")
		page = cpSubmit(t, gxj, `form[action="/pass-batches/`+id+`/approve"]`)
		cpMust(t, "the confirmation", page, "确认批准第 "+id+" 批", "批准 8 行", "签发 8 张人员通行证", "不批准 1 行", "第 11 行：该员工已离岗")
		cpNarrow(t, gxj, "the confirmation")
		// Pages show days in Shanghai; midnight there may come during the
		// click, so either day of it will do.
		dayBefore := time.Now().In(clock.Shanghai).Format("2006-01-02")
		newPage(t, gxj, func() { gxj.MustElementR("button", "确认批准并签发 8 张").MustClick() })
		waitForURLEnd(t, gxj, "/pass-batches/"+id)
		day := time.Now().In(clock.Shanghai).Format("2006-01-02")
		done := gxj.MustElement("main").MustText()
		cpMust(t, "the approved batch", done, "部分批准", "审核", "理由：该员工已离岗")
		reviewed := gxj.MustElementR("dt", "审核").MustNext().MustText()
		if !(strings.Contains(reviewed, day) || strings.Contains(reviewed, dayBefore)) || !strings.Contains(reviewed, "gxj") {
			t.Fatalf("review time: %q", reviewed)
		}

		// The contact is told, with the reason, and prints the cards.
		inbox = cpOpen(contact, s.URL, "/inbox")
		cpMust(t, "the contact's inbox", inbox, "通行证申请第 "+id+" 批部分批准", "签发 8 张", "第 11 行：该员工已离岗")
		cards := cpOpen(contact, s.URL, "/pass-batches/"+id+"/cards")
		cpMust(t, "the cards", cards, "人员通行证", "通行区域 嵩山路街道", "填**8")
		cpMustNot(t, "the cards", cards, "430211001", "填**9")
		cpNarrow(t, contact, "the cards")
		checkCards(t, contact, 8)
		shot(t, contact, "pass-cards-360.png")
		if n := pdfPages(t, contact); n != 1 {
			t.Fatalf("8 cards print on %d A4 pages, want 1", n)
		}

		// Nine cards make two sheets.
		csv := "姓名,身份证号,手机,区域,起,止\n"
		now := time.Now().In(clock.Shanghai)
		from, to := now.Format("2006-01-02"), now.AddDate(0, 0, 1).Format("2006-01-02")
		for i := range 9 {
			csv += fmt.Sprintf("第二批%d,%s,1390733%04d,嵩山路街道,%s,%s\n", i, pass.ExampleID("430211", "19700101", 600+i), 7100+i, from, to)
		}
		r := do(t, "POST", s.URL+"/api/v1/pass-batches", contactTok, "text/csv", []byte(csv))
		var nb struct{ ID int64 }
		if err := json.Unmarshal(r.Body, &nb); r.Status != 201 || err != nil {
			t.Fatalf("upload: %d %s", r.Status, r.Body)
		}
		if r = do(t, "POST", fmt.Sprintf("%s/api/v1/pass-batches/%d/approve", s.URL, nb.ID), gxjTok, "application/json", []byte(`{}`)); r.Status != 200 {
			t.Fatalf("approve: %d %s", r.Status, r.Body)
		}
		cpOpen(contact, s.URL, fmt.Sprintf("/pass-batches/%d/cards", nb.ID))
		checkCards(t, contact, 9)
		if n := pdfPages(t, contact); n != 2 {
			t.Fatalf("9 cards print on %d A4 pages, want 2", n)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
}

// fillTemplate fills the downloaded template as its example row shows:
// the example stays, and n rows below it copy its cells with their own
// name, ID number and phone. It answers the file's path.
func fillTemplate(t *testing.T, tmpl []byte, n int) string {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(tmpl))
	if err != nil {
		t.Fatal(err)
	}
	sheet := f.GetSheetName(0)
	rows, err := f.GetRows(sheet)
	if err != nil || len(rows) != 2 {
		t.Fatalf("template rows %v %v", rows, err)
	}
	head, example := rows[0], rows[1]
	if !strings.HasPrefix(example[0], "（示例）") {
		t.Fatalf("example row %v", example)
	}
	for i := range n {
		row := make([]string, len(head))
		copy(row, example)
		for c, h := range head {
			switch h {
			case "姓名":
				row[c] = fmt.Sprintf("填表人%d", i+1)
			case "身份证号":
				row[c] = pass.ExampleID("430211", "19850101", 300+i)
			case "手机":
				row[c] = fmt.Sprintf("1390733%04d", 8000+i)
			}
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+3)
		if err := f.SetSheetRow(sheet, cell, &row); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "名单.xlsx")
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// checkCards checks the cards on the page: n of them, each title on one
// line, the QR code and every line of text inside the card.
func checkCards(t *testing.T, page *rod.Page, n int) {
	t.Helper()
	res := page.MustEval(`() => Array.from(document.querySelectorAll(".pass-card")).map(c => {
		const box = c.getBoundingClientRect(), h = c.querySelector("h2"), qr = c.querySelector(".qr svg").getBoundingClientRect();
		const lh = parseFloat(getComputedStyle(h).lineHeight) || parseFloat(getComputedStyle(h).fontSize) * 1.5;
		const out = Array.from(c.querySelectorAll("p, h2, .qr svg")).filter(e => {
			const r = e.getBoundingClientRect(); return r.right > box.right + 0.5 || r.left < box.left - 0.5 || r.bottom > box.bottom + 0.5;
		}).map(e => e.textContent.slice(0, 20));
		return {titleLines: Math.round(h.getBoundingClientRect().height / lh), qrInside: qr.right <= box.right + 0.5 && qr.width >= 80, out: out};
	})`).Arr()
	if len(res) != n {
		t.Fatalf("%d cards, want %d", len(res), n)
	}
	for i, c := range res {
		if c.Get("titleLines").Int() != 1 || !c.Get("qrInside").Bool() || len(c.Get("out").Arr()) > 0 {
			t.Fatalf("card %d does not fit: %s", i, c.JSON("", ""))
		}
	}
}

// pdfPages prints the page to A4 as Chromium's print-to-PDF does and
// counts the PDF's pages.
func pdfPages(t *testing.T, page *rod.Page) int {
	t.Helper()
	r, err := page.PDF(&proto.PagePrintToPDF{PaperWidth: floatPtr(8.27), PaperHeight: floatPtr(11.69), PreferCSSPageSize: true})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(r); err != nil {
		t.Fatal(err)
	}
	if dir := os.Getenv("TONGXIN_SCREENSHOTS"); dir != "" {
		_ = os.WriteFile(filepath.Join(dir, "pass-cards.pdf"), buf.Bytes(), 0o644)
	}
	return bytes.Count(buf.Bytes(), []byte("/Type /Page\n")) + bytes.Count(buf.Bytes(), []byte("/Type /Page/")) +
		bytes.Count(buf.Bytes(), []byte("/Type /Page ")) + bytes.Count(buf.Bytes(), []byte("/Type /Page>"))
}

func floatPtr(f float64) *float64 { return &f }

// waitForURLEnd waits until the page's address (without its fragment)
// ends with suffix (10 s at most).
func waitForURLEnd(t *testing.T, page *rod.Page, suffix string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		u, _, _ := strings.Cut(page.MustInfo().URL, "#")
		if strings.HasSuffix(u, suffix) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the page is at %s, want an address ending with %q", u, suffix)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
