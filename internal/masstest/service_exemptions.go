package masstest

import (
	"context"
	"fmt"
	"strings"

	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/pii"
)

func errResidentNotFound() *errs.Error {
	return errs.E(errs.NotFound, "unknown_resident", "登记名册中没有该居民")
}

func (in *ExemptionInput) validate(thisYear int) []errs.FieldError {
	var fe []errs.FieldError
	if ExemptReasonNames[in.Reason] == "" {
		fe = append(fe, errs.FieldError{Field: "reason", Message: "须为 away、hospitalized、infant 或 deceased"})
	}
	in.Note = strings.TrimSpace(in.Note)
	if m := errs.CheckText(in.Note, MaxNoteLen, false); m != "" {
		fe = append(fe, errs.FieldError{Field: "note", Message: m})
	}
	if strings.TrimSpace(in.Resident) == "" && strings.TrimSpace(in.IDNumber) == "" {
		fe = append(fe, errs.FieldError{Field: "resident", Message: "请指明居民（居民码编号或身份证号）"})
	}
	return fe
}

// exemptTarget finds the resident of an exemption and checks p may act
// on them in round r.
func (s *Service) exemptTarget(ctx context.Context, tx *db.Tx, r *Round, rc reach, resident, idNumber string) (*residentRow, error) {
	var res *residentRow
	var err error
	if resident = strings.TrimSpace(resident); resident != "" {
		res, err = residentBy(ctx, tx, "code", resident)
	} else {
		id, nerr := pii.NormalizeResidentID(idNumber)
		if nerr != nil {
			return nil, errs.Fields("invalid_id_number", nerr.Error(), errs.FieldError{Field: "id_number", Message: nerr.Error()})
		}
		res, err = residentBy(ctx, tx, "id_idx", s.box.Index(pii.KindResidentID, id))
	}
	switch {
	case err != nil:
		return nil, err
	case res == nil || !rc.covers(res.hh.areaPath):
		return nil, errResidentNotFound()
	case !res.status.InPopulation():
		return nil, errs.E(errs.Conflict, "resident_not_registered", "该居民已"+StatusNames[res.status]+"，不在本轮名册中")
	case !inRound(r, res.hh.areaPath):
		return nil, errs.E(errs.Conflict, "not_in_round", "该居民所在社区不在本轮检测范围内")
	}
	return res, nil
}

// Exempt exempts a resident from a round, or changes the reason. A
// resident already sampled is not exempted; an infant must be under
// InfantAgeLimit by birth year.
func (s *Service) Exempt(ctx context.Context, p *auth.Principal, roundRef string, in ExemptionInput) (*Exemption, error) {
	const op = "masstest.Exempt"
	if fe := in.validate(s.clock.Now().Year()); len(fe) > 0 {
		return nil, errs.Fields("invalid_exemption", fe[0].Message, fe...)
	}
	var out *Exemption
	err := s.db.Write(ctx, func(tx *db.Tx) error {
		if err := lockSamples(ctx, tx); err != nil {
			return err
		}
		r, rc, err := s.sampleRound(ctx, tx, p, roundRef, op)
		if err != nil {
			return err
		}
		res, err := s.exemptTarget(ctx, tx, r, rc, in.Resident, in.IDNumber)
		if err != nil {
			return err
		}
		if r.ClosedAt != nil {
			return errs.E(errs.Conflict, "round_closed", "本轮已结束")
		}
		if in.Reason == ExemptInfant && tx.Now.Year()-res.birthYear >= InfantAgeLimit {
			return errs.Fields("not_an_infant", fmt.Sprintf("婴幼儿免检限 %d 岁以下", InfantAgeLimit),
				errs.FieldError{Field: "reason", Message: "年龄不符"})
		}
		if first, err := firstSample(ctx, tx, r.ID, res.id); err != nil || first != nil {
			if err == nil {
				err = errs.E(errs.Conflict, "already_sampled", "该居民本轮已采样，不能免检")
			}
			return err
		}
		if err := s.setExemption(ctx, tx, r, res, in, p.Actor()); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, p, "testing.exemption.set", "testing_resident", res.id, res.hh.communityCode,
			fmt.Sprintf("第 %d 轮免检（%s）：%s %s %s", r.Number, ExemptReasonNames[in.Reason], res.hh.estate, res.hh.building,
				res.nameMasked)); err != nil {
			return err
		}
		list, err := listExemptionOf(ctx, tx, r.ID, res.id)
		out = list
		return err
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return out, nil
}

// setExemption writes the exemption and moves the coverage.
func (s *Service) setExemption(ctx context.Context, tx *db.Tx, r *Round, res *residentRow, in ExemptionInput, actor string) error {
	old, err := exemptionReason(ctx, tx, r.ID, res.id)
	if err != nil {
		return err
	}
	if err := upsertExemption(ctx, tx, r.ID, res.id, in.Reason, in.Note, actor); err != nil {
		return err
	}
	d := tallyDelta{exempt: map[ExemptReason]int{in.Reason: 1}}
	de := 1
	if old != "" {
		d.exempt[old]--
		de = 0
	}
	s0, e0, err := bumpHousehold(ctx, tx, r.ID, res.hh.id, 0, de)
	if err != nil {
		return err
	}
	hd := hhDelta(res.hh.members, s0, e0, s0, e0+de)
	hd.exempt = d.exempt
	return applyTally(ctx, tx, r.ID, &res.hh, hd)
}

// Unexempt takes a resident's exemption back: they are missed again
// until sampled.
func (s *Service) Unexempt(ctx context.Context, p *auth.Principal, roundRef, resident string) error {
	const op = "masstest.Unexempt"
	err := s.db.Write(ctx, func(tx *db.Tx) error {
		if err := lockSamples(ctx, tx); err != nil {
			return err
		}
		r, rc, err := s.sampleRound(ctx, tx, p, roundRef, op)
		if err != nil {
			return err
		}
		res, err := s.exemptTarget(ctx, tx, r, rc, resident, "")
		if err != nil {
			return err
		}
		old, err := deleteExemption(ctx, tx, r.ID, res.id)
		if err != nil {
			return err
		}
		if old == "" {
			return errs.E(errs.NotFound, "exemption_not_found", "该居民本轮没有免检")
		}
		s0, e0, err := bumpHousehold(ctx, tx, r.ID, res.hh.id, 0, -1)
		if err != nil {
			return err
		}
		hd := hhDelta(res.hh.members, s0, e0, s0, e0-1)
		hd.exempt = map[ExemptReason]int{old: -1}
		if err := applyTally(ctx, tx, r.ID, &res.hh, hd); err != nil {
			return err
		}
		return s.audit(ctx, tx, p, "testing.exemption.remove", "testing_resident", res.id, res.hh.communityCode,
			fmt.Sprintf("第 %d 轮撤销免检（原因：%s）：%s %s %s", r.Number, ExemptReasonNames[old], res.hh.estate, res.hh.building,
				res.nameMasked))
	})
	return errs.Wrap(op, err)
}

// Exemptions lists a round's exemptions under an area.
func (s *Service) Exemptions(ctx context.Context, p *auth.Principal, roundRef, areaCode string) ([]Exemption, error) {
	const op = "masstest.Exemptions"
	var out []Exemption
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		r, a, err := s.roundArea(ctx, tx, p, roundRef, areaCode, op)
		if err != nil {
			return err
		}
		out, err = listExemptions(ctx, tx, r.ID, a.Path, 5000)
		return err
	})
	return out, errs.Wrap(op, err)
}
