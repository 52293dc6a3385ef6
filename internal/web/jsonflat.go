package web

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
// in order, with its key and its value: a string's content (no quotes;
// isNull false) or a null (isNull true). It returns false as soon as data
// is anything else, or field returns false: the caller then decodes with
// encoding/json. Strings with an escape or a byte outside printable ASCII
// are "anything else": they are rare in the bodies this serves, and
// encoding/json's treatment of them (invalid UTF-8, surrogates) is not
// worth redoing here.
func FlatJSON(data []byte, field func(key string, val []byte, isNull bool) bool) bool {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return false
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return skipSpace(data, i+1) == len(data)
	}
	for {
		key, j, ok := plainString(data, i)
		if !ok {
			return false
		}
		i = skipSpace(data, j)
		if i >= len(data) || data[i] != ':' {
			return false
		}
		i = skipSpace(data, i+1)
		if i+4 <= len(data) && string(data[i:i+4]) == "null" {
			if !field(string(key), nil, true) {
				return false
			}
			i += 4
		} else {
			val, j, ok := plainString(data, i)
			if !ok || !field(string(key), val, false) {
				return false
			}
			i = j
		}
		i = skipSpace(data, i)
		if i >= len(data) {
			return false
		}
		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
		case '}':
			return skipSpace(data, i+1) == len(data)
		default:
			return false
		}
	}
}

// plainString reads a JSON string at data[i] made only of printable ASCII
// without escapes; it returns its content and the index after it.
func plainString(data []byte, i int) ([]byte, int, bool) {
	if i >= len(data) || data[i] != '"' {
		return nil, 0, false
	}
	for j := i + 1; j < len(data); j++ {
		switch c := data[j]; {
		case c == '"':
			return data[i+1 : j], j + 1, true
		case c == '\\' || c < 0x20 || c >= 0x7f:
			return nil, 0, false
		}
	}
	return nil, 0, false
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}
