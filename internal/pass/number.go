package pass

import (
	"context"
	"strings"

	"tongxin/internal/db"
	"tongxin/internal/passtoken"
)

// maxTokenEntName bounds the enterprise name carried in a token (runes):
// every character makes the QR code denser; longer names are cut and end
// with "…" (the card and the pass itself keep the whole name).
const maxTokenEntName = 24

// tokenEntName is the enterprise name a token carries.
func tokenEntName(name string) string {
	r := []rune(strings.TrimSpace(name))
	if len(r) <= maxTokenEntName {
		return string(r)
	}
	return string(r[:maxTokenEntName-1]) + "…"
}

// freshNumbers draws n pass numbers that no pass has. Approvals hold the
// issue lock (pass_locks), so no other issue can take a number between
// this check and the insert; the unique index stays the last word.
func freshNumbers(ctx context.Context, tx *db.Tx, n int) ([]string, error) {
	out := make([]string, 0, n)
	seen := map[string]bool{}
	for len(out) < n {
		var draw []string
		for len(draw) < min(n-len(out), holdChunk) {
			if num := passtoken.NewNumber(); !seen[num] {
				seen[num] = true
				draw = append(draw, num)
			}
		}
		taken, err := takenNumbers(ctx, tx, draw)
		if err != nil {
			return nil, err
		}
		for _, num := range draw {
			if !taken[num] {
				out = append(out, num)
			}
		}
	}
	return out, nil
}
