package checkpoint

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/importer"
	"tongxin/internal/passtoken"
	"tongxin/internal/web"
)

// A checkpoint's page: its roster, recent scans and handovers, and the forms
// changing it; the scan export.

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
	c, err := pg.svc.Get(ctx, p, id)
	if err != nil {
		return nil, err
	}
	now := pg.svc.Now()
	d := &pageDetailData{C: c, Kinds: Kinds, CanScan: canScan(p, c, "") == nil,
		CanManage: reachFor(p, false, auth.CheckpointManage).covers(c)}
	if d.Roster, err = pg.svc.Roster(ctx, p, id, now, now.Add(48*time.Hour)); err != nil {
		return nil, err
	}
	if _, d.Scans, err = pg.svc.Scans(ctx, p, id, ScanQuery{Limit: pageRecentScans}); err != nil {
		return nil, err
	}
	if c.Kind == TransferPoint {
		if d.Handovers, err = pg.svc.Handovers(ctx, p, id, 20); err != nil {
			return nil, err
		}
		d.HandoverForm = web.NewForm(url.Values{"unit": {"吨"}})
	}
	vals := url.Values{"name": {c.Name}, "kind": {string(c.Kind)}, "place": {c.Place}, "area_code": {c.AreaCode},
		"estate": {c.Estate}, "version": {strconv.Itoa(c.Version)}}
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
	return pg.render.Page(w, r, http.StatusOK, "checkpoint/detail", d.C.Name, d)
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
	pg.render.Fail(form, r, err)
	if !set(d, form) {
		return err
	}
	return pg.render.Page(w, r, status, "checkpoint/detail", d.C.Name, d)
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
	vals := web.Trimmed(r, "name", "kind", "place", "area_code", "estate", "open", "lat", "lng", "version")
	in, err := inputOf(vals)
	if err == nil {
		in.Version, _ = strconv.Atoi(vals.Get("version"))
		_, err = pg.svc.Update(r.Context(), p, r.PathValue("id"), in)
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
		_, err = pg.svc.LogHandover(r.Context(), p, r.PathValue("id"), in)
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
		_, err = pg.svc.AddShift(r.Context(), p, id, sh)
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
	from, to, err := web.DayRange(q.Get("from"), q.Get("to"), pg.svc.Now(), statsDays)
	if err != nil {
		return err
	}
	c, list, err := pg.svc.Scans(r.Context(), p, r.PathValue("id"), ScanQuery{From: from, To: to, Limit: pageExportMax})
	if err != nil {
		return err
	}
	sheet := importer.Sheet{Name: pg.t(r, "checkpoint.export.sheet")}
	for _, k := range []string{"scanned_at", "verdict", "reason", "shown", "pass_kind", "holder", "id4", "plate", "enterprise", "pass_id",
		"resident_id", "zone", "officer", "offline", "received_at"} {
		sheet.Cols = append(sheet.Cols, importer.Col{Header: pg.t(r, "checkpoint.col."+k)})
	}
	sheet.Cols[0].Type, sheet.Cols[14].Type = importer.Second, importer.Second
	for i := len(list) - 1; i >= 0; i-- {
		s := list[i]
		row := []any{s.ScannedAt, pg.t(r, "checkpoint.verdict."+string(s.Verdict)), pg.reasonName(r, s.Reason),
			pg.t(r, "checkpoint.shown."+string(s.Shown)), "", "", "", "", "", "", "", "", s.Officer, pg.t(r, "common.no"), s.ReceivedAt}
		if s.Pass != nil {
			row[4], row[5], row[6], row[7], row[8], row[9] = pg.t(r, "checkpoint.pass_kind."+string(s.Pass.Kind)), s.Pass.Name,
				s.Pass.ID4, s.Pass.Plate, s.Pass.Ent, s.Pass.PID
		}
		if res := s.Resident; res != nil {
			row[5], row[10] = res.Name, res.RID
			if res.Level != "" {
				row[11] = pg.t(r, "scan.level."+string(res.Level))
			}
		}
		if s.Offline {
			row[13] = pg.t(r, "common.yes")
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
