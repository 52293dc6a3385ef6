package masstest

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"tongxin/internal/area"
	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/notify"
	"tongxin/internal/passtoken"
	"tongxin/internal/pii"
)

// Areas looks up areas; area.Service satisfies it.
type Areas interface {
	Lookup(ctx context.Context, code string) (*area.Area, error)
	Resolve(ctx context.Context, code, field string) (*area.Area, error)
	Readable(ctx context.Context, p *auth.Principal, perm auth.Permission, code string) (*area.Area, error)
	Names(ctx context.Context, codes []string) (map[string]string, error)
}

// Codes signs and verifies resident codes with the pass keys;
// pass.Verifier satisfies it.
type Codes interface {
	SignResidents(ctx context.Context, claims []passtoken.ResidentClaims) ([]string, error)
	VerifyResident(token string) (*passtoken.ResidentClaims, passtoken.Reason)
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
	Box      *pii.Box // seals names, ID numbers and phones
	Areas    Areas
	Codes    Codes        // may be nil: resident codes are then refused
	Users    Users        // may be nil: nobody is notified
	Notifier Notifier     // may be nil: nobody is notified
	Sealer   SealProposer // may be nil: a positive single tube only notifies
	Zones    Zones        // may be nil: rounds are not checked against sealed zones
	Log      *slog.Logger
}

// Service is the mass-testing use cases. Every method authorizes its
// caller, validates its input and runs in one transaction.
type Service struct {
	db        *db.DB
	box       *pii.Box
	areas     Areas
	codes     Codes
	users     Users
	notifier  Notifier
	sealer    SealProposer
	zones     Zones
	clock     clock.Clock
	log       *slog.Logger
	rounds    *roundCache    // the samples' path's rounds and teams
	residents *residentCache // the samples' path's residents (SQLite)
	merge     *sampleMerger  // concurrent requests of a collector written together (SQLite)
}

// NewService builds the service.
func NewService(d *db.DB, deps Deps) *Service {
	log := deps.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{db: d, box: deps.Box, areas: deps.Areas, codes: deps.Codes, users: deps.Users, notifier: deps.Notifier,
		sealer: deps.Sealer, zones: deps.Zones, clock: d.Clock, log: log, rounds: newRoundCache(),
		residents: newResidentCache(), merge: newSampleMerger()}
}

// Now is the service's clock, for pages.
func (s *Service) Now() time.Time { return s.clock.Now() }

func errRoundNotFound() *errs.Error {
	return errs.E(errs.NotFound, "round_not_found", "轮次不存在")
}

func errCampaignNotFound() *errs.Error {
	return errs.E(errs.NotFound, "campaign_not_found", "检测任务不存在")
}

// parseRef reads an id from a path; anything else is notFound.
func parseRef(ref string, notFound func() *errs.Error) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimSpace(ref), 10, 64)
	if err != nil || id <= 0 {
		return 0, notFound()
	}
	return id, nil
}

// within reports whether path lies in the subtree at top.
func within(path, top string) bool { return strings.HasPrefix(path, top) }

// readRound loads round ref if p may read it: p reads testing somewhere in
// one of its areas. A round out of reach is not found.
func (s *Service) readRound(ctx context.Context, tx *db.Tx, p *auth.Principal, ref, op string) (*Round, error) {
	if err := auth.Require(p, auth.TestingRead, op); err != nil {
		return nil, err
	}
	id, err := parseRef(ref, errRoundNotFound)
	if err != nil {
		return nil, err
	}
	r, err := loadRound(ctx, tx, id, tx.Now)
	if err != nil {
		return nil, err
	}
	if !readsRound(p, r) {
		return nil, errRoundNotFound()
	}
	return r, nil
}

// readsRound: p reads testing over one of the round's areas, or over an
// area inside one of them.
func readsRound(p *auth.Principal, r *Round) bool {
	paths, all := p.AreaPaths(auth.TestingRead)
	if all {
		return true
	}
	for _, a := range r.Areas {
		for _, mine := range paths {
			if within(a.Path, mine) || within(mine, a.Path) {
				return true
			}
		}
	}
	return false
}
