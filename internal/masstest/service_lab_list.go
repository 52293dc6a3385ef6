package masstest

import (
	"context"
	"strings"

	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/pii"
)

// insideWhere is the condition that col, an area path, lies inside one of
// the areas where p holds perm.
func insideWhere(p *auth.Principal, perm auth.Permission, col string, a *db.Args) string {
	paths, all := p.AreaPaths(perm)
	if all {
		return "1 = 1"
	}
	if len(paths) == 0 {
		return "1 = 0"
	}
	parts := make([]string, len(paths))
	for i, path := range paths {
		parts[i] = col + " LIKE " + a.Add(db.LikePrefix(path)) + ` ESCAPE '\'`
	}
	return "(" + strings.Join(parts, " OR ") + ")"
}

// listWhere reads the filter common to retests and positives: p's reach,
// the round and the area.
func (s *Service) listWhere(ctx context.Context, p *auth.Principal, f *ListFilter, a *db.Args) ([]string, error) {
	if f.Page == 0 {
		f.Page = 1
	}
	if f.PerPage == 0 {
		f.PerPage = DefaultPerPage
	}
	if f.Page < 1 || f.PerPage < 1 || f.PerPage > MaxPerPage {
		return nil, errs.Newf(errs.Invalid, "bad_page", "页码须为正整数，每页 1–%d 条", MaxPerPage)
	}
	where := []string{insideWhere(p, auth.TestingRead, "p.area_path", a)}
	if strings.TrimSpace(f.Round) != "" {
		id, err := parseRef(f.Round, errRoundNotFound)
		if err != nil {
			return nil, err
		}
		where = append(where, "p.round_id = "+a.Add(id))
	}
	if strings.TrimSpace(f.Area) != "" {
		ar, err := s.areas.Resolve(ctx, f.Area, "area")
		if err != nil {
			return nil, err
		}
		if !readsRound(p, &Round{Areas: []AreaRef{{Path: ar.Path}}}) {
			return nil, errs.E(errs.NotFound, "area_not_found", "区划 "+ar.Code+" 不在您的查看范围内")
		}
		where = append(where, "p.area_path LIKE "+a.Add(db.LikePrefix(ar.Path))+` ESCAPE '\'`)
	}
	return where, nil
}

// statusWhere is the condition of a retest status; "" is every status.
func statusWhere(status string) (string, error) {
	switch RetestStatus(strings.TrimSpace(status)) {
	case "":
		return "", nil
	case RetestOpen:
		return "p.status = 'open' AND p.done_at IS NULL", nil
	case RetestResampled:
		return "p.status = 'open' AND p.done_at IS NOT NULL", nil
	case RetestNegative:
		return "p.status = 'negative'", nil
	case RetestPositive:
		return "p.status = 'positive'", nil
	}
	return "", errs.Fields("bad_status", "状态须为 open、negative、positive 或 resampled",
		errs.FieldError{Field: "status", Message: "须为 open、negative、positive 或 resampled"})
}

// mask fills the masked ID number of a listed resident.
func (s *Service) maskID(lp *listedPerson) (string, error) {
	id, err := s.box.Open(lp.IDEnc)
	if err != nil {
		return "", err
	}
	return pii.MaskID(id), nil
}

// Retests lists the retests in the areas where p reads testing, masked,
// sorted by address, a page at a time.
func (s *Service) Retests(ctx context.Context, p *auth.Principal, f ListFilter) (*ListPage[Retest], error) {
	const op = "masstest.Retests"
	if err := auth.Require(p, auth.TestingRead, op); err != nil {
		return nil, err
	}
	var a db.Args
	where, err := s.listWhere(ctx, p, &f, &a)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	sw, err := statusWhere(f.Status)
	if err != nil {
		return nil, err
	}
	if sw != "" {
		where = append(where, sw)
	}
	out := &ListPage[Retest]{Items: []Retest{}, Page: f.Page, PerPage: f.PerPage}
	err = s.db.Read(ctx, func(tx *db.Tx) error {
		rows, total, err := listRetests(ctx, tx, strings.Join(where, " AND "), a.List, f.PerPage, (f.Page-1)*f.PerPage)
		if err != nil {
			return err
		}
		out.Total = total
		for _, r := range rows {
			if r.Retest.IDNumber, err = s.maskID(&r.listedPerson); err != nil {
				return err
			}
			r.Retest.ResidentID, r.Retest.Name, r.Retest.Place, r.Retest.Tube = r.listedPerson.ResidentID,
				r.listedPerson.Name, r.listedPerson.Place, r.listedPerson.Tube
			r.CauseName, r.StatusName = RetestCauseNames[r.Cause], RetestStatusNames[r.Status]
			out.Items = append(out.Items, r.Retest)
		}
		return nil
	})
	return out, errs.Wrap(op, err)
}

// Positives lists the positives in the areas where p reads testing,
// masked, sorted by address, a page at a time (Status is not read).
func (s *Service) Positives(ctx context.Context, p *auth.Principal, f ListFilter) (*ListPage[PositiveCase], error) {
	const op = "masstest.Positives"
	if err := auth.Require(p, auth.TestingRead, op); err != nil {
		return nil, err
	}
	var a db.Args
	where, err := s.listWhere(ctx, p, &f, &a)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	out := &ListPage[PositiveCase]{Items: []PositiveCase{}, Page: f.Page, PerPage: f.PerPage}
	err = s.db.Read(ctx, func(tx *db.Tx) error {
		rows, total, err := listPositives(ctx, tx, strings.Join(where, " AND "), a.List, f.PerPage, (f.Page-1)*f.PerPage)
		if err != nil {
			return err
		}
		out.Total = total
		for _, r := range rows {
			if r.PositiveCase.IDNumber, err = s.maskID(&r.listedPerson); err != nil {
				return err
			}
			r.PositiveCase.ResidentID, r.PositiveCase.Name, r.PositiveCase.Place, r.PositiveCase.Tube = r.listedPerson.ResidentID,
				r.listedPerson.Name, r.listedPerson.Place, r.listedPerson.Tube
			out.Items = append(out.Items, r.PositiveCase)
		}
		return nil
	})
	return out, errs.Wrap(op, err)
}
