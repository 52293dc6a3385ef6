package app

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/errs"
	"tongxin/internal/masstest"
	"tongxin/internal/quarantine"
)

// The demo's quarantine: a central quarantine hotel of 芦淞区 with some
// three dozen persons admitted over the last ten days — residents of 大园
// 社区 and people from outside the register — some released, one moved
// to a family room, one sent to hospital; and households of 大园社区 in
// home quarantine, their checks recorded on past days and about half of
// today's still to do. The two work groups' members are demo accounts.

// demoQuarantineUsers are the members of the two quarantine work groups.
var demoQuarantineUsers = []demoUser{
	{"jizhong", "集中隔离管控组成员", "workgroup_member", "workgroup:central_quarantine"},
	{"jujia", "居家隔离管控组成员", "workgroup_member", "workgroup:home_quarantine"},
}

// demoHotel is the demo's site: a generic name, not a real hotel.
const demoHotel = "芦淞区集中隔离酒店（演示）"

// demoQuarantine fills quarantine; it does nothing once a site exists.
// It runs after demoTesting, whose register it takes residents from.
func demoQuarantine(ctx context.Context, sys *System) (users []string, err error) {
	sysP := auth.System()
	if sites, err := sys.Quarantine.ListSites(ctx, sysP, "", nil); err != nil || len(sites) > 0 {
		return nil, err
	}
	for _, u := range demoQuarantineUsers {
		if _, err := sys.Auth.CreateUser(ctx, sysP, auth.NewUser{Username: u.username, DisplayName: u.name, Password: DemoPassword,
			Roles: []auth.RoleInput{{Role: u.role, Scope: u.scope}}}); err != nil && !errs.Is(err, errs.Conflict) {
			return nil, fmt.Errorf("demo: user %s: %w", u.username, err)
		}
		users = append(users, u.username)
	}
	ps, err := demoPrincipals(ctx, sys, "jizhong", "dayuan")
	if err != nil {
		return nil, err
	}
	page, err := sys.Testing.ListHouseholds(ctx, sysP, masstest.HouseholdFilter{Area: demoTestingCommunity, Page: 1, PerPage: 120})
	if err != nil {
		return nil, fmt.Errorf("demo: households: %w", err)
	}
	var residents []string
	for _, h := range page.Items {
		if len(h.Residents) > 0 && h.Residents[0].Status == masstest.Present {
			residents = append(residents, h.Residents[0].Code)
		}
	}
	if len(residents) < 40 {
		return users, nil // no register: no quarantine to show
	}
	if err := demoCentral(ctx, sys, ps[0], residents[:16]); err != nil {
		return users, err
	}
	return users, demoHome(ctx, sys, ps[1], residents[20:32])
}

// demoCentral opens the hotel (floors 2 to 4, sixteen single rooms each,
// and six family rooms on the fifth) and admits 36 persons over ten days.
func demoCentral(ctx context.Context, sys *System, p *auth.Principal, residents []string) error {
	q := sys.Quarantine
	site, err := q.CreateSite(ctx, p, quarantine.SiteInput{Name: demoHotel, Place: "芦淞区（演示地址）", AreaCode: "430203", Capacity: 60})
	if err != nil {
		return fmt.Errorf("demo: quarantine site: %w", err)
	}
	ref := strconv.FormatInt(site.ID, 10)
	var rooms []quarantine.RoomInput
	for fl := 2; fl <= 4; fl++ {
		for n := 1; n <= 16; n++ {
			rooms = append(rooms, quarantine.RoomInput{Number: strconv.Itoa(fl*100 + n), Floor: fl, Beds: 1})
		}
	}
	for n := 1; n <= 6; n++ {
		rooms = append(rooms, quarantine.RoomInput{Number: strconv.Itoa(500 + n), Floor: 5, Beds: 3})
	}
	if _, err := q.AddRooms(ctx, p, ref, quarantine.RoomsInput{Rooms: rooms}); err != nil {
		return fmt.Errorf("demo: rooms: %w", err)
	}
	now := sys.DB.Clock.Now()
	cats := []quarantine.Category{quarantine.CloseContact, quarantine.CloseContact, quarantine.Inbound, quarantine.SecondaryContact}
	var stays []*quarantine.Stay
	for i := range 36 {
		at := now.Add(-time.Duration(240-i*6) * time.Hour) // from ten days ago, one every six hours
		in := quarantine.AdmitInput{Category: cats[i%len(cats)], Site: site.ID, Room: rooms[i].Number, StartsAt: &at}
		if i < len(residents) {
			in.Resident = residents[i]
		} else {
			in.Name = string(demoSurnames[demoHash("q/%d", i)%uint32(len(demoSurnames))]) + demoGiven[i%len(demoGiven)]
			in.IDNumber = demoIDNumber(fmt.Sprintf("430211%04d%02d%02d%03d", 1960+i, 1+i%12, 1+i%28, 500+i))
			in.Phone = fmt.Sprintf("1380733%04d", 2000+i)
		}
		st, err := q.Admit(ctx, p, in)
		if err != nil {
			return fmt.Errorf("demo: admit %d: %w", i, err)
		}
		stays = append(stays, st)
	}
	return demoCentralMoves(ctx, q, p, site, stays, now)
}

// demoCentralMoves: a move to a family room, tests, a transfer to
// hospital, and the releases whose planned day has come.
func demoCentralMoves(ctx context.Context, q *quarantine.Service, p *auth.Principal, site *quarantine.Site,
	stays []*quarantine.Stay, now time.Time) error {
	move := stays[20].StartsAt.Add(20 * time.Hour)
	if _, err := q.Transfer(ctx, p, strconv.FormatInt(stays[20].ID, 10), quarantine.TransferInput{Room: "501", At: &move,
		Note: "与家属同住"}); err != nil {
		return fmt.Errorf("demo: transfer: %w", err)
	}
	for _, st := range stays {
		ref := strconv.FormatInt(st.ID, 10)
		for d := 1; d <= 5; d += 2 {
			day := st.StartsAt.In(clock.Shanghai).AddDate(0, 0, d) // a day of Shanghai, as the service reads it
			if day.After(now) {
				break
			}
			if _, err := q.RecordTest(ctx, p, ref, quarantine.TestInput{Day: day.Format(time.DateOnly), Result: quarantine.Negative}); err != nil {
				return fmt.Errorf("demo: test: %w", err)
			}
		}
	}
	hospital := stays[30].StartsAt.Add(30 * time.Hour)
	if _, err := q.Release(ctx, p, strconv.FormatInt(stays[30].ID, 10), quarantine.ReleaseInput{Reason: quarantine.ToHospital,
		At: &hospital, Note: "发热，转定点医院"}); err != nil {
		return fmt.Errorf("demo: hospital: %w", err)
	}
	for _, st := range stays {
		if st.PlannedEnd.After(now) || st.ID == stays[30].ID {
			continue
		}
		at := st.PlannedEnd
		if _, err := q.Release(ctx, p, strconv.FormatInt(st.ID, 10), quarantine.ReleaseInput{Reason: quarantine.Completed,
			At: &at}); err != nil {
			return fmt.Errorf("demo: release: %w", err)
		}
	}
	return nil
}

// demoHome puts twelve residents of 大园社区 in home quarantine, started
// one to six days ago, with the checks of past days recorded (one missed)
// and today's for every other one; those whose days are over released.
func demoHome(ctx context.Context, sys *System, p *auth.Principal, residents []string) error {
	q := sys.Quarantine
	now := sys.DB.Clock.Now()
	today := demoDay(now, demoDays-1)
	for i, code := range residents {
		start := today.AddDate(0, 0, -(1 + i%6)).Add(9 * time.Hour)
		cat := []quarantine.Category{quarantine.SecondaryContact, quarantine.CloseContact}[i%2]
		st, err := q.StartHome(ctx, p, quarantine.HomeInput{Resident: code, Category: cat, StartsAt: &start})
		if err != nil {
			return fmt.Errorf("demo: home %d: %w", i, err)
		}
		ref := strconv.FormatInt(st.ID, 10)
		for day := start; day.Before(today) && day.Before(st.PlannedEnd); day = day.AddDate(0, 0, 1) {
			in := quarantine.CheckInput{Day: day.Format(time.DateOnly), Done: true, Temperature: demoTemp(i, day), Contacted: true,
				SealIntact: true}
			if i == 5 && day.Equal(start) {
				in = quarantine.CheckInput{Day: in.Day, Reason: "上门时无人应答，已电话联系社区网格员"}
			}
			if _, err := q.RecordCheck(ctx, p, ref, in); err != nil {
				return fmt.Errorf("demo: check: %w", err)
			}
		}
		if st.PlannedEnd.Before(now) {
			at := st.PlannedEnd
			if _, err := q.Release(ctx, p, ref, quarantine.ReleaseInput{Reason: quarantine.Completed, At: &at}); err != nil {
				return fmt.Errorf("demo: home release: %w", err)
			}
			continue
		}
		if i%2 == 0 {
			if _, err := q.RecordCheck(ctx, p, ref, quarantine.CheckInput{Done: true, Temperature: demoTemp(i, today),
				Contacted: true, SealIntact: true}); err != nil {
				return fmt.Errorf("demo: check today: %w", err)
			}
		}
	}
	return nil
}

// demoTemp is a normal temperature, 36.2 to 36.9 °C.
func demoTemp(i int, day time.Time) *float64 {
	t := 36.2 + float64(demoHash("t/%d/%s", i, day.Format(time.DateOnly))%8)/10
	return &t
}
