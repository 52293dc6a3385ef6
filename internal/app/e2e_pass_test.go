package app_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tongxin keys list | rotate | revoke KID on the demo city, whose approved
// pass batch made the first key.
func TestPassKeysCommand(t *testing.T) {
	t.Parallel()
	in, _ := setup(t, "sqlite")
	list := mustCLI(t, in, "", "keys", "list")
	lines := strings.Split(strings.TrimSpace(list), "\n")
	if len(lines) != 2 || !strings.Contains(lines[1], "签发中") || !strings.Contains(lines[1], "有") {
		t.Fatalf("keys list:\n%s", list)
	}
	first := strings.Fields(lines[1])[0]
	if st, err := os.Stat(filepath.Join(in.data, "pass-keys", first+".key")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", st, err)
	}
	kid := strings.TrimSpace(mustCLI(t, in, "", "keys", "rotate"))
	if len(kid) != 12 || kid == first {
		t.Fatalf("rotate printed %q", kid)
	}
	list = mustCLI(t, in, "", "keys", "list")
	if !strings.Contains(list, kid) || !strings.Contains(list, "停用（仍公布）") {
		t.Fatalf("after rotate:\n%s", list)
	}
	out := mustCLI(t, in, "", "keys", "revoke", first, "--reason", "测试泄露")
	// The demo's valid passes, all signed by the first key: 6 of 千金药业
	// and the 157 of 中车 and 北汽's approved batches of the last weeks.
	if !strings.Contains(out, "有效通行证 163 张") {
		t.Fatalf("revoke: %s", out)
	}
	if _, err := cli(t, in, "", "keys", "revoke", first); err == nil {
		t.Fatal("revoked twice")
	}
	if list = mustCLI(t, in, "", "keys", "list"); !strings.Contains(list, "已吊销") {
		t.Fatalf("after revoke:\n%s", list)
	}
	for _, args := range [][]string{{"keys"}, {"keys", "revoke"}, {"keys", "fly"}, {"keys", "list", "extra"}} {
		if _, err := cli(t, in, "", args...); err == nil {
			t.Errorf("tongxin %s succeeded", strings.Join(args, " "))
		}
	}
	if out, err := cli(t, in, "", "keys", "rotate", "--help"); err != nil || !strings.Contains(out, "用法") {
		t.Errorf("keys rotate --help: %v %s", err, out)
	}
}
