package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"tongxin/internal/loadgen"
)

// The check by an independent generator (issue 13): wrk's closed loop of
// /me and of scans against both servers, in the same rounds, pinned as
// tongxin-load is, with the same number of connections. Its ratios should
// agree with tongxin-load's within 10 %.

// wrkScenarios are the scenarios wrk also measures.
var wrkScenarios = []string{"me", "scan"}

// wrkScript is the Lua script of a scenario: its headers and, for scans,
// a POST with a new client id each time (one thread, so one counter; the
// prefix is the run's).
func (s *suiteFlags) wrkScript(dir, scenario string, run int) (string, error) {
	in := s.inst
	var b strings.Builder
	switch scenario {
	case "me":
		fmt.Fprintf(&b, "wrk.headers[\"Authorization\"] = %s\n", luaString("Bearer "+in.hqToken))
	case "scan":
		fmt.Fprintf(&b, "wrk.method = \"POST\"\nwrk.headers[\"Authorization\"] = %s\nwrk.headers[\"Content-Type\"] = \"application/json\"\n",
			luaString("Bearer "+in.officerToken))
		b.WriteString("local tokens = {")
		for i, p := range in.passes {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(luaString(p))
		}
		fmt.Fprintf(&b, "}\nlocal prefix = %s\nlocal n = 0\n", luaString(fmt.Sprintf("load-wrk-%s-%d-", strconv.FormatInt(time.Now().UnixNano(), 36), run)))
		b.WriteString(`request = function()
  n = n + 1
  local body = '{"token":"' .. tokens[n % #tokens + 1] .. '","client_id":"' .. prefix .. string.format("%012d", n) .. '"}'
  return wrk.format(nil, nil, nil, body)
end
`)
	default:
		return "", fmt.Errorf("wrk: no script for %s", scenario)
	}
	file := filepath.Join(dir, fmt.Sprintf("wrk-%s-%d.lua", scenario, run))
	return file, os.WriteFile(file, []byte(b.String()), 0o600)
}

// luaString is s as a Lua string literal.
func luaString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, c := range []byte(s) {
		if c == '"' || c == '\\' || c < 0x20 || c > 0x7e {
			fmt.Fprintf(&b, "\\%03d", c)
		} else {
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// wrkPath is path, from -wrk, as found on $PATH; "" when there is none.
func wrkPath(path string) string {
	if path == "" {
		return ""
	}
	if p, err := exec.LookPath(path); err == nil {
		return p
	}
	return ""
}

// wrkSeconds is d as wrk's -d takes it: whole seconds, at least one.
func wrkSeconds(d time.Duration) string {
	return strconv.Itoa(max(1, int(math.Ceil(d.Seconds())))) + "s"
}

// runWrk runs wrk's closed loop of scenario against the server at url,
// pinned as the generator is, and reads its result; srv (nil: none) is
// the server whose CPU use is measured.
func (s *suiteFlags) runWrk(ctx context.Context, dir, scenario, url string, srv *server, run int) (measured, error) {
	script, err := s.wrkScript(dir, scenario, run)
	if err != nil {
		return measured{}, err
	}
	path := "/api/v1/me"
	if scenario == "scan" {
		path = "/api/v1/checkpoints/" + s.inst.checkpoint + "/scans"
	}
	args := []string{"-t1", "-c" + strconv.Itoa(s.conns), "-d" + wrkSeconds(s.duration), "--latency", "-s", script, url + path}
	cmd := command(ctx, s.pin.generator, s.wrk, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	srvBefore, srvOK := srv.cpuTime()
	start := time.Now()
	err = cmd.Run()
	wall := time.Since(start)
	srvAfter, srvOK2 := srv.cpuTime()
	if err != nil {
		return measured{}, fmt.Errorf("wrk %s: %w: %s %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()), strings.TrimSpace(stdout.String()))
	}
	res, p90, err := parseWrk(stdout.String())
	if err != nil {
		return measured{}, fmt.Errorf("wrk %s: %w:\n%s", strings.Join(args, " "), err, stdout.String())
	}
	cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	m := measured{Result: res, GenCPU: cpu.Seconds() / wall.Seconds(), SrvCPU: -1, wrk: true, p90: p90}
	if res.Requests > 0 {
		m.GenPerReq = cpu / time.Duration(res.Requests) // wrk has no warm-up: all it sent
	}
	if srvOK && srvOK2 {
		m.SrvCPU = (srvAfter - srvBefore).Seconds() / wall.Seconds()
	}
	return m, nil
}

var (
	wrkTotal   = regexp.MustCompile(`(?m)^\s*(\d+) requests in ([0-9.]+\w+),`)
	wrkRate    = regexp.MustCompile(`(?m)^Requests/sec:\s*([0-9.]+)`)
	wrkNon2xx  = regexp.MustCompile(`(?m)^\s*Non-2xx or 3xx responses:\s*(\d+)`)
	wrkSocket  = regexp.MustCompile(`(?m)^\s*Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	wrkLatency = regexp.MustCompile(`(?m)^\s*Latency\s+([0-9.]+\w+)\s+([0-9.]+\w+)\s+([0-9.]+\w+)`)
	wrkPct     = regexp.MustCompile(`(?m)^\s*(50|90|99)%\s+([0-9.]+\w+)`)
)

// parseWrk reads wrk's report (with --latency): requests, req/s, the
// latency percentiles it gives (50, 90 and 99 %: it has no 95th) and the
// errors — answers other than 2xx or 3xx (wrk's count) and socket errors.
func parseWrk(out string) (res loadgen.Result, p90 time.Duration, err error) {
	res.Mode = loadgen.Closed
	m := wrkTotal.FindStringSubmatch(out)
	r := wrkRate.FindStringSubmatch(out)
	if m == nil || r == nil {
		return res, 0, fmt.Errorf("no \"N requests in\" or \"Requests/sec:\" line")
	}
	res.Requests, _ = strconv.ParseInt(m[1], 10, 64)
	res.Window, _ = wrkDuration(m[2])
	res.ReqPerSec, _ = strconv.ParseFloat(r[1], 64)
	if m := wrkNon2xx.FindStringSubmatch(out); m != nil {
		n, _ := strconv.ParseInt(m[1], 10, 64)
		res.Errors += n
		res.ErrorText = append(res.ErrorText, fmt.Sprintf("wrk: %d answers other than 2xx or 3xx", n))
	}
	if m := wrkSocket.FindStringSubmatch(out); m != nil {
		for _, v := range m[1:] {
			n, _ := strconv.ParseInt(v, 10, 64)
			res.Errors += n
		}
		res.ErrorText = append(res.ErrorText, "wrk: "+strings.TrimSpace(m[0]))
	}
	if m := wrkLatency.FindStringSubmatch(out); m != nil {
		res.Max, _ = wrkDuration(m[3])
	}
	for _, m := range wrkPct.FindAllStringSubmatch(out, -1) {
		d, _ := wrkDuration(m[2])
		switch m[1] {
		case "50":
			res.P50 = d
		case "90":
			p90 = d
		case "99":
			res.P99 = d
		}
	}
	return res, p90, nil
}

// wrkDuration reads wrk's durations: 512.00us, 1.20ms, 2.00s, 1.00m.
func wrkDuration(s string) (time.Duration, error) {
	i := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i <= 0 {
		return 0, fmt.Errorf("wrk: duration %q", s)
	}
	v, err := strconv.ParseFloat(s[:i], 64)
	if err != nil {
		return 0, fmt.Errorf("wrk: duration %q", s)
	}
	unit := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second, "m": time.Minute, "h": time.Hour}[s[i:]]
	if unit == 0 {
		return 0, fmt.Errorf("wrk: duration %q", s)
	}
	return time.Duration(v * float64(unit)), nil
}
