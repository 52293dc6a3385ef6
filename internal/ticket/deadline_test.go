package ticket

import (
	"testing"
	"time"

	"tongxin/internal/auth"
)

// TestStateOfBoundaries checks the deadline states at their edges: by the
// share of the window left, capped at two hours for long windows, and the
// last ten minutes always about to expire.
func TestStateOfBoundaries(t *testing.T) {
	from := sh(2022, 11, 20, 10, 0, 0)
	cases := []struct {
		name   string
		window time.Duration
		left   time.Duration
		want   DeadlineState
	}{
		{"critical 2 h, just filed", 2 * time.Hour, 2 * time.Hour, DeadlineAmple},
		{"critical 2 h, 61 min left", 2 * time.Hour, 61 * time.Minute, DeadlineAmple},
		{"critical 2 h, half left", 2 * time.Hour, time.Hour, DeadlinePastHalf},
		{"critical 2 h, 31 min left", 2 * time.Hour, 31 * time.Minute, DeadlinePastHalf},
		{"critical 2 h, a quarter left", 2 * time.Hour, 30 * time.Minute, DeadlineExpiring},
		{"critical 2 h, 2 min left", 2 * time.Hour, 2 * time.Minute, DeadlineExpiring},
		{"critical 2 h, 1 ms left", 2 * time.Hour, time.Millisecond, DeadlineExpiring},
		{"critical 2 h, due now", 2 * time.Hour, 0, DeadlineOverdue},
		{"critical 2 h, 1 min late", 2 * time.Hour, -time.Minute, DeadlineOverdue},
		{"overnight 14 h, 11 h left", 14 * time.Hour, 11 * time.Hour, DeadlineAmple},
		{"overnight 14 h, 7 h left", 14 * time.Hour, 7 * time.Hour, DeadlinePastHalf},
		// A quarter of 14 h is 3.5 h, more than the cap: expiring from 2 h.
		{"overnight 14 h, 3 h left", 14 * time.Hour, 3 * time.Hour, DeadlinePastHalf},
		{"overnight 14 h, 2 h 1 min left", 14 * time.Hour, 2*time.Hour + time.Minute, DeadlinePastHalf},
		{"overnight 14 h, 2 h left", 14 * time.Hour, 2 * time.Hour, DeadlineExpiring},
		{"3 days, 18 h left", 72 * time.Hour, 18 * time.Hour, DeadlinePastHalf},
		// Ten minutes: a 10-minute window is about to expire from the start,
		// a 30-minute one from its last 10 minutes (a quarter would be 7.5).
		{"critical respond 10 min, just filed", 10 * time.Minute, 10 * time.Minute, DeadlineExpiring},
		{"urgent respond 30 min, 11 min left", 30 * time.Minute, 11 * time.Minute, DeadlinePastHalf},
		{"urgent respond 30 min, 10 min left", 30 * time.Minute, 10 * time.Minute, DeadlineExpiring},
		{"urgent respond 30 min, 16 min left", 30 * time.Minute, 16 * time.Minute, DeadlineAmple},
	}
	for _, c := range cases {
		due := from.Add(c.window)
		now := due.Add(-c.left)
		if got := StateOf(from, due, now); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
	// Without a known start only the minutes count.
	due := sh(2022, 11, 20, 12, 0, 0)
	if got := StateOf(time.Time{}, due, due.Add(-time.Hour)); got != DeadlineAmple {
		t.Errorf("no start, 1 h left: %s", got)
	}
	if got := StateOf(time.Time{}, due, due.Add(-5*time.Minute)); got != DeadlineExpiring {
		t.Errorf("no start, 5 min left: %s", got)
	}
	if got := ShareLeft(from, from.Add(2*time.Hour), from.Add(150*time.Minute)); got != -0.25 {
		t.Errorf("share 30 min late on 2 h = %v, want -0.25", got)
	}
}

// TestDeadlineStateOfTickets files tickets of each urgency and checks the
// state the service answers and the expiring filter as time passes, after
// an escalation restarts a deadline and after a reopening.
func TestDeadlineStateOfTickets(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		hq := f.user("hqstaff", auth.HQStaff, "430200")
		f.user("dayuan", auth.CommunityWorker, "430203001001")
		critical := help("独居老人突发疾病，需要送医")
		critical.Urgency, critical.Category = Critical, "medical"
		crit := f.file(hq, critical)     // respond by 10:10, resolve by 12:00
		normal := f.file(hq, help("缺菜")) // respond by 12:00, resolve by 24:00
		state := func(ref string) (DeadlineState, float64) {
			t.Helper()
			tk, err := f.svc.Get(f.Ctx, hq, ref)
			if err != nil {
				t.Fatal(err)
			}
			if tk.TimeLeftShare == nil || tk.DueFrom == nil {
				t.Fatalf("%s: no share or start: %+v", ref, tk)
			}
			return tk.DeadlineState, *tk.TimeLeftShare
		}
		expiring := func() []string {
			t.Helper()
			list, err := f.svc.List(f.Ctx, hq, Filter{Expiring: true})
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, tk := range list {
				out = append(out, tk.Tracking)
			}
			return out
		}
		// Just filed: the critical ticket's 10-minute answer is already
		// about to expire, the normal one has time.
		if s, share := state(crit.Tracking); s != DeadlineExpiring || share != 1 {
			t.Errorf("critical just filed: %s %v", s, share)
		}
		if s, _ := state(normal.Tracking); s != DeadlineAmple {
			t.Errorf("normal just filed: %s", s)
		}
		if got := expiring(); len(got) != 1 || got[0] != crit.Tracking {
			t.Errorf("expiring at 10:00: %v", got)
		}
		// Answered: its resolve-by (2 h) runs. At 11:58 two minutes are
		// left of two hours: about to expire, while the normal ticket's
		// respond-by (2 h) has 2 minutes too.
		f.move(hq, crit.Tracking, InProgress, "", "")
		f.at(sh(2022, 11, 20, 11, 0, 0))
		if s, share := state(crit.Tracking); s != DeadlinePastHalf || share != 0.5 {
			t.Errorf("critical at 11:00: %s %v", s, share)
		}
		if got := expiring(); len(got) != 0 {
			t.Errorf("expiring at 11:00: %v", got)
		}
		f.at(sh(2022, 11, 20, 11, 58, 0))
		if s, _ := state(crit.Tracking); s != DeadlineExpiring {
			t.Errorf("critical at 11:58: %s", s)
		}
		if got := expiring(); len(got) != 2 {
			t.Errorf("expiring at 11:58: %v", got)
		}
		f.at(sh(2022, 11, 20, 12, 0, 0))
		if s, share := state(crit.Tracking); s != DeadlineOverdue || share != 0 {
			t.Errorf("critical at 12:00: %s %v", s, share)
		}
		if got := expiring(); len(got) != 0 {
			t.Errorf("expiring at 12:00: %v", got)
		}
		// The sweeper escalates the normal ticket: its respond-by restarts
		// at 12:00 for 2 h, so it has time again.
		f.sweep()
		f.at(sh(2022, 11, 20, 12, 30, 0))
		tk, err := f.svc.Get(f.Ctx, hq, normal.Tracking)
		if err != nil {
			t.Fatal(err)
		}
		if tk.EscalationLevel != 1 || !tk.RespondFrom.Equal(sh(2022, 11, 20, 12, 0, 0)) || !tk.ResolveFrom.Equal(testBase) ||
			tk.DeadlineState != DeadlineAmple {
			t.Errorf("after escalation: level %d respond from %s resolve from %s state %s", tk.EscalationLevel,
				tk.RespondFrom, tk.ResolveFrom, tk.DeadlineState)
		}
		// Resolved and reopened at 13:00: resolve-by runs again from then.
		f.move(hq, normal.Tracking, Resolved, "", "已送菜上门")
		f.at(sh(2022, 11, 20, 13, 0, 0))
		tk = f.move(hq, normal.Tracking, Reopened, "", "还缺米")
		if !tk.ResolveFrom.Equal(sh(2022, 11, 20, 13, 0, 0)) || tk.DueFrom == nil || !tk.DueFrom.Equal(tk.ResolveFrom) {
			t.Errorf("after reopening: resolve from %s due from %v", tk.ResolveFrom, tk.DueFrom)
		}
		// A resolved ticket has no running deadline and no state.
		tk = f.move(hq, normal.Tracking, Resolved, "", "米也送到了")
		if tk.DeadlineState != "" || tk.TimeLeftShare != nil {
			t.Errorf("resolved: state %q share %v", tk.DeadlineState, tk.TimeLeftShare)
		}
	})
}
