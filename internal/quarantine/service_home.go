package quarantine

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strings"
	"time"

	"tongxin/internal/area"
	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/errs"
)

// Home quarantine: residents kept at home, the daily check a community
// worker records, the tests on given days of the stay (done when the
// testing module holds a sample of the resident that day), and the
// board of a community's day: who is at home, whose check is missing,
// whose test is due.

// StartHome starts a resident's home quarantine at in.StartsAt (nil:
// now), at their household's address, with the planned release and test
// days the rules give their category. p keeps home quarantine over the
// resident's community.
func (s *Service) StartHome(ctx context.Context, p *auth.Principal, in HomeInput) (*Stay, error) {
	const op = "quarantine.StartHome"
	start, err := s.beginning(p, auth.QuarantineHome, in.Category, in.StartsAt, &in.Note, op)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(in.Resident) == "" {
		return nil, errs.Wrap(op, errs.Fields("resident_required", "居家隔离须为户籍登记中的居民", errs.FieldError{Field: "resident", Message: "必填"}))
	}
	r, err := s.resident(ctx, strings.TrimSpace(in.Resident))
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	person := residentPerson(r)
	comm, err := s.areas.Lookup(ctx, r.CommunityCode)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	if !p.Covers(auth.QuarantineHome, comm.Path) {
		return nil, errs.Wrap(op, errs.Fields("resident_not_found", "该居民不在您负责的社区",
			errs.FieldError{Field: "resident", Message: "不在您负责的社区"}))
	}
	var id int64
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		id, err = s.startHome(ctx, tx, p, person, r, comm, start, in)
		return err
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return s.GetStay(ctx, p, fmt.Sprint(id))
}

// startHome records a home stay in tx.
func (s *Service) startHome(ctx context.Context, tx *db.Tx, p *auth.Principal, person *personRec, r *Resident, comm *area.Area,
	start time.Time, in HomeInput) (int64, error) {
	rules, err := loadRules(ctx, tx)
	if err != nil {
		return 0, err
	}
	personID, err := s.claimPerson(ctx, tx, person)
	if err != nil {
		return 0, err
	}
	rule := rules[in.Category]
	end := start.AddDate(0, 0, rule.HomeDays)
	id, err := insertStay(ctx, tx, &stayRec{personID: personID, kind: Home, category: in.Category, areaCode: comm.Code,
		areaPath: comm.Path, householdID: sql.NullInt64{Int64: r.HouseholdID, Valid: true}, address: r.Address,
		testDays: formatDays(rule.HomeTestDays), startsAt: ms(start), plannedEnd: ms(end), note: in.Note, by: p.Actor()})
	if err != nil {
		return 0, err
	}
	return id, s.audit(ctx, tx, p, "quarantine.home.start", "quarantine_stay", id, comm.Code,
		fmt.Sprintf("%s（%s）居家隔离，%s，计划 %s 解除", person.nameMasked, CategoryNames[in.Category], r.Address, dayOf(end)))
}

// Temperatures a check accepts, °C.
const (
	minTemp = 34.0
	maxTemp = 43.0
)

// RecordCheck records a home stay's check of a day (empty: today): done,
// with temperature, contact made and the door seal, or missed with a
// reason. A later record of the same day replaces it.
func (s *Service) RecordCheck(ctx context.Context, p *auth.Principal, ref string, in CheckInput) (*Check, error) {
	const op = "quarantine.RecordCheck"
	if err := auth.Require(p, auth.QuarantineHome, op); err != nil {
		return nil, err
	}
	rec, err := checkInput(in)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	day, err := s.parseDay(in.Day)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	var out *Check
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		st, err := s.writeStay(ctx, tx, p, ref, op)
		if err != nil {
			return err
		}
		if st.Kind != Home {
			return errs.E(errs.Conflict, "not_home", "该人员为集中隔离，无需社区每日上门核查")
		}
		if err := inStay(st, day, s.clock.Now()); err != nil {
			return err
		}
		rec.stayID, rec.day, rec.areaPath, rec.by = st.ID, day.Format(time.DateOnly), st.areaPath, p.Actor()
		if err := upsertCheck(ctx, tx, rec); err != nil {
			return err
		}
		checks, err := stayChecks(ctx, tx, st.ID)
		for _, c := range checks {
			if c.Day == rec.day {
				out = &c.Check
			}
		}
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, p, "quarantine.check", "quarantine_stay", st.ID, st.AreaCode, checkSummary(st, rec))
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return out, nil
}

// checkInput validates a check: a check done has a temperature, a check
// missed a reason.
func checkInput(in CheckInput) (*checkRec, error) {
	rec := &checkRec{done: in.Done, reason: strings.TrimSpace(in.Reason)}
	if in.Done {
		if in.Temperature == nil || *in.Temperature < minTemp || *in.Temperature > maxTemp || math.IsNaN(*in.Temperature) {
			return nil, errs.Fields("invalid_temperature", "请填写体温（34.0 到 43.0 ℃）", errs.FieldError{Field: "temperature", Message: "体温不正确"})
		}
		rec.tenths = sql.NullInt64{Int64: int64(math.Round(*in.Temperature * 10)), Valid: true}
		rec.contacted, rec.sealIntact = in.Contacted, in.SealIntact
		return rec, nil
	}
	if msg := errs.CheckLine(rec.reason, MaxNoteLen, true); msg != "" {
		return nil, errs.Fields("reason_required", "未完成核查须填写原因", errs.FieldError{Field: "reason", Message: msg})
	}
	return rec, nil
}

// checkSummary is the audit line of a check: no temperature (health data
// stay in the record, not the log).
func checkSummary(st *Stay, rec *checkRec) string {
	if !rec.done {
		return fmt.Sprintf("%s %s 居家隔离核查未完成：%s", st.Name, rec.day, clip(rec.reason, 60))
	}
	yn := map[bool]string{true: "是", false: "否"}
	return fmt.Sprintf("%s %s 居家隔离核查完成（联系上：%s，门磁/封条完好：%s）", st.Name, rec.day, yn[rec.contacted], yn[rec.sealIntact])
}

// HomeBoard answers the home quarantine of an area p reads over on a day
// (empty: today): the persons at home at the day's end (now, today), each
// with the day's check and test, those whose check is missing, and the
// tests due.
func (s *Service) HomeBoard(ctx context.Context, p *auth.Principal, areaCode, day string) (*HomeBoard, error) {
	const op = "quarantine.HomeBoard"
	if err := auth.Require(p, auth.QuarantineRead, op); err != nil {
		return nil, err
	}
	start, err := s.parseDay(day)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	a, err := s.areaIn(ctx, p, areaCode)
	if err == nil && a == nil {
		err = errs.Fields("area_required", "请选择社区", errs.FieldError{Field: "area", Message: "必填"})
	}
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	out := &HomeBoard{Day: start.Format(time.DateOnly), AreaCode: a.Code, AreaName: a.Name, Persons: []*HomeDay{},
		Missed: []*HomeDay{}, TestsDue: []*HomeDay{}}
	if out.Persons, err = s.homeDays(ctx, a.Path, start); err != nil {
		return nil, errs.Wrap(op, err)
	}
	for _, h := range out.Persons {
		if h.Check != nil && h.Check.Done {
			out.ChecksDone++
		} else {
			out.Missed = append(out.Missed, h)
		}
		if h.TestDue {
			out.TestsDue = append(out.TestsDue, h)
		}
	}
	out.ChecksMissing = len(out.Missed)
	return out, nil
}

// homeDays answers the home stays under path in force at the end of the
// day starting at start (now, today) with the day's check and test; the
// tests done are asked of the testing module after the transaction.
func (s *Service) homeDays(ctx context.Context, path string, start time.Time) ([]*HomeDay, error) {
	end := start.AddDate(0, 0, 1)
	at := min(ms(end)-1, ms(s.clock.Now()))
	day := start.Format(time.DateOnly)
	out := []*HomeDay{}
	var due []int64
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		stays, err := homeStaysAt(ctx, tx, path, at)
		if err != nil {
			return err
		}
		checks, err := checksOn(ctx, tx, path, day)
		if err != nil {
			return err
		}
		byStay := make(map[int64]*Check, len(checks))
		for _, c := range checks {
			byStay[c.stayID] = &c.Check
		}
		for _, st := range stays {
			h := &HomeDay{Stay: st, DayNo: dayNo(st.StartsAt, start), Check: byStay[st.ID]}
			for _, d := range st.TestDays {
				h.TestDue = h.TestDue || d == h.DayNo
			}
			if h.TestDue && st.residentID != 0 {
				due = append(due, st.residentID)
			}
			out = append(out, h)
		}
		return nil
	})
	if err != nil || len(due) == 0 || s.residents == nil {
		return out, err
	}
	sampled, err := s.residents.SampledDays(ctx, due, start, end)
	if err != nil {
		return nil, err
	}
	for _, h := range out {
		h.TestDone = h.TestDue && len(sampled[h.Stay.residentID]) > 0
	}
	return out, nil
}
