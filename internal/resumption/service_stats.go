package resumption

import (
	"context"
	"slices"
	"strings"

	"tongxin/internal/area"
	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/errs"
)

// Stats returns the resumption figures of the queried areas (or of the
// caller's whole reach) as of q.At.
func (s *Service) Stats(ctx context.Context, p *auth.Principal, q StatsQuery) (*Stats, error) {
	const op = "resumption.Stats"
	var out *Stats
	err := s.db.Read(ctx, func(tx *db.Tx) (err error) {
		out, _, err = s.statsIn(ctx, tx, p, q, op)
		return err
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return out, nil
}

// statsIn computes Stats inside tx and returns the resolved scope too.
func (s *Service) statsIn(ctx context.Context, tx *db.Tx, p *auth.Principal, q StatsQuery, op string) (*Stats, *statsScope, error) {
	m, err := s.momentFor(q)
	if err != nil {
		return nil, nil, err
	}
	sc, err := resolveScope(ctx, tx, p, q.Areas, op)
	if err != nil {
		return nil, nil, err
	}
	t, err := s.tallyIn(ctx, tx, sc, m)
	if err != nil {
		return nil, nil, err
	}
	power, err := loadPower(ctx, tx, sc.powerAll, sc.powerPaths, m)
	if err != nil {
		return nil, nil, err
	}
	return t.stats(m, sc.codes(), power), sc, nil
}

// tallyIn counts the units of sc as of m: from the per-day figures where
// they answer exactly, else unit by unit.
func (s *Service) tallyIn(ctx context.Context, tx *db.Tx, sc *statsScope, m moment) (tally, error) {
	fast, err := s.dayPathOK(ctx, tx, sc, m)
	if err != nil {
		return tally{}, err
	}
	if fast {
		return dayStatsIn(ctx, tx, sc, m)
	}
	units, err := loadUnits(ctx, tx, sc, m, false)
	if err != nil {
		return tally{}, err
	}
	var t tally
	for i := range units {
		t.add(&units[i])
	}
	return t, nil
}

// Breakdown returns the figures of the queried areas per district or per
// street, ordered by code. A queried area below the level stands for
// itself. Its reads do not grow with the number of areas: the scope's
// areas, units, categories and reports as Stats reads them, the areas of
// the level, the areas of units outside them, and every power baseline
// with its latest reading, each once.
func (s *Service) Breakdown(ctx context.Context, p *auth.Principal, q StatsQuery, level string) ([]AreaStats, error) {
	const op = "resumption.Breakdown"
	depth, err := levelDepth(level)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	m, err := s.momentFor(q)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	var out []AreaStats
	err = s.db.Read(ctx, func(tx *db.Tx) error {
		sc, err := resolveScope(ctx, tx, p, q.Areas, op)
		if err != nil {
			return err
		}
		fast, err := s.dayPathOK(ctx, tx, sc, m)
		if err != nil {
			return err
		}
		var tallies []tally
		var rows []areaRef
		if fast {
			rows, tallies, err = dayBreakdown(ctx, tx, sc, m, level, depth)
		} else {
			rows, tallies, err = unitBreakdown(ctx, tx, sc, m, level, depth)
		}
		if err != nil {
			return err
		}
		power, err := latestReadings(ctx, tx, m)
		if err != nil {
			return err
		}
		out = breakdownStats(rows, tallies, power, m)
		return nil
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return out, nil
}

// levelDepth is the depth below the city of a breakdown level.
func levelDepth(level string) (int, error) {
	switch level {
	case LevelDistrict:
		return 1, nil
	case LevelStreet:
		return 2, nil
	}
	return 0, errs.E(errs.Invalid, "bad_level", "level 须为 district（区县）或 street（街道）")
}

// breakdownRows are the rows of a breakdown, by code: the areas of the
// level inside the scope, the queried areas below the level themselves,
// and for units outside every such row (contacts, liaisons) their area at
// the level.
func breakdownRows(ctx context.Context, tx *db.Tx, sc *statsScope, units []unitRow, level string, depth int) ([]areaRef, error) {
	var rows []areaRef
	seen := map[string]bool{}
	add := func(a areaRef) {
		if !seen[a.Path] {
			seen[a.Path] = true
			rows = append(rows, a)
		}
	}
	levelAreas, err := levelAreasOf(ctx, tx, sc, level)
	if err != nil {
		return nil, err
	}
	for _, a := range levelAreas {
		add(a)
	}
	for _, a := range sc.areas {
		if len(area.CodesOf(a.Path)) > depth+1 {
			add(a)
		}
	}
	var outside []string
	for _, u := range units {
		codes := area.CodesOf(u.areaPath)
		if len(codes) > depth && rowOf(rows, u.areaPath) < 0 && !slices.Contains(outside, codes[depth]) {
			outside = append(outside, codes[depth])
		}
	}
	refs, err := areaRefsByCode(ctx, tx, outside)
	if err != nil {
		return nil, err
	}
	for _, code := range outside {
		a, ok := refs[code]
		if !ok {
			return nil, errAreaNotFound()
		}
		add(a)
	}
	slices.SortFunc(rows, func(x, y areaRef) int { return strings.Compare(x.Code, y.Code) })
	return rows, nil
}

// levelAreasOf reads the areas of level inside the scope's areas, or
// inside the caller's reach when no area was asked for.
func levelAreasOf(ctx context.Context, tx *db.Tx, sc *statsScope, level string) ([]areaRef, error) {
	var args db.Args
	cond := "level = " + args.Add(level)
	paths := sc.filter
	if paths == nil {
		paths = sc.powerPaths // the caller's reach
	}
	switch {
	case sc.filter == nil && sc.vis.all:
		return queryAreaRefs(ctx, tx, cond, args.List...)
	case len(paths) > 0:
		cond += " AND " + pathsWhere("path", paths, &args)
		return queryAreaRefs(ctx, tx, cond, args.List...)
	}
	return nil, nil
}

// unitBreakdown is the rows of a breakdown and their tallies, counted unit
// by unit with each unit's latest report.
func unitBreakdown(ctx context.Context, tx *db.Tx, sc *statsScope, m moment, level string, depth int) ([]areaRef, []tally, error) {
	units, err := loadUnits(ctx, tx, sc, m, false)
	if err != nil {
		return nil, nil, err
	}
	rows, err := breakdownRows(ctx, tx, sc, units, level, depth)
	if err != nil {
		return nil, nil, err
	}
	tallies := make([]tally, len(rows))
	for i := range units {
		if r := rowOf(rows, units[i].areaPath); r >= 0 {
			tallies[r].add(&units[i])
		}
	}
	return rows, tallies, nil
}

// dayBreakdown is unitBreakdown from the per-day figures, summed by area
// and signature.
func dayBreakdown(ctx context.Context, tx *db.Tx, sc *statsScope, m moment, level string, depth int) ([]areaRef, []tally, error) {
	sums, err := readDaySums(ctx, tx, sc, "", m.date, true)
	if err != nil {
		return nil, nil, err
	}
	var places []unitRow
	for _, x := range sums {
		if x.fig[6] > 0 {
			places = append(places, unitRow{areaPath: x.area})
		}
	}
	rows, err := breakdownRows(ctx, tx, sc, places, level, depth)
	if err != nil {
		return nil, nil, err
	}
	figs := make([]map[uint8]dayFig, len(rows))
	for i := range rows {
		figs[i] = map[uint8]dayFig{}
	}
	for _, x := range sums {
		if r := rowOf(rows, x.area); r >= 0 {
			f := figs[r][x.sig]
			f.add(x.fig, 1)
			figs[r][x.sig] = f
		}
	}
	tallies := make([]tally, len(rows))
	for i := range rows {
		tallies[i] = dayTally(figs[i])
	}
	return rows, tallies, nil
}

// breakdownStats gives each row its tally and the power readings inside
// or above it.
func breakdownStats(rows []areaRef, tallies []tally, power []powerReading, m moment) []AreaStats {
	out := make([]AreaStats, len(rows))
	for i, a := range rows {
		out[i] = AreaStats{Code: a.Code, Name: a.Name, Stats: tallies[i].stats(m, a.Code, powerWithin(power, false, []string{a.Path}))}
	}
	return out
}

// rowOf returns the index of the deepest area of rows containing path, -1
// if none.
func rowOf(rows []areaRef, path string) int {
	best, bestLen := -1, 0
	for i, a := range rows {
		if strings.HasPrefix(path, a.Path) && len(a.Path) > bestLen {
			best, bestLen = i, len(a.Path)
		}
	}
	return best
}

// notResumedIn reads the units of sc with their latest reports as of m,
// names and categories: from resumption_latest only those not resumed,
// when that answers exactly (the per-day figures' conditions, and no
// report dated after m's day), else every unit with its latest report.
func (s *Service) notResumedIn(ctx context.Context, tx *db.Tx, sc *statsScope, m moment) ([]unitRow, error) {
	fast, err := s.dayPathOK(ctx, tx, sc, m)
	if err != nil {
		return nil, err
	}
	if fast {
		last, err := latestReportDate(ctx, tx)
		if err != nil {
			return nil, err
		}
		fast = m.date >= last
	}
	if !fast {
		return loadUnits(ctx, tx, sc, m, true)
	}
	units, err := notResumedUnits(ctx, tx, sc)
	if err != nil {
		return nil, err
	}
	return units, attachCategories(ctx, tx, units)
}

// NotResumed lists the units in scope whose latest report as of q.At says
// suspended, or that have no report at all, ordered by area and key.
func (s *Service) NotResumed(ctx context.Context, p *auth.Principal, q StatsQuery) ([]Unit, error) {
	const op = "resumption.NotResumed"
	m, err := s.momentFor(q)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	out := []Unit{}
	err = s.db.Read(ctx, func(tx *db.Tx) error {
		sc, err := resolveScope(ctx, tx, p, q.Areas, op)
		if err != nil {
			return err
		}
		units, err := s.notResumedIn(ctx, tx, sc, m)
		if err != nil {
			return err
		}
		for i := range units {
			u := &units[i]
			if u.working() {
				continue
			}
			x := Unit{Key: u.key, Name: u.name, Kind: u.kind, AreaCode: u.areaCode, AreaName: u.areaName,
				Categories: u.categories(), Reason: ReasonNotReported}
			if u.has {
				x.Reason, x.LastDate, x.Status, x.Note = ReasonSuspended, u.date, u.status, u.note
			}
			out = append(out, x)
		}
		return nil
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	slices.SortFunc(out, func(a, b Unit) int {
		if c := strings.Compare(a.AreaCode, b.AreaCode); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	return out, nil
}
