package checkpoint

import (
	"strconv"
	"time"

	"tongxin/internal/web"
)

// Scans' JSON on the hot path, written and read by hand (web.JSONAppender,
// web.JSONFastDecoder); model_json_test.go holds each to encoding/json.

// AppendJSON appends the scan as encoding/json writes it (web.JSONAppender:
// the online scan's answer is on the hottest path there is).
func (s *Scan) AppendJSON(b []byte) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	if s.encoded != nil {
		return append(b, s.encoded...)
	}
	if s.ID != 0 {
		b = append(b, `{"id":`...)
		b = strconv.AppendInt(b, s.ID, 10)
		b = append(b, `,"checkpoint_id":`...)
	} else {
		b = append(b, `{"checkpoint_id":`...)
	}
	b = strconv.AppendInt(b, s.CheckpointID, 10)
	b = append(b, `,"client_id":`...)
	b = web.AppendJSONString(b, s.ClientID)
	b = append(b, `,"shown":`...)
	b = web.AppendJSONString(b, string(s.Shown))
	b = append(b, `,"verdict":`...)
	b = web.AppendJSONString(b, string(s.Verdict))
	b = append(b, `,"reason":`...)
	b = web.AppendJSONString(b, string(s.Reason))
	b = append(b, `,"reason_name":`...)
	b = web.AppendJSONString(b, s.ReasonName)
	b = append(b, `,"pass":`...)
	b = s.Pass.AppendJSON(b)
	switch {
	case s.residentJSON != nil:
		b = append(b, `,"resident":`...)
		b = append(b, s.residentJSON...)
	case s.Resident != nil:
		b = append(b, `,"resident":`...)
		b = s.Resident.AppendJSON(b)
	}
	b = append(b, `,"scanned_at":`...)
	b = web.AppendJSONTime(b, s.ScannedAt)
	b = append(b, `,"received_at":`...)
	b = web.AppendJSONTime(b, s.ReceivedAt)
	b = append(b, `,"officer":`...)
	b = web.AppendJSONString(b, s.Officer)
	b = append(b, `,"offline":`...)
	b = strconv.AppendBool(b, s.Offline)
	if s.Replayed {
		b = append(b, `,"replayed":true`...)
	}
	return append(b, '}')
}

// AppendJSON appends the pass as encoding/json writes it; the journal
// keeps the same bytes.
func (p *PassInfo) AppendJSON(b []byte) []byte {
	if p == nil {
		return append(b, "null"...)
	}
	if p.json != nil {
		return append(b, p.json...)
	}
	b = append(b, `{"pid":`...)
	b = web.AppendJSONString(b, p.PID)
	b = append(b, `,"kind":`...)
	b = web.AppendJSONString(b, string(p.Kind))
	b = append(b, `,"name":`...)
	b = web.AppendJSONString(b, p.Name)
	if p.ID4 != "" {
		b = append(b, `,"id4":`...)
		b = web.AppendJSONString(b, p.ID4)
	}
	if p.Plate != "" {
		b = append(b, `,"plate":`...)
		b = web.AppendJSONString(b, p.Plate)
	}
	b = append(b, `,"ent":`...)
	b = web.AppendJSONString(b, p.Ent)
	if p.EntName != "" {
		b = append(b, `,"ent_name":`...)
		b = web.AppendJSONString(b, p.EntName)
	}
	b = append(b, `,"valid_from":`...)
	b = web.AppendJSONTime(b, p.ValidFrom)
	b = append(b, `,"valid_to":`...)
	b = web.AppendJSONTime(b, p.ValidTo)
	return append(b, '}')
}

// DecodeJSONFast reads the common shape of an online scan's body (a flat
// object of plain strings) without reflection (web.JSONFastDecoder);
// anything else is left to encoding/json.
func (in *ScanInput) DecodeJSONFast(data []byte) bool {
	var out ScanInput
	var seen [4]bool
	once := func(k int) bool {
		if seen[k] {
			return false
		}
		seen[k] = true
		return true
	}
	ok := web.FlatJSON(data, func(key string, val []byte, isNull bool) bool {
		switch key {
		case "token":
			if !once(0) {
				return false
			}
			if !isNull {
				out.Token = string(val)
			}
		case "number":
			if !once(1) {
				return false
			}
			if !isNull {
				out.Number = string(val)
			}
		case "client_id":
			if !once(2) {
				return false
			}
			if !isNull {
				out.ClientID = string(val)
			}
		case "scanned_at":
			if !once(3) {
				return false
			}
			if !isNull {
				var t time.Time
				if t.UnmarshalText(val) != nil {
					return false
				}
				out.ScannedAt = &t
			}
		default:
			return false
		}
		return true
	})
	if ok {
		*in = out
	}
	return ok
}
