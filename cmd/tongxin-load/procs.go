package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"tongxin/internal/loadgen"
)

// pinning says how processes are put on cores: the servers on core 0,
// the generator on core 1, when taskset exists and there are two cores.
type pinning struct {
	server, generator []string // command prefixes; empty when not pinned
}

func detectPinning() pinning {
	path, err := exec.LookPath("taskset")
	if err != nil || runtime.NumCPU() < 2 {
		return pinning{}
	}
	return pinning{server: []string{path, "-c", "0"}, generator: []string{path, "-c", "1"}}
}

func (p pinning) String() string {
	if len(p.server) == 0 {
		return "not pinned (no taskset, or fewer than 2 CPUs)"
	}
	return "server on core 0, generator on core 1 (taskset)"
}

// command is prefix + name + args as one command.
func command(ctx context.Context, prefix []string, name string, args ...string) *exec.Cmd {
	all := append(append(append([]string{}, prefix...), name), args...)
	return exec.CommandContext(ctx, all[0], all[1:]...)
}

// server is a process serving HTTP: tongxin serve or tongxin-load bare.
type server struct {
	cmd  *exec.Cmd
	url  string
	done chan struct{}
}

var urlPattern = regexp.MustCompile(`http://[0-9A-Za-z.:\[\]-]+`)

// startServer starts cmd, its stderr to logPath, and waits for the URL it
// prints on stdout.
func startServer(cmd *exec.Cmd, logPath string) (*server, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("server log: %w", err)
	}
	cmd.Stderr = logFile
	out, err := cmd.StdoutPipe()
	if err != nil {
		logFile.Close()
		return nil, fmt.Errorf("server stdout: %w", err)
	}
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	s := &server{cmd: cmd, done: make(chan struct{})}
	found := make(chan string, 1)
	go func() {
		defer close(s.done)
		defer logFile.Close()
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if u := urlPattern.FindString(sc.Text()); u != "" {
				select {
				case found <- u:
				default:
				}
			}
		}
		io.Copy(io.Discard, out)
		cmd.Wait()
	}()
	select {
	case s.url = <-found:
		return s, nil
	case <-s.done:
		return nil, fmt.Errorf("%s exited before serving; see %s", strings.Join(cmd.Args, " "), logPath)
	case <-time.After(60 * time.Second):
		s.stop()
		return nil, fmt.Errorf("%s printed no URL within a minute; see %s", strings.Join(cmd.Args, " "), logPath)
	}
}

// stop ends the server: SIGTERM, then SIGKILL after five seconds.
func (s *server) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
}

// measured is a generator run's result and the shares of one core the
// generator process and the server used over the generator's life
// (warm-up included): a generator near 1 rather than the server may have
// set the pace; a server well below 1 in a closed loop was not the limit.
type measured struct {
	loadgen.Result
	GenCPU float64
	// GenPerReq is the generator's CPU time over the requests it sent
	// (0: unknown).
	GenPerReq time.Duration
	// SrvCPU is the server's share, -1 where /proc does not tell it.
	SrvCPU float64
	wrk    bool          // measured by wrk, not tongxin-load
	p90    time.Duration // wrk's, which has no p95
}

func (m measured) String() string {
	r := m.Result.String()
	if m.wrk {
		r = fmt.Sprintf("wrk closed: %d requests, %.0f req/s, p50 %s p90 %s p99 %s max %s, errors %d", m.Requests, m.ReqPerSec,
			msText(m.P50), msText(m.p90), msText(m.P99), msText(m.Max), m.Errors)
		if len(m.ErrorText) > 0 {
			r += "; " + strings.Join(m.ErrorText, "; ")
		}
	}
	s := fmt.Sprintf("%s; generator CPU %.0f%%", r, m.GenCPU*100)
	if m.GenPerReq > 0 {
		s += fmt.Sprintf(" (%.1f µs a request)", float64(m.GenPerReq)/float64(time.Microsecond))
	}
	if m.SrvCPU >= 0 {
		s += fmt.Sprintf(", server CPU %.0f%%", m.SrvCPU*100)
	}
	return s
}

// cpuTime is the CPU time the server has used; false for a nil server
// or where /proc does not tell.
func (s *server) cpuTime() (time.Duration, bool) {
	if s == nil {
		return 0, false
	}
	return cpuTime(s.cmd.Process.Pid)
}

// msText writes a duration in milliseconds with three decimals, as
// loadgen.Result does.
func msText(d time.Duration) string {
	return fmt.Sprintf("%.3fms", float64(d)/float64(time.Millisecond))
}

// cpuTime is the CPU time (user and system) process pid has used, from
// /proc/PID/stat; false where there is no such file.
func cpuTime(pid int) (time.Duration, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	// The command name (field 2) is in parentheses and may hold spaces;
	// utime and stime are fields 14 and 15, the 12th and 13th after it.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, false
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	// Clock ticks: 100 a second on Linux (USER_HZ).
	return time.Duration(ut+st) * 10 * time.Millisecond, true
}

// generate runs `tongxin-load run -json args…` as its own process (pinned
// when p says so) and reads its result; srv is the server it loads, whose
// CPU use over the run is measured.
func generate(ctx context.Context, p pinning, self string, srv *server, args []string) (measured, error) {
	return runMeasured(ctx, p.generator, self, srv, append([]string{"run", "-json"}, args...))
}

// runMeasured runs `tongxin-load args…` (a command printing a run's result
// as JSON) behind prefix (a pinning) and reads its result, with its CPU
// use and srv's.
func runMeasured(ctx context.Context, prefix []string, self string, srv *server, args []string) (measured, error) {
	cmd := command(ctx, prefix, self, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	srvBefore, srvOK := cpuTime(srv.cmd.Process.Pid)
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	srvAfter, srvOK2 := cpuTime(srv.cmd.Process.Pid)
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 1) {
		return measured{}, fmt.Errorf("generator %v: %w: %s", args, err, strings.TrimSpace(stderr.String()))
	}
	var res loadgen.Result
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		return measured{}, fmt.Errorf("generator %v printed no result: %w: %s", args, err, strings.TrimSpace(stderr.String()))
	}
	cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	m := measured{Result: res, GenCPU: cpu.Seconds() / wall.Seconds(), SrvCPU: -1}
	if res.Sent > 0 {
		m.GenPerReq = cpu / time.Duration(res.Sent)
	}
	if srvOK && srvOK2 {
		m.SrvCPU = (srvAfter - srvBefore).Seconds() / wall.Seconds()
	}
	return m, nil
}
