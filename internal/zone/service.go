package zone

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"tongxin/internal/area"
	"tongxin/internal/audit"
	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/notify"
)

// Areas looks up areas; area.Service satisfies it.
type Areas interface {
	Lookup(ctx context.Context, code string) (*area.Area, error)
	Resolve(ctx context.Context, code, field string) (*area.Area, error)
	Readable(ctx context.Context, p *auth.Principal, perm auth.Permission, code string) (*area.Area, error)
}

// Register is the household register as zones need it: a community's
// estates and buildings (to check the names a decision gives and to seal
// by building key), and a resident named by the register (for exit
// permits). The testing module keeps the register; internal/app wires it.
type Register interface {
	Estates(ctx context.Context, community string) ([]Estate, error)
	// Resident finds a resident by the register's id, their code's
	// pseudonymous id or a scanned resident code; NotFound when none is.
	Resident(ctx context.Context, ref string) (*Resident, error)
}

// Users finds who to notify: auth.Service satisfies it.
type Users interface {
	Granted(ctx context.Context, tx *db.Tx, perm auth.Permission, path string, roles ...auth.Role) ([]int64, error)
}

// Notifier sends in-app messages in a transaction; notify.Service
// satisfies it.
type Notifier interface {
	Send(ctx context.Context, tx *db.Tx, userIDs []int64, m notify.Message) error
}

// Deps are the collaborators of the service.
type Deps struct {
	Areas    Areas
	Register Register // may be nil: estate and building zones and permits are then refused
	Users    Users    // may be nil: nobody is notified
	Notifier Notifier // may be nil: nobody is notified
	Log      *slog.Logger
}

// Service is the zones' use cases. Every method authorizes its caller,
// validates its input and runs in one transaction.
type Service struct {
	db       *db.DB
	areas    Areas
	register Register
	users    Users
	notifier Notifier
	clock    clock.Clock
	log      *slog.Logger
	gate     *gateCache
}

// NewService builds the service.
func NewService(d *db.DB, deps Deps) *Service {
	log := deps.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{db: d, areas: deps.Areas, register: deps.Register, users: deps.Users, notifier: deps.Notifier,
		clock: d.Clock, log: log, gate: &gateCache{}}
}

// Now is the service's clock, for pages.
func (s *Service) Now() time.Time { return s.clock.Now() }

func errZoneNotFound() *errs.Error {
	return errs.E(errs.NotFound, "zone_not_found", "封控决定不存在")
}

func errProposalNotFound() *errs.Error {
	return errs.E(errs.NotFound, "proposal_not_found", "封控提议不存在")
}

func errPermitNotFound() *errs.Error {
	return errs.E(errs.NotFound, "permit_not_found", "外出许可不存在")
}

// audit records a change in tx.
func (s *Service) audit(ctx context.Context, tx *db.Tx, p *auth.Principal, action, kind string, id int64, areaCode, summary string) error {
	return audit.Record(ctx, tx, audit.Entry{ActorID: p.UserID, Actor: p.Actor(), Action: action, ObjectType: kind,
		ObjectID: strconv.FormatInt(id, 10), AreaCode: areaCode, Summary: summary})
}

// readArea resolves an area p reads zones over (or inside, or above: a
// community worker reads the district); "" is nil, every area p reads.
func (s *Service) readArea(ctx context.Context, p *auth.Principal, code string) (*area.Area, error) {
	if strings.TrimSpace(code) == "" {
		return nil, nil
	}
	a, err := s.areas.Resolve(ctx, code, "area")
	if err != nil {
		return nil, err
	}
	if !reads(p, a.Path) {
		return nil, errs.Fields("area_not_found", "区划 "+a.Code+" 不在您的查看范围内", errs.FieldError{Field: "area", Message: "不在查看范围内"})
	}
	return a, nil
}

// reads reports whether p reads zones over the area at path: p holds
// ZoneRead over it, inside it or above it.
func reads(p *auth.Principal, path string) bool {
	paths, all := p.AreaPaths(auth.ZoneRead)
	if all {
		return true
	}
	for _, mine := range paths {
		if strings.HasPrefix(path, mine) || strings.HasPrefix(mine, path) {
			return true
		}
	}
	return false
}

// scopeWhere is the SQL condition that col overlaps the areas p reads
// zones in, and area when set.
func scopeWhere(a *db.Args, p *auth.Principal, col string, in *area.Area) string {
	paths, all := p.AreaPaths(auth.ZoneRead)
	where := pathsWhere(a, col, paths, all)
	if in != nil {
		where += " AND " + pathsWhere(a, col, []string{in.Path}, false)
	}
	return where
}

// parseTime reads an RFC 3339 moment from a query parameter; "" is nil.
func parseTime(s, field string) (*time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return nil, errs.Fields("bad_"+field, field+" 须为 RFC 3339 时间，如 2022-11-20T17:00:00+08:00",
			errs.FieldError{Field: field, Message: "格式错误"})
	}
	return &t, nil
}

// localTime shows t in Asia/Shanghai, for audit summaries and messages.
func localTime(t time.Time) string { return t.In(clock.Shanghai).Format("2006-01-02 15:04") }
