package pass

import (
	"crypto/ed25519"
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

func testKey(t testing.TB) (ed25519.PrivateKey, Keys) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return priv, func(kid string) ed25519.PublicKey {
		if kid == "k1" {
			return pub
		}
		return nil
	}
}

var now = time.Date(2022, 11, 20, 9, 0, 0, 0, time.UTC)

func claims() Claims {
	return Claims{PID: "p1", Kind: Person, Name: "张*", ID4: "123X", Ent: "914302001838260003",
		Areas: []string{"430211"}, NBF: now.Add(-time.Hour).Unix(), EXP: now.Add(48 * time.Hour).Unix()}
}

func TestVerify(t *testing.T) {
	priv, keys := testKey(t)
	tok, err := Sign(priv, "k1", claims())
	if err != nil {
		t.Fatal(err)
	}
	if _, r := Verify(tok, keys, now); r != OK {
		t.Fatalf("valid token: %s", r)
	}
	flip := []byte(tok)
	i := strings.LastIndexByte(tok, '.') + 5
	if flip[i] == 'A' {
		flip[i] = 'B'
	} else {
		flip[i] = 'A'
	}
	if _, r := Verify(string(flip), keys, now); r != BadSignature {
		t.Errorf("flipped signature: %s", r)
	}
	other, _ := Sign(priv, "k9", claims())
	if _, r := Verify(other, keys, now); r != UnknownKey {
		t.Errorf("unknown kid: %s", r)
	}
	if _, r := Verify(tok, keys, now.Add(-2*time.Hour)); r != NotYetValid {
		t.Errorf("early: %s", r)
	}
	if _, r := Verify(tok, keys, now.Add(48*time.Hour)); r != Expired {
		t.Errorf("late: %s", r)
	}
	parts := strings.Split(tok, ".")
	enc := base64.RawURLEncoding.EncodeToString
	for name, bad := range map[string]string{
		"alg none":   enc([]byte(`{"alg":"none","kid":"k1","typ":"tongxin-pass"}`)) + "." + parts[1] + ".",
		"HS256":      enc([]byte(`{"alg":"HS256","kid":"k1","typ":"tongxin-pass"}`)) + "." + parts[1] + "." + parts[2],
		"10 KB":      strings.Repeat("a", 10<<10),
		"binary":     "\x00\xff\xfe.\x01.\x02",
		"two parts":  parts[0] + "." + parts[1],
		"extra keys": enc([]byte(`{"alg":"EdDSA","kid":"k1","typ":"tongxin-pass","x":1}`)) + "." + parts[1] + "." + parts[2],
		"empty":      "",
	} {
		if _, r := Verify(bad, keys, now); r != Malformed {
			t.Errorf("%s: %s, want malformed", name, r)
		}
	}
}

func TestAllowedAt(t *testing.T) {
	c := claims()
	if r := c.AllowedAt("/430200/430211/430211001/", "cp1"); r != OK {
		t.Errorf("inside: %s", r)
	}
	if r := c.AllowedAt("/430200/430203/", "cp1"); r != AreaNotAllowed {
		t.Errorf("outside: %s", r)
	}
	c.CPs = []string{"cp2"}
	if r := c.AllowedAt("/430200/430211/", "cp1"); r != CheckpointNotAllowed {
		t.Errorf("other checkpoint: %s", r)
	}
}

// FuzzParse: no input makes Parse or Verify panic, and whatever Verify
// accepts was signed by the key.
func FuzzParse(f *testing.F) {
	priv, keys := testKey(f)
	tok, _ := Sign(priv, "k1", claims())
	for _, s := range []string{tok, "", "a.b.c", "..", strings.Repeat(".", 100), tok + "x", "eyJ.eyJ.AA"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, r := Verify(s, keys, now)
		if r == OK && (c == nil || c.PID == "") {
			t.Fatalf("accepted %q without claims", s)
		}
	})
}
