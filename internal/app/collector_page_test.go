package app

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/db/dbtest"
)

// The collector's page through the real router: it renders for a
// community worker of the round's area and for a member of one of the
// campaign's teams, with the configuration collect.js reads; it is
// forbidden to a district officer who reads the round but may not sample,
// and not found for a worker elsewhere. The menu leads there, and the
// samples the page sends are stored once however often they are sent.
func TestCollectPage(t *testing.T) {
	t.Parallel()
	for _, kind := range dbtest.Kinds() {
		t.Run(kind, func(t *testing.T) { collectPage(t, kind) })
	}
}

func collectPage(t *testing.T, kind string) {
	ts := newTestSystem(t, kind)
	ctx := context.Background()
	for _, u := range []struct{ name, role, scope string }{
		{"cjw", "community_worker", "430203001001"},    // 大园社区
		{"cjteam", "community_worker", "430204001002"}, // 井龙社区, in the team
		{"cjother", "community_worker", "430204001002"},
		{"cjdist", "district_officer", "430203"},
	} {
		if _, err := ts.sys.Auth.CreateUser(ctx, auth.System(), auth.NewUser{Username: u.name, DisplayName: u.name,
			Password: strongPassword, Roles: []auth.RoleInput{{Role: u.role, Scope: u.scope}}}); err != nil {
			t.Fatal(err)
		}
	}
	w := SeedCollect(t, ts.sys, 2, 3, "cjteam")
	page := "/rounds/" + w.Round + "/collect"

	for _, who := range []string{"cjw", "cjteam"} {
		cookie := ts.login(t, who, strongPassword)
		r := ts.as(t, cookie, "GET", page, "")
		if r.status != 200 {
			t.Fatalf("%s: %d %s", who, r.status, r.body)
		}
		body := string(r.body)
		for _, want := range []string{"芦淞区全员核酸 · 第 1 轮", "10 混 1", "单采", "上门", "大园社区广场", "下一管", "collect-config", "/static/js/collect",
			"/static/js/scan-verify"} {
			if !strings.Contains(body, want) {
				t.Fatalf("%s: the page lacks %q", who, want)
			}
		}
		cfg := collectConfigOf(t, body)
		if cfg.URLs["samples"] != "/api/v1/rounds/"+w.Round+"/samples" || cfg.URLs["sw"] != "/rounds/sw.js" || !cfg.Round.Open ||
			len(cfg.Sites) != 1 || cfg.Text["tube_needed"] != "请先扫描试管条码" || cfg.Reasons["bad_signature"] == "" {
			t.Fatalf("%s: config %+v", who, cfg)
		}
		// The menu's entry leads to the round: at once when it is the
		// one open round, else in the choice of rounds (the demo has
		// today's round open in 大园社区).
		r = ts.as(t, cookie, "GET", "/collect", "")
		if !(r.status == 303 && r.header.Get("Location") == page) && !(r.status == 200 && strings.Contains(string(r.body), page)) {
			t.Fatalf("%s: /collect: %d %s", who, r.status, r.header.Get("Location"))
		}
	}
	home := ts.as(t, ts.login(t, "cjw", strongPassword), "GET", "/", "")
	if !strings.Contains(string(home.body), `href="/collect"`) {
		t.Fatal("a community worker's home has no link to the collector's page")
	}
	other := ts.login(t, "cjother", strongPassword)
	if r := ts.as(t, other, "GET", page, ""); r.status != 404 {
		t.Fatalf("a worker of another district: %d", r.status)
	}
	if r := ts.as(t, other, "GET", "/collect", ""); r.status != 200 || !strings.Contains(string(r.body), "目前没有您可以采样的进行中轮次") {
		t.Fatalf("a worker with no round: /collect %d", r.status)
	}
	dist := ts.login(t, "cjdist", strongPassword)
	if r := ts.as(t, dist, "GET", page, ""); r.status != 403 {
		t.Fatalf("a district officer: %d", r.status)
	}
	if r := ts.as(t, dist, "GET", "/rounds/999999/collect", ""); r.status != 404 {
		t.Fatalf("no such round: %d", r.status)
	}
	// The service worker is public JavaScript.
	if r := ts.do(t, "GET", "/rounds/sw.js", "", "", nil); r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/javascript") {
		t.Fatalf("worker: %d %s", r.status, r.header.Get("Content-Type"))
	}

	// Samples as collect.js sends them, twice: each stored once.
	cookie := ts.login(t, "cjw", strongPassword)
	at := ts.sys.DB.Clock.Now().Add(-time.Minute).UTC().Format(time.RFC3339Nano)
	var recs []map[string]any
	for i, code := range w.Codes[:4] {
		recs = append(recs, map[string]any{"client_id": fmt.Sprintf("dtest0001-%s-%d", w.Round, i+1), "tube": "T0001",
			"pool_size": 5, "mode": "site", "site_id": w.Site, "sampled_at": at, "resident_code": code})
	}
	recs = append(recs, map[string]any{"client_id": "dtest0001-" + w.Round + "-9", "tube": "T0001", "pool_size": 5, "mode": "door",
		"sampled_at": at, "resident_code": w.Household})
	body, _ := json.Marshal(recs)
	for range 2 {
		r := ts.as(t, cookie, "POST", "/api/v1/rounds/"+w.Round+"/samples", string(body))
		var out struct {
			Items []struct{ Status, Code string }
		}
		if r.status != 200 || json.Unmarshal(r.body, &out) != nil || len(out.Items) != 5 {
			t.Fatalf("samples: %d %s", r.status, r.body)
		}
		for i, it := range out.Items[:4] {
			if it.Status != "created" {
				t.Fatalf("record %d: %+v", i, it)
			}
		}
		if out.Items[4].Status != "error" || out.Items[4].Code != "household_code" {
			t.Fatalf("the household code: %+v", out.Items[4])
		}
	}
	if n := CountSamples(t, ts.sys, w.Round); n != 4 {
		t.Fatalf("%d samples stored, want 4", n)
	}
}

type collectPageConfig struct {
	Round struct {
		Open bool `json:"open"`
	} `json:"round"`
	Sites   []map[string]any  `json:"sites"`
	URLs    map[string]string `json:"urls"`
	Text    map[string]string `json:"text"`
	Reasons map[string]string `json:"reasons"`
}

func collectConfigOf(t *testing.T, body string) collectPageConfig {
	t.Helper()
	_, rest, ok := strings.Cut(body, `id="collect-config">`)
	js, _, ok2 := strings.Cut(rest, "</script>")
	var cfg collectPageConfig
	if !ok || !ok2 || json.Unmarshal([]byte(js), &cfg) != nil {
		t.Fatalf("no JSON configuration in the page")
	}
	return cfg
}
