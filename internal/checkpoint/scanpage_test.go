package checkpoint

import (
	"encoding/json"
	"html"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"tongxin/internal/auth"
	"tongxin/internal/passtoken"
	"tongxin/internal/testcity"
	"tongxin/internal/web"
)

// scanEnv mounts the scan page as the app does, behind the real adapter
// and error pages.
func scanEnv(t *testing.T, f *fixture) (*http.ServeMux, *web.Catalog) {
	t.Helper()
	site := testcity.NewSite(t, nil, os.DirFS("templates"))
	pg := NewScanPage(f.svc, site.Render)
	site.Mount(map[string]web.Handler{
		"GET /scan":                  pg.Start,
		"GET /checkpoints/{id}/scan": pg.Page,
		"GET " + ScanWorkerPath:      pg.Worker,
	})
	return site.Mux, site.Catalog
}

func scanGet(mux *http.ServeMux, target string, p *auth.Principal, hdr ...string) *httptest.ResponseRecorder {
	q := testcity.Request{Target: target, As: p, Header: map[string]string{}}
	for i := 0; i+1 < len(hdr); i += 2 {
		q.Header[hdr[i]] = hdr[i+1]
	}
	return testcity.Serve(mux, q)
}

var scanConfigRE = regexp.MustCompile(`(?s)<script type="application/json" id="scan-config">(.*?)</script>`)

// The scan page opens for the checkpoint's officers and its managers, with
// what the browser verifies against: the checkpoint's id as tokens name it
// and its area path; nobody else learns the checkpoint exists.
func TestScanPage(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		mux, _ := scanEnv(t, f)
		bridge := f.checkpoint("建宁大桥卡口", Bridge, "430211001")
		other := f.checkpoint("枫溪大桥卡口", Bridge, "430203")
		officer := f.user("kakou", auth.CheckpointOfficer, "checkpoint:"+ref(bridge))
		stranger := f.user("kakou2", auth.CheckpointOfficer, "checkpoint:"+ref(other))
		commander := f.user("boss", auth.HQCommander, "430200")

		w := scanGet(mux, "/checkpoints/"+ref(bridge)+"/scan", officer)
		if w.Code != 200 {
			t.Fatalf("officer: %d %s", w.Code, w.Body)
		}
		body := w.Body.String()
		for _, want := range []string{"建宁大桥卡口", `id="scan-token"`, "/static/js/scan.", "/static/js/scan-verify.", "/static/css/scan."} {
			if !strings.Contains(body, want) {
				t.Errorf("scan page lacks %q", want)
			}
		}
		if strings.Contains(body, "<script>") {
			t.Error("the scan page has an inline script, which the Content-Security-Policy forbids")
		}
		m := scanConfigRE.FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no #scan-config in:\n%s", body)
		}
		var cfg scanConfig
		if err := json.Unmarshal([]byte(m[1]), &cfg); err != nil {
			t.Fatalf("#scan-config is not JSON: %v\n%s", err, m[1])
		}
		if cfg.Checkpoint.ID != ref(bridge) || cfg.Checkpoint.AreaPath != bridge.AreaPath || !strings.Contains(cfg.Checkpoint.AreaPath, "/430211/") {
			t.Errorf("config checkpoint = %+v, want id %s path %s", cfg.Checkpoint, ref(bridge), bridge.AreaPath)
		}
		if cfg.URLs["batch"] != "/api/v1/checkpoints/"+ref(bridge)+"/scans/batch" || cfg.URLs["sw"] != ScanWorkerPath {
			t.Errorf("config urls = %v", cfg.URLs)
		}
		for _, r := range Reasons {
			if cfg.Reasons[r] != passtoken.ReasonNames[r] {
				t.Errorf("reason %s reads %q, want passtoken.ReasonNames %q", r, cfg.Reasons[r], passtoken.ReasonNames[r])
			}
		}
		for _, k := range scanTexts {
			if v := cfg.Text[k]; v == "" || v == "scan.js."+k {
				t.Errorf("text %s is missing from the catalog", k)
			}
		}

		// The same page in English keeps the checkpoint and names reasons in English.
		en := testcity.Serve(mux, testcity.Request{Target: "/checkpoints/" + ref(bridge) + "/scan", As: officer, Lang: web.LangEN})
		if en.Code != 200 || !strings.Contains(html.UnescapeString(en.Body.String()), "Not valid in this area") {
			t.Errorf("English page: %d", en.Code)
		}

		for _, c := range []struct {
			name   string
			target string
			p      *auth.Principal
			status int
		}{
			{"anonymous", "/checkpoints/" + ref(bridge) + "/scan", nil, 401},
			{"officer of another checkpoint", "/checkpoints/" + ref(bridge) + "/scan", stranger, 404},
			{"reader, not on duty", "/checkpoints/" + ref(bridge) + "/scan", commander, 403},
			{"no such checkpoint", "/checkpoints/999999/scan", officer, 404},
			{"not an id", "/checkpoints/abc/scan", officer, 404},
		} {
			if w := scanGet(mux, c.target, c.p); w.Code != c.status {
				t.Errorf("%s: %d, want %d", c.name, w.Code, c.status)
			}
		}

		// /scan leads an officer to their checkpoint.
		if w := scanGet(mux, "/scan", officer); w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/checkpoints/"+ref(bridge)+"/scan" {
			t.Errorf("/scan: %d → %q", w.Code, w.Header().Get("Location"))
		}
		if w := scanGet(mux, "/scan", nil); w.Code != 401 {
			t.Errorf("/scan anonymous: %d", w.Code)
		}
	})
}

// The service worker is JavaScript, public, revalidated, and answers 304
// to its own ETag.
func TestScanWorker(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		mux, _ := scanEnv(t, f)
		w := scanGet(mux, ScanWorkerPath, nil)
		if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/javascript") ||
			!strings.Contains(w.Body.String(), `addEventListener("fetch"`) || w.Header().Get("Cache-Control") != "no-cache" {
			t.Fatalf("worker: %d %q %q", w.Code, w.Header().Get("Content-Type"), w.Header().Get("Cache-Control"))
		}
		if w2 := scanGet(mux, ScanWorkerPath, nil, "If-None-Match", w.Header().Get("ETag")); w2.Code != 304 {
			t.Fatalf("worker revalidation: %d", w2.Code)
		}
	})
}
