package checkpoint

import (
	"net/http"
	"net/url"
	"strings"
	"sync"

	"tongxin/internal/auth"
	"tongxin/internal/errs"
	"tongxin/internal/importer"
	"tongxin/internal/passtoken"
	"tongxin/internal/web"
)

// statsBook writes the statistics as a workbook of typed cells, one sheet
// per table of the statistics page; tr gives the texts (headers and
// names) in the reader's language.
func statsBook(tr func(key string) string, scans *ScanStats, hs *HandoverStats) ([]byte, error) {
	count := func(key string) importer.Col { return importer.Col{Header: tr(key), Type: importer.Int} }
	text := func(key string) importer.Col { return importer.Col{Header: tr(key)} }
	counts := []importer.Col{count("checkpoint.stats.scans"), count("checkpoint.verdict.allow"), count("checkpoint.verdict.deny"),
		count("checkpoint.stats.residents")}
	byCP := importer.Sheet{Name: tr("checkpoint.stats.by_checkpoint"),
		Cols: append([]importer.Col{text("checkpoint.col.name"), text("checkpoint.col.area")}, counts...)}
	names := map[int64]string{}
	for _, c := range scans.Checkpoints {
		names[c.ID] = c.Name
		byCP.Rows = append(byCP.Rows, []any{c.Name, c.AreaName, c.Scans, c.Allowed, c.Denied, c.Residents})
	}
	denials := importer.Sheet{Name: tr("checkpoint.stats.denials"),
		Cols: []importer.Col{text("checkpoint.col.reason"), count("checkpoint.stats.count")}}
	for _, d := range scans.Denials {
		denials.Rows = append(denials.Rows, []any{reasonText(tr, d.Reason), d.Count})
	}
	hours := importer.Sheet{Name: tr("checkpoint.stats.by_hour"), Cols: append([]importer.Col{text("checkpoint.col.name"),
		{Header: tr("checkpoint.stats.hour"), Type: importer.Minute}}, counts...)}
	for _, h := range scans.Hours {
		hours.Rows = append(hours.Rows, []any{names[h.CheckpointID], h.Hour, h.Scans, h.Allowed, h.Denied, h.Residents})
	}
	sheets := []importer.Sheet{byCP, denials, hours}
	if hs != nil {
		ents := importer.Sheet{Name: tr("checkpoint.stats.sheet_handover_enterprises"),
			Cols: []importer.Col{text("checkpoint.handover.enterprise"), count("checkpoint.stats.handover_count")}}
		for _, e := range hs.Enterprises {
			ents.Rows = append(ents.Rows, []any{e.Name, e.Handovers})
		}
		goods := importer.Sheet{Name: tr("checkpoint.stats.sheet_handover_goods"), Cols: []importer.Col{
			text("checkpoint.handover.goods"), {Header: tr("checkpoint.handover.quantity"), Type: importer.Decimal},
			text("checkpoint.handover.unit"), count("checkpoint.stats.handover_count")}}
		for _, g := range hs.Goods {
			goods.Rows = append(goods.Rows, []any{g.Goods, g.Quantity, g.Unit, g.Handovers})
		}
		days := importer.Sheet{Name: tr("checkpoint.stats.sheet_handover_days"), Cols: []importer.Col{
			{Header: tr("checkpoint.stats.date"), Type: importer.Date}, count("checkpoint.stats.handover_count")}}
		for _, d := range hs.Days {
			days.Rows = append(days.Rows, []any{d.Date, d.Handovers})
		}
		sheets = append(sheets, ents, goods, days)
	}
	return importer.WriteBook(sheets...)
}

// reasonText names a reason of denial in the reader's language.
func reasonText(tr func(key string) string, r passtoken.Reason) string {
	if s := tr("checkpoint.reason." + string(r)); s != "" && s != "checkpoint.reason."+string(r) {
		return s
	}
	if s, ok := passtoken.ReasonNames[r]; ok {
		return s
	}
	return string(r)
}

// statsFileName names the statistics workbook by its period.
func statsFileName(st *ScanStats) string {
	return "checkpoint-stats-" + strings.ReplaceAll(st.From, "-", "") + "-" + strings.ReplaceAll(st.To, "-", "") + ".xlsx"
}

// statsExport counts and writes the workbook of the request's query.
func statsExport(w http.ResponseWriter, r *http.Request, svc *Service, tr func(key string) string) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	from, to, err := web.DayRange(q.Get("from"), q.Get("to"), svc.Now(), statsDays)
	if err != nil {
		return err
	}
	sq := StatsQuery{From: from, To: to, Area: strings.TrimSpace(q.Get("area"))}
	scans, hs, err := bothStats(r, svc, p, sq)
	if err != nil {
		return err
	}
	b, err := statsBook(tr, scans, hs)
	if err != nil {
		return err
	}
	return web.Attachment(w, importer.MediaXLSX, statsFileName(scans), b)
}

func bothStats(r *http.Request, svc *Service, p *auth.Principal, q StatsQuery) (*ScanStats, *HandoverStats, error) {
	scans, err := svc.ScanStats(r.Context(), p, q)
	if err != nil {
		return nil, nil, err
	}
	hs, err := svc.HandoverStats(r.Context(), p, q)
	return scans, hs, err
}

// StatsExport answers GET /checkpoints/stats.xlsx?from=&to=&area= (the
// statistics page's query) with its tables as a workbook, in the page's
// language.
func (pg *Pages) StatsExport(w http.ResponseWriter, r *http.Request) error {
	return statsExport(w, r, pg.svc, func(key string) string { return pg.t(r, key) })
}

// zhCatalog is the catalog the API's workbooks are written from: the API
// speaks Chinese, as its messages do.
var zhCatalog = sync.OnceValues(web.LoadCatalog)

// StatsXLSX answers GET /api/v1/checkpoints/stats.xlsx?from=&to=&area=:
// the statistics of GET /api/v1/checkpoints/stats (and the handovers of
// /api/v1/handovers/stats) as a workbook with Chinese headers.
func (a *API) StatsXLSX(w http.ResponseWriter, r *http.Request) error {
	cat, err := zhCatalog()
	if err != nil {
		return errs.Wrap("checkpoint.StatsXLSX", err)
	}
	return statsExport(w, r, a.svc, func(key string) string { return cat.T(web.LangZH, key) })
}

// statsExportURL is the export address of the statistics page's query.
func statsExportURL(from, to, area string) string {
	v := url.Values{}
	for k, s := range map[string]string{"from": from, "to": to, "area": area} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if len(v) == 0 {
		return "/checkpoints/stats.xlsx"
	}
	return "/checkpoints/stats.xlsx?" + v.Encode()
}
