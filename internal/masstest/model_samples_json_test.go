package masstest

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"tongxin/internal/web"
)

// A batch's answer is written by hand (sampleResults.AppendJSON); it
// must be byte for byte what encoding/json writes for web.Items of it.
func TestSampleResultsAppendJSONIsEncodingJSON(t *testing.T) {
	site, retest := int64(7), int64(1<<40)
	at := time.Date(2026, 12, 6, 8, 30, 1, 123000000, time.UTC)
	full := &Sample{ID: 12, RoundID: 3, ResidentID: 99, Resident: "R<&>", Name: "王*\u2028", HouseholdID: 5, Tube: "T-1",
		PoolSize: 10, Mode: AtSite, SiteID: &site, Collector: `cai"ji\`, ClientID: "c\x01\xff", SampledAt: at,
		ReceivedAt: at.Add(time.Second).In(time.FixedZone("CST", 8*3600)), RetestID: &retest}
	bare := &Sample{Mode: AtDoor}
	for _, rs := range []sampleResults{
		{{Status: Created, Sample: full}, {Status: Repeat, Sample: bare}, refused("tube_full", "该管已满 10 人"), {}},
		{refused("x", "<b>&</b>")},
		{},
		nil,
	} {
		want, err := json.Marshal(web.Items[SampleResult]{Items: rs})
		if err != nil {
			t.Fatal(err)
		}
		if got := rs.AppendJSON(nil); string(got) != string(want) {
			t.Errorf("AppendJSON:\n got %s\nwant %s", got, want)
		}
		for i := range rs {
			one, _ := json.Marshal(rs[i])
			if got := rs[i].AppendJSON(nil); string(got) != string(one) {
				t.Errorf("SampleResult.AppendJSON:\n got %s\nwant %s", got, one)
			}
		}
	}
}

// The fast reading of a body of samples gives what encoding/json gives,
// and leaves to it whatever it does not read.
func TestSampleBodyDecodeJSONFast(t *testing.T) {
	for _, c := range []struct {
		body string
		fast bool // read by the fast path
	}{
		{`{"client_id":"c1","resident":"R1","tube":"T-1","pool_size":10,"mode":"site"}`, true},
		{` [ {"client_id":"c1","resident":"R1","tube":"T-1","pool_size":10,"mode":"site"} ,
			{"client_id":"c2","id_number":"430203199001011234","tube":"T-1","pool_size":10,"mode":"door","site_id":3,
			 "sampled_at":"2026-12-06T08:30:01.123+08:00","retest_id":-4,"resident_code":"a.b.c"} ] `, true},
		{`[]`, true},
		{`[{}]`, true},
		{`{"client_id":"c1","pool_size":0}`, true},
		{`{"client_id":"c1","pool_size":-0}`, true},
		{`{"client_id":"c\u00e9"}`, false},
		{`{"client_id":"王"}`, false},
		{`{"Client_ID":"c1"}`, false},
		{`{"client_id":"c1","client_id":"c2"}`, false},
		{`{"client_id":null}`, false},
		{`{"pool_size":1.0}`, false},
		{`{"pool_size":1e1}`, false},
		{`{"pool_size":010}`, false},
		{`{"pool_size":"10"}`, false},
		{`{"pool_size":99999999999999999999}`, false},
		{`{"sampled_at":"yesterday"}`, false},
		{`{"sampled_at":"2026-12-06T08:30:01Z"}`, true},
		{`{"other":1}`, false},
		{`[{"client_id":"c1"},]`, false},
		{`[{"client_id":"c1"}] x`, false},
		{`{"client_id":"c1"`, false},
		{`[{"client_id":"c1"}`, false},
		{`"x"`, false},
		{``, false},
	} {
		var fast sampleBody
		got := fast.DecodeJSONFast([]byte(c.body))
		if got != c.fast {
			t.Errorf("%s: fast path %v, want %v", c.body, got, c.fast)
			continue
		}
		if !got {
			continue
		}
		var std sampleBody
		if err := json.Unmarshal([]byte(c.body), &std); err != nil {
			t.Errorf("%s: encoding/json: %v", c.body, err)
			continue
		}
		if len(std.list) == 0 && len(fast.list) == 0 {
			std.list, fast.list = nil, nil
		}
		for i := range std.list {
			if !std.list[i].SampledAt.Equal(fast.list[i].SampledAt) {
				t.Errorf("%s: record %d sampled at %v, want %v", c.body, i, fast.list[i].SampledAt, std.list[i].SampledAt)
			}
			std.list[i].SampledAt, fast.list[i].SampledAt = time.Time{}, time.Time{}
		}
		if !reflect.DeepEqual(fast, std) {
			t.Errorf("%s:\n fast %+v\n  std %+v", c.body, fast, std)
		}
	}
}

// The samples' INSERT of the largest piece stays within the statement
// cache's bound (db's maxStmtLen, 4 KiB): past it, every batch would
// parse its 15 statements of 64 rows again.
func TestSampleInsertFitsTheStatementCache(t *testing.T) {
	if n := len(sampleInsertSQL(sampleRowSizes[0])); n > 4096 {
		t.Errorf("the INSERT of %d samples is %d bytes", sampleRowSizes[0], n)
	}
}
