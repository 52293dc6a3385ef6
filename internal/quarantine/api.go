package quarantine

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/errs"
	"tongxin/internal/web"
)

// API serves the JSON routes of quarantine under /api/v1/quarantine/.
type API struct{ svc *Service }

// NewAPI builds the handlers.
func NewAPI(svc *Service) *API { return &API{svc: svc} }

// atOf reads ?at= (RFC 3339); absent is nil (now).
func atOf(r *http.Request) (*time.Time, error) {
	v := strings.TrimSpace(r.URL.Query().Get("at"))
	if v == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return nil, errs.Fields("bad_at", "时间格式应为 RFC 3339，如 2022-11-20T10:00:00+08:00",
			errs.FieldError{Field: "at", Message: "时间格式不正确"})
	}
	return &t, nil
}

// Sites answers GET /api/v1/quarantine/sites?area=&at=: the sites with
// their occupancy and free rooms at the moment.
func (a *API) Sites(w http.ResponseWriter, r *http.Request) error {
	at, err := atOf(r)
	if err != nil {
		return err
	}
	return web.List(w, r, func(ctx context.Context, p *auth.Principal) ([]*Site, error) {
		return a.svc.ListSites(ctx, p, r.URL.Query().Get("area"), at)
	})
}

// CreateSite answers POST /api/v1/quarantine/sites with 201.
func (a *API) CreateSite(w http.ResponseWriter, r *http.Request) error {
	return web.Decode(w, r, http.StatusCreated, a.svc.CreateSite)
}

// Site answers GET /api/v1/quarantine/sites/{id}?at=: its rooms and who
// was in each at the moment.
func (a *API) Site(w http.ResponseWriter, r *http.Request) error {
	at, err := atOf(r)
	if err != nil {
		return err
	}
	return web.Answer(w, r, func(ctx context.Context, p *auth.Principal) (*SiteBoard, error) {
		return a.svc.Board(ctx, p, r.PathValue("id"), at)
	})
}

// UpdateSite answers PUT /api/v1/quarantine/sites/{id}.
func (a *API) UpdateSite(w http.ResponseWriter, r *http.Request) error {
	return web.Decode(w, r, http.StatusOK, func(ctx context.Context, p *auth.Principal, in SiteInput) (*Site, error) {
		return a.svc.UpdateSite(ctx, p, r.PathValue("id"), in)
	})
}

// AddRooms answers POST /api/v1/quarantine/sites/{id}/rooms with 201 and
// the site's board.
func (a *API) AddRooms(w http.ResponseWriter, r *http.Request) error {
	return web.Decode(w, r, http.StatusCreated, func(ctx context.Context, p *auth.Principal, in RoomsInput) (*SiteBoard, error) {
		return a.svc.AddRooms(ctx, p, r.PathValue("id"), in)
	})
}

// Events answers GET /api/v1/quarantine/sites/{id}/events?at=.
func (a *API) Events(w http.ResponseWriter, r *http.Request) error {
	at, err := atOf(r)
	if err != nil {
		return err
	}
	return web.List(w, r, func(ctx context.Context, p *auth.Principal) ([]Event, error) {
		return a.svc.Events(ctx, p, r.PathValue("id"), at)
	})
}

// Stays answers GET /api/v1/quarantine/stays?kind=&area=&site=&active=.
func (a *API) Stays(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := StayFilter{Kind: Kind(q.Get("kind")), Area: q.Get("area"), Active: q.Get("active") == "true"}
	if f.Kind != "" && f.Kind != Central && f.Kind != Home {
		return errs.Fields("bad_kind", "kind 应为 central 或 home", errs.FieldError{Field: "kind", Message: "应为 central 或 home"})
	}
	if v := q.Get("active"); v != "" && v != "true" && v != "false" {
		return errs.Fields("bad_active", "active 应为 true 或 false", errs.FieldError{Field: "active", Message: "应为 true 或 false"})
	}
	if v := q.Get("site"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return errs.Fields("bad_site", "site 应为场所编号", errs.FieldError{Field: "site", Message: "应为场所编号"})
		}
		f.Site = id
	}
	return web.List(w, r, func(ctx context.Context, p *auth.Principal) ([]*Stay, error) {
		return a.svc.ListStays(ctx, p, f)
	})
}

// Admit answers POST /api/v1/quarantine/stays with 201: a person admitted
// to central quarantine.
func (a *API) Admit(w http.ResponseWriter, r *http.Request) error {
	return web.Decode(w, r, http.StatusCreated, a.svc.Admit)
}

// Stay answers GET /api/v1/quarantine/stays/{id}.
func (a *API) Stay(w http.ResponseWriter, r *http.Request) error {
	return web.Answer(w, r, func(ctx context.Context, p *auth.Principal) (*Stay, error) {
		return a.svc.GetStay(ctx, p, r.PathValue("id"))
	})
}

// Transfer answers POST /api/v1/quarantine/stays/{id}/transfer.
func (a *API) Transfer(w http.ResponseWriter, r *http.Request) error {
	return web.Decode(w, r, http.StatusOK, func(ctx context.Context, p *auth.Principal, in TransferInput) (*Stay, error) {
		return a.svc.Transfer(ctx, p, r.PathValue("id"), in)
	})
}

// Release answers POST /api/v1/quarantine/stays/{id}/release.
func (a *API) Release(w http.ResponseWriter, r *http.Request) error {
	return web.Decode(w, r, http.StatusOK, func(ctx context.Context, p *auth.Principal, in ReleaseInput) (*Stay, error) {
		return a.svc.Release(ctx, p, r.PathValue("id"), in)
	})
}

// Test answers POST /api/v1/quarantine/stays/{id}/tests.
func (a *API) Test(w http.ResponseWriter, r *http.Request) error {
	return web.Decode(w, r, http.StatusOK, func(ctx context.Context, p *auth.Principal, in TestInput) (*Stay, error) {
		return a.svc.RecordTest(ctx, p, r.PathValue("id"), in)
	})
}

// Check answers POST /api/v1/quarantine/stays/{id}/checks.
func (a *API) Check(w http.ResponseWriter, r *http.Request) error {
	return web.Decode(w, r, http.StatusOK, func(ctx context.Context, p *auth.Principal, in CheckInput) (*Check, error) {
		return a.svc.RecordCheck(ctx, p, r.PathValue("id"), in)
	})
}

// StartHome answers POST /api/v1/quarantine/home with 201.
func (a *API) StartHome(w http.ResponseWriter, r *http.Request) error {
	return web.Decode(w, r, http.StatusCreated, a.svc.StartHome)
}

// Home answers GET /api/v1/quarantine/home?area=&day=: a community's home
// quarantine on the day, with the checks missing and the tests due.
func (a *API) Home(w http.ResponseWriter, r *http.Request) error {
	return web.Answer(w, r, func(ctx context.Context, p *auth.Principal) (*HomeBoard, error) {
		return a.svc.HomeBoard(ctx, p, r.URL.Query().Get("area"), r.URL.Query().Get("day"))
	})
}

// Missed answers GET /api/v1/quarantine/home/missed?area=&day=: the
// persons whose check of the day is not recorded done.
func (a *API) Missed(w http.ResponseWriter, r *http.Request) error {
	return web.List(w, r, func(ctx context.Context, p *auth.Principal) ([]*HomeDay, error) {
		b, err := a.svc.HomeBoard(ctx, p, r.URL.Query().Get("area"), r.URL.Query().Get("day"))
		if err != nil {
			return nil, err
		}
		return b.Missed, nil
	})
}

// Rules answers GET /api/v1/quarantine/rules.
func (a *API) Rules(w http.ResponseWriter, r *http.Request) error {
	return web.List(w, r, a.svc.Rules)
}

// SetRule answers PUT /api/v1/quarantine/rules/{category}.
func (a *API) SetRule(w http.ResponseWriter, r *http.Request) error {
	return web.Decode(w, r, http.StatusOK, func(ctx context.Context, p *auth.Principal, in RuleInput) (*Rule, error) {
		return a.svc.SetRule(ctx, p, r.PathValue("category"), in)
	})
}

// Reveal answers POST /api/v1/quarantine/persons/{id}/reveal with an
// outsider's full ID number and phone, audited.
func (a *API) Reveal(w http.ResponseWriter, r *http.Request) error {
	web.NoStore(r)
	return web.Decode(w, r, http.StatusOK, func(ctx context.Context, p *auth.Principal, in RevealInput) (*Revealed, error) {
		return a.svc.RevealPerson(ctx, p, r.PathValue("id"), in)
	})
}

// CentralFigures answers GET /api/v1/quarantine/figures/central?area=&day=.
func (a *API) CentralFigures(w http.ResponseWriter, r *http.Request) error {
	return web.Answer(w, r, func(ctx context.Context, p *auth.Principal) (*CentralFigures, error) {
		return a.svc.CentralFigures(ctx, p, r.URL.Query().Get("area"), r.URL.Query().Get("day"))
	})
}

// HomeFigures answers GET /api/v1/quarantine/figures/home?area=&day=.
func (a *API) HomeFigures(w http.ResponseWriter, r *http.Request) error {
	return web.Answer(w, r, func(ctx context.Context, p *auth.Principal) (*HomeFigures, error) {
		return a.svc.HomeFigures(ctx, p, r.URL.Query().Get("area"), r.URL.Query().Get("day"))
	})
}
