package pass

import (
	"strings"
	"testing"
)

// A long enterprise name is cut in the token (the QR code stays small);
// short ones are whole.
func TestTokenEntName(t *testing.T) {
	if s := tokenEntName(" 株洲千金药业股份有限公司 "); s != "株洲千金药业股份有限公司" {
		t.Errorf("short name: %q", s)
	}
	long := strings.Repeat("长", 40)
	if s := tokenEntName(long); len([]rune(s)) != maxTokenEntName || !strings.HasSuffix(s, "…") {
		t.Errorf("long name: %q", s)
	}
}
