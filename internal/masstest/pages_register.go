package masstest

import (
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"tongxin/internal/auth"
	"tongxin/internal/importer"
	"tongxin/internal/web"
)

// The household register's pages: the list of a community's households
// with the upload form and the import's answer, and the QR sheets of a
// building.

// pageHouseholdsData is the data of GET /households and of the answer to
// POST /households/import.
type pageHouseholdsData struct {
	Area, Estate, Building string
	Page                   *HouseholdPage
	Prev, Next             string // the pages' URLs, "" on the first and the last
	CanImport              bool
	Result                 *RegisterImport
	Form                   *web.Form
	Errors                 web.RowErrors
	Sheets                 map[int64]string // household id -> the URL of its building's QR sheet
	Synced                 []syncView
}

// syncView is one community of an import's answer, its lists titled.
type syncView struct {
	Sync  CommunitySync
	Lists []changeList
}

// changeList is a titled list of residents an import moved or changed.
type changeList struct {
	Title string // catalog key
	List  []ResidentChange
}

// viewsOf titles the lists of an import's answer.
func viewsOf(res *RegisterImport) []syncView {
	if res == nil {
		return nil
	}
	out := make([]syncView, len(res.Communities))
	for i, c := range res.Communities {
		out[i] = syncView{Sync: c, Lists: []changeList{{"testing.import.moved_in", c.MovedIn},
			{"testing.import.moved_out", c.MovedOut}, {"testing.import.changed", c.Changed}}}
	}
	return out
}

// Households shows a page of households (GET
// /households?area=&estate=&building=&page=&per_page=), masked, with the upload
// form for those who register.
func (pg *Pages) Households(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	d, err := pg.households(r, p)
	if err != nil {
		return err
	}
	return pg.render.Page(w, r, http.StatusOK, "masstest/households", "testing.households.title", d)
}

// households reads the filters of r and lists a page.
func (pg *Pages) households(r *http.Request, p *auth.Principal) (*pageHouseholdsData, error) {
	f, err := householdFilterOf(r)
	if err != nil {
		return nil, err
	}
	f.Area, f.Estate, f.Building = strings.TrimSpace(f.Area), strings.TrimSpace(f.Estate), strings.TrimSpace(f.Building)
	d := &pageHouseholdsData{Area: f.Area, Estate: f.Estate, Building: f.Building, CanImport: p.Can(auth.TestingRegister),
		Form: web.NewForm(nil), Sheets: map[int64]string{}}
	if d.Page, err = pg.svc.ListHouseholds(r.Context(), p, f); err != nil {
		return nil, err
	}
	for _, h := range d.Page.Items {
		d.Sheets[h.ID] = "/households/codes?" + url.Values{"community": {h.CommunityCode}, "estate": {h.Estate},
			"building": {h.Building}}.Encode()
	}
	link := func(page int) string {
		v := url.Values{"page": {strconv.Itoa(page)}}
		for k, s := range map[string]string{"area": f.Area, "estate": f.Estate, "building": f.Building} {
			if s != "" {
				v.Set(k, s)
			}
		}
		return "/households?" + v.Encode()
	}
	if d.Page.Page > 1 {
		d.Prev = link(d.Page.Page - 1)
	}
	if d.Page.Page*d.Page.PerPage < d.Page.Total {
		d.Next = link(d.Page.Page + 1)
	}
	return d, nil
}

// ImportSubmit takes the upload form (POST /households/import, a file
// field) and shows the list with the import's answer, or its row errors.
func (pg *Pages) ImportSubmit(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	data, err := importer.ReadUpload(w, r, web.MaxUploadBody)
	var res *RegisterImport
	if err == nil {
		res, err = pg.svc.ImportHouseholds(r.Context(), p, data)
	}
	status := http.StatusOK
	if err != nil {
		if status = web.FormStatus(err); status == 0 {
			return err
		}
	}
	r.URL.RawQuery = ""
	d, derr := pg.households(r, p)
	if derr != nil {
		return derr
	}
	if err != nil {
		pg.render.Fail(d.Form, r, err)
		d.Errors = web.RowErrorsOf(err)
	}
	d.Result, d.Synced = res, viewsOf(res)
	return pg.render.Page(w, r, status, "masstest/households", "testing.households.title", d)
}

// pageCodesData is the data of GET /households/codes.
type pageCodesData struct {
	Community, Estate, Building string
	Cards                       []codeCard
}

// codeCard is one printed card: a household's or a resident's.
type codeCard struct {
	Household bool
	Name      string
	Address   string
	Estate    string
	Building  string
	Unit      string
	Room      string
	QR        template.HTML
}

// Codes shows the QR sheets of one building (GET
// /households/codes?community=&estate=&building=): a card per
// household and per resident, to print on A4.
func (pg *Pages) Codes(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	d := &pageCodesData{Community: strings.TrimSpace(q.Get("community")), Estate: strings.TrimSpace(q.Get("estate")),
		Building: strings.TrimSpace(q.Get("building"))}
	list, codes, err := pg.svc.BuildingCodes(r.Context(), p, d.Community, d.Estate, d.Building)
	if err != nil {
		return err
	}
	for i, h := range list {
		c := codeCard{Household: true, Estate: h.Estate, Building: h.Building, Unit: h.Unit, Room: h.Room,
			Address: placeText(h.Estate, h.Building, h.Unit, h.Room)}
		if c.QR, err = qrSVG(codes[i].Household); err != nil {
			return err
		}
		d.Cards = append(d.Cards, c)
		for _, rc := range codes[i].Residents {
			rcard := c
			rcard.Household, rcard.Name = false, rc.Name
			if rcard.QR, err = qrSVG(rc.Token); err != nil {
				return err
			}
			d.Cards = append(d.Cards, rcard)
		}
	}
	return pg.render.Page(w, r, http.StatusOK, "masstest/register-codes", pg.t(r, "testing.codes.title", d.Estate, d.Building), d)
}
