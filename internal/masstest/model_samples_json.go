package masstest

import (
	"slices"
	"strconv"

	"tongxin/internal/web"
)

// Samples' JSON on the hot path, read and written by hand: a batch of a
// thousand records cost encoding/json's reflection about as much as the
// database's work for them. DecodeJSONFast reads the common shape of a
// body (web.JSONFastDecoder) and leaves anything else to encoding/json;
// AppendJSON writes exactly what encoding/json writes (web.JSONAppender).
// model_samples_json_test.go holds both to encoding/json.

// DecodeJSONFast reads an array of sample records, or one record alone,
// whose keys are SampleInput's exactly, each once, whose strings are
// plain (printable ASCII, no escapes) and whose numbers are integers.
func (b *sampleBody) DecodeJSONFast(data []byte) bool {
	// One string for the whole body: the records' fields are pieces of
	// it, not an allocation each.
	s := string(data)
	i := web.SkipJSONSpace(s, 0)
	if i >= len(s) {
		return false
	}
	if s[i] == '{' {
		var in SampleInput
		j, ok := decodeSampleInput(s, i, &in)
		if !ok || web.SkipJSONSpace(s, j) != len(s) {
			return false
		}
		b.list, b.single = []SampleInput{in}, true
		return true
	}
	if s[i] != '[' {
		return false
	}
	list := make([]SampleInput, 0, min(MaxSampleBatch, len(s)/64+1))
	i = web.SkipJSONSpace(s, i+1)
	if i < len(s) && s[i] == ']' {
		b.list, b.single = list, false
		return web.SkipJSONSpace(s, i+1) == len(s)
	}
	for {
		var in SampleInput
		j, ok := decodeSampleInput(s, i, &in)
		if !ok {
			return false
		}
		list = append(list, in)
		i = web.SkipJSONSpace(s, j)
		if i >= len(s) {
			return false
		}
		switch s[i] {
		case ',':
			i = web.SkipJSONSpace(s, i+1)
		case ']':
			if web.SkipJSONSpace(s, i+1) != len(s) {
				return false
			}
			b.list, b.single = list, false
			return true
		default:
			return false
		}
	}
}

// decodeSampleInput reads the record object at s[i] into in, answering
// the index after it; false for anything DecodeJSONFast does not read.
func decodeSampleInput(s string, i int, in *SampleInput) (int, bool) {
	if s[i] != '{' {
		return 0, false
	}
	var seen uint16
	i = web.SkipJSONSpace(s, i+1)
	if i < len(s) && s[i] == '}' {
		return i + 1, true
	}
	for {
		key, j, ok := web.PlainJSONString(s, i)
		if !ok {
			return 0, false
		}
		i = web.SkipJSONSpace(s, j)
		if i >= len(s) || s[i] != ':' {
			return 0, false
		}
		i = web.SkipJSONSpace(s, i+1)
		k := sampleKey(key)
		if k < 0 || seen&(1<<k) != 0 {
			return 0, false
		}
		seen |= 1 << k
		if i, ok = sampleField(s, i, k, in); !ok {
			return 0, false
		}
		i = web.SkipJSONSpace(s, i)
		if i >= len(s) {
			return 0, false
		}
		switch s[i] {
		case ',':
			i = web.SkipJSONSpace(s, i+1)
		case '}':
			return i + 1, true
		default:
			return 0, false
		}
	}
}

// The keys of SampleInput, as sampleKey numbers them.
var sampleKeys = [...]string{"client_id", "resident", "resident_code", "id_number", "tube", "pool_size", "mode", "site_id",
	"sampled_at", "retest_id"}

func sampleKey(key string) int {
	for k, name := range sampleKeys {
		if key == name {
			return k
		}
	}
	return -1
}

// sampleField reads the value at s[i] of the field numbered k into in.
func sampleField(s string, i, k int, in *SampleInput) (int, bool) {
	switch k {
	case 5, 7, 9:
		n, j, ok := plainJSONInt(s, i)
		if !ok {
			return 0, false
		}
		switch k {
		case 5:
			in.PoolSize = int(n)
		case 7:
			in.SiteID = n
		default:
			in.RetestID = n
		}
		return j, true
	}
	v, j, ok := web.PlainJSONString(s, i)
	if !ok {
		return 0, false
	}
	switch k {
	case 0:
		in.ClientID = v
	case 1:
		in.Resident = v
	case 2:
		in.ResidentCode = v
	case 3:
		in.IDNumber = v
	case 4:
		in.Tube = v
	case 6:
		in.Mode = SampleMode(v)
	case 8:
		// Quoted, as encoding/json hands it to time.Time.
		if in.SampledAt.UnmarshalJSON([]byte(s[i:j])) != nil {
			return 0, false
		}
	}
	return j, true
}

// plainJSONInt reads a plain JSON integer at s[i] (web.PlainJSONInt)
// that fits an int64.
func plainJSONInt(s string, i int) (int64, int, bool) {
	text, j, ok := web.PlainJSONInt(s, i)
	if !ok {
		return 0, 0, false
	}
	n, err := strconv.ParseInt(text, 10, 64)
	return n, j, err == nil
}

// sampleResults is a batch's answer, {"items":[…]}.
type sampleResults []SampleResult

// AppendJSON appends the answer as encoding/json writes web.Items of it.
func (rs sampleResults) AppendJSON(b []byte) []byte {
	// About 400 bytes a created sample: grown once, not doubled.
	b = slices.Grow(b, 16+len(rs)*420)
	b = append(b, `{"items":`...)
	if rs == nil {
		return append(b, "null}"...)
	}
	b = append(b, '[')
	for i := range rs {
		if i > 0 {
			b = append(b, ',')
		}
		b = rs[i].AppendJSON(b)
	}
	return append(b, "]}"...)
}

// AppendJSON appends the result as encoding/json writes it.
func (r *SampleResult) AppendJSON(b []byte) []byte {
	b = append(b, `{"status":`...)
	b = web.AppendJSONString(b, r.Status)
	if r.Code != "" {
		b = append(b, `,"code":`...)
		b = web.AppendJSONString(b, r.Code)
	}
	if r.Message != "" {
		b = append(b, `,"message":`...)
		b = web.AppendJSONString(b, r.Message)
	}
	if r.Sample != nil {
		b = append(b, `,"sample":`...)
		b = r.Sample.AppendJSON(b)
	}
	return append(b, '}')
}

// AppendJSON appends the sample as encoding/json writes it.
func (s *Sample) AppendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, s.ID, 10)
	b = append(b, `,"round_id":`...)
	b = strconv.AppendInt(b, s.RoundID, 10)
	b = append(b, `,"resident_id":`...)
	b = strconv.AppendInt(b, s.ResidentID, 10)
	b = append(b, `,"resident":`...)
	b = web.AppendJSONString(b, s.Resident)
	b = append(b, `,"name":`...)
	b = web.AppendJSONString(b, s.Name)
	b = append(b, `,"household_id":`...)
	b = strconv.AppendInt(b, s.HouseholdID, 10)
	b = append(b, `,"tube":`...)
	b = web.AppendJSONString(b, s.Tube)
	b = append(b, `,"pool_size":`...)
	b = strconv.AppendInt(b, int64(s.PoolSize), 10)
	b = append(b, `,"mode":`...)
	b = web.AppendJSONString(b, string(s.Mode))
	b = append(b, `,"site_id":`...)
	b = appendIntPtr(b, s.SiteID)
	b = append(b, `,"collector":`...)
	b = web.AppendJSONString(b, s.Collector)
	b = append(b, `,"client_id":`...)
	b = web.AppendJSONString(b, s.ClientID)
	b = append(b, `,"sampled_at":`...)
	b = web.AppendJSONTime(b, s.SampledAt)
	b = append(b, `,"received_at":`...)
	b = web.AppendJSONTime(b, s.ReceivedAt)
	b = append(b, `,"retest_id":`...)
	b = appendIntPtr(b, s.RetestID)
	return append(b, '}')
}

func appendIntPtr(b []byte, p *int64) []byte {
	if p == nil {
		return append(b, "null"...)
	}
	return strconv.AppendInt(b, *p, 10)
}
