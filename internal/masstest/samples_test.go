package masstest

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"testing"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/errs"
	"tongxin/internal/passtoken"
	"tongxin/internal/testcity"
)

// Three communities imported (hundreds of households), everyone sampled
// but a known set, some of them exempt: the missed list is exactly the
// known set minus the exempt, and the coverage adds up at every level
// and matches the rows rebuilt from the samples.
func TestMissedListIsExactlyWhoWasNotCovered(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		var all []seeded
		all = append(all, f.imported(dayuan, 1, 2, 4)...)
		all = append(all, f.imported(gudaqiao, 2, 1, 5)...)
		all = append(all, f.imported(xinhua, 3, 2, 3)...)
		// One who moved out is not in the population.
		gone := f.household(dayuan, "大园小区", "9栋", "1单元", "901", person{name: "迁出者", status: MovedOut})
		r := f.round(street)

		var skip, exempt []seeded
		var take []seeded
		for i, s := range all {
			switch {
			case i%17 == 3:
				skip = append(skip, s)
			case i%23 == 5:
				exempt = append(exempt, s)
			default:
				take = append(take, s)
			}
		}
		f.sampleAll(r, take, 10, "T")
		for i, s := range exempt {
			reason := []ExemptReason{ExemptAway, ExemptHospitalized, ExemptDeceased}[i%3]
			if _, err := f.svc.Exempt(f.Ctx, f.Sys, fmt.Sprint(r.ID), ExemptionInput{Resident: s.code, Reason: reason, Note: "测试"}); err != nil {
				t.Fatal(err)
			}
		}
		got, first := f.missedAll(f.Sys, r, street)
		want := codesOf(skip)
		sort.Strings(got)
		if !slices.Equal(got, want) {
			t.Fatalf("missed %v, want %v", got, want)
		}
		if first.Persons != len(skip) {
			t.Errorf("missed persons %d, want %d", first.Persons, len(skip))
		}
		if slices.Contains(got, gone[0].code) {
			t.Error("a resident who moved out is on the missed list")
		}

		c, err := f.svc.Coverage(f.Ctx, f.Sys, fmt.Sprint(r.ID), street)
		if err != nil {
			t.Fatal(err)
		}
		p := c.Persons
		if p.Total != len(all) || p.Sampled != len(take) || p.Exempt != len(exempt) || p.Missed != len(skip) {
			t.Fatalf("persons %+v, want total %d sampled %d exempt %d missed %d", p, len(all), len(take), len(exempt), len(skip))
		}
		if p.ExemptBy[ExemptAway]+p.ExemptBy[ExemptHospitalized]+p.ExemptBy[ExemptDeceased] != len(exempt) {
			t.Errorf("exempt by reason %v", p.ExemptBy)
		}
		if len(c.Children) != 3 || c.Children[0].Name != "大园社区" || c.Households.Total < 300 {
			t.Fatalf("children %+v", c.Children)
		}
		addsUp(t, c.Cover, c.Children)
		households := map[int64]bool{}
		for _, s := range all {
			households[s.household] = true
		}
		if c.Households.Total != len(households) {
			t.Errorf("households %d, want %d", c.Households.Total, len(households))
		}
		// Down to the buildings of a community.
		d, err := f.svc.Coverage(f.Ctx, f.Sys, fmt.Sprint(r.ID), dayuan)
		if err != nil {
			t.Fatal(err)
		}
		if d.Children[0].Kind != "building" || d.Children[0].Estate != "小区1" {
			t.Fatalf("community children %+v", d.Children[0])
		}
		addsUp(t, d.Cover, d.Children)
		if !reflect.DeepEqual(d.Cover, c.Children[0].Cover) {
			t.Errorf("大园社区 %+v at the street, %+v on its own", c.Children[0].Cover, d.Cover)
		}
		// The rows kept by every sample and exemption are the rows
		// rebuilt from them.
		if kept, again := f.tallySnapshot(r.ID), f.rebuilt(r); kept != again {
			t.Fatalf("kept tally\n%s\nrebuilt\n%s", kept, again)
		}
	})
}

func codesOf(list []seeded) []string {
	var out []string
	for _, s := range list {
		out = append(out, s.code)
	}
	sort.Strings(out)
	return out
}

// addsUp checks that the children's counts sum to the total's.
func addsUp(t *testing.T, total Cover, children []CoverRow) {
	t.Helper()
	var sum Cover
	for _, ch := range children {
		for _, n := range []Count{ch.Households, ch.Persons.Count} {
			if n.Total != n.Sampled+n.Exempt+n.Missed {
				t.Errorf("%s: %+v does not add up", ch.Name, n)
			}
		}
		sum.Households.Total += ch.Households.Total
		sum.Households.Sampled += ch.Households.Sampled
		sum.Households.Exempt += ch.Households.Exempt
		sum.Households.Missed += ch.Households.Missed
		sum.Persons.Total += ch.Persons.Total
		sum.Persons.Sampled += ch.Persons.Sampled
		sum.Persons.Exempt += ch.Persons.Exempt
		sum.Persons.Missed += ch.Persons.Missed
	}
	h, p := total.Households, total.Persons
	if sum.Households.Total != h.Total || sum.Households.Sampled != h.Sampled || sum.Households.Exempt != h.Exempt ||
		sum.Households.Missed != h.Missed || sum.Persons.Total != p.Total || sum.Persons.Sampled != p.Sampled ||
		sum.Persons.Exempt != p.Exempt || sum.Persons.Missed != p.Missed {
		t.Errorf("children sum to %+v, the total is %+v", sum, total)
	}
}

// A tube holds its pool size; a resident is sampled once a round; the
// same batch sent twice stores each sample once.
func TestTubesRepeatsAndResentBatches(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		people := f.estateOf(dayuan, "大园小区", 12)
		r := f.round(dayuan)
		var in []SampleInput
		for _, s := range people[:11] {
			in = append(in, sample(s, "POOL-1", 10))
		}
		res := f.record(f.Sys, r, in...)
		for i, x := range res[:10] {
			if x.Status != Created || x.Sample.Tube != "POOL-1" {
				t.Fatalf("sample %d: %+v", i, x)
			}
		}
		if res[10].Status != Refused || res[10].Code != "tube_full" {
			t.Fatalf("11th in a 10-person tube: %+v", res[10])
		}
		again := f.record(f.Sys, r, in...)
		for i := range again[:10] {
			if again[i].Status != Created || again[i].Sample.ID != res[i].Sample.ID {
				t.Fatalf("resent %d: %+v, first %+v", i, again[i], res[i])
			}
		}
		if n := f.Count(`SELECT COUNT(*) FROM testing_samples WHERE round_id = $1`, r.ID); n != 10 {
			t.Fatalf("%d samples stored, want 10", n)
		}
		// The same resident under a new client id: repeat, with the first.
		rep := f.record(f.Sys, r, SampleInput{ClientID: "other", Resident: people[0].code, Tube: "SINGLE-1", PoolSize: 1, Mode: AtSite})
		if rep[0].Status != Repeat || rep[0].Sample.Tube != "POOL-1" {
			t.Fatalf("second sample: %+v", rep[0])
		}
		if n := f.Count(`SELECT COUNT(*) FROM testing_tubes WHERE barcode = 'SINGLE-1'`); n != 0 {
			t.Fatal("a repeat made a tube")
		}
		// The 11th person, in a tube of the wrong size, then in a new tube.
		bad := f.record(f.Sys, r, SampleInput{ClientID: "x1", Resident: people[10].code, Tube: "POOL-1", PoolSize: 5, Mode: AtDoor})
		if bad[0].Code != "pool_size_mismatch" {
			t.Fatalf("wrong pool size: %+v", bad[0])
		}
		ok := f.record(f.Sys, r, SampleInput{ClientID: "x2", Resident: people[10].code, Tube: "POOL-2", PoolSize: 10, Mode: AtDoor})
		if ok[0].Status != Created {
			t.Fatalf("new tube: %+v", ok[0])
		}
		if kept, again := f.tallySnapshot(r.ID), f.rebuilt(r); kept != again {
			t.Fatalf("kept tally\n%s\nrebuilt\n%s", kept, again)
		}
	})
}

// Each refusal names its reason, and stores nothing.
func TestSampleRefusals(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		people := f.estateOf(dayuan, "大园小区", 3)
		other := f.estateOf(hejiatu, "贺家土小区", 1)
		r := f.round(dayuan)
		worker := f.User("dy_worker", auth.CommunityWorker, gudaqiao) // another community of the street
		cases := []struct {
			in   SampleInput
			code string
		}{
			{SampleInput{ClientID: "a", Resident: "nobody", Tube: "T1", PoolSize: 1, Mode: AtDoor}, "unknown_resident"},
			{SampleInput{ClientID: "b", Resident: other[0].code, Tube: "T1", PoolSize: 1, Mode: AtDoor}, "not_in_round"},
			{SampleInput{ClientID: "c", Resident: people[0].code, Tube: "T 1", PoolSize: 1, Mode: AtDoor}, "invalid_tube"},
			{SampleInput{ClientID: "d", Resident: people[0].code, Tube: "T1", PoolSize: 3, Mode: AtDoor}, "invalid_pool_size"},
			{SampleInput{ClientID: "e", Resident: people[0].code, Tube: "T1", PoolSize: 1, Mode: AtDoor,
				SampledAt: f.Clock.Now().Add(-3 * time.Hour)}, "round_not_started"},
			{SampleInput{ClientID: "f", Resident: people[0].code, Tube: "T1", PoolSize: 1, Mode: AtDoor,
				SampledAt: f.Clock.Now().Add(time.Hour)}, "sampled_in_future"},
			{SampleInput{ClientID: "g", ResidentCode: "not.a.code", Tube: "T1", PoolSize: 1, Mode: AtDoor}, "bad_resident_code"},
			{SampleInput{ClientID: "h", IDNumber: "123", Tube: "T1", PoolSize: 1, Mode: AtDoor}, "invalid_id_number"},
			{SampleInput{ClientID: "i", Resident: people[0].code, Tube: "T1", PoolSize: 1, Mode: AtSite, SiteID: 999}, "site_not_found"},
		}
		for _, c := range cases {
			res := f.record(f.Sys, r, c.in)
			if res[0].Status != Refused || res[0].Code != c.code || res[0].Message == "" {
				t.Errorf("%s: %+v, want %s", c.in.ClientID, res[0], c.code)
			}
		}
		if n := f.Count(`SELECT COUNT(*) FROM testing_samples`); n != 0 {
			t.Fatalf("%d samples stored by refusals", n)
		}
		// A worker of another community does not see this round at all.
		_, err := f.svc.RecordSamples(f.Ctx, worker, fmt.Sprint(r.ID), []SampleInput{sample(people[0], "T1", 1)})
		mustErr(t, err, errs.NotFound, "round_not_found")
		// By a scanned resident code and by ID number.
		tok, err := f.codes.SignResidents(f.Ctx, []passtoken.ResidentClaims{{RID: people[1].code, HH: "H", Name: "居*", Area: dayuan, IAT: 1}})
		if err != nil {
			t.Fatal(err)
		}
		res := f.record(f.Sys, r, SampleInput{ClientID: "j", ResidentCode: tok[0], Tube: "T2", PoolSize: 5, Mode: AtDoor},
			SampleInput{ClientID: "k", IDNumber: people[2].idNumber, Tube: "T2", PoolSize: 5, Mode: AtDoor})
		if res[0].Status != Created || res[0].Sample.ResidentID != people[1].id || res[1].Status != Created ||
			res[1].Sample.ResidentID != people[2].id {
			t.Fatalf("by code and ID number: %+v", res)
		}
		// A closed round takes no more.
		if _, err := f.svc.CloseRound(f.Ctx, f.Sys, fmt.Sprint(r.ID)); err != nil {
			t.Fatal(err)
		}
		if res := f.record(f.Sys, r, sample(people[0], "T3", 1)); res[0].Code != "round_closed" {
			t.Fatalf("closed round: %+v", res[0])
		}
	})
}

// A community worker samples their own community's residents; a member
// of a team of the campaign samples in the team's area, whatever their
// role.
func TestWhoMaySample(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		mine := f.estateOf(dayuan, "大园小区", 2)
		theirs := f.estateOf(gudaqiao, "古大桥小区", 2)
		r := f.round(street)
		worker := f.User("dy_worker", auth.CommunityWorker, dayuan)
		res := f.record(worker, r, sample(mine[0], "W1", 5), sample(theirs[0], "W1", 5))
		if res[0].Status != Created || res[1].Code != "out_of_reach" {
			t.Fatalf("worker: %+v", res)
		}
		vol := f.User("vol1", auth.Volunteer, gudaqiao)
		if _, err := f.svc.RecordSamples(f.Ctx, vol, fmt.Sprint(r.ID), []SampleInput{sample(theirs[0], "V1", 1)}); !errs.Is(err, errs.NotFound) {
			t.Fatalf("a volunteer outside any team: %v", err)
		}
		if _, err := f.svc.CreateTeam(f.Ctx, f.Sys, fmt.Sprint(r.CampaignID), TeamInput{Name: "古大桥采样一队", AreaCode: gudaqiao,
			Members: []TeamMember{{Username: "vol1", Kind: MemberVolunteer}}}); err != nil {
			t.Fatal(err)
		}
		res = f.record(vol, r, sample(theirs[0], "V1", 1), sample(mine[1], "V2", 1))
		if res[0].Status != Created || res[1].Code != "out_of_reach" {
			t.Fatalf("team member: %+v", res)
		}
	})
}

// An exemption counts until the resident is sampled; a sampled resident
// is not exempted; an infant must be one.
func TestExemptions(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		hh := f.household(dayuan, "大园小区", "1栋", "1单元", "101", person{name: "张三", birthYear: 1980},
			person{name: "张小宝", birthYear: 2021, flags: Flags{Infant: true}}, person{name: "张二", birthYear: 1982})
		r := f.round(dayuan)
		ref := fmt.Sprint(r.ID)
		if _, err := f.svc.Exempt(f.Ctx, f.Sys, ref, ExemptionInput{Resident: hh[0].code, Reason: ExemptInfant}); !errs.Is(err, errs.Invalid) {
			t.Fatalf("an adult exempted as an infant: %v", err)
		}
		for _, s := range hh[:2] {
			reason := ExemptAway
			if s.code == hh[1].code {
				reason = ExemptInfant
			}
			if _, err := f.svc.Exempt(f.Ctx, f.Sys, ref, ExemptionInput{Resident: s.code, Reason: reason}); err != nil {
				t.Fatal(err)
			}
		}
		c, _ := f.svc.Coverage(f.Ctx, f.Sys, ref, dayuan)
		if c.Persons.Exempt != 2 || c.Households.Missed != 1 {
			t.Fatalf("two of three exempt: %+v", c.Cover)
		}
		f.record(f.Sys, r, sample(hh[2], "E1", 1))
		c, _ = f.svc.Coverage(f.Ctx, f.Sys, ref, dayuan)
		if c.Households.Sampled != 1 || c.Households.Missed != 0 {
			t.Fatalf("all covered: %+v", c.Cover)
		}
		_, err := f.svc.Exempt(f.Ctx, f.Sys, ref, ExemptionInput{Resident: hh[2].code, Reason: ExemptAway})
		mustErr(t, err, errs.Conflict, "already_sampled")
		// The away resident comes back and is sampled: the exemption goes.
		f.record(f.Sys, r, sample(hh[0], "E2", 1))
		c, _ = f.svc.Coverage(f.Ctx, f.Sys, ref, dayuan)
		if c.Persons.Sampled != 2 || c.Persons.Exempt != 1 || c.Persons.ExemptBy[ExemptAway] != 0 {
			t.Fatalf("sampled after exemption: %+v", c.Persons)
		}
		if err := f.svc.Unexempt(f.Ctx, f.Sys, ref, hh[1].code); err != nil {
			t.Fatal(err)
		}
		got, _ := f.missedAll(f.Sys, r, dayuan)
		if !slices.Equal(got, []string{hh[1].code}) {
			t.Fatalf("missed after unexempt: %v", got)
		}
		if n := f.Count(`SELECT COUNT(*) FROM audit_log WHERE action LIKE 'testing.exemption.%'`); n != 3 {
			t.Errorf("%d exemption audit rows, want 3", n)
		}
		if kept, again := f.tallySnapshot(r.ID), f.rebuilt(r); kept != again {
			t.Fatalf("kept tally\n%s\nrebuilt\n%s", kept, again)
		}
	})
}

// Two rounds compared: who one covered and the other missed, each way.
func TestCompareRounds(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		people := f.estateOf(dayuan, "大园小区", 8)
		r1 := f.round(dayuan)
		r2 := f.nextRound(r1.CampaignID)
		f.sampleAll(r1, people[1:], 5, "A")
		f.sampleAll(r2, people[:len(people)-2], 5, "B")
		c, err := f.svc.Compare(f.Ctx, f.Sys, fmt.Sprint(r2.ID), fmt.Sprint(r1.ID), dayuan)
		if err != nil {
			t.Fatal(err)
		}
		var here, there []string
		for _, m := range c.MissedHere {
			here = append(here, m.Resident)
		}
		for _, m := range c.MissedThere {
			there = append(there, m.Resident)
		}
		if !slices.Equal(here, codesOf(people[len(people)-2:])) || c.MissedHereTotal != 2 {
			t.Errorf("missed in round 2, covered in 1: %v", here)
		}
		if !slices.Equal(there, []string{people[0].code}) || c.MissedThereTotal != 1 {
			t.Errorf("missed in round 1, covered in 2: %v", there)
		}
	})
}

var mustErr = func(t testing.TB, err error, k errs.Kind, code string) {
	t.Helper()
	if code == "" {
		if !errs.Is(err, k) {
			t.Fatalf("error %v, want kind %s", err, k)
		}
		return
	}
	testcity.MustErr(t, err, k, code)
}
