package quarantine

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/errs"
)

// Admissions to central quarantine, transfers between rooms and sites,
// and releases. Each is one transaction: the stay and its placements
// change together, so that a site's occupancy at any moment is its
// admissions up to then minus its releases up to then.

// Admit admits a person to a room of a site at in.StartsAt (nil: now),
// with the planned release the rules give their category.
func (s *Service) Admit(ctx context.Context, p *auth.Principal, in AdmitInput) (*Stay, error) {
	const op = "quarantine.Admit"
	start, err := s.beginning(p, auth.QuarantineCentral, in.Category, in.StartsAt, &in.Note, op)
	if err != nil {
		return nil, err
	}
	person, err := s.personOf(ctx, in.PersonInput)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	var id int64
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		room, err := s.roomFor(ctx, tx, p, in.Site, in.Room, op)
		if err != nil {
			return err
		}
		if err := checkCapacity(ctx, tx, room, ms(start)); err != nil {
			return err
		}
		if err := checkBeds(ctx, tx, room, ms(start)); err != nil {
			return err
		}
		rules, err := loadRules(ctx, tx)
		if err != nil {
			return err
		}
		personID, err := s.claimPerson(ctx, tx, person)
		if err != nil {
			return err
		}
		end := start.AddDate(0, 0, rules[in.Category].CentralDays)
		id, err = insertStay(ctx, tx, &stayRec{personID: personID, kind: Central, category: in.Category,
			siteID: sql.NullInt64{Int64: room.siteID, Valid: true}, roomID: sql.NullInt64{Int64: room.id, Valid: true},
			areaCode: room.siteArea, areaPath: room.siteAreaPath, startsAt: ms(start), plannedEnd: ms(end), note: in.Note, by: p.Actor()})
		if err != nil {
			return err
		}
		if err := insertPlacement(ctx, tx, id, room.siteID, room.id, ms(start), "", p.Actor()); err != nil {
			return err
		}
		return s.audit(ctx, tx, p, "quarantine.admit", "quarantine_stay", id, room.siteArea,
			fmt.Sprintf("%s（%s）入住 %s %s 房，计划 %s 解除", person.nameMasked, CategoryNames[in.Category], room.siteName,
				room.number, dayOf(end)))
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return s.GetStay(ctx, p, fmt.Sprint(id))
}

// beginning checks what every stay's start needs: p holds perm, the
// category is known, the start is not in the future, the note is a text;
// it answers the start.
func (s *Service) beginning(p *auth.Principal, perm auth.Permission, c Category, at *time.Time, note *string, op string) (time.Time, error) {
	if err := auth.Require(p, perm, op); err != nil {
		return time.Time{}, err
	}
	if !c.valid() {
		return time.Time{}, errs.Wrap(op, errCategory())
	}
	start, err := s.moment(at, "starts_at")
	if err == nil {
		err = checkNote(note, false)
	}
	return start, errs.Wrap(op, err)
}

// checkNote trims a note and checks it (required or not).
func checkNote(note *string, required bool) error {
	*note = strings.TrimSpace(*note)
	if msg := errs.CheckText(*note, MaxNoteLen, required); msg != "" {
		return errs.Fields("invalid_note", "请填写说明", errs.FieldError{Field: "note", Message: msg})
	}
	return nil
}

func errCategory() error {
	return errs.Fields("invalid_category", "人员类别应为 密接、次密接、风险地区来株 或 其他",
		errs.FieldError{Field: "category", Message: "类别不正确"})
}

// roomFor loads a room of an open site p manages central quarantine over.
func (s *Service) roomFor(ctx context.Context, tx *db.Tx, p *auth.Principal, siteID int64, number, op string) (*roomRow, error) {
	number = strings.TrimSpace(number)
	if siteID <= 0 {
		return nil, errs.Fields("site_required", "请选择隔离场所", errs.FieldError{Field: "site", Message: "必填"})
	}
	if number == "" {
		return nil, errs.Fields("room_required", "请填写房间号", errs.FieldError{Field: "room", Message: "必填"})
	}
	site, err := s.manageSite(ctx, tx, p, fmt.Sprint(siteID), op)
	if err != nil {
		return nil, err
	}
	if site.Status != SiteOpen {
		return nil, errs.Newf(errs.Conflict, "site_closed", "%s 已关闭，不再接收隔离人员", site.Name)
	}
	room, err := loadRoom(ctx, tx, site.ID, number)
	if errs.Is(err, errs.NotFound) {
		return nil, errs.Fields("room_not_found", site.Name+" 没有房间 "+number, errs.FieldError{Field: "room", Message: "房间不存在"})
	}
	return room, err
}

// checkCapacity refuses a site that would hold more persons than its
// capacity at some moment from `from` on, with one more person from then.
func checkCapacity(ctx context.Context, tx *db.Tx, room *roomRow, from int64) error {
	spans, err := siteSpans(ctx, tx, room.siteID, from)
	if err != nil {
		return err
	}
	if maxConcurrent(spans, from)+1 > room.siteCapacity {
		return errs.Newf(errs.Conflict, "site_full", "%s 已住满（可容纳 %d 人）", room.siteName, room.siteCapacity)
	}
	return nil
}

// checkBeds refuses a room that would hold more persons than its beds at
// some moment from `from` on, with one more person from then.
func checkBeds(ctx context.Context, tx *db.Tx, room *roomRow, from int64) error {
	spans, err := roomSpans(ctx, tx, room.id, from)
	if err != nil {
		return err
	}
	if maxConcurrent(spans, from)+1 > room.beds {
		return errs.Newf(errs.Conflict, "room_full", "%s 房只有 %d 张床位，已住满", room.number, room.beds)
	}
	return nil
}

// maxConcurrent is the most spans in force at once from `from` on.
func maxConcurrent(spans []interval, from int64) int {
	type ev struct {
		at int64
		d  int
	}
	var evs []ev
	for _, s := range spans {
		evs = append(evs, ev{max(s.from, from), 1})
		if s.to != 0 {
			evs = append(evs, ev{s.to, -1})
		}
	}
	sort.Slice(evs, func(i, j int) bool {
		if evs[i].at != evs[j].at {
			return evs[i].at < evs[j].at
		}
		return evs[i].d < evs[j].d // a leaving before an arrival at the same moment
	})
	n, top := 0, 0
	for _, e := range evs {
		n += e.d
		top = max(top, n)
	}
	return top
}

// readStay loads stay ref if p reads quarantine over its area.
func (s *Service) readStay(ctx context.Context, tx *db.Tx, p *auth.Principal, ref, op string) (*Stay, error) {
	if err := auth.Require(p, auth.QuarantineRead, op); err != nil {
		return nil, err
	}
	id, err := parseRef(ref, errStayNotFound)
	if err != nil {
		return nil, err
	}
	st, err := loadStay(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if !p.Covers(auth.QuarantineRead, st.areaPath) {
		return nil, errStayNotFound()
	}
	return st, nil
}

// writeStay is readStay for a change by p: central stays need
// quarantine.central over their area, home stays quarantine.home.
func (s *Service) writeStay(ctx context.Context, tx *db.Tx, p *auth.Principal, ref, op string) (*Stay, error) {
	st, err := s.readStay(ctx, tx, p, ref, op)
	if err != nil {
		return nil, err
	}
	perm := auth.QuarantineCentral
	if st.Kind == Home {
		perm = auth.QuarantineHome
	}
	if !p.Covers(perm, st.areaPath) {
		return nil, auth.ErrForbidden(op)
	}
	return st, nil
}

// Transfer moves a central stay to another room of its site or of
// another site at in.At (nil: now).
func (s *Service) Transfer(ctx context.Context, p *auth.Principal, ref string, in TransferInput) (*Stay, error) {
	const op = "quarantine.Transfer"
	if err := auth.Require(p, auth.QuarantineCentral, op); err != nil {
		return nil, err
	}
	at, err := s.moment(in.At, "at")
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	if err := checkNote(&in.Note, false); err != nil {
		return nil, errs.Wrap(op, err)
	}
	var id int64
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		st, err := s.activeCentral(ctx, tx, p, ref, op)
		if err != nil {
			return err
		}
		id = st.ID
		if in.Site == 0 {
			in.Site = st.SiteID
		}
		room, err := s.roomFor(ctx, tx, p, in.Site, in.Room, op)
		if err != nil {
			return err
		}
		plID, fromRoom, from, err := openPlacement(ctx, tx, st.ID)
		if err != nil {
			return err
		}
		if room.id == fromRoom {
			return errs.Fields("same_room", "已在 "+room.number+" 房，无需转移", errs.FieldError{Field: "room", Message: "与现住房间相同"})
		}
		if ms(at) < from {
			return errs.Fields("before_placement", "转移时间不能早于入住该房间的时间 "+hm(fromMS(from)),
				errs.FieldError{Field: "at", Message: "早于入住时间"})
		}
		if room.siteID != st.SiteID {
			if err := checkCapacity(ctx, tx, room, ms(at)); err != nil {
				return err
			}
		}
		if err := checkBeds(ctx, tx, room, ms(at)); err != nil {
			return err
		}
		if err := endPlacement(ctx, tx, plID, ms(at), "transfer"); err != nil {
			return err
		}
		if err := insertPlacement(ctx, tx, st.ID, room.siteID, room.id, ms(at), in.Note, p.Actor()); err != nil {
			return err
		}
		if err := moveStay(ctx, tx, st.ID, room.siteID, room.id, room.siteArea, room.siteAreaPath); err != nil {
			return err
		}
		return s.audit(ctx, tx, p, "quarantine.transfer", "quarantine_stay", st.ID, room.siteArea,
			fmt.Sprintf("%s 由 %s %s 房转至 %s %s 房", st.Name, st.Site, st.Room, room.siteName, room.number))
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return s.GetStay(ctx, p, fmt.Sprint(id))
}

// activeCentral loads a central stay not ended that p manages.
func (s *Service) activeCentral(ctx context.Context, tx *db.Tx, p *auth.Principal, ref, op string) (*Stay, error) {
	st, err := s.writeStay(ctx, tx, p, ref, op)
	if err != nil {
		return nil, err
	}
	if st.Kind != Central {
		return nil, errs.E(errs.Conflict, "not_central", "该人员为居家隔离，不能转移房间")
	}
	if !st.Active() {
		return nil, errs.Newf(errs.Conflict, "stay_ended", "%s 已于 %s 解除隔离", st.Name, hm(*st.EndedAt))
	}
	return st, nil
}

// Release ends a stay, central or at home, at in.At (nil: now), for a
// reason; a stay ends once.
func (s *Service) Release(ctx context.Context, p *auth.Principal, ref string, in ReleaseInput) (*Stay, error) {
	const op = "quarantine.Release"
	if err := auth.Require(p, auth.QuarantineRead, op); err != nil {
		return nil, err
	}
	if _, ok := EndReasonNames[in.Reason]; !ok {
		return nil, errs.Wrap(op, errs.Fields("invalid_reason", "解除原因应为 期满解除、转送医院 或 其他",
			errs.FieldError{Field: "reason", Message: "原因不正确"}))
	}
	if err := checkNote(&in.Note, in.Reason == OtherEnd); err != nil {
		return nil, errs.Wrap(op, err)
	}
	at, err := s.moment(in.At, "at")
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return s.onStay(ctx, p, ref, op, func(tx *db.Tx, st *Stay) error {
		if !st.Active() {
			return errs.Newf(errs.Conflict, "already_released", "%s 已于 %s 解除隔离，不能重复解除", st.Name,
				hm(*st.EndedAt))
		}
		return s.release(ctx, tx, p, st, at, in)
	})
}

// onStay runs fn on stay ref, which p may change, in one transaction, and
// answers the stay as it is after.
func (s *Service) onStay(ctx context.Context, p *auth.Principal, ref, op string, fn func(tx *db.Tx, st *Stay) error) (*Stay, error) {
	var id int64
	err := s.db.Write(ctx, func(tx *db.Tx) error {
		st, err := s.writeStay(ctx, tx, p, ref, op)
		if err != nil {
			return err
		}
		id = st.ID
		return fn(tx, st)
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return s.GetStay(ctx, p, fmt.Sprint(id))
}

// release ends st at at: its room too, for a central stay.
func (s *Service) release(ctx context.Context, tx *db.Tx, p *auth.Principal, st *Stay, at time.Time, in ReleaseInput) error {
	floor := ms(st.StartsAt)
	var plID int64
	if st.Kind == Central {
		id, _, from, err := openPlacement(ctx, tx, st.ID)
		if err != nil {
			return err
		}
		plID, floor = id, from
	}
	if ms(at) < floor {
		return errs.Fields("before_start", "解除时间不能早于 "+hm(fromMS(floor)),
			errs.FieldError{Field: "at", Message: "早于入住时间"})
	}
	if plID != 0 {
		if err := endPlacement(ctx, tx, plID, ms(at), "release"); err != nil {
			return err
		}
	}
	if err := endStay(ctx, tx, st.ID, ms(at), in.Reason, in.Note, p.Actor()); err != nil {
		return err
	}
	where := st.Address
	if st.Kind == Central {
		where = st.Site + " " + st.Room + " 房"
	}
	return s.audit(ctx, tx, p, "quarantine.release", "quarantine_stay", st.ID, st.AreaCode,
		fmt.Sprintf("%s 解除%s（%s，%s）", st.Name, KindNames[st.Kind], EndReasonNames[in.Reason], where))
}
