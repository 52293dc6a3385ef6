package ticket

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"tongxin/internal/area"
	"tongxin/internal/audit"
	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/db/dbtest"
	"tongxin/internal/notify"
)

// The escalation ladder, driven by the manual clock. Tickets are filed at
// testBase (2022-11-20 10:00, Shanghai): the default normal policy answers
// by 12:00 and resolves by 24:00 (事不过夜).

// ladderUsers creates one officer at each level above 大园社区.
func (f *fixture) ladderUsers() (hq *auth.Principal) {
	f.T.Helper()
	f.user("dayuan", auth.CommunityWorker, "430203001001")
	f.user("jianshe", auth.StreetOfficer, "430203001")
	f.user("lusong", auth.DistrictOfficer, "430203")
	return f.user("hqstaff", auth.HQStaff, "430200")
}

// get reads a ticket with its timeline, as the system.
func (f *fixture) get(ref string) *Ticket {
	f.T.Helper()
	tk, err := f.svc.Get(f.Ctx, f.Sys, ref)
	if err != nil {
		f.T.Fatalf("get %s: %v", ref, err)
	}
	return tk
}

// sweepAt moves the clock to at, sweeps once and checks how many tickets
// escalated and confirmed themselves.
func (f *fixture) sweepAt(at time.Time, escalated, confirmed int) {
	f.T.Helper()
	f.at(at)
	if r := f.sweep(); r.Escalated != escalated || r.AutoConfirmed != confirmed {
		f.T.Fatalf("sweep at %s: %+v, want %d escalated, %d auto-confirmed",
			at.In(clock.Shanghai).Format(time.DateTime), r, escalated, confirmed)
	}
}

// overdue lists the tracking numbers hq sees as overdue.
func (f *fixture) overdue(p *auth.Principal) []string {
	f.T.Helper()
	list, err := f.svc.List(f.Ctx, p, Filter{Overdue: true})
	if err != nil {
		f.T.Fatal(err)
	}
	var out []string
	for _, tk := range list {
		out = append(out, tk.Tracking)
	}
	return out
}

func eventsOf(tk *Ticket, kind string) []Event {
	var out []Event
	for _, e := range tk.Events {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

func TestSweepClimbsTheLadder(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		hq := f.ladderUsers()
		tk := f.file(f.Sys, help("独居老人家中断粮"))
		if tk.HolderLevel != "community" || tk.EscalationLevel != 0 || !tk.RespondBy.Equal(sh(2022, 11, 20, 12, 0, 0)) {
			t.Fatalf("filed: %+v", tk)
		}

		// Not a millisecond early.
		f.sweepAt(sh(2022, 11, 20, 12, 0, 0).Add(-time.Millisecond), 0, 0)

		hops := []struct {
			at                 time.Time
			from, to           string
			fromLevel, toLevel string
			user, levelName    string
		}{
			{sh(2022, 11, 20, 12, 0, 0), "430203001001", "430203001", "community", "street", "jianshe", "街道"},
			{sh(2022, 11, 20, 14, 0, 0), "430203001", "430203", "street", "district", "lusong", "区县"},
			{sh(2022, 11, 20, 16, 0, 0), "430203", "430200", "district", "city", "hqstaff", "市指挥部"},
		}
		for i, h := range hops {
			hop := i + 1
			f.sweepAt(h.at, 1, 0)
			// The same moment again, and a little later: no second hop.
			f.sweepAt(h.at, 0, 0)
			f.sweepAt(h.at.Add(time.Hour), 0, 0)
			f.at(h.at.Add(time.Hour))

			got := f.get(tk.Tracking)
			if got.EscalationLevel != hop || got.HolderArea != h.to || got.HolderLevel != h.toLevel {
				t.Fatalf("hop %d: level %d holder %s (%s)", hop, got.EscalationLevel, got.HolderArea, got.HolderLevel)
			}
			// A new respond-by from the policy (2 h from the hop); resolve-by
			// has not passed and stays.
			if want := h.at.Add(2 * time.Hour); !got.RespondBy.Equal(want) || got.DueAt == nil || !got.DueAt.Equal(want) {
				t.Errorf("hop %d: respond_by %s due %v, want %s", hop, got.RespondBy, got.DueAt, want)
			}
			if !got.ResolveBy.Equal(sh(2022, 11, 21, 0, 0, 0)) {
				t.Errorf("hop %d: resolve_by moved to %s", hop, got.ResolveBy)
			}
			if len(got.Escalations) != hop {
				t.Fatalf("hop %d: %d hops recorded", hop, len(got.Escalations))
			}
			e := got.Escalations[i]
			want := Escalation{Hop: hop, At: h.at.UTC(), Reason: "respond", FromArea: h.from, FromLevel: h.fromLevel, ToArea: h.to, ToLevel: h.toLevel}
			if e != want {
				t.Errorf("hop %d recorded as\n %+v\nwant %+v", hop, e, want)
			}
			ev := eventsOf(got, "escalated")
			if len(ev) != hop || ev[i].Actor != "system" || !strings.Contains(ev[i].Note, "升级至"+h.levelName) {
				t.Errorf("hop %d: escalation events %+v", hop, ev)
			}
			// The officers of the new level, and only they, hear of it.
			if n := f.inbox(h.user, "ticket.escalated"); n != 1 {
				t.Errorf("hop %d: %s has %d escalation notices, want 1", hop, h.user, n)
			}
			if n := f.Count(`SELECT COUNT(*) FROM notifications WHERE event = 'ticket.escalated'`); n != hop {
				t.Errorf("hop %d: %d escalation notices in all", hop, n)
			}
			if n := f.Count(`SELECT COUNT(*) FROM audit_log WHERE action = 'ticket.escalate' AND object_id = $1 AND actor = 'system'`, tk.Tracking); n != hop {
				t.Errorf("hop %d: %d audit rows", hop, n)
			}
		}
		if n := f.inbox("dayuan", "ticket.escalated"); n != 0 {
			t.Errorf("the community worker got %d escalation notices", n)
		}
		var title string
		if err := f.DB.Read(f.Ctx, func(tx *db.Tx) error {
			return tx.QueryRowContext(f.Ctx, `SELECT title FROM notifications n JOIN users u ON u.id = n.user_id
				WHERE u.username = 'hqstaff' AND n.event = 'ticket.escalated'`).Scan(&title)
		}); err != nil {
			t.Fatal(err)
		}
		if title != "工单 "+tk.Tracking+" 超时升级至市指挥部" {
			t.Errorf("notice title %q", title)
		}

		// At the city HQ the ladder ends: later sweeps, past both
		// deadlines, move nothing, and the ticket stays on the overdue board.
		f.sweepAt(sh(2022, 11, 20, 18, 0, 0), 0, 0)
		f.sweepAt(sh(2022, 11, 21, 9, 0, 0), 0, 0)
		f.sweepAt(sh(2022, 11, 25, 9, 0, 0), 0, 0)
		got := f.get(tk.Tracking)
		if got.EscalationLevel != 3 || got.HolderLevel != "city" || len(got.Escalations) != 3 || !got.Overdue {
			t.Errorf("at the city: level %d holder %s hops %d overdue %v", got.EscalationLevel, got.HolderLevel, len(got.Escalations), got.Overdue)
		}
		if !slices.Contains(f.overdue(hq), tk.Tracking) {
			t.Errorf("the ticket left the overdue list")
		}
		if n := f.Count(`SELECT COUNT(*) FROM ticket_escalations`); n != 3 {
			t.Errorf("%d hops stored", n)
		}
		if _, err := audit.Verify(f.Ctx, f.DB); err != nil {
			t.Errorf("audit chain: %v", err)
		}
	})
}

// TestSweepAnsweredTicket: answering stops respond-by, not resolve-by; a
// ticket missing both records "both".
func TestSweepAnsweredTicket(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		hq := f.ladderUsers()
		f.user("gxj", auth.DepartmentOfficer, "department:gxj")
		worker := f.principal("dayuan")

		answered := f.file(f.Sys, help("小区门口积水"))
		f.at(testBase.Add(5 * time.Minute))
		f.move(worker, answered.Tracking, InProgress, "", "已派人处理")

		// Answered, then handed to a department: still answered, so only
		// resolve-by runs.
		handed := f.file(f.Sys, help("药店缺货"))
		f.move(worker, handed.Tracking, InProgress, "", "")
		f.move(worker, handed.Tracking, Assigned, "gxj", "请工信局协调货源")

		// Medical: respond and resolve within 2 h: both pass together.
		if _, err := f.svc.SetPolicy(f.Ctx, hq, "medical", PolicyInput{Normal: &RuleInput{RespondBy: "2h", ResolveBy: "2h"}}); err != nil {
			t.Fatal(err)
		}
		in := help("透析病人需要车辆")
		in.Category = "medical"
		both := f.file(f.Sys, in)

		f.sweepAt(sh(2022, 11, 20, 12, 5, 0), 1, 0)
		if got := f.get(both.Tracking); got.EscalationLevel != 1 || got.Escalations[0].Reason != "both" ||
			!got.RespondBy.Equal(sh(2022, 11, 20, 14, 5, 0)) || !got.ResolveBy.Equal(sh(2022, 11, 20, 14, 5, 0)) {
			t.Errorf("both missed: level %d hops %+v respond %s resolve %s", got.EscalationLevel, got.Escalations, got.RespondBy, got.ResolveBy)
		}
		for _, ref := range []string{answered.Tracking, handed.Tracking} {
			if got := f.get(ref); got.EscalationLevel != 0 || got.Overdue {
				t.Errorf("%s escalated on respond-by although answered: level %d", ref, got.EscalationLevel)
			}
		}
		f.sweepAt(sh(2022, 11, 20, 14, 5, 0), 1, 0) // the medical one again
		f.sweepAt(sh(2022, 11, 20, 23, 59, 59), 1, 0)
		if n := f.Count(`SELECT COUNT(*) FROM ticket_escalations WHERE ticket_id IN ($1, $2)`, answered.ID, handed.ID); n != 0 {
			t.Fatalf("answered tickets escalated before 24:00: %d hops", n)
		}

		// 24:00: resolve-by passes for both answered tickets.
		f.sweepAt(sh(2022, 11, 21, 0, 0, 0), 2, 0)
		for _, filed := range []*Ticket{answered, handed} {
			ref := filed.Tracking
			got := f.get(ref)
			if got.EscalationLevel != 1 || got.HolderLevel != "street" || got.Escalations[0].Reason != "resolve" {
				t.Fatalf("%s at 24:00: level %d holder %s hops %+v", ref, got.EscalationLevel, got.HolderLevel, got.Escalations)
			}
			// 事不过夜 again from 00:00: by 24:00 the same day. Respond-by is
			// history; the running deadline is the new resolve-by.
			if want := sh(2022, 11, 22, 0, 0, 0); !got.ResolveBy.Equal(want) || got.DueAt == nil || !got.DueAt.Equal(want) || got.Overdue {
				t.Errorf("%s after the hop: resolve_by %s due %v overdue %v, want %s", ref, got.ResolveBy, got.DueAt, got.Overdue, want)
			}
			if !got.RespondBy.Equal(filed.RespondBy) {
				t.Errorf("%s: respond_by changed to %s", ref, got.RespondBy)
			}
		}
		if slices.Contains(f.overdue(hq), handed.Tracking) {
			t.Errorf("the handed-over ticket is listed overdue after its hop")
		}
		f.sweepAt(sh(2022, 11, 21, 0, 0, 1), 0, 0)
		f.sweepAt(sh(2022, 11, 21, 23, 59, 59), 0, 0)
		f.sweepAt(sh(2022, 11, 22, 0, 0, 0), 2, 0)
		if n := f.inbox("lusong", "ticket.escalated"); n != 3 {
			t.Errorf("district officer: %d escalation notices, want 3", n)
		}
	})
}

// TestSweepAutoConfirms: a resolved ticket waits for its reporter the
// category's confirm_after, then confirms itself; it never escalates.
func TestSweepAutoConfirms(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		hq := f.ladderUsers()
		worker := f.principal("dayuan")
		if _, err := f.svc.SetPolicy(f.Ctx, hq, "other", PolicyInput{ConfirmAfter: "24h"}); err != nil {
			t.Fatal(err)
		}
		food := f.file(f.Sys, help("缺米"))
		in := help("路灯不亮")
		in.Category = "other"
		other := f.file(f.Sys, in)
		open := f.file(f.Sys, help("无人应答的一单"))
		resolvedAt := testBase.Add(30 * time.Minute)
		f.at(resolvedAt)
		f.move(worker, food.Tracking, Resolved, "", "已送米上门")
		f.move(worker, other.Tracking, Resolved, "", "已修复")

		// Only the open one escalates, one level per sweep past its deadlines.
		f.sweepAt(sh(2022, 11, 20, 12, 0, 0), 1, 0)
		f.sweepAt(resolvedAt.Add(24*time.Hour-time.Millisecond), 1, 0)
		f.sweepAt(resolvedAt.Add(24*time.Hour), 0, 1)
		got := f.get(other.Tracking)
		if got.Status != Confirmed || got.ClosedAt == nil || !got.ClosedAt.Equal(resolvedAt.Add(24*time.Hour)) || got.AutoConfirmAt != nil {
			t.Fatalf("other after 24 h: status %s closed %v auto %v", got.Status, got.ClosedAt, got.AutoConfirmAt)
		}
		if ev := eventsOf(got, "auto_confirmed"); len(ev) != 1 || ev[0].FromStatus != Resolved || ev[0].ToStatus != Confirmed {
			t.Errorf("auto-confirm events %+v", ev)
		}
		if f.get(food.Tracking).Status != Resolved {
			t.Fatalf("food confirmed before its 72 h")
		}
		f.sweepAt(resolvedAt.Add(DefaultConfirmAfter-time.Millisecond), 1, 0)
		f.sweepAt(resolvedAt.Add(DefaultConfirmAfter), 0, 1)
		f.sweepAt(resolvedAt.Add(DefaultConfirmAfter+time.Hour), 0, 0)
		if got := f.get(food.Tracking); got.Status != Confirmed || got.EscalationLevel != 0 {
			t.Errorf("food after 72 h: %s level %d", got.Status, got.EscalationLevel)
		}
		if n := f.Count(`SELECT COUNT(*) FROM audit_log WHERE action = 'ticket.auto_confirm'`); n != 2 {
			t.Errorf("%d auto-confirmations audited", n)
		}
		// Meanwhile the unanswered one climbed to the city and stayed.
		if got := f.get(open.Tracking); got.EscalationLevel != 3 || got.HolderLevel != "city" {
			t.Errorf("open ticket: level %d at %s", got.EscalationLevel, got.HolderLevel)
		}
		if n := f.Count(`SELECT COUNT(*) FROM ticket_escalations WHERE ticket_id IN ($1, $2)`, food.ID, other.ID); n != 0 {
			t.Errorf("resolved tickets escalated: %d hops", n)
		}
	})
}

// TestSweepStartsWhereFiled: a ticket filed at a street climbs from the
// street; one filed with the city HQ never escalates.
func TestSweepStartsWhereFiled(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		hq := f.ladderUsers()
		in := help("街道办辖区内道路封闭")
		in.AreaCode = "430203001"
		street := f.file(f.Sys, in)
		in.AreaCode = "430200"
		city := f.file(f.Sys, in)
		if street.HolderLevel != "street" || city.HolderLevel != "city" {
			t.Fatalf("filed at %s and %s", street.HolderLevel, city.HolderLevel)
		}
		f.sweepAt(sh(2022, 11, 20, 12, 0, 0), 1, 0)
		f.sweepAt(sh(2022, 11, 20, 14, 0, 0), 1, 0)
		f.sweepAt(sh(2022, 11, 20, 16, 0, 0), 0, 0)
		f.sweepAt(sh(2022, 11, 21, 9, 0, 0), 0, 0)
		got := f.get(street.Tracking)
		if got.EscalationLevel != 2 || got.HolderArea != "430200" || len(got.Escalations) != 2 ||
			got.Escalations[0].FromLevel != "street" || got.Escalations[0].ToArea != "430203" || got.Escalations[1].ToLevel != "city" {
			t.Errorf("street ticket: level %d at %s, hops %+v", got.EscalationLevel, got.HolderArea, got.Escalations)
		}
		got = f.get(city.Tracking)
		if got.EscalationLevel != 0 || got.HolderArea != "430200" || len(got.Escalations) != 0 || !got.Overdue {
			t.Errorf("city ticket: level %d at %s, hops %+v, overdue %v", got.EscalationLevel, got.HolderArea, got.Escalations, got.Overdue)
		}
		if od := f.overdue(hq); !slices.Contains(od, city.Tracking) || !slices.Contains(od, street.Tracking) {
			t.Errorf("overdue list %v", od)
		}
		if f.inbox("jianshe", "ticket.escalated") != 0 || f.inbox("lusong", "ticket.escalated") != 1 || f.inbox("hqstaff", "ticket.escalated") != 1 {
			t.Errorf("notices: street %d district %d hq %d", f.inbox("jianshe", "ticket.escalated"),
				f.inbox("lusong", "ticket.escalated"), f.inbox("hqstaff", "ticket.escalated"))
		}
	})
}

// serviceOn wires a second ticket service over another handle on the same
// database, as a second instance of the program would have.
func (f *fixture) serviceOn(d *db.DB) *Service {
	areas := area.NewService(d, area.Deps{})
	users := auth.NewService(d, f.Box, auth.DefaultConfig())
	n := notify.NewService(d, notify.Deps{Box: f.Box, Areas: areas})
	return NewService(d, Deps{Box: f.Box, Areas: areas, Holders: users, Notifier: n, Enterprises: f.res, DataDir: f.T.TempDir()})
}

// TestSweepConcurrent: sweepers racing in one process and over two handles
// on one database (two instances) escalate every ticket exactly once per
// missed deadline, without errors.
func TestSweepConcurrent(t *testing.T) {
	const n = 600 // more than one SweepBatch
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			clk := clock.NewManual(testBase)
			url := dbtest.URL(t, kind)
			f := newFixture(t, dbtest.OpenURL(t, url, clk), clk)
			second := f.serviceOn(dbtest.OpenURL(t, url, clk))
			f.ladderUsers()
			ids := seedTickets(t, f, n, testBase, "430203001001")

			race := func(at time.Time, hop int) {
				t.Helper()
				f.at(at)
				var wg sync.WaitGroup
				start := make(chan struct{})
				var mu sync.Mutex
				total := 0
				for i := range 8 {
					svc := f.svc
					if i%2 == 1 {
						svc = second
					}
					wg.Go(func() {
						<-start
						r, err := svc.Sweep(context.Background())
						mu.Lock()
						defer mu.Unlock()
						total += r.Escalated
						if err != nil {
							t.Errorf("sweeper %d: %v", i, err)
						}
					})
				}
				close(start)
				wg.Wait()
				if total != n {
					t.Errorf("hop %d: sweepers report %d escalations, want %d", hop, total, n)
				}
				if r := f.sweep(); r.Escalated != 0 {
					t.Errorf("hop %d: a later pass escalated %d more", hop, r.Escalated)
				}
				if c := f.Count(`SELECT COUNT(*) FROM ticket_escalations WHERE hop = $1`, hop); c != n {
					t.Errorf("hop %d: %d rows, want %d", hop, c, n)
				}
				if c := f.Count(`SELECT COUNT(*) FROM ticket_escalations`); c != n*hop {
					t.Errorf("after hop %d: %d rows, want %d", hop, c, n*hop)
				}
				if c := f.Count(`SELECT COUNT(*) FROM tickets WHERE escalation_level = $1`, hop); c != n {
					t.Errorf("hop %d: %d tickets at level %d, want %d", hop, c, hop, n)
				}
				if c := f.Count(`SELECT COUNT(*) FROM audit_log WHERE action = 'ticket.escalate'`); c != n*hop {
					t.Errorf("after hop %d: %d audit rows, want %d", hop, c, n*hop)
				}
				if c := f.Count(`SELECT COUNT(*) FROM ticket_events WHERE kind = 'escalated'`); c != n*hop {
					t.Errorf("after hop %d: %d escalation events, want %d", hop, c, n*hop)
				}
				if c := f.Count(`SELECT COUNT(*) FROM notifications WHERE event = 'ticket.escalated'`); c != n*hop {
					t.Errorf("after hop %d: %d notices, want %d", hop, c, n*hop)
				}
			}
			race(sh(2022, 11, 20, 12, 0, 0), 1)
			if c := f.inbox("jianshe", "ticket.escalated"); c != n {
				t.Errorf("street officer: %d notices", c)
			}
			race(sh(2022, 11, 20, 14, 0, 0), 2)
			if c := f.inbox("lusong", "ticket.escalated"); c != n {
				t.Errorf("district officer: %d notices", c)
			}
			if _, err := audit.Verify(f.Ctx, f.DB); err != nil {
				t.Errorf("audit chain: %v", err)
			}
			tk := f.get(fmt.Sprint(ids[n/2]))
			if len(tk.Escalations) != 2 || tk.Escalations[0].Hop != 1 || tk.Escalations[1].Hop != 2 || tk.HolderLevel != "district" {
				t.Errorf("a ticket after two races: %s %+v", tk.HolderLevel, tk.Escalations)
			}
		})
	}
}

// TestSweepPassIsBounded: with more tickets due than SweepPassLimit, a pass
// escalates that many and says more are left, and the next pass goes on,
// each ticket moved once; RunSweeper drains such a backlog pass after pass
// without waiting for its interval.
func TestSweepPassIsBounded(t *testing.T) {
	const n = SweepPassLimit + 100
	each(t, func(t *testing.T, f *fixture) {
		f.ladderUsers()
		seedTickets(t, f, n, testBase, "430203001001")
		f.at(sh(2022, 11, 20, 12, 0, 0))
		for i, want := range []SweepResult{{Escalated: SweepPassLimit, More: true}, {Escalated: 100}, {}} {
			if r := f.sweep(); r != want {
				t.Errorf("pass %d: %+v, want %+v", i+1, r, want)
			}
		}
		if c := f.Count(`SELECT COUNT(*) FROM tickets WHERE escalation_level = 1`); c != n {
			t.Fatalf("%d tickets at level 1, want %d", c, n)
		}

		f.at(sh(2022, 11, 20, 14, 0, 0))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); f.svc.RunSweeper(ctx, time.Hour) }()
		deadline := time.Now().Add(time.Minute)
		for f.Count(`SELECT COUNT(*) FROM tickets WHERE escalation_level = 2`) < n && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
		<-done
		if c := f.Count(`SELECT COUNT(*) FROM ticket_escalations WHERE hop = 2`); c != n {
			t.Errorf("RunSweeper with an hour's interval made %d second hops, want %d at once", c, n)
		}
	})
}

// TestRunSweeper: the background loop sweeps every interval and stops with
// its context.
func TestRunSweeper(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		f.ladderUsers()
		tk := f.file(f.Sys, help("后台扫描"))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); f.svc.RunSweeper(ctx, 5*time.Millisecond) }()
		defer func() { cancel(); <-done }()
		waitLevel := func(level int) {
			t.Helper()
			deadline := time.Now().Add(10 * time.Second)
			for time.Now().Before(deadline) {
				if f.get(tk.Tracking).EscalationLevel == level {
					return
				}
				time.Sleep(5 * time.Millisecond)
			}
			t.Fatalf("ticket did not reach level %d", level)
		}
		f.at(sh(2022, 11, 20, 12, 0, 0))
		waitLevel(1)
		f.at(sh(2022, 11, 20, 14, 0, 0))
		waitLevel(2)
		time.Sleep(30 * time.Millisecond) // several more passes
		if got := f.get(tk.Tracking); got.EscalationLevel != 2 {
			t.Fatalf("level %d after idle passes", got.EscalationLevel)
		}
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("RunSweeper did not stop with its context")
		}
	})
}

// TestChunks: every batch size is cut into runs of powers of two, in
// order, without gaps or overlaps, so that a few SQL texts serve them all.
func TestChunks(t *testing.T) {
	for n := range 200 {
		next, seen := 0, map[int]bool{}
		err := db.Chunks(n, 32, func(lo, hi int) error {
			size := hi - lo
			if lo != next || size <= 0 || size > 32 || size&(size-1) != 0 {
				t.Fatalf("n=%d: chunk [%d, %d) after %d", n, lo, hi, next)
			}
			next, seen[size] = hi, true
			return nil
		})
		if err != nil || next != n || len(seen) > 6 {
			t.Fatalf("n=%d: covered %d with sizes %v (%v)", n, next, seen, err)
		}
	}
}
