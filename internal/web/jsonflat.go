package web

import "unsafe"

// JSONFastDecoder is a request body on a hot path that can read the
// common shape of itself without encoding/json's reflection: a flat
// object of plain strings (and nulls). DecodeJSONFast fills the value
// only when it read all of data and returns true; on anything else — an
// escape, a byte outside printable ASCII, a number, a nested value, a key
// it does not know or knows in another case, a key twice — it returns
// false and leaves the value alone, and encoding/json decodes the body,
// with its errors. Each implementation has a test comparing the two.
type JSONFastDecoder interface {
	DecodeJSONFast(data []byte) bool
}

// FlatJSON calls field for each member of the flat JSON object in data,
// in order, with its key and its value (both sharing data's bytes: valid
// during the call only): a string's content (no quotes; isNull false) or
// a null (isNull true). It returns false as soon as data
// is anything else, or field returns false: the caller then decodes with
// encoding/json. Strings with an escape or a byte outside printable ASCII
// are "anything else": they are rare in the bodies this serves, and
// encoding/json's treatment of them (invalid UTF-8, surrogates) is not
// worth redoing here.
func FlatJSON(data []byte, field func(key string, val []byte, isNull bool) bool) bool {
	return FlatJSONValues(data, func(key string, val []byte, kind JSONKind) bool {
		switch kind {
		case JSONString:
			return field(key, val, false)
		case JSONNull:
			return field(key, nil, true)
		}
		return false
	})
}

// JSONKind is the kind of a member's value in FlatJSONValues.
type JSONKind uint8

// The kinds of values FlatJSONValues reads.
const (
	JSONString JSONKind = iota // a plain string; val is its content
	JSONNull                   // null; val is empty
	JSONInt                    // an integer without fraction or exponent; val is its text (-?digits)
	JSONTrue
	JSONFalse
)

// FlatJSONValues is FlatJSON for objects whose members may also be
// integers and booleans: field gets each value's kind. A number with a
// fraction or an exponent is "anything else", as is anything FlatJSON
// refuses. The key, like the value, shares data's bytes: it is valid
// during the call only (a field looks it up; it does not keep it).
func FlatJSONValues(data []byte, field func(key string, val []byte, kind JSONKind) bool) bool {
	i := SkipJSONSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return false
	}
	i = SkipJSONSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return SkipJSONSpace(data, i+1) == len(data)
	}
	for {
		key, j, ok := PlainJSONString(data, i)
		if !ok {
			return false
		}
		i = SkipJSONSpace(data, j)
		if i >= len(data) || data[i] != ':' {
			return false
		}
		i = SkipJSONSpace(data, i+1)
		val, kind, j, ok := flatValue(data, i)
		if !ok || !field(unsafe.String(unsafe.SliceData(key), len(key)), val, kind) {
			return false
		}
		i = SkipJSONSpace(data, j)
		if i >= len(data) {
			return false
		}
		switch data[i] {
		case ',':
			i = SkipJSONSpace(data, i+1)
		case '}':
			return SkipJSONSpace(data, i+1) == len(data)
		default:
			return false
		}
	}
}

// flatValue reads the value at data[i] that FlatJSONValues accepts: its
// text (a string's content), kind and the index after it.
func flatValue(data []byte, i int) ([]byte, JSONKind, int, bool) {
	if i >= len(data) {
		return nil, 0, 0, false
	}
	for _, lit := range []struct {
		text string
		kind JSONKind
	}{{"null", JSONNull}, {"true", JSONTrue}, {"false", JSONFalse}} {
		if len(data)-i >= len(lit.text) && string(data[i:i+len(lit.text)]) == lit.text {
			return nil, lit.kind, i + len(lit.text), true
		}
	}
	if c := data[i]; c == '-' || c >= '0' && c <= '9' {
		// A fraction or an exponent is left to encoding/json.
		val, j, ok := PlainJSONInt(data, i)
		return val, JSONInt, j, ok
	}
	val, j, ok := PlainJSONString(data, i)
	return val, JSONString, j, ok
}

// jsonText is text JSON is read from: a body's bytes, or a string of
// them (whose pieces are then strings without a copy each).
type jsonText interface{ ~string | ~[]byte }

// PlainJSONString reads a JSON string at data[i] made only of printable
// ASCII without escapes; it returns its content and the index after it.
// The fast decoders (JSONFastDecoder) read strings with it and leave any
// other to encoding/json.
func PlainJSONString[T jsonText](data T, i int) (T, int, bool) {
	var none T
	if i >= len(data) || data[i] != '"' {
		return none, 0, false
	}
	j := i + 1
	// Eight bytes at a time while none of them ends the string or is
	// out of place (a pass token is some 400 bytes of base64url); the
	// byte loop below finds which one it is.
	for ; j+8 <= len(data); j += 8 {
		d := data[j : j+8]
		w := uint64(d[0]) | uint64(d[1])<<8 | uint64(d[2])<<16 | uint64(d[3])<<24 |
			uint64(d[4])<<32 | uint64(d[5])<<40 | uint64(d[6])<<48 | uint64(d[7])<<56
		if notPlain(w) != 0 {
			break
		}
	}
	for ; j < len(data); j++ {
		switch c := data[j]; {
		case c == '"':
			return data[i+1 : j], j + 1, true
		case c == '\\' || c < 0x20 || c >= 0x7f:
			return none, 0, false
		}
	}
	return none, 0, false
}

// Byte masks for notPlain: 0x01 and 0x80 in each byte of a word.
const (
	bytesOf1    = 0x0101010101010101
	bytesOfHigh = 0x8080808080808080
)

// notPlain is not zero exactly when one of the eight bytes of w is a
// quote, a backslash, a control character (below 0x20) or not printable
// ASCII (0x7f and up). Each test (a zero byte, a byte below or above a
// bound) says rightly whether there is such a byte, not which one: a
// borrow or carry from it may mark the next; the caller finds which.
func notPlain(w uint64) uint64 {
	quote := w ^ ('"' * bytesOf1)
	slash := w ^ ('\\' * bytesOf1)
	control := (w - 0x20*bytesOf1) &^ w & bytesOfHigh // a byte below 0x20
	high := (w + 0x01*bytesOf1 | w) & bytesOfHigh     // a byte of 0x7f or more
	return zeroByte(quote) | zeroByte(slash) | control | high
}

// zeroByte is not zero when a byte of x is zero.
func zeroByte(x uint64) uint64 { return (x - bytesOf1) &^ x & bytesOfHigh }

// PlainJSONInt reads a JSON number at data[i] that is an integer written
// plainly — an optional minus, at least a digit, no leading zero, no
// fraction or exponent — and returns its text and the index after it.
func PlainJSONInt[T jsonText](data T, i int) (T, int, bool) {
	var none T
	j := i
	if j < len(data) && data[j] == '-' {
		j++
	}
	start := j
	for j < len(data) && data[j] >= '0' && data[j] <= '9' {
		j++
	}
	if j == start || data[start] == '0' && j-start > 1 || j < len(data) && (data[j] == '.' || data[j] == 'e' || data[j] == 'E') {
		return none, 0, false
	}
	return data[i:j], j, true
}

// SkipJSONSpace returns the index of the first byte of data at or after i
// that is not JSON white space.
func SkipJSONSpace[T jsonText](data T, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}
