package checkpoint

import (
	"encoding/json"
	"testing"
	"time"

	"tongxin/internal/passtoken"
	"tongxin/internal/web"
)

// A scan's answer is written by hand (Scan.AppendJSON); it must be byte
// for byte what encoding/json writes, for every shape a scan takes.
func TestScanAppendJSONIsEncodingJSON(t *testing.T) {
	full := &PassInfo{PID: "P<1>", Kind: passtoken.Vehicle, Name: "王*\u2028", ID4: "123X", Plate: "湘B·12345", Ent: "qianjin",
		EntName: `前进"机械" & 子`, ValidFrom: testBase.Add(-time.Hour), ValidTo: testBase.Add(36 * time.Hour)}
	bare := &PassInfo{PID: "P2", Kind: passtoken.Person, Name: "李*", Ent: "e\xff", ValidFrom: time.Unix(0, 0).UTC(),
		ValidTo: time.Unix(maxUnix, 0).UTC()}
	for _, s := range []*Scan{
		{CheckpointID: 2, ClientID: "3f6c2d1e-aaaa-4bbb-8ccc-000000000001", Verdict: Allow, Reason: passtoken.OK,
			ReasonName: passtoken.ReasonNames[passtoken.OK], Pass: full, ScannedAt: testBase, ReceivedAt: testBase.Add(1500 * time.Millisecond),
			Officer: "kakou"},
		{ID: 99, CheckpointID: 7, ClientID: "odd\"\\\n\x01", Verdict: Deny, Reason: passtoken.Malformed,
			ReasonName: passtoken.ReasonNames[passtoken.Malformed], ScannedAt: testBase.In(time.FixedZone("CST", 8*3600)),
			ReceivedAt: testBase.Add(123456789), Officer: "王警官<b>", Offline: true, Replayed: true},
		{CheckpointID: 1, ClientID: "c", Verdict: Deny, Reason: passtoken.Expired, Pass: bare, Replayed: false},
		{CheckpointID: 3, ClientID: "r", Shown: ShownResident, Verdict: Deny, Reason: passtoken.ZoneSealed,
			Resident: &ResidentInfo{RID: "R<1>", Household: true, Name: "张*", Community: "430203001", Building: "0123abcd",
				Zone: 7, Level: "sealed", Permit: 9}},
		{CheckpointID: 3, ClientID: "r2", Shown: ShownResident, Verdict: Allow, Reason: passtoken.OK,
			Resident: &ResidentInfo{RID: "R2", Name: "", Community: "c\\"}},
		{},
		nil,
	} {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.AppendJSON(nil); string(got) != string(want) {
			t.Errorf("AppendJSON:\n got %s\nwant %s", got, want)
		}
		if s == nil || s.Resident == nil {
			continue
		}
		// An answer writes the resident as the log keeps it.
		r := &scanRow{checkpoint: s.CheckpointID, clientID: s.ClientID, shown: ShownResident, resident: s.Resident, reason: s.Reason,
			scannedAt: testBase, officer: "menggang"}
		a := r.answer(testBase, false)
		if want, _ := json.Marshal(a); a.residentJSON == nil || string(a.AppendJSON(nil)) != string(want) {
			t.Errorf("answer:\n got %s\nwant %s", a.AppendJSON(nil), want)
		}
	}
}

func sameInput(a, b ScanInput) bool {
	if (a.ScannedAt == nil) != (b.ScannedAt == nil) || a.ScannedAt != nil && !a.ScannedAt.Equal(*b.ScannedAt) {
		return false
	}
	a.ScannedAt, b.ScannedAt = nil, nil
	return a == b
}

// Whatever the fast path reads, encoding/json reads the same; what it
// does not read, it leaves alone.
func FuzzScanInputFastDecode(f *testing.F) {
	for _, s := range []string{
		`{"token":"eyJhbGciOi.abc-_","client_id":"3f6c2d1e-aaaa-4bbb-8ccc-000000000001"}`,
		` { "token" : "t" , "number" : "1234567890" , "client_id" : "c" , "scanned_at" : "2022-11-21T09:30:00.5+08:00" } `,
		`{"token":"t","scanned_at":null,"number":null}`, `{}`, `{"token":"a","token":"b"}`, `{"Token":"t"}`, `{"token":1}`,
		`{"token":"t\u0041"}`, `{"token":"t"} x`, `{"token":"t","extra":"e"}`, `{"scanned_at":"2022-13-01T00:00:00Z"}`,
		`{"token":"t",}`, `{"token":"王"}`, `[]`, `{"client_id":"c"`, `{"scanned_at":"2022-11-21T09:30:00Z"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sentinel := ScanInput{Token: "untouched"}
		got := sentinel
		if !got.DecodeJSONFast(data) {
			if !sameInput(got, sentinel) {
				t.Fatalf("%q: the fast path failed but changed the value to %+v", data, got)
			}
			return
		}
		want, ok := web.DecodeStandard[ScanInput](data)
		if !ok || !sameInput(got, want) {
			t.Fatalf("%q: fast path %+v, encoding/json %+v (ok %v)", data, got, want, ok)
		}
	})
}
