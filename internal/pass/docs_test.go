package pass

import (
	"crypto/ed25519"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"tongxin/internal/passtoken"
)

// The worked example of docs/passes.md is a real token of a real key:
// it verifies, its kid is the key's, and its claims are as written.
func TestDocsExample(t *testing.T) {
	doc, err := os.ReadFile("../../docs/passes.md")
	if err != nil {
		t.Fatal(err)
	}
	var jwks, token string
	for _, line := range strings.Split(string(doc), "\n") {
		switch {
		case strings.HasPrefix(line, `{"keys":[{"kty":"OKP"`) && jwks == "":
			jwks = line
		case strings.HasPrefix(line, "eyJ") && token == "":
			token = line
		}
	}
	var set JWKSet
	if err := json.Unmarshal([]byte(jwks), &set); err != nil || len(set.Keys) != 1 {
		t.Fatalf("JWK Set %q: %v", jwks, err)
	}
	x, err := b64.DecodeString(set.Keys[0].X)
	if err != nil || len(x) != ed25519.PublicKeySize {
		t.Fatalf("x: %v", err)
	}
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = byte(i * 7)
	}
	if pub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey); !pub.Equal(ed25519.PublicKey(x)) || KidOf(pub) != set.Keys[0].Kid {
		t.Fatal("the example key is not the one the page describes")
	}
	keys := func(kid string) ed25519.PublicKey {
		if kid == set.Keys[0].Kid {
			return x
		}
		return nil
	}
	c, r := passtoken.Verify(token, keys, time.Unix(1669000000, 0))
	if r != passtoken.OK || c.PID != "h3kq7mz2c9xwt4ab" || c.Name != "李*国" || c.EXP != 1671465600 {
		t.Fatalf("example: %v %+v", r, c)
	}
	if _, r := passtoken.Verify(token, keys, time.Unix(1671465600, 0)); r != passtoken.Expired {
		t.Fatalf("example at exp: %v", r)
	}
}
