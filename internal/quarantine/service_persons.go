package quarantine

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/pii"
)

// Persons: a resident of the household register, found through the
// testing module, or someone from outside it with their name, ID number
// and phone sealed. A person has at most one stay not ended.

// personOf reads who in names: a resident, or an outsider's sealed
// particulars.
func (s *Service) personOf(ctx context.Context, in PersonInput) (*personRec, error) {
	if key := strings.TrimSpace(in.Resident); key != "" {
		r, err := s.resident(ctx, key)
		if err != nil {
			return nil, err
		}
		return residentPerson(r), nil
	}
	return s.outsider(in)
}

// residentPerson is the person record of a resident of the register.
func residentPerson(r *Resident) *personRec {
	return &personRec{residentID: sql.NullInt64{Int64: r.ID, Valid: true}, residentCode: r.Code,
		communityCode: r.CommunityCode, nameMasked: r.NameMasked}
}

// resident finds a resident of the register.
func (s *Service) resident(ctx context.Context, key string) (*Resident, error) {
	notFound := errs.Fields("resident_not_found", "户籍登记中没有该居民："+pii.MaskID(key),
		errs.FieldError{Field: "resident", Message: "居民不存在"})
	if s.residents == nil {
		return nil, notFound
	}
	r, err := s.residents.Resident(ctx, key)
	if errs.Is(err, errs.NotFound) {
		return nil, notFound
	}
	if err != nil {
		return nil, err
	}
	if !r.InPopulation {
		return nil, errs.Fields("resident_not_present", "该居民已迁出或已故", errs.FieldError{Field: "resident", Message: "已迁出或已故"})
	}
	return r, nil
}

// outsider validates and seals an outsider's name, ID number and phone.
func (s *Service) outsider(in PersonInput) (*personRec, error) {
	name := strings.TrimSpace(in.Name)
	var fe []errs.FieldError
	if msg := errs.CheckLine(name, 50, true); msg != "" {
		fe = append(fe, errs.FieldError{Field: "name", Message: msg})
	}
	id, err := pii.NormalizeResidentID(in.IDNumber)
	if err != nil {
		fe = append(fe, errs.FieldError{Field: "id_number", Message: "身份证号不正确"})
	}
	phone := ""
	if strings.TrimSpace(in.Phone) != "" {
		if phone, err = pii.NormalizePhone(in.Phone); err != nil {
			fe = append(fe, errs.FieldError{Field: "phone", Message: "手机号不正确"})
		}
	}
	if len(fe) > 0 {
		return nil, errs.Fields("invalid_person", "请填写居民编号，或外来人员的姓名和身份证号", fe...)
	}
	r := &personRec{nameMasked: pii.MaskName(name), idIdx: sql.NullString{String: s.box.Index(pii.KindResidentID, id), Valid: true},
		id4: pii.Last4(id)}
	if r.nameEnc, err = s.box.Seal(name); err != nil {
		return nil, err
	}
	if r.idEnc, err = s.box.Seal(id); err != nil {
		return nil, err
	}
	if phone != "" {
		if r.phoneEnc, err = s.box.Seal(phone); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// claimPerson answers the person's id, recording them when new; a person
// already in quarantine is refused.
func (s *Service) claimPerson(ctx context.Context, tx *db.Tx, r *personRec) (int64, error) {
	id, err := findPerson(ctx, tx, r)
	if err != nil {
		return 0, err
	}
	if id == 0 {
		return insertPerson(ctx, tx, r)
	}
	kind, err := openStayOf(ctx, tx, id)
	if err != nil {
		return 0, err
	}
	if kind != "" {
		return 0, errs.Newf(errs.Conflict, "already_in_quarantine", "%s 正在%s，不能重复登记", r.nameMasked, KindNames[kind])
	}
	if r.residentID.Valid {
		return id, updateResidentPerson(ctx, tx, id, r)
	}
	return id, nil
}

// mask fills a stay's masked ID number and phone (an outsider's; a
// resident's are the register's).
func (s *Service) mask(st *Stay) error {
	if len(st.idEnc) > 0 {
		id, err := s.box.Open(st.idEnc)
		if err != nil {
			return err
		}
		st.IDNumber = pii.MaskID(id)
	}
	if len(st.phoneEn) > 0 {
		ph, err := s.box.Open(st.phoneEn)
		if err != nil {
			return err
		}
		st.Phone = pii.MaskPhone(ph)
	}
	return nil
}

// MaxRevealReasonLen bounds the reason of a reveal, in characters.
const MaxRevealReasonLen = 200

// RevealPerson answers an outsider's full ID number and phone to a holder
// of pii.reveal who reads quarantine over the area of their latest stay,
// on a reason, and audits it. A resident's are the register's (the
// testing module's reveal).
func (s *Service) RevealPerson(ctx context.Context, p *auth.Principal, ref string, in RevealInput) (*Revealed, error) {
	const op = "quarantine.RevealPerson"
	if err := auth.Require(p, auth.QuarantineRead, op); err != nil {
		return nil, err
	}
	if err := auth.Require(p, auth.PIIReveal, op); err != nil {
		return nil, err
	}
	id, err := parseRef(ref, errPersonNotFound)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	reason := strings.TrimSpace(in.Reason)
	if msg := errs.CheckLine(reason, MaxRevealReasonLen, true); msg != "" {
		return nil, errs.Wrap(op, errs.Fields("reason_required", "查看完整身份证号须填写事由", errs.FieldError{Field: "reason", Message: msg}))
	}
	var out *Revealed
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		name, idEnc, phoneEnc, areaCode, path, err := loadPersonSealed(ctx, tx, id)
		if err != nil {
			return err
		}
		if !p.Covers(auth.QuarantineRead, path) || !p.Covers(auth.PIIReveal, path) {
			return errPersonNotFound()
		}
		if len(idEnc) == 0 {
			return errs.E(errs.Conflict, "resident_reveal_elsewhere", "该人员为户籍登记居民，请在户籍登记中查看")
		}
		full, err := s.box.Open(idEnc)
		if err != nil {
			return err
		}
		out = &Revealed{PersonID: id, IDNumber: full}
		if len(phoneEnc) > 0 {
			if out.Phone, err = s.box.Open(phoneEnc); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, p, "quarantine.person.reveal", "quarantine_person", id, areaCode,
			fmt.Sprintf("查看隔离人员 %s 的身份证号 %s，事由：%s", name, pii.MaskID(full), clip(reason, 80)))
	})
	return out, errs.Wrap(op, err)
}
