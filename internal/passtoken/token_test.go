package passtoken

import (
	"crypto/ed25519"
	"encoding/base64"
	"slices"
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

// Each segment of a token is read as canonical base64url without padding:
// a last character whose unused bits are set, padding, line breaks or the
// standard alphabet decode to the same bytes under a lenient decoder, but
// every pass has exactly one token string (verification caches by the
// token's SHA-256), so all of them are malformed.
func TestParseCanonicalBase64(t *testing.T) {
	priv, keys := testKey(t)
	tok, err := Sign(priv, "k1", claims())
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok, ".")
	// sibling flips the unused low bits of a segment's last character: the
	// same bytes to base64.RawURLEncoding, another string.
	sibling := func(seg string) string {
		const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
		v := strings.IndexByte(alphabet, seg[len(seg)-1])
		var loose int
		switch len(seg) % 4 {
		case 2:
			loose = 15 // 4 bits unused
		case 3:
			loose = 3 // 2 bits unused
		default:
			t.Fatalf("segment %q has no unused bits", seg)
		}
		return seg[:len(seg)-1] + string(alphabet[v&^loose|(v&loose^1)])
	}
	for i, seg := range parts {
		if len(seg)%4 == 0 {
			continue
		}
		alt := sibling(seg)
		a, err1 := base64.RawURLEncoding.DecodeString(seg)
		b, err2 := base64.RawURLEncoding.DecodeString(alt)
		if err1 != nil || err2 != nil || string(a) != string(b) {
			t.Fatalf("segment %d: %q and %q are not the same bytes to a lenient decoder", i, seg, alt)
		}
		changed := append([]string(nil), parts...)
		changed[i] = alt
		if _, r := Verify(strings.Join(changed, "."), keys, now); r != Malformed {
			t.Errorf("segment %d with loose trailing bits: %s, want malformed", i, r)
		}
	}
	for name, bad := range map[string]string{
		"padded signature": tok + "==",
		"padded header":    parts[0] + "=." + parts[1] + "." + parts[2],
		"line break":       parts[0] + "." + parts[1][:8] + "\r\n" + parts[1][8:] + "." + parts[2],
		"standard +/":      strings.NewReplacer("-", "+", "_", "/").Replace(tok),
	} {
		if bad == tok {
			continue
		}
		if _, r := Verify(bad, keys, now); r != Malformed {
			t.Errorf("%s: %s, want malformed", name, r)
		}
	}
	if _, r := Verify(tok, keys, now); r != OK {
		t.Fatalf("the canonical token: %s", r)
	}
}

// Areas are whole codes: a pass for 430203 is valid under 430203, not
// under 4302031 (a code it is a prefix of), nor is a pass for 4302031
// valid under 430203; a claim with a slash never names a subtree.
func TestAllowedAtWholeCodes(t *testing.T) {
	for _, tc := range []struct {
		z    string
		path string
		want Reason
	}{
		{"430203", "/430200/430203/", OK},
		{"430203", "/430200/430203/430203001/", OK},
		{"430203", "/430200/4302031/", AreaNotAllowed},
		{"4302031", "/430200/430203/", AreaNotAllowed},
		{"43020", "/430200/430203/", AreaNotAllowed},
		{"30203", "/430200/430203/", AreaNotAllowed},
		{"430200/430203", "/430200/430203/430203001/", AreaNotAllowed},
		{"/430203", "/430200/430203/", AreaNotAllowed},
		{"430203/", "/430200/430203/", AreaNotAllowed},
		{"430203", "430203", AreaNotAllowed},
		{"", "/430200/", AreaNotAllowed},
	} {
		c := claims()
		c.Areas = []string{tc.z}
		if r := c.AllowedAt(tc.path, "cp1"); r != tc.want {
			t.Errorf("z %q at %q: %s, want %s", tc.z, tc.path, r, tc.want)
		}
	}
}

// inPath finds a code only as a whole segment between two slashes of an
// area path: the interior pieces of splitting the path at "/".
func TestInPathSegments(t *testing.T) {
	bySplit := func(path, code string) bool {
		if code == "" || strings.Contains(code, "/") {
			return false
		}
		segs := strings.Split(path, "/")
		return len(segs) >= 3 && slices.Contains(segs[1:len(segs)-1], code)
	}
	paths := []string{"", "/", "//", "/430000/", "/430000/430200/430203/", "430000/430200/", "/430000/430200",
		"/430000//430203/", "/4302031/", "x/430203/y", "/430203/430203/"}
	codes := []string{"", "430000", "430200", "430203", "4302", "4302031", "430200/430203", "x", "y", "/"}
	for _, p := range paths {
		for _, c := range codes {
			if got, want := inPath(p, c), bySplit(p, c); got != want {
				t.Errorf("inPath(%q, %q) = %v, want %v", p, c, got, want)
			}
		}
	}
	if !inPath("/430000/430200/430203/", "430200") || inPath("/430000/4302031/", "430203") {
		t.Error("a whole code in the middle of a path, or a prefix of one")
	}
}
