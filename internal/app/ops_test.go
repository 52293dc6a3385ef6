package app_test

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tongxin/internal/db/dbtest"
)

// serve refuses a PostgreSQL schema that is behind, unless --migrate.
func TestServeRefusesOldPostgresSchema(t *testing.T) {
	in := newInst(t, "postgres")
	out, err := cli(t, in, "", "serve", "--addr", "127.0.0.1:0")
	if err == nil || !strings.Contains(out+err.Error(), "tongxin migrate") {
		t.Fatalf("serve on an empty PostgreSQL schema: err=%v out=%s; want a refusal naming `tongxin migrate`", err, out)
	}
	s := serve(t, in, "--migrate")
	if r := do(t, "GET", s.URL+"/healthz", "", "", nil); r.Status != 200 {
		t.Fatalf("after --migrate: healthz %d", r.Status)
	}
}

// A request in flight when SIGTERM arrives is answered before exit.
func TestGracefulShutdownFinishesInFlightRequests(t *testing.T) {
	in, _ := setup(t, "sqlite")
	mustCLI(t, in, "Staff-Pass-2022!\n", "user", "add", "--username", "hq2", "--display-name", "参谋", "--role", "hq_staff", "--scope", "430200", "--password-stdin")
	hqTok := strings.TrimSpace(mustCLI(t, in, "", "token", "create", "--username", "hq2"))
	s := serve(t, in)

	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", s.URL+"/api/v1/areas/import", pr)
	req.Header.Set("Content-Type", "text/csv")
	req.Header.Set("Authorization", "Bearer "+hqTok)
	type result struct {
		status int
		body   string
		err    error
	}
	done := make(chan result, 1)
	go func() {
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- result{err: err}
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		done <- result{status: res.StatusCode, body: string(b)}
	}()
	// Half the upload is sent: the request is in flight.
	io.WriteString(pw, "编码,名称,上级编码,层级\n430203001009,")
	time.Sleep(200 * time.Millisecond)
	stopped := make(chan error, 1)
	go func() { stopped <- s.stop() }()
	time.Sleep(300 * time.Millisecond)
	select {
	case err := <-stopped:
		t.Fatalf("server exited (%v) while a request was in flight", err)
	default:
	}
	io.WriteString(pw, "新建社区,430203001,社区\n")
	pw.Close()
	r := <-done
	if r.err != nil || r.status != 200 || !strings.Contains(r.body, `"created":1`) {
		t.Fatalf("in-flight import: status %d body %s err %v", r.status, r.body, r.err)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}

// backup makes a consistent copy that opens and verifies on its own;
// PostgreSQL is sent to pg_dump.
func TestBackup(t *testing.T) {
	in, _ := setup(t, "sqlite")
	serve(t, in) // the database is live while it is copied
	to := filepath.Join(t.TempDir(), "copy.db")
	out := mustCLI(t, in, "", "backup", "--to", to)
	if !strings.Contains(out, "已备份") {
		t.Fatalf("backup printed %q", out)
	}
	st, err := os.Stat(to)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v, mode %v; want 0600", err, st.Mode())
	}
	copyInst := inst{db: "sqlite:" + to, data: in.data}
	if v := mustCLI(t, copyInst, "", "audit", "verify"); !strings.Contains(v, "审计链完好") {
		t.Fatalf("verify on the copy: %s", v)
	}
	if list := mustCLI(t, copyInst, "", "user", "list"); !strings.Contains(list, "zhang") || !strings.Contains(list, "138****8000") {
		t.Fatalf("the copy lacks users or their masked phones:\n%s", list)
	}
	if _, err := cli(t, in, "", "backup", "--to", to); err == nil {
		t.Fatal("backup overwrote an existing file")
	}
	if len(dbtest.Kinds()) == 2 {
		pg := newInst(t, "postgres")
		out, err := cli(t, pg, "", "backup", "--to", filepath.Join(t.TempDir(), "x"))
		if err == nil || !strings.Contains(out+err.Error(), "pg_dump") {
			t.Fatalf("backup on PostgreSQL: %v %s", err, out)
		}
	}
}

func TestHelpAndUsage(t *testing.T) {
	in := newInst(t, "sqlite")
	for _, args := range [][]string{{"--help"}, {"serve", "--help"}, {"migrate", "--help"}, {"demo", "--help"},
		{"user", "add", "--help"}, {"user", "list", "--help"}, {"user", "disable", "--help"}, {"user", "passwd", "--help"},
		{"token", "create", "--help"}, {"token", "revoke", "--help"}, {"import", "--help"}, {"audit", "--help"},
		{"backup", "--help"}, {"version", "--help"}, {"keys", "--help"}, {"keys", "rotate", "--help"}, {"keys", "revoke", "--help"}} {
		out, err := cli(t, in, "", args...)
		if err != nil || !strings.Contains(out, "用法") {
			t.Errorf("tongxin %s: err=%v, output lacks usage:\n%s", strings.Join(args, " "), err, out)
		}
	}
	for _, args := range [][]string{{}, {"fly"}, {"user", "add"}, {"user", "add", "--username", "x", "--role", "hq_staff"}, {"backup"}, {"import", "people", "f"}, {"keys"}, {"keys", "burn"}, {"keys", "revoke"}} {
		if _, err := cli(t, in, "", args...); err == nil {
			t.Errorf("tongxin %s succeeded, want a usage error", strings.Join(args, " "))
		}
	}
}
