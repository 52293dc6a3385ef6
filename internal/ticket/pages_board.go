package ticket

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"tongxin/internal/auth"
	"tongxin/internal/web"
)

// ---------------------------------------------------------------------
// The overdue board (督办看板)

// pageBoardGroup is the overdue tickets held at one level.
type pageBoardGroup struct {
	Level string
	Rows  []pageRow
}

// pageBoardData is the data of ticket/board.
type pageBoardData struct {
	Groups    []pageBoardGroup
	Expiring  []pageRow // about to expire, the most urgent first
	Total     int
	Full      bool // the list reached its limit
	AsOf      time.Time
	Area      string
	Areas     []pageAreaOption
	BoardURL  string
	Refreshed bool // an htmx refresh
}

// board loads the open tickets past their deadline, grouped by the level
// now holding them (the highest first), and those about to expire; each
// list is sorted by the urgency of its deadline (byUrgency).
func (pg *Pages) board(r *http.Request, p *auth.Principal) (*pageBoardData, error) {
	a := strings.TrimSpace(r.URL.Query().Get("area"))
	if utf8.RuneCountInString(a) > 20 {
		return nil, badFilter("area", "区划编码过长")
	}
	f := Filter{Overdue: true, ByDue: true, Statuses: openStatuses, Limit: MaxListLimit}
	if a != "" {
		f.Areas = []string{a}
	}
	list, err := pg.svc.List(r.Context(), p, f)
	if err != nil {
		return nil, err
	}
	f.Overdue, f.Expiring = false, true
	soon, err := pg.svc.List(r.Context(), p, f)
	if err != nil {
		return nil, err
	}
	_, cats, err := pg.categories(r, false)
	if err != nil {
		return nil, err
	}
	now := pg.now()
	d := &pageBoardData{Total: len(list), Full: len(list) >= MaxListLimit, AsOf: now, Area: a, BoardURL: "/tickets/overdue/board"}
	if a != "" {
		d.BoardURL += "?" + url.Values{"area": {a}}.Encode()
	}
	byDepth := map[int][]pageRow{}
	for _, t := range list {
		byDepth[t.HolderDepth] = append(byDepth[t.HolderDepth], pg.row(r, cats, t, now))
	}
	for depth := 0; depth < len(levelCodes); depth++ {
		if rows := byDepth[depth]; len(rows) > 0 {
			slices.SortStableFunc(rows, byUrgency)
			d.Groups = append(d.Groups, pageBoardGroup{Level: pg.levelName(r, depth), Rows: rows})
		}
	}
	for _, t := range soon {
		d.Expiring = append(d.Expiring, pg.row(r, cats, t, now))
	}
	slices.SortStableFunc(d.Expiring, byUrgency)
	return d, nil
}

// byUrgency orders rows by the share of their deadline's window left, the
// least first (a critical ticket 20 minutes late on a 10-minute deadline
// before a normal one 2 hours late on a day's), then by urgency.
func byUrgency(a, b pageRow) int {
	if c := cmp.Compare(a.ShareLeft, b.ShareLeft); c != 0 {
		return c
	}
	return cmp.Compare(slices.Index(Urgencies, b.Urgency), slices.Index(Urgencies, a.Urgency))
}

// Overdue shows the overdue board (GET /tickets/overdue?area=), which
// refreshes itself every minute through OverdueBoard.
func (pg *Pages) Overdue(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	d, err := pg.board(r, p)
	if err != nil {
		return err
	}
	if d.Areas, err = pg.areaOptions(r.Context(), p); err != nil {
		return err
	}
	return pg.render.Page(w, r, http.StatusOK, "ticket/overdue", "ticket.overdue.title", d)
}

// OverdueBoard answers htmx with the board alone (GET
// /tickets/overdue/board?area=); a browser asking for it directly is sent
// to the board's page.
func (pg *Pages) OverdueBoard(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	if !web.IsHTMX(r) {
		target := "/tickets/overdue"
		if a := r.URL.Query().Get("area"); a != "" {
			target += "?" + url.Values{"area": {a}}.Encode()
		}
		http.Redirect(w, r, target, http.StatusSeeOther)
		return nil
	}
	d, err := pg.board(r, p)
	if err != nil {
		return err
	}
	d.Refreshed = true
	return pg.render.Fragment(w, r, http.StatusOK, "ticket/board-fragment", d)
}
