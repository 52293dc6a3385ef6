package checkpoint

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"tongxin/internal/auth"
	"tongxin/internal/passtoken"
	"tongxin/internal/web"
	"tongxin/internal/zonerule"
)

// The scan page of a checkpoint (卡口扫码), phone first: a hardware
// scanner typing into the field, the camera where the browser reads QR
// codes, or typing. The page works with no network: its script
// (static/js/scan.js, scan-verify.js) keeps the JWK Set, the revocation
// list and the checkpoint's area path in the browser's storage, verifies
// tokens itself when the server cannot be reached and queues those scans
// for the batch endpoint; the service worker below serves the page and its
// files offline. The rules of the verdict stay the server's: Service.Scan
// and ScanBatch decide what is logged.

// scanWorker is the service worker, served at ScanWorkerPath.
//
//go:embed scan_sw.js
var scanWorker []byte

// ScanWorkerPath is where the service worker is served: under
// /checkpoints/ so that it may control the scan pages (a worker's scope
// cannot reach above its own directory).
const ScanWorkerPath = "/checkpoints/sw.js"

// scanWorkerTag is the worker's ETag.
var scanWorkerTag = func() string {
	sum := sha256.Sum256(scanWorker)
	return `"` + hex.EncodeToString(sum[:8]) + `"`
}()

// ScanPage serves the scan page and its service worker.
type ScanPage struct {
	svc    *Service
	render *web.Renderer
}

// NewScanPage builds the scan page's handlers.
func NewScanPage(svc *Service, render *web.Renderer) *ScanPage {
	return &ScanPage{svc: svc, render: render}
}

// scanPageData is the data of checkpoint/scan.
type scanPageData struct {
	Checkpoint *Checkpoint
	LoginURL   string
	Config     scanConfig // read by scan.js from the JSON element #scan-config
}

// scanConfig is what scan.js needs: the checkpoint, the URLs it calls, and
// its texts in the page's language.
type scanConfig struct {
	Checkpoint  scanSite                    `json:"checkpoint"`
	URLs        map[string]string           `json:"urls"`
	Reasons     map[passtoken.Reason]string `json:"reasons"`
	Levels      map[zonerule.Level]string   `json:"levels,omitempty"` // zone levels, at an estate gate
	Text        map[string]string           `json:"text"`
	Lang        string                      `json:"lang"`
	GeneratedAt int64                       `json:"generated_at"` // Unix ms
}

// scanSite is the checkpoint as the browser checks passes against it: the
// id as tokens name it ("cp") and the area path that Claims.AllowedAt
// reads.
type scanSite struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	AreaPath string `json:"area_path"`
	AreaName string `json:"area_name"`
	// An estate gate's estate: the gate zone-rule.js decides resident
	// codes at (zonerule.Gate: the community, the estate's building keys).
	Gate *scanGate `json:"gate,omitempty"`
}

// ZoneSnapshotPath is where the scan page of an estate gate reads the
// zones and exit permits (the zone module's zonerule.Snapshot, whole or
// after a sequence number), which checkpoint officers may read.
const ZoneSnapshotPath = "/api/v1/zones/snapshot"

// scanGate is an estate gate as zone-rule.js takes it.
type scanGate struct {
	Estate    string   `json:"estate"`
	Community string   `json:"community"`
	Buildings []string `json:"buildings"`
}

// scanTexts are the catalog keys "scan.js.<name>" scan.js shows.
var scanTexts = []string{
	"allow", "deny", "online", "offline", "queued", "lists_never", "lists_age", "banner_never", "banner_warn",
	"banner_bad", "just_now", "minutes_ago", "hours_ago", "days_ago", "storage_full", "auth_lost", "source_server",
	"source_local", "uploaded", "pending", "refused", "holder", "id4", "plate", "enterprise", "validity",
	"camera_failed", "offline_ready", "offline_unsupported", "server_said", "unverifiable_word", "unverifiable",
	"crypto_unsupported", "number_offline", "number_refused", "photo",
	"photo_no_code", "resident", "household", "zone", "permit", "zones_never",
}

// Page is GET /checkpoints/{id}/scan.
func (pg *ScanPage) Page(w http.ResponseWriter, r *http.Request) error {
	c, err := pg.svc.scanPageCheckpoint(r.Context(), web.PrincipalOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := pg.svc.withBuildings(r.Context(), c); err != nil {
		return err
	}
	lang := web.LangOf(r)
	cat := pg.render.Catalog()
	ref := c.Ref()
	cfg := scanConfig{
		Checkpoint: scanSite{ID: ref, Name: c.Name, AreaPath: c.AreaPath, AreaName: c.AreaName},
		URLs: map[string]string{
			"jwks":        "/api/v1/passes/jwks.json",
			"revocations": "/api/v1/passes/revocations",
			"scan":        "/api/v1/checkpoints/" + ref + "/scans",
			"batch":       "/api/v1/checkpoints/" + ref + "/scans/batch",
			"sw":          ScanWorkerPath,
		},
		Levels:      map[zonerule.Level]string{},
		Reasons:     map[passtoken.Reason]string{},
		Text:        map[string]string{},
		Lang:        lang,
		GeneratedAt: pg.svc.Now().UnixMilli(),
	}
	for _, rs := range Reasons {
		cfg.Reasons[rs] = cat.T(lang, "scan.reason."+string(rs))
	}
	if c.Kind == EstateGate {
		cfg.Checkpoint.Gate = &scanGate{Estate: c.Estate, Community: c.AreaCode, Buildings: nonNil(c.buildings)}
		cfg.URLs["zones"] = ZoneSnapshotPath
		for _, l := range zonerule.Levels {
			cfg.Levels[l] = cat.T(lang, "scan.level."+string(l))
		}
	}
	for _, k := range scanTexts {
		cfg.Text[k] = cat.T(lang, "scan.js."+k)
	}
	d := scanPageData{Checkpoint: c, Config: cfg,
		LoginURL: "/login?next=" + url.QueryEscape("/checkpoints/"+ref+"/scan")}
	return pg.render.Page(w, r, http.StatusOK, "checkpoint/scan", cat.T(lang, "scan.title", c.Name), d)
}

// ScanNavItems are the menu entry and home card of checkpoint officers.
func ScanNavItems() []web.NavItem {
	return []web.NavItem{{Key: "scan.nav", DescKey: "scan.card", Path: "/scan", Roles: []auth.Role{auth.CheckpointOfficer}}}
}

// scanStartData is the data of checkpoint/scan-start.
type scanStartData struct {
	Checkpoints []auth.Scope
}

// Start is GET /scan, where an officer's menu leads: straight to the scan
// page of their checkpoint, or a choice when they stand at several.
func (pg *ScanPage) Start(w http.ResponseWriter, r *http.Request) error {
	p := web.PrincipalOf(r)
	if err := requireScan(p, "checkpoint.ScanStart"); err != nil {
		return err
	}
	var d scanStartData
	for _, a := range p.Assignments {
		if a.Scope.Kind == auth.ScopeCheckpoint && auth.RoleHas(a.Role, auth.CheckpointScan) &&
			!slices.ContainsFunc(d.Checkpoints, func(s auth.Scope) bool { return s.Ref == a.Scope.Ref }) {
			d.Checkpoints = append(d.Checkpoints, a.Scope)
		}
	}
	if len(d.Checkpoints) == 1 {
		http.Redirect(w, r, "/checkpoints/"+url.PathEscape(d.Checkpoints[0].Ref)+"/scan", http.StatusSeeOther)
		return nil
	}
	return pg.render.Page(w, r, http.StatusOK, "checkpoint/scan-start", "scan.start.title", d)
}

// Worker is GET /checkpoints/sw.js, the service worker of the scan pages.
// It holds no data, so it is public; browsers check it for updates on
// their own, so it is revalidated every time.
func (pg *ScanPage) Worker(w http.ResponseWriter, r *http.Request) error {
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", scanWorkerTag)
	if r.Header.Get("If-None-Match") == scanWorkerTag {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	h.Set("Content-Length", strconv.Itoa(len(scanWorker)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(scanWorker)
	}
	return nil
}
