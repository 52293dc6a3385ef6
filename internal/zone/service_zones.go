package zone

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"tongxin/internal/area"
	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/zonerule"
)

// target is what a decision covers, resolved.
type target struct {
	area      *area.Area
	kind      Kind
	estate    string
	building  string
	key       string
	buildings []Building
}

// resolveTarget checks a decision's target: an area p decides over (not a
// grid: gates know communities), or an estate or building of a community
// by the register's names.
func (s *Service) resolveTarget(ctx context.Context, p *auth.Principal, in ZoneInput) (*target, error) {
	a, err := s.areas.Resolve(ctx, in.AreaCode, "area_code")
	if err != nil {
		return nil, err
	}
	if !p.Covers(auth.ZoneDecide, a.Path) {
		return nil, errs.Fields("area_not_found", "区划 "+a.Code+" 不在您的决定范围内", errs.FieldError{Field: "area_code", Message: "不在决定范围内"})
	}
	if a.Level == area.Grid {
		return nil, errs.Fields("area_too_low", "区域封控以社区为最小区划；更小的范围请指定小区或楼栋",
			errs.FieldError{Field: "area_code", Message: "须为社区或以上"})
	}
	t := &target{area: a, kind: OverArea, key: "a:" + a.Code}
	if in.Estate == "" {
		return t, nil
	}
	if a.Level != area.Community {
		return nil, errs.Fields("estate_needs_community", "指定小区或楼栋时，区划须为其所在社区", errs.FieldError{Field: "area_code", Message: "须为社区"})
	}
	if s.register == nil {
		return nil, errs.E(errs.Unavailable, "register_unavailable", "户籍登记不可用，暂不能按小区或楼栋封控")
	}
	estates, err := s.register.Estates(ctx, a.Code)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(estates, func(e Estate) bool { return e.Name == in.Estate })
	if i < 0 {
		return nil, errs.Fields("estate_not_found", fmt.Sprintf("%s 的户籍登记中没有小区「%s」", a.Name, in.Estate),
			errs.FieldError{Field: "estate", Message: "户籍登记中没有此小区"})
	}
	t.kind, t.estate, t.key, t.buildings = OverEstate, in.Estate, "e:"+a.Code+"/"+in.Estate, estates[i].Buildings
	if in.Building == "" {
		return t, nil
	}
	j := slices.IndexFunc(t.buildings, func(b Building) bool { return b.Name == in.Building })
	if j < 0 {
		return nil, errs.Fields("building_not_found", fmt.Sprintf("%s %s 的户籍登记中没有楼栋「%s」", a.Name, in.Estate, in.Building),
			errs.FieldError{Field: "building", Message: "户籍登记中没有此楼栋"})
	}
	b := t.buildings[j]
	t.kind, t.building, t.key, t.buildings = OverBuilding, b.Name, "b:"+b.Key, []Building{b}
	return t, nil
}

// checkOverlap refuses a zone over target from from to end (nil: open)
// when another zone over the same target (but skip) is in force at some
// moment of it.
func checkOverlap(ctx context.Context, tx *db.Tx, key string, from time.Time, end *time.Time, skip int64) error {
	others, err := zonesOfTarget(ctx, tx, key, tx.Now)
	if err != nil {
		return err
	}
	for _, z := range others {
		u := z.Until()
		if z.ID == skip || (u != nil && !from.Before(*u)) || (end != nil && !z.EffectiveFrom.Before(*end)) {
			continue
		}
		return errs.Newf(errs.Conflict, "zone_overlap", "%s已有%s（决定 #%d，%s 起）与此时段重叠：请在该决定上调整级别或解除",
			z.Target, z.LevelName, z.ID, localTime(z.EffectiveFrom))
	}
	return nil
}

// Create decides a new zone.
func (s *Service) Create(ctx context.Context, p *auth.Principal, in ZoneInput) (*Zone, error) {
	const op = "zone.Create"
	if err := auth.Require(p, auth.ZoneDecide, op); err != nil {
		return nil, err
	}
	if fe := in.validate(); len(fe) > 0 {
		return nil, errs.Fields("invalid_zone", fe[0].Message, fe...)
	}
	t, err := s.resolveTarget(ctx, p, in)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	var out *Zone
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		id, err := s.create(ctx, tx, p, t, in, 0)
		if err != nil {
			return err
		}
		out, err = loadZone(ctx, tx, id, tx.Now)
		return err
	})
	return out, errs.Wrap(op, err)
}

// create writes a zone over t decided by p in tx, audited; previous is
// the zone a proposal's confirmation follows (0: none).
func (s *Service) create(ctx context.Context, tx *db.Tx, p *auth.Principal, t *target, in ZoneInput, proposal int64) (int64, error) {
	from := in.EffectiveFrom
	if from.IsZero() {
		from = tx.Now
	}
	if in.PlannedEnd != nil && !in.PlannedEnd.After(from) {
		return 0, errs.Fields("invalid_zone", "计划结束时间须晚于生效时间", errs.FieldError{Field: "planned_end", Message: "须晚于生效时间"})
	}
	seq, err := nextSeq(ctx, tx)
	if err != nil {
		return 0, err
	}
	if err := checkOverlap(ctx, tx, t.key, from, in.PlannedEnd, 0); err != nil {
		return 0, err
	}
	id, err := insertZone(ctx, tx, zoneRow{level: in.Level, kind: t.kind, areaCode: t.area.Code, areaPath: t.area.Path,
		estate: t.estate, building: t.building, targetKey: t.key, from: from, plannedEnd: in.PlannedEnd, reason: in.Reason,
		decisionNo: in.DecisionNo, actor: p.Actor(), buildings: t.buildings, seq: seq})
	if err != nil {
		return 0, err
	}
	s.changed(tx)
	summary := fmt.Sprintf("%s 划为%s（%s 起，%s）", targetName(t.area.Name, t.estate, t.building), zonerule.LevelNames[in.Level],
		localTime(from), in.DecisionNo)
	if proposal != 0 {
		summary += fmt.Sprintf("，确认封控提议 #%d", proposal)
	}
	return id, s.audit(ctx, tx, p, "zone.create", "zone", id, t.area.Code, summary)
}

// decideZone loads zone id in tx for a decision by p: p decides over its
// area (a zone out of reach is not found), and it is still open at at.
func decideZone(ctx context.Context, tx *db.Tx, p *auth.Principal, id int64, at time.Time, op string) (*Zone, error) {
	z, err := loadZone(ctx, tx, id, at)
	if err != nil {
		return nil, err
	}
	if !reads(p, z.AreaPath) {
		return nil, errZoneNotFound()
	}
	if !p.Covers(auth.ZoneDecide, z.AreaPath) {
		return nil, auth.ErrForbidden(op)
	}
	switch {
	case z.EndKind == EndLifted:
		return nil, errs.Newf(errs.Conflict, "zone_lifted", "%s的%s已于 %s 解除", z.Target, z.LevelName, localTime(*z.EndedAt))
	case z.EndKind == EndChanged:
		return nil, errs.Newf(errs.Conflict, "zone_changed", "该决定已于 %s 调整，请在最新的决定（#%d）上操作", localTime(*z.EndedAt), *z.NextID)
	case z.PlannedEnd != nil && !at.Before(*z.PlannedEnd):
		return nil, errs.Newf(errs.Conflict, "zone_ended", "%s的%s已于计划结束时间 %s 自动解除", z.Target, z.LevelName, localTime(*z.PlannedEnd))
	case at.Before(z.EffectiveFrom):
		return nil, errs.Fields("before_effective", fmt.Sprintf("时间早于该决定的生效时间 %s", localTime(z.EffectiveFrom)),
			errs.FieldError{Field: "at", Message: "早于生效时间"})
	}
	return z, nil
}

// decisionStep is the part of a decision on an open zone that differs:
// given the zone, the moment and the change's number, it writes and
// answers the id of the zone to answer.
type decisionStep func(tx *db.Tx, z *Zone, at time.Time, seq int64) (int64, error)

// decide runs a decision on zone id at the moment at (nil: now) in one
// transaction: p decides, the change takes its number, the zone is open
// then, and step writes it.
func (s *Service) decide(ctx context.Context, p *auth.Principal, id int64, when *time.Time, op string, step decisionStep) (*Zone, error) {
	var out *Zone
	err := s.db.Write(ctx, func(tx *db.Tx) error {
		at := tx.Now
		if when != nil {
			at = *when
		}
		seq, err := nextSeq(ctx, tx)
		if err != nil {
			return err
		}
		z, err := decideZone(ctx, tx, p, id, at, op)
		if err != nil {
			return err
		}
		answer, err := step(tx, z, at, seq)
		if err != nil {
			return err
		}
		s.changed(tx)
		out, err = loadZone(ctx, tx, answer, tx.Now)
		return err
	})
	return out, errs.Wrap(op, err)
}

// Change raises or lowers zone id: it ends at the moment given and a zone
// of the new level over the same target starts then, linked to it.
func (s *Service) Change(ctx context.Context, p *auth.Principal, id int64, in ChangeInput) (*Zone, error) {
	const op = "zone.Change"
	if err := auth.Require(p, auth.ZoneDecide, op); err != nil {
		return nil, err
	}
	if fe := in.validate(); len(fe) > 0 {
		return nil, errs.Fields("invalid_change", fe[0].Message, fe...)
	}
	return s.decide(ctx, p, id, in.At, op, func(tx *db.Tx, z *Zone, at time.Time, seq int64) (int64, error) {
		if z.Level == in.Level {
			return 0, errs.Fields("level_unchanged", "新级别与现级别相同（"+z.LevelName+"）", errs.FieldError{Field: "level", Message: "与现级别相同"})
		}
		if in.PlannedEnd != nil && !in.PlannedEnd.After(at) {
			return 0, errs.Fields("invalid_change", "计划结束时间须晚于调整时间", errs.FieldError{Field: "planned_end", Message: "须晚于调整时间"})
		}
		key, err := targetOf(ctx, tx, z.ID)
		if err != nil {
			return 0, err
		}
		if err := checkOverlap(ctx, tx, key, at, in.PlannedEnd, z.ID); err != nil {
			return 0, err
		}
		if _, err := endZone(ctx, tx, endRow{id: z.ID, at: at, kind: EndChanged, reason: in.Reason, decisionNo: in.DecisionNo,
			actor: p.Actor(), seq: seq}); err != nil {
			return 0, err
		}
		nid, err := insertZone(ctx, tx, zoneRow{level: in.Level, kind: z.Kind, areaCode: z.AreaCode, areaPath: z.AreaPath,
			estate: z.Estate, building: z.Building, targetKey: key, from: at, plannedEnd: in.PlannedEnd, reason: in.Reason,
			decisionNo: in.DecisionNo, actor: p.Actor(), previous: z.ID, buildings: z.Buildings, seq: seq})
		if err != nil {
			return 0, err
		}
		verb := "降为"
		if in.Level.Stricter(z.Level) {
			verb = "升为"
		}
		return nid, s.audit(ctx, tx, p, "zone.change", "zone", nid, z.AreaCode, fmt.Sprintf("%s 由%s%s%s（%s 起，%s；原决定 #%d）",
			z.Target, z.LevelName, verb, zonerule.LevelNames[in.Level], localTime(at), in.DecisionNo, z.ID))
	})
}

// Lift lifts zone id at the moment given, not before it took effect.
func (s *Service) Lift(ctx context.Context, p *auth.Principal, id int64, in LiftInput) (*Zone, error) {
	const op = "zone.Lift"
	if err := auth.Require(p, auth.ZoneDecide, op); err != nil {
		return nil, err
	}
	if fe := in.validate(); len(fe) > 0 {
		return nil, errs.Fields("invalid_lift", fe[0].Message, fe...)
	}
	return s.decide(ctx, p, id, in.At, op, func(tx *db.Tx, z *Zone, at time.Time, seq int64) (int64, error) {
		if _, err := endZone(ctx, tx, endRow{id: z.ID, at: at, kind: EndLifted, reason: in.Reason, decisionNo: in.DecisionNo,
			actor: p.Actor(), seq: seq}); err != nil {
			return 0, err
		}
		return z.ID, s.audit(ctx, tx, p, "zone.lift", "zone", z.ID, z.AreaCode, fmt.Sprintf("%s 解除%s（%s，%s）",
			z.Target, z.LevelName, localTime(at), in.DecisionNo))
	})
}

// ListFilter selects zones: those in force at At (nil: now), over or
// inside Area (a code; "": every area the caller reads), of Level ("":
// every level).
type ListFilter struct {
	At    *time.Time
	Area  string
	Level zonerule.Level
}

// List answers the zones in force at a moment, by area and target, in
// the areas p reads (and those above them: the district's zone over a
// community).
func (s *Service) List(ctx context.Context, p *auth.Principal, f ListFilter) ([]*Zone, error) {
	const op = "zone.List"
	if err := auth.Require(p, auth.ZoneRead, op); err != nil {
		return nil, err
	}
	if f.Level != "" && !f.Level.Valid() {
		return nil, errs.Fields("bad_level", "级别须为 sealed、controlled 或 guarded", errs.FieldError{Field: "level", Message: "级别无效"})
	}
	in, err := s.readArea(ctx, p, f.Area)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	at := s.clock.Now()
	if f.At != nil {
		at = *f.At
	}
	var out []*Zone
	err = s.db.Read(ctx, func(tx *db.Tx) error {
		var a db.Args
		where := inForceSQL(a.Add(at.UnixMilli())) + " AND " + scopeWhere(&a, p, "z.area_path", in)
		if f.Level != "" {
			where += " AND z.level = " + a.Add(string(f.Level))
		}
		var err error
		out, err = queryZones(ctx, tx, where, a.List, "z.area_path, z.estate, z.building, z.id LIMIT 2000", at)
		return err
	})
	return out, errs.Wrap(op, err)
}

// History answers every decision over or inside an area (or above it),
// newest first: the zones that were, are and will be.
func (s *Service) History(ctx context.Context, p *auth.Principal, areaCode string) ([]*Zone, error) {
	const op = "zone.History"
	if err := auth.Require(p, auth.ZoneRead, op); err != nil {
		return nil, err
	}
	in, err := s.readArea(ctx, p, areaCode)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	var out []*Zone
	err = s.db.Read(ctx, func(tx *db.Tx) error {
		var a db.Args
		var err error
		out, err = queryZones(ctx, tx, scopeWhere(&a, p, "z.area_path", in), a.List, "z.effective_from DESC, z.id DESC LIMIT 1000", tx.Now)
		return err
	})
	return out, errs.Wrap(op, err)
}

// Get answers zone id with its chain of decisions (oldest first: the
// zones it followed and those that followed it).
func (s *Service) Get(ctx context.Context, p *auth.Principal, id int64) (*Zone, error) {
	const op = "zone.Get"
	if err := auth.Require(p, auth.ZoneRead, op); err != nil {
		return nil, err
	}
	var out *Zone
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		z, err := loadZone(ctx, tx, id, tx.Now)
		if err != nil {
			return err
		}
		if !reads(p, z.AreaPath) {
			return errZoneNotFound()
		}
		key, err := targetOf(ctx, tx, id)
		if err != nil {
			return err
		}
		same, err := zonesOfTarget(ctx, tx, key, tx.Now)
		if err != nil {
			return err
		}
		z.History = chainOf(same, id)
		out = z
		return nil
	})
	return out, errs.Wrap(op, err)
}

// chainOf picks from the zones of one target the chain zone id belongs
// to, oldest first.
func chainOf(same []*Zone, id int64) []Zone {
	byID := make(map[int64]*Zone, len(same))
	for _, z := range same {
		byID[z.ID] = z
	}
	first := byID[id]
	for first != nil && first.PreviousID != nil && byID[*first.PreviousID] != nil {
		first = byID[*first.PreviousID]
	}
	var out []Zone
	for z := first; z != nil; {
		c := *z
		c.Buildings = nil
		out = append(out, c)
		if z.NextID == nil {
			break
		}
		z = byID[*z.NextID]
	}
	return out
}

// levelOf reads a level from a query or form value ("" is every level).
func levelOf(s string) zonerule.Level { return zonerule.Level(strings.TrimSpace(s)) }
