package auth

import (
	"os/exec"
	"strings"
	"testing"
)

const owaspPrefix = "$argon2id$v=19$m=19456,t=2,p=1$"

// Real binaries hash at the OWASP cost (19 MiB, 2 passes, 1 lane) and
// check unknown users against a dummy of that cost; test binaries hash
// cheaply, and both kinds of hash verify.
func TestHashCost(t *testing.T) {
	if got := hashCost(false); got != (hashParams{memory: 19456, time: 2, threads: 1}) {
		t.Fatalf("real binaries hash at %+v, want the OWASP parameters", got)
	}
	if hashing != cheap || hashCost(true) != cheap {
		t.Fatalf("this test binary hashes at %+v, want the cheap cost %+v", hashing, cheap)
	}
	real, err := hashAt(hashCost(false), "正确的马电池钉")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(real, owaspPrefix) {
		t.Fatalf("hash %q does not use the OWASP argon2id parameters", real)
	}
	quick, err := HashPassword("正确的马电池钉")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(quick, "$argon2id$v=19$m=8,t=1,p=1$") {
		t.Fatalf("test binary's hash %q does not carry the cheap parameters", quick)
	}
	for _, h := range []string{real, quick} {
		if !CheckPassword(h, "正确的马电池钉") || CheckPassword(h, "正确的马电池") {
			t.Errorf("hash %q does not verify its password alone", h)
		}
	}
	const owaspDummy = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0nQ9yT1e1hTQm3x1R5d7bq0h3jzK9xk2x0tYc7mQ2aE"
	if got := dummyOf(hashCost(false)); got != owaspDummy {
		t.Errorf("real binaries' dummy hash = %q, want %q", got, owaspDummy)
	}
	if !strings.HasPrefix(dummyHash, "$argon2id$v=19$m=8,t=1,p=1$") {
		t.Errorf("the dummy hash %q does not have the cost of this binary's hashes", dummyHash)
	}
}

// A real binary, built without the testing harness, hashes at the OWASP
// cost: the cheap cost never leaves test binaries.
func TestRealBinariesHashAtOWASPCost(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	out, err := exec.Command(goTool, "run", "./testdata/realcost").Output()
	if err != nil {
		t.Fatalf("go run ./testdata/realcost: %v", err)
	}
	lines := strings.Fields(string(out))
	if len(lines) != 2 || !strings.HasPrefix(lines[0], owaspPrefix) || lines[1] != "true" {
		t.Fatalf("a real binary hashed %q, want a verifying hash starting %q", out, owaspPrefix)
	}
}
