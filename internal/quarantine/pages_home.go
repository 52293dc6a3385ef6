package quarantine

import (
	"net/http"
	"net/url"
	"strconv"

	"tongxin/internal/auth"
	"tongxin/internal/web"
)

// The community worker's home-quarantine page (GET /quarantine/home?area=
// &day=), made for a phone: the checks still to record today first, each
// with a quick form (htmx swaps the person's card; without JavaScript the
// form posts and the page comes back), the tests due today — the list the
// door-to-door collector works from — and everyone at home.

// homeData is the data of quarantine/home.
type homeData struct {
	Area       string
	Day        string
	Board      *HomeBoard
	Today      bool
	CanCheck   bool
	Categories []Category
	Reasons    []EndReason
	Error      string
}

// cardData is the data of quarantine/home-card: one person's day.
type cardData struct {
	H        *HomeDay
	Area     string
	Today    bool
	CanCheck bool
	Error    string
}

// Card is the data of one person's card on the page.
func (d *homeData) Card(h *HomeDay) cardData {
	return cardData{H: h, Area: d.Area, Today: d.Today, CanCheck: d.CanCheck}
}

// homeArea is the area asked, or the caller's one area where they read
// quarantine (a community worker's community).
func homeArea(p *auth.Principal, asked string) string {
	if asked != "" {
		return asked
	}
	var refs []string
	for _, a := range p.Assignments {
		if a.Scope.Kind == auth.ScopeArea && a.Grants(auth.QuarantineRead) {
			refs = append(refs, a.Scope.Ref)
		}
	}
	if len(refs) == 1 {
		return refs[0]
	}
	return ""
}

// Home is GET /quarantine/home?area=&day=.
func (pg *Pages) Home(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	return pg.homePage(w, r, p, r.URL.Query().Get("area"), http.StatusOK, "")
}

func (pg *Pages) homePage(w http.ResponseWriter, r *http.Request, p *auth.Principal, areaCode string, status int, msg string) error {
	if err := auth.Require(p, auth.QuarantineRead, "quarantine.HomePage"); err != nil {
		return err
	}
	today := dayOf(pg.svc.Now())
	d := &homeData{Area: homeArea(p, areaCode), Day: r.URL.Query().Get("day"), Categories: Categories,
		Reasons: []EndReason{Completed, ToHospital, OtherEnd}, Error: msg}
	if d.Day == "" {
		d.Day = today
	}
	d.Today = d.Day == today
	if d.Area != "" {
		b, err := pg.svc.HomeBoard(r.Context(), p, d.Area, d.Day)
		if err != nil {
			if status = web.FormStatus(err); status == 0 {
				return err
			}
			d.Error = pg.render.Message(r, err)
		}
		d.Board = b
	}
	if d.Board != nil {
		d.CanCheck = d.Today && p.Can(auth.QuarantineHome)
	}
	return pg.render.Page(w, r, status, "quarantine/home", "quarantine.home.title", d)
}

// homeURL is the home page of area.
func homeURL(area string) string {
	if area == "" {
		return "/quarantine/home"
	}
	return "/quarantine/home?" + url.Values{"area": {area}}.Encode()
}

// homeDone answers a home form: back to the page with flash, or the page
// again with err's message.
func (pg *Pages) homeDone(w http.ResponseWriter, r *http.Request, p *auth.Principal, area string, err error, flash string) error {
	if err != nil {
		status := web.FormStatus(err)
		if status == 0 {
			return err
		}
		return pg.homePage(w, r, p, area, status, pg.render.Message(r, err))
	}
	return web.SeeOther(w, r, homeURL(area), flash)
}

// StartHomeSubmit is POST /quarantine/home: resident (code or ID
// number), category, starts_at, area (the page's).
func (pg *Pages) StartHomeSubmit(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	if err := web.ParseForm(w, r, pageMaxForm); err != nil {
		return err
	}
	v := web.Trimmed(r, "resident", "category", "starts_at", "area")
	in := HomeInput{Resident: v.Get("resident"), Category: Category(v.Get("category"))}
	in.StartsAt, err = formTimeOf(v.Get("starts_at"), "starts_at")
	if err == nil {
		_, err = pg.svc.StartHome(r.Context(), p, in)
	}
	return pg.homeDone(w, r, p, v.Get("area"), err, "quarantine.flash.home")
}

// CheckSubmit is POST /quarantine/home/stays/{id}/check: done ("1" or
// "0"), temperature, contacted, seal_intact, reason; area (the page's).
// htmx gets the person's card back; a browser without it the page.
func (pg *Pages) CheckSubmit(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	if err := web.ParseForm(w, r, pageMaxForm); err != nil {
		return err
	}
	v := web.Trimmed(r, "done", "temperature", "contacted", "seal_intact", "reason", "area")
	in := CheckInput{Done: v.Get("done") == "1", Contacted: v.Get("contacted") != "", SealIntact: v.Get("seal_intact") != "",
		Reason: v.Get("reason")}
	if t, perr := strconv.ParseFloat(v.Get("temperature"), 64); perr == nil {
		in.Temperature = &t
	}
	ref := r.PathValue("id")
	_, err = pg.svc.RecordCheck(r.Context(), p, ref, in)
	if !web.IsHTMX(r) {
		return pg.homeDone(w, r, p, v.Get("area"), err, "quarantine.flash.checked")
	}
	if err != nil && web.FormStatus(err) == 0 {
		return err
	}
	stay, gerr := pg.svc.GetStay(r.Context(), p, ref)
	if gerr != nil {
		return gerr
	}
	b, berr := pg.svc.HomeBoard(r.Context(), p, stay.AreaCode, "")
	if berr != nil {
		return berr
	}
	card := cardData{Area: v.Get("area"), Today: true, CanCheck: true}
	for _, h := range b.Persons {
		if h.Stay.ID == stay.ID {
			card.H = h
		}
	}
	if card.H == nil {
		return errStayNotFound()
	}
	if err != nil {
		card.Error = pg.render.Message(r, err)
	}
	// htmx swaps 2xx answers only: a refusal is the card with its message.
	return pg.render.Fragment(w, r, http.StatusOK, "quarantine/home-card", card)
}
