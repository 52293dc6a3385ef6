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
