package zone

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/notify"
	"tongxin/internal/zonerule"
)

// EventProposal is the event of a new proposal to seal a building
// (notify.Events names it).
const EventProposal = "zone.proposal"

// ProposalsLink is the proposal queue's page.
const ProposalsLink = "/zones/proposals"

// ProposeSeal records, in the testing module's transaction tx (the lab
// result's), a proposal to seal the building of a resident whose single
// tube came back positive, and tells the HQ's deciders over the community.
// A building with a proposal pending counts one more case on it.
func (s *Service) ProposeSeal(ctx context.Context, tx *db.Tx, sp SealProposal) error {
	path, name, err := areaPathOf(ctx, tx, sp.Community)
	if err != nil {
		return err
	}
	if path == "" {
		return fmt.Errorf("zone: propose seal: no community %s", sp.Community)
	}
	id, cases, err := upsertProposal(ctx, tx, sp, path)
	if err != nil || cases > 1 || s.users == nil || s.notifier == nil {
		return err
	}
	to, err := s.users.Granted(ctx, tx, auth.ZoneDecide, path, auth.HQCommander, auth.HQStaff)
	if err != nil {
		return err
	}
	place := targetName(name, sp.Estate, sp.Building)
	return s.notifier.Send(ctx, tx, to, notify.Message{
		Event: EventProposal,
		Title: "封控提议：" + place,
		Body: fmt.Sprintf("管码 %s 单管检测阳性，居民住 %s。已生成封控提议 #%d（封控该楼栋），请在封控提议页确认或不予采纳。",
			sp.Tube, place, id),
		Link:       ProposalsLink,
		ObjectType: "zone_proposal",
		ObjectID:   strconv.FormatInt(id, 10),
		AreaPath:   path,
	})
}

// Proposals lists the proposals over the areas p reads zones in, of
// status ("" every status), newest first.
func (s *Service) Proposals(ctx context.Context, p *auth.Principal, status, areaCode string) ([]*Proposal, error) {
	const op = "zone.Proposals"
	if err := auth.Require(p, auth.ZoneRead, op); err != nil {
		return nil, err
	}
	status = strings.TrimSpace(status)
	if status != "" && ProposalStatusNames[ProposalStatus(status)] == "" {
		return nil, errs.Fields("bad_status", "状态须为 pending、confirmed 或 declined", errs.FieldError{Field: "status", Message: "状态无效"})
	}
	in, err := s.readArea(ctx, p, areaCode)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	var out []*Proposal
	err = s.db.Read(ctx, func(tx *db.Tx) error {
		var a db.Args
		where := scopeWhere(&a, p, "p.area_path", in)
		if status != "" {
			where += " AND p.status = " + a.Add(status)
		}
		var err error
		out, err = queryProposals(ctx, tx, where, a.List)
		return err
	})
	return out, errs.Wrap(op, err)
}

// pendingProposal loads proposal id in tx for a decision by p: p decides
// over its community, and it is pending.
func pendingProposal(ctx context.Context, tx *db.Tx, p *auth.Principal, id int64, op string) (*Proposal, error) {
	pr, err := loadProposal(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if !reads(p, pr.AreaPath) {
		return nil, errProposalNotFound()
	}
	if !p.Covers(auth.ZoneDecide, pr.AreaPath) {
		return nil, auth.ErrForbidden(op)
	}
	if pr.Status != Pending {
		return nil, errs.Newf(errs.Conflict, "proposal_decided", "该提议已于 %s 处理（%s）", localTime(*pr.DecidedAt), pr.StatusName)
	}
	return pr, nil
}

// Confirm confirms a proposal: its building is sealed (a new zone linked
// to the proposal), in the one transaction.
func (s *Service) Confirm(ctx context.Context, p *auth.Principal, id int64, in ConfirmInput) (*Proposal, error) {
	const op = "zone.Confirm"
	if err := auth.Require(p, auth.ZoneDecide, op); err != nil {
		return nil, err
	}
	var pr *Proposal
	if err := s.db.Read(ctx, func(tx *db.Tx) (err error) {
		pr, err = pendingProposal(ctx, tx, p, id, op)
		return err
	}); err != nil {
		return nil, errs.Wrap(op, err)
	}
	zin := ZoneInput{Level: zonerule.Sealed, AreaCode: pr.CommunityCode, Estate: pr.Estate, Building: pr.Building,
		PlannedEnd: in.PlannedEnd, Reason: in.Reason, DecisionNo: in.DecisionNo}
	if in.EffectiveFrom != nil {
		zin.EffectiveFrom = *in.EffectiveFrom
	}
	if strings.TrimSpace(zin.Reason) == "" {
		zin.Reason = fmt.Sprintf("单管阳性（管码 %s），封控提议 #%d", pr.Tube, pr.ID)
	}
	if fe := zin.validate(); len(fe) > 0 {
		return nil, errs.Fields("invalid_confirm", fe[0].Message, fe...)
	}
	t, err := s.resolveTarget(ctx, p, zin)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	var out *Proposal
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		if _, err := pendingProposal(ctx, tx, p, id, op); err != nil {
			return err
		}
		zid, err := s.create(ctx, tx, p, t, zin, id)
		if err != nil {
			return err
		}
		if _, err := decideProposal(ctx, tx, id, Confirmed, zid, "", p.Actor()); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, p, "zone.proposal.confirm", "zone_proposal", id, pr.CommunityCode,
			fmt.Sprintf("确认封控提议：%s 划为封控区（决定 #%d，%s）", targetName(pr.CommunityName, pr.Estate, pr.Building), zid, zin.DecisionNo)); err != nil {
			return err
		}
		out, err = loadProposal(ctx, tx, id)
		return err
	})
	return out, errs.Wrap(op, err)
}

// Decline declines a proposal with a reason.
func (s *Service) Decline(ctx context.Context, p *auth.Principal, id int64, in DeclineInput) (*Proposal, error) {
	const op = "zone.Decline"
	if err := auth.Require(p, auth.ZoneDecide, op); err != nil {
		return nil, err
	}
	in.Reason = strings.TrimSpace(in.Reason)
	if m := errs.CheckText(in.Reason, MaxReasonLen, true); m != "" {
		return nil, errs.Fields("invalid_decline", "请填写不予采纳的理由："+m, errs.FieldError{Field: "reason", Message: m})
	}
	var out *Proposal
	err := s.db.Write(ctx, func(tx *db.Tx) error {
		pr, err := pendingProposal(ctx, tx, p, id, op)
		if err != nil {
			return err
		}
		if _, err := decideProposal(ctx, tx, id, Declined, 0, in.Reason, p.Actor()); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, p, "zone.proposal.decline", "zone_proposal", id, pr.CommunityCode,
			fmt.Sprintf("不予采纳封控提议：%s（%s）", targetName(pr.CommunityName, pr.Estate, pr.Building), in.Reason)); err != nil {
			return err
		}
		out, err = loadProposal(ctx, tx, id)
		return err
	})
	return out, errs.Wrap(op, err)
}
