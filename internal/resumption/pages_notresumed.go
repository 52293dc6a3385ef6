package resumption

import (
	"fmt"
	"net/http"
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
}

// NotResumedPage lists the units not resumed as of the moment (GET
// /resumption/not-resumed?area=&at=): those whose latest report says
// suspended, with its date and note, and those that never reported.
func (pg *Pages) NotResumedPage(w http.ResponseWriter, r *http.Request) error {
	p, f, q, err := pg.statsQuery(r)
	if err != nil {
		return err
	}
	units, err := pg.svc.NotResumed(r.Context(), p, q)
	if err != nil {
		return err
	}
	d := pageNotResumedData{Form: f, AsOf: q.At, Date: q.Date, Units: units, ExportURL: "/resumption/not-resumed.xlsx" + f.suffix(),
		StatsURL: "/resumption" + f.suffix()}
	for _, u := range units {
		if u.Reason == ReasonNotReported {
			d.Missing++
		} else {
			d.Suspended++
		}
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
