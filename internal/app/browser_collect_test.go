package app_test

import (
	"crypto/ed25519"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/input"

	"tongxin/internal/app"
	"tongxin/internal/passtoken"
)

// The collector's page on a phone, opened once with the server up, then
// used with the server stopped: the service worker serves the page, the
// browser verifies resident codes with the keys it kept (a household code
// and a code of an unknown key are refused, a resident already taken on
// this device is not taken twice), fills a tube of 5, asks for the next,
// and queues the samples; once the server is back the queue goes up by
// itself, each sample stored once; the same queue sent again after a
// reload stores nothing more, and a resident sampled before shows
// 本轮已采样 among the problems.
func TestBrowserCollectOffline(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	in, _ := setup(t, "sqlite")
	sys := app.OpenCollectSystem(t, in.db, in.data)
	w := app.SeedCollect(t, sys, 2, 4) // 8 residents of 大园社区, zhang's community
	_, strangerKey, _ := ed25519.GenerateKey(nil)
	forged, err := passtoken.SignResident(strangerKey, "zzzzzzzzzzzz", passtoken.ResidentClaims{RID: "CRS000000", HH: "CHH0000",
		Name: "居*", Area: "430203001001", Building: "B1", IAT: time.Now().Unix()})
	if err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	s := serve(t, in, "--addr", addr)
	base := s.URL
	pageURL := "/rounds/" + w.Round + "/collect"

	attr := func(page *rod.Page, sel, name string) string {
		v := page.MustElement(sel).MustAttribute(name)
		if v == nil {
			return ""
		}
		return *v
	}
	// scan types text into the field as a scanner does, Enter last, and
	// answers the note the page shows then.
	scan := func(page *rod.Page, text string, keyByKey bool) string {
		before := attr(page, "html", "data-scanned")
		page.MustElement("#collect-input").MustFocus()
		if keyByKey {
			page.Keyboard.MustType([]input.Key(text)...)
		} else {
			page.MustInsertText(text)
		}
		page.Keyboard.MustType(input.Enter)
		page.MustWait(`(b) => document.documentElement.getAttribute("data-scanned") !== b`, before)
		return page.MustElement("#collect-note").MustText()
	}
	queued := func(page *rod.Page) int { return page.MustEval(`() => TongxinCollect.queue().length`).Int() }
	narrow := func(page *rod.Page, what string) {
		t.Helper()
		if w := page.MustEval(`() => document.documentElement.scrollWidth`).Int(); w > 360 {
			wide := page.MustEval(`() => Array.from(document.querySelectorAll("body *")).filter(e => e.getBoundingClientRect().right > 360).map(e => e.tagName + "#" + e.id + "." + e.className + " " + Math.round(e.getBoundingClientRect().right)).slice(0, 8).join("; ")`).Str()
			t.Fatalf("%s is %d px wide on a 360 px screen: %s", what, w, wide)
		}
	}
	expect := func(what, got string, wants ...string) {
		t.Helper()
		for _, want := range wants {
			if !strings.Contains(got, want) {
				t.Fatalf("%s: %q lacks %q", what, got, want)
			}
		}
	}

	var saved string
	err = rod.Try(func() {
		page := b.MustPage("").Timeout(pageBudget)
		page.MustSetViewport(360, 740, 2, true)
		page.MustNavigate(base + "/login?next=" + pageURL)
		page.MustWaitLoad()
		login(t, page, "zhang", "s3cret-pass-1")
		if u := page.MustInfo().URL; !strings.HasSuffix(u, pageURL) {
			t.Fatalf("after login the collector is at %s", u)
		}
		page.MustWait(`() => document.documentElement.getAttribute("data-offline-ready") === "true" &&
			document.documentElement.getAttribute("data-collect-ready") === "true"`)
		if n := page.MustEval(`() => JSON.parse(localStorage.getItem("tongxin.collect.keys")).keys.length`).Int(); n == 0 {
			t.Fatal("the page keeps no keys")
		}
		narrow(page, "the collector's page")
		shot(t, page, "collect-360.png")

		// The server goes away; the page, reloaded, comes from the worker.
		if err := s.stop(); err != nil {
			t.Fatalf("stop: %v", err)
		}
		page.MustReload()
		page.MustWaitLoad()
		page.MustWait(`() => document.documentElement.getAttribute("data-collect-ready") === "true"`)
		if !page.MustEval(`() => navigator.serviceWorker.controller !== null`).Bool() {
			t.Fatal("the reloaded page is not controlled by the service worker")
		}
		expect("offline title", page.MustElement("h1").MustText(), "芦淞区全员核酸")
		// Pool of 5, door to door.
		page.MustElement(`input[name="pool"][value="5"] + span`).MustClick()
		page.MustElement(`input[name="mode"][value="door"] + span`).MustClick()

		expect("a resident before any tube", scan(page, w.Codes[0], false), "请先扫描试管条码")
		expect("the first tube", scan(page, "T20221120A", true), "T20221120A", "5 混 1")
		expect("a household code", scan(page, w.Household, false), "户码")
		expect("a code of an unknown key", scan(page, forged, false), "居民码无效")
		tampered := []byte(w.Codes[1])
		i := strings.LastIndexByte(w.Codes[1], '.') + 5
		tampered[i] = map[bool]byte{true: 'B', false: 'A'}[tampered[i] == 'A']
		expect("a tampered code", scan(page, string(tampered), false), "签名无效")
		if n := queued(page); n != 0 {
			t.Fatalf("refused codes were queued (%d)", n)
		}
		for k := range 5 {
			note := scan(page, w.Codes[k], k == 0)
			if k < 4 {
				expect("a resident", note, "已采样", "居*", "大园社区")
			} else {
				expect("the fifth resident", note, "已满 5 人")
			}
		}
		narrow(page, "a full tube")
		shot(t, page, "collect-tube-full-360.png")
		expect("a sixth resident in a full tube", scan(page, w.Codes[5], false), "已满")
		expect("the next tube", scan(page, "T20221120B", false), "T20221120B")
		expect("a resident taken before", scan(page, w.Codes[2], false), "本机已采样过")
		expect("a resident", scan(page, w.Codes[5], false), "已采样")
		expect("an ID number", scan(page, w.IDNumbers[6], false), "身份证号", "430***********")
		wrong := w.IDNumbers[7][:17] + map[bool]string{true: "1", false: "0"}[w.IDNumbers[7][17] == '0']
		expect("a mistyped ID number", scan(page, wrong, false), "校验位")
		// Back to the full tube, then on with the second one where it was.
		expect("the full tube again", scan(page, "T20221120A", false), "已满 5 人")
		expect("the second tube again", scan(page, "T20221120B", false), "T20221120B：2/5")
		page.MustElement("#collect-next").MustClick()
		page.MustWait(`() => document.documentElement.getAttribute("data-tube") === ""`)
		if n := queued(page); n != 7 {
			t.Fatalf("%d samples queued offline, want 7", n)
		}
		expect("status", page.MustElement("#collect-net").MustText(), "离线")
		expect("queue", page.MustElement("#collect-queue").MustText(), "7")
		shot(t, page, "collect-offline-360.png")
		if n := app.CountSamples(t, sys, w.Round); n != 0 {
			t.Fatalf("%d samples stored while the server was down", n)
		}
		saved = page.MustEval(`() => localStorage.getItem("tongxin.collect.queue.` + w.Round + `")`).Str()

		// The server is back on the same address: the queue goes up by itself.
		s = serve(t, in, "--addr", addr)
		page.Timeout(2 * time.Minute).MustWait(`() => TongxinCollect.queue().length === 0`)
		if n := page.MustEval(`() => TongxinCollect.stats().created`).Int(); n != 7 {
			t.Fatalf("the page counts %d samples stored, want 7", n)
		}
		if n := app.CountSamples(t, sys, w.Round); n != 7 {
			t.Fatalf("%d samples stored, want 7", n)
		}
		expect("uploaded", page.MustElement("#collect-done").MustText(), "已上传 7 条")

		// The same queue again (an answer lost on the way), after a reload,
		// with one more record: a resident sampled before, on another device.
		page.MustEval(`(q, round) => {
			const list = JSON.parse(q);
			list.push(Object.assign({}, list[0], { client_id: "dother-" + round + "-1", tube: "T20221120C" }));
			localStorage.setItem("tongxin.collect.queue." + round, JSON.stringify(list));
		}`, saved, w.Round)
		page.MustReload()
		page.MustWaitLoad()
		page.Timeout(2 * time.Minute).MustWait(`() => document.documentElement.getAttribute("data-collect-ready") === "true" &&
			TongxinCollect.queue().length === 0`)
		if n := app.CountSamples(t, sys, w.Round); n != 7 {
			t.Fatalf("%d samples stored after the second upload, want 7", n)
		}
		var problems []struct{ Status, Message string }
		json.Unmarshal([]byte(page.MustEval(`() => JSON.stringify(TongxinCollect.problems())`).Str()), &problems)
		if len(problems) != 1 || problems[0].Status != "repeat" {
			t.Fatalf("problems %+v, want the repeat", problems)
		}
		expect("problems", page.MustElement("#collect-problems").MustText(), "本轮已采样")
		expect("uploaded after the second upload", page.MustElement("#collect-done").MustText(), "已上传 7 条")
		narrow(page, "the problems")
		shot(t, page, "collect-uploaded-360.png")
	})
	if err != nil {
		t.Fatal(err)
	}
}
