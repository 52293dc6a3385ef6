package app

import (
	"context"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/db/dbtest"
	"tongxin/internal/pii"
	"tongxin/internal/resumption"
	"tongxin/internal/zone"
)

// openDemoSystem opens an empty database of kind on a clock stopped at at,
// without the demo.
func openDemoSystem(t testing.TB, kind string, at time.Time) *System {
	t.Helper()
	env := &Env{Getenv: func(string) string { return "" }, Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard,
		Clock: clock.NewManual(at)}
	f := newFlags(env, "test", "test")
	if err := f.parse([]string{"--db", dbtest.URL(t, kind), "--data-dir", t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	sys, err := f.open(context.Background(), true, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sys.Close() })
	return sys
}

func countOf(t *testing.T, d *db.DB, q string) int {
	t.Helper()
	var n int
	if err := d.Read(context.Background(), func(tx *db.Tx) error { return tx.QueryRowContext(context.Background(), q).Scan(&n) }); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// TestDemoCity: the demo builds the seed's city — 735 above-scale
// industrial enterprises, 1,775 "四上" enterprises and 209 projects in the
// four urban districts — whose figures today are the seed's (86%, 76%,
// 94.3%, 77.4% of 21,504 project workers), after fourteen days of rising
// figures as known at each day's 17:00; a second run changes nothing.
func TestDemoCity(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			now := time.Date(2022, 11, 20, 16, 30, 0, 0, clock.Shanghai)
			sys := openDemoSystem(t, kind, now)
			ctx := context.Background()
			if _, err := Demo(ctx, sys); err != nil {
				t.Fatal(err)
			}
			p := auth.System()
			st, err := sys.Resumption.Stats(ctx, p, resumption.StatsQuery{})
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range []struct {
				group          string
				total, resumed int
				rate           float64
			}{
				{string(resumption.IndustrialAboveScale), 735, 632, 0.86},
				{resumption.GroupFourAbove, 1775, 1349, 0.76},
				{resumption.GroupProject, 209, 197, 0.943},
			} {
				g := st.Group(w.group)
				if g.Total != w.total || g.Resumed != w.resumed || math.Abs(g.Rate-w.rate) > 0.0005 {
					t.Errorf("%s today: %d of %d (%.4f), want %d of %d (%.3f)", w.group, g.Resumed, g.Total, g.Rate, w.resumed, w.total, w.rate)
				}
			}
			if s := st.StaffOf(resumption.GroupProject); s.Expected != 21504 || s.OnSite != 16644 || math.Abs(s.Rate-0.774) > 0.0005 {
				t.Errorf("project staff today: %d of %d (%.4f), want 16644 of 21504 (77.4%%)", s.OnSite, s.Expected, s.Rate)
			}
			if st.NotReported == 0 {
				t.Errorf("every unit has reported: a believable city has a few that never did")
			}

			trend, err := sys.Resumption.Trend(ctx, p, resumption.StatsQuery{}, 14)
			if err != nil {
				t.Fatal(err)
			}
			if len(trend) != 14 || trend[0].Date != "2022-11-07" || trend[13].Date != "2022-11-20" {
				t.Fatalf("trend has %d days from %s", len(trend), trend[0].Date)
			}
			for _, g := range []string{string(resumption.IndustrialAboveScale), resumption.GroupFourAbove, resumption.GroupProject} {
				var rates []float64
				for i, d := range trend {
					x := groupOf(d.Groups, g)
					rates = append(rates, math.Round(x.Rate*1000)/10)
					if i > 0 && x.Resumed <= groupOf(trend[i-1].Groups, g).Resumed {
						t.Errorf("%s on %s: %d resumed, not more than the day before", g, d.Date, x.Resumed)
					}
				}
				t.Logf("%s: %v", g, rates)
				if first, last := rates[0], rates[13]; first > 45 || first < 25 || last != math.Round(st.Group(g).Rate*1000)/10 {
					t.Errorf("%s climbs %v: want from 25–45%% to today's figure", g, rates)
				}
			}

			// Every unit lies in one of the four urban districts, and every
			// credit code has its check character.
			if n := countOf(t, sys.DB, `SELECT COUNT(*) FROM enterprises e WHERE substr(e.area_code, 1, 6) NOT IN ('430202', '430203', '430204', '430211')`); n != 0 {
				t.Errorf("%d units outside the urban districts", n)
			}
			keys, err := sys.Resumption.List(ctx, p, resumption.ListFilter{Kind: resumption.KindEnterprise, Limit: 2000})
			if err != nil {
				t.Fatal(err)
			}
			if len(keys) != 1775 {
				t.Errorf("%d enterprises listed, want 1775", len(keys))
			}
			for _, e := range keys {
				if _, err := pii.NormalizeCreditCode(e.Key); err != nil {
					t.Errorf("%s (%s): %v", e.Key, e.Name, err)
				}
			}

			// The desk and the checkpoints have two weeks of history too.
			nowMS := now.UnixMilli()
			for q, atLeast := range map[string]int{
				`SELECT COUNT(*) FROM tickets WHERE created_at < ` + itoa(now.AddDate(0, 0, -12).UnixMilli()):                 3,
				`SELECT COUNT(*) FROM tickets WHERE status IN ('new', 'assigned', 'in_progress') AND due_at < ` + itoa(nowMS): 3,
				`SELECT COUNT(*) FROM tickets WHERE status IN ('new', 'assigned', 'in_progress') AND due_at > ` + itoa(nowMS): 2,
				`SELECT COUNT(*) FROM tickets WHERE escalation_level > 0`:                                                     10,
				`SELECT COUNT(*) FROM tickets WHERE status = 'confirmed'`:                                                     10,
				`SELECT COUNT(*) FROM tickets WHERE status = 'resolved'`:                                                      2,
				`SELECT COUNT(*) FROM pass_batches WHERE status = 'approved'`:                                                 5,
				`SELECT COUNT(*) FROM pass_batches WHERE status = 'rejected'`:                                                 1,
				`SELECT COUNT(*) FROM pass_batches WHERE status = 'submitted' AND enterprise_key = '914302001838260003'`:      1,
				`SELECT COUNT(*) FROM passes`: 150,
				`SELECT COUNT(DISTINCT scanned_at / 3600000) FROM checkpoint_scans WHERE verdict = 'allow'`: 48,
				`SELECT COUNT(*) FROM checkpoint_scans WHERE verdict = 'deny'`:                              1,
				`SELECT COUNT(DISTINCT reading_date) FROM power_readings WHERE scope = 'city_industrial'`:   13,
			} {
				if n := countOf(t, sys.DB, q); n < atLeast {
					t.Errorf("%s = %d, want at least %d", q, n, atLeast)
				}
			}

			counts := func() [4]int {
				return [4]int{countOf(t, sys.DB, `SELECT COUNT(*) FROM enterprises`), countOf(t, sys.DB, `SELECT COUNT(*) FROM resumption_reports`),
					countOf(t, sys.DB, `SELECT COUNT(*) FROM power_readings`), countOf(t, sys.DB, `SELECT COUNT(*) FROM audit_log`)}
			}
			before := counts()
			if _, err := Demo(ctx, sys); err != nil {
				t.Fatal(err)
			}
			if after := counts(); after != before {
				t.Errorf("a second run changed the counts of enterprises, reports, readings, audit rows: %v → %v", before, after)
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func groupOf(gs []resumption.GroupStat, g string) resumption.GroupStat {
	for _, x := range gs {
		if x.Group == g {
			return x
		}
	}
	return resumption.GroupStat{Group: g}
}

// BenchmarkDemo builds the demo city on a fresh SQLite database. Beside
// the wall clock it reports the CPU time of the process (user and
// system) per run, which a shared machine does not inflate.
func BenchmarkDemo(b *testing.B) {
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		sys := openDemoSystem(b, "sqlite", time.Now())
		before := dbtest.ProcessCPU()
		b.StartTimer()
		if _, err := Demo(context.Background(), sys); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		cpu += dbtest.ProcessCPU() - before
		b.StartTimer()
	}
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
}

// TestDemoAtAnyHour: `tongxin demo` works whenever it is run. Its roster
// at 建宁大桥 once held today's 08:00–20:00 shift, which a roster refuses
// once it has ended, so from 20:00 on every demo (and every test building
// one) failed. Each hour puts the officer on the shift under way. The
// exit permit of 大园社区 once ran 09:00–17:00, so a demo made after 17:00
// had none in force: it is in force at every hour.
func TestDemoAtAnyHour(t *testing.T) {
	for _, hour := range []int{3, 8, 18, 21} {
		t.Run(strconv.Itoa(hour), func(t *testing.T) {
			now := time.Date(2022, 11, 20, hour, 30, 0, 0, clock.Shanghai)
			sys := openDemoSystem(t, "sqlite", now)
			if _, err := Demo(context.Background(), sys); err != nil {
				t.Fatalf("demo at %s: %v", now.Format("15:04"), err)
			}
			start := demoShiftStart(now)
			if start.After(now) || !now.Before(start.Add(12*time.Hour)) || (start.Hour() != 8 && start.Hour() != 20) {
				t.Fatalf("shift under way at %s starts %s", now.Format("15:04"), start.Format("01-02 15:04"))
			}
			ps, err := demoPrincipals(context.Background(), sys, "dayuan")
			if err != nil {
				t.Fatal(err)
			}
			permits, err := sys.Zones.Permits(context.Background(), ps[0], zone.PermitFilter{Area: demoTestingCommunity, Active: "true"})
			if err != nil || len(permits) != 1 {
				t.Fatalf("exit permits in force at %s: %v %v", now.Format("15:04"), permits, err)
			}
		})
	}
}
