package masstest

import (
	"strings"
	"testing"

	"tongxin/internal/auth"
	"tongxin/internal/errs"
	"tongxin/internal/testcity"
)

// A positive 10-person tube gives exactly its ten residents to retest, in
// their communities' lists, and tells those communities' workers and the
// testing group, not another community's workers.
func TestLabPoolPositiveRetests(t *testing.T) {
	eachLab(t, func(t *testing.T, f *labFixture) {
		inDayuan := f.people(dayuan, "1栋", 6)
		inGudaqiao := f.people(gudaqiao, "2栋", 4)
		others := f.people(dayuan, "3栋", 3)
		f.startRound()
		f.pool("T-P10", 10, append(append([]int64{}, inDayuan...), inGudaqiao...)...)
		f.pool("T-N5", 5, others...)
		worker := f.User("dayuan_w", auth.CommunityWorker, dayuan)
		gdqWorker := f.User("gdq_w", auth.CommunityWorker, gudaqiao)
		stranger := f.User("xhq_w", auth.CommunityWorker, xinhuaqiao)
		group := f.User("hesuan", auth.HQStaff, "430200")

		out := f.store(group, rec("T-P10", "positive"), rec("T-N5", "阴性"))
		if out.Stored != 2 || out.Retests != 10 || out.Items[0].Retests != 10 || out.Items[1].Retests != 0 {
			t.Fatalf("answer = %+v", out)
		}
		if n := f.Count(`SELECT COUNT(*) FROM testing_retests WHERE cause = 'pool_positive' AND status = 'open'`); n != 10 {
			t.Fatalf("retests = %d, want 10", n)
		}
		mine, err := f.svc.Retests(f.Ctx, worker, ListFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if mine.Total != 6 || len(mine.Items) != 6 {
			t.Fatalf("大园 sees %d retests, want 6", mine.Total)
		}
		for i, r := range mine.Items {
			if r.ResidentID != inDayuan[i] || r.Place.CommunityCode != dayuan || r.Tube != "T-P10" || r.Cause != CausePoolPositive {
				t.Fatalf("retest %d = %+v", i, r)
			}
			if strings.Contains(r.Name, "居民") && !strings.Contains(r.Name, "*") || !strings.Contains(r.IDNumber, "*") ||
				strings.Contains(r.IDNumber, labIDNumber(1)[6:14]) {
				t.Fatalf("retest %d not masked: %q %q", i, r.Name, r.IDNumber)
			}
		}
		theirs, err := f.svc.Retests(f.Ctx, gdqWorker, ListFilter{Status: "open"})
		if err != nil || theirs.Total != 4 {
			t.Fatalf("古大桥 sees %+v, %v", theirs, err)
		}
		if len(f.sent.to(worker.UserID)) != 1 || len(f.sent.to(gdqWorker.UserID)) != 1 || len(f.sent.to(stranger.UserID)) != 0 {
			t.Fatalf("messages: 大园 %d, 古大桥 %d, 新华桥 %d", len(f.sent.to(worker.UserID)), len(f.sent.to(gdqWorker.UserID)),
				len(f.sent.to(stranger.UserID)))
		}
		if m := f.sent.to(group.UserID); len(m) != 2 || m[0].Event != EventPoolPositive || !strings.Contains(m[0].Title, "6 人") {
			t.Fatalf("group's messages = %+v", m)
		}
		if n := f.Count(`SELECT COUNT(*) FROM testing_tally WHERE sampled > 0`); n != 0 {
			t.Fatalf("results changed coverage: %d rows sampled", n)
		}
	})
}

// The same batch sent twice stores each result once; an unknown tube, a
// conflicting result and a wrong result word are refused per record.
func TestLabBatchIdempotent(t *testing.T) {
	eachLab(t, func(t *testing.T, f *labFixture) {
		a, b := f.people(dayuan, "1栋", 5), f.people(dayuan, "2栋", 5)
		f.startRound()
		f.pool("T-A", 5, a...)
		f.pool("T-B", 5, b...)
		batch := []LabRecord{rec("T-A", "negative"), rec("T-B", "positive"), rec("T-X", "negative")}
		first := f.store(f.Sys, batch...)
		if first.Stored != 2 || first.Errors != 1 || first.Items[2].Code != "unknown_tube" || first.Retests != 5 {
			t.Fatalf("first = %+v", first)
		}
		second := f.store(f.Sys, batch...)
		if second.Stored != 0 || second.Repeats != 2 || second.Retests != 0 || second.Items[0].Status != LabRepeat {
			t.Fatalf("second = %+v", second)
		}
		if n := f.Count(`SELECT COUNT(*) FROM testing_retests`); n != 5 {
			t.Fatalf("retests = %d, want 5", n)
		}
		if n := f.Count(`SELECT COUNT(*) FROM audit_log WHERE action = 'testing.lab.results'`); n != 1 {
			t.Fatalf("audit rows = %d, want 1", n)
		}
		third := f.store(f.Sys, rec("T-A", "positive"), rec("T-B", "maybe"), LabRecord{Tube: "T-B", Result: "阳性",
			ReportedAt: "2030-01-01T00:00:00Z"})
		codes := []string{third.Items[0].Code, third.Items[1].Code, third.Items[2].Code}
		if strings.Join(codes, ",") != "result_conflict,invalid_result,invalid_time" || third.Items[0].Message == "" {
			t.Fatalf("third = %+v", third.Items)
		}
		if n := f.Count(`SELECT COUNT(*) FROM testing_tubes WHERE result = 'negative'`); n != 1 {
			t.Fatalf("a refused record changed a tube")
		}
		_, err := f.svc.StoreLabResults(f.Ctx, f.Sys, LabBatch{})
		testcity.MustErr(t, err, errs.Invalid, "empty_batch")
	})
}

// Lab results need testing.manage over the tube's round.
func TestLabScope(t *testing.T) {
	eachLab(t, func(t *testing.T, f *labFixture) {
		a := f.people(dayuan, "1栋", 1)
		f.startRound()
		f.pool("T-1", 1, a...)
		_, err := f.svc.StoreLabResults(f.Ctx, f.User("dyw", auth.CommunityWorker, dayuan), LabBatch{Results: []LabRecord{rec("T-1", "negative")}})
		testcity.MustErr(t, err, errs.Forbidden, "forbidden")
		other := f.store(f.User("sfstaff", auth.HQStaff, "430204"), rec("T-1", "negative"))
		if other.Items[0].Code != "unknown_tube" {
			t.Fatalf("another district's staff = %+v", other.Items[0])
		}
		mine := f.store(f.User("lsstaff", auth.HQStaff, "430203"), rec("T-1", "negative"))
		if mine.Stored != 1 {
			t.Fatalf("the district's staff = %+v", mine.Items[0])
		}
		_, err = f.svc.Retests(f.Ctx, f.User("dept", auth.DepartmentOfficer, "department:gxj"), ListFilter{})
		testcity.MustErr(t, err, errs.Forbidden, "forbidden")
	})
}

// An invalid tube asks every resident in it for a resample.
func TestLabInvalidResample(t *testing.T) {
	eachLab(t, func(t *testing.T, f *labFixture) {
		a := f.people(gudaqiao, "5栋", 5)
		f.startRound()
		f.pool("T-I", 5, a...)
		worker := f.User("gdq", auth.CommunityWorker, gudaqiao)
		out := f.store(f.Sys, rec("T-I", "invalid"))
		if out.Retests != 5 {
			t.Fatalf("answer = %+v", out)
		}
		list, err := f.svc.Retests(f.Ctx, worker, ListFilter{Round: "1", Status: "open"})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range list.Items {
			if r.Cause != CauseInvalid || r.Status != RetestOpen {
				t.Fatalf("retest = %+v", r)
			}
		}
		if m := f.sent.to(worker.UserID); len(m) != 1 || m[0].Event != EventResample {
			t.Fatalf("worker's messages = %+v", m)
		}
	})
}

// A retest's single tube closes it: negative, positive (a positive and a
// notice proposing to seal the building), or invalid (a new retest).
func TestLabRetestClosed(t *testing.T) {
	eachLab(t, func(t *testing.T, f *labFixture) {
		a := f.people(dayuan, "7栋", 5)
		f.startRound()
		f.pool("T-P5", 5, a...)
		group := f.User("hesuan", auth.HQStaff, "430200")
		f.store(f.Sys, rec("T-P5", "positive"))
		for i, bc := range []string{"R-0", "R-1", "R-2"} {
			f.sample(a[i], f.tube(bc, 1), f.openRetest(a[i]))
		}
		out := f.store(f.Sys, rec("R-0", "negative"), rec("R-1", "positive"), rec("R-2", "invalid"))
		if out.Closed != 2 || out.Positives != 1 || out.Retests != 1 || !out.Items[1].Positive {
			t.Fatalf("answer = %+v", out)
		}
		page, err := f.svc.Retests(f.Ctx, f.Sys, ListFilter{Area: dayuan})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range page.Items {
			got = append(got, string(r.Status))
		}
		if want := "negative,positive,resampled,open,open,open"; strings.Join(got, ",") != want {
			t.Fatalf("statuses = %s, want %s", strings.Join(got, ","), want)
		}
		pos, err := f.svc.Positives(f.Ctx, f.Sys, ListFilter{Area: dayuan})
		if err != nil || pos.Total != 1 || pos.Items[0].ResidentID != a[1] || pos.Items[0].Tube != "R-1" {
			t.Fatalf("positives = %+v, %v", pos, err)
		}
		var seal string
		for _, m := range f.sent.to(group.UserID) {
			if m.Event == EventPositive {
				seal = m.Title + m.Body
			}
		}
		if !strings.Contains(seal, "庐山春天 7栋") || !strings.Contains(seal, "已生成封控该楼栋的提议") || strings.Contains(seal, "居民2号") ||
			strings.Contains(seal, labIDNumber(2)) {
			t.Fatalf("sealing notice = %q", seal)
		}
		if len(f.seals.got) != 1 || f.seals.got[0].Estate != "庐山春天" || f.seals.got[0].Building != "7栋" || f.seals.got[0].Tube != "R-1" ||
			f.seals.got[0].BuildingKey != BuildingKey(f.seals.got[0].Community, "庐山春天", "7栋") {
			t.Fatalf("sealing proposals = %+v", f.seals.got)
		}
	})
}

// A positive single tube makes its resident positive.
func TestLabSinglePositive(t *testing.T) {
	eachLab(t, func(t *testing.T, f *labFixture) {
		a := f.people(gudaqiao, "9栋", 1)
		f.startRound()
		f.pool("S-1", 1, a...)
		out := f.store(f.Sys, rec("S-1", "positive"))
		if out.Positives != 1 || out.Retests != 0 {
			t.Fatalf("answer = %+v", out)
		}
		if n := f.Count(`SELECT COUNT(*) FROM testing_positives WHERE resident_id = $1`, a[0]); n != 1 {
			t.Fatalf("positives = %d", n)
		}
	})
}

// Requests storing the same results at once store each once: the others
// answer repeat (or result_conflict for a different result), and the
// pool's residents are placed once.
func TestLabConcurrentBatches(t *testing.T) {
	eachLab(t, func(t *testing.T, f *labFixture) {
		a := f.people(dayuan, "1栋", 10)
		f.startRound()
		f.pool("T-C", 10, a...)
		const n = 6
		answers := make(chan *LabSummary, n)
		errc := make(chan error, n)
		for range n {
			go func() {
				out, err := f.svc.StoreLabResults(f.Ctx, f.Sys, LabBatch{Results: []LabRecord{rec("T-C", "positive")}})
				answers <- out
				errc <- err
			}()
		}
		stored, repeats := 0, 0
		for range n {
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
			out := <-answers
			stored += out.Stored
			repeats += out.Repeats
		}
		if stored != 1 || repeats != n-1 {
			t.Fatalf("stored %d, repeats %d", stored, repeats)
		}
		if c := f.Count(`SELECT COUNT(*) FROM testing_retests`); c != 10 {
			t.Fatalf("retests = %d, want 10", c)
		}
	})
}
