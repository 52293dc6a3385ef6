package app_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The audit chain's key lives in the data directory; `audit anchor` prints
// the head to keep elsewhere and `audit verify --anchor` catches a chain
// cut back behind it, which plain verify cannot; a wrong key is refused by
// name.
func TestAuditKeyAndAnchorCLI(t *testing.T) {
	in, _ := setup(t, "sqlite")
	st, err := os.Stat(filepath.Join(in.data, "audit.key"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("DATA_DIR/audit.key: %v, mode %v; want created with 0600", err, st.Mode())
	}

	anchor := strings.TrimSpace(mustCLI(t, in, "", "audit", "anchor"))
	m := regexp.MustCompile(`^(\d+):[0-9a-f]{64}$`).FindStringSubmatch(anchor)
	if m == nil {
		t.Fatalf("audit anchor printed %q, want SEQ:HASH alone", anchor)
	}
	seq, _ := strconv.Atoi(m[1])
	if seq < 3 {
		t.Fatalf("anchor at row %d: the demo should have written more", seq)
	}
	mustCLI(t, in, "pw-li-long-1\n", "user", "add", "--username", "lisi", "--display-name", "李", "--role", "hq_staff",
		"--scope", "430200", "--password-stdin")
	if out := mustCLI(t, in, "", "audit", "verify", "--anchor", anchor); !strings.Contains(out, "审计链完好") || !strings.Contains(out, "1 个锚点") {
		t.Fatalf("verify --anchor after appending: %s", out)
	}
	if out, err := cli(t, in, "", "audit", "verify", "--anchor", "12"); err == nil || !strings.Contains(out+err.Error(), "SEQ:HASH") {
		t.Fatalf("a malformed anchor: err=%v out=%s", err, out)
	}

	// An intruder cuts the chain back to two rows before the anchor and
	// points the head there: every remaining row still verifies.
	keep := strconv.Itoa(seq - 2)
	execSQL(t, in, `DELETE FROM audit_log WHERE seq > `+keep)
	execSQL(t, in, `UPDATE audit_head SET seq = `+keep+`, hash = (SELECT hash FROM audit_log WHERE seq = `+keep+`) WHERE id = 1`)
	if out := mustCLI(t, in, "", "audit", "verify"); !strings.Contains(out, "审计链完好") {
		t.Fatalf("the cut chain is consistent in itself: %s", out)
	}
	out, err := cli(t, in, "", "audit", "verify", "--anchor", anchor)
	if err == nil || !strings.Contains(out, "审计链校验失败：第 "+m[1]+" 行") {
		t.Fatalf("verify --anchor after cutting the chain: err=%v out=%s", err, out)
	}

	// Another instance's key in this data directory.
	other := newInst(t, "sqlite")
	mustCLI(t, other, "", "user", "list")
	foreign, err := os.ReadFile(filepath.Join(other.data, "audit.key"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(in.data, "audit.key"), foreign, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := cli(t, in, "", "audit", "verify"); err == nil || !strings.Contains(out, "audit.key 不是签名此链的密钥") {
		t.Fatalf("verify with another instance's key: err=%v out=%s", err, out)
	}
	if out, err := cli(t, in, "", "user", "list"); err == nil || !strings.Contains(out+err.Error(), "审计密钥不符") {
		t.Fatalf("an instance with another key must not append to the chain: err=%v out=%s", err, out)
	}
	if err := os.Remove(filepath.Join(in.data, "audit.key")); err != nil {
		t.Fatal(err)
	}
	if out, err := cli(t, in, "", "audit", "verify"); err == nil || !strings.Contains(out+err.Error(), "没有审计密钥") {
		t.Fatalf("verify without the key file: err=%v out=%s", err, out)
	}
	if out, err := cli(t, in, "", "user", "list"); err == nil || !strings.Contains(out+err.Error(), "没有 audit.key") {
		t.Fatalf("an instance without the key of a keyed chain must not make a new one: err=%v out=%s", err, out)
	}
}
