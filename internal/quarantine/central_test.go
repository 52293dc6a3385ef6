package quarantine

import (
	"fmt"
	"testing"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/errs"
)

// ledger is what the test knows happened at a site: +1 at an admission or
// a transfer in, -1 at a release or a transfer out.
type ledger map[int64][]struct {
	at time.Time
	d  int
}

func (l ledger) add(site int64, at time.Time, d int) {
	l[site] = append(l[site], struct {
		at time.Time
		d  int
	}{at, d})
}

// at is admissions up to t minus releases up to t.
func (l ledger) at(site int64, t time.Time) int {
	n := 0
	for _, e := range l[site] {
		if !e.at.After(t) {
			n += e.d
		}
	}
	return n
}

// The central scenario: two sites, eleven persons admitted, a transfer
// between sites and a move within one, releases; occupancy at many
// moments equals admissions up to then minus releases up to then.
func TestCentralOccupancyIsAdmissionsMinusReleases(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		a := f.site("大园隔离酒店", dayuan, 50, 10, 2)
		b := f.site("古大桥隔离点", gudaqiao, 5, 5, 1)
		t0 := time.Date(2022, 11, 19, 0, 30, 0, 0, clock.Shanghai)
		book := ledger{}
		stays := map[int]*Stay{}
		for i := 1; i <= 8; i++ {
			code := f.reg.add(int64(i), dayuan, fmt.Sprintf("张%d*", i), fmt.Sprintf("大园小区 1栋 %d", 100+i))
			at := t0.Add(time.Duration(i) * time.Hour)
			stays[i] = f.admit(f.Sys, PersonInput{Resident: code}, a, fmt.Sprint(101+(i-1)/2), at)
			book.add(a.ID, at, 1)
		}
		for i := 9; i <= 10; i++ {
			at := t0.Add(time.Duration(i) * time.Hour)
			stays[i] = f.admit(f.Sys, outsider(i), b, fmt.Sprint(101+i-9), at)
			book.add(b.ID, at, 1)
		}
		move := func(i int, site *Site, room string, h int) {
			at := t0.Add(time.Duration(h) * time.Hour)
			if _, err := f.svc.Transfer(f.Ctx, f.Sys, ref(stays[i].ID), TransferInput{Site: site.ID, Room: room, At: &at}); err != nil {
				t.Fatalf("transfer %d: %v", i, err)
			}
		}
		move(1, b, "103", 12)
		book.add(a.ID, t0.Add(12*time.Hour), -1)
		book.add(b.ID, t0.Add(12*time.Hour), 1)
		move(2, a, "105", 13)
		for _, r := range []struct{ i, h int }{{3, 20}, {9, 21}} {
			at := t0.Add(time.Duration(r.h) * time.Hour)
			if _, err := f.svc.Release(f.Ctx, f.Sys, ref(stays[r.i].ID), ReleaseInput{Reason: Completed, At: &at}); err != nil {
				t.Fatalf("release %d: %v", r.i, err)
			}
			site := a.ID
			if r.i == 9 {
				site = b.ID
			}
			book.add(site, at, -1)
		}
		code := f.reg.add(11, dayuan, "李*", "大园小区 2栋 101")
		stays[11] = f.admit(f.Sys, PersonInput{Resident: code}, a, "101", t0.Add(22*time.Hour))
		book.add(a.ID, t0.Add(22*time.Hour), 1)

		var moments []time.Time
		for h := -1; h <= 24; h++ {
			m := t0.Add(time.Duration(h) * time.Hour)
			moments = append(moments, m, m.Add(-time.Millisecond), m.Add(time.Millisecond), m.Add(30*time.Minute))
		}
		moments = append(moments, f.Clock.Now())
		for _, m := range moments {
			checkOccupancy(t, f, book, m, a, b)
		}
		centralRefusals(t, f, a, b, stays)
		centralEvents(t, f, a, b, stays)
		centralFigures(t, f)
	})
}

// checkOccupancy compares the sites' occupancy at m, in the list and on
// the board, with the ledger, and the free rooms with the board's rooms.
func checkOccupancy(t *testing.T, f *fixture, book ledger, m time.Time, sites ...*Site) {
	t.Helper()
	list, err := f.svc.ListSites(f.Ctx, f.Sys, lusong, &m)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sites {
		want := book.at(s.ID, m)
		board, err := f.svc.Board(f.Ctx, f.Sys, ref(s.ID), &m)
		if err != nil {
			t.Fatal(err)
		}
		persons, free := 0, 0
		for _, r := range board.RoomList {
			persons += len(r.Occupants)
			if len(r.Occupants) == 0 {
				free++
			}
			if len(r.Occupants) > r.Beds {
				t.Fatalf("%s room %s over its beds at %s", s.Name, r.Number, m)
			}
		}
		var listed *Site
		for _, x := range list {
			if x.ID == s.ID {
				listed = x
			}
		}
		if listed == nil || board.Occupied != want || persons != want || listed.Occupied != want || board.FreeRooms != free ||
			listed.FreeRooms != free {
			t.Fatalf("%s at %s: board %d (rooms %d), list %+v, want %d; free %d", s.Name, m.Format(time.RFC3339Nano),
				board.Occupied, persons, listed, want, free)
		}
	}
}

// centralRefusals: a room over its beds, someone already in quarantine,
// a release twice, a site with persons closed, the same room, the future.
func centralRefusals(t *testing.T, f *fixture, a, b *Site, stays map[int]*Stay) {
	now := f.Clock.Now()
	_, err := f.svc.Admit(f.Ctx, f.Sys, AdmitInput{PersonInput: outsider(30), Category: Inbound, Site: b.ID, Room: "102"})
	if e := mustErr(t, err, errs.Conflict, "room_full"); e.Message != "102 房只有 1 张床位，已住满" {
		t.Fatalf("room full: %q", e.Message)
	}
	_, err = f.svc.Admit(f.Ctx, f.Sys, AdmitInput{PersonInput: PersonInput{Resident: "rtest4"}, Category: CloseContact, Site: a.ID, Room: "110"})
	mustErr(t, err, errs.Conflict, "already_in_quarantine")
	_, err = f.svc.Admit(f.Ctx, f.Sys, AdmitInput{PersonInput: outsider(10), Category: CloseContact, Site: a.ID, Room: "110"})
	mustErr(t, err, errs.Conflict, "already_in_quarantine")
	_, err = f.svc.StartHome(f.Ctx, f.Sys, HomeInput{Resident: "rtest5", Category: CloseContact})
	mustErr(t, err, errs.Conflict, "already_in_quarantine")
	_, err = f.svc.Release(f.Ctx, f.Sys, ref(stays[3].ID), ReleaseInput{Reason: Completed})
	mustErr(t, err, errs.Conflict, "already_released")
	_, err = f.svc.Transfer(f.Ctx, f.Sys, ref(stays[3].ID), TransferInput{Room: "110"})
	mustErr(t, err, errs.Conflict, "stay_ended")
	_, err = f.svc.UpdateSite(f.Ctx, f.Sys, ref(b.ID), SiteInput{Name: b.Name, Capacity: 5, Open: ptr(false)})
	mustErr(t, err, errs.Conflict, "site_occupied")
	_, err = f.svc.Transfer(f.Ctx, f.Sys, ref(stays[4].ID), TransferInput{Room: "102"})
	mustErr(t, err, errs.Invalid, "same_room")
	_, err = f.svc.Admit(f.Ctx, f.Sys, AdmitInput{PersonInput: outsider(31), Category: Inbound, Site: a.ID, Room: "110",
		StartsAt: ptr(now.Add(time.Hour))})
	mustErr(t, err, errs.Invalid, "time_in_future")
	_, err = f.svc.Admit(f.Ctx, f.Sys, AdmitInput{PersonInput: outsider(31), Category: Inbound, Site: a.ID, Room: "999"})
	mustErr(t, err, errs.Invalid, "room_not_found")
	_, err = f.svc.Admit(f.Ctx, f.Sys, AdmitInput{PersonInput: outsider(31), Category: "friend", Site: a.ID, Room: "110"})
	mustErr(t, err, errs.Invalid, "invalid_category")
	_, err = f.svc.Admit(f.Ctx, f.Sys, AdmitInput{PersonInput: PersonInput{Name: "王五", IDNumber: "123"}, Category: Inbound, Site: a.ID, Room: "110"})
	mustErr(t, err, errs.Invalid, "invalid_person")
	_, err = f.svc.Release(f.Ctx, f.Sys, ref(stays[4].ID), ReleaseInput{Reason: Completed, At: ptr(stays[4].StartsAt.Add(-time.Hour))})
	mustErr(t, err, errs.Invalid, "before_start")
	// Rooms already there, a capacity reached.
	_, err = f.svc.AddRooms(f.Ctx, f.Sys, ref(b.ID), RoomsInput{Rooms: []RoomInput{{Number: "101", Beds: 1}, {Number: "201", Beds: 0}}})
	if e := mustErr(t, err, errs.Invalid, "invalid_rooms"); len(e.Fields) != 2 {
		t.Fatalf("rooms: %+v", e.Fields)
	}
	if _, err := f.svc.UpdateSite(f.Ctx, f.Sys, ref(b.ID), SiteInput{Name: b.Name, Capacity: 2}); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.Admit(f.Ctx, f.Sys, AdmitInput{PersonInput: outsider(32), Category: Inbound, Site: b.ID, Room: "104"})
	mustErr(t, err, errs.Conflict, "site_full")

	// Scope: another street's officer sees neither; a community worker
	// reads but does not admit; the central group's member admits.
	other := f.User("hejiatu", auth.StreetOfficer, "430203002")
	if l, err := f.svc.ListSites(f.Ctx, other, "", nil); err != nil || len(l) != 0 {
		t.Fatalf("other street: %v %d", err, len(l))
	}
	_, err = f.svc.Board(f.Ctx, other, ref(a.ID), nil)
	mustErr(t, err, errs.NotFound, "site_not_found")
	_, err = f.svc.GetStay(f.Ctx, other, ref(stays[4].ID))
	mustErr(t, err, errs.NotFound, "stay_not_found")
	worker := f.User("dayuan", auth.CommunityWorker, dayuan)
	if _, err := f.svc.Board(f.Ctx, worker, ref(a.ID), nil); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.Admit(f.Ctx, worker, AdmitInput{PersonInput: outsider(33), Category: Inbound, Site: a.ID, Room: "110"})
	mustErr(t, err, errs.Forbidden, "")
	_, err = f.svc.Release(f.Ctx, worker, ref(stays[4].ID), ReleaseInput{Reason: Completed})
	mustErr(t, err, errs.Forbidden, "")
	group := f.User("jizhong", auth.WorkgroupMember, "workgroup:central_quarantine")
	st := f.admit(group, outsider(33), a, "110", now)
	if st.Name == "外来人员33" || !st.Outsider || st.IDNumber == idNumber(33) || st.Phone == "" || st.Phone == "13907330033" {
		t.Fatalf("masked: %+v", st)
	}
	if st.PlannedEnd.Sub(st.StartsAt) != 5*24*time.Hour {
		t.Fatalf("planned release: %s → %s", st.StartsAt, st.PlannedEnd)
	}
}

// centralEvents: the site's history tells admissions, the transfer out,
// the move and the release.
func centralEvents(t *testing.T, f *fixture, a, b *Site, stays map[int]*Stay) {
	evs, err := f.svc.Events(f.Ctx, f.Sys, ref(a.ID), nil)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, e := range evs {
		kinds[e.Kind]++
		if e.Kind == "transfer_out" && (e.StayID != stays[1].ID || e.To != b.Name+" 103" || e.Room != "101") {
			t.Fatalf("transfer out: %+v", e)
		}
		if e.Kind == "move" && (e.StayID != stays[2].ID || e.Room != "101" || e.To != "105") {
			t.Fatalf("move: %+v", e)
		}
	}
	if kinds["admit"] != 10 || kinds["transfer_out"] != 1 || kinds["move"] != 1 || kinds["release"] != 1 {
		t.Fatalf("events of A: %v", kinds)
	}
	evs, _ = f.svc.Events(f.Ctx, f.Sys, ref(b.ID), nil)
	kinds = map[string]int{}
	for _, e := range evs {
		kinds[e.Kind]++
	}
	if kinds["admit"] != 2 || kinds["transfer_in"] != 1 || kinds["release"] != 1 {
		t.Fatalf("events of B: %v", kinds)
	}
	st, err := f.svc.GetStay(f.Ctx, f.Sys, ref(stays[1].ID))
	if err != nil || len(st.Placements) != 2 || st.Placements[0].EndKind != "transfer" || st.Site != b.Name || st.Room != "103" {
		t.Fatalf("stay 1: %v %+v", err, st)
	}
}

// centralFigures: 芦淞区 and 大园社区 on 11-19, when everything happened.
func centralFigures(t *testing.T, f *fixture) {
	fig, err := f.svc.CentralFigures(f.Ctx, f.Sys, lusong, "2022-11-19")
	if err != nil {
		t.Fatal(err)
	}
	if fig.AdmittedToday != 11 || fig.ReleasedToday != 2 || fig.Persons != 9 || len(fig.Sites) != 2 {
		t.Fatalf("芦淞区: %+v", fig)
	}
	fig, _ = f.svc.CentralFigures(f.Ctx, f.Sys, dayuan, "2022-11-19")
	if fig.AdmittedToday != 9 || fig.ReleasedToday != 2 || fig.Persons != 7 || len(fig.Sites) != 1 {
		t.Fatalf("大园社区: %+v", fig)
	}
	_, err = f.svc.CentralFigures(f.Ctx, f.User("shifeng1", auth.StreetOfficer, "430204001"), dayuan, "2022-11-19")
	mustErr(t, err, errs.Invalid, "area_not_found")
}

// A site's capacity holds at the moment of an admission recorded after
// the fact, not only now: with its one place taken from −10 h to −5 h, a
// stay from −8 h is refused, one from −5 h taken.
func TestCentralCapacityHoldsAtBackdatedMoments(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		site := f.site("单人隔离点", "430203", 1, 2, 1)
		now := f.Clock.Now()
		first := f.admit(f.Sys, outsider(1), site, "101", now.Add(-10*time.Hour))
		if _, err := f.svc.Release(f.Ctx, f.Sys, ref(first.ID), ReleaseInput{Reason: Completed, At: ptr(now.Add(-5 * time.Hour))}); err != nil {
			t.Fatal(err)
		}
		_, err := f.svc.Admit(f.Ctx, f.Sys, AdmitInput{PersonInput: outsider(2), Category: CloseContact, Site: site.ID, Room: "102",
			StartsAt: ptr(now.Add(-8 * time.Hour))})
		if e := errs.As(err); e == nil || e.Code != "site_full" {
			t.Fatalf("a stay from −8 h in a site full then: %v", err)
		}
		f.admit(f.Sys, outsider(2), site, "102", now.Add(-5*time.Hour))
	})
}
