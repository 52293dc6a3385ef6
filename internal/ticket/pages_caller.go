package ticket

import (
	"net/http"
	"strings"
	"unicode/utf8"

	"tongxin/internal/web"
)

// pageCallerData is the data of ticket/caller-history.
type pageCallerData struct {
	Phone    string // masked; "" while no phone number is typed
	Rows     []pageRow
	Repeats  int
	Category string // its name
}

// CallerHistory answers the hotline form's look-up (GET
// /tickets/caller?reporter_phone=&category=) with the caller's tickets of
// the last 30 days within the operator's reach and a warning when the
// number filed the chosen category within the last 30 minutes.
func (pg *Pages) CallerHistory(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	phone, cat := strings.TrimSpace(q.Get("reporter_phone")), strings.TrimSpace(q.Get("category"))
	if utf8.RuneCountInString(phone) > 20 || utf8.RuneCountInString(cat) > 40 {
		return badFilter("reporter_phone", "查询条件过长")
	}
	h, err := pg.svc.CallerTickets(r.Context(), p, phone, cat)
	if err != nil {
		return err
	}
	_, cats, err := pg.categories(r, false)
	if err != nil {
		return err
	}
	d := pageCallerData{Phone: h.Phone, Repeats: h.Repeats, Category: cats[cat]}
	now := pg.now()
	for _, t := range h.Tickets {
		d.Rows = append(d.Rows, pg.row(r, cats, t, now))
	}
	return pg.render.Fragment(w, r, http.StatusOK, "ticket/caller-history", d)
}
