package masstest

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/errs"
	"tongxin/internal/passtoken"
	"tongxin/internal/testcity"
)

// A community worker sees only their community, masked, page by page in
// order of place; a reveal needs a reason and is audited.
func TestRegisterScopeAndReveal(t *testing.T) {
	regEach(t, func(t *testing.T, f *regFixture) {
		officer := f.User("jianshe", auth.StreetOfficer, street)
		f.mustImport(officer, append(register(dayuan, 1, 1, 2), register(gudaqiao, 2, 1, 1)...))
		worker := f.User("dayuan", auth.CommunityWorker, dayuan)
		var seen []Household
		for n := 1; ; n++ {
			page, err := f.svc.ListHouseholds(f.Ctx, worker, HouseholdFilter{Page: n, PerPage: 15})
			if err != nil {
				t.Fatal(err)
			}
			if page.Total != 40 || page.Page != n {
				t.Fatalf("page %d: total %d, page %d", n, page.Total, page.Page)
			}
			seen = append(seen, page.Items...)
			if len(page.Items) < 15 {
				break
			}
		}
		if len(seen) != 40 {
			t.Fatalf("worker sees %d households, want 40", len(seen))
		}
		for i, h := range seen {
			if h.CommunityCode != dayuan {
				t.Fatalf("worker sees %s", h.CommunityCode)
			}
			if i > 0 && placeKeyOf(seen[i-1]) >= placeKeyOf(h) {
				t.Errorf("order: %s before %s", placeKeyOf(seen[i-1]), placeKeyOf(h))
			}
			for _, r := range h.Residents {
				if !strings.Contains(r.IDNumber, "********") || !strings.Contains(r.Phone, "****") || !strings.Contains(r.Name, "*") {
					t.Fatalf("not masked: %+v", r)
				}
			}
		}
		page, err := f.svc.ListHouseholds(f.Ctx, officer, HouseholdFilter{Area: gudaqiao, Estate: "小区1", Building: "1栋", PerPage: 100})
		if err != nil || len(page.Items) != 20 || page.Total != 20 {
			t.Fatalf("street, 古大桥: %+v, %v", page, err)
		}
		other := page.Items
		_, err = f.svc.GetHousehold(f.Ctx, worker, strconv.FormatInt(other[0].ID, 10))
		testcity.MustErr(t, err, errs.NotFound, "household_not_found")
		h, err := f.svc.GetHousehold(f.Ctx, worker, strconv.FormatInt(seen[0].ID, 10))
		if err != nil || len(h.Residents) == 0 || h.Members != len(h.Residents) {
			t.Fatalf("household: %+v %v", h, err)
		}

		r := h.Residents[0]
		ref := strconv.FormatInt(r.ID, 10)
		_, err = f.svc.RevealResidentID(f.Ctx, worker, ref, RevealInput{Reason: "  "})
		testcity.MustErr(t, err, errs.Invalid, "reason_required")
		_, err = f.svc.RevealResidentID(f.Ctx, worker, strconv.FormatInt(other[0].Residents[0].ID, 10), RevealInput{Reason: "核对"})
		testcity.MustErr(t, err, errs.NotFound, "resident_not_found")
		inspector := f.User("insp", auth.Inspector, "430200")
		_, err = f.svc.RevealResidentID(f.Ctx, inspector, ref, RevealInput{Reason: "核对"})
		testcity.MustErr(t, err, errs.Forbidden, "")
		got, err := f.svc.RevealResidentID(f.Ctx, worker, ref, RevealInput{Reason: "上门核对身份"})
		if err != nil || got.IDNumber[:6] != r.IDNumber[:6] || got.IDNumber[14:] != r.IDNumber[14:] || strings.Contains(got.IDNumber, "*") {
			t.Fatalf("reveal: %+v %v", got, err)
		}
		if n := f.Count(`SELECT COUNT(*) FROM audit_log WHERE action = 'testing.resident.reveal' AND object_id = $1
			AND summary LIKE '%上门核对身份%' AND summary NOT LIKE $2`, ref, "%"+got.IDNumber+"%"); n != 1 {
			t.Errorf("reveal audit rows = %d", n)
		}
	})
}

// Codes verify with the signer's keys and carry pseudonyms only.
func TestRegisterCodes(t *testing.T) {
	regEach(t, func(t *testing.T, f *regFixture) {
		worker := f.User("dayuan", auth.CommunityWorker, dayuan)
		people := register(dayuan, 1, 1, 1)
		f.mustImport(worker, people)
		page, err := f.svc.ListHouseholds(f.Ctx, worker, HouseholdFilter{PerPage: 100})
		if err != nil {
			t.Fatal(err)
		}
		var h Household
		for _, x := range page.Items {
			if len(x.Residents) == 3 {
				h = x
			}
		}
		codes, err := f.svc.HouseholdCodes(f.Ctx, worker, strconv.FormatInt(h.ID, 10))
		if err != nil || len(codes.Residents) != 3 {
			t.Fatalf("codes: %+v %v", codes, err)
		}
		c, kid, reason := passtoken.VerifyResident(codes.Household, f.codes.keys)
		if reason != passtoken.OK || kid != regKid || c.RID != h.Code || c.HH != h.Code || c.Area != dayuan ||
			c.Building != BuildingKey(dayuan, h.Estate, h.Building) || c.IAT != testcity.Base.Unix() {
			t.Fatalf("household code: %+v %s", c, reason)
		}
		for i, rc := range codes.Residents {
			c, reason := f.codes.VerifyResident(rc.Token)
			if reason != passtoken.OK || c.RID != h.Residents[i].Code || c.HH != h.Code || c.Name != h.Residents[i].Name {
				t.Errorf("resident code %d: %+v %s", i, c, reason)
			}
			for _, p := range people {
				if strings.Contains(rc.Token, p.id) {
					t.Fatal("a code carries an ID number")
				}
			}
		}
		dot := strings.LastIndexByte(codes.Household, '.')
		flip := map[byte]string{'A': "B"}[codes.Household[dot+1]]
		if flip == "" {
			flip = "A"
		}
		if _, reason := f.codes.VerifyResident(codes.Household[:dot+1] + flip + codes.Household[dot+2:]); reason == passtoken.OK {
			t.Error("a tampered code verifies")
		}
		if k := BuildingKey(dayuan, "小区1", "1栋"); len(k) != 16 || k == BuildingKey(dayuan, "小区1", "2栋") {
			t.Errorf("building key %q", k)
		}
		hs, cards, err := f.svc.BuildingCodes(f.Ctx, worker, dayuan, "小区1", "1栋")
		if err != nil || len(hs) != 20 || len(cards) != 20 {
			t.Fatalf("building codes: %d %d %v", len(hs), len(cards), err)
		}
		// Another module names a resident by id, scanned code, the code's
		// pseudonymous id or ID number: the same person each time, with
		// the building key the code carries; a household's code names no
		// one.
		first := h.Residents[0]
		var idNumber string
		for _, p := range people {
			if p.estate == h.Estate && p.building == h.Building && p.unit == h.Unit && p.room == h.Room &&
				strings.HasSuffix(p.id, first.IDNumber[14:]) {
				idNumber = p.id
				break
			}
		}
		for _, key := range []string{strconv.FormatInt(first.ID, 10), codes.Residents[0].Token, first.Code, idNumber} {
			r, err := f.svc.LookupResident(f.Ctx, key)
			if err != nil || r.ID != first.ID || r.Code != first.Code || r.BuildingKey != BuildingKey(dayuan, h.Estate, h.Building) ||
				r.HouseholdID != h.ID || r.AreaPath == "" {
				t.Errorf("lookup by %.20q: %+v %v", key, r, err)
			}
		}
		_, err = f.svc.LookupResident(f.Ctx, codes.Household)
		testcity.MustErr(t, err, errs.NotFound, "resident_not_found")
	})
}

// An import rebuilds the coverage of the open rounds over the communities
// it syncs: the tally counts the register's population.
func TestRegisterImportRebuildsCoverage(t *testing.T) {
	regEach(t, func(t *testing.T, f *regFixture) {
		officer := f.User("jianshe", auth.StreetOfficer, street)
		people := register(dayuan, 1, 1, 1)
		f.mustImport(officer, people)
		c, err := f.svc.CreateCampaign(f.Ctx, f.Sys, CampaignInput{Name: "大园全员核酸", AreaCode: dayuan})
		if err != nil {
			t.Fatal(err)
		}
		r, err := f.svc.CreateRound(f.Ctx, f.Sys, strconv.FormatInt(c.ID, 10), RoundInput{StartsAt: testcity.Base,
			EndsAt: testcity.Base.Add(24 * time.Hour), Mode: ModeBoth})
		if err != nil {
			t.Fatal(err)
		}
		// The register's blind index is the one sampling finds people by.
		if _, err := f.svc.Exempt(f.Ctx, f.Sys, strconv.FormatInt(r.ID, 10), ExemptionInput{IDNumber: people[1].id,
			Reason: ExemptAway}); err != nil {
			t.Fatalf("exempt by ID number: %v", err)
		}
		persons := func() int { return f.Count(`SELECT COALESCE(SUM(persons), 0) FROM testing_tally`) }
		if n := persons(); n != len(people) {
			t.Fatalf("tally persons = %d, want %d", n, len(people))
		}
		people[0].status = "已故"
		f.mustImport(officer, people[:len(people)-1])
		if n := persons(); n != len(people)-2 {
			t.Errorf("tally persons after = %d, want %d", n, len(people)-2)
		}
		// The dead left out of the next file stay dead, not moved out.
		res := f.mustImport(officer, people[1:len(people)-1])
		if s := res.Communities[0]; s.MovedOutCount != 0 || s.ChangedCount != 0 {
			t.Errorf("a file without the deceased: %+v", s)
		}
		if n := f.Count(`SELECT COUNT(*) FROM testing_residents WHERE status = 'deceased'`); n != 1 {
			t.Errorf("deceased = %d", n)
		}
	})
}

// placeKeyOf is a household's place as the list orders it.
func placeKeyOf(h Household) string {
	return strings.Join([]string{h.Estate, h.Building, h.Unit, h.Room}, "\x00")
}
