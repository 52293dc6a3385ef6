package checkpoint

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"tongxin/internal/area"
	"tongxin/internal/audit"
	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/passtoken"
)

// The registry of checkpoints: register, change, read and list them.

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
	if err := s.checkEstate(ctx, a, in); err != nil {
		return nil, errs.Wrap(op, err)
	}
	if err := auth.Authorize(p, auth.CheckpointManage, a.Path, op,
		errs.E(errs.NotFound, "area_not_found", "区划 "+a.Code+" 不存在")); err != nil {
		return nil, err
	}
	row := checkpointRow{in: in, area: areaRef{a.Code, a.Path}, open: in.Open == nil || *in.Open, actor: p.Actor()}
	var out *Checkpoint
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		id, err := insertCheckpoint(ctx, tx, row)
		if err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, audit.Entry{ActorID: p.UserID, Actor: p.Actor(), Action: "checkpoint.create",
			ObjectType: "checkpoint", ObjectID: strconv.FormatInt(id, 10), AreaCode: a.Code,
			Summary: fmt.Sprintf("设立%s「%s」（%s%s %s）", KindNames[in.Kind], in.Name, a.Name, in.Estate, in.Place)}); err != nil {
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
	if err := s.checkEstate(ctx, a, in); err != nil {
		return nil, errs.Wrap(op, err)
	}
	var out *Checkpoint
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		c, err := s.readable(ctx, tx, p, ref, op)
		if err != nil {
			return err
		}
		if err := checkUpdate(p, c, a, in); err != nil {
			return err
		}
		row := checkpointRow{in: in, area: areaRef{a.Code, a.Path}, open: c.Open, actor: p.Actor()}
		if in.Open != nil {
			row.open = *in.Open
		}
		if err := updateCheckpoint(ctx, tx, c.ID, row); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, audit.Entry{ActorID: p.UserID, Actor: p.Actor(), Action: "checkpoint.update",
			ObjectType: "checkpoint", ObjectID: c.Ref(), AreaCode: a.Code,
			Summary: fmt.Sprintf("修改卡口「%s」：%s", c.Name, strings.Join(changesOf(c, row, a), "；"))}); err != nil {
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

// checkUpdate checks that p may move checkpoint c to area a with in: it
// manages both areas, and in is not based on an older version.
func checkUpdate(p *auth.Principal, c *Checkpoint, a *area.Area, in CheckpointInput) error {
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
	return nil
}

// changesOf describes for the audit what writing r (in area a) changes
// in c.
func changesOf(c *Checkpoint, r checkpointRow, a *area.Area) []string {
	var changes []string
	if c.Name != r.in.Name {
		changes = append(changes, "名称 "+c.Name+" → "+r.in.Name)
	}
	if c.Kind != r.in.Kind {
		changes = append(changes, "类型 "+KindNames[c.Kind]+" → "+KindNames[r.in.Kind])
	}
	if c.AreaCode != a.Code {
		changes = append(changes, "区划 "+c.AreaName+" → "+a.Name)
	}
	if c.Estate != r.in.Estate {
		changes = append(changes, "小区 "+c.Estate+" → "+r.in.Estate)
	}
	if c.Place != r.in.Place {
		changes = append(changes, "位置 → "+r.in.Place)
	}
	if c.Open != r.open {
		changes = append(changes, map[bool]string{true: "开启", false: "关闭"}[r.open])
	}
	if len(changes) == 0 {
		changes = append(changes, "无变化")
	}
	return changes
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
	cf := checkpointFilter{reach: r, kind: f.Kind}
	if f.Kind != "" && !f.Kind.Valid() {
		return nil, errs.Fields("bad_kind", "未知的卡口类型", errs.FieldError{Field: "kind", Message: "未知类型"})
	}
	if f.Area != "" {
		a, err := s.resolveArea(ctx, f.Area, "area")
		if err != nil {
			return nil, errs.Wrap(op, err)
		}
		cf.areaPath = a.Path
	}
	var out []*Checkpoint
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		list, err := queryCheckpoints(ctx, tx, cf)
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
		name, path, err = checkpointScope(ctx, tx, id)
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
