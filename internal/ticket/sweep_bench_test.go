package ticket

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"tongxin/internal/area"
	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/db/dbtest"
)

// seedTickets writes n new, unanswered food tickets straight into the table,
// filed at `at` under the default normal policy (respond within 2 h, resolve
// overnight) and spread over the areas named by codes in turn: the setup of
// tests and benchmarks that need many open tickets, not a way to file them.
// It returns their ids in insertion order.
func seedTickets(tb testing.TB, f *fixture, n int, at time.Time, codes ...string) []int64 {
	tb.Helper()
	var areas []*area.Area
	for _, c := range codes {
		a, err := f.Areas.Lookup(f.Ctx, c)
		if err != nil {
			tb.Fatalf("seed: area %s: %v", c, err)
		}
		areas = append(areas, a)
	}
	pol := DefaultPolicy(Normal)
	respondBy, resolveBy := pol.RespondBy.Due(at).UnixMilli(), pol.ResolveBy.Due(at).UnixMilli()
	due := min(respondBy, resolveBy)
	created := at.UnixMilli()
	day := at.In(clock.Shanghai).Format("20060102")
	ids := make([]int64, 0, n)
	const chunk = 500
	err := f.DB.Write(f.Ctx, func(tx *db.Tx) error {
		ids = ids[:0]
		for lo := 0; lo < n; lo += chunk {
			hi := min(lo+chunk, n)
			var b strings.Builder
			b.WriteString(`INSERT INTO tickets (tracking, kind, category, urgency, channel, status, subject_kind,
				area_code, area_name, area_path, description, holder_code, holder_depth, respond_by, resolve_by, due_at,
				created_at, created_by, updated_at) VALUES `)
			args := make([]any, 0, (hi-lo)*8)
			for i := lo; i < hi; i++ {
				a := areas[i%len(areas)]
				if i > lo {
					b.WriteString(", ")
				}
				k := len(args)
				fmt.Fprintf(&b, "($%d, 'resident_help', 'food', 'normal', 'hotline_12345', 'new', 'household', $%d, $%d, $%d, $%d, $%d, $%d, %d, %d, %d, %d, 'seed', %d)",
					k+1, k+2, k+3, k+4, k+5, k+2, k+6, respondBy, resolveBy, due, created, created)
				args = append(args, fmt.Sprintf("WT%s-S%06d", day, i+1), a.Code, a.Name, a.Path,
					fmt.Sprintf("第 %d 户需要代购生活物资", i+1), a.Depth)
			}
			b.WriteString(" RETURNING id")
			rows, err := tx.QueryContext(f.Ctx, b.String(), args...)
			if err != nil {
				return err
			}
			for rows.Next() {
				var id int64
				if err := rows.Scan(&id); err != nil {
					rows.Close()
					return err
				}
				ids = append(ids, id)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("seed %d tickets: %v", n, err)
	}
	return ids
}

// codesAt lists the codes of the demo city's areas at an area level.
func (f *fixture) codesAt(tb testing.TB, level string) []string {
	tb.Helper()
	var out []string
	err := f.DB.Read(f.Ctx, func(tx *db.Tx) error {
		rows, err := tx.QueryContext(f.Ctx, `SELECT code FROM areas WHERE level = $1 ORDER BY code`, level)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c string
			if err := rows.Scan(&c); err != nil {
				return err
			}
			out = append(out, c)
		}
		return rows.Err()
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// BenchmarkSweep measures the sweeper over 100,000 open tickets on
// SQLite, when 1,000 of them are due (a busy minute), none is (the idle
// pass, every minute of a quiet day) and all are (the worst case: every
// ticket escalates, with its hop, timeline event, audit row and notice):
//
//   - pass: one pass, which stops at SweepPassLimit tickets;
//   - drain: passes until none is due (SweepAll, as RunSweeper drains a
//     backlog).
//
// Beside each, in the same run and on the same rows, two floors:
// ref-update is one bare UPDATE of the due rows through the sweeper's
// index, in one transaction; ref-writes adds the other rows an escalation
// must write (hop, event, notice, audit row), each set-based in one
// INSERT … SELECT, without a line of Go in between.
//
//	go test -run '^$' -bench BenchmarkSweep -benchtime 5x ./internal/ticket/
func BenchmarkSweep(b *testing.B) {
	const total = 100_000
	clk := clock.NewManual(testBase)
	f := newFixture(b, dbtest.Open(b, "sqlite", clk), clk)
	// An officer at every street and district and one at the HQ: each hop
	// notifies someone.
	for i, c := range f.codesAt(b, "street") {
		f.user(fmt.Sprintf("street%02d", i), auth.StreetOfficer, c)
	}
	for i, c := range f.codesAt(b, "district") {
		f.user(fmt.Sprintf("district%02d", i), auth.DistrictOfficer, c)
	}
	hq := f.user("hqstaff", auth.HQStaff, "430200")
	ids := seedTickets(b, f, total, testBase, f.codesAt(b, "community")...)

	filed := DefaultPolicy(Normal)
	respondBy := filed.RespondBy.Due(testBase).UnixMilli() // 12:00
	resolveBy := filed.ResolveBy.Due(testBase).UnixMilli() // 24:00
	sweepAt := time.UnixMilli(respondBy)
	// reset puts every ticket back where it was filed, the first due of
	// them past respond-by at sweepAt and the others a minute short of it.
	reset := func(due int) {
		b.Helper()
		last := int64(0)
		if due > 0 {
			last = ids[due-1]
		}
		clk.Set(testBase)
		err := f.DB.Write(f.Ctx, func(tx *db.Tx) error {
			for _, q := range []string{`DELETE FROM ticket_escalations`, `DELETE FROM audit_log WHERE seq < 0`} {
				if _, err := tx.ExecContext(f.Ctx, q); err != nil {
					return err
				}
			}
			_, err := tx.ExecContext(f.Ctx, `UPDATE tickets SET holder_code = area_code, holder_depth = 3, escalation_level = 0,
				version = 1, resolve_by = $1,
				respond_by = CASE WHEN id <= $2 THEN CAST($3 AS BIGINT) ELSE CAST($4 AS BIGINT) END,
				due_at = CASE WHEN id <= $2 THEN CAST($3 AS BIGINT) ELSE CAST($4 AS BIGINT) END`,
				resolveBy, last, respondBy, respondBy+60_000)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		if err := f.DB.Exec(f.Ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			b.Fatal(err)
		}
		clk.Set(sweepAt)
	}
	report := func(b *testing.B, due int) {
		sec := b.Elapsed().Seconds() / float64(b.N)
		if due > 0 {
			b.ReportMetric(float64(due)/sec, "tickets/s")
		}
		b.ReportMetric(total/sec, "open-tickets/s")
	}
	// run times fn once per iteration after reset(due); fn returns how
	// many tickets it moved, which must be want.
	run := func(name string, due, want int, fn func() (int, error)) {
		b.Run(fmt.Sprintf("%s-%d", name, due), func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				reset(due)
				b.StartTimer()
				n, err := fn()
				if err != nil {
					b.Fatal(err)
				}
				if n != want {
					b.Fatalf("moved %d tickets, want %d", n, want)
				}
			}
			report(b, want)
		})
	}
	next := respondBy + 2*3600_000
	// The floor's statements: the bare UPDATE, then the other rows of an
	// escalation, set-based (the audit rows get negative sequence numbers,
	// out of the chain, and are removed by reset).
	bare := `UPDATE tickets SET holder_code = substr(area_code, 1, 9), holder_depth = holder_depth - 1,
		escalation_level = escalation_level + 1, respond_by = $1, due_at = $1, version = version + 1, updated_at = $2
		WHERE holder_depth > 0 AND due_at <= $2`
	rest := []string{
		`INSERT INTO ticket_escalations (ticket_id, hop, at, reason, from_code, from_depth, to_code, to_depth)
			SELECT id, 1, $1, 'respond', area_code, 3, holder_code, 2 FROM tickets WHERE due_at = $2`,
		`INSERT INTO ticket_events (ticket_id, at, actor, kind, note)
			SELECT id, $1, 'system', 'escalated', '超过响应时限，由社区升级至街道' FROM tickets WHERE due_at = $2`,
		`INSERT INTO notifications (user_id, event, title, body, link, object_type, object_id, created_at)
			SELECT $3, 'ticket.escalated', '工单 ' || tracking || ' 超时升级至街道', description, '/tickets/' || id, 'ticket', tracking, $1
			FROM tickets WHERE due_at = $2`,
		`INSERT INTO audit_log (seq, at, actor, action, object_type, object_id, area_code, summary, prev_hash, hash)
			SELECT -id, $1, 'system', 'ticket.escalate', 'ticket', tracking, area_code, '工单 ' || tracking || ' 第 1 次升级', '', ''
			FROM tickets WHERE due_at = $2`,
	}
	floor := func(all bool) (int, error) {
		var n int64
		err := f.DB.Write(f.Ctx, func(tx *db.Tx) error {
			res, err := tx.ExecContext(f.Ctx, bare, next, respondBy)
			if err != nil {
				return err
			}
			if n, err = res.RowsAffected(); err != nil || !all {
				return err
			}
			for _, q := range rest {
				args := []any{respondBy, next}
				if strings.Contains(q, "$3") {
					args = append(args, hq.UserID)
				}
				if _, err := tx.ExecContext(f.Ctx, q, args...); err != nil {
					return err
				}
			}
			return nil
		})
		return int(n), err
	}
	for _, due := range []int{1_000, 0, total} {
		run("pass", due, min(due, SweepPassLimit), func() (int, error) {
			r, err := f.svc.Sweep(f.Ctx)
			return r.Escalated, err
		})
		run("drain", due, due, func() (int, error) {
			r, err := f.svc.SweepAll(f.Ctx)
			return r.Escalated, err
		})
		run("ref-update", due, due, func() (int, error) { return floor(false) })
		run("ref-writes", due, due, func() (int, error) { return floor(true) })
	}
}
