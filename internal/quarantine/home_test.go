package quarantine

import (
	"slices"
	"testing"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/errs"
)

// codesOf are the resident codes of a board list.
func codesOf(list []*HomeDay) []string {
	var out []string
	for _, h := range list {
		out = append(out, h.Stay.Resident)
	}
	slices.Sort(out)
	return out
}

// Home quarantine in two communities: checks recorded on past days and
// some today; a person whose check is not recorded today is on their own
// community's missed list only; tests due today, done when the register
// holds a sample of the day; the figures.
func TestHomeQuarantineMissedChecksPerCommunity(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		worker := f.User("dayuan", auth.CommunityWorker, dayuan)
		other := f.User("gudaqiao", auth.CommunityWorker, gudaqiao)
		start := testBase.AddDate(0, 0, -3) // 11-17 10:00: today is day 4
		stays := map[string]*Stay{}
		for i, c := range []string{dayuan, dayuan, dayuan, gudaqiao, gudaqiao} {
			code := f.reg.add(int64(i+1), c, "居*", "小区 1栋 1单元 "+string(rune('1'+i))+"01")
			p := worker
			if c == gudaqiao {
				p = other
			}
			st, err := f.svc.StartHome(f.Ctx, p, HomeInput{Resident: code, Category: SecondaryContact, StartsAt: &start})
			if err != nil {
				t.Fatalf("home %d: %v", i, err)
			}
			if !slices.Equal(st.TestDays, []int{1, 4, 7}) || st.PlannedEnd.Sub(st.StartsAt) != 7*24*time.Hour || st.Address == "" {
				t.Fatalf("stay: %+v", st)
			}
			stays[code] = st
			for _, d := range []string{"2022-11-18", "2022-11-19"} {
				if _, err := f.svc.RecordCheck(f.Ctx, p, ref(st.ID), CheckInput{Day: d, Done: true, Temperature: ptr(36.5),
					Contacted: true, SealIntact: true}); err != nil {
					t.Fatalf("check %s: %v", d, err)
				}
			}
		}
		check := func(p *auth.Principal, code string, in CheckInput) {
			t.Helper()
			if _, err := f.svc.RecordCheck(f.Ctx, p, ref(stays[code].ID), in); err != nil {
				t.Fatal(err)
			}
		}
		check(worker, "rtest1", CheckInput{Done: true, Temperature: ptr(36.8), Contacted: true, SealIntact: true})
		check(worker, "rtest2", CheckInput{Reason: "敲门无人应答，电话未接通"})
		check(other, "rtest4", CheckInput{Done: true, Temperature: ptr(37.1), Contacted: true})
		f.reg.sampled[1] = []time.Time{testBase.Add(-time.Hour)}
		f.reg.sampled[2] = []time.Time{testBase.Add(-20 * time.Hour)}

		b, err := f.svc.HomeBoard(f.Ctx, worker, dayuan, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(b.Persons) != 3 || !slices.Equal(codesOf(b.Missed), []string{"rtest2", "rtest3"}) || b.ChecksDone != 1 ||
			len(b.TestsDue) != 3 || b.Day != "2022-11-20" {
			t.Fatalf("大园 board: %d persons, missed %v, done %d, due %d", len(b.Persons), codesOf(b.Missed), b.ChecksDone, len(b.TestsDue))
		}
		for _, h := range b.Persons {
			if h.DayNo != 4 || h.TestDone != (h.Stay.Resident == "rtest1") {
				t.Fatalf("day of %s: %+v", h.Stay.Resident, h)
			}
		}
		b, _ = f.svc.HomeBoard(f.Ctx, other, gudaqiao, "")
		if !slices.Equal(codesOf(b.Missed), []string{"rtest5"}) {
			t.Fatalf("古大桥 missed: %v", codesOf(b.Missed))
		}
		b, _ = f.svc.HomeBoard(f.Ctx, f.Sys, jianshe, "")
		if !slices.Equal(codesOf(b.Missed), []string{"rtest2", "rtest3", "rtest5"}) {
			t.Fatalf("建设街道 missed: %v", codesOf(b.Missed))
		}
		b, _ = f.svc.HomeBoard(f.Ctx, f.Sys, dayuan, "2022-11-19")
		if len(b.Missed) != 0 || b.ChecksDone != 3 || len(b.TestsDue) != 0 {
			t.Fatalf("yesterday: %+v", b)
		}
		_, err = f.svc.HomeBoard(f.Ctx, other, dayuan, "")
		mustErr(t, err, errs.Invalid, "area_not_found")

		fig, err := f.svc.HomeFigures(f.Ctx, worker, dayuan, "2022-11-20")
		if err != nil {
			t.Fatal(err)
		}
		if fig.Persons != 3 || fig.ChecksDone != 1 || fig.ChecksMissed != 2 || fig.TestsDue != 3 || fig.TestsDone != 1 ||
			fig.StartedToday != 0 || fig.ReleasedToday != 0 {
			t.Fatalf("figures: %+v", fig)
		}
		fig, _ = f.svc.HomeFigures(f.Ctx, f.Sys, jianshe, "2022-11-17")
		if fig.StartedToday != 5 || fig.Persons != 5 || fig.ChecksMissed != 5 {
			t.Fatalf("figures of 11-17: %+v", fig)
		}
		homeRefusals(t, f, worker, other, stays)
		if _, err := f.svc.Release(f.Ctx, worker, ref(stays["rtest3"].ID), ReleaseInput{Reason: ToHospital}); err != nil {
			t.Fatal(err)
		}
		fig, _ = f.svc.HomeFigures(f.Ctx, worker, dayuan, "2022-11-20")
		if fig.Persons != 3 || fig.StartedToday != 1 || fig.ReleasedToday != 1 || fig.ChecksMissed != 2 { // rtest9 came, rtest3 left
			t.Fatalf("figures after a release: %+v", fig)
		}
	})
}

func homeRefusals(t *testing.T, f *fixture, worker, other *auth.Principal, stays map[string]*Stay) {
	st := stays["rtest3"]
	_, err := f.svc.RecordCheck(f.Ctx, worker, ref(st.ID), CheckInput{Done: true})
	mustErr(t, err, errs.Invalid, "invalid_temperature")
	_, err = f.svc.RecordCheck(f.Ctx, worker, ref(st.ID), CheckInput{Done: false})
	mustErr(t, err, errs.Invalid, "reason_required")
	_, err = f.svc.RecordCheck(f.Ctx, worker, ref(st.ID), CheckInput{Day: "2022-11-16", Reason: "x"})
	mustErr(t, err, errs.Invalid, "day_outside_stay")
	_, err = f.svc.RecordCheck(f.Ctx, worker, ref(st.ID), CheckInput{Day: "2022-11-21", Reason: "x"})
	mustErr(t, err, errs.Invalid, "day_outside_stay")
	_, err = f.svc.RecordCheck(f.Ctx, other, ref(st.ID), CheckInput{Reason: "x"})
	mustErr(t, err, errs.NotFound, "stay_not_found")
	f.reg.add(9, dayuan, "新*", "小区 9栋 101")
	_, err = f.svc.StartHome(f.Ctx, other, HomeInput{Resident: "rtest9", Category: CloseContact})
	mustErr(t, err, errs.Invalid, "resident_not_found")
	_, err = f.svc.StartHome(f.Ctx, worker, HomeInput{Resident: "rtest404", Category: CloseContact})
	mustErr(t, err, errs.Invalid, "resident_not_found")
	group := f.User("jizhong", auth.WorkgroupMember, "workgroup:central_quarantine")
	_, err = f.svc.StartHome(f.Ctx, group, HomeInput{Resident: "rtest9", Category: CloseContact})
	mustErr(t, err, errs.Forbidden, "")
	_, err = f.svc.StartHome(f.Ctx, worker, HomeInput{Resident: "rtest1", Category: CloseContact})
	mustErr(t, err, errs.Conflict, "already_in_quarantine")
	if _, err := f.svc.RecordTest(f.Ctx, worker, ref(st.ID), TestInput{Result: Negative}); err != nil {
		t.Fatal(err)
	}
	got, err := f.svc.GetStay(f.Ctx, worker, ref(st.ID))
	if err != nil || len(got.Tests) != 1 || got.Tests[0].Day != "2022-11-20" || len(got.Checks) != 2 {
		t.Fatalf("stay: %v %+v", err, got)
	}

	// The rules: city-wide central quarantine holders change them.
	_, err = f.svc.SetRule(f.Ctx, worker, "close_contact", RuleInput{CentralDays: 7, HomeDays: 3})
	mustErr(t, err, errs.Forbidden, "")
	district := f.User("lsstaff", auth.HQStaff, lusong)
	_, err = f.svc.SetRule(f.Ctx, district, "close_contact", RuleInput{CentralDays: 7, HomeDays: 3})
	mustErr(t, err, errs.Forbidden, "rules_citywide")
	_, err = f.svc.SetRule(f.Ctx, group, "close_contact", RuleInput{CentralDays: 7, HomeDays: 3, HomeTestDays: []int{4}})
	mustErr(t, err, errs.Invalid, "invalid_rule")
	r, err := f.svc.SetRule(f.Ctx, group, "close_contact", RuleInput{CentralDays: 7, HomeDays: 4, HomeTestDays: []int{4, 1, 1}})
	if err != nil || !slices.Equal(r.HomeTestDays, []int{1, 4}) || r.UpdatedBy != "jizhong" {
		t.Fatalf("rule: %v %+v", err, r)
	}
	home, err := f.svc.StartHome(f.Ctx, worker, HomeInput{Resident: "rtest9", Category: CloseContact})
	if err != nil || home.PlannedEnd.Sub(home.StartsAt) != 4*24*time.Hour || !slices.Equal(home.TestDays, []int{1, 4}) {
		t.Fatalf("home by the new rule: %v %+v", err, home)
	}
	if n := f.Count(`SELECT COUNT(*) FROM audit_log WHERE action = 'quarantine.rule.set'`); n != 1 {
		t.Fatalf("rule audits: %d", n)
	}
}

// An outsider's full ID number and phone: to a holder of pii.reveal in
// scope, on a reason, audited; a resident's are the register's.
func TestRevealOutsider(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		a := f.site("大园隔离酒店", dayuan, 10, 2, 1)
		st := f.admit(f.Sys, outsider(7), a, "101", testBase)
		code := f.reg.add(1, dayuan, "张*", "小区 1栋 101")
		res := f.admit(f.Sys, PersonInput{Resident: code}, a, "102", testBase)
		worker := f.User("dayuan", auth.CommunityWorker, dayuan)
		_, err := f.svc.RevealPerson(f.Ctx, worker, ref(st.PersonID), RevealInput{})
		mustErr(t, err, errs.Invalid, "reason_required")
		got, err := f.svc.RevealPerson(f.Ctx, worker, ref(st.PersonID), RevealInput{Reason: "转运核对"})
		if err != nil || got.IDNumber != idNumber(7) || got.Phone != "13907330007" {
			t.Fatalf("reveal: %v %+v", err, got)
		}
		_, err = f.svc.RevealPerson(f.Ctx, worker, ref(res.PersonID), RevealInput{Reason: "核对"})
		mustErr(t, err, errs.Conflict, "resident_reveal_elsewhere")
		_, err = f.svc.RevealPerson(f.Ctx, f.User("jizhong", auth.WorkgroupMember, "workgroup:central_quarantine"), ref(st.PersonID),
			RevealInput{Reason: "核对"})
		mustErr(t, err, errs.Forbidden, "")
		_, err = f.svc.RevealPerson(f.Ctx, f.User("other", auth.CommunityWorker, gudaqiao), ref(st.PersonID), RevealInput{Reason: "核对"})
		mustErr(t, err, errs.NotFound, "person_not_found")
		if n := f.Count(`SELECT COUNT(*) FROM audit_log WHERE action = 'quarantine.person.reveal' AND summary LIKE '%转运核对%'`); n != 1 {
			t.Fatalf("reveal audits: %d", n)
		}
	})
}
