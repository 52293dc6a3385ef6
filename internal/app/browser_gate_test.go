package app_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/input"

	"tongxin/internal/app"
	"tongxin/internal/masstest"
	"tongxin/internal/passtoken"
)

// The estate gate of the demo, 大园小区东门, on its officer's phone (360 px)
// with the zones of the zone module: 大园小区 sealed again now inside
// 大园社区's controlled zone, 古大桥社区 controlled. A resident of 大园小区
// is denied (zone_sealed), one with an exit permit the community issues
// goes out, a resident of 建设新村 (controlled, the gate inside that zone)
// passes, a resident of 古大桥社区 is denied (zone_controlled). With the
// server stopped the page gives the same verdicts from the zones it keeps
// (refreshed incrementally: the permit arrives by ?after=), and once the
// server is back the queued scans are logged once each.
func TestBrowserEstateGate(t *testing.T) {
	t.Parallel()
	const dayuan, gudaqiao = "430203001001", "430203001002"
	b := newBrowser(t)
	in, worker := setup(t, "sqlite")
	addr := freeAddr(t)
	s := serve(t, in, "--addr", addr)
	base := s.URL
	admin := strings.TrimSpace(mustCLI(t, in, "", "token", "create", "--username", "admin", "--name", "gate test"))
	post := func(token, path string, body any) response {
		t.Helper()
		bs, _ := json.Marshal(body)
		return do(t, "POST", base+path, token, "application/json", bs)
	}
	r := do(t, "GET", base+"/api/v1/checkpoints?kind=estate_gate", admin, "", nil)
	var gates struct {
		Items []struct {
			ID     int64  `json:"id"`
			Estate string `json:"estate"`
		}
	}
	r.json(t, &gates)
	if len(gates.Items) != 1 || gates.Items[0].Estate != "大园小区" {
		t.Fatalf("the demo's estate gates: %s", r.Body)
	}
	gateRef := fmt.Sprint(gates.Items[0].ID)

	// 大园小区 sealed again now (the demo lowered it), 古大桥社区 controlled.
	r = do(t, "GET", base+"/api/v1/zones?area="+dayuan, admin, "", nil)
	var inForce struct {
		Items []struct {
			ID     int64  `json:"id"`
			Kind   string `json:"kind"`
			Estate string `json:"estate"`
			Level  string `json:"level"`
		}
	}
	r.json(t, &inForce)
	decision := map[string]string{"reason": "浏览器测试：小区再次封控", "decision_no": "测试〔2022〕1号"}
	sealedNow := false
	for _, z := range inForce.Items {
		if z.Kind == "estate" && z.Estate == "大园小区" {
			change := map[string]string{"level": "sealed", "reason": decision["reason"], "decision_no": decision["decision_no"]}
			if r = post(admin, fmt.Sprintf("/api/v1/zones/%d/change", z.ID), change); r.Status != 201 {
				t.Fatalf("seal 大园小区: %d %s", r.Status, r.Body)
			}
			sealedNow = true
		}
	}
	if !sealedNow {
		t.Fatalf("no zone over 大园小区 in the demo: %s", r.Body)
	}
	if r = post(admin, "/api/v1/zones", map[string]string{"level": "controlled", "area_code": gudaqiao, "reason": "浏览器测试",
		"decision_no": "测试〔2022〕2号"}); r.Status != 201 {
		t.Fatalf("control 古大桥社区: %d %s", r.Status, r.Body)
	}

	// Resident codes of the register: two of 大园小区, one of 建设新村;
	// one of 古大桥社区 signed here with the server's key.
	codesOf := func(estate string, n int) (ids, tokens []string) {
		r := do(t, "GET", base+"/api/v1/households?area="+dayuan+"&estate="+url.QueryEscape(estate)+"&per_page="+fmt.Sprint(n), admin, "", nil)
		var hhs struct{ Items []struct{ ID int64 } }
		r.json(t, &hhs)
		for _, h := range hhs.Items {
			var codes struct {
				Residents []struct {
					ID    json.Number `json:"id"`
					Token string      `json:"token"`
				}
			}
			do(t, "GET", fmt.Sprintf("%s/api/v1/households/%d/codes", base, h.ID), admin, "", nil).json(t, &codes)
			if len(codes.Residents) == 0 {
				t.Fatalf("household %d has no resident codes", h.ID)
			}
			ids, tokens = append(ids, codes.Residents[0].ID.String()), append(tokens, codes.Residents[0].Token)
		}
		if len(tokens) != n {
			t.Fatalf("%d codes of %s", len(tokens), estate)
		}
		return ids, tokens
	}
	sealedIDs, sealedCodes := codesOf("大园小区", 2)
	_, jiansheCodes := codesOf("建设新村", 1)
	jianshe := jiansheCodes[0]
	r = do(t, "GET", base+"/api/v1/passes/jwks.json", "", "", nil)
	var jwks struct{ Keys []struct{ Kid string } }
	r.json(t, &jwks)
	if len(jwks.Keys) == 0 {
		t.Fatalf("no keys: %s", r.Body)
	}
	elsewhere, err := passtoken.SignResident(serverKey(t, in, jwks.Keys[0].Kid), jwks.Keys[0].Kid, passtoken.ResidentClaims{
		RID: "rid-gudaqiao-1", HH: "hh-gudaqiao-1", Name: "古*", Area: gudaqiao,
		Building: masstest.BuildingKey(gudaqiao, "枫林苑", "3栋"), IAT: time.Now().Add(-time.Hour).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	sealedA, sealedB := sealedCodes[0], sealedCodes[1]

	scanURL := "/checkpoints/" + gateRef + "/scan"
	attr := func(page *rod.Page, sel, name string) string {
		if v := page.MustElement(sel).MustAttribute(name); v != nil {
			return *v
		}
		return ""
	}
	scanOnce := func(page *rod.Page, token string) (verdict, reason, source, text string) {
		page.MustEval(`() => { document.getElementById("scan-verdict").hidden = true; }`)
		page.MustElement("#scan-token").MustFocus()
		page.MustInsertText(token)
		page.Keyboard.MustType(input.Enter)
		page.MustWait(`() => !document.getElementById("scan-verdict").hidden`)
		return attr(page, "#scan-verdict", "data-verdict"), attr(page, "#scan-verdict", "data-reason"),
			attr(page, "#scan-verdict", "data-source"), page.MustElement("#scan-verdict").MustText()
	}
	cases := []struct {
		name, token, verdict, reason, words string
	}{
		{"a resident of sealed 大园小区", sealedB, "deny", "zone_sealed", "封控区"},
		{"the same with an exit permit", sealedA, "allow", "ok", "外出许可"},
		{"a resident of 建设新村, inside the controlled zone", jianshe, "allow", "ok", "管控区"},
		{"a resident of a controlled zone elsewhere", elsewhere, "deny", "zone_controlled", "管控区"},
	}
	// scanCases scans every case, expecting the verdicts from source:
	// the server's, or the page's own.
	scanCases := func(page *rod.Page, want string) {
		for _, c := range cases {
			v, reason, source, text := scanOnce(page, c.token)
			if v != c.verdict || reason != c.reason || source != want || !strings.Contains(text, c.words) {
				t.Fatalf("%s, %s: %s %s %s\n%s", want, c.name, v, reason, source, text)
			}
			if c.reason == "zone_sealed" {
				shot(t, page, "gate-sealed-"+want+"-360.png")
			}
		}
	}
	var queuedIDs []string
	err = rod.Try(func() {
		page := b.MustPage("").Timeout(pageBudget)
		page.MustSetViewport(360, 740, 2, true)
		page.MustNavigate(base + "/login?next=" + scanURL)
		page.MustWaitLoad()
		login(t, page, "menggang", app.DemoPassword)
		page.MustWait(`() => document.documentElement.getAttribute("data-offline-ready") === "true" &&
			document.documentElement.getAttribute("data-scan-ready") === "true"`)
		seq := page.MustEval(`() => TongxinScan.zones().snap.seq`).Int()
		if seq == 0 {
			t.Fatal("the page holds no zones")
		}
		// Online, before the permit: denied.
		if v, reason, source, _ := scanOnce(page, sealedA); v != "deny" || reason != "zone_sealed" || source != "server" {
			t.Fatalf("online, sealed resident before the permit: %s %s %s", v, reason, source)
		}
		// The community issues an exit permit; the server knows at once,
		// the page at its next refresh (the changes after its seq).
		now := time.Now()
		if r := post(worker, "/api/v1/zone-permits", map[string]string{"resident": sealedIDs[0], "reason": "就医（透析）",
			"valid_from": now.Add(-time.Minute).Format(time.RFC3339), "valid_to": now.Add(3 * time.Hour).Format(time.RFC3339)}); r.Status != 201 {
			t.Fatalf("exit permit: %d %s", r.Status, r.Body)
		}
		scanCases(page, "server")
		page.MustEval(`() => TongxinScan.refresh()`)
		if n := page.MustEval(`() => TongxinScan.zones().snap.seq`).Int(); n <= seq {
			t.Fatalf("after the refresh the page holds the zones up to %d, as before", n)
		}
		if w := page.MustEval(`() => document.documentElement.scrollWidth`).Int(); w > 360 {
			t.Fatalf("the gate's scan page is %d px wide", w)
		}

		// The server goes away: the same verdicts from the page.
		if err := s.stop(); err != nil {
			t.Fatalf("stop: %v", err)
		}
		page.MustReload()
		page.MustWaitLoad()
		page.MustWait(`() => document.documentElement.getAttribute("data-scan-ready") === "true"`)
		scanCases(page, "local")
		ids := page.MustEval(`() => JSON.stringify(TongxinScan.queue().map(s => s.client_id))`).Str()
		json.Unmarshal([]byte(ids), &queuedIDs)
		if len(queuedIDs) != len(cases) {
			t.Fatalf("%d scans queued offline, want %d", len(queuedIDs), len(cases))
		}
		saved := page.MustEval(`() => localStorage.getItem("tongxin.scan.queue.` + gateRef + `")`).Str()

		// Back: the queue goes up by itself, and once only.
		s = serve(t, in, "--addr", addr)
		page.Timeout(2 * time.Minute).MustWait(`() => TongxinScan.queue().length === 0`)
		page.MustEval(`(q) => { localStorage.setItem("tongxin.scan.queue.`+gateRef+`", q); return TongxinScan.flush(); }`, saved)
		if n := page.MustEval(`() => TongxinScan.queue().length`).Int(); n != 0 {
			t.Fatalf("%d scans left after the second upload", n)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	r = do(t, "GET", base+"/api/v1/checkpoints/"+gateRef+"/scans?limit=100", admin, "", nil)
	var logged struct {
		Items []struct {
			ClientID string `json:"client_id"`
			Reason   string `json:"reason"`
			Shown    string `json:"shown"`
			Offline  bool   `json:"offline"`
			Resident *struct {
				RID  string `json:"rid"`
				Name string `json:"name"`
			} `json:"resident"`
		}
	}
	r.json(t, &logged)
	if len(logged.Items) != 2*len(cases)+1 {
		t.Fatalf("%d scans logged, want %d online and %d offline:\n%s", len(logged.Items), len(cases)+1, len(cases), r.Body)
	}
	offline := map[string]string{}
	for i, id := range queuedIDs {
		offline[id] = cases[i].reason
	}
	for _, it := range logged.Items {
		if it.Shown != "resident" || it.Resident == nil || it.Resident.RID == "" || !strings.Contains(it.Resident.Name, "*") {
			t.Errorf("scan %s logged as %+v", it.ClientID, it)
		}
		if w, ok := offline[it.ClientID]; ok {
			if it.Reason != w || !it.Offline {
				t.Errorf("queued scan %s logged as %s (offline %v), want %s", it.ClientID, it.Reason, it.Offline, w)
			}
			delete(offline, it.ClientID)
		}
	}
	if len(offline) > 0 {
		t.Errorf("queued scans missing: %v", offline)
	}
	if strings.Contains(string(r.Body), "id_number") {
		t.Error("the scan log holds ID numbers")
	}
}
