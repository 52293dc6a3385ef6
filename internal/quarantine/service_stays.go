package quarantine

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/errs"
)

// Stays read one by one and in lists, their tests, and the rules.

// GetStay answers a stay with its tests, checks and rooms, masked.
func (s *Service) GetStay(ctx context.Context, p *auth.Principal, ref string) (*Stay, error) {
	const op = "quarantine.GetStay"
	var out *Stay
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		st, err := s.readStay(ctx, tx, p, ref, op)
		if err != nil {
			return err
		}
		if err := s.mask(st); err != nil {
			return err
		}
		if st.Tests, err = stayTests(ctx, tx, st.ID); err != nil {
			return err
		}
		checks, err := stayChecks(ctx, tx, st.ID)
		if err != nil {
			return err
		}
		for _, c := range checks {
			st.Checks = append(st.Checks, c.Check)
		}
		pls, err := stayPlacements(ctx, tx, st.ID)
		for _, pl := range pls {
			x := Placed{Site: pl.site, Room: pl.room, From: fromMS(pl.from)}
			if pl.to != nil {
				t := fromMS(*pl.to)
				x.To = &t
			}
			if pl.endKind != nil {
				x.EndKind = *pl.endKind
			}
			st.Placements = append(st.Placements, x)
		}
		out = st
		return err
	})
	return out, errs.Wrap(op, err)
}

// ListStays answers the stays p reads quarantine over, newest first, at
// most MaxListed: of a kind, under an area, at a site, only those not
// ended.
func (s *Service) ListStays(ctx context.Context, p *auth.Principal, f StayFilter) ([]*Stay, error) {
	const op = "quarantine.ListStays"
	if err := auth.Require(p, auth.QuarantineRead, op); err != nil {
		return nil, err
	}
	a, err := s.areaIn(ctx, p, f.Area)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	top := ""
	if a != nil {
		top = a.Path
	}
	var args db.Args
	where := scope(&args, p, auth.QuarantineRead, "st.area_path", top)
	if f.Kind != "" {
		where += " AND st.kind = " + args.Add(string(f.Kind))
	}
	if f.Site > 0 {
		where += " AND st.site_id = " + args.Add(f.Site)
	}
	if f.Active {
		where += " AND st.ended_at IS NULL"
	}
	var out []*Stay
	err = s.db.Read(ctx, func(tx *db.Tx) error {
		var err error
		if out, err = listStays(ctx, tx, where, args); err != nil {
			return err
		}
		for _, st := range out {
			if err := s.mask(st); err != nil {
				return err
			}
		}
		return nil
	})
	return out, errs.Wrap(op, err)
}

// RecordTest records the result of a stay's test on a day of the stay
// (empty: today); a later record of the same day replaces it.
func (s *Service) RecordTest(ctx context.Context, p *auth.Principal, ref string, in TestInput) (*Stay, error) {
	const op = "quarantine.RecordTest"
	if err := auth.Require(p, auth.QuarantineRead, op); err != nil {
		return nil, err
	}
	if _, ok := ResultNames[in.Result]; !ok {
		return nil, errs.Wrap(op, errs.Fields("invalid_result", "结果应为 阴性、阳性 或 待出结果",
			errs.FieldError{Field: "result", Message: "结果不正确"}))
	}
	if err := checkNote(&in.Note, false); err != nil {
		return nil, errs.Wrap(op, err)
	}
	day, err := s.parseDay(in.Day)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return s.onStay(ctx, p, ref, op, func(tx *db.Tx, st *Stay) error {
		if err := inStay(st, day, s.clock.Now()); err != nil {
			return err
		}
		d := day.Format(time.DateOnly)
		if err := upsertTest(ctx, tx, st.ID, d, in, p.Actor()); err != nil {
			return err
		}
		return s.audit(ctx, tx, p, "quarantine.test", "quarantine_stay", st.ID, st.AreaCode,
			fmt.Sprintf("%s %s 检测结果：%s", st.Name, d, ResultNames[in.Result]))
	})
}

// inStay refuses a day outside the stay (before its first day, after its
// end, after today).
func inStay(st *Stay, day, now time.Time) error {
	last := now
	if st.EndedAt != nil {
		last = *st.EndedAt
	}
	if dayNo(st.StartsAt, day) < 1 || day.After(last) {
		return errs.Fields("day_outside_stay", fmt.Sprintf("%s 不在隔离期内（%s 起）", day.Format(time.DateOnly), dayOf(st.StartsAt)),
			errs.FieldError{Field: "day", Message: "不在隔离期内"})
	}
	return nil
}

// Rules answers the rules by category, in display order.
func (s *Service) Rules(ctx context.Context, p *auth.Principal) ([]*Rule, error) {
	const op = "quarantine.Rules"
	if err := auth.Require(p, auth.QuarantineRead, op); err != nil {
		return nil, err
	}
	var out []*Rule
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		m, err := loadRules(ctx, tx)
		for _, c := range Categories {
			if r := m[c]; r != nil {
				out = append(out, r)
			}
		}
		return err
	})
	return out, errs.Wrap(op, err)
}

// SetRule changes a category's rule; p holds quarantine.central over the
// whole of a top-level area (the rules are the city's). Stays already
// begun keep their planned release.
func (s *Service) SetRule(ctx context.Context, p *auth.Principal, category string, in RuleInput) (*Rule, error) {
	const op = "quarantine.SetRule"
	if err := auth.Require(p, auth.QuarantineCentral, op); err != nil {
		return nil, err
	}
	if !citywide(p, auth.QuarantineCentral) {
		return nil, errs.E(errs.Forbidden, "rules_citywide", "隔离天数规则为全市统一，须由全市范围的集中隔离管控人员修改")
	}
	c := Category(category)
	if !c.valid() {
		return nil, errs.Wrap(op, errs.E(errs.NotFound, "rule_not_found", "没有该类别的规则"))
	}
	if err := checkRule(&in); err != nil {
		return nil, errs.Wrap(op, err)
	}
	var out *Rule
	err := s.db.Write(ctx, func(tx *db.Tx) error {
		old, err := loadRules(ctx, tx)
		if err != nil {
			return err
		}
		if err := saveRule(ctx, tx, c, in, p.Actor()); err != nil {
			return err
		}
		m, err := loadRules(ctx, tx)
		if err != nil {
			return err
		}
		out = m[c]
		o := old[c]
		return s.audit(ctx, tx, p, "quarantine.rule.set", "quarantine_rule", 0, "",
			fmt.Sprintf("%s：集中隔离 %d→%d 天，居家隔离 %d→%d 天，居家检测第 %s 天", CategoryNames[c], o.CentralDays, in.CentralDays,
				o.HomeDays, in.HomeDays, formatDays(in.HomeTestDays)))
	})
	return out, errs.Wrap(op, err)
}

// citywide reports whether p holds perm over a whole top-level area.
func citywide(p *auth.Principal, perm auth.Permission) bool {
	paths, all := p.AreaPaths(perm)
	if all {
		return true
	}
	for _, path := range paths {
		if strings.Count(path, "/") == 2 { // "/430200/"
			return true
		}
	}
	return false
}

// checkRule validates a rule: days 1 to MaxDays, test days within the
// home stay, in order, once each.
func checkRule(in *RuleInput) error {
	var fe []errs.FieldError
	if in.CentralDays < 1 || in.CentralDays > MaxDays {
		fe = append(fe, errs.FieldError{Field: "central_days", Message: fmt.Sprintf("应在 1 到 %d 之间", MaxDays)})
	}
	if in.HomeDays < 1 || in.HomeDays > MaxDays {
		fe = append(fe, errs.FieldError{Field: "home_days", Message: fmt.Sprintf("应在 1 到 %d 之间", MaxDays)})
	}
	days := slices.Clone(in.HomeTestDays)
	slices.Sort(days)
	days = slices.Compact(days)
	for _, d := range days {
		if d < 1 || d > in.HomeDays {
			fe = append(fe, errs.FieldError{Field: "home_test_days", Message: fmt.Sprintf("检测日应在第 1 到第 %d 天之间", in.HomeDays)})
			break
		}
	}
	if len(fe) > 0 {
		return errs.Fields("invalid_rule", "隔离天数规则有误", fe...)
	}
	in.HomeTestDays = days
	return nil
}
