package checkpoint

import (
	"fmt"
	"strings"
	"testing"

	"tongxin/internal/passtoken"
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
