package quarantine

import (
	"context"
	"fmt"
	"testing"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/testcity"
)

// The package's fixture: the demo city, the service with a fake household
// register (the testing module's part, which the app wires in).

// Communities of 建设街道 (芦淞区), and 石峰区.
const (
	jianshe  = "430203001"
	dayuan   = "430203001001"
	gudaqiao = "430203001002"
	lusong   = "430203"
	shifeng  = "430204"
)

var testBase = testcity.Base

// fakeRegister is the household register: residents by id and code, and
// the days each was sampled.
type fakeRegister struct {
	byKey   map[string]*Resident
	sampled map[int64][]time.Time
}

func (f *fakeRegister) Resident(_ context.Context, key string) (*Resident, error) {
	if r, ok := f.byKey[key]; ok {
		return r, nil
	}
	return nil, errs.E(errs.NotFound, "resident_not_found", "居民不存在")
}

func (f *fakeRegister) SampledDays(_ context.Context, ids []int64, from, to time.Time) (map[int64][]string, error) {
	out := map[int64][]string{}
	for _, id := range ids {
		for _, t := range f.sampled[id] {
			if !t.Before(from) && t.Before(to) {
				out[id] = append(out[id], dayOf(t))
			}
		}
	}
	return out, nil
}

// add registers a resident of community and answers their code.
func (f *fakeRegister) add(id int64, community, name, address string) string {
	r := &Resident{ID: id, Code: fmt.Sprintf("rtest%d", id), NameMasked: name, CommunityCode: community, HouseholdID: 1000 + id,
		Address: address, InPopulation: true}
	f.byKey[fmt.Sprint(id)] = r
	f.byKey[r.Code] = r
	return r.Code
}

type fixture struct {
	*testcity.City
	svc *Service
	reg *fakeRegister
}

func newFixture(t testing.TB, d *db.DB, clk *clock.Manual) *fixture {
	t.Helper()
	f := &fixture{City: testcity.New(t, d, clk), reg: &fakeRegister{byKey: map[string]*Resident{}, sampled: map[int64][]time.Time{}}}
	f.svc = NewService(d, Deps{Box: f.Box, Areas: f.Areas, Residents: f.reg})
	return f
}

func each(t *testing.T, fn func(t *testing.T, f *fixture)) { testcity.Each(t, newFixture, fn) }

var mustErr = testcity.MustErr

// site creates a site in areaCode with rooms 101… of beds each, as the
// system.
func (f *fixture) site(name, areaCode string, capacity, rooms, beds int) *Site {
	f.T.Helper()
	s, err := f.svc.CreateSite(f.Ctx, f.Sys, SiteInput{Name: name, Place: name + "路 1 号", AreaCode: areaCode, Capacity: capacity})
	if err != nil {
		f.T.Fatalf("site: %v", err)
	}
	var in RoomsInput
	for i := range rooms {
		in.Rooms = append(in.Rooms, RoomInput{Number: fmt.Sprint(101 + i), Floor: 1, Beds: beds})
	}
	if _, err := f.svc.AddRooms(f.Ctx, f.Sys, fmt.Sprint(s.ID), in); err != nil {
		f.T.Fatalf("rooms: %v", err)
	}
	return s
}

// outsider is the nth outsider's particulars.
func outsider(n int) PersonInput {
	return PersonInput{Name: fmt.Sprintf("外来人员%d", n), IDNumber: idNumber(n), Phone: fmt.Sprintf("1390733%04d", n)}
}

// idNumber makes the nth valid ID number (GB 11643).
func idNumber(n int) string {
	body := fmt.Sprintf("430211%s%03d", time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n).Format("20060102"), n%1000)
	weights := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, c := range body {
		sum += int(c-'0') * weights[i]
	}
	return body + string("10X98765432"[sum%11])
}

// admit admits in to room of site at t as p and fails the test on error.
func (f *fixture) admit(p *auth.Principal, person PersonInput, site *Site, room string, t time.Time) *Stay {
	f.T.Helper()
	st, err := f.svc.Admit(f.Ctx, p, AdmitInput{PersonInput: person, Category: CloseContact, Site: site.ID, Room: room, StartsAt: &t})
	if err != nil {
		f.T.Fatalf("admit: %v", err)
	}
	return st
}

func ref(id int64) string { return fmt.Sprint(id) }

func ptr[T any](v T) *T { return &v }
