package pass

import (
	"bytes"
	"crypto/ed25519"
	"encoding/xml"
	"image/png"
	"strings"
	"testing"

	"tongxin/internal/passtoken"

	qr "github.com/piglig/go-qr"
)

// The QR codes carry the token: the PNG decodes back to it, the SVG is one
// path on a white square, sized in modules.
func TestQR(t *testing.T) {
	_, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := passtoken.Sign(priv, "CYDt8KYRmNwn", passtoken.Claims{PID: "p1", Kind: passtoken.Person, Name: "张*", ID4: "123X",
		Ent: "914302001838260003", Areas: []string{"430211"}, NBF: 1668906000, EXP: 1669078800})
	if err != nil {
		t.Fatal(err)
	}
	for _, scale := range []int{2, 8} {
		b, err := QRPNG(tok, scale)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if got, err := qr.Decode(img); err != nil || got != tok {
			t.Fatalf("scale %d: decoded %q, %v", scale, got, err)
		}
		if w := img.Bounds().Dx(); w%scale != 0 || w/scale < 21+8 {
			t.Fatalf("scale %d: width %d", scale, w)
		}
	}
	svg, err := QRSVG(tok)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		ViewBox string `xml:"viewBox,attr"`
		Path    []struct {
			D string `xml:"d,attr"`
		} `xml:"path"`
	}
	if err := xml.Unmarshal(svg, &doc); err != nil || len(doc.Path) != 1 || !strings.HasPrefix(doc.ViewBox, "0 0 ") {
		t.Fatalf("svg: %v %+v", err, doc)
	}
	if strings.ContainsAny(doc.Path[0].D, "<>\"&") {
		t.Fatal("path data is not plain")
	}
	if _, err := QRSVG(strings.Repeat("x", 4000)); err == nil {
		t.Fatal("a text too long for a QR code was encoded")
	}
}
