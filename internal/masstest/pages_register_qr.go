package masstest

import (
	"fmt"
	"html/template"
	"strings"

	qr "github.com/piglig/go-qr"
)

// qrQuiet is the light margin around a printed symbol, in modules.
const qrQuiet = 4

// qrSVG draws a resident code as an inline SVG: one path of the dark
// modules, merged into horizontal runs, in a viewBox of modules so that
// the card sizes it. Error correction level M (15 %) suits a printed
// card on a door. The SVG holds numbers only: safe to inline.
func qrSVG(token string) (template.HTML, error) {
	code, err := qr.EncodeText(token, qr.Medium)
	if err != nil {
		return "", fmt.Errorf("masstest: qr: %w", err)
	}
	size := code.Size()
	side := size + 2*qrQuiet
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" shape-rendering="crispEdges" role="img" aria-label="QR">`,
		side, side)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, side, side)
	for y := range size {
		for x := 0; x < size; {
			if !code.Module(x, y) {
				x++
				continue
			}
			start := x
			for x < size && code.Module(x, y) {
				x++
			}
			fmt.Fprintf(&b, "M%d %dh%dv1h%dz", start+qrQuiet, y+qrQuiet, x-start, start-x)
		}
	}
	b.WriteString(`"/></svg>`)
	return template.HTML(b.String()), nil // #nosec: numbers only
}
