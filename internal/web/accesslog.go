package web

import (
	"log/slog"
	"strconv"
	"time"
)

// AccessLine is the log's line for one request (msg "request", at info).
type AccessLine struct {
	At       time.Time
	ID       string
	Method   string
	Path     string
	Status   int
	Bytes    int
	Duration time.Duration
	User     string
}

// Record is the line as a slog record. It is made here rather than by
// LogAttrs, which would look up its caller's program counter on every
// request for a source the log does not show.
func (l AccessLine) Record() slog.Record {
	rec := slog.NewRecord(l.At, slog.LevelInfo, "request", 0)
	rec.AddAttrs(slog.String("request_id", l.ID), slog.String("method", l.Method), slog.String("path", l.Path),
		slog.Int("status", l.Status), slog.Int("bytes", l.Bytes), slog.Duration("duration", l.Duration), slog.String("user", l.User))
	return rec
}

// AccessLogger is a log handler that writes access lines itself, byte
// for byte as slog's JSON handler writes their Record, without a record's
// attributes going through slog's generic code (a twentieth of a scan's
// time on one core). LogAccess reports false when it does not, and the
// record is handled as any other.
type AccessLogger interface {
	LogAccess(AccessLine) bool
}

// AppendJSON appends the line as slog.JSONHandler writes its Record (with
// no attributes of its own), newline included.
func (l AccessLine) AppendJSON(b []byte) []byte {
	b = append(b, `{"time":"`...)
	b = l.At.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","level":"INFO","msg":"request","request_id":`...)
	b = appendLogString(b, l.ID)
	b = append(b, `,"method":`...)
	b = appendLogString(b, l.Method)
	b = append(b, `,"path":`...)
	b = appendLogString(b, l.Path)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(l.Status), 10)
	b = append(b, `,"bytes":`...)
	b = strconv.AppendInt(b, int64(l.Bytes), 10)
	b = append(b, `,"duration":`...)
	b = strconv.AppendInt(b, int64(l.Duration), 10)
	b = append(b, `,"user":`...)
	b = appendLogString(b, l.User)
	return append(b, "}\n"...)
}
