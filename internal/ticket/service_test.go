package ticket

import (
	"strings"
	"testing"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/errs"
	"tongxin/internal/resumption"
)

func TestCreateRoutesAndTimes(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		hq := f.user("hqstaff", auth.HQStaff, "430200")
		f.user("dayuan", auth.CommunityWorker, "430203001001")
		f.user("gxj", auth.DepartmentOfficer, "department:gxj")
		f.user("mzj", auth.DepartmentOfficer, "department:mzj")
		hotline := f.user("hotline", auth.HQStaff, "430200")

		// Without a rule the ticket stays new with the community's office.
		tk := f.file(hotline, help("独居老人家中缺少蔬菜和米"))
		if tk.Status != New || tk.Department != "" || tk.HolderArea != "430203001001" || tk.HolderLevel != "community" {
			t.Fatalf("unrouted ticket: %+v", tk)
		}
		if !strings.HasPrefix(tk.Tracking, "WT20221120-") || tk.Tracking != "WT20221120-0001" {
			t.Errorf("tracking = %s", tk.Tracking)
		}
		// Normal: respond within 2 h, resolve overnight (filed 10:00 → 24:00).
		if !tk.RespondBy.Equal(testBase.Add(2*time.Hour)) || !tk.ResolveBy.Equal(sh(2022, 11, 21, 0, 0, 0)) {
			t.Errorf("deadlines %s / %s", tk.RespondBy, tk.ResolveBy)
		}
		if tk.Reporter.Phone != "138****0001" || tk.Reporter.Name != "王*英" && tk.Reporter.Name != "王**" {
			t.Errorf("reporter not masked: %+v", tk.Reporter)
		}
		if f.inbox("dayuan", "ticket.created") != 1 {
			t.Errorf("the community worker was not notified")
		}

		// A rule for food in 芦淞区 → 民政局; a deeper one for 建设街道 → 工信局
		// (contrived, to see that the deepest wins).
		if _, err := f.svc.SaveRoute(f.Ctx, hq, RouteInput{Category: "food", AreaCode: "430203", Department: "mzj"}); err != nil {
			t.Fatal(err)
		}
		tk2 := f.file(hotline, help("隔离户需要代购生活物资"))
		if tk2.Status != Assigned || tk2.Department != "mzj" || tk2.Tracking != "WT20221120-0002" {
			t.Fatalf("routed ticket: status %s dept %s %s", tk2.Status, tk2.Department, tk2.Tracking)
		}
		if _, err := f.svc.SaveRoute(f.Ctx, hq, RouteInput{Category: "food", AreaCode: "430203001", Department: "gxj"}); err != nil {
			t.Fatal(err)
		}
		tk3 := f.file(hotline, help("另一户缺粮"))
		if tk3.Department != "gxj" {
			t.Errorf("deepest rule lost: %s", tk3.Department)
		}
		if f.inbox("gxj", "ticket.created") != 1 || f.inbox("mzj", "ticket.created") != 1 {
			t.Errorf("departments not notified: gxj %d mzj %d", f.inbox("gxj", "ticket.created"), f.inbox("mzj", "ticket.created"))
		}
		// Urgent policy from the API's policy table.
		if _, err := f.svc.SetPolicy(f.Ctx, hq, "medical", PolicyInput{Urgent: &RuleInput{RespondBy: "15m", ResolveBy: "overnight"}}); err != nil {
			t.Fatal(err)
		}
		in := help("透析病人需要出行")
		in.Category, in.Urgency = "medical", Urgent
		tk4 := f.file(hotline, in)
		if !tk4.RespondBy.Equal(testBase.Add(15 * time.Minute)) {
			t.Errorf("urgent medical respond_by = %s", tk4.RespondBy)
		}
		// The next day starts a new sequence.
		f.at(sh(2022, 11, 21, 0, 0, 1))
		if tk5 := f.file(hotline, help("次日第一单")); tk5.Tracking != "WT20221121-0001" {
			t.Errorf("next day tracking = %s", tk5.Tracking)
		}
		if f.Count(`SELECT COUNT(*) FROM audit_log WHERE action = 'ticket.create'`) != 5 {
			t.Errorf("filings not audited")
		}
	})
}

func TestCreateRefusesBadInput(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		hotline := f.user("hotline", auth.HQStaff, "430200")
		cases := map[string]struct {
			in    Input
			field string
		}{
			"no description":   {Input{Category: "food", AreaCode: "430203001001", Address: "x"}, "description"},
			"unknown category": {Input{Category: "weather", AreaCode: "430203001001", Description: "d"}, "category"},
			"unknown area":     {Input{Category: "food", AreaCode: "999999", Description: "d"}, "area_code"},
			"no area":          {Input{Category: "food", Description: "d"}, "area_code"},
			"bad phone":        {Input{Category: "food", AreaCode: "430203001001", Description: "d", ReporterPhone: "12345"}, "reporter_phone"},
			"hotline no phone": {Input{Category: "food", AreaCode: "430203001001", Description: "d", Channel: ChannelHotline}, "reporter_phone"},
			"bad urgency":      {Input{Category: "food", AreaCode: "430203001001", Description: "d", Urgency: "now"}, "urgency"},
			"bad channel":      {Input{Category: "food", AreaCode: "430203001001", Description: "d", Channel: "fax"}, "channel"},
			"unknown firm":     {Input{Category: "logistics", Enterprise: "91430200MA4L16JQ9X", Description: "d"}, "enterprise"},
			"long text":        {Input{Category: "food", AreaCode: "430203001001", Description: strings.Repeat("长", MaxDescriptionLen+1)}, "description"},
		}
		for name, c := range cases {
			_, err := f.svc.Create(f.Ctx, hotline, c.in)
			e := mustErr(t, err, errs.Invalid, "invalid_ticket")
			found := false
			for _, fe := range e.Fields {
				found = found || fe.Field == c.field
			}
			if !found {
				t.Errorf("%s: fields %+v, want %s", name, e.Fields, c.field)
			}
		}
		if n := f.Count(`SELECT COUNT(*) FROM tickets`); n != 0 {
			t.Errorf("%d tickets stored from bad input", n)
		}
		// Without the permission: forbidden; without a login: unauthorized.
		vol := f.user("vol", auth.Volunteer, "430203001001")
		mustErr(t, func() error { _, err := f.svc.Create(f.Ctx, vol, help("x")); return err }(), errs.Forbidden, "")
		mustErr(t, func() error { _, err := f.svc.Create(f.Ctx, nil, help("x")); return err }(), errs.Unauthorized, "")
	})
}

// TestLifecycle walks a ticket through its life and checks the refusals.
func TestLifecycle(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		reporter := f.user("hotline", auth.HQStaff, "430200")
		worker := f.user("dayuan", auth.CommunityWorker, "430203001001")
		other := f.user("tianyuan", auth.StreetOfficer, "430211001")
		gxj := f.user("gxj", auth.DepartmentOfficer, "department:gxj")
		tk := f.file(reporter, help("老人无法回家"))

		// Someone else's area: not found; a department not routed to: not handler.
		_, err := f.svc.Transition(f.Ctx, other, tk.Tracking, TransitionInput{To: InProgress})
		mustErr(t, err, errs.NotFound, "ticket_not_found")
		_, err = f.svc.Transition(f.Ctx, gxj, tk.Tracking, TransitionInput{To: InProgress})
		mustErr(t, err, errs.NotFound, "ticket_not_found")

		tk = f.move(worker, tk.Tracking, Assigned, "gxj", "请工信局协调")
		if tk.Department != "gxj" || tk.DepartmentName != "市工信局" {
			t.Fatalf("assigned: %+v", tk)
		}
		tk = f.move(gxj, tk.Tracking, InProgress, "", "")
		if tk.RespondedAt == nil {
			t.Error("responded_at not set")
		}
		// resolved needs a note
		_, err = f.svc.Transition(f.Ctx, gxj, tk.Tracking, TransitionInput{To: Resolved})
		mustErr(t, err, errs.Invalid, "note_required")
		tk = f.move(gxj, tk.Tracking, Resolved, "", "已联系社区派车送老人回家")
		if tk.AutoConfirmAt == nil || !tk.AutoConfirmAt.Equal(testBase.Add(DefaultConfirmAfter)) {
			t.Errorf("auto_confirm_at = %v", tk.AutoConfirmAt)
		}
		// resolved → new is refused; only the reporter confirms.
		_, err = f.svc.Transition(f.Ctx, gxj, tk.Tracking, TransitionInput{To: New})
		mustErr(t, err, errs.Conflict, "bad_transition")
		_, err = f.svc.Transition(f.Ctx, worker, tk.Tracking, TransitionInput{To: Confirmed})
		mustErr(t, err, errs.Forbidden, "not_reporter")
		// The reporter reopens with a reason, the department resolves again,
		// the reporter confirms.
		_, err = f.svc.Transition(f.Ctx, reporter, tk.Tracking, TransitionInput{To: Reopened})
		mustErr(t, err, errs.Invalid, "note_required")
		tk = f.move(reporter, tk.Tracking, Reopened, "", "老人反映车辆未到")
		if tk.DueAt == nil {
			t.Error("reopened ticket has no running deadline")
		}
		tk = f.move(gxj, tk.Tracking, Resolved, "", "车辆已送达")
		tk = f.move(reporter, tk.Tracking, Confirmed, "", "")
		if tk.ClosedAt == nil || tk.Status != Confirmed {
			t.Fatalf("confirmed: %+v", tk)
		}
		_, err = f.svc.Transition(f.Ctx, reporter, tk.Tracking, TransitionInput{To: Reopened, Note: "again"})
		mustErr(t, err, errs.Conflict, "bad_transition")

		full, err := f.svc.Get(f.Ctx, reporter, tk.Tracking)
		if err != nil {
			t.Fatal(err)
		}
		var kinds []string
		for _, e := range full.Events {
			kinds = append(kinds, e.Kind+":"+string(e.ToStatus)+":"+e.Actor)
		}
		want := "filed:new:hotline transition:assigned:dayuan transition:in_progress:gxj transition:resolved:gxj transition:reopened:hotline transition:resolved:gxj transition:confirmed:hotline"
		if strings.Join(kinds, " ") != want {
			t.Errorf("timeline\n got %s\nwant %s", strings.Join(kinds, " "), want)
		}
		if n := f.Count(`SELECT COUNT(*) FROM audit_log WHERE action = 'ticket.transition' AND object_id = $1`, tk.Tracking); n != 6 {
			t.Errorf("%d transitions audited, want 6", n)
		}
		if f.inbox("hotline", "ticket.resolved") != 2 {
			t.Errorf("reporter not told of resolutions")
		}
		// Optimistic lock: an old version is refused.
		tk2 := f.file(reporter, help("第二单"))
		_, err = f.svc.Transition(f.Ctx, worker, tk2.Tracking, TransitionInput{To: InProgress, Version: tk2.Version + 5})
		mustErr(t, err, errs.Conflict, "stale_ticket")
		// Rejection needs a reason and closes the ticket.
		_, err = f.svc.Transition(f.Ctx, worker, tk2.Tracking, TransitionInput{To: Rejected})
		mustErr(t, err, errs.Invalid, "note_required")
		tk2 = f.move(worker, tk2.Tracking, Rejected, "", "重复反映，已在其他渠道解决")
		if tk2.ClosedAt == nil || tk2.DueAt != nil {
			t.Errorf("rejected ticket still runs: %+v", tk2)
		}
		// The reporter may reopen a rejected ticket; someone who neither
		// filed nor handles it may not.
		_, err = f.svc.Transition(f.Ctx, other, tk2.Tracking, TransitionInput{To: Reopened, Note: "x"})
		mustErr(t, err, errs.NotFound, "ticket_not_found")
		tk2 = f.move(reporter, tk2.Tracking, Reopened, "", "问题仍未解决")
		if tk2.ClosedAt != nil || tk2.DueAt == nil {
			t.Errorf("reopened rejected ticket: %+v", tk2)
		}
	})
}

// TestVisibility: officers see their subtree, department officers what is
// routed to their department, reporters their own, contacts their
// enterprise's; a list never leaks the others.
func TestVisibility(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		hq := f.user("hqstaff", auth.HQStaff, "430200")
		key := "914302001838260003"
		if _, _, err := f.res.Save(f.Ctx, f.Sys, resumption.EnterpriseInput{Key: key, Kind: resumption.KindEnterprise, Name: "千金药业",
			AreaCode: "430211001", Employees: 100}); err != nil {
			t.Fatal(err)
		}
		contact := f.user("qianjin", auth.EnterpriseContact, "enterprise:"+key)
		liaison := f.user("liaison", auth.Liaison, "430211")
		if _, err := f.res.AssignLiaison(f.Ctx, f.Sys, key, "liaison"); err != nil {
			t.Fatal(err)
		}
		gxj := f.user("gxj", auth.DepartmentOfficer, "department:gxj")
		mzj := f.user("mzj", auth.DepartmentOfficer, "department:mzj")
		street := f.user("jianshe", auth.StreetOfficer, "430203001")
		tianyuan := f.user("tianyuan", auth.DistrictOfficer, "430211")
		inspector := f.user("inspector", auth.Inspector, "430204")

		ent := f.file(contact, Input{Category: "logistics", Enterprise: key, Description: "原料运输车辆无法进园区"})
		if ent.Subject.EnterpriseName != "千金药业" || ent.AreaCode != "430211001" || ent.Kind != EnterpriseProblem {
			t.Fatalf("enterprise ticket: %+v", ent)
		}
		if f.inbox("liaison", "ticket.created") != 1 {
			t.Error("liaison not notified")
		}
		// A contact may not file about another subject.
		_, err := f.svc.Create(f.Ctx, contact, help("别的事"))
		mustErr(t, err, errs.Invalid, "invalid_ticket")

		res := f.file(hq, help("居民求助"))
		f.move(hq, res.Tracking, Assigned, "mzj", "")

		ids := func(p *auth.Principal, filter Filter) string {
			list, err := f.svc.List(f.Ctx, p, filter)
			if err != nil {
				t.Fatalf("%s list: %v", p.Username, err)
			}
			var out []string
			for _, tk := range list {
				out = append(out, tk.Tracking)
			}
			return strings.Join(out, ",")
		}
		both := res.Tracking + "," + ent.Tracking
		for _, c := range []struct {
			p    *auth.Principal
			want string
		}{
			{hq, both}, {contact, ent.Tracking}, {liaison, ent.Tracking}, {gxj, ""}, {mzj, res.Tracking},
			{street, res.Tracking}, {tianyuan, ent.Tracking}, {inspector, ""},
		} {
			if got := ids(c.p, Filter{}); got != c.want {
				t.Errorf("%s sees %q, want %q", c.p.Username, got, c.want)
			}
		}
		// Reading one out of reach is 404, as if it did not exist.
		_, err = f.svc.Get(f.Ctx, gxj, res.Tracking)
		mustErr(t, err, errs.NotFound, "ticket_not_found")
		_, err = f.svc.Get(f.Ctx, contact, res.Tracking)
		mustErr(t, err, errs.NotFound, "ticket_not_found")
		// The liaison may read and comment but not handle.
		if _, err := f.svc.Comment(f.Ctx, liaison, ent.Tracking, CommentInput{Note: "已联系交通部门"}); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.Transition(f.Ctx, liaison, ent.Tracking, TransitionInput{To: InProgress})
		mustErr(t, err, errs.Forbidden, "")
		// Filters.
		if got := ids(hq, Filter{Department: "mzj"}); got != res.Tracking {
			t.Errorf("department filter: %q", got)
		}
		if got := ids(hq, Filter{Areas: []string{"430211"}}); got != ent.Tracking {
			t.Errorf("area filter: %q", got)
		}
		if got := ids(hq, Filter{Statuses: []Status{New}}); got != ent.Tracking {
			t.Errorf("status filter: %q", got)
		}
		f.at(testBase.Add(3 * time.Hour))
		if got := ids(hq, Filter{Overdue: true}); got != both {
			t.Errorf("overdue filter after 3 h: %q", got)
		}
	})
}

// TestReassignAfterAnswer: once a ticket has been answered, moving it to
// another department does not bring its respond-by back: it is not
// overdue, and the sweeper leaves it alone until resolve-by.
func TestReassignAfterAnswer(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		hotline := f.user("hotline", auth.HQStaff, "430200")
		worker := f.user("dayuan", auth.CommunityWorker, "430203001001")
		tk := f.file(hotline, help("需要协调"))
		f.at(testBase.Add(time.Hour))
		f.move(worker, tk.Tracking, InProgress, "", "")
		f.at(testBase.Add(3 * time.Hour)) // respond-by (12:00) has passed
		tk = f.move(worker, tk.Tracking, Assigned, "mzj", "转民政局")
		if tk.Overdue || tk.DueAt == nil || !tk.DueAt.Equal(tk.ResolveBy) {
			t.Fatalf("reassigned answered ticket: overdue %v due %v resolve_by %v", tk.Overdue, tk.DueAt, tk.ResolveBy)
		}
		if r := f.sweep(); r.Escalated != 0 {
			t.Errorf("sweeper escalated an answered ticket before resolve-by: %+v", r)
		}
	})
}

// A reporter's full phone needs pii.reveal over the ticket, for a reason,
// and is audited: the community worker and the street officer of its area
// and the officer of the department it is routed to may (they call people
// back); a district officer, HQ staff and the system administrator, who
// handle tickets without pii.reveal, get 403, as do readers; a department
// officer's pii.reveal never reaches tickets not routed to it.
func TestRevealPhoneNeedsPIIReveal(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		hq := f.user("hqstaff", auth.HQStaff, "430200")
		tk := f.file(hq, Input{Category: "elderly_care", AreaCode: "430203001001", Channel: ChannelHotline,
			ReporterName: "张桂英", ReporterPhone: "13807331234", Description: "独居老人需要送菜"})
		f.move(hq, tk.Tracking, Assigned, "mzj", "")
		for _, c := range []struct {
			p    *auth.Principal
			kind errs.Kind
			code string
		}{
			{f.user("dayuan", auth.CommunityWorker, "430203001001"), "", ""},
			{f.user("jianshe", auth.StreetOfficer, "430203001"), "", ""},
			{f.user("minzheng", auth.DepartmentOfficer, "department:mzj"), "", ""},
			{f.user("commander", auth.HQCommander, "430200"), "", ""},
			{f.user("lusong", auth.DistrictOfficer, "430203"), errs.Forbidden, "forbidden"},
			{hq, errs.Forbidden, "forbidden"},
			{f.user("admin", auth.SystemAdmin, "430200"), errs.Forbidden, "forbidden"},
			{f.user("inspector", auth.Inspector, "430200"), errs.Forbidden, "forbidden"},
			{f.user("gxj", auth.DepartmentOfficer, "department:gxj"), errs.NotFound, "ticket_not_found"},
			{f.user("hetang", auth.CommunityWorker, "430202001001"), errs.NotFound, "ticket_not_found"},
		} {
			phone, err := f.svc.RevealPhone(f.Ctx, c.p, tk.Tracking, "回访老人")
			if c.kind == "" {
				if err != nil || phone != "13807331234" {
					t.Errorf("%s: %q %v", c.p.Username, phone, err)
				}
				continue
			}
			if phone != "" {
				t.Errorf("%s got the phone", c.p.Username)
			}
			if e := errs.As(err); e == nil || e.Kind != c.kind || e.Code != c.code {
				t.Errorf("%s: %v, want %s/%s", c.p.Username, err, c.kind, c.code)
			}
		}
		if n := f.Count(`SELECT COUNT(*) FROM audit_log WHERE action = 'ticket.reveal_phone' AND summary LIKE '%事由：回访老人%'`); n != 4 {
			t.Errorf("%d reveals audited, want 4", n)
		}
		if n := f.Count(`SELECT COUNT(*) FROM audit_log WHERE summary LIKE '%13807331234%'`); n != 0 {
			t.Errorf("the full phone is in %d audit rows", n)
		}
	})
}

// The routing rules a caller lists are those of their areas and of the
// areas above them, never another district's.
func TestRoutesWithinReach(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		hq := f.user("hqstaff", auth.HQStaff, "430200")
		lusong := f.user("lusong", auth.DistrictOfficer, "430203")
		jianshe := f.user("jianshe", auth.StreetOfficer, "430203001")
		lsDept := f.user("lswjj", auth.DepartmentOfficer, "department:ls_wjj")
		for _, in := range []RouteInput{
			{Category: "food", AreaCode: "430200", Department: "swj"},
			{Category: "food", AreaCode: "430203", Department: "mzj"},
			{Category: "food", AreaCode: "430203001", Department: "gxj"},
			{Category: "food", AreaCode: "430204", Department: "sf_jw"},
		} {
			if _, err := f.svc.SaveRoute(f.Ctx, hq, in); err != nil {
				t.Fatal(err)
			}
		}
		areas := func(p *auth.Principal) string {
			list, err := f.svc.Routes(f.Ctx, p)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, r := range list {
				out = append(out, r.AreaCode)
			}
			return strings.Join(out, " ")
		}
		for _, c := range []struct {
			p    *auth.Principal
			want string
		}{
			{hq, "430200 430203 430203001 430204"},
			{auth.System(), "430200 430203 430203001 430204"},
			{lusong, "430200 430203 430203001"},
			{jianshe, "430200 430203 430203001"},
			{lsDept, "430200 430203 430203001"},
		} {
			if got := areas(c.p); got != c.want {
				t.Errorf("%s sees the rules of %q, want %q", c.p.Actor(), got, c.want)
			}
		}
	})
}
