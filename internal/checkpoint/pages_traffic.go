package checkpoint

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/errs"
	"tongxin/internal/web"
)

// Traffic control: the public page and notices, and their management.

// pageTrafficData is the data of traffic/public.
type pageTrafficData struct {
	Now      time.Time
	InForce  []*Measure
	Notices  []*Notice
	CanAdmin bool
}

// Traffic answers GET /traffic (no login): the measures in force now and
// the recent notices.
func (pg *Pages) Traffic(w http.ResponseWriter, r *http.Request) error {
	now := pg.svc.Now()
	in, err := pg.svc.Measures(r.Context(), &now)
	if err != nil {
		return err
	}
	notices, err := pg.svc.Notices(r.Context(), 20)
	if err != nil {
		return err
	}
	p := web.PrincipalOf(r)
	d := &pageTrafficData{Now: now, InForce: in, Notices: notices, CanAdmin: p.Can(auth.TrafficManage)}
	return pg.render.Page(w, r, http.StatusOK, "traffic/public", "traffic.public.title", d)
}

// NoticePage answers GET /traffic/notices/{id} (no login).
func (pg *Pages) NoticePage(w http.ResponseWriter, r *http.Request) error {
	n, err := pg.svc.Notice(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return pg.render.Page(w, r, http.StatusOK, "traffic/notice", n.Title, n)
}

// Traffic control: management

// pageManageData is the data of traffic/manage.
type pageManageData struct {
	Measures    []*Measure
	Active      []*Measure
	Kinds       []MeasureKind
	Targets     []TargetKind
	MeasureForm *web.Form
	NoticeForm  *web.Form
	// Error is a refusal no form shows (a measure that could not be
	// withdrawn).
	Error string
}

func (pg *Pages) manage(r *http.Request, p *auth.Principal, mf, nf *web.Form) (*pageManageData, error) {
	if err := auth.Require(p, auth.TrafficManage, "checkpoint.TrafficManage"); err != nil {
		return nil, err
	}
	all, err := pg.svc.Measures(r.Context(), nil)
	if err != nil {
		return nil, err
	}
	d := &pageManageData{Measures: all, Kinds: MeasureKinds, Targets: []TargetKind{TargetBridge, TargetRoad, TargetArea},
		MeasureForm: mf, NoticeForm: nf}
	for _, m := range all {
		if m.Status == MeasureActive && p.Covers(auth.TrafficManage, m.AreaPath) {
			d.Active = append(d.Active, m)
		}
	}
	now := pg.svc.Now().In(clock.Shanghai).Format(formTime)
	if d.MeasureForm == nil {
		d.MeasureForm = web.NewForm(url.Values{"kind": {string(Closure)}, "target_kind": {string(TargetBridge)}, "effective_from": {now}})
	}
	if d.NoticeForm == nil {
		d.NoticeForm = web.NewForm(url.Values{"published_at": {now}})
	}
	return d, nil
}

// Manage answers GET /traffic/manage: every measure, the form for a new
// one and the form publishing a notice.
func (pg *Pages) Manage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	d, err := pg.manage(r, p, nil, nil)
	if err != nil {
		return err
	}
	return pg.render.Page(w, r, http.StatusOK, "traffic/manage", "traffic.manage.title", d)
}

// refuseManage shows the management page again after a refused form.
func (pg *Pages) refuseManage(w http.ResponseWriter, r *http.Request, p *auth.Principal, err error, mf, nf *web.Form) error {
	status := web.FormStatus(err)
	if status == 0 {
		return err
	}
	for _, f := range []*web.Form{mf, nf} {
		if f != nil {
			pg.render.Fail(f, r, err)
		}
	}
	d, derr := pg.manage(r, p, mf, nf)
	if derr != nil {
		return derr
	}
	if mf == nil && nf == nil {
		d.Error = pg.render.Message(r, err)
	}
	return pg.render.Page(w, r, status, "traffic/manage", "traffic.manage.title", d)
}

// CreateMeasure adds a measure (POST /traffic/manage/measures: kind,
// target, target_kind, area_code, description, effective_from,
// effective_to).
func (pg *Pages) CreateMeasure(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	if err := web.ParseForm(w, r, pageMaxForm); err != nil {
		return err
	}
	vals := web.Trimmed(r, "kind", "target", "target_kind", "area_code", "description", "effective_from", "effective_to")
	in := MeasureInput{Kind: MeasureKind(vals.Get("kind")), Target: vals.Get("target"), TargetKind: TargetKind(vals.Get("target_kind")),
		AreaCode: vals.Get("area_code"), Description: vals.Get("description")}
	from, err := formTimeOf(vals.Get("effective_from"), "effective_from")
	if err == nil {
		if from != nil {
			in.EffectiveFrom = *from
		}
		in.EffectiveTo, err = formTimeOf(vals.Get("effective_to"), "effective_to")
	}
	if err == nil {
		_, err = pg.svc.CreateMeasure(r.Context(), p, in)
	}
	if err != nil {
		return pg.refuseManage(w, r, p, err, web.NewForm(vals), nil)
	}
	return web.SeeOther(w, r, "/traffic/manage", "traffic.flash.measure")
}

// CancelMeasure withdraws a measure (POST /traffic/manage/measures/{id}/cancel).
func (pg *Pages) CancelMeasure(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", errMeasureNotFound())
	if err != nil {
		return err
	}
	m, err := pg.svc.Measure(r.Context(), id)
	if err != nil {
		return err
	}
	_, err = pg.svc.UpdateMeasure(r.Context(), p, id, MeasureInput{Kind: m.Kind, Target: m.Target, TargetKind: m.TargetKind,
		AreaCode: m.AreaCode, Description: m.Description, EffectiveFrom: m.EffectiveFrom, EffectiveTo: m.EffectiveTo,
		Status: MeasureCancelled, Version: m.Version})
	if err != nil {
		return pg.refuseManage(w, r, p, err, nil, nil)
	}
	return web.SeeOther(w, r, "/traffic/manage", "traffic.flash.cancelled")
}

// PublishNotice publishes a notice (POST /traffic/manage/notices: number,
// title, body, area_code, published_at, starts, lifts).
func (pg *Pages) PublishNotice(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	if err := web.ParseForm(w, r, pageMaxForm); err != nil {
		return err
	}
	vals := web.Trimmed(r, "number", "title", "area_code", "published_at")
	vals.Set("body", strings.TrimSpace(r.PostForm.Get("body")))
	in := NoticeInput{Number: vals.Get("number"), Title: vals.Get("title"), Body: vals.Get("body"), AreaCode: vals.Get("area_code")}
	for _, l := range []struct {
		name string
		to   *[]int64
	}{{"starts", &in.Starts}, {"lifts", &in.Lifts}} {
		for _, s := range r.PostForm[l.name] {
			vals.Add(l.name, s)
			if id, perr := strconv.ParseInt(s, 10, 64); perr == nil {
				*l.to = append(*l.to, id)
			} else if err == nil {
				err = errs.Fields("invalid_notice", "措施编号无效", errs.FieldError{Field: l.name, Message: "编号无效"})
			}
		}
	}
	if err == nil {
		in.PublishedAt, err = formTimeOf(vals.Get("published_at"), "published_at")
	}
	var n *Notice
	if err == nil {
		n, err = pg.svc.PublishNotice(r.Context(), p, in)
	}
	if err != nil {
		return pg.refuseManage(w, r, p, err, nil, web.NewForm(vals))
	}
	return web.SeeOther(w, r, "/traffic/notices/"+strconv.FormatInt(n.ID, 10), "traffic.flash.published")
}

// IsChecked reports whether the notice form checks measure id under name
// (check boxes), for the template.
func (d *pageManageData) IsChecked(name string, id int64) bool {
	return d.NoticeForm != nil && slices.Contains(d.NoticeForm.Values[name], strconv.FormatInt(id, 10))
}

// Lifted reports whether the notice lifts measure id, for templates.
func (n *Notice) Lifted(id int64) bool { return slices.Contains(n.Lifts, id) }
