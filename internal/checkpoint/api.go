package checkpoint

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

// API serves the JSON routes of checkpoints, transfer points and traffic
// control.
type API struct{ svc *Service }

// NewAPI builds the handlers.
func NewAPI(svc *Service) *API { return &API{svc: svc} }

// MaxBatchBody bounds an offline batch: a thousand scans of a few hundred
// bytes each, with room for the odd unreadable code.
const MaxBatchBody = 8 << 20

// Create answers POST /api/v1/checkpoints with 201 and the checkpoint.
func (a *API) Create(w http.ResponseWriter, r *http.Request) error {
	return web.Decode(w, r, http.StatusCreated, a.svc.Create)
}

// List answers GET /api/v1/checkpoints?kind=&area=.
func (a *API) List(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	return web.List(w, r, func(ctx context.Context, p *auth.Principal) ([]*Checkpoint, error) {
		return a.svc.List(ctx, p, Filter{Kind: Kind(q.Get("kind")), Area: q.Get("area")})
	})
}

// Get answers GET /api/v1/checkpoints/{id}.
func (a *API) Get(w http.ResponseWriter, r *http.Request) error {
	return web.Answer(w, r, func(ctx context.Context, p *auth.Principal) (*Checkpoint, error) {
		return a.svc.Get(ctx, p, r.PathValue("id"))
	})
}

// Update answers PUT /api/v1/checkpoints/{id}.
func (a *API) Update(w http.ResponseWriter, r *http.Request) error {
	return web.Decode(w, r, http.StatusOK, func(ctx context.Context, p *auth.Principal, in CheckpointInput) (*Checkpoint, error) {
		return a.svc.Update(ctx, p, r.PathValue("id"), in)
	})
}

// Roster answers GET /api/v1/checkpoints/{id}/roster?from=&to= (days,
// Asia/Shanghai, inclusive); without them, the shifts from now on.
func (a *API) Roster(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	from, to := a.svc.clock.Now(), time.UnixMilli(maxTime)
	if q.Get("from") != "" || q.Get("to") != "" {
		var err error
		if from, to, err = web.DayRange(q.Get("from"), q.Get("to"), a.svc.clock.Now(), statsDays); err != nil {
			return err
		}
	}
	return web.List(w, r, func(ctx context.Context, p *auth.Principal) ([]Shift, error) {
		return a.svc.Roster(ctx, p, r.PathValue("id"), from, to)
	})
}

// SetRoster answers PUT /api/v1/checkpoints/{id}/roster with the shifts
// from now on.
func (a *API) SetRoster(w http.ResponseWriter, r *http.Request) error {
	return web.Decode(w, r, http.StatusOK, func(ctx context.Context, p *auth.Principal, in RosterInput) (web.Items[Shift], error) {
		list, err := a.svc.SetRoster(ctx, p, r.PathValue("id"), in)
		return items(list), err
	})
}

// items is list as a list answer, {"items":[…]}, never null.
func items[T any](list []T) web.Items[T] {
	if list == nil {
		list = []T{}
	}
	return web.Items[T]{Items: list}
}

// Scan answers POST /api/v1/checkpoints/{id}/scans with the verdict, once
// the scan is logged. Any token — empty, 10 KB long, binary — is a verdict
// (deny, malformed), never an error.
func (a *API) Scan(w http.ResponseWriter, r *http.Request) error {
	return web.Decode(w, r, http.StatusOK, func(ctx context.Context, p *auth.Principal, in ScanInput) (*Scan, error) {
		return a.svc.Scan(ctx, p, r.PathValue("id"), in)
	})
}

// ScanBatch answers POST /api/v1/checkpoints/{id}/scans/batch: scans made
// offline, up to MaxBatchScans in a body of up to MaxBatchBody.
func (a *API) ScanBatch(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	var in BatchInput
	if err := web.DecodeJSONLimit(w, r, &in, MaxBatchBody); err != nil {
		return err
	}
	res, err := a.svc.ScanBatch(r.Context(), p, r.PathValue("id"), in)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, res)
}

// Scans answers GET /api/v1/checkpoints/{id}/scans?from=&to=&verdict=&before=&limit=,
// newest first; before is the id of the last scan of the previous page.
func (a *API) Scans(w http.ResponseWriter, r *http.Request) error {
	return web.List(w, r, func(ctx context.Context, p *auth.Principal) ([]*Scan, error) {
		sq, err := a.scanQuery(r)
		if err != nil {
			return nil, err
		}
		_, list, err := a.svc.Scans(ctx, p, r.PathValue("id"), sq)
		return list, err
	})
}

// scanQuery reads the filters of a list of scans.
func (a *API) scanQuery(r *http.Request) (ScanQuery, error) {
	q := r.URL.Query()
	sq := ScanQuery{Verdict: Verdict(q.Get("verdict"))}
	if sq.Verdict != "" && sq.Verdict != Allow && sq.Verdict != Deny {
		return sq, errs.Fields("bad_verdict", "verdict 须为 allow 或 deny", errs.FieldError{Field: "verdict", Message: "allow 或 deny"})
	}
	var err error
	if q.Get("from") != "" || q.Get("to") != "" {
		if sq.From, sq.To, err = web.DayRange(q.Get("from"), q.Get("to"), a.svc.clock.Now(), statsDays); err != nil {
			return sq, err
		}
	}
	if sq.Limit, err = web.QueryInt(r, "limit", 100, 1, 1000); err != nil {
		return sq, err
	}
	if b := q.Get("before"); b != "" {
		if sq.Before, err = strconv.ParseInt(b, 10, 64); err != nil || sq.Before <= 0 {
			return sq, errs.Fields("bad_before", "before 须为扫码记录编号", errs.FieldError{Field: "before", Message: "须为正整数"})
		}
	}
	return sq, nil
}

// Stats answers GET /api/v1/checkpoints/stats?from=&to=&area= (days,
// Asia/Shanghai, inclusive; the last 7 days by default).
func (a *API) Stats(w http.ResponseWriter, r *http.Request) error {
	return web.Answer(w, r, func(ctx context.Context, p *auth.Principal) (*ScanStats, error) {
		q, err := a.statsQuery(r)
		if err != nil {
			return nil, err
		}
		return a.svc.ScanStats(ctx, p, q)
	})
}

func (a *API) statsQuery(r *http.Request) (StatsQuery, error) {
	q := r.URL.Query()
	from, to, err := web.DayRange(q.Get("from"), q.Get("to"), a.svc.clock.Now(), statsDays)
	return StatsQuery{From: from, To: to, Area: strings.TrimSpace(q.Get("area"))}, err
}

// LogHandover answers POST /api/v1/checkpoints/{id}/handovers with 201.
func (a *API) LogHandover(w http.ResponseWriter, r *http.Request) error {
	return web.Decode(w, r, http.StatusCreated, func(ctx context.Context, p *auth.Principal, in HandoverInput) (*Handover, error) {
		return a.svc.LogHandover(ctx, p, r.PathValue("id"), in)
	})
}

// Handovers answers GET /api/v1/checkpoints/{id}/handovers?limit=.
func (a *API) Handovers(w http.ResponseWriter, r *http.Request) error {
	limit, err := web.QueryInt(r, "limit", 100, 1, 1000)
	if err != nil {
		return err
	}
	return web.List(w, r, func(ctx context.Context, p *auth.Principal) ([]*Handover, error) {
		return a.svc.Handovers(ctx, p, r.PathValue("id"), limit)
	})
}

// HandoverStats answers GET /api/v1/handovers/stats?from=&to=&area=.
func (a *API) HandoverStats(w http.ResponseWriter, r *http.Request) error {
	return web.Answer(w, r, func(ctx context.Context, p *auth.Principal) (*HandoverStats, error) {
		q, err := a.statsQuery(r)
		if err != nil {
			return nil, err
		}
		return a.svc.HandoverStats(ctx, p, q)
	})
}

// Measures answers GET /api/v1/traffic/measures?at=RFC3339 (no login):
// the measures in force at that moment; without at, every measure.
func (a *API) Measures(w http.ResponseWriter, r *http.Request) error {
	var at *time.Time
	if s := r.URL.Query().Get("at"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return errs.Fields("bad_at", "at 须为 RFC 3339 时间，如 2022-11-20T17:00:00+08:00", errs.FieldError{Field: "at", Message: "格式错误"})
		}
		at = &t
	}
	list, err := a.svc.Measures(r.Context(), at)
	if err != nil {
		return err
	}
	return web.WriteItems(w, list)
}

// CreateMeasure answers POST /api/v1/traffic/measures with 201.
func (a *API) CreateMeasure(w http.ResponseWriter, r *http.Request) error {
	return web.Decode(w, r, http.StatusCreated, a.svc.CreateMeasure)
}

// UpdateMeasure answers PUT /api/v1/traffic/measures/{id}.
func (a *API) UpdateMeasure(w http.ResponseWriter, r *http.Request) error {
	return web.Decode(w, r, http.StatusOK, func(ctx context.Context, p *auth.Principal, in MeasureInput) (*Measure, error) {
		id, err := web.PathID(r, "id", errMeasureNotFound())
		if err != nil {
			return nil, err
		}
		return a.svc.UpdateMeasure(ctx, p, id, in)
	})
}

// Notices answers GET /api/v1/traffic/notices?limit= (no login).
func (a *API) Notices(w http.ResponseWriter, r *http.Request) error {
	limit, err := web.QueryInt(r, "limit", 50, 1, 500)
	if err != nil {
		return err
	}
	list, err := a.svc.Notices(r.Context(), limit)
	if err != nil {
		return err
	}
	return web.WriteItems(w, list)
}

// Notice answers GET /api/v1/traffic/notices/{id} (no login).
func (a *API) Notice(w http.ResponseWriter, r *http.Request) error {
	n, err := a.svc.Notice(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, n)
}

// PublishNotice answers POST /api/v1/traffic/notices with 201.
func (a *API) PublishNotice(w http.ResponseWriter, r *http.Request) error {
	return web.Decode(w, r, http.StatusCreated, a.svc.PublishNotice)
}
