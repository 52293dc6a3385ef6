package app_test

import (
	"strings"
	"testing"
)

// The account commands of issue 10: the password policy, role removal,
// token expiry and a password change revoking tokens.
func TestAccountCommands(t *testing.T) {
	in, _ := setup(t, "sqlite")
	out, err := cli(t, in, "woaini1314520\n", "user", "add", "--username", "liwei", "--display-name", "李伟",
		"--role", "community_worker", "--scope", "430203001001", "--password-stdin")
	if err == nil || !strings.Contains(err.Error(), "常见") {
		t.Fatalf("a common password was accepted: %v %s", err, out)
	}
	mustCLI(t, in, "Community-Pass-22\n", "user", "add", "--username", "liwei", "--display-name", "李伟",
		"--role", "community_worker", "--scope", "430203001001", "--password-stdin")
	mustCLI(t, in, "", "user", "add", "--username", "liwei", "--add-role", "--role", "volunteer", "--scope", "430203001001")

	// role-remove, with the username as a flag or first.
	if _, err := cli(t, in, "", "user", "role-remove", "liwei", "--role", "volunteer", "--scope", "430203001"); err == nil ||
		!strings.Contains(err.Error(), "没有角色") {
		t.Fatalf("removing a role not held: %v", err)
	}
	out = mustCLI(t, in, "", "user", "role-remove", "liwei", "--role", "volunteer", "--scope", "430203001001")
	if strings.Contains(out, "volunteer") || !strings.Contains(out, "community_worker@430203001001") {
		t.Fatalf("after role-remove: %s", out)
	}
	if _, err := cli(t, in, "", "user", "role-remove", "--username", "liwei", "--role", "community_worker", "--scope", "430203001001"); err == nil ||
		!strings.Contains(err.Error(), "最后一个角色") {
		t.Fatalf("removing the last role: %v", err)
	}

	// token create --expires: days or a date, at most a year.
	for _, bad := range []string{"0d", "400d", "next-week", "2099-01-01"} {
		if _, err := cli(t, in, "", "token", "create", "--username", "liwei", "--expires", bad); err == nil {
			t.Errorf("--expires %s accepted", bad)
		}
	}
	tok := strings.TrimSpace(mustCLI(t, in, "", "token", "create", "--username", "liwei", "--name", "短期", "--expires", "30d"))
	if !strings.HasPrefix(tok, "txt_") {
		t.Fatalf("token create printed %q", tok)
	}
	out = mustCLI(t, in, "", "token", "list", "--username", "liwei")
	if !strings.Contains(out, "到期") || !strings.Contains(out, "短期") || !strings.Contains(out, "有效") {
		t.Fatalf("token list: %s", out)
	}

	// passwd: the policy applies, and the user's tokens are revoked.
	if _, err := cli(t, in, "liwei-password\n", "user", "passwd", "--username", "liwei", "--password-stdin"); err == nil {
		t.Fatal("a password containing the username was accepted")
	}
	out = mustCLI(t, in, "Another-Strong-22\n", "user", "passwd", "--username", "liwei", "--password-stdin")
	if !strings.Contains(out, "API 令牌已吊销") {
		t.Fatalf("passwd: %s", out)
	}
	if out := mustCLI(t, in, "", "token", "list", "--username", "liwei"); !strings.Contains(out, "已吊销") || strings.Contains(out, "有效") {
		t.Fatalf("token list after passwd: %s", out)
	}
}
