package resumption

import (
	"strconv"

	"tongxin/internal/web"
)

// A daily report's body and answer are read and written without
// encoding/json's reflection (web.JSONFastDecoder, web.JSONAppender): the
// filing is a hot path. Tests hold both to encoding/json.

// AppendJSON appends the report as encoding/json writes it.
func (r *Report) AppendJSON(b []byte) []byte {
	if r == nil {
		return append(b, "null"...)
	}
	b = append(b, `{"enterprise_key":`...)
	b = web.AppendJSONString(b, r.EnterpriseKey)
	b = append(b, `,"date":`...)
	b = web.AppendJSONString(b, r.Date)
	b = append(b, `,"status":`...)
	b = web.AppendJSONString(b, string(r.Status))
	b = append(b, `,"capacity_pct":`...)
	b = strconv.AppendInt(b, int64(r.CapacityPct), 10)
	b = append(b, `,"staff_expected":`...)
	b = strconv.AppendInt(b, int64(r.StaffExpected), 10)
	b = append(b, `,"staff_on_site":`...)
	b = strconv.AppendInt(b, int64(r.StaffOnSite), 10)
	b = append(b, `,"closed_loop":`...)
	b = strconv.AppendBool(b, r.ClosedLoop)
	b = append(b, `,"note":`...)
	b = web.AppendJSONString(b, r.Note)
	b = append(b, `,"filed_at":`...)
	b = web.AppendJSONTime(b, r.FiledAt)
	b = append(b, `,"filed_by":`...)
	b = web.AppendJSONString(b, r.FiledBy)
	return append(b, '}')
}

// DecodeJSONFast reads the common shape of a report's body (a flat object
// of plain strings, integers, booleans and nulls, each key once, in the
// case of its tag) without reflection; anything else is left to
// encoding/json, which decodes null into a string or a bool as nothing
// and into a count as none.
func (in *ReportInput) DecodeJSONFast(data []byte) bool {
	var out ReportInput
	var seen [7]bool
	ok := web.FlatJSONValues(data, func(key string, val []byte, kind web.JSONKind) bool {
		k := reportKeys[key]
		if k == 0 || seen[k-1] {
			return false
		}
		seen[k-1] = true
		switch k {
		case 1, 2, 7: // date, status, note
			return out.setString(k, val, kind)
		case 3, 4, 5: // the counts
			return out.setCount(k, val, kind)
		default: // closed_loop
			switch kind {
			case web.JSONTrue, web.JSONFalse:
				out.ClosedLoop = kind == web.JSONTrue
			case web.JSONNull:
			default:
				return false
			}
			return true
		}
	})
	if ok {
		*in = out
	}
	return ok
}

// reportKeys numbers the members of a report's body (0: not one).
var reportKeys = map[string]int{"date": 1, "status": 2, "capacity_pct": 3, "staff_expected": 4, "staff_on_site": 5,
	"closed_loop": 6, "note": 7}

// setString sets member k (date, status or note) from a string or null.
func (in *ReportInput) setString(k int, val []byte, kind web.JSONKind) bool {
	switch kind {
	case web.JSONNull:
		return true
	case web.JSONString:
	default:
		return false
	}
	switch k {
	case 1:
		in.Date = string(val)
	case 2:
		in.Status = Status(val)
	default:
		in.Note = string(val)
	}
	return true
}

// setCount sets member k (a count) from an integer that fits an int, or
// null.
func (in *ReportInput) setCount(k int, val []byte, kind web.JSONKind) bool {
	var p *int
	switch kind {
	case web.JSONNull:
	case web.JSONInt:
		n, err := strconv.Atoi(string(val))
		if err != nil {
			return false
		}
		p = &n
	default:
		return false
	}
	switch k {
	case 3:
		in.CapacityPct = p
	case 4:
		in.StaffExpected = p
	default:
		in.StaffOnSite = p
	}
	return true
}
