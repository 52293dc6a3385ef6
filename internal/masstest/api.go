package masstest

import (
	"context"
	"net/http"

	"tongxin/internal/auth"
	"tongxin/internal/web"
)

// API serves the JSON routes of mass testing.
type API struct{ svc *Service }

// NewAPI builds the handlers.
func NewAPI(svc *Service) *API { return &API{svc: svc} }

// CreateCampaign answers POST /api/v1/campaigns with 201 and the campaign.
func (a *API) CreateCampaign(w http.ResponseWriter, r *http.Request) error {
	return web.Decode(w, r, http.StatusCreated, a.svc.CreateCampaign)
}

// Campaigns answers GET /api/v1/campaigns.
func (a *API) Campaigns(w http.ResponseWriter, r *http.Request) error {
	return web.List(w, r, a.svc.ListCampaigns)
}

// Campaign answers GET /api/v1/campaigns/{id} with its rounds.
func (a *API) Campaign(w http.ResponseWriter, r *http.Request) error {
	return web.Answer(w, r, func(ctx context.Context, p *auth.Principal) (*Campaign, error) {
		return a.svc.GetCampaign(ctx, p, r.PathValue("id"))
	})
}

// CreateRound answers POST /api/v1/campaigns/{id}/rounds with 201.
func (a *API) CreateRound(w http.ResponseWriter, r *http.Request) error {
	return web.Decode(w, r, http.StatusCreated, func(ctx context.Context, p *auth.Principal, in RoundInput) (*Round, error) {
		return a.svc.CreateRound(ctx, p, r.PathValue("id"), in)
	})
}

// CreateSite answers POST /api/v1/campaigns/{id}/sites with 201.
func (a *API) CreateSite(w http.ResponseWriter, r *http.Request) error {
	return web.Decode(w, r, http.StatusCreated, func(ctx context.Context, p *auth.Principal, in SiteInput) (*Site, error) {
		return a.svc.CreateSite(ctx, p, r.PathValue("id"), in)
	})
}

// Sites answers GET /api/v1/campaigns/{id}/sites.
func (a *API) Sites(w http.ResponseWriter, r *http.Request) error {
	return web.List(w, r, func(ctx context.Context, p *auth.Principal) ([]Site, error) {
		return a.svc.Sites(ctx, p, r.PathValue("id"))
	})
}

// CreateTeam answers POST /api/v1/campaigns/{id}/teams with 201.
func (a *API) CreateTeam(w http.ResponseWriter, r *http.Request) error {
	return web.Decode(w, r, http.StatusCreated, func(ctx context.Context, p *auth.Principal, in TeamInput) (*Team, error) {
		return a.svc.CreateTeam(ctx, p, r.PathValue("id"), in)
	})
}

// Teams answers GET /api/v1/campaigns/{id}/teams.
func (a *API) Teams(w http.ResponseWriter, r *http.Request) error {
	return web.List(w, r, func(ctx context.Context, p *auth.Principal) ([]*Team, error) {
		return a.svc.Teams(ctx, p, r.PathValue("id"))
	})
}

// Round answers GET /api/v1/rounds/{id}.
func (a *API) Round(w http.ResponseWriter, r *http.Request) error {
	return web.Answer(w, r, func(ctx context.Context, p *auth.Principal) (*Round, error) {
		return a.svc.GetRound(ctx, p, r.PathValue("id"))
	})
}

// CloseRound answers POST /api/v1/rounds/{id}/close.
func (a *API) CloseRound(w http.ResponseWriter, r *http.Request) error {
	return web.Answer(w, r, func(ctx context.Context, p *auth.Principal) (*Round, error) {
		return a.svc.CloseRound(ctx, p, r.PathValue("id"))
	})
}
