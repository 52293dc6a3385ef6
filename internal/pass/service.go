package pass

import (
	"context"
	"slices"
	"strings"
	"time"

	"tongxin/internal/area"
	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/passtoken"
	"tongxin/internal/pii"
)

// Areas looks up areas; area.Service satisfies it.
type Areas interface {
	Lookup(ctx context.Context, code string) (*area.Area, error)
	// Subtree is an area and every area below it, top down.
	Subtree(ctx context.Context, code string) ([]area.Area, error)
}

// Enterprises resolves the enterprise a batch is for: its name, its area
// and its registered employees (the default quota). The resumption
// service satisfies it.
type Enterprises interface {
	PassSubject(ctx context.Context, key string) (name, areaCode string, employees int, err error)
}

// Checkpoints looks up a checkpoint by id (errs.NotFound if there is
// none); the checkpoint service satisfies it. Without it a batch's
// checkpoint ids are only checked to be numbers, and transfer points are
// refused (they cannot be told apart).
type Checkpoints interface {
	Checkpoint(ctx context.Context, id string) (passtoken.CheckpointInfo, error)
}

// Service is the pass use cases. Every method that changes something
// authorizes its caller, validates its input and runs in one transaction,
// audited.
type Service struct {
	db          *db.DB
	box         *pii.Box
	verifier    *Verifier // its keys sign; a revocation here tells it
	areas       Areas
	enterprises Enterprises
	checkpoints Checkpoints
	users       Users
	notifier    Notifier
	clock       clock.Clock
}

// Deps are the collaborators of the service.
type Deps struct {
	Box         *pii.Box
	Verifier    *Verifier // required: the instance's, shared with the checkpoint service (NewVerifier)
	Areas       Areas
	Enterprises Enterprises
	Checkpoints Checkpoints // may be nil
	Users       Users       // may be nil (with Notifier): nobody is notified
	Notifier    Notifier    // may be nil
}

// NewService builds the service. Deps.Verifier is required, and must be
// the one the checkpoint service verifies with: a revocation here tells
// it, so that the pass is refused at once on this instance.
func NewService(d *db.DB, deps Deps) *Service {
	if deps.Verifier == nil {
		panic("pass: NewService without Deps.Verifier (pass.NewVerifier)")
	}
	return &Service{db: d, box: deps.Box, verifier: deps.Verifier, areas: deps.Areas, enterprises: deps.Enterprises,
		checkpoints: deps.Checkpoints, users: deps.Users, notifier: deps.Notifier, clock: d.Clock}
}

func errEnterpriseNotFound() error {
	return errs.E(errs.NotFound, "enterprise_not_found", "企业不存在")
}

func errBatchNotFound() error {
	return errs.E(errs.NotFound, "batch_not_found", "通行证申请批次不存在")
}

func errPassNotFound() error { return errs.E(errs.NotFound, "pass_not_found", "通行证不存在") }

// normalizeKey folds a credit code typed in lower case or with spaces.
func normalizeKey(key string) string {
	key = strings.TrimSpace(key)
	if c, err := pii.NormalizeCreditCode(key); err == nil {
		return c
	}
	return key
}

// visibility is what a caller reaches: area subtrees with PassRead
// (officers, reviewers) and their own enterprises (contacts).
type visibility struct {
	all   bool
	paths []string
	keys  []string
}

func visibilityFor(p *auth.Principal) visibility {
	paths, all := p.AreaPaths(auth.PassRead)
	v := visibility{all: all, paths: paths}
	if p.Can(auth.PassApply) {
		v.keys = p.Refs(auth.EnterpriseContact)
	}
	return v
}

// reads checks p may read passes at all: 401 without a principal, 403
// without PassRead or PassApply.
func reads(p *auth.Principal, op string) (visibility, error) {
	if p == nil || (!p.Can(auth.PassRead) && !p.Can(auth.PassApply)) {
		return visibility{}, auth.Require(p, auth.PassRead, op)
	}
	return visibilityFor(p), nil
}

// covers reports whether v reaches an object of enterprise key at path.
func (v visibility) covers(key, path string) bool {
	if v.all || slices.Contains(v.keys, key) {
		return true
	}
	for _, p := range v.paths {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

// subject is an enterprise as the pass module sees it.
type subject struct {
	Key, Name string
	Area      *area.Area
	Employees int
	// Reach is the subtree passes of the enterprise may name: its district
	// (or the area itself when it lies at the city level).
	Reach *area.Area
}

// subjectOf resolves an enterprise and its reach.
func (s *Service) subjectOf(ctx context.Context, key string) (*subject, error) {
	if s.enterprises == nil {
		return nil, errEnterpriseNotFound()
	}
	name, code, employees, err := s.enterprises.PassSubject(ctx, key)
	if err != nil {
		return nil, err
	}
	a, err := s.areas.Lookup(ctx, code)
	if err != nil {
		return nil, err
	}
	sub := &subject{Key: key, Name: name, Area: a, Employees: employees, Reach: a}
	if codes := strings.Split(strings.Trim(a.Path, "/"), "/"); len(codes) > 2 {
		if sub.Reach, err = s.areas.Lookup(ctx, codes[1]); err != nil {
			return nil, err
		}
	}
	return sub, nil
}

// startOfDay is midnight in Shanghai of t's day.
func startOfDay(t time.Time) time.Time {
	t = t.In(clock.Shanghai)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, clock.Shanghai)
}
