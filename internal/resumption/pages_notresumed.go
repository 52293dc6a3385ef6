package resumption

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"tongxin/internal/importer"
	"tongxin/internal/web"
)

// Units not resumed

// pageNotResumedData is the data of resumption/not-resumed.
type pageNotResumedData struct {
	Form      pageStatsForm
	AsOf      time.Time
	Date      string // the report date asked for
	Units     []Unit
	Missing   int // not reported
	Suspended int
	ExportURL string
	StatsURL  string
	// NextURL is the next page (pageNotResumedSize units a page), "" on
	// the last.
	NextURL string
}

// pageNotResumedSize is the number of units on a page of the list: the
// whole list of a city (thousands of units) would be megabytes of HTML.
const pageNotResumedSize = 200

// notResumedCursor is the position of a unit in the list's order (area
// code, key): the after= of the next page.
func notResumedCursor(u Unit) string { return u.AreaCode + "/" + u.Key }

// notResumedPage is the page of units after the cursor after (from the
// start when empty or malformed) and the cursor of the next page ("" on
// the last).
func notResumedPage(units []Unit, after string) ([]Unit, string) {
	start := 0
	if a, k, ok := strings.Cut(after, "/"); ok {
		for start < len(units) {
			u := units[start]
			if u.AreaCode > a || u.AreaCode == a && u.Key > k {
				break
			}
			start++
		}
	}
	end := min(start+pageNotResumedSize, len(units))
	next := ""
	if end < len(units) {
		next = notResumedCursor(units[end-1])
	}
	return units[start:end], next
}

// NotResumedPage lists the units not resumed as of the moment (GET
// /resumption/not-resumed?area=&at=&date=&after=): those whose latest
// report says suspended, with its date and note, and those that never
// reported, pageNotResumedSize a page after the unit after= names (its
// area code and key, "430202001/9143…"); the counts are the whole list's,
// and the export holds every unit.
func (pg *Pages) NotResumedPage(w http.ResponseWriter, r *http.Request) error {
	p, f, q, err := pg.statsQuery(r)
	if err != nil {
		return err
	}
	units, err := pg.svc.NotResumed(r.Context(), p, q)
	if err != nil {
		return err
	}
	d := pageNotResumedData{Form: f, AsOf: q.At, Date: q.Date, ExportURL: "/resumption/not-resumed.xlsx" + f.suffix(),
		StatsURL: "/resumption" + f.suffix()}
	for _, u := range units {
		if u.Reason == ReasonNotReported {
			d.Missing++
		} else {
			d.Suspended++
		}
	}
	after := r.URL.Query().Get("after")
	var next string
	d.Units, next = notResumedPage(units, after)
	if next != "" {
		v := f.query()
		v.Set("after", next)
		d.NextURL = "/resumption/not-resumed?" + v.Encode()
	}
	return pg.render.Page(w, r, http.StatusOK, "resumption/not-resumed", "nr.title", d)
}

// NotResumedExport answers GET /resumption/not-resumed.xlsx with the list
// of the page.
func (pg *Pages) NotResumedExport(w http.ResponseWriter, r *http.Request) error {
	p, _, q, err := pg.statsQuery(r)
	if err != nil {
		return err
	}
	units, err := pg.svc.NotResumed(r.Context(), p, q)
	if err != nil {
		return err
	}
	sheet := importer.Sheet{Name: pg.t(r, "nr.title"), Cols: pg.textCols(r, "ent.col.key", "ent.col.name", "ent.col.kind",
		"ent.col.area_code", "ent.col.area", "ent.col.categories", "nr.col.reason", "nr.col.last_date", "nr.col.note")}
	sheet.Cols[7].Type = importer.Date
	for _, u := range units {
		sheet.Rows = append(sheet.Rows, []any{u.Key, u.Name, pg.labelOf(r, "kind", u.Kind), u.AreaCode, u.AreaName,
			pg.categoryText(r, u.Categories), pg.labelOf(r, "reason", u.Reason), u.LastDate, u.Note})
	}
	b, err := importer.WriteBook(sheet)
	if err != nil {
		return err
	}
	return web.Attachment(w, importer.MediaXLSX, fmt.Sprintf("not-resumed-%s.xlsx", statsFileStamp(&Stats{AsOf: q.At, Date: q.Date})), b)
}
