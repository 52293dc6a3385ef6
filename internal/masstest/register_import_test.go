package masstest

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"tongxin/internal/auth"
	"tongxin/internal/errs"
	"tongxin/internal/testcity"
)

// Three communities imported, then one re-imported with one resident
// gone, one new and one changed: the answer names exactly those, the
// members are right and the other communities are untouched.
func TestRegisterImportAndSync(t *testing.T) {
	regEach(t, func(t *testing.T, f *regFixture) {
		officer := f.User("jianshe", auth.StreetOfficer, street)
		a, b, c := register(dayuan, 1, 2, 3), register(gudaqiao, 2, 2, 2), register(xinhua, 3, 1, 3)
		all := append(append(append([]regPerson{}, a...), b...), c...)
		res := f.mustImport(officer, all)
		if res.Rows != len(all) || len(res.Communities) != 3 {
			t.Fatalf("import: %d rows, %d communities", res.Rows, len(res.Communities))
		}
		for i, want := range []struct {
			code            string
			households, ppl int
		}{{dayuan, 120, len(a)}, {gudaqiao, 80, len(b)}, {xinhua, 60, len(c)}} {
			got := res.Communities[i]
			if got.Code != want.code || got.Households != want.households || got.Residents != want.ppl || !got.First ||
				got.NewHouseholds != want.households || got.MovedInCount != want.ppl || len(got.MovedIn) != 0 {
				t.Errorf("community %d: %+v", i, got)
			}
		}
		if n := f.Count(`SELECT COUNT(*) FROM testing_households`); n != 260 {
			t.Errorf("households = %d", n)
		}
		if n := f.Count(`SELECT SUM(members) FROM testing_households`); n != len(all) {
			t.Errorf("members = %d, want %d", n, len(all))
		}

		// Re-import 大园: the first resident gone, a newcomer, the second
		// with a new phone.
		gone, changed := a[0], a[1]
		next := append([]regPerson{}, a[1:]...)
		next[0].phone = "13800000001"
		newcomer := regPerson{community: dayuan, estate: "小区1", building: "1栋", unit: "1单元", room: "101", name: "欧阳新来",
			id: residentID("430203", 1990, 5, 6, 7), flags: "婴幼儿 bedridden", status: "外出"}
		next = append(next, newcomer)
		f.Clock.Set(testcity.Base.AddDate(0, 0, 1))
		res = f.mustImport(officer, next)
		if len(res.Communities) != 1 {
			t.Fatalf("communities: %+v", res.Communities)
		}
		s := res.Communities[0]
		if s.First || s.MovedInCount != 1 || s.MovedOutCount != 1 || s.ChangedCount != 1 || s.NewHouseholds != 0 ||
			s.Unchanged != len(a)-2 {
			t.Fatalf("sync: %+v", s)
		}
		if s.MovedIn[0].Name != "欧**来" || s.MovedIn[0].IDNumber != "430203********"+newcomer.id[14:] ||
			s.MovedIn[0].Address != "小区1 1栋 1单元 101" {
			t.Errorf("moved in: %+v", s.MovedIn)
		}
		if s.MovedOut[0].IDNumber != maskedID(gone.id) || s.Changed[0].IDNumber != maskedID(changed.id) ||
			!slices.Equal(s.Changed[0].Changed, []string{"phone"}) {
			t.Errorf("moved out %+v, changed %+v", s.MovedOut, s.Changed)
		}
		if n := f.Count(`SELECT COUNT(*) FROM testing_residents WHERE status = 'moved_out' AND status_date = '2022-11-21'`); n != 1 {
			t.Errorf("moved out rows = %d", n)
		}
		// 1栋 1单元 101 had a[0] alone; now the newcomer, who is away:
		// away is in the population.
		if n := f.Count(`SELECT members FROM testing_households WHERE community_code = $1 AND estate = '小区1'
			AND building = '1栋' AND unit = '1单元' AND room = '101'`, dayuan); n != 1 {
			t.Errorf("members of 101 = %d", n)
		}
		if n := f.Count(`SELECT SUM(members) FROM testing_households`); n != len(all) {
			t.Errorf("members = %d, want %d", n, len(all))
		}
		if n := f.Count(`SELECT COUNT(*) FROM testing_residents WHERE infant AND bedridden AND status = 'away'`); n != 1 {
			t.Errorf("flags and status not stored: %d", n)
		}
		if n := f.Count(`SELECT COUNT(*) FROM audit_log WHERE action = 'testing.register.import'`); n != 2 {
			t.Errorf("audit rows = %d", n)
		}
		if n := f.Count(`SELECT COUNT(*) FROM audit_log WHERE action = 'testing.register.import' AND summary LIKE $1`,
			"%"+gone.name+"%"); n != 0 {
			t.Error("the audit names a resident")
		}
	})
}

func maskedID(id string) string { return id[:6] + "********" + id[14:] }

// One bad ID number among hundreds of good rows: nothing stored, the row
// named. Repeated ID numbers, a street or grid code, a community out of
// reach and a bad birth year are row errors too.
func TestRegisterImportRefusesBadRows(t *testing.T) {
	regEach(t, func(t *testing.T, f *regFixture) {
		worker := f.User("dayuan", auth.CommunityWorker, dayuan)
		rows := register(dayuan, 1, 2, 3)
		rows[100].id = rows[100].id[:16] + "AB"
		_, err := f.svc.ImportHouseholds(f.Ctx, worker, csvOf(rows))
		e := testcity.MustErr(t, err, errs.Invalid, "import_rejected")
		if len(e.Fields) != 1 || e.Fields[0].Row != 102 || e.Fields[0].Column != "身份证号" {
			t.Errorf("fields: %+v", e.Fields)
		}
		if n := f.Count(`SELECT COUNT(*) FROM testing_residents`) + f.Count(`SELECT COUNT(*) FROM testing_households`); n != 0 {
			t.Errorf("stored %d rows", n)
		}

		good := register(dayuan, 1, 1, 1)[:3]
		bad := []regPerson{good[0], good[1], good[2], good[0]}
		bad[1].community = street
		bad[2].community = "430203001001001"
		bad[2].birthYear = "1899"
		other := good[0]
		other.community, other.id = gudaqiao, residentID("430203", 1980, 1, 1, 1)
		bad = append(bad, other)
		_, err = f.svc.ImportHouseholds(f.Ctx, worker, csvOf(bad))
		e = testcity.MustErr(t, err, errs.Invalid, "import_rejected")
		want := map[string]bool{"3 社区代码": true, "4 社区代码": true, "4 出生年份": true, "5 身份证号": true, "6 社区代码": true}
		for _, fe := range e.Fields {
			key := strconv.Itoa(fe.Row) + " " + fe.Column
			if !want[key] {
				t.Errorf("unexpected %s: %s", key, fe.Message)
			}
			delete(want, key)
		}
		if len(want) > 0 {
			t.Errorf("missing %v in %+v", want, e.Fields)
		}
	})
}

// A regPerson registered in another community moves with the file; when the
// importer cannot register that community, the row is refused.
func TestRegisterImportMovesAcrossCommunities(t *testing.T) {
	regEach(t, func(t *testing.T, f *regFixture) {
		officer := f.User("jianshe", auth.StreetOfficer, street)
		worker := f.User("dayuan", auth.CommunityWorker, dayuan)
		a, b := register(dayuan, 1, 1, 1), register(gudaqiao, 2, 1, 1)
		f.mustImport(officer, append(append([]regPerson{}, a...), b...))
		mover := b[0]
		mover.community = dayuan
		_, err := f.svc.ImportHouseholds(f.Ctx, worker, csvOf(append(append([]regPerson{}, a...), mover)))
		e := testcity.MustErr(t, err, errs.Invalid, "import_rejected")
		if len(e.Fields) != 1 || !strings.Contains(e.Fields[0].Message, "其他社区") {
			t.Errorf("fields: %+v", e.Fields)
		}
		res := f.mustImport(officer, append(append([]regPerson{}, a...), mover))
		s := res.Communities[0]
		if s.MovedInCount != 1 || s.MovedOutCount != 0 || s.ChangedCount != 0 || s.MovedIn[0].From != "古大桥社区 小区1 1栋 1单元 101" {
			t.Errorf("sync: %+v", s)
		}
		if n := f.Count(`SELECT SUM(members) FROM testing_households WHERE community_code = $1`, gudaqiao); n != len(b)-1 {
			t.Errorf("古大桥 members = %d, want %d", n, len(b)-1)
		}
		if n := f.Count(`SELECT COUNT(*) FROM testing_residents`); n != len(a)+len(b) {
			t.Errorf("residents = %d", n)
		}
	})
}
