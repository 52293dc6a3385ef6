package app

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/importer"
	"tongxin/internal/importer/importtest"
	"tongxin/internal/pass"
)

// TestImportMemory measures the peak RSS of `tongxin serve`, as its own
// process, while it takes the largest legitimate pass batch and while it
// refuses ZIP bombs, one and three at once (docs/benchmarks.md). Each
// case starts a fresh server on the same SQLite demo city, so that each
// peak is the case's own. It runs only when asked:
//
//	TONGXIN_IMPORT_MEMORY=1 go test -run TestImportMemory -v ./internal/app/
func TestImportMemory(t *testing.T) {
	if os.Getenv("TONGXIN_IMPORT_MEMORY") == "" {
		t.Skip("set TONGXIN_IMPORT_MEMORY=1 to measure")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "tongxin")
	build := exec.Command("go", "build", "-o", bin, "./cmd/tongxin")
	build.Dir = "../.."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dbURL, data := "sqlite:"+filepath.Join(dir, "tongxin.db"), filepath.Join(dir, "data")
	env := &Env{Getenv: func(string) string { return "" }, Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard}
	f := newFlags(env, "test", "test")
	if err := f.parse([]string{"--db", dbURL, "--data-dir", data}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sys, err := f.open(ctx, true, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Demo(ctx, sys); err != nil {
		t.Fatal(err)
	}
	token, _, err := sys.Auth.CreateToken(ctx, auth.System(), "qianjin", "memory")
	if err != nil {
		t.Fatal(err)
	}
	sys.Close()

	lines := strings.Split(strings.TrimSpace(passCSVFrom(0, pass.MaxBatchRows)), "\n")
	var rows [][]string
	for _, l := range lines[1:] {
		rows = append(rows, strings.Split(l, ","))
	}
	largest, err := importer.WriteXLSX("通行证", strings.Split(lines[0], ","), rows)
	if err != nil {
		t.Fatal(err)
	}
	bomb := func(shape importtest.Shape, size int64, declare uint64) []byte {
		b, err := importtest.Bomb(shape, size, declare)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	cells465 := bomb(importtest.Cells, 465<<20, 0)
	liar := bomb(importtest.Rows, 200<<20, importer.MaxUnzipped-1<<20)
	rows70 := bomb(importtest.Rows, 70<<20, 0)
	three := func(b []byte) [][]byte { return [][]byte{b, b, b} }
	cases := []struct {
		name  string
		files [][]byte
	}{
		{"idle (started, one small request)", nil},
		{fmt.Sprintf("largest pass batch: %d rows, XLSX of %d KiB", pass.MaxBatchRows, len(largest)>>10), [][]byte{largest}},
		{fmt.Sprintf("bomb: XLSX of %d KiB declaring 466 MiB", len(cells465)>>10), [][]byte{cells465}},
		{"three such bombs at once", three(cells465)},
		{fmt.Sprintf("three bombs at once of %d KiB, 200 MiB of rows declared as 79 MiB", len(liar)>>10), three(liar)},
		{fmt.Sprintf("three bombs at once of %d KiB, 70 MiB of rows (within the limit, read to the row cap)", len(rows70)>>10), three(rows70)},
	}
	mib := func(n int64) float64 { return float64(n) / (1 << 20) }
	t.Logf("| case | answers | time | RSS before | peak RSS during | growth (÷ 200 MB) | peak of the process's life |")
	for _, c := range cases {
		m := measureServe(t, bin, dbURL, data, token, c.files)
		t.Logf("| %s | %s | %v | %.1f MiB | %.1f MiB | %.1f MiB (%.2f) | %.1f MiB |", c.name, m.statuses, m.took.Round(time.Millisecond),
			mib(m.base), mib(m.peak), mib(m.peak-m.base), float64(m.peak-m.base)/200e6, mib(m.life))
	}
}

// measureServe starts the binary, uploads files at once as pass batches,
// stops it and returns its peak RSS in bytes, the answers' statuses and
// how long the uploads took.
func measureServe(t *testing.T, bin, dbURL, data, token string, files [][]byte) measure {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--db", dbURL, "--data-dir", data, "--log-level", "error")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	i := strings.Index(line, "http://")
	if err != nil || i < 0 {
		cmd.Process.Kill()
		t.Fatalf("serve printed %q: %v", line, err)
	}
	go io.Copy(io.Discard, stdout)
	url := strings.TrimSpace(line[i:])
	if r, err := http.Get(url + "/healthz"); err != nil {
		t.Fatal(err)
	} else {
		r.Body.Close()
	}
	// Start the high-water mark again (Linux: clear_refs 5), so that the
	// peak is that of the uploads, not of the start.
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", cmd.Process.Pid), []byte("5"), 0); err != nil {
		t.Fatal(err)
	}
	base := procStatus(t, cmd.Process.Pid, "VmRSS")
	statuses := make([]string, len(files))
	start := time.Now()
	var wg sync.WaitGroup
	for i, f := range files {
		wg.Go(func() {
			req, _ := http.NewRequest("POST", url+"/api/v1/pass-batches", bytes.NewReader(f))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", importer.MediaXLSX)
			r, err := http.DefaultClient.Do(req)
			if err != nil {
				statuses[i] = err.Error()
				return
			}
			io.Copy(io.Discard, r.Body)
			r.Body.Close()
			statuses[i] = fmt.Sprint(r.StatusCode)
		})
	}
	wg.Wait()
	took := time.Since(start)
	peak := procStatus(t, cmd.Process.Pid, "VmHWM")
	cmd.Process.Signal(os.Interrupt)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve: %v", err)
	}
	return measure{base: base, peak: peak, life: cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss << 10,
		statuses: strings.Join(statuses, " "), took: took}
}

type measure struct {
	base, peak, life int64 // bytes: RSS before the uploads, its peak during them, the peak of the process's life
	statuses         string
	took             time.Duration
}

// procStatus reads a "kB" line of /proc/PID/status, in bytes.
func procStatus(t *testing.T, pid int, key string) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, key+":"); ok {
			var kb int64
			fmt.Sscanf(strings.TrimSpace(v), "%d", &kb)
			return kb << 10
		}
	}
	t.Fatalf("no %s in /proc/%d/status", key, pid)
	return 0
}
