package checkpoint

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"tongxin/internal/area"
	"tongxin/internal/audit"
	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/passtoken"
)

// Verifier checks a pass token as of a moment: signature, signing key,
// validity and revocation. The pass service satisfies it; where the pass
// may be used (area, checkpoint) is checked here, with Claims.AllowedAt.
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

// Deps are the collaborators of the service.
type Deps struct {
	Areas       Areas
	Users       Users
	Enterprises Enterprises // may be nil: handovers are then refused
	Verifier    Verifier    // may be nil: every scan is then denied as unknown_key
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
	clock       clock.Clock
	log         *slog.Logger
	cache       *checkpointCache
	scans       *committer
	maxAge      time.Duration // of offline scans; see Deps.OfflineMaxAge
	names       entNames      // enterprise names for tokens without one (entnames.go)
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
		clock: d.Clock, log: log, cache: &checkpointCache{ttl: ttl, m: map[int64]cacheEntry{}}}
	s.scans = &committer{db: d, log: log, wake: make(chan struct{}, 1)}
	s.SetOfflineMaxAge(deps.OfflineMaxAge)
	return s
}

// SetOfflineMaxAge sets how old an uploaded offline scan may be (0: the
// default, 72 hours). Call it while wiring, before serving.
func (s *Service) SetOfflineMaxAge(d time.Duration) {
	if d <= 0 {
		d = DefaultOfflineMaxAge
	}
	s.maxAge = d
}

// SetVerifier sets the pass verifier once the pass service exists (the
// two are wired in either order).
func (s *Service) SetVerifier(v Verifier) { s.verifier = v }

// Now is the service's clock, for pages.
func (s *Service) Now() time.Time { return s.clock.Now() }

// ---------------------------------------------------------------------
// Reach: which checkpoints a caller may see, scan at or manage.

// reach is how a caller reaches checkpoints: whole area subtrees (readers
// and managers) and single checkpoints (their officers, whose scope is the
// checkpoint, never its area).
type reach struct {
	all   bool
	paths []string
	ids   []int64
}

// reachFor returns what p reaches with any of perms. Checkpoint-scoped
// assignments count for the checkpoint alone, and only when officers
// is set.
func reachFor(p *auth.Principal, officers bool, perms ...auth.Permission) reach {
	if p == nil {
		return reach{}
	}
	if p.IsSystem() {
		return reach{all: true}
	}
	var r reach
	for _, a := range p.Assignments {
		if !slices.ContainsFunc(perms, func(perm auth.Permission) bool { return auth.RoleHas(a.Role, perm) }) &&
			!(officers && a.Scope.Kind == auth.ScopeCheckpoint) {
			continue
		}
		if a.Scope.Kind == auth.ScopeCheckpoint {
			if officers {
				if id, err := strconv.ParseInt(a.Scope.Ref, 10, 64); err == nil {
					r.ids = append(r.ids, id)
				}
			}
			continue
		}
		if a.Scope.Path != "" {
			r.paths = append(r.paths, a.Scope.Path)
		}
	}
	return r
}

// readReach is what p may read: area subtrees with CheckpointRead or
// CheckpointManage, and the checkpoints p stands at.
func readReach(p *auth.Principal) reach {
	return reachFor(p, true, auth.CheckpointRead, auth.CheckpointManage)
}

// none reports whether r reaches nothing.
func (r reach) none() bool { return !r.all && len(r.paths) == 0 && len(r.ids) == 0 }

// covers reports whether r reaches c.
func (r reach) covers(c *Checkpoint) bool {
	if r.all || slices.Contains(r.ids, c.ID) {
		return true
	}
	for _, p := range r.paths {
		if strings.HasPrefix(c.AreaPath, p) {
			return true
		}
	}
	return false
}

// where is the SQL condition selecting the checkpoints r reaches, for a
// checkpoints table aliased c.
func (r reach) where(args *db.Args) string {
	if r.all {
		return "1 = 1"
	}
	var ors []string
	for _, p := range r.paths {
		ors = append(ors, "c.area_path LIKE "+args.Add(db.LikePrefix(p))+` ESCAPE '\'`)
	}
	if len(r.ids) > 0 {
		ids := make([]string, len(r.ids))
		for i, id := range r.ids {
			ids[i] = strconv.FormatInt(id, 10)
		}
		ors = append(ors, "c.id IN ("+strings.Join(ids, ", ")+")")
	}
	if len(ors) == 0 {
		return "1 = 0"
	}
	return "(" + strings.Join(ors, " OR ") + ")"
}

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

// ---------------------------------------------------------------------
// Checkpoint cache: scans read a checkpoint's area path and state from
// memory. An update on this instance drops its entry on commit; other
// instances see it within the TTL.

type checkpointCache struct {
	mu  sync.RWMutex
	ttl time.Duration
	m   map[int64]cacheEntry
}

type cacheEntry struct {
	c  *Checkpoint // never modified once cached
	at time.Time
}

const maxCached = 10000

func (c *checkpointCache) get(id int64, now time.Time) *Checkpoint {
	c.mu.RLock()
	e, ok := c.m[id]
	c.mu.RUnlock()
	if !ok || now.Sub(e.at) >= c.ttl || now.Before(e.at) {
		return nil
	}
	return e.c
}

func (c *checkpointCache) put(cp *Checkpoint, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxCached {
		clear(c.m)
	}
	c.m[cp.ID] = cacheEntry{c: cp, at: now}
}

func (c *checkpointCache) drop(id int64) {
	c.mu.Lock()
	delete(c.m, id)
	c.mu.Unlock()
}

// cached returns checkpoint ref for the scan path, from memory when fresh.
func (s *Service) cached(ctx context.Context, ref string) (*Checkpoint, error) {
	id, err := parseID(ref)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	if c := s.cache.get(id, now); c != nil {
		return c, nil
	}
	var c *Checkpoint
	if err := s.db.Read(ctx, func(tx *db.Tx) (err error) {
		c, err = loadCheckpoint(ctx, tx, id)
		return err
	}); err != nil {
		return nil, err
	}
	s.cache.put(c, now)
	return c, nil
}

// ---------------------------------------------------------------------
// Registry

// resolveArea looks up an area code, as a field error when it is unknown.
func (s *Service) resolveArea(ctx context.Context, code, field string) (*area.Area, error) {
	a, err := s.areas.Lookup(ctx, code)
	if errs.Is(err, errs.NotFound) {
		return nil, errs.Fields("area_not_found", "区划 "+code+" 不存在", errs.FieldError{Field: field, Message: "区划不存在"})
	}
	return a, err
}

// Create registers a checkpoint in an area the caller manages.
func (s *Service) Create(ctx context.Context, p *auth.Principal, in CheckpointInput) (*Checkpoint, error) {
	const op = "checkpoint.Create"
	if err := auth.Require(p, auth.CheckpointManage, op); err != nil {
		return nil, err
	}
	if fe := in.validate(); len(fe) > 0 {
		return nil, errs.Fields("invalid_checkpoint", fe[0].Message, fe...)
	}
	a, err := s.resolveArea(ctx, in.AreaCode, "area_code")
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	if err := auth.Authorize(p, auth.CheckpointManage, a.Path, op,
		errs.E(errs.NotFound, "area_not_found", "区划 "+a.Code+" 不存在")); err != nil {
		return nil, err
	}
	open := in.Open == nil || *in.Open
	var out *Checkpoint
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx, `INSERT INTO checkpoints (name, kind, place, area_code, area_path, is_open, lat, lng,
			created_at, created_by, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $9, $10) RETURNING id`,
			in.Name, string(in.Kind), in.Place, a.Code, a.Path, open, in.Lat, in.Lng, tx.NowMS(), p.Actor()).Scan(&id)
		if err != nil {
			return fmt.Errorf("checkpoint: create: %w", err)
		}
		if err := audit.Record(ctx, tx, audit.Entry{ActorID: p.UserID, Actor: p.Actor(), Action: "checkpoint.create",
			ObjectType: "checkpoint", ObjectID: strconv.FormatInt(id, 10), AreaCode: a.Code,
			Summary: fmt.Sprintf("设立%s「%s」（%s %s）", KindNames[in.Kind], in.Name, a.Name, in.Place)}); err != nil {
			return err
		}
		out, err = loadCheckpoint(ctx, tx, id)
		return err
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return out, nil
}

// Update replaces a checkpoint's fields; the caller must manage both its
// old and its new area.
func (s *Service) Update(ctx context.Context, p *auth.Principal, ref string, in CheckpointInput) (*Checkpoint, error) {
	const op = "checkpoint.Update"
	if err := auth.Require(p, auth.CheckpointManage, op); err != nil {
		return nil, err
	}
	if fe := in.validate(); len(fe) > 0 {
		return nil, errs.Fields("invalid_checkpoint", fe[0].Message, fe...)
	}
	a, err := s.resolveArea(ctx, in.AreaCode, "area_code")
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	var out *Checkpoint
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		c, err := s.readable(ctx, tx, p, ref, op)
		if err != nil {
			return err
		}
		manage := reachFor(p, false, auth.CheckpointManage)
		if !manage.covers(c) {
			return errs.E(errs.Forbidden, "forbidden", "没有管理此卡口的权限")
		}
		if !manage.covers(&Checkpoint{AreaPath: a.Path}) {
			return errs.Fields("area_not_found", "区划 "+a.Code+" 不在您的管理范围内", errs.FieldError{Field: "area_code", Message: "不在管理范围内"})
		}
		if in.Version != 0 && in.Version != c.Version {
			return errs.E(errs.Conflict, "stale_checkpoint", "卡口信息已被他人更新，请刷新后重试")
		}
		open := c.Open
		if in.Open != nil {
			open = *in.Open
		}
		if _, err := tx.ExecContext(ctx, `UPDATE checkpoints SET name = $1, kind = $2, place = $3, area_code = $4, area_path = $5,
			is_open = $6, lat = $7, lng = $8, version = version + 1, updated_at = $9, updated_by = $10 WHERE id = $11`,
			in.Name, string(in.Kind), in.Place, a.Code, a.Path, open, in.Lat, in.Lng, tx.NowMS(), p.Actor(), c.ID); err != nil {
			return fmt.Errorf("checkpoint: update: %w", err)
		}
		var changes []string
		if c.Name != in.Name {
			changes = append(changes, "名称 "+c.Name+" → "+in.Name)
		}
		if c.Kind != in.Kind {
			changes = append(changes, "类型 "+KindNames[c.Kind]+" → "+KindNames[in.Kind])
		}
		if c.AreaCode != a.Code {
			changes = append(changes, "区划 "+c.AreaName+" → "+a.Name)
		}
		if c.Place != in.Place {
			changes = append(changes, "位置 → "+in.Place)
		}
		if c.Open != open {
			changes = append(changes, map[bool]string{true: "开启", false: "关闭"}[open])
		}
		if len(changes) == 0 {
			changes = append(changes, "无变化")
		}
		if err := audit.Record(ctx, tx, audit.Entry{ActorID: p.UserID, Actor: p.Actor(), Action: "checkpoint.update",
			ObjectType: "checkpoint", ObjectID: c.Ref(), AreaCode: a.Code,
			Summary: fmt.Sprintf("修改卡口「%s」：%s", c.Name, strings.Join(changes, "；"))}); err != nil {
			return err
		}
		id := c.ID
		tx.AfterCommit(func() { s.cache.drop(id) })
		out, err = loadCheckpoint(ctx, tx, id)
		return err
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return out, nil
}

// Get returns one checkpoint p may read, with the shifts on duty now.
func (s *Service) Get(ctx context.Context, p *auth.Principal, ref string) (*Checkpoint, error) {
	const op = "checkpoint.Get"
	var out *Checkpoint
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		c, err := s.readable(ctx, tx, p, ref, op)
		if err != nil {
			return err
		}
		if err := loadOnDuty(ctx, tx, []*Checkpoint{c}); err != nil {
			return err
		}
		out = c
		return nil
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return out, nil
}

// Filter narrows a list of checkpoints.
type Filter struct {
	Kind Kind
	Area string // area code: its subtree
}

// List returns the checkpoints p may read, by area and name, with the
// shifts on duty now.
func (s *Service) List(ctx context.Context, p *auth.Principal, f Filter) ([]*Checkpoint, error) {
	const op = "checkpoint.List"
	r := readReach(p)
	if p == nil {
		return nil, auth.Require(p, auth.CheckpointRead, op)
	}
	if r.none() {
		return nil, auth.ErrForbidden(op)
	}
	var args db.Args
	where := []string{r.where(&args)}
	if f.Kind != "" {
		if !f.Kind.Valid() {
			return nil, errs.Fields("bad_kind", "未知的卡口类型", errs.FieldError{Field: "kind", Message: "未知类型"})
		}
		where = append(where, "c.kind = "+args.Add(string(f.Kind)))
	}
	if f.Area != "" {
		a, err := s.resolveArea(ctx, f.Area, "area")
		if err != nil {
			return nil, errs.Wrap(op, err)
		}
		where = append(where, "c.area_path LIKE "+args.Add(db.LikePrefix(a.Path))+` ESCAPE '\'`)
	}
	var out []*Checkpoint
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		list, err := queryCheckpoints(ctx, tx, strings.Join(where, " AND "), args.List)
		if err != nil {
			return err
		}
		out = list
		return loadOnDuty(ctx, tx, list)
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return out, nil
}

// ResolveScope is the auth.ScopeResolver of "checkpoint:ID" role scopes:
// the checkpoint's name and area path.
func (s *Service) ResolveScope(ctx context.Context, tx *db.Tx, ref string) (name, path string, err error) {
	id, perr := strconv.ParseInt(strings.TrimSpace(ref), 10, 64)
	if perr == nil {
		err = tx.QueryRowContext(ctx, `SELECT name, area_path FROM checkpoints WHERE id = $1`, id).Scan(&name, &path)
		if err == nil {
			return name, path, nil
		}
		if !noRows(err) {
			return "", "", errs.Wrap("checkpoint.ResolveScope", err)
		}
	}
	return "", "", errs.Newf(errs.Invalid, "scope_not_found", "卡口 %s 不存在（范围写作 checkpoint:编号）", ref)
}

// Checkpoint tells the pass module about a checkpoint a pass may be
// limited to: its id as tokens write it, its name and its kind (a
// vehicle pass may be limited to reaching a transfer point). errs.NotFound
// when there is none.
func (s *Service) Checkpoint(ctx context.Context, ref string) (passtoken.CheckpointInfo, error) {
	c, err := s.cached(ctx, ref)
	if err != nil {
		return passtoken.CheckpointInfo{}, err
	}
	return passtoken.CheckpointInfo{ID: c.Ref(), Name: c.Name, Kind: string(c.Kind)}, nil
}

// ---------------------------------------------------------------------
// Duty roster

// Roster returns the shifts of a checkpoint overlapping [from, to).
func (s *Service) Roster(ctx context.Context, p *auth.Principal, ref string, from, to time.Time) ([]Shift, error) {
	const op = "checkpoint.Roster"
	var out []Shift
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		c, err := s.readable(ctx, tx, p, ref, op)
		if err != nil {
			return err
		}
		out, err = loadShifts(ctx, tx, c.ID, from.UnixMilli(), to.UnixMilli())
		return err
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return out, nil
}

// SetRoster replaces the shifts of a checkpoint that have not ended with
// in's; past shifts stay as they were. It returns the shifts from now on.
func (s *Service) SetRoster(ctx context.Context, p *auth.Principal, ref string, in RosterInput) ([]Shift, error) {
	const op = "checkpoint.SetRoster"
	if err := auth.Require(p, auth.CheckpointManage, op); err != nil {
		return nil, err
	}
	now := s.clock.Now()
	if len(in.Shifts) > MaxShifts {
		return nil, errs.Fields("invalid_roster", fmt.Sprintf("一次最多排 %d 个班次", MaxShifts), errs.FieldError{Field: "shifts", Message: "班次过多"})
	}
	var fe []errs.FieldError
	for i := range in.Shifts {
		more, err := s.checkShift(ctx, &in.Shifts[i], now, fmt.Sprintf("shifts[%d].", i))
		if err != nil {
			return nil, errs.Wrap(op, err)
		}
		fe = append(fe, more...)
	}
	if len(fe) > 0 {
		return nil, errs.Fields("invalid_roster", fe[0].Message, fe...)
	}
	var out []Shift
	err := s.db.Write(ctx, func(tx *db.Tx) error {
		c, err := s.readable(ctx, tx, p, ref, op)
		if err != nil {
			return err
		}
		if !reachFor(p, false, auth.CheckpointManage).covers(c) {
			return errs.E(errs.Forbidden, "forbidden", "没有管理此卡口的权限")
		}
		nowMS := tx.NowMS()
		if _, err := tx.ExecContext(ctx, `DELETE FROM checkpoint_shifts WHERE checkpoint_id = $1 AND ends_at > $2`, c.ID, nowMS); err != nil {
			return fmt.Errorf("checkpoint: roster: %w", err)
		}
		for _, sh := range in.Shifts {
			if _, err := tx.ExecContext(ctx, `INSERT INTO checkpoint_shifts (checkpoint_id, name, username, post, starts_at, ends_at,
				created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
				c.ID, sh.Name, sh.Username, sh.Post, sh.Start.UnixMilli(), sh.End.UnixMilli(), nowMS, p.Actor()); err != nil {
				return fmt.Errorf("checkpoint: roster: %w", err)
			}
		}
		if err := audit.Record(ctx, tx, audit.Entry{ActorID: p.UserID, Actor: p.Actor(), Action: "checkpoint.roster",
			ObjectType: "checkpoint", ObjectID: c.Ref(), AreaCode: c.AreaCode,
			Summary: fmt.Sprintf("排定卡口「%s」值班表：%d 个班次", c.Name, len(in.Shifts))}); err != nil {
			return err
		}
		out, err = loadShifts(ctx, tx, c.ID, nowMS, maxTime)
		return err
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return out, nil
}

// checkShift tidies and checks a shift planned at now; the problems name
// their fields after prefix.
func (s *Service) checkShift(ctx context.Context, sh *ShiftInput, now time.Time, prefix string) ([]errs.FieldError, error) {
	var fe []errs.FieldError
	add := func(field, msg string) {
		fe = append(fe, errs.FieldError{Field: prefix + field, Message: msg})
	}
	sh.Name, sh.Username, sh.Post = strings.TrimSpace(sh.Name), strings.ToLower(strings.TrimSpace(sh.Username)), strings.TrimSpace(sh.Post)
	if msg := errs.CheckText(sh.Name, MaxNameLen, true); msg != "" {
		add("name", msg)
	}
	if msg := errs.CheckText(sh.Post, MaxPostLen, false); msg != "" {
		add("post", msg)
	}
	switch {
	case sh.Start.IsZero() || sh.End.IsZero():
		add("start", "请填写开始和结束时间")
	case !sh.End.After(sh.Start):
		add("end", "结束时间须晚于开始时间")
	case sh.End.Sub(sh.Start) > 7*24*time.Hour:
		add("end", "一个班次不能超过 7 天")
	case !sh.End.After(now):
		add("end", "已结束的班次不能再排")
	}
	if sh.Username != "" && s.users != nil {
		if _, _, err := s.users.LookupUser(ctx, sh.Username); err != nil {
			if !errs.Is(err, errs.NotFound) && !errs.Is(err, errs.Unauthorized) {
				return nil, err
			}
			add("username", "用户 "+sh.Username+" 不存在")
		}
	}
	return fe, nil
}

// AddShift adds one shift to a checkpoint's roster, leaving the others as
// they are (two managers adding shifts at once both keep theirs). It
// returns the shifts from now on.
func (s *Service) AddShift(ctx context.Context, p *auth.Principal, ref string, in ShiftInput) ([]Shift, error) {
	const op = "checkpoint.AddShift"
	if err := auth.Require(p, auth.CheckpointManage, op); err != nil {
		return nil, err
	}
	fe, err := s.checkShift(ctx, &in, s.clock.Now(), "")
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	if len(fe) > 0 {
		return nil, errs.Fields("invalid_shift", fe[0].Message, fe...)
	}
	var out []Shift
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		c, err := s.readable(ctx, tx, p, ref, op)
		if err != nil {
			return err
		}
		if !reachFor(p, false, auth.CheckpointManage).covers(c) {
			return errs.E(errs.Forbidden, "forbidden", "没有管理此卡口的权限")
		}
		var planned int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM checkpoint_shifts WHERE checkpoint_id = $1 AND ends_at > $2`,
			c.ID, tx.NowMS()).Scan(&planned); err != nil {
			return fmt.Errorf("checkpoint: roster: %w", err)
		}
		if planned >= MaxShifts {
			return errs.Fields("invalid_shift", fmt.Sprintf("值班表最多排 %d 个未结束的班次", MaxShifts),
				errs.FieldError{Field: "start", Message: "班次过多"})
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO checkpoint_shifts (checkpoint_id, name, username, post, starts_at, ends_at,
			created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			c.ID, in.Name, in.Username, in.Post, in.Start.UnixMilli(), in.End.UnixMilli(), tx.NowMS(), p.Actor()); err != nil {
			return fmt.Errorf("checkpoint: roster: %w", err)
		}
		if err := audit.Record(ctx, tx, audit.Entry{ActorID: p.UserID, Actor: p.Actor(), Action: "checkpoint.shift_add",
			ObjectType: "checkpoint", ObjectID: c.Ref(), AreaCode: c.AreaCode,
			Summary: fmt.Sprintf("卡口「%s」值班表加排 %s %s–%s", c.Name, in.Name,
				in.Start.In(clock.Shanghai).Format("01-02 15:04"), in.End.In(clock.Shanghai).Format("01-02 15:04"))}); err != nil {
			return err
		}
		out, err = loadShifts(ctx, tx, c.ID, tx.NowMS(), maxTime)
		return err
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return out, nil
}

// maxTime bounds open-ended ranges, in Unix milliseconds.
const maxTime = int64(1) << 62
