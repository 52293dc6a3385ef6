package masstest

import (
	"net/http"
	"net/url"
	"strconv"

	"tongxin/internal/auth"
	"tongxin/internal/passtoken"
	"tongxin/internal/web"
)

// The collector's phone page (采样): choose the pool size and the mode,
// scan a tube, then the residents one after another — a hardware scanner
// typing into the field, the camera, or a typed ID number. The page's
// script (static/js/collect.js, with the checkpoint's scan-verify.js for
// base64 and Ed25519) verifies each resident code itself with the JWK Set
// it keeps, so that sampling goes on with no network; samples wait in the
// browser's storage and go to POST /api/v1/rounds/{id}/samples in
// batches, each with a client id made on the device, which the server
// stores once. The service worker is the checkpoint scan page's, served
// under /rounds/ (CollectWorkerPath) so that it may control these pages.

// CollectWorkerPath is where the app serves the service worker of the
// collector's pages.
const CollectWorkerPath = "/rounds/sw.js"

// collectBatch is the most samples collect.js sends in one request.
const collectBatch = 500

// collectTexts are the catalog keys "collect.js.<name>" collect.js shows.
var collectTexts = []string{
	"online", "offline", "queued", "uploaded", "tube_needed", "tube_now", "tube_full", "tube_started", "tube_closed",
	"resident_ok", "id_ok", "bad_code", "household_code", "crypto_unsupported", "keys_never", "keys_age", "repeat",
	"repeat_here", "invalid_id", "invalid_input", "offline_ready", "offline_unsupported", "auth_lost", "camera_failed",
	"storage_full", "round_closed", "problem", "forbidden", "pending", "created", "site_needed", "just_now",
	"minutes_ago", "hours_ago", "days_ago",
}

// collectReasons are the resident code checks shown by their names.
var collectReasons = []passtoken.Reason{passtoken.Malformed, passtoken.BadSignature, passtoken.UnknownKey}

// collectConfig is what collect.js reads from the JSON element
// #collect-config.
type collectConfig struct {
	Round       collectRound      `json:"round"`
	Sites       []collectSite     `json:"sites"`
	Modes       []SampleMode      `json:"modes"`
	Pools       []int             `json:"pools"`
	Batch       int               `json:"batch"`
	URLs        map[string]string `json:"urls"`
	Reasons     map[string]string `json:"reasons"`
	Text        map[string]string `json:"text"`
	Areas       map[string]string `json:"areas"` // area codes and names, for the community of a resident code
	User        string            `json:"user"`
	Lang        string            `json:"lang"`
	GeneratedAt int64             `json:"generated_at"` // Unix ms
}

type collectRound struct {
	ID       int64  `json:"id"`
	Number   int    `json:"number"`
	Campaign string `json:"campaign"`
	Open     bool   `json:"open"`
	StartsAt int64  `json:"starts_at"` // Unix ms
	EndsAt   int64  `json:"ends_at"`
}

type collectSite struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Place string `json:"place"`
}

// collectPageData is the data of masstest/collect.
type collectPageData struct {
	View     *CollectView
	Pools    []int
	LoginURL string
	Config   collectConfig
}

// Collect is GET /rounds/{id}/collect.
func (pg *Pages) Collect(w http.ResponseWriter, r *http.Request) error {
	p := web.PrincipalOf(r)
	v, err := pg.svc.CollectPage(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	ref := strconv.FormatInt(v.Round.ID, 10)
	lang := web.LangOf(r)
	cat := pg.render.Catalog()
	rd := v.Round
	cfg := collectConfig{
		Round: collectRound{ID: rd.ID, Number: rd.Number, Campaign: rd.Campaign, Open: rd.Open,
			StartsAt: rd.StartsAt.UnixMilli(), EndsAt: rd.EndsAt.UnixMilli()},
		Sites: []collectSite{}, Modes: v.Modes, Pools: PoolSizes, Batch: collectBatch,
		URLs: map[string]string{
			"jwks":    "/api/v1/passes/jwks.json",
			"samples": "/api/v1/rounds/" + ref + "/samples",
			"sw":      CollectWorkerPath,
		},
		Reasons: map[string]string{}, Text: map[string]string{}, Areas: v.Areas,
		User: p.Username, Lang: lang, GeneratedAt: pg.svc.Now().UnixMilli(),
	}
	for _, s := range v.Sites {
		cfg.Sites = append(cfg.Sites, collectSite{ID: s.ID, Name: s.Name, Place: s.Place})
	}
	for _, rs := range collectReasons {
		cfg.Reasons[string(rs)] = cat.T(lang, "collect.reason."+string(rs))
	}
	for _, k := range collectTexts {
		cfg.Text[k] = cat.T(lang, "collect.js."+k)
	}
	d := collectPageData{View: v, Pools: PoolSizes, Config: cfg,
		LoginURL: "/login?next=" + url.QueryEscape("/rounds/"+ref+"/collect")}
	title := pg.t(r, "collect.title", rd.Campaign, rd.Number)
	return pg.render.Page(w, r, http.StatusOK, "masstest/collect", title, d)
}

// collectStartData is the data of masstest/collect-start.
type collectStartData struct {
	Rounds []*Round
}

// CollectStart is GET /collect, where the menu leads: straight to the
// page of the one open round where the user may sample, or a choice.
func (pg *Pages) CollectStart(w http.ResponseWriter, r *http.Request) error {
	rounds, err := pg.svc.CollectRounds(r.Context(), web.PrincipalOf(r))
	if err != nil {
		return err
	}
	if len(rounds) == 1 {
		http.Redirect(w, r, "/rounds/"+strconv.FormatInt(rounds[0].ID, 10)+"/collect", http.StatusSeeOther)
		return nil
	}
	return pg.render.Page(w, r, http.StatusOK, "masstest/collect-start", "collect.start.title", collectStartData{Rounds: rounds})
}

// CollectNavItems are the menu entry and home card of collectors.
func CollectNavItems() []web.NavItem {
	// Volunteers see it too: they sample as members of a campaign's teams,
	// which no permission of theirs says (the page lists the rounds where
	// they may, or says there is none).
	return []web.NavItem{{Key: "collect.nav", DescKey: "collect.card", Path: "/collect", Perm: auth.TestingSample,
		Roles: []auth.Role{auth.Volunteer}}}
}
