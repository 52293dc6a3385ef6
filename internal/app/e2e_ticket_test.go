package app_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"tongxin/internal/apispec/apitest"
	"tongxin/internal/app"
	"tongxin/internal/db"
)

// The escalation ladder end to end: the real program with its background
// sweeper, deadlines of seconds set through the API, tickets filed and
// read through the API.

// sweptTicket is what these tests read of GET /api/v1/tickets/{id}.
type sweptTicket struct {
	ID              int64  `json:"id"`
	Tracking        string `json:"tracking"`
	Status          string `json:"status"`
	HolderArea      string `json:"holder_area"`
	HolderLevel     string `json:"holder_level"`
	EscalationLevel int    `json:"escalation_level"`
	Escalations     []struct {
		Hop     int    `json:"hop"`
		Reason  string `json:"reason"`
		ToArea  string `json:"to_area"`
		ToLevel string `json:"to_level"`
	} `json:"escalations"`
}

func (tk sweptTicket) hops() []int {
	out := []int{}
	for _, e := range tk.Escalations {
		out = append(out, e.Hop)
	}
	return out
}

// logBuffer collects a server's log lines; the server writes while the
// test reads.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// serveLogged is serve with the server's log (JSON lines at info level)
// kept for the test to read. It has a --base-url, without which serve
// warns.
func serveLogged(t *testing.T, in inst, extra ...string) (*server, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	errc := make(chan error, 1)
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--log-level", "info", "--base-url", "https://tongxin.example.gov.cn"}, extra...)
	go func() {
		err := app.Run(ctx, args, in.getenv, strings.NewReader(""), pw, logs)
		pw.CloseWithError(errors.New("server exited"))
		errc <- err
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("serve did not start: %v (%v)\n%s", err, <-errc, logs)
	}
	go io.Copy(io.Discard, pr)
	i := strings.Index(line, "http://")
	if i < 0 {
		cancel()
		t.Fatalf("serve printed %q, want its address", line)
	}
	s := &server{URL: strings.TrimSpace(line[i:])}
	var stopped bool
	s.stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-errc:
			return err
		case <-time.After(40 * time.Second):
			return errors.New("serve did not stop within 40s")
		}
	}
	t.Cleanup(func() { s.stop() })
	return s, logs
}

// sweeperLog counts the sweeper's reports in a server log: passes that
// moved tickets, tickets escalated, and error lines of any kind.
func sweeperLog(t *testing.T, logs string) (passes, escalated int, errLines []string) {
	t.Helper()
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		if line == "" {
			continue
		}
		var e struct {
			Level     string `json:"level"`
			Msg       string `json:"msg"`
			Escalated int    `json:"escalated"`
		}
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if e.Level == "ERROR" || e.Level == "WARN" {
			errLines = append(errLines, line)
		}
		if e.Msg == "ticket sweeper" {
			passes++
			escalated += e.Escalated
		}
	}
	return passes, escalated, errLines
}

// demoEscalations counts the escalations of the demo city's tickets (those
// filed before the test's first): the test's copy of the demo was built
// minutes earlier, so a deadline of one of its open tickets may pass while
// the test's sweepers run, and their passes count that hop too.
func demoEscalations(t *testing.T, in inst, first int64) int {
	t.Helper()
	d, err := db.Open(context.Background(), in.db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var n int
	if err := d.Read(context.Background(), func(tx *db.Tx) error {
		return tx.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM ticket_escalations WHERE ticket_id < $1`, first).Scan(&n)
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

// hqToken adds an HQ staff member and returns an API token for them.
func hqToken(t *testing.T, in inst) string {
	t.Helper()
	mustCLI(t, in, "s3cret-pass-2\n", "user", "add", "--username", "ladderwatch", "--display-name", "指挥部值班员",
		"--role", "hq_staff", "--scope", "430200", "--password-stdin")
	return strings.TrimSpace(mustCLI(t, in, "", "token", "create", "--username", "ladderwatch", "--name", "升级测试"))
}

func setPolicy(t *testing.T, s *server, token, category, respond, resolve string) {
	t.Helper()
	body := fmt.Sprintf(`{"normal":{"respond_by":%q,"resolve_by":%q}}`, respond, resolve)
	if r := do(t, "PUT", s.URL+"/api/v1/ticket-policies/"+category, token, "application/json", []byte(body)); r.Status != 200 {
		t.Fatalf("set policy of %s: %d %s", category, r.Status, r.Body)
	}
}

func fileTicket(t *testing.T, s *server, token, category, desc string) sweptTicket {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"category": category, "area_code": "430203001001",
		"address": "建设南路 1 号 3 栋 201", "description": desc})
	r := do(t, "POST", s.URL+"/api/v1/tickets", token, "application/json", body)
	if r.Status != 201 {
		t.Fatalf("file ticket: %d %s", r.Status, r.Body)
	}
	var tk sweptTicket
	r.json(t, &tk)
	return tk
}

func getTicket(t *testing.T, s *server, token string, id int64) sweptTicket {
	t.Helper()
	r := do(t, "GET", fmt.Sprintf("%s/api/v1/tickets/%d", s.URL, id), token, "", nil)
	if r.Status != 200 {
		t.Fatalf("get ticket %d: %d %s", id, r.Status, r.Body)
	}
	var tk sweptTicket
	r.json(t, &tk)
	return tk
}

// TestTicketSweeperEndToEnd: with a respond-by of 2 s and a sweep every
// second, an unanswered ticket climbs community → street → district →
// city HQ and stops there; a ticket answered at once stays where it is.
func TestTicketSweeperEndToEnd(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			in, worker := setup(t, kind)
			hq := hqToken(t, in)
			demoBefore := demoEscalations(t, in, math.MaxInt64)
			s, logs := serveLogged(t, in, "--sweep-interval", "1s")
			setPolicy(t, s, hq, "food", "2s", "1h")

			unanswered := fileTicket(t, s, worker, "food", "独居老人家中断粮，电话无人接听")
			answered := fileTicket(t, s, worker, "food", "小区门口积水")
			if r := do(t, "POST", fmt.Sprintf("%s/api/v1/tickets/%d/transitions", s.URL, answered.ID), worker,
				"application/json", []byte(`{"to":"in_progress"}`)); r.Status != 200 {
				t.Fatalf("answer: %d %s", r.Status, r.Body)
			}

			start := time.Now()
			var tk sweptTicket
			levels := []int{0}
			for {
				tk = getTicket(t, s, hq, unanswered.ID)
				if tk.EscalationLevel != levels[len(levels)-1] {
					levels = append(levels, tk.EscalationLevel)
				}
				if tk.EscalationLevel >= 3 && tk.HolderLevel == "city" {
					break
				}
				if time.Since(start) > 20*time.Second {
					t.Fatalf("after 20 s: level %d at %s (%s)\n%s", tk.EscalationLevel, tk.HolderArea, tk.HolderLevel, logs)
				}
				time.Sleep(100 * time.Millisecond)
			}
			t.Logf("reached the city HQ in %s, levels seen %v", time.Since(start).Round(time.Millisecond), levels)
			if !slices.Equal(levels, []int{0, 1, 2, 3}) {
				t.Errorf("levels seen %v: want one hop at a time", levels)
			}
			// A few more sweeps: it stays with the HQ.
			time.Sleep(3500 * time.Millisecond)
			tk = getTicket(t, s, hq, unanswered.ID)
			if tk.EscalationLevel != 3 || tk.HolderArea != "430200" || !slices.Equal(tk.hops(), []int{1, 2, 3}) {
				t.Errorf("after more sweeps: level %d at %s, hops %v", tk.EscalationLevel, tk.HolderArea, tk.hops())
			}
			want := []string{"street", "district", "city"}
			for i, e := range tk.Escalations {
				if e.ToLevel != want[i] || e.Reason != "respond" {
					t.Errorf("hop %d: to %s (%s), want %s for respond", e.Hop, e.ToArea, e.ToLevel, want[i])
				}
			}
			if a := getTicket(t, s, hq, answered.ID); a.EscalationLevel != 0 || a.HolderLevel != "community" || a.Status != "in_progress" {
				t.Errorf("answered ticket: level %d at %s, %s", a.EscalationLevel, a.HolderLevel, a.Status)
			}
			if err := s.stop(); err != nil {
				t.Fatalf("stop: %v", err)
			}
			demo := demoEscalations(t, in, unanswered.ID) - demoBefore
			passes, escalated, errLines := sweeperLog(t, logs.String())
			if escalated != 3+demo || passes < 3 || passes > 3+demo || len(errLines) > 0 {
				t.Errorf("sweeper log: %d passes moved %d tickets, want 3 and 3 (and %d of the demo's); errors %q",
					passes, escalated, demo, errLines)
			}
			if out := mustCLI(t, in, "", "audit", "verify"); !strings.Contains(out, "审计链完好") {
				t.Errorf("audit verify: %s", out)
			}
		})
	}
}

// TestTicketSweeperTwoInstances: two instances on one PostgreSQL database,
// each sweeping ten times a second and both asked for passes at the same
// moments, escalate each of 50 tickets exactly once per level, and neither
// reports an error.
func TestTicketSweeperTwoInstances(t *testing.T) {
	t.Parallel()
	const n = 50
	in, worker := setup(t, "postgres")
	hq := hqToken(t, in)
	demoBefore := demoEscalations(t, in, math.MaxInt64)
	a, logsA := serveLogged(t, in, "--sweep-interval", "100ms")
	b, logsB := serveLogged(t, in, "--sweep-interval", "100ms")
	setPolicy(t, a, hq, "food", "1s", "1h")
	setPolicy(t, b, hq, "other", "2s", "1h")

	// Filed all at once, half through each instance, so that their
	// deadlines fall together and both sweepers find the same tickets due.
	ids := make([]int64, n)
	var wg sync.WaitGroup
	for i := range n {
		s, cat := a, "food"
		if i%2 == 1 {
			s, cat = b, "other"
		}
		wg.Go(func() {
			body, _ := json.Marshal(map[string]string{"category": cat, "area_code": "430203001001",
				"description": fmt.Sprintf("第 %d 户需要代购生活物资", i+1)})
			req, _ := http.NewRequest("POST", s.URL+"/api/v1/tickets", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+worker)
			req.Header.Set("Content-Type", "application/json")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Errorf("file ticket %d: %v", i, err)
				return
			}
			defer res.Body.Close()
			answer, _ := io.ReadAll(res.Body)
			apitest.Check(t, req, body, res.StatusCode, res.Header, answer)
			var tk sweptTicket
			if err := json.Unmarshal(answer, &tk); err != nil || res.StatusCode != 201 {
				t.Errorf("file ticket %d: %d %v", i, res.StatusCode, err)
			}
			ids[i] = tk.ID
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	d, err := db.Open(context.Background(), in.db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	count := func(q string) int {
		t.Helper()
		var c int
		if err := d.Read(context.Background(), func(tx *db.Tx) error {
			return tx.QueryRowContext(context.Background(), q).Scan(&c)
		}); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return c
	}
	// Besides the background sweepers, the test asks both instances for
	// passes at the same moments (POST /api/v1/tickets/sweep, two at a
	// time each), so that passes surely overlap on the same due tickets.
	var mu sync.Mutex
	onDemand := 0
	sweepNow := func() {
		var wg sync.WaitGroup
		for _, s := range []*server{a, b, a, b} {
			wg.Go(func() {
				req, _ := http.NewRequest("POST", s.URL+"/api/v1/tickets/sweep", nil)
				req.Header.Set("Authorization", "Bearer "+hq)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Errorf("sweep: %v", err)
					return
				}
				defer res.Body.Close()
				var r struct {
					Escalated int `json:"escalated"`
				}
				body, _ := io.ReadAll(res.Body)
				apitest.Check(t, req, nil, res.StatusCode, res.Header, body)
				if res.StatusCode != 200 || json.Unmarshal(body, &r) != nil {
					t.Errorf("sweep: %d %s", res.StatusCode, body)
					return
				}
				mu.Lock()
				onDemand += r.Escalated
				mu.Unlock()
			})
		}
		wg.Wait()
	}
	start := time.Now()
	// The demo city's tickets came before: some of them were escalated
	// to the HQ in its history, so only this test's tickets are counted.
	first := slices.Min(ids)
	atHQ := fmt.Sprintf(`SELECT COUNT(*) FROM tickets WHERE escalation_level = 3 AND id >= %d`, first)
	for count(atHQ) < n {
		if time.Since(start) > 30*time.Second {
			t.Fatalf("after 30 s only %d of %d tickets reached the city HQ\nA:\n%s\nB:\n%s",
				count(atHQ), n, logsA, logsB)
		}
		sweepNow()
		time.Sleep(50 * time.Millisecond)
	}
	for range 10 {
		sweepNow()
	}
	t.Logf("all %d tickets reached the city HQ in %s", n, time.Since(start).Round(time.Millisecond))
	time.Sleep(time.Second) // more passes of both sweepers

	for i, id := range ids {
		s := a
		if i%2 == 1 {
			s = b
		}
		tk := getTicket(t, s, hq, id)
		if tk.EscalationLevel != 3 || tk.HolderLevel != "city" || !slices.Equal(tk.hops(), []int{1, 2, 3}) {
			t.Errorf("%s: level %d at %s, hops %v", tk.Tracking, tk.EscalationLevel, tk.HolderLevel, tk.hops())
		}
	}
	mine := fmt.Sprintf(`(SELECT tracking FROM tickets WHERE id >= %d)`, first)
	for q, want := range map[string]int{
		`SELECT COUNT(*) FROM ticket_escalations WHERE ticket_id >= $1`:                            3 * n,
		`SELECT COUNT(DISTINCT ticket_id) FROM ticket_escalations WHERE ticket_id >= $1`:           n,
		`SELECT COUNT(*) FROM ticket_events WHERE kind = 'escalated' AND ticket_id >= $1`:          3 * n,
		`SELECT COUNT(*) FROM audit_log WHERE action = 'ticket.escalate' AND object_id IN ` + mine: 3 * n,
		`SELECT COUNT(*) FROM (SELECT object_id FROM audit_log WHERE action = 'ticket.escalate' AND object_id IN ` + mine + `
			GROUP BY object_id HAVING COUNT(*) <> 3) x`: 0,
	} {
		q = strings.ReplaceAll(q, "$1", strconv.FormatInt(first, 10))
		if got := count(q); got != want {
			t.Errorf("%s = %d, want %d", q, got, want)
		}
	}
	for _, s := range []*server{a, b} {
		if err := s.stop(); err != nil {
			t.Fatalf("stop: %v", err)
		}
	}
	t.Logf("on-demand passes escalated %d tickets", onDemand)
	total := onDemand
	for name, logs := range map[string]*logBuffer{"A": logsA, "B": logsB} {
		passes, escalated, errLines := sweeperLog(t, logs.String())
		t.Logf("instance %s: %d passes escalated %d tickets", name, passes, escalated)
		total += escalated
		if len(errLines) > 0 {
			t.Errorf("instance %s logged errors:\n%s", name, strings.Join(errLines, "\n"))
		}
	}
	if demo := demoEscalations(t, in, first) - demoBefore; total != 3*n+demo {
		t.Errorf("the passes report %d escalations in all, want %d (and %d of the demo's)", total, 3*n, demo)
	}
	if out := mustCLI(t, in, "", "audit", "verify"); !strings.Contains(out, "审计链完好") {
		t.Errorf("audit verify: %s", out)
	}
}
