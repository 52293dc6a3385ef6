package masstest

import (
	"context"
	"strings"

	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/pii"
)

// coverageArea resolves the area a round's figures are asked for: code,
// or by default the campaign's area if p reads it, else the first area
// of p's inside the round. p must read testing there and the area must
// meet the round's.
func (s *Service) coverageArea(ctx context.Context, tx *db.Tx, p *auth.Principal, r *Round, code string) (AreaRef, error) {
	code = strings.TrimSpace(code)
	if code == "" {
		code = s.defaultArea(p, r)
	}
	a, err := s.areas.Resolve(ctx, code, "area")
	if err != nil {
		return AreaRef{}, err
	}
	ref := AreaRef{Code: a.Code, Name: a.Name, Path: a.Path}
	if !p.Covers(auth.TestingRead, a.Path) || !overlaps(r, []string{a.Path}) {
		return AreaRef{}, errs.Fields("area_not_found", "区划 "+a.Code+" 不在您的查看范围或本轮范围内",
			errs.FieldError{Field: "area", Message: "不在范围内"})
	}
	return ref, nil
}

// roundArea reads round ref and resolves the area its figures are asked
// for (coverageArea), in tx.
func (s *Service) roundArea(ctx context.Context, tx *db.Tx, p *auth.Principal, roundRef, areaCode, op string) (*Round, AreaRef, error) {
	r, err := s.readRound(ctx, tx, p, roundRef, op)
	if err != nil {
		return nil, AreaRef{}, err
	}
	a, err := s.coverageArea(ctx, tx, p, r, areaCode)
	return r, a, err
}

// defaultArea is the code of the widest area of the round p reads.
func (s *Service) defaultArea(p *auth.Principal, r *Round) string {
	paths, all := p.AreaPaths(auth.TestingRead)
	for _, a := range r.Areas {
		if all || p.Covers(auth.TestingRead, a.Path) {
			return a.Code
		}
	}
	for _, mine := range paths {
		if inRound(r, mine) {
			return codeOf(mine)
		}
	}
	return r.Areas[0].Code
}

// codeOf is the last code of an area path.
func codeOf(path string) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	return parts[len(parts)-1]
}

// Coverage answers a round's coverage of an area and of each of its
// children: areas one level down, or below a community its buildings.
func (s *Service) Coverage(ctx context.Context, p *auth.Principal, roundRef, areaCode string) (*Coverage, error) {
	const op = "masstest.Coverage"
	var out *Coverage
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		r, a, err := s.roundArea(ctx, tx, p, roundRef, areaCode, op)
		if err != nil {
			return err
		}
		rows, err := tallyRows(ctx, tx, r.ID, a.Path)
		if err == nil && len(rows) == 1 && rows[0].areaPath == a.Path {
			// A community: its buildings.
			rows, err = buildingRows(ctx, tx, r.ID, a.Path)
		}
		if err != nil {
			return err
		}
		out = &Coverage{Round: briefOf(r), Area: a, AsOf: tx.Now, Children: []CoverRow{}}
		out.Children = childrenOf(a.Path, rows, &out.Cover)
		return nil
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	if err := s.nameChildren(ctx, out.Children); err != nil {
		return nil, errs.Wrap(op, err)
	}
	return out, nil
}

// childrenOf adds rows into total and groups them by child of the area
// at path: a community's buildings (rows of buildings), or the next
// level's areas (rows of communities).
func childrenOf(path string, rows []tallyRow, total *Cover) []CoverRow {
	var out []CoverRow
	index := map[string]int{}
	for i := range rows {
		t := &rows[i]
		total.add(t)
		key, row := "", CoverRow{}
		if t.areaPath == path {
			key = t.estate + "\x00" + t.building
			row = CoverRow{Kind: "building", Name: t.estate + " " + t.building, Estate: t.estate, Building: t.building}
		} else {
			code := strings.SplitN(strings.TrimPrefix(t.areaPath, path), "/", 2)[0]
			key, row = code, CoverRow{Kind: "area", Code: code, Name: code}
		}
		n, ok := index[key]
		if !ok {
			n = len(out)
			index[key] = n
			out = append(out, row)
		}
		out[n].add(t)
	}
	total.finish()
	for i := range out {
		out[i].finish()
	}
	if out == nil {
		out = []CoverRow{}
	}
	return out
}

// nameChildren puts the areas' names on rows of kind area.
func (s *Service) nameChildren(ctx context.Context, rows []CoverRow) error {
	var codes []string
	for _, r := range rows {
		if r.Kind == "area" {
			codes = append(codes, r.Code)
		}
	}
	if len(codes) == 0 {
		return nil
	}
	names, err := s.areas.Names(ctx, codes)
	if err != nil {
		return err
	}
	for i := range rows {
		if n := names[rows[i].Code]; rows[i].Kind == "area" && n != "" {
			rows[i].Name = n
		}
	}
	return nil
}

// MissedQuery asks for a page of a round's missed list.
type MissedQuery struct {
	Area    string
	Page    int // from 1
	PerPage int
}

// Missed lists a round's residents under an area neither sampled nor
// exempt, by community, estate, building, unit and room, masked.
func (s *Service) Missed(ctx context.Context, p *auth.Principal, roundRef string, q MissedQuery) (*MissedList, error) {
	const op = "masstest.Missed"
	var out *MissedList
	var rows []missedRow
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		r, a, err := s.roundArea(ctx, tx, p, roundRef, q.Area, op)
		if err != nil {
			return err
		}
		tally, err := tallyRows(ctx, tx, r.ID, a.Path)
		if err != nil {
			return err
		}
		var c Cover
		for i := range tally {
			c.add(&tally[i])
		}
		c.finish()
		out = &MissedList{Round: briefOf(r), Area: a, Households: c.Households.Missed, Persons: c.Persons.Missed,
			Page: q.Page, PerPage: q.PerPage}
		rows, err = missedPage(ctx, tx, r.ID, communitiesOf(tally), q.PerPage, (q.Page-1)*q.PerPage)
		return err
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	if out.Items, err = s.unseal(rows); err != nil {
		return nil, errs.Wrap(op, err)
	}
	return out, nil
}

func roundPaths(r *Round) []string {
	out := make([]string, len(r.Areas))
	for i, a := range r.Areas {
		out[i] = a.Path
	}
	return out
}

// unseal masks the ID numbers and phones of rows.
func (s *Service) unseal(rows []missedRow) ([]MissedPerson, error) {
	out := make([]MissedPerson, len(rows))
	for i, m := range rows {
		out[i] = m.p
		id, err := s.box.Open(m.idEnc)
		if err != nil {
			return nil, err
		}
		out[i].IDNumber = pii.MaskID(id)
		if len(m.phoneEnc) > 0 {
			phone, err := s.box.Open(m.phoneEnc)
			if err != nil {
				return nil, err
			}
			out[i].Phone = pii.MaskPhone(phone)
		}
	}
	return out, nil
}

// Compare lists, under an area both rounds cover, who one round covered
// (sampled or exempt) and the other missed, each way.
func (s *Service) Compare(ctx context.Context, p *auth.Principal, roundRef, withRef, areaCode string) (*Comparison, error) {
	const op = "masstest.Compare"
	var out *Comparison
	var here, there []missedRow
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		r, err := s.readRound(ctx, tx, p, roundRef, op)
		if err != nil {
			return err
		}
		w, err := s.readRound(ctx, tx, p, withRef, op)
		if errs.Is(err, errs.NotFound) {
			return errs.Fields("round_not_found", "对比的轮次不存在", errs.FieldError{Field: "with", Message: "轮次不存在"})
		}
		if err != nil {
			return err
		}
		a, err := s.coverageArea(ctx, tx, p, r, areaCode)
		if err != nil {
			return err
		}
		both := common(roundPaths(r), roundPaths(w))
		out = &Comparison{Round: briefOf(r), With: briefOf(w), Area: a}
		if len(both) == 0 {
			return nil
		}
		if here, out.MissedHereTotal, err = comparePage(ctx, tx, w.ID, r.ID, both, a.Path, MaxCompared); err != nil {
			return err
		}
		there, out.MissedThereTotal, err = comparePage(ctx, tx, r.ID, w.ID, both, a.Path, MaxCompared)
		return err
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	if out.MissedHere, err = s.unseal(here); err != nil {
		return nil, errs.Wrap(op, err)
	}
	if out.MissedThere, err = s.unseal(there); err != nil {
		return nil, errs.Wrap(op, err)
	}
	return out, nil
}

// common is the areas two lists of subtrees share: of two nested areas,
// the inner one.
func common(a, b []string) []string {
	var out []string
	for _, x := range a {
		for _, y := range b {
			switch {
			case within(x, y):
				out = append(out, x)
			case within(y, x):
				out = append(out, y)
			}
		}
	}
	return out
}
