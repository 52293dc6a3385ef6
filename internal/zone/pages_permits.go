package zone

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/web"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// pagePermitsData is the data of zone/permits.
type pagePermitsData struct {
	Area      string
	Active    string
	Permits   []*Permit
	CanIssue  bool
	Form      *web.Form
	CancelErr string // a refused cancellation
}

// permits builds the permits page's data.
func (pg *Pages) permits(r *http.Request, p *auth.Principal, area, active string, f *web.Form) (*pagePermitsData, error) {
	d := &pagePermitsData{Area: area, Active: active, CanIssue: p.Can(auth.ZoneExempt), Form: f}
	if d.Form == nil {
		now := pg.svc.Now()
		d.Form = web.NewForm(url.Values{"valid_from": {LocalInput(now)}, "valid_to": {LocalInput(now.Add(4 * time.Hour))}})
	}
	var err error
	d.Permits, err = pg.svc.Permits(r.Context(), p, PermitFilter{Area: area, Active: active})
	return d, err
}

// Permits answers GET /zones/permits?area=&active=: a community's exit
// permits and the form issuing one, for a worker's phone.
func (pg *Pages) Permits(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	active := q.Get("active")
	if _, ok := q["active"]; !ok {
		active = "true"
	}
	d, err := pg.permits(r, p, q.Get("area"), active, nil)
	if err != nil {
		return err
	}
	return pg.render.Page(w, r, http.StatusOK, "zone/permits", "zone.permits.title", d)
}

// IssueSubmit issues a permit (POST /zones/permits: resident, reason,
// valid_from, valid_to).
func (pg *Pages) IssueSubmit(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	if err := web.ParseForm(w, r, pageMaxForm); err != nil {
		return err
	}
	vals := web.Trimmed(r, "resident", "reason", "valid_from", "valid_to")
	in := PermitInput{Resident: vals.Get("resident"), Reason: vals.Get("reason")}
	from, err := formTimeOf(vals.Get("valid_from"), "valid_from")
	var to *time.Time
	if err == nil {
		to, err = formTimeOf(vals.Get("valid_to"), "valid_to")
	}
	if from != nil && to != nil {
		in.ValidFrom, in.ValidTo = *from, *to
	}
	if err == nil {
		_, err = pg.svc.IssuePermit(r.Context(), p, in)
	}
	if err != nil {
		f := web.NewForm(vals)
		return pg.refuse(r, f, err, func(status int) error {
			d, err := pg.permits(r, p, "", "true", f)
			if err != nil {
				return err
			}
			return pg.render.Page(w, r, status, "zone/permits", "zone.permits.title", d)
		})
	}
	return web.SeeOther(w, r, "/zones/permits", "zone.flash.issued")
}

// CancelSubmit cancels a permit (POST /zones/permits/{id}/cancel: reason).
func (pg *Pages) CancelSubmit(w http.ResponseWriter, r *http.Request) error {
	p, id, err := pg.formOn(w, r, errPermitNotFound())
	if err != nil {
		return err
	}
	if _, err := pg.svc.CancelPermit(r.Context(), p, id, CancelInput{Reason: web.Trimmed(r, "reason").Get("reason")}); err != nil {
		return pg.refuse(r, web.NewForm(nil), err, func(status int) error {
			d, derr := pg.permits(r, p, "", "true", nil)
			if derr != nil {
				return derr
			}
			d.CancelErr = pg.render.Message(r, err)
			return pg.render.Page(w, r, status, "zone/permits", "zone.permits.title", d)
		})
	}
	return web.SeeOther(w, r, "/zones/permits", "zone.flash.cancelled")
}

// pagePublicData is the data of zone/public.
type pagePublicData struct {
	List      *PublicList
	Count     int
	CanManage bool
}

// Public answers GET /public/zones (no login): the zones in force now by
// district.
func (pg *Pages) Public(w http.ResponseWriter, r *http.Request) error {
	list, err := pg.svc.Public(r.Context(), nil)
	if err != nil {
		return err
	}
	d := &pagePublicData{List: list, CanManage: web.PrincipalOf(r).Can(auth.ZoneRead)}
	for _, dist := range list.Districts {
		d.Count += len(dist.Zones)
	}
	return pg.render.Page(w, r, http.StatusOK, "zone/public", "zone.public.title", d)
}
