package resumption

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"tongxin/internal/web"
)

// A report's answer is written by hand (Report.AppendJSON); it must be
// byte for byte what encoding/json writes.
func TestReportAppendJSONIsEncodingJSON(t *testing.T) {
	for _, r := range []*Report{
		{EnterpriseKey: "91430202MA4L000001", Date: "2022-11-20", Status: Resumed, CapacityPct: 80, StaffExpected: 100,
			StaffOnSite: 80, ClosedLoop: true, FiledAt: testBase.UTC(), FiledBy: "hqstaff"},
		{EnterpriseKey: "P<1>&", Date: "", Status: Suspended, CapacityPct: 0, StaffExpected: -3, StaffOnSite: 1 << 40,
			Note: "停产\n\"检修\" \u2028 <b> \\ \x01 \xff", FiledAt: testBase.Add(123456789), FiledBy: "王<联络员>"},
		{FiledAt: time.Unix(0, 0).UTC()},
		nil,
	} {
		want, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.AppendJSON(nil); string(got) != string(want) {
			t.Errorf("AppendJSON:\n got %s\nwant %s", got, want)
		}
	}
}

// Whatever the fast path reads, encoding/json reads the same; what it
// does not read, it leaves alone.
func FuzzReportInputFastDecode(f *testing.F) {
	for _, s := range []string{
		`{"date":"2026-12-06","status":"resumed","capacity_pct":42,"staff_expected":100,"staff_on_site":42,"closed_loop":true}`,
		` { "date" : "2022-11-20" , "status" : "suspended" , "capacity_pct" : 0 , "staff_expected" : 0 , "staff_on_site" : -0 , "closed_loop" : false , "note" : "n" } `,
		`{"date":null,"status":null,"capacity_pct":null,"staff_expected":null,"staff_on_site":null,"closed_loop":null,"note":null}`,
		`{}`, `{"capacity_pct":1,"capacity_pct":2}`, `{"Date":"2022-11-20"}`, `{"capacity_pct":"1"}`, `{"date":1}`,
		`{"capacity_pct":1.5}`, `{"capacity_pct":1e2}`, `{"capacity_pct":01}`, `{"capacity_pct":-}`, `{"capacity_pct":99999999999999999999}`,
		`{"capacity_pct":9223372036854775807}`, `{"closed_loop":"true"}`, `{"closed_loop":truex}`, `{"closed_loop":1}`,
		`{"note":"检修"}`, `{"note":"a\nb"}`, `{"date":"2022-11-20"} x`, `{"date":"2022-11-20","extra":1}`, `{"date":"d",}`,
		`[]`, `{"date":"d"`, `{"capacity_pct":-12,"staff_on_site":7}`, `{"note":"t\u0041"}`, `null`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		n := 5
		sentinel := ReportInput{Date: "untouched", CapacityPct: &n, ClosedLoop: true}
		got := sentinel
		if !got.DecodeJSONFast(data) {
			if !reflect.DeepEqual(got, sentinel) {
				t.Fatalf("%q: the fast path failed but changed the value to %+v", data, got)
			}
			return
		}
		want, ok := web.DecodeStandard[ReportInput](data)
		if !ok || !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: fast path %+v, encoding/json %+v (ok %v)", data, got, want, ok)
		}
	})
}

// The body a client sends most (no note, or a note in plain ASCII) takes
// the fast path.
func TestReportInputFastDecodeTakesTheCommonBody(t *testing.T) {
	var in ReportInput
	body := `{"date":"2026-12-06","status":"partial","capacity_pct":42,"staff_expected":100,"staff_on_site":40,"closed_loop":true,"note":"ok"}`
	if !in.DecodeJSONFast([]byte(body)) {
		t.Fatal("the common body was left to encoding/json")
	}
	if in.Date != "2026-12-06" || in.Status != Partial || *in.CapacityPct != 42 || *in.StaffExpected != 100 || *in.StaffOnSite != 40 ||
		!in.ClosedLoop || in.Note != "ok" {
		t.Fatalf("read %+v", in)
	}
}
