package zone

import (
	"context"
	"net/http"

	"tongxin/internal/auth"
	"tongxin/internal/web"
	"tongxin/internal/zonerule"
)

// API serves the JSON routes of zones.
type API struct{ svc *Service }

// NewAPI builds the handlers.
func NewAPI(svc *Service) *API { return &API{svc: svc} }

// Create answers POST /api/v1/zones with 201 and the zone.
func (a *API) Create(w http.ResponseWriter, r *http.Request) error {
	return web.Decode(w, r, http.StatusCreated, a.svc.Create)
}

// List answers GET /api/v1/zones?at=&area=&level=: the zones in force at
// that moment (now by default).
func (a *API) List(w http.ResponseWriter, r *http.Request) error {
	return web.List(w, r, func(ctx context.Context, p *auth.Principal) ([]*Zone, error) {
		q := r.URL.Query()
		at, err := parseTime(q.Get("at"), "at")
		if err != nil {
			return nil, err
		}
		return a.svc.List(ctx, p, ListFilter{At: at, Area: q.Get("area"), Level: levelOf(q.Get("level"))})
	})
}

// History answers GET /api/v1/zones/history?area=: every decision over,
// inside or above the area, newest first.
func (a *API) History(w http.ResponseWriter, r *http.Request) error {
	return web.List(w, r, func(ctx context.Context, p *auth.Principal) ([]*Zone, error) {
		return a.svc.History(ctx, p, r.URL.Query().Get("area"))
	})
}

// Get answers GET /api/v1/zones/{id} with its chain of decisions.
func (a *API) Get(w http.ResponseWriter, r *http.Request) error {
	return web.AnswerID(w, r, errZoneNotFound(), a.svc.Get)
}

// Change answers POST /api/v1/zones/{id}/change with 201 and the new zone.
func (a *API) Change(w http.ResponseWriter, r *http.Request) error {
	return web.DecodeID(w, r, http.StatusCreated, errZoneNotFound(), a.svc.Change)
}

// Lift answers POST /api/v1/zones/{id}/lift with the lifted zone.
func (a *API) Lift(w http.ResponseWriter, r *http.Request) error {
	return web.DecodeID(w, r, http.StatusOK, errZoneNotFound(), a.svc.Lift)
}

// Snapshot answers GET /api/v1/zones/snapshot?after=SEQ for gates.
func (a *API) Snapshot(w http.ResponseWriter, r *http.Request) error {
	return web.Answer(w, r, func(ctx context.Context, p *auth.Principal) (*zonerule.Snapshot, error) {
		after, err := ParseAfter(r.URL.Query().Get("after"))
		if err != nil {
			return nil, err
		}
		return a.svc.Snapshot(ctx, p, after)
	})
}

// Proposals answers GET /api/v1/zone-proposals?status=&area=.
func (a *API) Proposals(w http.ResponseWriter, r *http.Request) error {
	return web.List(w, r, func(ctx context.Context, p *auth.Principal) ([]*Proposal, error) {
		return a.svc.Proposals(ctx, p, r.URL.Query().Get("status"), r.URL.Query().Get("area"))
	})
}

// Confirm answers POST /api/v1/zone-proposals/{id}/confirm.
func (a *API) Confirm(w http.ResponseWriter, r *http.Request) error {
	return web.DecodeID(w, r, http.StatusOK, errProposalNotFound(), a.svc.Confirm)
}

// Decline answers POST /api/v1/zone-proposals/{id}/decline.
func (a *API) Decline(w http.ResponseWriter, r *http.Request) error {
	return web.DecodeID(w, r, http.StatusOK, errProposalNotFound(), a.svc.Decline)
}

// IssuePermit answers POST /api/v1/zone-permits with 201.
func (a *API) IssuePermit(w http.ResponseWriter, r *http.Request) error {
	return web.Decode(w, r, http.StatusCreated, a.svc.IssuePermit)
}

// CancelPermit answers POST /api/v1/zone-permits/{id}/cancel.
func (a *API) CancelPermit(w http.ResponseWriter, r *http.Request) error {
	return web.DecodeID(w, r, http.StatusOK, errPermitNotFound(), a.svc.CancelPermit)
}

// Permits answers GET /api/v1/zone-permits?area=&active=.
func (a *API) Permits(w http.ResponseWriter, r *http.Request) error {
	return web.List(w, r, func(ctx context.Context, p *auth.Principal) ([]*Permit, error) {
		return a.svc.Permits(ctx, p, PermitFilter{Area: r.URL.Query().Get("area"), Active: r.URL.Query().Get("active")})
	})
}

// Public answers GET /api/v1/public/zones?at= without a login.
func (a *API) Public(w http.ResponseWriter, r *http.Request) error {
	at, err := parseTime(r.URL.Query().Get("at"), "at")
	if err != nil {
		return err
	}
	list, err := a.svc.Public(r.Context(), at)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, list)
}
