package app

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"

	"tongxin/internal/web"
)

// The server's log is buffered: each request's access line (info) would
// otherwise cost a write system call of its own, some 4 µs of the 30–100 µs
// a request takes. Lines are kept in memory and written every
// logFlushEvery, or at once when logBufMax bytes are waiting; a record at
// warn or above is written at once, with everything before it, so that
// what goes wrong is never late. On a crash (SIGKILL, power) the info
// lines of the last logFlushEvery may be lost: the audit log, in the
// database, is the record of changes, not this one. A clean stop writes
// everything (Close).
const (
	logFlushEvery = 100 * time.Millisecond
	logBufMax     = 64 << 10
)

// logBuffer is an io.Writer that gathers writes and passes them on in
// bulk, in order.
type logBuffer struct {
	w io.Writer

	flushMu sync.Mutex // held while writing to w: one flush at a time, in order
	spare   []byte     // the buffer last written, reused (under flushMu)

	mu   sync.Mutex
	buf  []byte
	stop chan struct{}
	done chan struct{}
}

// newLogBuffer starts a buffer in front of w; Close writes what is left.
func newLogBuffer(w io.Writer) *logBuffer {
	b := &logBuffer{w: w, buf: make([]byte, 0, logBufMax), spare: make([]byte, 0, logBufMax),
		stop: make(chan struct{}), done: make(chan struct{})}
	go b.run()
	return b
}

// Write keeps p (one log record, as slog writes it); it never fails: a
// failing output is seen, as before, by whoever reads the log.
func (b *logBuffer) Write(p []byte) (int, error) {
	b.add(func(buf []byte) []byte { return append(buf, p...) })
	return len(p), nil
}

// add appends a record to the buffer with appendTo, and writes the buffer
// through once it holds logBufMax.
func (b *logBuffer) add(appendTo func([]byte) []byte) {
	b.mu.Lock()
	b.buf = appendTo(b.buf)
	full := len(b.buf) >= logBufMax
	b.mu.Unlock()
	if full {
		b.Flush()
	}
}

// Flush writes what is waiting.
func (b *logBuffer) Flush() {
	b.flushMu.Lock()
	defer b.flushMu.Unlock()
	b.mu.Lock()
	out := b.buf
	b.buf = b.spare[:0]
	b.mu.Unlock()
	if len(out) > 0 {
		b.w.Write(out)
	}
	if cap(out) > 4*logBufMax { // one huge record: do not keep its buffer
		out = make([]byte, 0, logBufMax)
	}
	b.spare = out
}

func (b *logBuffer) run() {
	defer close(b.done)
	t := time.NewTicker(logFlushEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			b.Flush()
		case <-b.stop:
			b.Flush()
			return
		}
	}
}

// Close stops the timer and writes what is left; writes after it go
// straight through at the next Close or not at all, so it comes last.
func (b *logBuffer) Close() {
	close(b.stop)
	<-b.done
}

// access keeps an access line, written as slog's JSON handler would
// write its record (web.AccessLine), straight into the buffer.
func (b *logBuffer) access(l web.AccessLine) { b.add(l.AppendJSON) }

// flushingHandler is a slog handler that writes its buffer through at once
// after a record at warn or above.
type flushingHandler struct {
	slog.Handler
	buf     *logBuffer
	derived bool // made by WithAttrs or WithGroup: its records carry more than an access line
}

// LogAccess writes the access line itself (web.AccessLogger), unless
// attributes or groups were added to this handler.
func (h flushingHandler) LogAccess(l web.AccessLine) bool {
	if h.derived {
		return false
	}
	h.buf.access(l)
	return true
}

func (h flushingHandler) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if r.Level >= slog.LevelWarn {
		h.buf.Flush()
	}
	return err
}

func (h flushingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return flushingHandler{h.Handler.WithAttrs(attrs), h.buf, true}
}

func (h flushingHandler) WithGroup(name string) slog.Handler {
	return flushingHandler{h.Handler.WithGroup(name), h.buf, true}
}

// newBufferedLogger is the server's logger: JSON lines at level and
// above, buffered (logBuffer); the caller closes the buffer last.
func newBufferedLogger(w io.Writer, level string) (*slog.Logger, *logBuffer, error) {
	l, err := parseLevel(level)
	if err != nil {
		return nil, nil, err
	}
	buf := newLogBuffer(w)
	h := slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: l})
	return slog.New(flushingHandler{h, buf, false}), buf, nil
}
