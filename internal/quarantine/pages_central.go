package quarantine

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"tongxin/internal/auth"
	"tongxin/internal/errs"
	"tongxin/internal/web"
)

// The central board (GET /quarantine), a site's page (GET
// /quarantine/sites/{id}?at=) and their forms. A refused form shows its
// page again with the message; a done one answers 303 to the page.

// centralData is the data of quarantine/central.
type centralData struct {
	Area      string
	At        string // the datetime-local value asked, "" for now
	Sites     []*Site
	Persons   int
	Free      int
	CanManage bool
	Error     string
}

// Central is GET /quarantine?area=&at=.
func (pg *Pages) Central(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	return pg.centralPage(w, r, p, http.StatusOK, "")
}

func (pg *Pages) centralPage(w http.ResponseWriter, r *http.Request, p *auth.Principal, status int, msg string) error {
	q := r.URL.Query()
	d := &centralData{Area: q.Get("area"), At: q.Get("at"), CanManage: p.Can(auth.QuarantineCentral), Error: msg}
	at, err := formTimeOf(d.At, "at")
	if err == nil {
		d.Sites, err = pg.svc.ListSites(r.Context(), p, d.Area, at)
	}
	if err != nil {
		if status = web.FormStatus(err); status == 0 {
			return err
		}
		d.Error = pg.render.Message(r, err)
	}
	for _, s := range d.Sites {
		d.Persons += s.Occupied
		d.Free += s.FreeRooms
	}
	return pg.render.Page(w, r, status, "quarantine/central", "quarantine.central.title", d)
}

// CreateSiteSubmit is POST /quarantine/sites (name, place, area_code,
// capacity).
func (pg *Pages) CreateSiteSubmit(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	if err := web.ParseForm(w, r, pageMaxForm); err != nil {
		return err
	}
	v := web.Trimmed(r, "name", "place", "area_code", "capacity")
	capacity, _ := strconv.Atoi(v.Get("capacity"))
	site, err := pg.svc.CreateSite(r.Context(), p, SiteInput{Name: v.Get("name"), Place: v.Get("place"), AreaCode: v.Get("area_code"),
		Capacity: capacity})
	if err != nil {
		status := web.FormStatus(err)
		if status == 0 {
			return err
		}
		return pg.centralPage(w, r, p, status, pg.render.Message(r, err))
	}
	return web.SeeOther(w, r, fmt.Sprintf("/quarantine/sites/%d", site.ID), "quarantine.flash.site")
}

// siteData is the data of quarantine/site.
type siteData struct {
	Board      *SiteBoard
	Floors     []floorRooms
	Events     []Event
	At         string // the datetime-local value asked, "" for now
	Now        bool   // the board is of now: the forms show
	CanManage  bool
	FreeRooms  []string
	Sites      []*Site // where a transfer may go
	Categories []Category
	Reasons    []EndReason
	Error      string
}

// floorRooms is a floor of the grid.
type floorRooms struct {
	Floor int
	Rooms []Room
}

// Site is GET /quarantine/sites/{id}?at=.
func (pg *Pages) Site(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	return pg.sitePage(w, r, p, r.PathValue("id"), http.StatusOK, "")
}

func (pg *Pages) sitePage(w http.ResponseWriter, r *http.Request, p *auth.Principal, ref string, status int, msg string) error {
	d := &siteData{At: r.URL.Query().Get("at"), Categories: Categories, Reasons: []EndReason{Completed, ToHospital, OtherEnd},
		Error: msg}
	at, err := formTimeOf(d.At, "at")
	if err != nil {
		d.Error, status, at = pg.render.Message(r, err), http.StatusBadRequest, nil
	}
	d.Now = at == nil
	if d.Board, err = pg.svc.Board(r.Context(), p, ref, at); err != nil {
		return err
	}
	if d.Events, err = pg.svc.Events(r.Context(), p, ref, at); err != nil {
		return err
	}
	if len(d.Events) > 100 {
		d.Events = d.Events[:100]
	}
	for _, room := range d.Board.RoomList {
		if len(d.Floors) == 0 || d.Floors[len(d.Floors)-1].Floor != room.Floor {
			d.Floors = append(d.Floors, floorRooms{Floor: room.Floor})
		}
		f := &d.Floors[len(d.Floors)-1]
		f.Rooms = append(f.Rooms, room)
		if len(room.Occupants) < room.Beds {
			d.FreeRooms = append(d.FreeRooms, room.Number)
		}
	}
	d.CanManage = d.Now && p.Covers(auth.QuarantineCentral, d.Board.areaPath)
	if d.CanManage {
		if d.Sites, err = pg.svc.ListSites(r.Context(), p, "", nil); err != nil {
			return err
		}
	}
	title := pg.render.T(r, "quarantine.site.title", d.Board.Name)
	return pg.render.Page(w, r, status, "quarantine/site", title, d)
}

// AddRoomsSubmit is POST /quarantine/sites/{id}/rooms: numbers ("101-120,
// 201-220"), beds; a room's floor is its number's hundreds.
func (pg *Pages) AddRoomsSubmit(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	if err := web.ParseForm(w, r, pageMaxForm); err != nil {
		return err
	}
	v := web.Trimmed(r, "numbers", "beds")
	ref := r.PathValue("id")
	beds, _ := strconv.Atoi(v.Get("beds"))
	rooms, err := roomRange(v.Get("numbers"), beds)
	if err == nil {
		_, err = pg.svc.AddRooms(r.Context(), p, ref, RoomsInput{Rooms: rooms})
	}
	return pg.siteDone(w, r, p, ref, err, "quarantine.flash.rooms")
}

// roomRange reads "101-120, 201-220, 301" as rooms of beds each.
func roomRange(s string, beds int) ([]RoomInput, error) {
	var out []RoomInput
	for _, part := range strings.FieldsFunc(s, func(c rune) bool { return c == ',' || c == '，' || c == '、' || c == ' ' }) {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err1 := strconv.Atoi(lo)
		b := a
		var err2 error
		if isRange {
			b, err2 = strconv.Atoi(hi)
		}
		if err1 != nil || err2 != nil || a <= 0 || b < a || b-a >= MaxRoomsAdded || len(out)+b-a+1 > MaxRoomsAdded {
			return nil, errs.Fields("invalid_rooms", "房间号应写作 101-120, 201-220", errs.FieldError{Field: "numbers", Message: "格式不正确"})
		}
		for n := a; n <= b; n++ {
			out = append(out, RoomInput{Number: strconv.Itoa(n), Floor: n / 100, Beds: beds})
		}
	}
	return out, nil
}

// siteDone answers a site form: back to the site with flash, or the site
// page again with err's message.
func (pg *Pages) siteDone(w http.ResponseWriter, r *http.Request, p *auth.Principal, ref string, err error, flash string) error {
	if err != nil {
		status := web.FormStatus(err)
		if status == 0 {
			return err
		}
		return pg.sitePage(w, r, p, ref, status, pg.render.Message(r, err))
	}
	return web.SeeOther(w, r, "/quarantine/sites/"+url.PathEscape(ref), flash)
}

// AdmitSubmit is POST /quarantine/sites/{id}/admit: resident, or name,
// id_number and phone; category, room, starts_at.
func (pg *Pages) AdmitSubmit(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	if err := web.ParseForm(w, r, pageMaxForm); err != nil {
		return err
	}
	v := web.Trimmed(r, "resident", "name", "id_number", "phone", "category", "room", "starts_at", "note")
	ref := r.PathValue("id")
	siteID, _ := strconv.ParseInt(ref, 10, 64)
	in := AdmitInput{PersonInput: PersonInput{Resident: v.Get("resident"), Name: v.Get("name"), IDNumber: v.Get("id_number"),
		Phone: v.Get("phone")}, Category: Category(v.Get("category")), Site: siteID, Room: v.Get("room"), Note: v.Get("note")}
	in.StartsAt, err = formTimeOf(v.Get("starts_at"), "starts_at")
	if err == nil {
		_, err = pg.svc.Admit(r.Context(), p, in)
	}
	return pg.siteDone(w, r, p, ref, err, "quarantine.flash.admitted")
}

// TransferSubmit is POST /quarantine/stays/{id}/transfer: site, room, at;
// back (the site the form was on).
func (pg *Pages) TransferSubmit(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	if err := web.ParseForm(w, r, pageMaxForm); err != nil {
		return err
	}
	v := web.Trimmed(r, "site", "room", "at", "back")
	site, _ := strconv.ParseInt(v.Get("site"), 10, 64)
	in := TransferInput{Site: site, Room: v.Get("room")}
	in.At, err = formTimeOf(v.Get("at"), "at")
	if err == nil {
		_, err = pg.svc.Transfer(r.Context(), p, r.PathValue("id"), in)
	}
	return pg.siteDone(w, r, p, v.Get("back"), err, "quarantine.flash.transferred")
}

// ReleaseSubmit is POST /quarantine/stays/{id}/release: reason, note, at;
// back (the site, or "home:AREA" for the home page).
func (pg *Pages) ReleaseSubmit(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	if err := web.ParseForm(w, r, pageMaxForm); err != nil {
		return err
	}
	v := web.Trimmed(r, "reason", "note", "at", "back")
	in := ReleaseInput{Reason: EndReason(v.Get("reason")), Note: v.Get("note")}
	in.At, err = formTimeOf(v.Get("at"), "at")
	if err == nil {
		_, err = pg.svc.Release(r.Context(), p, r.PathValue("id"), in)
	}
	if area, ok := strings.CutPrefix(v.Get("back"), "home:"); ok {
		return pg.homeDone(w, r, p, area, err, "quarantine.flash.released")
	}
	return pg.siteDone(w, r, p, v.Get("back"), err, "quarantine.flash.released")
}
