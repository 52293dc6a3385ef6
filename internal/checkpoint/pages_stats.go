package checkpoint

import (
	"net/http"
	"strings"

	"tongxin/internal/errs"
	"tongxin/internal/web"
)

// The statistics of scans and handovers.

// pageStatsData is the data of checkpoint/stats.
type pageStatsData struct {
	From, To, Area string
	Error          string
	Scans          *ScanStats
	Handovers      *HandoverStats
	Names          map[int64]string
	ExportURL      string
}

// Stats answers GET /checkpoints/stats?from=&to=&area=: scans per
// checkpoint and hour, denials by reason, handovers per day, enterprise
// and goods.
func (pg *Pages) Stats(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	d := &pageStatsData{From: q.Get("from"), To: q.Get("to"), Area: strings.TrimSpace(q.Get("area")), Names: map[int64]string{}}
	from, to, err := web.DayRange(d.From, d.To, pg.svc.Now(), statsDays)
	if err == nil {
		sq := StatsQuery{From: from, To: to, Area: d.Area}
		if d.Scans, err = pg.svc.ScanStats(r.Context(), p, sq); err == nil {
			d.Handovers, err = pg.svc.HandoverStats(r.Context(), p, sq)
		}
	}
	status := http.StatusOK
	if err != nil {
		if !errs.Is(err, errs.Invalid) {
			return err
		}
		status, d.Error, d.Scans, d.Handovers = http.StatusBadRequest, pg.render.Message(r, err), nil, nil
	} else {
		d.From, d.To = d.Scans.From, d.Scans.To
		d.ExportURL = statsExportURL(d.From, d.To, d.Area)
		for _, c := range d.Scans.Checkpoints {
			d.Names[c.ID] = c.Name
		}
	}
	return pg.render.Page(w, r, status, "checkpoint/stats", "checkpoint.stats.title", d)
}
