package ticket

import (
	"strings"
	"testing"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/errs"
)

func resident(desc string) PublicInput {
	return PublicInput{Name: "赵大妈", Phone: "139 0733 2468", AreaCode: "430203001001", Address: "建设南路 3 号",
		Category: "food", Description: desc}
}

// TestPublicIntake: a resident files without an account, gets a tracking
// number, follows it with the last four digits of the phone, and answers
// the resolution; wrong digits learn nothing; filings and look-ups are
// throttled.
func TestPublicIntake(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		worker := f.user("dayuan", auth.CommunityWorker, "430203001001")
		rc, err := f.svc.FilePublic(f.Ctx, "203.0.113.7", resident("家里没有菜了，腿脚不便"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(rc.Tracking, "WT20221120-") || rc.Status != New {
			t.Fatalf("receipt %+v", rc)
		}
		tk, err := f.svc.Get(f.Ctx, worker, rc.Tracking)
		if err != nil {
			t.Fatal(err)
		}
		if tk.Kind != ResidentHelp || tk.Channel != ChannelWeb || tk.CreatedBy != "public" || tk.Reporter.Phone != "139****2468" {
			t.Errorf("public ticket: %+v", tk)
		}
		if f.inbox("dayuan", "ticket.created") != 1 {
			t.Error("community not notified of a public request")
		}

		v, err := f.svc.PublicStatus(f.Ctx, "203.0.113.7", strings.ToLower(rc.Tracking), "2468")
		if err != nil {
			t.Fatal(err)
		}
		if v.Status != New || v.AreaName != "大园社区" || len(v.Steps) != 1 || v.CanConfirm {
			t.Errorf("status view %+v", v)
		}
		// Wrong digits, wrong number, someone else's number: the same answer.
		other, err := f.svc.FilePublic(f.Ctx, "198.51.100.9", PublicInput{Name: "钱先生", Phone: "13607330000",
			AreaCode: "430203001001", Description: "另一户"})
		if err != nil {
			t.Fatal(err)
		}
		var msgs []string
		for _, q := range [][2]string{{rc.Tracking, "2469"}, {"WT20221120-9999", "2468"}, {other.Tracking, "2468"}, {rc.Tracking, ""}, {"", ""}} {
			_, err := f.svc.PublicStatus(f.Ctx, "203.0.113.8", q[0], q[1])
			e := mustErr(t, err, errs.NotFound, "ticket_not_found")
			msgs = append(msgs, e.Message)
		}
		for _, m := range msgs[1:] {
			if m != msgs[0] {
				t.Errorf("answers differ: %q vs %q", m, msgs[0])
			}
		}
		// The resident answers a resolution.
		f.move(worker, rc.Tracking, Resolved, "", "网格员已送菜上门")
		_, err = f.svc.PublicConfirm(f.Ctx, "203.0.113.7", rc.Tracking, "2468", false, "")
		mustErr(t, err, errs.Invalid, "note_required")
		v, err = f.svc.PublicConfirm(f.Ctx, "203.0.113.7", rc.Tracking, "2468", false, "只送了一次，还需要")
		if err != nil {
			t.Fatal(err)
		}
		if v.Status != Reopened {
			t.Errorf("after not satisfied: %s", v.Status)
		}
		f.move(worker, rc.Tracking, Resolved, "", "已安排每日配送")
		_, err = f.svc.PublicConfirm(f.Ctx, "203.0.113.7", rc.Tracking, "2460", true, "")
		mustErr(t, err, errs.NotFound, "ticket_not_found")
		v, err = f.svc.PublicConfirm(f.Ctx, "203.0.113.7", rc.Tracking, "2468", true, "")
		if err != nil {
			t.Fatal(err)
		}
		if v.Status != Confirmed {
			t.Errorf("after satisfied: %s", v.Status)
		}
		var texts []string
		for _, s := range v.Steps {
			texts = append(texts, s.Text)
		}
		joined := strings.Join(texts, "|")
		if !strings.Contains(joined, "已办结：网格员已送菜上门") || strings.Contains(joined, "dayuan") {
			t.Errorf("steps %q", joined)
		}

		// Throttles: look-ups per address.
		for i := 0; i < MaxLookupsPerAddress; i++ {
			f.svc.PublicStatus(f.Ctx, "192.0.2.1", rc.Tracking, "0000")
		}
		_, err = f.svc.PublicStatus(f.Ctx, "192.0.2.1", rc.Tracking, "2468")
		mustErr(t, err, errs.TooMany, "too_many_requests")
		// Filings per phone (3 per hour) and per address (10 per hour).
		again := resident("再次求助")
		again.ConfirmDuplicate = true
		for i := 0; i < MaxFilingsPerPhone-1; i++ {
			if _, err := f.svc.FilePublic(f.Ctx, "192.0.2.50", again); err != nil {
				t.Fatalf("filing %d: %v", i, err)
			}
		}
		again.Description = "第四次"
		_, err = f.svc.FilePublic(f.Ctx, "192.0.2.51", again)
		mustErr(t, err, errs.TooMany, "too_many_requests")
		for i := 0; i < MaxFilingsPerAddress; i++ {
			f.svc.FilePublic(f.Ctx, "192.0.2.99", PublicInput{Name: "甲", Phone: "1360733" + strings.Repeat("1", 3) + string(rune('0'+i%10)),
				AreaCode: "430203001001", Description: "x"})
		}
		_, err = f.svc.FilePublic(f.Ctx, "192.0.2.99", PublicInput{Name: "乙", Phone: "13500000001", AreaCode: "430203001001", Description: "x"})
		mustErr(t, err, errs.TooMany, "too_many_requests")
		// An hour later the window has passed.
		f.at(testBase.Add(61 * time.Minute))
		if _, err := f.svc.FilePublic(f.Ctx, "192.0.2.99", PublicInput{Name: "乙", Phone: "13500000001", AreaCode: "430203001001", Description: "x"}); err != nil {
			t.Errorf("after the window: %v", err)
		}
		// Bad input names the field; nothing is stored.
		before := f.Count(`SELECT COUNT(*) FROM tickets`)
		_, err = f.svc.FilePublic(f.Ctx, "192.0.2.77", PublicInput{Phone: "12", AreaCode: "x", Description: ""})
		e := mustErr(t, err, errs.Invalid, "invalid_ticket")
		if len(e.Fields) == 0 || f.Count(`SELECT COUNT(*) FROM tickets`) != before {
			t.Errorf("bad public input: %+v", e)
		}
	})
}

// TestDuplicatesAndMerge: the same subject and category within 24 hours is
// a possible duplicate; a handler merges it.
func TestDuplicatesAndMerge(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		hotline := f.user("hotline", auth.HQStaff, "430200")
		worker := f.user("dayuan", auth.CommunityWorker, "430203001001")
		a := f.file(hotline, help("缺米"))
		f.at(testBase.Add(3 * time.Hour))
		in := help("还是缺米")
		in.Address = "建设南路１号 3栋201" // the same address typed differently
		b := f.file(hotline, in)
		f.at(testBase.Add(26 * time.Hour))
		c := f.file(hotline, help("又缺米了")) // 26 h after a, 23 h after b
		other := help("缺药")
		other.Category = "medical"
		d := f.file(hotline, other)

		got, err := f.svc.Get(f.Ctx, worker, b.Tracking)
		if err != nil {
			t.Fatal(err)
		}
		var dups []string
		for _, x := range got.Duplicates {
			dups = append(dups, x.Tracking)
		}
		if strings.Join(dups, ",") != a.Tracking+","+c.Tracking {
			t.Errorf("duplicates of b: %v, want a and c", dups)
		}
		ga, _ := f.svc.Get(f.Ctx, worker, a.Tracking)
		if len(ga.Duplicates) != 1 || ga.Duplicates[0].Tracking != b.Tracking {
			t.Errorf("duplicates of a: %+v", ga.Duplicates)
		}
		gd, _ := f.svc.Get(f.Ctx, worker, d.Tracking)
		if len(gd.Duplicates) != 0 {
			t.Errorf("another category is not a duplicate: %+v", gd.Duplicates)
		}

		merged, err := f.svc.Merge(f.Ctx, worker, b.Tracking, MergeInput{Into: a.Tracking, Note: "同一户"})
		if err != nil {
			t.Fatal(err)
		}
		if merged.Status != Merged || merged.MergedInto != a.Tracking || merged.DueAt != nil {
			t.Errorf("merged: %+v", merged)
		}
		_, err = f.svc.Merge(f.Ctx, worker, b.Tracking, MergeInput{Into: a.Tracking})
		mustErr(t, err, errs.Conflict, "bad_transition")
		_, err = f.svc.Merge(f.Ctx, worker, a.Tracking, MergeInput{Into: a.Tracking})
		mustErr(t, err, errs.Invalid, "invalid_merge")
		_, err = f.svc.Merge(f.Ctx, worker, c.Tracking, MergeInput{Into: "WT19990101-0001"})
		mustErr(t, err, errs.Invalid, "invalid_merge")
		street := f.user("tianyuan", auth.StreetOfficer, "430211001")
		_, err = f.svc.Merge(f.Ctx, street, c.Tracking, MergeInput{Into: a.Tracking})
		mustErr(t, err, errs.NotFound, "ticket_not_found")
		ga, _ = f.svc.Get(f.Ctx, worker, a.Tracking)
		last := ga.Events[len(ga.Events)-1]
		if last.Kind != "merged_from" || !strings.Contains(last.Note, b.Tracking) {
			t.Errorf("kept ticket's timeline: %+v", last)
		}
		if f.Count(`SELECT COUNT(*) FROM audit_log WHERE action = 'ticket.merge'`) != 1 {
			t.Error("merge not audited")
		}
	})
}

// TestStats counts opened, handled, overdue and the median time to resolve
// per department and category.
func TestStats(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		hq := f.user("hqstaff", auth.HQStaff, "430200")
		worker := f.user("dayuan", auth.CommunityWorker, "430203001001")
		mzj := f.user("mzj", auth.DepartmentOfficer, "department:mzj")
		if _, err := f.svc.SaveRoute(f.Ctx, hq, RouteInput{Category: "elderly_care", AreaCode: "430200", Department: "mzj"}); err != nil {
			t.Fatal(err)
		}
		eld := help("老人照护")
		eld.Category = "elderly_care"
		t1 := f.file(hq, eld) // 10:00
		t2 := f.file(hq, help("缺菜"))
		f.at(testBase.Add(30 * time.Minute))
		f.move(mzj, t1.Tracking, Resolved, "", "已上门") // 30 min
		f.at(testBase.Add(90 * time.Minute))
		f.move(worker, t2.Tracking, Resolved, "", "已送菜") // 90 min
		f.at(testBase.Add(24 * time.Hour))
		t3 := f.file(hq, help("第二天的求助")) // 11-21 10:00, left open
		f.at(testBase.Add(24*time.Hour + 3*time.Hour))

		from, to, err := DayRange("2022-11-20", "2022-11-21", f.Clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		st, err := f.svc.Stats(f.Ctx, hq, StatsQuery{From: from, To: to})
		if err != nil {
			t.Fatal(err)
		}
		if st.Total.Opened != 3 || st.Total.Handled != 2 || st.Total.Open != 1 || st.Total.Overdue != 1 || st.OverdueNow != 1 {
			t.Errorf("total %+v overdue_now %d", st.Total, st.OverdueNow)
		}
		if st.Total.MedianResolveMinutes == nil || *st.Total.MedianResolveMinutes != 60 {
			t.Errorf("median %v, want 60", st.Total.MedianResolveMinutes)
		}
		if len(st.PerDay) != 2 || st.PerDay[0].Opened != 2 || st.PerDay[0].Handled != 2 || st.PerDay[1].Opened != 1 {
			t.Errorf("per day %+v", st.PerDay)
		}
		byDept := map[string]Counts{}
		for _, c := range st.ByDepartment {
			byDept[c.Key] = c
		}
		if byDept["mzj"].Opened != 1 || byDept["mzj"].Name != "市民政局" || *byDept["mzj"].MedianResolveMinutes != 30 || byDept[""].Opened != 2 {
			t.Errorf("by department %+v", st.ByDepartment)
		}
		// The department officer counts only the department's tickets.
		st2, err := f.svc.Stats(f.Ctx, mzj, StatsQuery{From: from, To: to})
		if err != nil {
			t.Fatal(err)
		}
		if st2.Total.Opened != 1 {
			t.Errorf("department's own stats: %+v", st2.Total)
		}
		_ = t3
		_, err = f.svc.Stats(f.Ctx, hq, StatsQuery{From: to, To: from})
		mustErr(t, err, errs.Invalid, "bad_period")
		_, _, err = DayRange("2022/11/20", "", f.Clock.Now())
		mustErr(t, err, errs.Invalid, "bad_period")
	})
}

// TestPhotos: images only, sniffed, ≤ 5 MB.
func TestPhotos(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		hotline := f.user("hotline", auth.HQStaff, "430200")
		tk := f.file(hotline, help("门口积水"))
		png := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 100)...)
		ph, err := f.svc.AddPhoto(f.Ctx, hotline, tk.Tracking, png)
		if err != nil {
			t.Fatal(err)
		}
		if ph.MediaType != "image/png" || ph.Size != len(png) {
			t.Errorf("photo %+v", ph)
		}
		_, err = f.svc.AddPhoto(f.Ctx, hotline, tk.Tracking, []byte("%PDF-1.7 not an image"))
		mustErr(t, err, errs.Unsupported, "not_an_image")
		big := append([]byte{0xFF, 0xD8, 0xFF}, make([]byte, MaxPhotoBytes)...)
		_, err = f.svc.AddPhoto(f.Ctx, hotline, tk.Tracking, big)
		mustErr(t, err, errs.TooLarge, "photo_too_large")
		got, rc, err := f.svc.PhotoFile(f.Ctx, hotline, tk.Tracking, ph.ID)
		if err != nil {
			t.Fatal(err)
		}
		rc.Close()
		if got.MediaType != "image/png" {
			t.Errorf("served %+v", got)
		}
		outsider := f.user("tianyuan", auth.StreetOfficer, "430211001")
		_, _, err = f.svc.PhotoFile(f.Ctx, outsider, tk.Tracking, ph.ID)
		mustErr(t, err, errs.NotFound, "ticket_not_found")
	})
}
