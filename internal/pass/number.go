package pass

import (
	"context"
	"fmt"
	"strings"

	"tongxin/internal/db"
	"tongxin/internal/errs"
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
		var args db.Args
		marks := make([]string, len(draw))
		for i, num := range draw {
			marks[i] = args.Add(num)
		}
		rows, err := tx.QueryContext(ctx, `SELECT number FROM passes WHERE number IN (`+strings.Join(marks, ", ")+`)`, args.List...)
		if err != nil {
			return nil, fmt.Errorf("pass: numbers: %w", err)
		}
		taken := map[string]bool{}
		for rows.Next() {
			var num string
			if err := rows.Scan(&num); err != nil {
				rows.Close()
				return nil, err
			}
			taken[num] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
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

// TokenByNumber is the token of the pass numbered number (canonical, as
// NumberProblem answers it), for a scan by number: errs.NotFound when no
// pass has it. Whoever asks may scan; what the scan shows comes from the
// token, verified as any other.
func (s *Service) TokenByNumber(ctx context.Context, number string) (string, error) {
	var token string
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT token FROM passes WHERE number = $1`, number).Scan(&token)
	})
	if noRows(err) {
		return "", errs.E(errs.NotFound, "pass_number_not_found", "没有通行证号为 "+passtoken.FormatNumber(number)+" 的通行证，请核对卡片")
	}
	if err != nil {
		return "", errs.Wrap("pass.TokenByNumber", err)
	}
	return token, nil
}
