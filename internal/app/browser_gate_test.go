package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/input"

	"tongxin/internal/app"
	"tongxin/internal/masstest"
	"tongxin/internal/passtoken"
	"tongxin/internal/zonerule"
)

// gateZones stands in for the zone module: a snapshot the test changes.
type gateZones struct {
	mu   sync.Mutex
	snap *zonerule.Snapshot
}

func (z *gateZones) GateIndex(context.Context) (*zonerule.Index, error) {
	z.mu.Lock()
	defer z.mu.Unlock()
	c := *z.snap
	return zonerule.NewIndex(&c), nil
}

func (z *gateZones) merge(d *zonerule.Snapshot) {
	z.mu.Lock()
	defer z.mu.Unlock()
	c := *z.snap
	c.Zones, c.Permits = append([]zonerule.Zone{}, c.Zones...), append([]zonerule.Permit{}, c.Permits...)
	c.Merge(d)
	z.snap = &c
}

// The estate gate of the demo, 大园小区东门, on its officer's phone (360 px)
// while 大园小区 is sealed and 大园社区 controlled around it: a resident of
// 大园小区 is denied (zone_sealed), the same with an exit permit in force
// goes out, a resident of 建设新村 (controlled, the gate inside that zone)
// passes, a resident of a controlled zone elsewhere is denied
// (zone_controlled). With the server stopped the page gives the same
// verdicts from the zones it keeps (refreshed incrementally, the permit
// arriving by ?after=), and once the server is back the queued scans are
// logged once each. The zones come from a stand-in for the zone module
// (app.SetGateZones) until internal/zone is wired; the test does not run
// in parallel, since the stand-in is wired into every server started
// meanwhile.
func TestBrowserEstateGate(t *testing.T) {
	const dayuan, jianning = "430203001001", "430203001002"
	now := time.Now()
	ms := func(d time.Duration) int64 { return now.Add(d).UnixMilli() }
	var sealed []string
	for b := 1; b <= 6; b++ {
		sealed = append(sealed, masstest.BuildingKey(dayuan, "大园小区", fmt.Sprintf("%d栋", b)))
	}
	zones := &gateZones{snap: &zonerule.Snapshot{Seq: 2, Full: true, Zones: []zonerule.Zone{
		{ID: 1, Level: zonerule.Sealed, Buildings: sealed, From: ms(-24 * time.Hour), Seq: 1},
		{ID: 2, Level: zonerule.Controlled, Communities: []string{dayuan}, From: ms(-24 * time.Hour), Seq: 2},
		{ID: 3, Level: zonerule.Controlled, Communities: []string{jianning}, From: ms(-24 * time.Hour), Seq: 2},
	}}}
	app.SetGateZones(t, zones)

	b := newBrowser(t)
	in, _ := setup(t, "sqlite")
	addr := freeAddr(t)
	s := serve(t, in, "--addr", addr)
	base := s.URL
	admin := strings.TrimSpace(mustCLI(t, in, "", "token", "create", "--username", "admin", "--name", "gate test"))
	r := do(t, "GET", base+"/api/v1/checkpoints?kind=estate_gate", admin, "", nil)
	var gates struct {
		Items []struct {
			ID     int64  `json:"id"`
			Name   string `json:"name"`
			Estate string `json:"estate"`
		}
	}
	r.json(t, &gates)
	if len(gates.Items) != 1 || gates.Items[0].Estate != "大园小区" {
		t.Fatalf("the demo's estate gates: %s", r.Body)
	}
	gateRef := fmt.Sprint(gates.Items[0].ID)
	r = do(t, "GET", base+"/api/v1/passes/jwks.json", "", "", nil)
	var jwks struct{ Keys []struct{ Kid string } }
	r.json(t, &jwks)
	if len(jwks.Keys) == 0 {
		t.Fatalf("no keys: %s", r.Body)
	}
	key := serverKey(t, in, jwks.Keys[0].Kid)
	code := func(rid, community, estate, building string) string {
		tok, err := passtoken.SignResident(key, jwks.Keys[0].Kid, passtoken.ResidentClaims{RID: rid, HH: "hh-" + rid, Name: "住*",
			Area: community, Building: masstest.BuildingKey(community, estate, building), IAT: now.Add(-time.Hour).Unix()})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	sealedA, sealedB := code("rid-gate-a", dayuan, "大园小区", "2栋"), code("rid-gate-b", dayuan, "大园小区", "5栋")
	jianshe := code("rid-gate-c", dayuan, "建设新村", "1栋")
	elsewhere := code("rid-gate-d", jianning, "枫林苑", "3栋")

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
	var queuedIDs []string
	err := rod.Try(func() {
		page := b.MustPage("").Timeout(pageBudget)
		page.MustSetViewport(360, 740, 2, true)
		page.MustNavigate(base + "/login?next=" + scanURL)
		page.MustWaitLoad()
		login(t, page, "menggang", app.DemoPassword)
		page.MustWait(`() => document.documentElement.getAttribute("data-offline-ready") === "true" &&
			document.documentElement.getAttribute("data-scan-ready") === "true"`)
		if seq := page.MustEval(`() => TongxinScan.zones().snap.seq`).Int(); seq != 2 {
			t.Fatalf("the page holds the zones up to %d, want 2", seq)
		}
		// Online, before the permit: denied.
		if v, reason, source, _ := scanOnce(page, sealedA); v != "deny" || reason != "zone_sealed" || source != "server" {
			t.Fatalf("online, sealed resident before the permit: %s %s %s", v, reason, source)
		}
		// The community issues an exit permit; the server knows at once,
		// the page at its next refresh (the change after seq 2 only).
		zones.merge(&zonerule.Snapshot{Seq: 3, Permits: []zonerule.Permit{
			{ID: 9, Resident: "rid-gate-a", From: ms(-time.Hour), To: ms(3 * time.Hour), Seq: 3}}})
		for _, c := range cases {
			v, reason, source, text := scanOnce(page, c.token)
			if v != c.verdict || reason != c.reason || source != "server" || !strings.Contains(text, c.words) {
				t.Fatalf("online, %s: %s %s %s\n%s", c.name, v, reason, source, text)
			}
			if c.reason == "zone_sealed" {
				shot(t, page, "gate-sealed-online-360.png")
			}
		}
		page.MustEval(`() => TongxinScan.refresh()`)
		if n := page.MustEval(`() => TongxinScan.zones().snap.permits.length`).Int(); n != 1 {
			t.Fatalf("after the refresh the page holds %d permits", n)
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
		for _, c := range cases {
			v, reason, source, text := scanOnce(page, c.token)
			if v != c.verdict || reason != c.reason || source != "local" || !strings.Contains(text, c.words) {
				t.Fatalf("offline, %s: %s %s %s\n%s", c.name, v, reason, source, text)
			}
			if c.reason == "zone_sealed" {
				shot(t, page, "gate-sealed-offline-360.png")
			}
		}
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
		if it.Shown != "resident" || it.Resident == nil || !strings.HasPrefix(it.Resident.RID, "rid-gate-") || it.Resident.Name != "住*" {
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
	if strings.Contains(string(r.Body), "4302") && strings.Contains(string(r.Body), "id_number") {
		t.Error("the scan log holds ID numbers")
	}
}
