package zone

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/web"
	"tongxin/internal/zonerule"
)

// pageListData is the data of zone/list.
type pageListData struct {
	At        time.Time
	AtField   string // the moment asked, as the form shows it ("" now)
	Area      string
	Tree      []*Node
	Count     int
	CanDecide bool
}

// List answers GET /zones?area=&at=: the zones in force (now, or at the
// moment asked) as a tree of areas.
func (pg *Pages) List(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	d := &pageListData{At: pg.svc.Now(), AtField: q.Get("at"), Area: q.Get("area"), CanDecide: p.Can(auth.ZoneDecide)}
	at, err := formTimeOf(d.AtField, "at")
	if err != nil {
		return err
	}
	if at != nil {
		d.At = *at
	}
	if d.Tree, err = pg.svc.Tree(r.Context(), p, ListFilter{At: &d.At, Area: d.Area, Level: levelOf(q.Get("level"))}); err != nil {
		return err
	}
	for _, n := range d.Tree {
		d.Count += n.count()
	}
	return pg.render.Page(w, r, http.StatusOK, "zone/list", "zone.list.title", d)
}

// count is the zones of n and below.
func (n *Node) count() int {
	c := len(n.Zones)
	for _, ch := range n.Children {
		c += ch.count()
	}
	return c
}

// pageHistoryData is the data of zone/history.
type pageHistoryData struct {
	Area  string
	Zones []*Zone
}

// History answers GET /zones/history?area=: every decision over, inside
// or above the area, newest first.
func (pg *Pages) History(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	d := &pageHistoryData{Area: r.URL.Query().Get("area")}
	if d.Zones, err = pg.svc.History(r.Context(), p, d.Area); err != nil {
		return err
	}
	return pg.render.Page(w, r, http.StatusOK, "zone/history", "zone.history.title", d)
}

// pageDetailData is the data of zone/detail.
type pageDetailData struct {
	Zone      *Zone
	CanDecide bool // p decides over the zone and it is still open
	Levels    []zonerule.Level
	Change    *web.Form
	Lift      *web.Form
}

// detail builds the detail page's data with its forms.
func (pg *Pages) detail(r *http.Request, p *auth.Principal, id int64, change, lift *web.Form) (*pageDetailData, error) {
	z, err := pg.svc.Get(r.Context(), p, id)
	if err != nil {
		return nil, err
	}
	d := &pageDetailData{Zone: z, Levels: levels, Change: change, Lift: lift,
		CanDecide: p.Covers(auth.ZoneDecide, z.AreaPath) && !z.Ended(pg.svc.Now())}
	if d.Change == nil {
		d.Change = web.NewForm(url.Values{"at": {pg.nowField()}})
	}
	if d.Lift == nil {
		d.Lift = web.NewForm(url.Values{"at": {pg.nowField()}})
	}
	return d, nil
}

// Detail answers GET /zones/{id}: the zone, its chain, and the forms to
// change its level or lift it.
func (pg *Pages) Detail(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", errZoneNotFound())
	if err != nil {
		return err
	}
	d, err := pg.detail(r, p, id, nil, nil)
	if err != nil {
		return err
	}
	return pg.render.Page(w, r, http.StatusOK, "zone/detail", d.Zone.Target, d)
}

// decideForm reads the fields a change or a lift shares.
func decideForm(r *http.Request) (url.Values, *time.Time, error) {
	vals := web.Trimmed(r, "level", "at", "planned_end", "decision_no")
	vals.Set("reason", r.PostForm.Get("reason"))
	at, err := formTimeOf(vals.Get("at"), "at")
	return vals, at, err
}

// ChangeSubmit changes a zone's level (POST /zones/{id}/change: level, at,
// planned_end, reason, decision_no).
func (pg *Pages) ChangeSubmit(w http.ResponseWriter, r *http.Request) error {
	p, id, err := pg.formOn(w, r, errZoneNotFound())
	if err != nil {
		return err
	}
	vals, at, err := decideForm(r)
	in := ChangeInput{Level: zonerule.Level(vals.Get("level")), At: at, Reason: vals.Get("reason"), DecisionNo: vals.Get("decision_no")}
	if err == nil {
		in.PlannedEnd, err = formTimeOf(vals.Get("planned_end"), "planned_end")
	}
	var z *Zone
	if err == nil {
		z, err = pg.svc.Change(r.Context(), p, id, in)
	}
	if err != nil {
		f := web.NewForm(vals)
		return pg.refuse(r, f, err, func(status int) error { return pg.showDetail(w, r, p, id, status, f, nil) })
	}
	return web.SeeOther(w, r, "/zones/"+strconv.FormatInt(z.ID, 10), "zone.flash.changed")
}

// LiftSubmit lifts a zone (POST /zones/{id}/lift: at, reason, decision_no).
func (pg *Pages) LiftSubmit(w http.ResponseWriter, r *http.Request) error {
	p, id, err := pg.formOn(w, r, errZoneNotFound())
	if err != nil {
		return err
	}
	vals, at, err := decideForm(r)
	if err == nil {
		_, err = pg.svc.Lift(r.Context(), p, id, LiftInput{At: at, Reason: vals.Get("reason"), DecisionNo: vals.Get("decision_no")})
	}
	if err != nil {
		f := web.NewForm(vals)
		return pg.refuse(r, f, err, func(status int) error { return pg.showDetail(w, r, p, id, status, nil, f) })
	}
	return web.SeeOther(w, r, "/zones/"+strconv.FormatInt(id, 10), "zone.flash.lifted")
}

// showDetail renders the detail page with a refused form.
func (pg *Pages) showDetail(w http.ResponseWriter, r *http.Request, p *auth.Principal, id int64, status int, change, lift *web.Form) error {
	d, err := pg.detail(r, p, id, change, lift)
	if err != nil {
		return err
	}
	return pg.render.Page(w, r, status, "zone/detail", d.Zone.Target, d)
}

// formOn reads the caller, the path's {id} and the posted form.
func (pg *Pages) formOn(w http.ResponseWriter, r *http.Request, notFound error) (*auth.Principal, int64, error) {
	p, err := web.Principal(r)
	if err != nil {
		return nil, 0, err
	}
	id, err := web.PathID(r, "id", notFound)
	if err != nil {
		return nil, 0, err
	}
	return p, id, web.ParseForm(w, r, pageMaxForm)
}

// pageNewData is the data of zone/new.
type pageNewData struct {
	Levels []zonerule.Level
	Form   *web.Form
}

// New answers GET /zones/new: the form deciding a new zone.
func (pg *Pages) New(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	if err := auth.Require(p, auth.ZoneDecide, "zone.NewPage"); err != nil {
		return err
	}
	vals := query(r, "area_code", "estate", "building", "level")
	if vals.Get("level") == "" {
		vals.Set("level", string(zonerule.Sealed))
	}
	vals.Set("effective_from", pg.nowField())
	return pg.render.Page(w, r, http.StatusOK, "zone/new", "zone.new.title", &pageNewData{Levels: levels, Form: web.NewForm(vals)})
}

// CreateSubmit decides a zone (POST /zones: level, area_code, estate,
// building, effective_from, planned_end, reason, decision_no).
func (pg *Pages) CreateSubmit(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	if err := web.ParseForm(w, r, pageMaxForm); err != nil {
		return err
	}
	vals := web.Trimmed(r, "level", "area_code", "estate", "building", "effective_from", "planned_end", "decision_no")
	vals.Set("reason", r.PostForm.Get("reason"))
	in := ZoneInput{Level: zonerule.Level(vals.Get("level")), AreaCode: vals.Get("area_code"), Estate: vals.Get("estate"),
		Building: vals.Get("building"), Reason: vals.Get("reason"), DecisionNo: vals.Get("decision_no")}
	from, err := formTimeOf(vals.Get("effective_from"), "effective_from")
	if err == nil && from != nil {
		in.EffectiveFrom = *from
	}
	if err == nil {
		in.PlannedEnd, err = formTimeOf(vals.Get("planned_end"), "planned_end")
	}
	var z *Zone
	if err == nil {
		z, err = pg.svc.Create(r.Context(), p, in)
	}
	if err != nil {
		f := web.NewForm(vals)
		return pg.refuse(r, f, err, func(status int) error {
			return pg.render.Page(w, r, status, "zone/new", "zone.new.title", &pageNewData{Levels: levels, Form: f})
		})
	}
	return web.SeeOther(w, r, "/zones/"+strconv.FormatInt(z.ID, 10), "zone.flash.created")
}

// LocalInput shows t as a datetime-local value, for templates.
func LocalInput(t time.Time) string { return t.In(clock.Shanghai).Format(formTime) }
