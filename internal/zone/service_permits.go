package zone

import (
	"context"
	"fmt"
	"strings"

	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/errs"
)

// IssuePermit issues an exit permit (外出许可) to a resident of a sealed
// zone: p exempts in the resident's area (their community), and a sealed
// zone covers the resident at some moment of the window.
func (s *Service) IssuePermit(ctx context.Context, p *auth.Principal, in PermitInput) (*Permit, error) {
	const op = "zone.IssuePermit"
	if err := auth.Require(p, auth.ZoneExempt, op); err != nil {
		return nil, err
	}
	if fe := in.validate(); len(fe) > 0 {
		return nil, errs.Fields("invalid_permit", fe[0].Message, fe...)
	}
	if s.register == nil {
		return nil, errs.E(errs.Unavailable, "register_unavailable", "户籍登记不可用，暂不能签发外出许可")
	}
	r, err := s.register.Resident(ctx, in.Resident)
	if errs.Is(err, errs.NotFound) || (err == nil && !p.Covers(auth.ZoneExempt, r.AreaPath)) {
		return nil, errs.Fields("resident_not_found", "户籍登记中没有此居民，或不在您的管辖范围内",
			errs.FieldError{Field: "resident", Message: "居民不存在"})
	}
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	var out *Permit
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		seq, err := nextSeq(ctx, tx)
		if err != nil {
			return err
		}
		z, err := sealedOver(ctx, tx, r.AreaPath, r.BuildingKey, in.ValidFrom, in.ValidTo)
		if err != nil {
			return err
		}
		if z == nil {
			return errs.E(errs.Conflict, "not_sealed", "该居民所住楼栋在此期间不在封控区内，无需外出许可")
		}
		id, err := insertPermit(ctx, tx, r, in, p.Actor(), seq)
		if err != nil {
			return err
		}
		s.changed(tx)
		if err := s.audit(ctx, tx, p, "zone.permit.issue", "zone_permit", id, r.CommunityCode,
			fmt.Sprintf("为 %s 居民 #%d 签发外出许可（%s，%s 至 %s）", targetName("", r.Estate, r.Building), r.ID, in.Reason,
				localTime(in.ValidFrom), localTime(in.ValidTo))); err != nil {
			return err
		}
		out, err = loadPermit(ctx, tx, id)
		return err
	})
	return out, errs.Wrap(op, err)
}

// CancelPermit cancels a permit: it ends now.
func (s *Service) CancelPermit(ctx context.Context, p *auth.Principal, id int64, in CancelInput) (*Permit, error) {
	const op = "zone.CancelPermit"
	if err := auth.Require(p, auth.ZoneExempt, op); err != nil {
		return nil, err
	}
	in.Reason = strings.TrimSpace(in.Reason)
	if m := errs.CheckText(in.Reason, MaxReasonLen, false); m != "" {
		return nil, errs.Fields("invalid_cancel", m, errs.FieldError{Field: "reason", Message: m})
	}
	var out *Permit
	err := s.db.Write(ctx, func(tx *db.Tx) error {
		seq, err := nextSeq(ctx, tx)
		if err != nil {
			return err
		}
		pm, err := loadPermit(ctx, tx, id)
		if err != nil {
			return err
		}
		if !p.Covers(auth.ZoneExempt, pm.AreaPath) {
			if reads(p, pm.AreaPath) {
				return auth.ErrForbidden(op)
			}
			return errPermitNotFound()
		}
		switch {
		case pm.CancelledAt != nil:
			return errs.Newf(errs.Conflict, "permit_cancelled", "该外出许可已于 %s 撤销", localTime(*pm.CancelledAt))
		case !tx.Now.Before(pm.ValidTo):
			return errs.Newf(errs.Conflict, "permit_over", "该外出许可已于 %s 到期，无需撤销", localTime(pm.ValidTo))
		}
		if _, err := cancelPermit(ctx, tx, id, in.Reason, p.Actor(), seq); err != nil {
			return err
		}
		s.changed(tx)
		if err := s.audit(ctx, tx, p, "zone.permit.cancel", "zone_permit", id, pm.CommunityCode,
			fmt.Sprintf("撤销 %s 居民 #%d 的外出许可%s", targetName("", pm.Estate, pm.Building), pm.ResidentID, reasonSuffix(in.Reason))); err != nil {
			return err
		}
		out, err = loadPermit(ctx, tx, id)
		return err
	})
	return out, errs.Wrap(op, err)
}

func reasonSuffix(r string) string {
	if r == "" {
		return ""
	}
	return "（" + r + "）"
}

// PermitFilter selects permits: in Area ("" every area p reads), Active
// "true" (in force or to come), "false" (cancelled or over) or "" (all).
type PermitFilter struct {
	Area   string
	Active string
}

// Permits lists the exit permits in the areas p reads zones in, newest
// first.
func (s *Service) Permits(ctx context.Context, p *auth.Principal, f PermitFilter) ([]*Permit, error) {
	const op = "zone.Permits"
	if err := auth.Require(p, auth.ZoneRead, op); err != nil {
		return nil, err
	}
	if f.Active != "" && f.Active != "true" && f.Active != "false" {
		return nil, errs.Fields("bad_active", "active 须为 true 或 false", errs.FieldError{Field: "active", Message: "须为 true 或 false"})
	}
	in, err := s.readArea(ctx, p, f.Area)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	var out []*Permit
	err = s.db.Read(ctx, func(tx *db.Tx) error {
		var a db.Args
		paths, all := p.AreaPaths(auth.ZoneRead)
		where := withinWhere(&a, "p.area_path", paths, all)
		if in != nil {
			where += " AND " + withinWhere(&a, "p.area_path", []string{in.Path}, false)
		}
		switch f.Active {
		case "true":
			where += " AND p.cancelled_at IS NULL AND p.valid_to > " + a.Add(tx.NowMS())
		case "false":
			where += " AND (p.cancelled_at IS NOT NULL OR p.valid_to <= " + a.Add(tx.NowMS()) + ")"
		}
		var err error
		out, err = queryPermits(ctx, tx, where, a.List, tx.Now)
		return err
	})
	return out, errs.Wrap(op, err)
}
