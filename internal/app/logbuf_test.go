package app

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"tongxin/internal/web"
)

// syncBuffer is an output that may be read while the logger writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
	n  int // writes
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *syncBuffer) writes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

// Info lines wait for the next flush and go out together; a warning goes
// out at once with everything before it, in order; Close writes the rest.
func TestBufferedLogOrderAndWarnings(t *testing.T) {
	out := &syncBuffer{}
	log, buf, err := newBufferedLogger(out, "info")
	if err != nil {
		t.Fatal(err)
	}
	log.Debug("not at info")
	for i := range 50 {
		log.Info("request", "n", i)
	}
	if got := out.String(); got != "" && out.writes() > 2 { // a timer flush may fall inside the loop
		t.Fatalf("50 info lines made %d writes: they were not gathered", out.writes())
	}
	log.Warn("something is wrong", "n", 50)
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 51 {
		t.Fatalf("after a warning %d lines are written, want all 51 at once:\n%s", len(lines), out.String())
	}
	for i, l := range lines {
		var rec struct {
			Level string
			Msg   string
			N     int
		}
		if err := json.Unmarshal([]byte(l), &rec); err != nil || rec.N != i {
			t.Fatalf("line %d is %q: want record %d, in order (%v)", i, l, i, err)
		}
	}
	if strings.Contains(out.String(), "not at info") {
		t.Error("a debug line was written at level info")
	}
	log.Info("last words")
	buf.Close()
	if !strings.HasSuffix(out.String(), "\"msg\":\"last words\"}\n") {
		t.Errorf("Close did not write the last line:\n%s", out.String())
	}
}

// An info line reaches the output within a flush interval, without any
// other line to push it.
func TestBufferedLogFlushesOnTime(t *testing.T) {
	out := &syncBuffer{}
	log, buf, err := newBufferedLogger(out, "info")
	if err != nil {
		t.Fatal(err)
	}
	defer buf.Close()
	log.Info("alone")
	deadline := time.Now().Add(10 * logFlushEvery)
	for !strings.Contains(out.String(), "alone") {
		if time.Now().After(deadline) {
			t.Fatalf("an info line was not written within %v", 10*logFlushEvery)
		}
		time.Sleep(logFlushEvery / 10)
	}
}

// Lines logged from many goroutines at once, more than the buffer holds,
// all arrive whole: none lost, none torn or interleaved.
func TestBufferedLogConcurrentWriters(t *testing.T) {
	out := &syncBuffer{}
	log, buf, err := newBufferedLogger(out, "info")
	if err != nil {
		t.Fatal(err)
	}
	const writers, each = 8, 2000
	pad := strings.Repeat("x", 100)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				if i%500 == 499 {
					log.Error("boom", "w", w, "i", i, "pad", pad)
				} else {
					log.Info("request", "w", w, "i", i, "pad", pad)
				}
			}
		})
	}
	wg.Wait()
	buf.Close()
	seen := map[string]bool{}
	last := map[int]int{}
	for l := range strings.Lines(out.String()) {
		var rec struct{ W, I int }
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("a torn line: %q: %v", l, err)
		}
		k := fmt.Sprint(rec.W, "/", rec.I)
		if seen[k] {
			t.Fatalf("line %s twice", k)
		}
		if p, ok := last[rec.W]; ok && rec.I <= p {
			t.Fatalf("writer %d: line %d after %d", rec.W, rec.I, p)
		}
		seen[k], last[rec.W] = true, rec.I
	}
	if len(seen) != writers*each {
		t.Fatalf("%d lines written, want %d", len(seen), writers*each)
	}
}

// The server's logger writes access lines itself, in order with the other
// lines; a logger with attributes of its own leaves them to slog, so that
// its attributes are on every line.
func TestBufferedLogAccessLines(t *testing.T) {
	out := &syncBuffer{}
	log, buf, err := newBufferedLogger(out, "info")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2022, 11, 21, 8, 0, 0, 0, time.UTC)
	line := web.AccessLine{At: at, ID: "r-1", Method: "POST", Path: "/api/v1/checkpoints/2/scans", Status: 200, Bytes: 487,
		Duration: 310 * time.Microsecond, User: "kakou"}
	log.Info("before")
	if al, ok := log.Handler().(web.AccessLogger); !ok || !al.LogAccess(line) {
		t.Fatal("the server's log handler does not write access lines")
	}
	with := log.With("component", "sweeper").Handler()
	if al, ok := with.(web.AccessLogger); ok && al.LogAccess(line) {
		t.Fatal("a handler with attributes of its own wrote an access line without them")
	}
	log.Info("after")
	buf.Close()
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], `"msg":"before"`) || !strings.Contains(lines[2], `"msg":"after"`) {
		t.Fatalf("lines:\n%s", out.String())
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(lines[1]), &rec); err != nil {
		t.Fatalf("access line %q: %v", lines[1], err)
	}
	if rec["time"] != "2022-11-21T08:00:00Z" || rec["level"] != "INFO" || rec["msg"] != "request" || rec["request_id"] != "r-1" ||
		rec["method"] != "POST" || rec["path"] != "/api/v1/checkpoints/2/scans" || rec["status"] != 200.0 || rec["bytes"] != 487.0 ||
		rec["duration"] != 310000.0 || rec["user"] != "kakou" {
		t.Fatalf("access line %s", lines[1])
	}
}
