package masstest

import (
	"context"
	"fmt"
	"strings"

	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/passtoken"
	"tongxin/internal/pii"
)

// The register's reads: households and residents, masked; a full ID
// number on a reason; resident codes.

func errHouseholdNotFound() *errs.Error {
	return errs.E(errs.NotFound, "household_not_found", "户不存在")
}

func errNoResident() *errs.Error {
	return errs.E(errs.NotFound, "resident_not_found", "居民不存在")
}

// MaxRevealReasonLen bounds the reason of a reveal, in characters.
const MaxRevealReasonLen = 200

// ListHouseholds answers a page of the households p reads testing over
// (at their community), with their residents masked.
func (s *Service) ListHouseholds(ctx context.Context, p *auth.Principal, f HouseholdFilter) (*HouseholdPage, error) {
	const op = "masstest.ListHouseholds"
	if err := auth.Require(p, auth.TestingRead, op); err != nil {
		return nil, err
	}
	out := &HouseholdPage{Page: min(max(f.Page, 1), MaxHouseholdPage), PerPage: f.PerPage}
	if out.PerPage <= 0 || out.PerPage > MaxHouseholdsPerPage {
		out.PerPage = DefaultHouseholdsPerPage
	}
	var a db.Args
	paths, all := p.AreaPaths(auth.TestingRead)
	where := scopeWhere(&a, paths, all)
	if strings.TrimSpace(f.Area) != "" {
		ar, err := s.areas.Resolve(ctx, f.Area, "area")
		if err != nil {
			return nil, errs.Wrap(op, err)
		}
		where += " AND h.area_path LIKE " + a.Add(db.LikePrefix(ar.Path)) + ` ESCAPE '\'`
	}
	if v := strings.TrimSpace(f.Estate); v != "" {
		where += " AND h.estate = " + a.Add(v)
	}
	if v := strings.TrimSpace(f.Building); v != "" {
		where += " AND h.building = " + a.Add(v)
	}
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		list, total, err := listHouseholds(ctx, tx, where, a, (out.Page-1)*out.PerPage, out.PerPage)
		if err != nil {
			return err
		}
		out.Total = total
		out.Items, err = s.withResidents(ctx, tx, list, false)
		return err
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return out, nil
}

// withResidents fills the residents of households, masked.
func (s *Service) withResidents(ctx context.Context, tx *db.Tx, list []*hhRow, population bool) ([]Household, error) {
	ids := make([]int64, len(list))
	byID := map[int64]*Household{}
	for i, h := range list {
		ids[i] = h.ID
		h.Residents = []Resident{}
		byID[h.ID] = &h.Household
	}
	rs, err := residentsOf(ctx, tx, ids, population)
	if err != nil {
		return nil, err
	}
	for _, r := range rs {
		if err := s.mask(r); err != nil {
			return nil, err
		}
		h := byID[r.HouseholdID]
		h.Residents = append(h.Residents, r.Resident)
	}
	out := make([]Household, len(list))
	for i, h := range list {
		out[i] = h.Household
	}
	return out, nil
}

// mask fills the masked ID number and phone of a resident.
func (s *Service) mask(r *sealedResident) error {
	id, err := s.box.Open(r.idEnc)
	if err != nil {
		return err
	}
	r.IDNumber = pii.MaskID(id)
	if len(r.phoneEnc) > 0 {
		ph, err := s.box.Open(r.phoneEnc)
		if err != nil {
			return err
		}
		r.Phone = pii.MaskPhone(ph)
	}
	r.StatusName = StatusNames[r.Status]
	return nil
}

// readHousehold loads household ref if p reads testing over its
// community; otherwise it is not found.
func (s *Service) readHousehold(ctx context.Context, tx *db.Tx, p *auth.Principal, ref, op string) (*hhRow, error) {
	if err := auth.Require(p, auth.TestingRead, op); err != nil {
		return nil, err
	}
	id, err := parseRef(ref, errHouseholdNotFound)
	if err != nil {
		return nil, err
	}
	h, err := loadHousehold(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if !p.Covers(auth.TestingRead, h.areaPath) {
		return nil, errHouseholdNotFound()
	}
	return h, nil
}

// GetHousehold answers a household with all its residents, masked.
func (s *Service) GetHousehold(ctx context.Context, p *auth.Principal, ref string) (*Household, error) {
	const op = "masstest.GetHousehold"
	var out *Household
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		h, err := s.readHousehold(ctx, tx, p, ref, op)
		if err != nil {
			return err
		}
		list, err := s.withResidents(ctx, tx, []*hhRow{h}, false)
		if err == nil {
			out = &list[0]
		}
		return err
	})
	return out, errs.Wrap(op, err)
}

// RevealResidentID answers a resident's full ID number to a holder of
// PIIReveal who reads testing over the resident's community, on a
// reason, and audits it.
func (s *Service) RevealResidentID(ctx context.Context, p *auth.Principal, ref string, in RevealInput) (*Revealed, error) {
	const op = "masstest.RevealResidentID"
	if err := auth.Require(p, auth.TestingRead, op); err != nil {
		return nil, err
	}
	if err := auth.Require(p, auth.PIIReveal, op); err != nil {
		return nil, err
	}
	id, err := parseRef(ref, errNoResident)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	reason := strings.TrimSpace(in.Reason)
	if msg := errs.CheckLine(reason, MaxRevealReasonLen, true); msg != "" {
		return nil, errs.Fields("reason_required", "查看完整身份证号须填写事由", errs.FieldError{Field: "reason", Message: msg})
	}
	var out *Revealed
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		r, err := loadResidentPlace(ctx, tx, id)
		if err != nil {
			return err
		}
		if !p.Covers(auth.TestingRead, r.areaPath) || !p.Covers(auth.PIIReveal, r.areaPath) {
			return errNoResident()
		}
		full, err := s.box.Open(r.idEnc)
		if err != nil {
			return err
		}
		out = &Revealed{ID: r.id, IDNumber: full}
		return s.audit(ctx, tx, p, "testing.resident.reveal", "testing_resident", r.id, r.communityCode,
			fmt.Sprintf("查看居民 %s 的身份证号 %s，事由：%s", r.nameMasked, pii.MaskID(full), clip(reason, 80)))
	})
	return out, errs.Wrap(op, err)
}

// clip cuts s to n runes.
func clip(s string, n int) string {
	if rs := []rune(s); len(rs) > n {
		return string(rs[:n]) + "…"
	}
	return s
}

// HouseholdCodes answers the signed resident codes of a household and of
// each resident in the population.
func (s *Service) HouseholdCodes(ctx context.Context, p *auth.Principal, ref string) (*HouseholdCodes, error) {
	const op = "masstest.HouseholdCodes"
	var list []Household
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		h, err := s.readHousehold(ctx, tx, p, ref, op)
		if err != nil {
			return err
		}
		list, err = s.withResidents(ctx, tx, []*hhRow{h}, true)
		return err
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	out, err := s.sign(ctx, list)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return &out[0], nil
}

// sign makes the codes of households: one for each household, one for
// each of its residents.
func (s *Service) sign(ctx context.Context, list []Household) ([]HouseholdCodes, error) {
	if s.codes == nil {
		return nil, errs.E(errs.Unavailable, "codes_unavailable", "居民码签发服务未启用")
	}
	iat := s.clock.Now().Unix()
	var claims []passtoken.ResidentClaims
	for _, h := range list {
		c := passtoken.ResidentClaims{RID: h.Code, HH: h.Code, Area: h.CommunityCode,
			Building: BuildingKey(h.CommunityCode, h.Estate, h.Building), IAT: iat}
		if len(h.Residents) > 0 {
			c.Name = h.Residents[0].Name
		}
		claims = append(claims, c)
		for _, r := range h.Residents {
			c.RID, c.Name = r.Code, r.Name
			claims = append(claims, c)
		}
	}
	tokens, err := s.codes.SignResidents(ctx, claims)
	if err != nil {
		return nil, err
	}
	out := make([]HouseholdCodes, len(list))
	i := 0
	for k, h := range list {
		out[k] = HouseholdCodes{HouseholdID: h.ID, Address: placeText(h.Estate, h.Building, h.Unit, h.Room), Household: tokens[i],
			Residents: []ResidentCode{}}
		i++
		for _, r := range h.Residents {
			out[k].Residents = append(out[k].Residents, ResidentCode{ID: r.ID, Name: r.Name, Token: tokens[i]})
			i++
		}
	}
	return out, nil
}

// MaxBuildingHouseholds bounds the households of one QR sheet.
const MaxBuildingHouseholds = 1000

// BuildingCodes answers the codes of every household of a building (of
// a community p reads testing over), for printing; the households come
// back too, for the cards' addresses.
func (s *Service) BuildingCodes(ctx context.Context, p *auth.Principal, community, estate, building string) ([]Household, []HouseholdCodes, error) {
	const op = "masstest.BuildingCodes"
	if err := auth.Require(p, auth.TestingRead, op); err != nil {
		return nil, nil, err
	}
	a, err := s.areas.Resolve(ctx, community, "community")
	if err != nil {
		return nil, nil, errs.Wrap(op, err)
	}
	if !p.Covers(auth.TestingRead, a.Path) {
		return nil, nil, errs.Wrap(op, errHouseholdNotFound())
	}
	var list []Household
	err = s.db.Read(ctx, func(tx *db.Tx) error {
		hs, err := buildingHouseholds(ctx, tx, a.Code, strings.TrimSpace(estate), strings.TrimSpace(building), MaxBuildingHouseholds)
		if err != nil {
			return err
		}
		list, err = s.withResidents(ctx, tx, hs, true)
		return err
	})
	if err != nil || len(list) == 0 {
		return list, nil, errs.Wrap(op, err)
	}
	codes, err := s.sign(ctx, list)
	return list, codes, errs.Wrap(op, err)
}
