package checkpoint

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"tongxin/internal/passtoken"
	"tongxin/internal/zonerule"
)

// gateJSCase is one decision of the table: a snapshot (after merging a
// delta into it), a gate, a resident and a moment.
type gateJSCase struct {
	Base     *zonerule.Snapshot `json:"base"`
	Delta    *zonerule.Snapshot `json:"delta"`
	Gate     gateJS             `json:"gate"`
	Resident residentJS         `json:"resident"`
	At       int64              `json:"at"`
}

type gateJS struct {
	Community string   `json:"community"`
	Buildings []string `json:"buildings"`
}

type residentJS struct {
	ID        string `json:"id"`
	Community string `json:"community"`
	Building  string `json:"building"`
}

// gateJSAnswer is what both sides answer: the reason, the deciding zone
// and permit (0: none), and the merged snapshot's seq.
type gateJSAnswer struct {
	Reason passtoken.Reason `json:"reason"`
	Zone   int64            `json:"zone"`
	Permit int64            `json:"permit"`
	Seq    int64            `json:"seq"`
}

// randomSnapshot makes zones of every level over three communities and
// six buildings, open or ending, and permits of four residents.
func randomSnapshot(rnd *rand.Rand, full bool, ids int) *zonerule.Snapshot {
	s := &zonerule.Snapshot{Full: full, Zones: []zonerule.Zone{}, Permits: []zonerule.Permit{}}
	pick := func(prefix string, n int) []string {
		var out []string
		for i := range n {
			if rnd.IntN(3) == 0 {
				out = append(out, fmt.Sprintf("%s%d", prefix, i))
			}
		}
		return out
	}
	for range rnd.IntN(6) {
		z := zonerule.Zone{ID: int64(1 + rnd.IntN(ids)), Level: []zonerule.Level{zonerule.Sealed, zonerule.Controlled, zonerule.Guarded, "unknown"}[rnd.IntN(4)],
			From: int64(rnd.IntN(100)), Seq: int64(1 + rnd.IntN(20))}
		if rnd.IntN(2) == 0 {
			z.Communities = pick("C", 3)
		} else {
			z.Buildings = pick("b", 6)
		}
		if rnd.IntN(2) == 0 {
			z.To = z.From + int64(1+rnd.IntN(100))
		}
		s.Zones = append(s.Zones, z)
		s.Seq = max(s.Seq, z.Seq)
	}
	for range rnd.IntN(4) {
		from := int64(rnd.IntN(150))
		p := zonerule.Permit{ID: int64(1 + rnd.IntN(ids)), Resident: fmt.Sprintf("r%d", rnd.IntN(4)), From: from,
			To: from + int64(1+rnd.IntN(60)), Seq: int64(1 + rnd.IntN(20))}
		s.Permits = append(s.Permits, p)
		s.Seq = max(s.Seq, p.Seq)
	}
	return s
}

// The scan page's zone-rule.js answers every decision as zonerule does,
// merges included: thousands of random snapshots, gates, residents and
// moments through both (node runs the script; the browser test runs the
// page with it).
func TestZoneRuleJSMatchesGo(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: zone-rule.js is checked by the browser test only")
	}
	rnd := rand.New(rand.NewPCG(15, 19))
	var cases []gateJSCase
	var want []gateJSAnswer
	for range 3000 {
		c := gateJSCase{Base: randomSnapshot(rnd, true, 8), At: int64(rnd.IntN(220))}
		if rnd.IntN(2) == 0 {
			c.Delta = randomSnapshot(rnd, rnd.IntN(6) == 0, 8)
		}
		c.Gate = gateJS{Community: fmt.Sprintf("C%d", rnd.IntN(4)), Buildings: []string{fmt.Sprintf("b%d", rnd.IntN(6)), fmt.Sprintf("b%d", rnd.IntN(6))}}
		c.Resident = residentJS{ID: fmt.Sprintf("r%d", rnd.IntN(5)), Community: fmt.Sprintf("C%d", rnd.IntN(4)), Building: fmt.Sprintf("b%d", rnd.IntN(7))}
		if rnd.IntN(10) == 0 {
			c.Resident.Building = ""
		}
		// Through JSON, as the page receives it.
		b, _ := json.Marshal(c)
		var s gateJSCase
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatal(err)
		}
		if s.Delta != nil {
			s.Base.Merge(s.Delta)
		}
		v := zonerule.NewIndex(s.Base).Decide(zonerule.Gate{Community: c.Gate.Community, Buildings: c.Gate.Buildings},
			zonerule.Resident{ID: c.Resident.ID, Community: c.Resident.Community, Building: c.Resident.Building}, c.At)
		a := gateJSAnswer{Reason: v.Reason, Seq: s.Base.Seq}
		if v.Zone != nil {
			a.Zone = v.Zone.ID
		}
		if v.Permit != nil {
			a.Permit = v.Permit.ID
		}
		cases, want = append(cases, c), append(want, a)
	}
	dir := t.TempDir()
	in, _ := json.Marshal(cases)
	if err := os.WriteFile(filepath.Join(dir, "cases.json"), in, 0o600); err != nil {
		t.Fatal(err)
	}
	script, err := filepath.Abs("../web/static/js/zone-rule.js")
	if err != nil {
		t.Fatal(err)
	}
	runner := `const fs = require("fs");
require(process.argv[1]);
const Z = globalThis.TongxinZone;
const cases = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
process.stdout.write(JSON.stringify(cases.map(c => {
  const snap = c.delta ? Z.merge(c.base, c.delta) : c.base;
  const v = new Z.Index(snap).decide(c.gate, c.resident, c.at);
  return { reason: v.reason, zone: v.zone ? v.zone.id : 0, permit: v.permit ? v.permit.id : 0, seq: snap.seq };
})));`
	out, err := exec.Command(node, "-e", runner, script, filepath.Join(dir, "cases.json")).Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	var got []gateJSAnswer
	if err := json.Unmarshal(out, &got); err != nil || len(got) != len(want) {
		t.Fatalf("node answered %d of %d: %v\n%s", len(got), len(want), err, strings.TrimSpace(string(out[:min(len(out), 500)])))
	}
	seen := map[passtoken.Reason]int{}
	for i := range want {
		seen[want[i].Reason]++
		if got[i] != want[i] {
			b, _ := json.Marshal(cases[i])
			t.Fatalf("case %d: zone-rule.js %+v, zonerule %+v\n%s", i, got[i], want[i], b)
		}
	}
	for _, r := range []passtoken.Reason{passtoken.OK, passtoken.ZoneSealed, passtoken.ZoneControlled} {
		if seen[r] < 50 {
			t.Errorf("the table has %d cases of %s", seen[r], r)
		}
	}
}
