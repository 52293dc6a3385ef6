package checkpoint

import (
	"encoding/base64"
	"fmt"
	"testing"

	"tongxin/internal/passtoken"
)

// A token's type is read from its header, the same when the header is
// remembered and when it is not (past headerTypesMax headers).
func TestTokenTypeRemembered(t *testing.T) {
	head := func(json string) string { return base64.RawURLEncoding.EncodeToString([]byte(json)) }
	cases := map[string]string{
		head(`{"alg":"EdDSA","kid":"k1","typ":"`+passtoken.ResidentType+`"}`) + ".e30.sig": passtoken.ResidentType,
		head(`{"alg":"EdDSA","kid":"k1","typ":"tongxin-pass"}`) + ".e30.sig":               "tongxin-pass",
		head(`{"alg":"EdDSA"}`) + ".e30.sig":                                               "",
		"not a token":                                                                      "",
		"@@@.e30.sig":                                                                      "",
		head(`{"typ":`) + ".e30.sig":                                                       "",
	}
	for range 2 {
		for tok, want := range cases {
			if got := tokenType(tok); got != want {
				t.Fatalf("tokenType(%q) = %q, want %q", tok, got, want)
			}
		}
	}
	for i := range headerTypesMax + 10 {
		tok := head(fmt.Sprintf(`{"kid":"k%d","typ":"t%d"}`, i, i)) + ".e30.sig"
		for range 2 {
			if got := tokenType(tok); got != fmt.Sprintf("t%d", i) {
				t.Fatalf("header %d: %q", i, got)
			}
		}
	}
	if n := len(headerTypes.m); n > headerTypesMax {
		t.Fatalf("%d headers remembered, at most %d", n, headerTypesMax)
	}
}
