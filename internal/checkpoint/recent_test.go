package checkpoint

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/passtoken"
	"tongxin/internal/resumption"
)

// The recent answers: a client id is answered again from either
// generation and forgotten after two; the same client id at another
// checkpoint is another scan.
func TestRecentScansRemembersTwoGenerations(t *testing.T) {
	var r recentScans
	scan := func(cp int64, id string) *Scan {
		return &Scan{CheckpointID: cp, ClientID: id, Verdict: Allow, Reason: passtoken.OK, ScannedAt: testBase, ReceivedAt: testBase}
	}
	first := scanKey{2, "first-scan-0001"}
	if got := r.get(first); got != nil {
		t.Fatalf("nothing put yet: %+v", got)
	}
	r.put(first, scan(2, first.clientID))
	if got := r.get(first); got == nil || got.ClientID != first.clientID || got.CheckpointID != 2 {
		t.Fatalf("just put: %+v", got)
	}
	if got := r.get(scanKey{3, first.clientID}); got != nil {
		t.Fatalf("the same client id at another checkpoint answered %+v", got)
	}
	for i := range recentMax {
		k := scanKey{2, fmt.Sprintf("fill-%08d", i)}
		r.put(k, scan(2, k.clientID))
	}
	if got := r.get(first); got == nil || got.ClientID != first.clientID {
		t.Fatalf("one generation later: %+v", got)
	}
	for i := range recentMax {
		k := scanKey{2, fmt.Sprintf("more-%08d", i)}
		r.put(k, scan(2, k.clientID))
	}
	if got := r.get(first); got != nil {
		t.Fatalf("two generations later still answered: %+v", got)
	}
	if got := r.get(scanKey{2, "more-00000007"}); got == nil || got.ClientID != "more-00000007" {
		t.Fatalf("a recent one: %+v", got)
	}
	// An answer longer than a chunk's room moves its chunk: what was in
	// it is still found, and the long one too, whole.
	var fresh recentScans
	for i := range 100 {
		k := scanKey{2, fmt.Sprintf("small-%08d", i)}
		fresh.put(k, scan(2, k.clientID))
	}
	big := scan(2, "big-answer-01")
	big.Officer = strings.Repeat("王", recentChunk/2)
	k := scanKey{2, big.ClientID}
	b := fresh.put(k, big)
	if got := fresh.get(k); got == nil || got.Officer != big.Officer || string(b) != string(big.AppendJSON(nil)) {
		t.Fatal("a long answer was not kept whole")
	}
	if len(fresh.cur.chunks) != 1 {
		t.Fatalf("%d chunks: the long answer did not move the first", len(fresh.cur.chunks))
	}
	for _, id := range []string{"small-00000000", "small-00000099"} {
		if got := fresh.get(scanKey{2, id}); got == nil || got.ClientID != id {
			t.Fatalf("%s after a long answer: %+v", id, got)
		}
	}
}

func TestClientIDProblem(t *testing.T) {
	for id, ok := range map[string]bool{
		"3f6c2d1e-aaaa-4bbb-8ccc-000000000001": true,
		"abcdEFGH":                             true,
		"a_b-c_d-":                             true,
		strings.Repeat("z", 64):                true,
		"abcdEFG":                              false,
		strings.Repeat("z", 65):                false,
		"abcd.efgh":                            false,
		"abcd efgh":                            false,
		"扫码记录编号一二三":                            false,
		"":                                     false,
		"abcdefg\n":                            false,
	} {
		if got := clientIDProblem(id) == ""; got != ok {
			t.Errorf("clientIDProblem(%q) fine %v, want %v", id, got, ok)
		}
	}
}

// What a scan keeps of a pass is made once per token and shared by the
// scans of the next passInfoTTL; later it is made again, so that a
// renamed enterprise is named anew (once the registry's name, kept for
// entNameTTL, is read again). A token that did not verify keeps nothing.
func TestPassInfoOncePerToken(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		bridge := f.checkpoint("株洲大桥", Bridge, "430211001")
		officer := f.user("kakou", auth.CheckpointOfficer, "checkpoint:"+ref(bridge))
		tok := f.ver.sign(t, claims("P2"), "")
		n := 0
		scan := func() *Scan {
			t.Helper()
			n++
			sc, err := f.svc.Scan(f.Ctx, officer, ref(bridge), ScanInput{Token: tok, ClientID: fmt.Sprintf("info-once-%03d", n)})
			if err != nil || sc.Pass == nil {
				t.Fatalf("scan %d: %+v %v", n, sc, err)
			}
			return sc
		}
		first := scan()
		if again := scan(); again.Pass != first.Pass {
			t.Fatal("the second scan of a token within a minute made its pass info again")
		}
		if _, _, err := f.res.Save(f.Ctx, f.Sys, resumption.EnterpriseInput{Key: qianjin, Kind: resumption.KindEnterprise,
			Name: "株洲千金药业（更名）", AreaCode: "430211001", Categories: []string{"规上工业"}, Employees: 2100}); err != nil {
			t.Fatalf("rename: %v", err)
		}
		f.Clock.Advance(passInfoTTL)
		later := scan()
		if later.Pass == first.Pass || string(later.Pass.AppendJSON(nil)) != string(first.Pass.AppendJSON(nil)) || later.Pass.EntName != "株洲千金药业股份有限公司" {
			t.Fatalf("after %v: %+v (first %+v)", passInfoTTL, later.Pass, first.Pass)
		}
		f.Clock.Advance(entNameTTL)
		if renamed := scan(); renamed.Pass.EntName != "株洲千金药业（更名）" {
			t.Fatalf("after %v the enterprise is still named %q", entNameTTL, renamed.Pass.EntName)
		}
		if got := f.svc.passInfoOf(f.Ctx, tok, &passtoken.Claims{PID: "P2"}, passtoken.BadSignature); got != nil {
			t.Fatalf("a token that did not verify: %+v", got)
		}
	})
}

// BenchmarkRecentScansNew is the lookup of a client id not answered
// before, as nearly every scan's is, with both generations full.
func BenchmarkRecentScansNew(b *testing.B) {
	var r recentScans
	for i := range 2 * recentMax {
		k := scanKey{2, fmt.Sprintf("load-run-%012d", i)}
		r.put(k, &Scan{CheckpointID: 2, ClientID: k.clientID, Verdict: Allow, Reason: passtoken.OK, ScannedAt: testBase, ReceivedAt: testBase})
	}
	keys := make([]scanKey, 1<<16)
	for i := range keys {
		keys[i] = scanKey{2, fmt.Sprintf("load-new-%012d", i)}
	}
	i := 0
	for b.Loop() {
		if r.get(keys[i%len(keys)]) != nil {
			b.Fatal("a new client id answered")
		}
		i++
	}
}

// BenchmarkRecentScansPut is remembering a new answer, generations
// turning over as they fill.
func BenchmarkRecentScansPut(b *testing.B) {
	var r recentScans
	keys := make([]scanKey, 1<<17)
	for i := range keys {
		keys[i] = scanKey{2, fmt.Sprintf("load-put-%012d", i)}
	}
	s := &Scan{CheckpointID: 2, Verdict: Allow, Reason: passtoken.OK, ScannedAt: testBase, ReceivedAt: testBase}
	i := 0
	for b.Loop() {
		k := keys[i%len(keys)]
		s.ClientID = k.clientID
		r.put(k, s)
		i++
	}
}

// The ids the server makes for scans sent without one follow each other
// in time, as the scan page's do, and are all different.
func TestNewClientIDInTimeOrder(t *testing.T) {
	seen := map[string]bool{}
	prev := ""
	for i := range 1000 {
		id := newClientID(testBase.Add(time.Duration(i/10) * time.Millisecond))
		if clientIDProblem(id) != "" || seen[id] {
			t.Fatalf("id %d: %q (%s, seen %v)", i, id, clientIDProblem(id), seen[id])
		}
		if i%10 == 0 && id <= prev {
			t.Fatalf("id %d: %q made a millisecond later sorts before %q", i, id, prev)
		}
		seen[id], prev = true, id
	}
}
