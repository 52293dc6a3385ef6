package web

import (
	"fmt"
	"strings"
	"testing"
)

// FlatJSONValues names each value's kind, and refuses what it leaves to
// encoding/json: numbers with a fraction, an exponent or a leading zero,
// nested values, escapes. FlatJSON, on top of it, refuses numbers and
// booleans as before.
func TestFlatJSONValues(t *testing.T) {
	read := func(data string) (string, bool) {
		var b strings.Builder
		ok := FlatJSONValues([]byte(data), func(key string, val []byte, kind JSONKind) bool {
			fmt.Fprintf(&b, "%s=%d:%s ", key, kind, val)
			return true
		})
		return b.String(), ok
	}
	for _, c := range []struct{ in, want string }{
		{`{"a":"x","b":null,"c":-12,"d":0,"e":true,"f":false}`, `a=0:x b=1: c=2:-12 d=2:0 e=3: f=4: `},
		{` { "n" : 7 } `, `n=2:7 `},
		{`{}`, ``},
	} {
		if got, ok := read(c.in); !ok || got != c.want {
			t.Errorf("%s: %q %v, want %q", c.in, got, ok, c.want)
		}
	}
	for _, in := range []string{`{"n":1.5}`, `{"n":1e3}`, `{"n":1E3}`, `{"n":01}`, `{"n":-}`, `{"n":-a}`, `{"n":truex}`, `{"n":[1]}`,
		`{"n":{}}`, `{"n":"a\"b"}`, `{"n":1`, `{"n":1}x`, `{"n":+1}`} {
		if got, ok := read(in); ok {
			t.Errorf("%s: read %q, want refused", in, got)
		}
	}
	for _, in := range []string{`{"n":1}`, `{"b":true}`} {
		if FlatJSON([]byte(in), func(string, []byte, bool) bool { return true }) {
			t.Errorf("FlatJSON read %s", in)
		}
	}
}

// PlainJSONString reads eight bytes at a time: every byte value at every
// place of a word, and strings of every length around a word's, answer
// what a byte-by-byte reading answers.
func TestPlainJSONStringWordAtATime(t *testing.T) {
	byteByByte := func(data string) (string, int, bool) {
		for j := 1; j < len(data); j++ {
			switch c := data[j]; {
			case c == '"':
				return data[1:j], j + 1, true
			case c == '\\' || c < 0x20 || c >= 0x7f:
				return "", 0, false
			}
		}
		return "", 0, false
	}
	check := func(data string) {
		t.Helper()
		got, end, ok := PlainJSONString(data, 0)
		want, wantEnd, wantOK := byteByByte(data)
		if got != want || end != wantEnd || ok != wantOK {
			t.Fatalf("%q: %q %d %v, want %q %d %v", data, got, end, ok, want, wantEnd, wantOK)
		}
		if b, bEnd, bOK := PlainJSONString([]byte(data), 0); string(b) != want || bEnd != wantEnd || bOK != wantOK {
			t.Fatalf("%q as bytes: %q %d %v, want %q %d %v", data, b, bEnd, bOK, want, wantEnd, wantOK)
		}
	}
	plain := "eyJhbGciOiJFZERTQSIsImtpZCI6ImsxIn0.abcdefghijklmnopqrstuvwxyz-_0123456789"
	for n := 0; n <= 24; n++ {
		check(`"` + plain[:n] + `"`)
		check(`"` + plain[:n]) // no closing quote
		for c := 0; c < 256; c++ {
			for at := 0; at < n; at += max(1, n/5) {
				check(`"` + plain[:at] + string([]byte{byte(c)}) + plain[at:n] + `"tail`)
			}
		}
	}
	if s, end, ok := PlainJSONString(`x"ab"`, 1); !ok || s != "ab" || end != 5 {
		t.Errorf("from an offset: %q %d %v", s, end, ok)
	}
}

func BenchmarkPlainJSONString(b *testing.B) {
	data := []byte(`"` + strings.Repeat("eyJhbGciOiJFZERTQSIsImtpZCI6ImsxIn0", 12) + `"`)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, _, ok := PlainJSONString(data, 0); !ok {
			b.Fatal("refused")
		}
	}
}
