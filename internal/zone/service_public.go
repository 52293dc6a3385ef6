package zone

import (
	"context"
	"slices"
	"strings"
	"time"

	"tongxin/internal/area"
	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/zonerule"
)

// Public answers the zones in force at at (nil: now) for everyone, without
// an account: by district, strictest first, each with its level, what it
// covers and since when; nothing about who decided or why.
func (s *Service) Public(ctx context.Context, at *time.Time) (*PublicList, error) {
	const op = "zone.Public"
	t := s.clock.Now()
	if at != nil {
		t = *at
	}
	out := &PublicList{At: t, Districts: []PublicDistrict{}}
	var zones []*Zone
	names := map[string]string{}
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		var a db.Args
		var err error
		zones, err = queryZones(ctx, tx, inForceSQL(a.Add(t.UnixMilli())), a.List, "z.area_path, z.estate, z.building, z.id LIMIT 5000", t)
		if err != nil {
			return err
		}
		for _, z := range zones {
			code := districtOf(z.AreaPath)
			if _, ok := names[code]; !ok {
				if _, names[code], err = areaPathOf(ctx, tx, code); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	byCode := map[string]int{}
	for _, z := range zones {
		code := districtOf(z.AreaPath)
		i, ok := byCode[code]
		if !ok {
			i = len(out.Districts)
			byCode[code] = i
			out.Districts = append(out.Districts, PublicDistrict{Code: code, Name: names[code]})
		}
		out.Districts[i].Zones = append(out.Districts[i].Zones, PublicZone{ID: z.ID, Level: z.Level, LevelName: z.LevelName,
			Target: z.Target, Since: z.EffectiveFrom, PlannedEnd: z.PlannedEnd})
	}
	slices.SortFunc(out.Districts, func(a, b PublicDistrict) int { return strings.Compare(a.Code, b.Code) })
	for i := range out.Districts {
		slices.SortStableFunc(out.Districts[i].Zones, func(a, b PublicZone) int {
			switch {
			case a.Level.Stricter(b.Level):
				return -1
			case b.Level.Stricter(a.Level):
				return 1
			}
			return 0
		})
	}
	return out, nil
}

// districtOf is the district of an area path (the city for the city).
func districtOf(path string) string {
	codes := area.CodesOf(path)
	switch len(codes) {
	case 0:
		return ""
	case 1:
		return codes[0]
	}
	return codes[1]
}

// Figures answers the zones' figures for the daily report of an area on
// a day (YYYY-MM-DD, Asia/Shanghai), as of the day's end (now, today):
// zones in force over or inside the area by level, the buildings and
// communities they cover, the zones decided and lifted that day, the
// proposals pending and the exit permits in force. p must read zones over
// the area.
func (s *Service) Figures(ctx context.Context, p *auth.Principal, day string, areaCode string) (*Figures, error) {
	const op = "zone.Figures"
	if err := auth.Require(p, auth.ZoneRead, op); err != nil {
		return nil, err
	}
	start, err := clock.ParseDay(day)
	if err != nil {
		return nil, err
	}
	a, err := s.areas.Readable(ctx, p, auth.ZoneRead, areaCode)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	end := start.AddDate(0, 0, 1)
	at := end.Add(-time.Millisecond)
	if now := s.clock.Now(); now.Before(at) {
		at = now
	}
	out := &Figures{Day: start.Format(time.DateOnly), AreaCode: a.Code, AreaName: a.Name, At: at,
		InForce: map[string]int{}, Buildings: map[string]int{}, Communities: map[string]int{}}
	for _, l := range zonerule.Levels {
		out.InForce[string(l)], out.Buildings[string(l)], out.Communities[string(l)] = 0, 0, 0
	}
	err = s.db.Read(ctx, func(tx *db.Tx) error {
		if err := figuresInForce(ctx, tx, a.Path, at, out); err != nil {
			return err
		}
		var err error
		if out.Decided, out.Lifted, err = dayCounts(ctx, tx, a.Path, start, end); err != nil {
			return err
		}
		if out.Pending, err = pendingCount(ctx, tx, a.Path); err != nil {
			return err
		}
		out.Permits, err = permitsInForce(ctx, tx, a.Path, at)
		return err
	})
	return out, errs.Wrap(op, err)
}

// figuresInForce counts the zones in force at at over the area at path
// (inside it, or above it: a city-wide zone covers the area's
// communities), with the buildings and communities of the area they
// cover.
func figuresInForce(ctx context.Context, tx *db.Tx, path string, at time.Time, out *Figures) error {
	var a db.Args
	zones, err := queryZones(ctx, tx, inForceSQL(a.Add(at.UnixMilli()))+" AND "+pathsWhere(&a, "z.area_path", []string{path}, false),
		a.List, "z.id", at)
	if err != nil {
		return err
	}
	for _, z := range zones {
		l := string(z.Level)
		out.InForce[l]++
		if z.Kind != OverArea {
			out.Buildings[l] += len(z.Buildings)
			continue
		}
		deeper := z.AreaPath
		if strings.HasPrefix(path, z.AreaPath) {
			deeper = path // a zone above the area covers the area's communities
		}
		under, err := communitiesUnder(ctx, tx, []string{deeper})
		if err != nil {
			return err
		}
		out.Communities[l] += len(under[deeper])
	}
	return nil
}
