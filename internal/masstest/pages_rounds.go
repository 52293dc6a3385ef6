package masstest

import (
	"fmt"
	"net/http"
	"net/url"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/web"
)

// pageChartSpec is one chart as js/charts.js draws it.
type pageChartSpec struct {
	ID         string            `json:"id"`
	Type       string            `json:"type"` // bar or line
	Title      string            `json:"title"`
	Categories []string          `json:"categories"`
	Series     []pageChartSeries `json:"series"`
	Unit       string            `json:"unit"`
}

type pageChartSeries struct {
	Name string     `json:"name"`
	Data []*float64 `json:"data"`
}

// pct is a rate in percent to one place, nil for no rate.
func pct(r *float64) *float64 {
	if r == nil {
		return nil
	}
	v := float64(int64(*r*1000+0.5)) / 10
	return &v
}

// Campaigns answers GET /testing: the campaigns the caller reads, and
// the form of a new one for the testing group.
func (pg *Pages) Campaigns(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	list, err := pg.svc.ListCampaigns(r.Context(), p)
	if err != nil {
		return err
	}
	return pg.render.Page(w, r, http.StatusOK, "testing/campaigns", "testing.campaigns.title",
		pageCampaignsData{Campaigns: list, CanManage: p.Can(auth.TestingManage), Form: web.NewForm(nil)})
}

// pageHistoryData is the data of testing/campaign.
type pageHistoryData struct {
	Campaign  *Campaign
	Area      AreaRef
	Rounds    []RoundCover
	Charts    []pageChartSpec
	CanManage bool
	Form      *web.Form
	Modes     []Mode
}

// Campaign answers GET /testing/campaigns/{id}?area=: the rounds one
// after the other with their coverage, and its chart.
func (pg *Pages) Campaign(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	return pg.campaignPage(w, r, p, http.StatusOK, nil)
}

// campaignPage shows a campaign with status, and f the new round's form
// (nil: a blank one for today, 07:00 to 21:00).
func (pg *Pages) campaignPage(w http.ResponseWriter, r *http.Request, p *auth.Principal, status int, f *web.Form) error {
	c, a, rounds, err := pg.svc.History(r.Context(), p, r.PathValue("id"), r.URL.Query().Get("area"))
	if err != nil {
		return err
	}
	if f == nil {
		day := pg.svc.Now().In(clock.Shanghai).Format(time.DateOnly)
		f = web.NewForm(url.Values{"starts_at": {day + "T07:00"}, "ends_at": {day + "T21:00"}, "mode": {string(ModeBoth)}})
	}
	d := &pageHistoryData{Campaign: c, Area: a, Rounds: rounds, CanManage: p.Covers(auth.TestingManage, c.AreaPath), Form: f,
		Modes: []Mode{ModeBoth, ModeSites, ModeDoor}}
	if len(rounds) > 0 {
		chart := pageChartSpec{ID: "chart-history", Type: "line", Title: pg.t(r, "testing.chart.history", a.Name), Unit: "%"}
		persons := pageChartSeries{Name: pg.t(r, "testing.col.persons_rate")}
		households := pageChartSeries{Name: pg.t(r, "testing.col.households_rate")}
		for _, rc := range rounds {
			chart.Categories = append(chart.Categories, pg.t(r, "testing.round.number", rc.Round.Number))
			persons.Data = append(persons.Data, pct(rc.Persons.Rate))
			households.Data = append(households.Data, pct(rc.Households.Rate))
		}
		chart.Series = []pageChartSeries{persons, households}
		d.Charts = []pageChartSpec{chart}
	}
	return pg.render.Page(w, r, status, "testing/campaign", "testing.campaign.title", d)
}

// pageRoundData is the data of testing/round and of its board.
type pageRoundData struct {
	Round     *Round
	Coverage  *Coverage
	Charts    []pageChartSpec
	BoardURL  string
	MissedURL string
	ExportURL string
	Refreshed bool
	CanClose  bool
}

// Round answers GET /testing/rounds/{id}?area=: the round's dashboard.
func (pg *Pages) Round(w http.ResponseWriter, r *http.Request) error {
	d, err := pg.roundData(r)
	if err != nil {
		return err
	}
	return pg.render.Page(w, r, http.StatusOK, "testing/round", "testing.round.title", d)
}

// RoundBoard answers htmx with the dashboard's figures alone (GET
// /testing/rounds/{id}/board?area=), every 30 seconds; a browser asking
// for it directly is sent to the dashboard.
func (pg *Pages) RoundBoard(w http.ResponseWriter, r *http.Request) error {
	if _, err := web.Principal(r); err != nil {
		return err
	}
	if !web.IsHTMX(r) {
		http.Redirect(w, r, roundURL(r.PathValue("id"), "", r.URL.Query().Get("area")), http.StatusSeeOther)
		return nil
	}
	d, err := pg.roundData(r)
	if err != nil {
		return err
	}
	d.Refreshed = true
	return pg.render.Fragment(w, r, http.StatusOK, "testing/board-fragment", d)
}

// roundURL is a page of round id (suffix "" the dashboard, "/board",
// "/missed") for area.
func roundURL(id, suffix, area string) string {
	u := "/testing/rounds/" + url.PathEscape(id) + suffix
	if area != "" {
		u += "?" + url.Values{"area": {area}}.Encode()
	}
	return u
}

func (pg *Pages) roundData(r *http.Request) (*pageRoundData, error) {
	p, err := web.Principal(r)
	if err != nil {
		return nil, err
	}
	ref := r.PathValue("id")
	round, err := pg.svc.GetRound(r.Context(), p, ref)
	if err != nil {
		return nil, err
	}
	c, err := pg.svc.Coverage(r.Context(), p, ref, r.URL.Query().Get("area"))
	if err != nil {
		return nil, err
	}
	d := &pageRoundData{Round: round, Coverage: c, BoardURL: roundURL(ref, "/board", c.Area.Code), CanClose: round.ClosedAt == nil &&
		pg.svc.managesRound(p, round, "") == nil,
		MissedURL: roundURL(ref, "/missed", c.Area.Code),
		ExportURL: fmt.Sprintf("/api/v1/rounds/%d/missed?%s", round.ID, url.Values{"area": {c.Area.Code}, "format": {"xlsx"}}.Encode())}
	if len(c.Children) > 0 {
		chart := pageChartSpec{ID: "chart-children", Type: "bar", Title: pg.t(r, "testing.chart.children", c.Area.Name), Unit: "%"}
		s := pageChartSeries{Name: pg.t(r, "testing.col.persons_rate")}
		for _, ch := range c.Children {
			chart.Categories = append(chart.Categories, ch.Name)
			s.Data = append(s.Data, pct(ch.Persons.Rate))
		}
		chart.Series = []pageChartSeries{s}
		d.Charts = []pageChartSpec{chart}
	}
	return d, nil
}

// pageMissedData is the data of testing/missed.
type pageMissedData struct {
	Round     *Round
	List      *MissedList
	Buildings []pageBuilding
	Prev      string
	Next      string
	ExportURL string
	CanExempt bool
	Reasons   []ExemptReason
	Page      int
	Error     string
}

// pageBuilding is one building's missed residents, a printed page each.
type pageBuilding struct {
	Name   string
	People []MissedPerson
}

// missedPerPage is how many missed residents a page shows.
const missedPerPage = 200

// Missed answers GET /testing/rounds/{id}/missed?area=&page=: the missed
// list a building a printed page, for the door-to-door teams.
func (pg *Pages) Missed(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	page, err := web.QueryInt(r, "page", 1, 1, 100000)
	if err != nil {
		return err
	}
	return pg.missedPage(w, r, p, r.PathValue("id"), r.URL.Query().Get("area"), page, http.StatusOK, "")
}

// missedPage shows a page of the missed list with status, and a message
// when a form was refused.
func (pg *Pages) missedPage(w http.ResponseWriter, r *http.Request, p *auth.Principal, ref, area string, page, status int, msg string) error {
	round, err := pg.svc.GetRound(r.Context(), p, ref)
	if err != nil {
		return err
	}
	l, err := pg.svc.Missed(r.Context(), p, ref, MissedQuery{Area: area, Page: page, PerPage: missedPerPage})
	if err != nil {
		return err
	}
	d := &pageMissedData{Round: round, List: l, CanExempt: canSample(p) && round.ClosedAt == nil, Reasons: ExemptReasons, Page: page,
		Error: msg, ExportURL: fmt.Sprintf("/api/v1/rounds/%d/missed?%s", round.ID, url.Values{"area": {l.Area.Code}, "format": {"xlsx"}}.Encode())}
	for _, m := range l.Items {
		name := m.Address.CommunityName + " " + m.Address.Estate + " " + m.Address.Building
		if len(d.Buildings) == 0 || d.Buildings[len(d.Buildings)-1].Name != name {
			d.Buildings = append(d.Buildings, pageBuilding{Name: name})
		}
		b := &d.Buildings[len(d.Buildings)-1]
		b.People = append(b.People, m)
	}
	base := roundURL(ref, "/missed", l.Area.Code)
	if page > 1 {
		d.Prev = fmt.Sprintf("%s&page=%d", base, page-1)
	}
	if page*missedPerPage < l.Persons {
		d.Next = fmt.Sprintf("%s&page=%d", base, page+1)
	}
	return pg.render.Page(w, r, status, "testing/missed", "testing.missed.title", d)
}
