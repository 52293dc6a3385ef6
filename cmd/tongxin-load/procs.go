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

// measured is a generator run's result and the share of one core the
// generator process used over its life: near 1, the generator rather
// than the server may have set the pace.
type measured struct {
	loadgen.Result
	GenCPU float64
}

func (m measured) String() string {
	return fmt.Sprintf("%s; generator CPU %.0f%%", m.Result, m.GenCPU*100)
}

// generate runs `tongxin-load run -json args…` as its own process (pinned
// when p says so) and reads its result.
func generate(ctx context.Context, p pinning, self string, args []string) (measured, error) {
	cmd := command(ctx, p.generator, self, append([]string{"run", "-json"}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 1) {
		return measured{}, fmt.Errorf("generator %v: %w: %s", args, err, strings.TrimSpace(stderr.String()))
	}
	var res loadgen.Result
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		return measured{}, fmt.Errorf("generator %v printed no result: %w: %s", args, err, strings.TrimSpace(stderr.String()))
	}
	cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	return measured{Result: res, GenCPU: cpu.Seconds() / wall.Seconds()}, nil
}
