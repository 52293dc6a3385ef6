package web

import (
	"time"
	"unicode/utf8"
)

// JSONAppender is an answer that writes its own JSON: the few answers on
// hot paths (an online scan's verdict) skip encoding/json's reflection and
// its check of what a MarshalJSON method returns. What AppendJSON writes
// must be exactly what encoding/json would write for the value; each
// implementation has a test comparing the two.
type JSONAppender interface {
	AppendJSON(b []byte) []byte
}

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as encoding/json writes a string: quoted,
// with ", \ and control characters escaped, <, > and & as \u003c, \u003e
// and \u0026 (safe inside HTML), U+2028 and U+2029 escaped, and bytes
// that are not UTF-8 as U+FFFD.
func AppendJSONString(b []byte, s string) []byte { return appendQuoted(b, s, &jsonSafe, true) }

// appendLogString quotes s as slog's JSON handler does: like
// encoding/json, but <, > and & as they are, and \b and \f as \u00XX.
func appendLogString(b []byte, s string) []byte { return appendQuoted(b, s, &logSafe, false) }

// jsonSafe and logSafe are the ASCII bytes each writes as they are.
var jsonSafe, logSafe = func() (j, l [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		l[c] = c != '"' && c != '\\'
		j[c] = l[c] && c != '<' && c != '>' && c != '&'
	}
	return j, l
}()

// appendQuoted quotes s, writing the ASCII bytes safe holds as they are
// and escaping the others (\b and \f short when shortBF, as encoding/json
// does); U+2028, U+2029 and bytes that are not UTF-8 escaped.
func appendQuoted(b []byte, s string, safe *[utf8.RuneSelf]bool, shortBF bool) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if safe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c == '\b' && shortBF:
				b = append(b, '\\', 'b')
			case c == '\f' && shortBF:
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			start = i + size
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			start = i + size
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// AppendJSONTime appends t as encoding/json writes a time.Time (RFC 3339
// with nanoseconds as needed, quoted). Times outside the years 0–9999,
// which encoding/json refuses, do not reach the hot answers that use it.
func AppendJSONTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}
