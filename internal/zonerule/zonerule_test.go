package zonerule

import (
	"encoding/json"
	"testing"

	"tongxin/internal/passtoken"
)

// The demo's shape: estate A's buildings a1, a2 sealed from 100 to 200
// (then lowered: controlled from 200), the community C controlled around
// them from 100, open-ended; estate B (building b1) in C; community D open.
func demo() *Snapshot {
	return &Snapshot{Seq: 3, Full: true, Zones: []Zone{
		{ID: 1, Level: Sealed, Buildings: []string{"a1", "a2"}, From: 100, To: 200, Seq: 2},
		{ID: 2, Level: Controlled, Communities: []string{"C"}, From: 100, Seq: 1},
		{ID: 3, Level: Controlled, Buildings: []string{"a1", "a2"}, From: 200, Seq: 3},
	}, Permits: []Permit{{ID: 7, Resident: "r-med", From: 150, To: 160, Seq: 3}}}
}

func TestDecide(t *testing.T) {
	x := NewIndex(demo())
	gateA := Gate{Community: "C", Buildings: []string{"a1", "a2"}}
	gateD := Gate{Community: "D", Buildings: []string{"d1"}}
	cases := []struct {
		name string
		g    Gate
		r    Resident
		at   int64
		want passtoken.Reason
		zone int64
	}{
		{"sealed resident at their gate", gateA, Resident{"r1", "C", "a1"}, 120, passtoken.ZoneSealed, 1},
		{"sealed resident with a permit in force", gateA, Resident{"r-med", "C", "a2"}, 155, passtoken.OK, 1},
		{"the permit's window is over", gateA, Resident{"r-med", "C", "a2"}, 160, passtoken.ZoneSealed, 1},
		{"sealed resident at another gate", gateD, Resident{"r1", "C", "a1"}, 120, passtoken.ZoneSealed, 1},
		{"before the seal", gateA, Resident{"r1", "C", "a1"}, 99, passtoken.OK, 0},
		{"after lowering: inside the controlled zone", gateA, Resident{"r1", "C", "a1"}, 200, passtoken.OK, 2},
		{"controlled resident of estate B at A's gate", gateA, Resident{"r2", "C", "b1"}, 120, passtoken.OK, 2},
		{"controlled resident outside the zone", gateD, Resident{"r2", "C", "b1"}, 120, passtoken.ZoneControlled, 2},
		{"resident of an open community", gateA, Resident{"r3", "D", "d1"}, 120, passtoken.OK, 0},
	}
	for _, c := range cases {
		v := x.Decide(c.g, c.r, c.at)
		var zone int64
		if v.Zone != nil {
			zone = v.Zone.ID
		}
		if v.Reason != c.want || zone != c.zone {
			t.Errorf("%s: got %s by zone %d, want %s by zone %d", c.name, v.Reason, zone, c.want, c.zone)
		}
	}
}

func TestMergeReplacesByID(t *testing.T) {
	s := demo()
	s.Merge(&Snapshot{Seq: 5, Zones: []Zone{{ID: 2, Level: Controlled, Communities: []string{"C"}, From: 100, To: 300, Seq: 5},
		{ID: 4, Level: Guarded, Communities: []string{"D"}, From: 300, Seq: 4}},
		Permits: []Permit{{ID: 7, Resident: "r-med", From: 150, To: 152, Seq: 5}}})
	if s.Seq != 5 || len(s.Zones) != 4 || s.Zones[1].To != 300 || len(s.Permits) != 1 || s.Permits[0].To != 152 {
		t.Fatalf("merge: %+v", s)
	}
	x := NewIndex(s)
	if v := x.Decide(Gate{Community: "D"}, Resident{"r2", "C", "b1"}, 300); v.Reason != passtoken.OK {
		t.Errorf("after the controlled zone ended at 300: %s", v.Reason)
	}
	if v := x.Decide(Gate{Community: "C"}, Resident{"r-med", "C", "a1"}, 155); v.Reason != passtoken.ZoneSealed {
		t.Errorf("a permit cut short at 152 still let out at 155: %s", v.Reason)
	}
	s.Merge(&Snapshot{Seq: 9, Full: true})
	if s.Seq != 9 || len(s.Zones) != 0 || len(s.Permits) != 0 {
		t.Fatalf("a whole snapshot did not replace: %+v", s)
	}
}

// The JSON the scan page reads: these names are zone-rule.js's contract.
func TestSnapshotJSON(t *testing.T) {
	b, err := json.Marshal(Snapshot{Seq: 1, Zones: []Zone{{ID: 1, Level: Sealed, Buildings: []string{"k"}, From: 5, Seq: 1}},
		Permits: []Permit{{ID: 2, Resident: "r", From: 1, To: 2, Seq: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"seq":1,"full":false,"zones":[{"id":1,"level":"sealed","buildings":["k"],"from":5,"seq":1}],` +
		`"permits":[{"id":2,"rid":"r","from":1,"to":2,"seq":1}]}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
}
