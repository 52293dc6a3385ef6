package checkpoint

import (
	"embed"
	"net/http"
	"strconv"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/errs"
	"tongxin/internal/web"
)

// Templates holds the checkpoint and traffic pages; the Renderer is built
// with it.
//
//go:embed templates
var Templates embed.FS

// Pages serves checkpoints and traffic control as HTML: the checkpoint
// list with its duty roster, a checkpoint's page with its recent scans
// (and handovers at a transfer point), the scan export, the statistics,
// the public traffic page and notices, and the management of measures and
// notices. The scan page itself (camera, offline mode) is served
// elsewhere. Every rule is the service's; the pages read forms and show
// answers.
type Pages struct {
	svc    *Service
	render *web.Renderer
}

// NewPages builds the HTML handlers.
func NewPages(svc *Service, render *web.Renderer) *Pages { return &Pages{svc: svc, render: render} }

// Limits of the pages.
const (
	pageMaxForm     = 64 << 10
	pageRecentScans = 50
	pageExportMax   = 10000
	// formTime is the layout of datetime-local inputs, in Asia/Shanghai.
	formTime = "2006-01-02T15:04"
)

// NavItems are the menu entries (and home cards): the checkpoint list for
// readers and officers, the statistics for readers, the traffic page for
// everyone and its management for TrafficManage holders.
func NavItems() []web.NavItem {
	return []web.NavItem{
		{Key: "checkpoint.nav.list", DescKey: "checkpoint.card.list", Path: "/checkpoints", Perm: auth.CheckpointRead,
			Roles: []auth.Role{auth.CheckpointOfficer}},
		{Key: "checkpoint.nav.stats", DescKey: "checkpoint.card.stats", Path: "/checkpoints/stats", Perm: auth.CheckpointRead},
		{Key: "traffic.nav.public", Path: "/traffic"},
		{Key: "traffic.nav.manage", DescKey: "traffic.card.manage", Path: "/traffic/manage", Perm: auth.TrafficManage},
	}
}

func (pg *Pages) t(r *http.Request, key string, args ...any) string {
	return pg.render.T(r, key, args...)
}

// formTimeOf reads a datetime-local value in Asia/Shanghai; nil when
// empty.
func formTimeOf(v, field string) (*time.Time, error) {
	if v == "" {
		return nil, nil
	}
	t, err := time.ParseInLocation(formTime, v, clock.Shanghai)
	if err != nil {
		return nil, errs.Fields("bad_time", "时间格式应为 YYYY-MM-DDTHH:MM", errs.FieldError{Field: field, Message: "时间格式错误"})
	}
	return &t, nil
}

// formFloat reads an optional number.
func formFloat(v, field string) (*float64, error) {
	if v == "" {
		return nil, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return nil, errs.Fields("bad_number", "请填写数字", errs.FieldError{Field: field, Message: "须为数字"})
	}
	return &f, nil
}
