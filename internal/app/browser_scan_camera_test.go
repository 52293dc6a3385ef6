package app_test

import (
	"bufio"
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/input"
	"github.com/go-rod/rod/lib/launcher"

	"tongxin/internal/clock"
	"tongxin/internal/pass"
	"tongxin/internal/passtoken"
)

// writeY4M writes a video Chromium's fake camera plays in a loop
// (--use-file-for-fake-video-capture): a few frames of img, grey, centred
// on white, w×h. Y4M is a one-line text header and raw frames, each the Y
// plane then the U and V planes at a quarter size (4:2:0).
func writeY4M(t *testing.T, path string, img image.Image, w, h int) {
	t.Helper()
	b := img.Bounds()
	if b.Dx() > w || b.Dy() > h {
		t.Fatalf("image %v does not fit %dx%d", b, w, h)
	}
	x0, y0 := (w-b.Dx())/2, (h-b.Dy())/2
	luma := bytes.Repeat([]byte{255}, w*h)
	for y := range b.Dy() {
		for x := range b.Dx() {
			r, g, bl, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			luma[(y0+y)*w+x0+x] = byte((299*r + 587*g + 114*bl) / 1000 >> 8)
		}
	}
	chroma := bytes.Repeat([]byte{128}, (w/2)*(h/2))
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	bw := bufio.NewWriter(f)
	fmt.Fprintf(bw, "YUV4MPEG2 W%d H%d F10:1 Ip A1:1 C420jpeg\n", w, h)
	for range 5 {
		bw.WriteString("FRAME\n")
		bw.Write(luma)
		bw.Write(chroma)
		bw.Write(chroma)
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// writePhoto writes a PNG of img (nil: nothing) on a grey background, a
// photo a phone's camera app might take.
func writePhoto(t *testing.T, path string, img image.Image) {
	t.Helper()
	desk := image.NewGray(image.Rect(0, 0, 1200, 900))
	draw.Draw(desk, desk.Bounds(), image.NewUniform(color.Gray{Y: 190}), image.Point{}, draw.Src)
	if img != nil {
		at := image.Pt(300, 200)
		draw.Draw(desk, img.Bounds().Sub(img.Bounds().Min).Add(at), img, img.Bounds().Min, draw.Src)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, desk); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// newCameraBrowser is newBrowser with a fake camera that films video
// (and allows it without asking).
func newCameraBrowser(t *testing.T, video string) *rod.Browser {
	t.Helper()
	return newBrowser(t, func(l *launcher.Launcher) {
		l.Set("use-fake-ui-for-media-stream").Set("use-fake-device-for-media-stream").
			Set("use-file-for-fake-video-capture", video)
	})
}

// An officer's phone whose browser has no BarcodeDetector (as Safari on
// iPhone, WeChat and Firefox) films a real pass card: the camera button is
// there, jsQR is loaded from this server only when the camera opens, the
// card is read and the server's verdict names the holder and the
// enterprise (the credit code small beside it). The decoder is in the
// offline cache from the first visit, so with the server stopped the
// camera still reads the card and the page decides alone. The short number
// printed on the card is checked by the server when typed online; offline
// the page says it needs the network. A browser with no live camera at all
// reads a photo taken with the camera app.
func TestBrowserScanCameraWithoutBarcodeDetector(t *testing.T) {
	t.Parallel()
	in, _ := setup(t, "sqlite")
	addr := freeAddr(t)
	s := serve(t, in, "--addr", addr)
	base := s.URL
	tok := func(user string) string {
		return strings.TrimSpace(mustCLI(t, in, "", "token", "create", "--username", user, "--name", "camera test"))
	}
	admin, contact, gxj := tok("admin"), tok("qianjin"), tok("gxj")

	r := do(t, "POST", base+"/api/v1/checkpoints", admin, "application/json",
		[]byte(`{"name":"摄像头测试卡口","kind":"bridge","area_code":"430211001","place":"南桥头"}`))
	var cp struct {
		ID int64 `json:"id"`
	}
	r.json(t, &cp)
	if cp.ID == 0 {
		t.Fatalf("create checkpoint: %d %s", r.Status, r.Body)
	}
	cpRef := fmt.Sprint(cp.ID)
	mustCLI(t, in, "officer-pass-2022\n", "user", "add", "--username", "kakou8", "--display-name", "卡口值守",
		"--role", "checkpoint_officer", "--scope", "checkpoint:"+cpRef, "--password-stdin")

	today := time.Now().In(clock.Shanghai)
	csv := "姓名,身份证号,手机,车牌,区域,起,止\n" + fmt.Sprintf("欧阳明,%s,13907335001,,430211001,%s,%s\n",
		scanIDNumber("43021119800101001"), today.Format("2006-01-02"), today.AddDate(0, 0, 29).Format("2006-01-02"))
	r = do(t, "POST", base+"/api/v1/pass-batches?enterprise=914302001838260003", contact, "text/csv", []byte(csv))
	var batch struct {
		ID int64 `json:"id"`
	}
	r.json(t, &batch)
	if r = do(t, "POST", fmt.Sprintf("%s/api/v1/pass-batches/%d/approve", base, batch.ID), gxj, "application/json", []byte(`{}`)); r.Status != 200 {
		t.Fatalf("approve: %d %s", r.Status, r.Body)
	}
	r = do(t, "GET", fmt.Sprintf("%s/api/v1/pass-batches/%d/passes", base, batch.ID), contact, "", nil)
	var items struct {
		Items []pass.Pass `json:"items"`
	}
	r.json(t, &items)
	if len(items.Items) != 1 || items.Items[0].Number == "" || items.Items[0].EnterpriseName == "" {
		t.Fatalf("passes: %s", r.Body)
	}
	card := items.Items[0]

	// The card's QR code as the server draws it, filmed by the fake camera.
	pngBytes, err := pass.QRPNG(card.Token, 5)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(pngBytes))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	video := filepath.Join(dir, "card.y4m")
	writeY4M(t, video, img, 640, 480)
	// The same card photographed: the code on a grey desk, and the desk alone.
	photo, blank := filepath.Join(dir, "card.png"), filepath.Join(dir, "desk.png")
	writePhoto(t, photo, img)
	writePhoto(t, blank, nil)
	b := newCameraBrowser(t, video)

	scanURL := "/checkpoints/" + cpRef + "/scan"
	attr := func(page *rod.Page, sel, name string) string {
		if v := page.MustElement(sel).MustAttribute(name); v != nil {
			return *v
		}
		return ""
	}
	// filmed opens the camera and answers the verdict it leads to.
	filmed := func(page *rod.Page) (verdict, source, text string) {
		page.MustEval(`() => { document.getElementById("scan-verdict").hidden = true; }`)
		page.MustElement("#scan-camera").MustClick()
		page.MustWait(`() => !document.getElementById("scan-verdict").hidden`)
		return attr(page, "#scan-verdict", "data-verdict"), attr(page, "#scan-verdict", "data-source"),
			page.MustElement("#scan-verdict").MustText()
	}
	typed := func(page *rod.Page, what string) {
		page.MustEval(`() => { document.getElementById("scan-verdict").hidden = true; document.getElementById("scan-note").hidden = true; }`)
		page.MustElement("#scan-token").MustFocus()
		page.MustInsertText(what)
		page.Keyboard.MustType(input.Enter)
	}
	err = rod.Try(func() {
		page := b.MustPage("").Timeout(pageBudget)
		page.MustEvalOnNewDocument(`delete window.BarcodeDetector;`)
		page.MustSetViewport(360, 740, 2, true)
		page.MustNavigate(base + "/login?next=" + scanURL)
		page.MustWaitLoad()
		login(t, page, "kakou8", "officer-pass-2022")
		waitForURL(t, page, scanURL)
		page.MustWait(`() => document.documentElement.getAttribute("data-offline-ready") === "true" &&
			document.documentElement.getAttribute("data-scan-ready") === "true"`)
		if page.MustEval(`() => "BarcodeDetector" in window`).Bool() {
			t.Fatal("BarcodeDetector is still there")
		}
		if mode := attr(page, "html", "data-camera-mode"); mode != "fallback" {
			t.Fatalf("camera mode %q, want fallback", mode)
		}
		if page.MustElement("#scan-camera").MustProperty("hidden").Bool() {
			t.Fatal("no camera button without a BarcodeDetector")
		}
		decoder := attr(page, "#scan-camera", "data-decoder")
		if !strings.HasPrefix(decoder, "/static/") || !strings.Contains(decoder, "jsQR") {
			t.Fatalf("decoder URL %q", decoder)
		}
		// Cached for offline use, but not loaded before the camera opens.
		if page.MustEval(`() => typeof window.jsQR`).Str() != "undefined" {
			t.Fatal("jsQR was loaded before the camera was opened")
		}
		if !page.MustEval(`async (u) => !!(await (await caches.open("tongxin-scan-v1")).match(u))`, decoder).Bool() {
			t.Fatal("the decoder is not in the offline cache")
		}

		v, source, text := filmed(page)
		if v != "allow" || source != "server" || !strings.Contains(text, "欧*") || !strings.Contains(text, card.EnterpriseName) ||
			!strings.Contains(text, "914302001838260003") {
			t.Fatalf("the filmed card: %s from %s\n%s", v, source, text)
		}
		if attr(page, "html", "data-camera") != "off" {
			t.Fatal("the camera is still on after the card was read")
		}
		if w := page.MustEval(`() => document.documentElement.scrollWidth`).Int(); w > 360 {
			t.Fatalf("the verdict is %d px wide on a 360 px screen", w)
		}
		shot(t, page, "scan-camera-jsqr-360.png")

		// The number on the card, typed as printed: the server's verdict.
		typed(page, passtoken.FormatNumber(card.Number))
		page.MustWait(`() => !document.getElementById("scan-verdict").hidden`)
		if v, src := attr(page, "#scan-verdict", "data-verdict"), attr(page, "#scan-verdict", "data-source"); v != "allow" || src != "server" {
			t.Fatalf("the typed number: %s from %s", v, src)
		}
		if text := page.MustElement("#scan-verdict").MustText(); !strings.Contains(text, "欧*") {
			t.Fatalf("the typed number's verdict:\n%s", text)
		}
		// A digit wrong: the server's reason, in Chinese, and no verdict.
		wrong := []byte(card.Number)
		wrong[2] = '0' + (wrong[2]-'0'+1)%10
		typed(page, string(wrong))
		page.MustWait(`() => !document.getElementById("scan-note").hidden`)
		if note := page.MustElement("#scan-note").MustText(); !strings.Contains(note, "校验位") {
			t.Fatalf("a mistyped number says %q", note)
		}
		if !page.MustElement("#scan-verdict").MustProperty("hidden").Bool() {
			t.Fatal("a mistyped number shows a verdict")
		}

		// A browser with no live camera at all (an origin that is not
		// secure, an old web view): the button takes a photo with the
		// camera app, and jsQR reads it.
		photoPage := b.MustPage("").Timeout(pageBudget)
		photoPage.MustEvalOnNewDocument(`delete window.BarcodeDetector; delete Navigator.prototype.mediaDevices;`)
		photoPage.MustSetViewport(360, 740, 2, true)
		photoPage.MustNavigate(base + scanURL)
		photoPage.MustWait(`() => document.documentElement.getAttribute("data-scan-ready") === "true"`)
		if mode := attr(photoPage, "html", "data-camera-mode"); mode != "photo" {
			t.Fatalf("without getUserMedia the camera mode is %q, want photo", mode)
		}
		if btn := photoPage.MustElement("#scan-camera"); btn.MustProperty("hidden").Bool() || btn.MustText() != "拍照扫码" {
			t.Fatalf("the photo button: hidden %v, %q", btn.MustProperty("hidden").Bool(), btn.MustText())
		}
		photoPage.MustElement("#scan-photo").MustSetFiles(photo)
		photoPage.MustWait(`() => !document.getElementById("scan-verdict").hidden`)
		if v, text := attr(photoPage, "#scan-verdict", "data-verdict"), photoPage.MustElement("#scan-verdict").MustText(); v != "allow" ||
			!strings.Contains(text, "欧*") || !strings.Contains(text, card.EnterpriseName) {
			t.Fatalf("the photographed card: %s\n%s", v, text)
		}
		// A photo without a code says so.
		photoPage.MustEval(`() => { document.getElementById("scan-verdict").hidden = true; }`)
		photoPage.MustElement("#scan-photo").MustSetFiles(blank)
		photoPage.MustWait(`() => !document.getElementById("scan-note").hidden`)
		if note := photoPage.MustElement("#scan-note").MustText(); !strings.Contains(note, "没有识别出二维码") {
			t.Fatalf("a photo without a code says %q", note)
		}
		photoPage.MustClose()

		// No server: the page and the decoder come from the cache, the
		// camera reads the card, the page decides and queues the scan.
		if err := s.stop(); err != nil {
			t.Fatalf("stop: %v", err)
		}
		page.MustReload()
		page.MustWaitLoad()
		page.MustWait(`() => document.documentElement.getAttribute("data-scan-ready") === "true"`)
		v, source, text = filmed(page)
		if v != "allow" || source != "local" || !strings.Contains(text, card.EnterpriseName) {
			t.Fatalf("offline, the filmed card: %s from %s\n%s", v, source, text)
		}
		if n := page.MustEval(`() => TongxinScan.queue().length`).Int(); n != 1 {
			t.Fatalf("%d scans queued offline, want 1", n)
		}
		shot(t, page, "scan-camera-jsqr-offline-360.png")
		typed(page, card.Number)
		page.MustWait(`() => !document.getElementById("scan-note").hidden`)
		if note := page.MustElement("#scan-note").MustText(); !strings.Contains(note, "联网") {
			t.Fatalf("offline, a typed number says %q", note)
		}
		if n := page.MustEval(`() => TongxinScan.queue().length`).Int(); n != 1 {
			t.Fatalf("a number typed offline was queued (%d)", n)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
}
