package quarantine

import (
	"context"
	"fmt"
	"strings"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/errs"
)

// Central quarantine sites and their rooms; occupancy and free rooms at
// any moment.

// CreateSite registers a site, open, in an area p manages central
// quarantine over.
func (s *Service) CreateSite(ctx context.Context, p *auth.Principal, in SiteInput) (*Site, error) {
	const op = "quarantine.CreateSite"
	if err := auth.Require(p, auth.QuarantineCentral, op); err != nil {
		return nil, err
	}
	in.Name, in.Place = strings.TrimSpace(in.Name), strings.TrimSpace(in.Place)
	if err := checkSite(in); err != nil {
		return nil, errs.Wrap(op, err)
	}
	a, err := s.areas.Resolve(ctx, in.AreaCode, "area_code")
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	if !p.Covers(auth.QuarantineCentral, a.Path) {
		return nil, errs.Wrap(op, errs.Fields("area_not_found", "区划 "+a.Code+" 不在您的管理范围内",
			errs.FieldError{Field: "area_code", Message: "不在管理范围内"}))
	}
	in.AreaCode = a.Code
	var out *Site
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		id, err := insertSite(ctx, tx, in, a.Path, p.Actor())
		if err != nil {
			return err
		}
		if out, err = loadSite(ctx, tx, id, tx.NowMS()); err != nil {
			return err
		}
		return s.audit(ctx, tx, p, "quarantine.site.create", "quarantine_site", id, a.Code,
			fmt.Sprintf("新建集中隔离场所 %s（%s，可容纳 %d 人）", in.Name, a.Name, in.Capacity))
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	out.At = s.clock.Now()
	return out, nil
}

// checkSite validates a site's name, place and capacity.
func checkSite(in SiteInput) error {
	var fe []errs.FieldError
	if msg := errs.CheckLine(in.Name, MaxNameLen, true); msg != "" {
		fe = append(fe, errs.FieldError{Field: "name", Message: msg})
	}
	if msg := errs.CheckLine(in.Place, MaxPlaceLen, false); msg != "" {
		fe = append(fe, errs.FieldError{Field: "place", Message: msg})
	}
	if in.Capacity < 0 || in.Capacity > MaxCapacity {
		fe = append(fe, errs.FieldError{Field: "capacity", Message: fmt.Sprintf("应在 0 到 %d 之间", MaxCapacity)})
	}
	if len(fe) > 0 {
		return errs.Fields("invalid_site", "隔离场所信息有误", fe...)
	}
	return nil
}

// UpdateSite changes a site's name, place and capacity, and opens or
// closes it; a site with persons in it does not close.
func (s *Service) UpdateSite(ctx context.Context, p *auth.Principal, ref string, in SiteInput) (*Site, error) {
	const op = "quarantine.UpdateSite"
	in.Name, in.Place = strings.TrimSpace(in.Name), strings.TrimSpace(in.Place)
	if err := auth.Require(p, auth.QuarantineCentral, op); err != nil {
		return nil, err
	}
	if err := checkSite(in); err != nil {
		return nil, errs.Wrap(op, err)
	}
	var out *Site
	err := s.db.Write(ctx, func(tx *db.Tx) error {
		site, err := s.manageSite(ctx, tx, p, ref, op)
		if err != nil {
			return err
		}
		status := site.Status
		if in.Open != nil {
			status = map[bool]SiteStatus{true: SiteOpen, false: SiteClosed}[*in.Open]
		}
		if status == SiteClosed && site.Occupied > 0 {
			return errs.Newf(errs.Conflict, "site_occupied", "%s 尚有 %d 人在隔离，不能关闭", site.Name, site.Occupied)
		}
		if err := updateSite(ctx, tx, site.ID, in.Name, in.Place, in.Capacity, status); err != nil {
			return err
		}
		if out, err = loadSite(ctx, tx, site.ID, tx.NowMS()); err != nil {
			return err
		}
		return s.audit(ctx, tx, p, "quarantine.site.update", "quarantine_site", site.ID, site.AreaCode,
			fmt.Sprintf("修改集中隔离场所 %s：可容纳 %d 人，%s", in.Name, in.Capacity, map[SiteStatus]string{SiteOpen: "开放", SiteClosed: "关闭"}[status]))
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	out.At = s.clock.Now()
	return out, nil
}

// readSite loads site ref with its occupancy at at if p reads quarantine
// over its area; otherwise it is not found.
func (s *Service) readSite(ctx context.Context, tx *db.Tx, p *auth.Principal, ref string, at int64, op string) (*Site, error) {
	if err := auth.Require(p, auth.QuarantineRead, op); err != nil {
		return nil, err
	}
	id, err := parseRef(ref, errSiteNotFound)
	if err != nil {
		return nil, err
	}
	site, err := loadSite(ctx, tx, id, at)
	if err != nil {
		return nil, err
	}
	if !p.Covers(auth.QuarantineRead, site.areaPath) {
		return nil, errSiteNotFound()
	}
	return site, nil
}

// manageSite is readSite now, for a change: p must manage central
// quarantine over the site's area (403 when p reads it only).
func (s *Service) manageSite(ctx context.Context, tx *db.Tx, p *auth.Principal, ref, op string) (*Site, error) {
	site, err := s.readSite(ctx, tx, p, ref, tx.NowMS(), op)
	if err != nil {
		return nil, err
	}
	if !p.Covers(auth.QuarantineCentral, site.areaPath) {
		return nil, auth.ErrForbidden(op)
	}
	return site, nil
}

// AddRooms adds rooms to a site: numbers unique in the site, beds 1 to
// MaxBeds.
func (s *Service) AddRooms(ctx context.Context, p *auth.Principal, ref string, in RoomsInput) (*SiteBoard, error) {
	const op = "quarantine.AddRooms"
	if err := auth.Require(p, auth.QuarantineCentral, op); err != nil {
		return nil, err
	}
	if len(in.Rooms) == 0 || len(in.Rooms) > MaxRoomsAdded {
		return nil, errs.Wrap(op, errs.Fields("invalid_rooms", fmt.Sprintf("一次应添加 1 到 %d 个房间", MaxRoomsAdded),
			errs.FieldError{Field: "rooms", Message: "数量不对"}))
	}
	var siteID int64
	err := s.db.Write(ctx, func(tx *db.Tx) error {
		site, err := s.manageSite(ctx, tx, p, ref, op)
		if err != nil {
			return err
		}
		siteID = site.ID
		have, err := roomNumbers(ctx, tx, site.ID)
		if err != nil {
			return err
		}
		if err := checkRooms(in.Rooms, have); err != nil {
			return err
		}
		beds := 0
		for _, r := range in.Rooms {
			r.Number = strings.TrimSpace(r.Number)
			beds += r.Beds
			if err := insertRoom(ctx, tx, site.ID, r); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, p, "quarantine.rooms.add", "quarantine_site", site.ID, site.AreaCode,
			fmt.Sprintf("%s 新增房间 %d 间（床位 %d 张）", site.Name, len(in.Rooms), beds))
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return s.Board(ctx, p, fmt.Sprint(siteID), nil)
}

// checkRooms validates rooms to add to a site that has rooms have.
func checkRooms(rooms []RoomInput, have map[string]bool) error {
	var fe []errs.FieldError
	seen := map[string]bool{}
	for i, r := range rooms {
		field := fmt.Sprintf("rooms[%d]", i)
		n := strings.TrimSpace(r.Number)
		switch {
		case errs.CheckLine(n, MaxRoomNumLen, true) != "":
			fe = append(fe, errs.FieldError{Field: field + ".number", Message: "房间号应为 1 到 20 个字"})
		case have[n] || seen[n]:
			fe = append(fe, errs.FieldError{Field: field + ".number", Message: "房间 " + n + " 已有"})
		}
		seen[n] = true
		if r.Beds < 1 || r.Beds > MaxBeds {
			fe = append(fe, errs.FieldError{Field: field + ".beds", Message: fmt.Sprintf("床位应在 1 到 %d 之间", MaxBeds)})
		}
		if r.Floor < -10 || r.Floor > 300 {
			fe = append(fe, errs.FieldError{Field: field + ".floor", Message: "楼层不正确"})
		}
	}
	if len(fe) > 0 {
		return errs.Fields("invalid_rooms", "房间信息有误", fe...)
	}
	return nil
}

// ListSites answers the sites p reads quarantine over (under area, when
// given) with their occupancy and free rooms at at (nil: now).
func (s *Service) ListSites(ctx context.Context, p *auth.Principal, areaCode string, at *time.Time) ([]*Site, error) {
	const op = "quarantine.ListSites"
	if err := auth.Require(p, auth.QuarantineRead, op); err != nil {
		return nil, err
	}
	a, err := s.areaIn(ctx, p, areaCode)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	top := ""
	if a != nil {
		top = a.Path
	}
	when := s.at(at)
	var out []*Site
	err = s.db.Read(ctx, func(tx *db.Tx) error {
		a := db.Args{List: []any{nil}} // $1 is the moment
		where := scope(&a, p, auth.QuarantineRead, "s.area_path", top)
		a.List = a.List[1:]
		var err error
		out, err = listSites(ctx, tx, ms(when), where, a)
		return err
	})
	for _, site := range out {
		site.At = when
	}
	return out, errs.Wrap(op, err)
}

// at is the moment asked for, or now.
func (s *Service) at(t *time.Time) time.Time {
	if t == nil || t.IsZero() {
		return s.clock.Now()
	}
	return *t
}

// Board answers a site with its rooms and who was in each at at (nil:
// now), masked.
func (s *Service) Board(ctx context.Context, p *auth.Principal, ref string, at *time.Time) (*SiteBoard, error) {
	const op = "quarantine.Board"
	when := s.at(at)
	var out *SiteBoard
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		site, err := s.readSite(ctx, tx, p, ref, ms(when), op)
		if err != nil {
			return err
		}
		site.At = when
		out = &SiteBoard{Site: *site}
		if out.RoomList, err = siteRooms(ctx, tx, site.ID); err != nil {
			return err
		}
		occ, err := occupantsAt(ctx, tx, site.ID, ms(when))
		if err != nil {
			return err
		}
		byRoom := make(map[int64]int, len(out.RoomList))
		for i, r := range out.RoomList {
			byRoom[r.ID] = i
		}
		for _, o := range occ {
			if i, ok := byRoom[o.roomID]; ok {
				out.RoomList[i].Occupants = append(out.RoomList[i].Occupants, o.Occupant)
			}
		}
		return nil
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return out, nil
}

// MaxEvents bounds a site's history.
const MaxEvents = 500

// Events answers a site's admissions, transfers and releases up to at
// (nil: now), newest first, at most MaxEvents.
func (s *Service) Events(ctx context.Context, p *auth.Principal, ref string, at *time.Time) ([]Event, error) {
	const op = "quarantine.Events"
	when := ms(s.at(at))
	var out []Event
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		site, err := s.readSite(ctx, tx, p, ref, when, op)
		if err != nil {
			return err
		}
		rows, err := sitePlacements(ctx, tx, site.ID, when, 2*MaxEvents)
		if err != nil {
			return err
		}
		out = siteEvents(site.ID, rows, when)
		return nil
	})
	if len(out) > MaxEvents {
		out = out[:MaxEvents]
	}
	return out, errs.Wrap(op, err)
}
