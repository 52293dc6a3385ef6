package pass

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"strings"

	qr "github.com/piglig/go-qr"
)

// QR codes of pass tokens. github.com/piglig/go-qr (a port of Nayuki's
// generator) computes the module matrix; the SVG and PNG are drawn here,
// small and deterministic: one SVG path, a two-colour PNG.

// qrBorder is the quiet zone around the symbol, in modules (ISO/IEC 18004
// asks for 4).
const qrBorder = 4

// qrMatrix encodes text in byte mode at error correction level M (15 %),
// enough for a printed card a phone camera reads.
func qrMatrix(text string) (*qr.QrCode, error) {
	q, err := qr.EncodeText(text, qr.Medium)
	if err != nil {
		return nil, fmt.Errorf("pass: qr: %w", err)
	}
	return q, nil
}

// QRSVG draws the QR code of text as an SVG document whose viewBox is in
// modules, so it scales to any size without blur.
func QRSVG(text string) ([]byte, error) {
	q, err := qrMatrix(text)
	if err != nil {
		return nil, err
	}
	n := q.Size() + 2*qrBorder
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" shape-rendering="crispEdges" role="img" aria-label="QR">`, n, n)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, n, n)
	for y := 0; y < q.Size(); y++ {
		for x := 0; x < q.Size(); x++ {
			if !q.Module(x, y) {
				continue
			}
			// Runs of dark modules in a row are one rectangle.
			run := 1
			for x+run < q.Size() && q.Module(x+run, y) {
				run++
			}
			fmt.Fprintf(&b, "M%d %dh%dv1h-%dz", x+qrBorder, y+qrBorder, run, run)
			x += run - 1
		}
	}
	b.WriteString(`"/></svg>`)
	return []byte(b.String()), nil
}

// QRPNG draws the QR code of text as a PNG with scale pixels per module.
func QRPNG(text string, scale int) ([]byte, error) {
	if scale < 1 || scale > 32 {
		scale = 8
	}
	q, err := qrMatrix(text)
	if err != nil {
		return nil, err
	}
	n := (q.Size() + 2*qrBorder) * scale
	img := image.NewPaletted(image.Rect(0, 0, n, n), color.Palette{color.White, color.Black})
	for y := 0; y < q.Size(); y++ {
		for x := 0; x < q.Size(); x++ {
			if !q.Module(x, y) {
				continue
			}
			x0, y0 := (x+qrBorder)*scale, (y+qrBorder)*scale
			for dy := 0; dy < scale; dy++ {
				row := img.Pix[(y0+dy)*img.Stride+x0 : (y0+dy)*img.Stride+x0+scale]
				for i := range row {
					row[i] = 1
				}
			}
		}
	}
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
