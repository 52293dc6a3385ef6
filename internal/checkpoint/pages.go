package checkpoint

import (
	"embed"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/errs"
	"tongxin/internal/importer"
	"tongxin/internal/passtoken"
	"tongxin/internal/web"
)

// Templates holds the checkpoint and traffic pages; the Renderer is built
// with it.
//
//go:embed templates
var Templates embed.FS

// Pages serves checkpoints and traffic control as HTML: the checkpoint
// list with its duty roster, a checkpoint's page with its recent scans
// (and handovers at a transfer point), the scan export, the statistics,
// the public traffic page and notices, and the management of measures and
// notices. The scan page itself (camera, offline mode) is served
// elsewhere. Every rule is the service's; the pages read forms and show
// answers.
type Pages struct {
	Svc    *Service
	Render *web.Renderer
}

// Limits of the pages.
const (
	pageMaxForm     = 64 << 10
	pageRecentScans = 50
	pageExportMax   = 10000
	// formTime is the layout of datetime-local inputs, in Asia/Shanghai.
	formTime = "2006-01-02T15:04"
)

// NavItems are the menu entries (and home cards): the checkpoint list for
// readers and officers, the statistics for readers, the traffic page for
// everyone and its management for TrafficManage holders.
func NavItems() []web.NavItem {
	return []web.NavItem{
		{Key: "checkpoint.nav.list", DescKey: "checkpoint.card.list", Path: "/checkpoints", Perm: auth.CheckpointRead,
			Roles: []auth.Role{auth.CheckpointOfficer}},
		{Key: "checkpoint.nav.stats", DescKey: "checkpoint.card.stats", Path: "/checkpoints/stats", Perm: auth.CheckpointRead},
		{Key: "traffic.nav.public", Path: "/traffic"},
		{Key: "traffic.nav.manage", DescKey: "traffic.card.manage", Path: "/traffic/manage", Perm: auth.TrafficManage},
	}
}

func (pg *Pages) t(r *http.Request, key string, args ...any) string {
	return pg.Render.T(r, key, args...)
}

// formTimeOf reads a datetime-local value in Asia/Shanghai; nil when
// empty.
func formTimeOf(v, field string) (*time.Time, error) {
	if v == "" {
		return nil, nil
	}
	t, err := time.ParseInLocation(formTime, v, clock.Shanghai)
	if err != nil {
		return nil, errs.Fields("bad_time", "时间格式应为 YYYY-MM-DDTHH:MM", errs.FieldError{Field: field, Message: "时间格式错误"})
	}
	return &t, nil
}

// formFloat reads an optional number.
func formFloat(v, field string) (*float64, error) {
	if v == "" {
		return nil, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return nil, errs.Fields("bad_number", "请填写数字", errs.FieldError{Field: field, Message: "须为数字"})
	}
	return &f, nil
}

// ---------------------------------------------------------------------
// Checkpoint list

// pageListData is the data of checkpoint/list.
type pageListData struct {
	Rows      []*Checkpoint
	Kinds     []Kind
	Kind      string
	CanManage bool
	Form      *web.Form
}

func (pg *Pages) list(r *http.Request, p *auth.Principal, form *web.Form) (*pageListData, error) {
	kind := strings.TrimSpace(r.URL.Query().Get("kind"))
	rows, err := pg.Svc.List(r.Context(), p, Filter{Kind: Kind(kind)})
	if err != nil {
		return nil, err
	}
	if form == nil {
		form = web.NewForm(url.Values{"kind": {string(Bridge)}, "open": {"true"}})
	}
	return &pageListData{Rows: rows, Kinds: Kinds, Kind: kind, CanManage: p.Can(auth.CheckpointManage), Form: form}, nil
}

// List answers GET /checkpoints?kind=: the checkpoints in reach with who
// is on duty, and the registration form for managers.
func (pg *Pages) List(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	d, err := pg.list(r, p, nil)
	if err != nil {
		return err
	}
	return pg.Render.Page(w, r, http.StatusOK, "checkpoint/list", "checkpoint.list.title", d)
}

// inputOf reads a checkpoint form.
func inputOf(vals url.Values) (CheckpointInput, error) {
	in := CheckpointInput{Name: vals.Get("name"), Kind: Kind(vals.Get("kind")), Place: vals.Get("place"),
		AreaCode: vals.Get("area_code"), Open: ptrOf(vals.Get("open") == "true")}
	var err error
	if in.Lat, err = formFloat(vals.Get("lat"), "lat"); err != nil {
		return in, err
	}
	in.Lng, err = formFloat(vals.Get("lng"), "lng")
	return in, err
}

func ptrOf[T any](v T) *T { return &v }

// Create registers a checkpoint (POST /checkpoints: name, kind, place,
// area_code, open, lat, lng).
func (pg *Pages) Create(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	if err := web.ParseForm(w, r, pageMaxForm); err != nil {
		return err
	}
	vals := web.Trimmed(r, "name", "kind", "place", "area_code", "open", "lat", "lng")
	in, err := inputOf(vals)
	var c *Checkpoint
	if err == nil {
		c, err = pg.Svc.Create(r.Context(), p, in)
	}
	if err != nil {
		status := web.FormStatus(err)
		if status == 0 {
			return err
		}
		form := web.NewForm(vals)
		pg.Render.Fail(form, r, err)
		d, derr := pg.list(r, p, form)
		if derr != nil {
			return derr
		}
		if !d.CanManage {
			// No form on the page to show the refusal: the error page.
			return err
		}
		return pg.Render.Page(w, r, status, "checkpoint/list", "checkpoint.list.title", d)
	}
	return web.SeeOther(w, r, "/checkpoints/"+c.Ref(), "checkpoint.flash.created")
}

// ---------------------------------------------------------------------
// Checkpoint page

// pageDetailData is the data of checkpoint/detail.
type pageDetailData struct {
	C            *Checkpoint
	Roster       []Shift
	Scans        []*Scan
	Handovers    []*Handover
	CanScan      bool
	CanManage    bool
	HandoverForm *web.Form
	EditForm     *web.Form
	// RosterForm adds a shift, for managers.
	RosterForm *web.Form
	Kinds      []Kind
}

func (pg *Pages) detail(r *http.Request, p *auth.Principal) (*pageDetailData, error) {
	ctx, id := r.Context(), r.PathValue("id")
	c, err := pg.Svc.Get(ctx, p, id)
	if err != nil {
		return nil, err
	}
	now := pg.Svc.Now()
	d := &pageDetailData{C: c, Kinds: Kinds, CanScan: canScan(p, c, "") == nil,
		CanManage: reachFor(p, false, auth.CheckpointManage).covers(c)}
	if d.Roster, err = pg.Svc.Roster(ctx, p, id, now, now.Add(48*time.Hour)); err != nil {
		return nil, err
	}
	if _, d.Scans, err = pg.Svc.Scans(ctx, p, id, ScanQuery{Limit: pageRecentScans}); err != nil {
		return nil, err
	}
	if c.Kind == TransferPoint {
		if d.Handovers, err = pg.Svc.Handovers(ctx, p, id, 20); err != nil {
			return nil, err
		}
		d.HandoverForm = web.NewForm(url.Values{"unit": {"吨"}})
	}
	vals := url.Values{"name": {c.Name}, "kind": {string(c.Kind)}, "place": {c.Place}, "area_code": {c.AreaCode},
		"version": {strconv.Itoa(c.Version)}}
	if c.Open {
		vals.Set("open", "true")
	}
	if c.Lat != nil {
		vals.Set("lat", strconv.FormatFloat(*c.Lat, 'f', -1, 64))
		vals.Set("lng", strconv.FormatFloat(*c.Lng, 'f', -1, 64))
	}
	d.EditForm = web.NewForm(vals)
	start := now.In(clock.Shanghai).Truncate(time.Hour).Add(time.Hour)
	d.RosterForm = web.NewForm(url.Values{"start": {start.Format(formTime)}, "end": {start.Add(12 * time.Hour).Format(formTime)}})
	return d, nil
}

// Detail answers GET /checkpoints/{id}.
func (pg *Pages) Detail(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	d, err := pg.detail(r, p)
	if err != nil {
		return err
	}
	return pg.Render.Page(w, r, http.StatusOK, "checkpoint/detail", d.C.Name, d)
}

// refuse shows the checkpoint's page again after a refused form; set puts
// the form in place and reports whether the page shows it to p. A refusal
// the page would not show (the form is not p's) is the error page.
func (pg *Pages) refuse(w http.ResponseWriter, r *http.Request, p *auth.Principal, err error, vals url.Values,
	set func(d *pageDetailData, f *web.Form) bool) error {
	status := web.FormStatus(err)
	if status == 0 {
		return err
	}
	d, derr := pg.detail(r, p)
	if derr != nil {
		return derr
	}
	form := web.NewForm(vals)
	pg.Render.Fail(form, r, err)
	if !set(d, form) {
		return err
	}
	return pg.Render.Page(w, r, status, "checkpoint/detail", d.C.Name, d)
}

// Update changes a checkpoint (POST /checkpoints/{id}: the registration
// fields and version).
func (pg *Pages) Update(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	if err := web.ParseForm(w, r, pageMaxForm); err != nil {
		return err
	}
	vals := web.Trimmed(r, "name", "kind", "place", "area_code", "open", "lat", "lng", "version")
	in, err := inputOf(vals)
	if err == nil {
		in.Version, _ = strconv.Atoi(vals.Get("version"))
		_, err = pg.Svc.Update(r.Context(), p, r.PathValue("id"), in)
	}
	if err != nil {
		return pg.refuse(w, r, p, err, vals, func(d *pageDetailData, f *web.Form) bool { d.EditForm = f; return d.CanManage })
	}
	return web.SeeOther(w, r, "/checkpoints/"+r.PathValue("id"), "checkpoint.flash.updated")
}

// LogHandover records a handover (POST /checkpoints/{id}/handovers:
// enterprise, goods, quantity, unit, outside_plate, inside_plate, at).
func (pg *Pages) LogHandover(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	if err := web.ParseForm(w, r, pageMaxForm); err != nil {
		return err
	}
	vals := web.Trimmed(r, "enterprise", "goods", "quantity", "unit", "outside_plate", "inside_plate", "at")
	in := HandoverInput{Enterprise: vals.Get("enterprise"), Goods: vals.Get("goods"), Unit: vals.Get("unit"),
		OutsidePlate: vals.Get("outside_plate"), InsidePlate: vals.Get("inside_plate")}
	var q *float64
	q, err = formFloat(vals.Get("quantity"), "quantity")
	if err == nil && q != nil {
		in.Quantity = *q
	}
	if err == nil {
		in.At, err = formTimeOf(vals.Get("at"), "at")
	}
	if err == nil {
		_, err = pg.Svc.LogHandover(r.Context(), p, r.PathValue("id"), in)
	}
	if err != nil {
		return pg.refuse(w, r, p, err, vals, func(d *pageDetailData, f *web.Form) bool {
			shown := d.HandoverForm != nil && d.CanScan
			d.HandoverForm = f
			return shown
		})
	}
	return web.SeeOther(w, r, "/checkpoints/"+r.PathValue("id"), "checkpoint.flash.handover")
}

// AddShift adds a shift to a checkpoint's duty roster (POST
// /checkpoints/{id}/roster: name, username, post, start, end); the shifts
// already planned stay as they are.
func (pg *Pages) AddShift(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	if err := web.ParseForm(w, r, pageMaxForm); err != nil {
		return err
	}
	id := r.PathValue("id")
	vals := web.Trimmed(r, "name", "username", "post", "start", "end")
	sh := ShiftInput{Name: vals.Get("name"), Username: vals.Get("username"), Post: vals.Get("post")}
	start, err := formTimeOf(vals.Get("start"), "start")
	var end *time.Time
	if err == nil {
		end, err = formTimeOf(vals.Get("end"), "end")
	}
	if err == nil {
		if start != nil {
			sh.Start = *start
		}
		if end != nil {
			sh.End = *end
		}
		_, err = pg.Svc.AddShift(r.Context(), p, id, sh)
	}
	if err != nil {
		return pg.refuse(w, r, p, err, vals, func(d *pageDetailData, f *web.Form) bool { d.RosterForm = f; return d.CanManage })
	}
	return web.SeeOther(w, r, "/checkpoints/"+id+"#roster", "checkpoint.flash.roster")
}

// ScansExport answers GET /checkpoints/{id}/scans.xlsx?from=&to= (days;
// the last 7 by default): the checkpoint's scans, oldest first.
func (pg *Pages) ScansExport(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	from, to, err := web.DayRange(q.Get("from"), q.Get("to"), pg.Svc.Now(), statsDays)
	if err != nil {
		return err
	}
	c, list, err := pg.Svc.Scans(r.Context(), p, r.PathValue("id"), ScanQuery{From: from, To: to, Limit: pageExportMax})
	if err != nil {
		return err
	}
	sheet := importer.Sheet{Name: pg.t(r, "checkpoint.export.sheet")}
	for _, k := range []string{"scanned_at", "verdict", "reason", "pass_kind", "holder", "id4", "plate", "enterprise", "pass_id",
		"officer", "offline", "received_at"} {
		sheet.Cols = append(sheet.Cols, importer.Col{Header: pg.t(r, "checkpoint.col."+k)})
	}
	sheet.Cols[0].Type, sheet.Cols[11].Type = importer.Second, importer.Second
	for i := len(list) - 1; i >= 0; i-- {
		s := list[i]
		row := []any{s.ScannedAt, pg.t(r, "checkpoint.verdict."+string(s.Verdict)), pg.reasonName(r, s.Reason),
			"", "", "", "", "", "", s.Officer, pg.t(r, "common.no"), s.ReceivedAt}
		if s.Pass != nil {
			row[3], row[4], row[5], row[6], row[7], row[8] = pg.t(r, "checkpoint.pass_kind."+string(s.Pass.Kind)), s.Pass.Name,
				s.Pass.ID4, s.Pass.Plate, s.Pass.Ent, s.Pass.PID
		}
		if s.Offline {
			row[10] = pg.t(r, "common.yes")
		}
		sheet.Rows = append(sheet.Rows, row)
	}
	b, err := importer.WriteBook(sheet)
	if err != nil {
		return err
	}
	name := fmt.Sprintf("scans-%d-%s-%s.xlsx", c.ID, strings.ReplaceAll(dayOf(from), "-", ""),
		strings.ReplaceAll(dayOf(to.Add(-time.Millisecond)), "-", ""))
	return web.Attachment(w, importer.MediaXLSX, name, b)
}

// reasonName is a reason in the request's language.
func (pg *Pages) reasonName(r *http.Request, reason passtoken.Reason) string {
	if web.LangOf(r) == web.LangZH {
		return passtoken.ReasonNames[reason]
	}
	return pg.t(r, "checkpoint.reason."+string(reason))
}

// ---------------------------------------------------------------------
// Statistics

// pageStatsData is the data of checkpoint/stats.
type pageStatsData struct {
	From, To, Area string
	Error          string
	Scans          *ScanStats
	Handovers      *HandoverStats
	Names          map[int64]string
	ExportURL      string
}

// Stats answers GET /checkpoints/stats?from=&to=&area=: scans per
// checkpoint and hour, denials by reason, handovers per day, enterprise
// and goods.
func (pg *Pages) Stats(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	d := &pageStatsData{From: q.Get("from"), To: q.Get("to"), Area: strings.TrimSpace(q.Get("area")), Names: map[int64]string{}}
	from, to, err := web.DayRange(d.From, d.To, pg.Svc.Now(), statsDays)
	if err == nil {
		sq := StatsQuery{From: from, To: to, Area: d.Area}
		if d.Scans, err = pg.Svc.ScanStats(r.Context(), p, sq); err == nil {
			d.Handovers, err = pg.Svc.HandoverStats(r.Context(), p, sq)
		}
	}
	status := http.StatusOK
	if err != nil {
		if !errs.Is(err, errs.Invalid) {
			return err
		}
		status, d.Error, d.Scans, d.Handovers = http.StatusBadRequest, pg.Render.Message(r, err), nil, nil
	} else {
		d.From, d.To = d.Scans.From, d.Scans.To
		d.ExportURL = statsExportURL(d.From, d.To, d.Area)
		for _, c := range d.Scans.Checkpoints {
			d.Names[c.ID] = c.Name
		}
	}
	return pg.Render.Page(w, r, status, "checkpoint/stats", "checkpoint.stats.title", d)
}

// ---------------------------------------------------------------------
// Traffic control: the public page and notices

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
	now := pg.Svc.Now()
	in, err := pg.Svc.Measures(r.Context(), &now)
	if err != nil {
		return err
	}
	notices, err := pg.Svc.Notices(r.Context(), 20)
	if err != nil {
		return err
	}
	p := web.PrincipalOf(r)
	d := &pageTrafficData{Now: now, InForce: in, Notices: notices, CanAdmin: p.Can(auth.TrafficManage)}
	return pg.Render.Page(w, r, http.StatusOK, "traffic/public", "traffic.public.title", d)
}

// NoticePage answers GET /traffic/notices/{id} (no login).
func (pg *Pages) NoticePage(w http.ResponseWriter, r *http.Request) error {
	n, err := pg.Svc.Notice(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return pg.Render.Page(w, r, http.StatusOK, "traffic/notice", n.Title, n)
}

// ---------------------------------------------------------------------
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
	all, err := pg.Svc.Measures(r.Context(), nil)
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
	now := pg.Svc.Now().In(clock.Shanghai).Format(formTime)
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
	return pg.Render.Page(w, r, http.StatusOK, "traffic/manage", "traffic.manage.title", d)
}

// refuseManage shows the management page again after a refused form.
func (pg *Pages) refuseManage(w http.ResponseWriter, r *http.Request, p *auth.Principal, err error, mf, nf *web.Form) error {
	status := web.FormStatus(err)
	if status == 0 {
		return err
	}
	for _, f := range []*web.Form{mf, nf} {
		if f != nil {
			pg.Render.Fail(f, r, err)
		}
	}
	d, derr := pg.manage(r, p, mf, nf)
	if derr != nil {
		return derr
	}
	if mf == nil && nf == nil {
		d.Error = pg.Render.Message(r, err)
	}
	return pg.Render.Page(w, r, status, "traffic/manage", "traffic.manage.title", d)
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
		_, err = pg.Svc.CreateMeasure(r.Context(), p, in)
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
	m, err := pg.Svc.Measure(r.Context(), id)
	if err != nil {
		return err
	}
	_, err = pg.Svc.UpdateMeasure(r.Context(), p, id, MeasureInput{Kind: m.Kind, Target: m.Target, TargetKind: m.TargetKind,
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
		n, err = pg.Svc.PublishNotice(r.Context(), p, in)
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
