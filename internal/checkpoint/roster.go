package checkpoint

import (
	"context"
	"fmt"
	"strings"
	"time"

	"tongxin/internal/audit"
	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/errs"
)

// The duty roster of a checkpoint: who stands there when.

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
		if err := deletePlannedShifts(ctx, tx, c.ID); err != nil {
			return err
		}
		for _, sh := range in.Shifts {
			if err := insertShift(ctx, tx, c.ID, sh, p.Actor()); err != nil {
				return err
			}
		}
		if err := audit.Record(ctx, tx, audit.Entry{ActorID: p.UserID, Actor: p.Actor(), Action: "checkpoint.roster",
			ObjectType: "checkpoint", ObjectID: c.Ref(), AreaCode: c.AreaCode,
			Summary: fmt.Sprintf("排定卡口「%s」值班表：%d 个班次", c.Name, len(in.Shifts))}); err != nil {
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
		planned, err := plannedShifts(ctx, tx, c.ID)
		if err != nil {
			return err
		}
		if planned >= MaxShifts {
			return errs.Fields("invalid_shift", fmt.Sprintf("值班表最多排 %d 个未结束的班次", MaxShifts),
				errs.FieldError{Field: "start", Message: "班次过多"})
		}
		if err := insertShift(ctx, tx, c.ID, in, p.Actor()); err != nil {
			return err
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
