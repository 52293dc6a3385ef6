package passtoken

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"strings"
)

// Short pass numbers (通行证号). A token is some 400 characters: a
// checkpoint officer without a camera cannot type it. Each pass gets a
// number of NumberLen digits when it is issued, printed on its card, that
// the scan page sends to the server instead of the token (online only:
// the number is a key into the server's passes, not a signed document).
//
// Nine random digits (the first never 0, so that no spreadsheet or
// keyboard drops it) and a check digit by Damm's algorithm, which catches
// every single wrong digit and every swap of two neighbours. Numbers are
// unique (a unique index; issue draws again on a collision).

// NumberLen is the length of a pass number.
const NumberLen = 10

// damm is the quasigroup of Damm's algorithm (order 10, weakly totally
// anti-symmetric).
var damm = [10][10]byte{
	{0, 3, 1, 7, 5, 9, 8, 6, 4, 2},
	{7, 0, 9, 2, 1, 5, 4, 8, 6, 3},
	{4, 2, 0, 6, 8, 7, 1, 3, 5, 9},
	{1, 7, 5, 0, 9, 8, 3, 4, 2, 6},
	{6, 1, 2, 3, 0, 4, 5, 9, 7, 8},
	{3, 6, 7, 4, 2, 0, 9, 5, 8, 1},
	{5, 8, 6, 9, 7, 2, 0, 1, 3, 4},
	{8, 9, 4, 5, 3, 6, 2, 0, 1, 7},
	{9, 4, 3, 8, 6, 1, 7, 2, 0, 5},
	{2, 5, 8, 1, 4, 3, 6, 7, 9, 0},
}

// dammDigit is the check digit of a string of ASCII digits: appended, it
// makes the interim digit of the whole 0.
func dammDigit(digits string) byte {
	var interim byte
	for i := 0; i < len(digits); i++ {
		interim = damm[interim][digits[i]-'0']
	}
	return '0' + interim
}

// NewNumber draws a pass number.
func NewNumber() string {
	n, err := rand.Int(rand.Reader, big.NewInt(900_000_000))
	if err != nil {
		panic(fmt.Sprintf("pass: random: %v", err)) // crypto/rand does not fail on supported platforms
	}
	body := fmt.Sprintf("%09d", n.Int64()+100_000_000)
	return body + string(dammDigit(body))
}

// NumberProblem reads a number as a person typed it — spaces, hyphens,
// full-width digits — and answers its canonical form, or a message in
// Chinese saying what is wrong with it.
func NumberProblem(typed string) (string, string) {
	var b strings.Builder
	for _, r := range strings.TrimSpace(typed) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r >= '０' && r <= '９':
			b.WriteRune('0' + (r - '０'))
		case r == ' ' || r == '-' || r == '　' || r == '－' || r == '\t':
		default:
			return "", fmt.Sprintf("通行证号只含数字，共 %d 位", NumberLen)
		}
	}
	n := b.String()
	if len(n) != NumberLen {
		return "", fmt.Sprintf("通行证号应为 %d 位数字，输入了 %d 位", NumberLen, len(n))
	}
	if dammDigit(n) != '0' {
		return "", "通行证号校验位不符，请逐位核对卡片上的号码"
	}
	return n, ""
}

// FormatNumber writes a number as the card prints it: 3-3-4, as Chinese
// phone numbers are read aloud ("183 204 9675"). Anything else is
// returned as it is.
func FormatNumber(n string) string {
	if len(n) != NumberLen {
		return n
	}
	return n[:3] + " " + n[3:6] + " " + n[6:]
}
