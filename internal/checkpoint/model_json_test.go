package checkpoint

import (
	"encoding/json"
	"testing"
	"time"

	"tongxin/internal/passtoken"
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
	}
}
