package resumption

import (
	"context"
	"net/url"

	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/web"
)

// reportsOwn reports whether p files reports for enterprises of their own
// (an enterprise contact or a liaison) rather than for an area.
func reportsOwn(p *auth.Principal) bool {
	return p.HasRole(auth.EnterpriseContact) || p.HasRole(auth.Liaison)
}

// MissingToday lists the keys of the enterprises p reports for as their
// contact or liaison that have no report dated today (Asia/Shanghai):
// one query, an index probe of resumption_reports_latest per enterprise.
func (s *Service) MissingToday(ctx context.Context, p *auth.Principal) ([]string, error) {
	const op = "resumption.MissingToday"
	if !reportsOwn(p) {
		return nil, nil
	}
	v := visibility{keys: p.Refs(auth.EnterpriseContact)}
	if p.HasRole(auth.Liaison) {
		v.liaisonID = p.UserID
	}
	var keys []string
	err := s.db.Read(ctx, func(tx *db.Tx) (err error) {
		keys, err = keysWithoutReport(ctx, tx, v, s.clock.Now().In(clock.Shanghai).Format(DateLayout))
		return err
	})
	return keys, errs.Wrap(op, err)
}

// HomeWork is the module's home-page work: today's reports not yet filed,
// for contacts and liaisons (linked to the one report form, or to their
// list when several are missing), and the headline rate for the HQ.
func HomeWork(svc *Service) []web.Work {
	return []web.Work{
		{Show: reportsOwn, Figures: func(ctx context.Context, p *auth.Principal) ([]web.Figure, error) {
			keys, err := svc.MissingToday(ctx, p)
			if err != nil {
				return nil, err
			}
			path := "/enterprises"
			if len(keys) == 1 {
				path = "/enterprises/" + url.PathEscape(keys[0]) + "/report"
			}
			return []web.Figure{{Key: "res.work.missing_today", Value: len(keys), Path: path, Alert: true}}, nil
		}},
		{Show: isHQ, Figures: func(ctx context.Context, p *auth.Principal) ([]web.Figure, error) {
			st, err := svc.Stats(ctx, p, StatsQuery{})
			if err != nil {
				return nil, err
			}
			g := st.Group(string(IndustrialAboveScale))
			f := web.Figure{Key: "res.work.rate", Value: g.Resumed, Text: "—", Path: "/resumption"}
			if g.Total > 0 {
				f.Text = pagePct(g.Rate)
			}
			return []web.Figure{f}, nil
		}},
	}
}

// isHQ reports whether p works at the headquarters, whose home page shows
// the city's headline figures.
func isHQ(p *auth.Principal) bool {
	return (p.HasRole(auth.HQCommander) || p.HasRole(auth.HQStaff)) && p.Can(auth.ResumptionRead)
}

// CountIn counts the enterprises and projects registered in the subtree
// at path. A count is no list: the area's page shows it to whoever reads
// the area, and links to the list only for those who may read it (see
// AreaFigures).
func (s *Service) CountIn(ctx context.Context, path string) (int, error) {
	const op = "resumption.CountIn"
	var n int
	err := s.db.Read(ctx, func(tx *db.Tx) (err error) {
		n, err = countUnder(ctx, tx, path)
		return err
	})
	return n, errs.Wrap(op, err)
}

// AreaFigures are the resumption figures of an area's page: the units
// registered there, linked to the enterprise list of the area when p
// reads it.
func AreaFigures(ctx context.Context, svc *Service, p *auth.Principal, code, path string) ([]web.Figure, error) {
	n, err := svc.CountIn(ctx, path)
	if err != nil {
		return nil, err
	}
	f := web.Figure{Key: "res.area.units", Value: n}
	if p.Covers(auth.ResumptionRead, path) {
		f.Path = "/enterprises?" + url.Values{"area": {code}}.Encode()
	}
	return []web.Figure{f}, nil
}
