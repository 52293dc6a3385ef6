package checkpoint

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
	"tongxin/internal/passtoken"
	"tongxin/internal/zonerule"
)

// Verifier checks a pass token as of a moment: signature, signing key,
// validity and revocation. pass.Verifier satisfies it; where the pass
// may be used (area, checkpoint) is checked here, with Claims.AllowedAt.
// A verifier that is also a NumberLookup lets officers scan by pass
// number; any other refuses numbers (pass_number_not_found).
type Verifier interface {
	Verify(ctx context.Context, token string, at time.Time) (*passtoken.Claims, passtoken.Reason)
}

// Areas looks up areas; area.Service satisfies it.
type Areas interface {
	Lookup(ctx context.Context, code string) (*area.Area, error)
}

// Users looks up accounts named in rosters; auth.Service satisfies it.
type Users interface {
	LookupUser(ctx context.Context, username string) (int64, []auth.Assignment, error)
}

// Enterprises names the enterprise of a handover; the resumption service
// satisfies it.
type Enterprises interface {
	EnterpriseSubject(ctx context.Context, key string) (name, areaCode string, liaisons []int64, err error)
}

// Register answers a community's estates and their buildings from the
// household register; the testing module satisfies it (through a small
// adapter in internal/app, as the module's types are its own).
type Register interface {
	Estates(ctx context.Context, community string) ([]Estate, error)
}

// Estate is an estate of a community as an estate gate needs it: its name
// and the keys of its buildings (the "b" of resident codes).
type Estate struct {
	Name      string
	Buildings []string
}

// Zones answers the zones and exit permits in force as an index an estate
// gate decides resident codes by; the zone module satisfies it, keeping
// the index in memory (it is asked on every resident scan).
type Zones interface {
	GateIndex(ctx context.Context) (*zonerule.Index, error)
}

// ResidentVerifier checks resident codes (居民码) with the pass keys;
// pass.Verifier satisfies it. A Verifier that is not one answers
// unknown_key for every resident code.
type ResidentVerifier interface {
	VerifyResident(token string) (*passtoken.ResidentClaims, passtoken.Reason)
}

// Deps are the collaborators of the service.
type Deps struct {
	Areas       Areas
	Users       Users
	Enterprises Enterprises // may be nil: handovers are then refused
	Verifier    Verifier    // may be nil: every scan is then denied as unknown_key
	Register    Register    // may be nil: estate gates cannot be registered
	Zones       Zones       // may be nil: resident codes at estate gates are then refused (zones_unavailable)
	Log         *slog.Logger
	// CacheTTL is how long a checkpoint read for a scan is reused; an
	// update on this instance drops it at once. 0 means 5 seconds.
	CacheTTL time.Duration
	// OfflineMaxAge is how long ago an offline scan may have been made
	// when it is uploaded; older items of a batch are refused
	// (scan_too_old). 0 means DefaultOfflineMaxAge.
	OfflineMaxAge time.Duration
}

// Service is the checkpoint use cases. Every method authorizes its
// caller, validates its input and runs in one transaction; scans share
// transactions (group commit) and are answered once theirs has committed.
type Service struct {
	db          *db.DB
	areas       Areas
	users       Users
	enterprises Enterprises
	verifier    Verifier
	register    Register
	zones       Zones
	clock       clock.Clock
	log         *slog.Logger
	cache       *checkpointCache
	scans       *committer
	maxAge      time.Duration // of offline scans; see Deps.OfflineMaxAge
	names       entNames      // enterprise names for tokens without one (entnames.go)
	infos       passInfos     // what scans keep of the passes scanned lately (passinfo.go)
	shown       shownIDs      // the ids of what codes showed (shown.go)
}

// NewService builds the service.
func NewService(d *db.DB, deps Deps) *Service {
	log := deps.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ttl := deps.CacheTTL
	if ttl <= 0 {
		ttl = 5 * time.Second
	}
	s := &Service{db: d, areas: deps.Areas, users: deps.Users, enterprises: deps.Enterprises, verifier: deps.Verifier,
		register: deps.Register, zones: deps.Zones, clock: d.Clock, log: log, cache: &checkpointCache{ttl: ttl, m: map[int64]cacheEntry{}}}
	s.scans = &committer{db: d, log: log, shown: &s.shown, wake: make(chan struct{}, 1)}
	s.maxAge = deps.OfflineMaxAge
	if s.maxAge <= 0 {
		s.maxAge = DefaultOfflineMaxAge
	}
	return s
}

// Now is the service's clock, for pages.
func (s *Service) Now() time.Time { return s.clock.Now() }

func errNotFound() *errs.Error {
	return errs.E(errs.NotFound, "checkpoint_not_found", "卡口不存在")
}

// parseID reads a checkpoint id from a path; anything else is not found.
func parseID(ref string) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimSpace(ref), 10, 64)
	if err != nil || id <= 0 {
		return 0, errNotFound()
	}
	return id, nil
}

// readable loads checkpoint ref if p may read it.
func (s *Service) readable(ctx context.Context, tx *db.Tx, p *auth.Principal, ref, op string) (*Checkpoint, error) {
	if p == nil {
		return nil, auth.Require(p, auth.CheckpointRead, op)
	}
	r := readReach(p)
	if r.none() {
		return nil, auth.ErrForbidden(op)
	}
	id, err := parseID(ref)
	if err != nil {
		return nil, err
	}
	c, err := loadCheckpoint(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if !r.covers(c) {
		return nil, errNotFound()
	}
	return c, nil
}

// canScan checks that p may scan passes (and log handovers) at c: one of
// its officers, or a manager over its area. Whoever may read c but not
// scan there is Forbidden; anyone else is told it does not exist.
func canScan(p *auth.Principal, c *Checkpoint, op string) error {
	if p == nil {
		return auth.Require(p, auth.CheckpointScan, op)
	}
	if reachFor(p, true, auth.CheckpointManage).covers(c) {
		return nil
	}
	if readReach(p).covers(c) {
		return errs.E(errs.Forbidden, "not_on_duty", "只有本卡口的执勤人员和卡口管理人员可以在此扫码、登记")
	}
	if !p.Can(auth.CheckpointScan) && !p.Can(auth.CheckpointRead) && !p.Can(auth.CheckpointManage) {
		return auth.ErrForbidden(op)
	}
	return errNotFound()
}
