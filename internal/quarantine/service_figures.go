package quarantine

import (
	"context"
	"time"

	"tongxin/internal/area"
	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/errs"
)

// The two groups' figures for the daily report, one call each, like the
// testing group's (masstest.Service.Figures): an area on a day
// (YYYY-MM-DD, Asia/Shanghai), counted at the day's end, or now when the
// day is today.

// figuresArea reads the day and the area p reads quarantine over.
func (s *Service) figuresArea(ctx context.Context, p *auth.Principal, areaCode, day, op string) (*area.Area, time.Time, error) {
	if err := auth.Require(p, auth.QuarantineRead, op); err != nil {
		return nil, time.Time{}, err
	}
	start, err := clock.ParseDay(day)
	if err != nil {
		return nil, time.Time{}, err
	}
	a, err := s.areas.Readable(ctx, p, auth.QuarantineRead, areaCode)
	if err != nil {
		return nil, time.Time{}, err
	}
	return a, start, nil
}

// CentralFigures answers persons in central quarantine in the area's
// sites, admitted and released during the day, and each site's
// occupancy and free rooms.
func (s *Service) CentralFigures(ctx context.Context, p *auth.Principal, areaCode, day string) (*CentralFigures, error) {
	const op = "quarantine.CentralFigures"
	a, start, err := s.figuresArea(ctx, p, areaCode, day, op)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	from, to := ms(start), ms(start.AddDate(0, 0, 1))
	at := min(to-1, ms(s.clock.Now()))
	out := &CentralFigures{Day: start.Format(time.DateOnly), AreaCode: a.Code, AreaName: a.Name, Sites: []SiteFigures{}}
	err = s.db.Read(ctx, func(tx *db.Tx) error {
		var args db.Args
		args.List = []any{nil}
		where := "s.area_path LIKE " + args.Add(db.LikePrefix(a.Path)) + ` ESCAPE '\'`
		args.List = args.List[1:]
		sites, err := listSites(ctx, tx, at, where, args)
		if err != nil {
			return err
		}
		for _, st := range sites {
			out.Persons += st.Occupied
			out.Sites = append(out.Sites, SiteFigures{ID: st.ID, Name: st.Name, Capacity: st.Capacity, Rooms: st.Rooms,
				Occupied: st.Occupied, FreeRooms: st.FreeRooms})
		}
		out.AdmittedToday, out.ReleasedToday, err = centralMoves(ctx, tx, a.Path, from, min(to, at+1))
		return err
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return out, nil
}

// HomeFigures answers persons at home in the area, started and released
// during the day, the day's checks done and missing, and its tests due
// and done.
func (s *Service) HomeFigures(ctx context.Context, p *auth.Principal, areaCode, day string) (*HomeFigures, error) {
	const op = "quarantine.HomeFigures"
	a, start, err := s.figuresArea(ctx, p, areaCode, day, op)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	from, to := ms(start), ms(start.AddDate(0, 0, 1))
	out := &HomeFigures{Day: start.Format(time.DateOnly), AreaCode: a.Code, AreaName: a.Name}
	days, err := s.homeDays(ctx, a.Path, start)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	out.Persons = len(days)
	for _, h := range days {
		if h.Check != nil && h.Check.Done {
			out.ChecksDone++
		} else {
			out.ChecksMissed++
		}
		if h.TestDue {
			out.TestsDue++
		}
		if h.TestDone {
			out.TestsDone++
		}
	}
	err = s.db.Read(ctx, func(tx *db.Tx) error {
		var err error
		out.StartedToday, out.ReleasedToday, err = homeMoves(ctx, tx, a.Path, from, min(to, ms(s.clock.Now())+1))
		return err
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return out, nil
}
