package passtoken

import (
	"strings"
	"testing"
)

// A pass number is ten digits whose last is Damm's check digit: every
// single mistyped digit and every swap of two neighbours is caught before
// the server looks anything up; spaces, hyphens and full-width digits are
// what people type.
func TestNumbers(t *testing.T) {
	seen := map[string]bool{}
	for range 2000 {
		n := NewNumber()
		if len(n) != NumberLen || n[0] == '0' || strings.Trim(n, "0123456789") != "" {
			t.Fatalf("NewNumber() = %q", n)
		}
		seen[n] = true
		if got, msg := NumberProblem(n); got != n || msg != "" {
			t.Fatalf("NumberProblem(%q) = %q, %q", n, got, msg)
		}
		for i := range NumberLen {
			for d := byte('0'); d <= '9'; d++ {
				if d == n[i] {
					continue
				}
				typo := n[:i] + string(d) + n[i+1:]
				if _, msg := NumberProblem(typo); !strings.Contains(msg, "校验位") {
					t.Fatalf("%q mistyped as %q passes (%q)", n, typo, msg)
				}
			}
			if i+1 < NumberLen && n[i] != n[i+1] {
				swap := n[:i] + string(n[i+1]) + string(n[i]) + n[i+2:]
				if _, msg := NumberProblem(swap); msg == "" {
					t.Fatalf("%q with a swap, %q, passes", n, swap)
				}
			}
		}
	}
	if len(seen) < 1990 {
		t.Fatalf("only %d distinct numbers of 2000", len(seen))
	}
	// The textbook example of Damm's algorithm: 572 has check digit 4.
	if c := dammDigit("572"); c != '4' {
		t.Fatalf("check digit of 572 = %c, want 4", c)
	}
	n := NewNumber()
	full := strings.Map(func(r rune) rune { return r - '0' + '０' }, n)
	for _, typed := range []string{FormatNumber(n), " " + n[:3] + "-" + n[3:6] + "-" + n[6:] + " ", full, n[:3] + "　" + n[3:]} {
		if got, msg := NumberProblem(typed); got != n {
			t.Errorf("NumberProblem(%q) = %q, %q; want %q", typed, got, msg, n)
		}
	}
	for typed, want := range map[string]string{
		n[:9]: "应为 10 位", n + "1": "应为 10 位", "": "应为 10 位", n[:5] + "a" + n[6:]: "只含数字",
	} {
		if got, msg := NumberProblem(typed); got != "" || !strings.Contains(msg, want) {
			t.Errorf("NumberProblem(%q) = %q, %q; want a message with %q", typed, got, msg, want)
		}
	}
	if s := FormatNumber("1832049675"); s != "183 204 9675" {
		t.Errorf("FormatNumber = %q", s)
	}
}
