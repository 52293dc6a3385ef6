package masstest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"tongxin/internal/auth"
	"tongxin/internal/errs"
	"tongxin/internal/importer"
	"tongxin/internal/web"
)

// MaxSampleBody bounds a request of samples: a thousand records of a few
// hundred bytes, a scanned resident code each at most.
const MaxSampleBody = 4 << 20

// sampleBody is a JSON array of sample records, or one record alone.
type sampleBody struct {
	list   []SampleInput
	single bool
}

func (b *sampleBody) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if len(data) > 0 && data[0] == '{' {
		b.single = true
		b.list = make([]SampleInput, 1)
		return dec.Decode(&b.list[0])
	}
	if len(data) == 0 || data[0] != '[' {
		return errors.New("the body is neither an array of samples nor one sample")
	}
	return dec.Decode(&b.list)
}

// Samples answers POST /api/v1/rounds/{id}/samples: a JSON array of up
// to 1,000 samples answers {"items":[result…]} in the same order; one
// sample object answers its result alone.
func (a *API) Samples(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	var in sampleBody
	if err := web.DecodeJSONLimit(w, r, &in, MaxSampleBody); err != nil {
		return err
	}
	res, err := a.svc.RecordSamples(r.Context(), p, r.PathValue("id"), in.list)
	if err != nil {
		return err
	}
	// Written by hand (model_samples_json.go), as encoding/json would.
	if in.single {
		return web.JSON(w, http.StatusOK, &res[0])
	}
	return web.JSON(w, http.StatusOK, sampleResults(res))
}

// Exempt answers POST /api/v1/rounds/{id}/exemptions.
func (a *API) Exempt(w http.ResponseWriter, r *http.Request) error {
	return web.Decode(w, r, http.StatusOK, func(ctx context.Context, p *auth.Principal, in ExemptionInput) (*Exemption, error) {
		return a.svc.Exempt(ctx, p, r.PathValue("id"), in)
	})
}

// Unexempt answers DELETE /api/v1/rounds/{id}/exemptions/{resident}.
func (a *API) Unexempt(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	if err := a.svc.Unexempt(r.Context(), p, r.PathValue("id"), r.PathValue("resident")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// Exemptions answers GET /api/v1/rounds/{id}/exemptions?area=.
func (a *API) Exemptions(w http.ResponseWriter, r *http.Request) error {
	return web.List(w, r, func(ctx context.Context, p *auth.Principal) ([]Exemption, error) {
		return a.svc.Exemptions(ctx, p, r.PathValue("id"), r.URL.Query().Get("area"))
	})
}

// Coverage answers GET /api/v1/rounds/{id}/coverage?area=.
func (a *API) Coverage(w http.ResponseWriter, r *http.Request) error {
	return web.Answer(w, r, func(ctx context.Context, p *auth.Principal) (*Coverage, error) {
		return a.svc.Coverage(ctx, p, r.PathValue("id"), r.URL.Query().Get("area"))
	})
}

// Missed answers GET /api/v1/rounds/{id}/missed?area=&page=&per_page=;
// with format=xlsx, the whole list as a workbook, a sheet a building.
func (a *API) Missed(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	switch q.Get("format") {
	case "xlsx":
		p, err := web.Principal(r)
		if err != nil {
			return err
		}
		name, b, err := a.svc.MissedXLSX(r.Context(), p, r.PathValue("id"), q.Get("area"))
		if err != nil {
			return err
		}
		return web.Attachment(w, importer.MediaXLSX, name, b)
	case "", "json":
	default:
		return errs.E(errs.Invalid, "bad_format", "format 须为 json 或 xlsx")
	}
	page, err := web.QueryInt(r, "page", 1, 1, 100000)
	if err != nil {
		return err
	}
	per, err := web.QueryInt(r, "per_page", 50, 1, 500)
	if err != nil {
		return err
	}
	return web.Answer(w, r, func(ctx context.Context, p *auth.Principal) (*MissedList, error) {
		return a.svc.Missed(ctx, p, r.PathValue("id"), MissedQuery{Area: q.Get("area"), Page: page, PerPage: per})
	})
}

// Compare answers GET /api/v1/rounds/{id}/compare?with=&area=.
func (a *API) Compare(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	return web.Answer(w, r, func(ctx context.Context, p *auth.Principal) (*Comparison, error) {
		if q.Get("with") == "" {
			return nil, errs.Fields("with_required", "请指明对比的轮次", errs.FieldError{Field: "with", Message: "必填"})
		}
		return a.svc.Compare(ctx, p, r.PathValue("id"), q.Get("with"), q.Get("area"))
	})
}
