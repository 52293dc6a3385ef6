package quarantine

import (
	"context"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"time"

	"tongxin/internal/area"
	"tongxin/internal/audit"
	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/pii"
)

// Areas looks up areas; area.Service satisfies it.
type Areas interface {
	Lookup(ctx context.Context, code string) (*area.Area, error)
	Resolve(ctx context.Context, code, field string) (*area.Area, error)
	Readable(ctx context.Context, p *auth.Principal, perm auth.Permission, code string) (*area.Area, error)
	Names(ctx context.Context, codes []string) (map[string]string, error)
}

// Resident is a resident of the testing module's household register as
// quarantine needs them: masked name, community, resident code (rid),
// household and its address.
type Resident struct {
	ID            int64
	Code          string // the resident code's pseudonymous id (rid)
	NameMasked    string
	CommunityCode string
	HouseholdID   int64
	Address       string // estate, building, unit and room
	InPopulation  bool   // neither moved out nor deceased
}

// Residents reads the household register and its samples; the app wires
// the testing module (masstest.Service) in.
type Residents interface {
	// Resident finds a resident by id, resident code or ID number; a
	// resident not found is errs.NotFound.
	Resident(ctx context.Context, key string) (*Resident, error)
	// SampledDays answers, of each resident, the days (YYYY-MM-DD in
	// Asia/Shanghai) in [from, to) on which the testing module holds a
	// sample of them.
	SampledDays(ctx context.Context, residentIDs []int64, from, to time.Time) (map[int64][]string, error)
}

// Deps are the collaborators of the service.
type Deps struct {
	Box       *pii.Box // seals outsiders' names, ID numbers and phones
	Areas     Areas
	Residents Residents // may be nil: residents are then not found and no test day is done
	Log       *slog.Logger
}

// Service is the quarantine use cases. Every method authorizes its
// caller, validates its input and runs in one transaction that records
// its audit row.
type Service struct {
	db        *db.DB
	box       *pii.Box
	areas     Areas
	residents Residents
	clock     clock.Clock
	log       *slog.Logger
}

// NewService builds the service.
func NewService(d *db.DB, deps Deps) *Service {
	log := deps.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{db: d, box: deps.Box, areas: deps.Areas, residents: deps.Residents, clock: d.Clock, log: log}
}

// Now is the service's clock, for pages.
func (s *Service) Now() time.Time { return s.clock.Now() }

func errSiteNotFound() *errs.Error {
	return errs.E(errs.NotFound, "site_not_found", "隔离场所不存在")
}
func errStayNotFound() *errs.Error {
	return errs.E(errs.NotFound, "stay_not_found", "隔离记录不存在")
}
func errPersonNotFound() *errs.Error {
	return errs.E(errs.NotFound, "person_not_found", "隔离人员不存在")
}

// audit records an audit row in tx.
func (s *Service) audit(ctx context.Context, tx *db.Tx, p *auth.Principal, action, kind string, id int64, areaCode, summary string) error {
	return audit.Record(ctx, tx, audit.Entry{ActorID: p.UserID, Actor: p.Actor(), Action: action, ObjectType: kind,
		ObjectID: strconv.FormatInt(id, 10), AreaCode: areaCode, Summary: summary})
}

// areaIn resolves code (empty: none) and checks p reads quarantine over
// it; an area out of reach is refused as not found.
func (s *Service) areaIn(ctx context.Context, p *auth.Principal, code string) (*area.Area, error) {
	if strings.TrimSpace(code) == "" {
		return nil, nil
	}
	return s.areas.Readable(ctx, p, auth.QuarantineRead, code)
}

// scope is the condition that col lies in one of the caller's paths for
// perm (or under top, when given).
func scope(a *db.Args, p *auth.Principal, perm auth.Permission, col, top string) string {
	paths, all := p.AreaPaths(perm)
	cond := "1 = 1"
	switch {
	case all:
	case len(paths) == 0:
		cond = "1 = 0"
	default:
		parts := make([]string, len(paths))
		for i, path := range paths {
			parts[i] = col + " LIKE " + a.Add(db.LikePrefix(path)) + ` ESCAPE '\'`
		}
		cond = "(" + strings.Join(parts, " OR ") + ")"
	}
	if top != "" {
		cond += " AND " + col + " LIKE " + a.Add(db.LikePrefix(top)) + ` ESCAPE '\'`
	}
	return cond
}

// parseRef reads an id from a path; anything else is notFound.
func parseRef(ref string, notFound func() *errs.Error) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimSpace(ref), 10, 64)
	if err != nil || id <= 0 {
		return 0, notFound()
	}
	return id, nil
}

// dayOf is t's day in Asia/Shanghai.
func dayOf(t time.Time) string { return t.In(clock.Shanghai).Format(time.DateOnly) }

// parseDay reads a day (empty: today's) and answers its start.
func (s *Service) parseDay(day string) (time.Time, error) {
	day = strings.TrimSpace(day)
	if day == "" {
		day = dayOf(s.clock.Now())
	}
	return clock.ParseDay(day)
}

// dayNo is the day of a stay that starts at start on which day falls: 1
// on the stay's first day.
func dayNo(start time.Time, day time.Time) int {
	s := start.In(clock.Shanghai)
	first := time.Date(s.Year(), s.Month(), s.Day(), 0, 0, 0, 0, clock.Shanghai)
	return int(math.Round(day.Sub(first).Hours()/24)) + 1
}

// moment is when an act happened: at, or now; never in the future.
func (s *Service) moment(at *time.Time, field string) (time.Time, error) {
	now := s.clock.Now()
	if at == nil || at.IsZero() {
		return now, nil
	}
	if at.After(now.Add(time.Minute)) {
		return time.Time{}, errs.Fields("time_in_future", "时间不能晚于现在", errs.FieldError{Field: field, Message: "不能晚于现在"})
	}
	return at.Truncate(time.Millisecond), nil
}

// clip cuts s to n runes.
func clip(s string, n int) string {
	if rs := []rune(s); len(rs) > n {
		return string(rs[:n]) + "…"
	}
	return s
}

// ms is a time in Unix milliseconds.
func ms(t time.Time) int64 { return t.UnixMilli() }

// fromMS is a time from Unix milliseconds.
func fromMS(v int64) time.Time { return time.UnixMilli(v) }

// hm is a moment as people read it, in Asia/Shanghai.
func hm(t time.Time) string { return t.In(clock.Shanghai).Format("2006-01-02 15:04") }
