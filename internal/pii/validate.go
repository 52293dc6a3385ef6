package pii

import (
	"errors"
	"strings"
	"unicode"
)

// ErrInvalid is matched, with errors.Is, by every error the Normalize
// functions return. The errors themselves read as a short Chinese message
// that can be shown to the user as is.
var ErrInvalid = errors.New("invalid personal data")

// invalidError is a validation failure with a user-safe Chinese message.
type invalidError struct{ msg string }

func (e *invalidError) Error() string        { return e.msg }
func (e *invalidError) Is(target error) bool { return target == ErrInvalid }

func invalid(msg string) error { return &invalidError{msg: msg} }

// clean folds full-width ASCII forms (common with Chinese input methods) to
// ASCII, upper-cases ASCII letters and drops white space and any rune for
// which drop reports true.
func clean(s string, drop func(rune) bool) string {
	var sb strings.Builder
	sb.Grow(len(s))
	for _, r := range s {
		if r >= 0xFF01 && r <= 0xFF5E { // full-width ！ … ～
			r -= 0xFEE0
		}
		if r >= 'a' && r <= 'z' {
			r -= 'a' - 'A'
		}
		if unicode.IsSpace(r) || (drop != nil && drop(r)) {
			continue
		}
		sb.WriteRune(r)
	}
	return sb.String()
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// idWeights are the GB 11643 weights 2^(17-i) mod 11 of the first 17 digits.
var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// idCheckChars maps the weighted sum mod 11 to the check character.
const idCheckChars = "10X98765432"

// NormalizeResidentID validates an 18-character resident ID number
// (居民身份证号码, GB 11643) and returns it in canonical form: spaces
// removed, a trailing x upper-cased. It checks the region code's first
// digit, that the birth date is a real calendar date from 1900 on, and the
// ISO 7064 MOD 11-2 check character. The date is not compared with today.
func NormalizeResidentID(s string) (string, error) {
	id := clean(s, nil)
	switch {
	case id == "":
		return "", invalid("请填写身份证号")
	case len(id) != 18:
		return "", invalid("身份证号应为18位")
	case !allDigits(id[:17]):
		return "", invalid("身份证号前17位应为数字")
	case !isDigit(id[17]) && id[17] != 'X':
		return "", invalid("身份证号末位应为数字或X")
	case id[0] == '0':
		return "", invalid("身份证号地区码不正确")
	case !validBirthDate(id[6:14]):
		return "", invalid("身份证号出生日期不正确")
	}
	sum := 0
	for i, w := range idWeights {
		sum += int(id[i]-'0') * w
	}
	if id[17] != idCheckChars[sum%11] {
		return "", invalid("身份证号校验位不正确")
	}
	return id, nil
}

// validBirthDate reports whether the eight digits YYYYMMDD are a calendar
// date with a year of at least 1900.
func validBirthDate(ymd string) bool {
	atoi := func(s string) int {
		n := 0
		for i := 0; i < len(s); i++ {
			n = n*10 + int(s[i]-'0')
		}
		return n
	}
	year, month, day := atoi(ymd[:4]), atoi(ymd[4:6]), atoi(ymd[6:8])
	if year < 1900 || month < 1 || month > 12 || day < 1 {
		return false
	}
	days := [13]int{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[month]
	if month == 2 && year%4 == 0 && (year%100 != 0 || year%400 == 0) {
		days = 29
	}
	return day <= days
}

// NormalizePhone validates a mainland China mobile number and returns its
// 11 digits. Spaces and dashes are removed, and an optional +86, 0086 or
// 86 country prefix is dropped. The number must start with 1 followed by
// a digit from 3 to 9.
func NormalizePhone(s string) (string, error) {
	p := clean(s, func(r rune) bool { return r == '-' })
	if p == "" {
		return "", invalid("请填写手机号")
	}
	for _, prefix := range []string{"+86", "0086", "86"} {
		if rest, ok := strings.CutPrefix(p, prefix); ok && len(rest) == 11 {
			p = rest
			break
		}
	}
	if len(p) != 11 || !allDigits(p) {
		return "", invalid("手机号应为11位数字")
	}
	if p[0] != '1' || p[1] < '3' {
		return "", invalid("手机号号段不正确")
	}
	return p, nil
}

// creditChars is the 31-character alphabet of unified social credit codes
// (GB 32100-2015): digits and capital letters without I, O, Z, S and V. A
// character's value is its position.
const creditChars = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// creditWeights are 3^i mod 31 for the first 17 characters.
var creditWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// NormalizeCreditCode validates an 18-character unified social credit code
// (统一社会信用代码, GB 32100-2015) and returns it upper-cased without
// spaces. It checks the alphabet, that characters 3 to 8 (the
// administrative region code) are digits, and the MOD 31 check character.
func NormalizeCreditCode(s string) (string, error) {
	c := clean(s, nil)
	if c == "" {
		return "", invalid("请填写统一社会信用代码")
	}
	if len(c) != 18 {
		return "", invalid("统一社会信用代码应为18位")
	}
	sum := 0
	for i := 0; i < 18; i++ {
		v := strings.IndexByte(creditChars, c[i])
		if v < 0 {
			return "", invalid("统一社会信用代码含有无效字符")
		}
		if i < 17 {
			sum += v * creditWeights[i]
		}
	}
	if !allDigits(c[2:8]) {
		return "", invalid("统一社会信用代码行政区划码不正确")
	}
	if c[17] != creditChars[(31-sum%31)%31] {
		return "", invalid("统一社会信用代码校验位不正确")
	}
	return c, nil
}

// plateProvinces are the one-character abbreviations that open a plate.
const plateProvinces = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"

// plateSuffixes may replace the last serial character of a 7-character
// plate: trailer, learner, police, Hong Kong and Macao plates.
const plateSuffixes = "挂学警港澳"

// NormalizePlate validates a Chinese motor vehicle plate number and returns
// it upper-cased without spaces, dashes or the middle dot "·".
//
// A plate is a province abbreviation, the issuing authority's letter (A-Z
// except I and O) and then either
//   - five letters or digits (no I or O), the last of which may be one of
//     挂 学 警 港 澳: an ordinary plate such as 湘B12345; or
//   - six characters of a new-energy plate: D or F followed by five digits,
//     or D or F, a letter or digit and four digits (small vehicles, such as
//     湘BD12345), or five digits followed by D or F (large vehicles, such as
//     湘B12345D).
func NormalizePlate(s string) (string, error) {
	p := clean(s, func(r rune) bool {
		return r == '·' || r == '•' || r == '・' || r == '-'
	})
	if p == "" {
		return "", invalid("请填写车牌号")
	}
	rs := []rune(p)
	switch {
	case !strings.ContainsRune(plateProvinces, rs[0]):
		return "", invalid("车牌号省份简称不正确")
	case len(rs) < 2 || !isPlateLetter(rs[1]):
		return "", invalid("车牌号发牌机关代号不正确")
	}
	serial := rs[2:]
	var ok bool
	switch len(serial) {
	case 5:
		ok = allRunes(serial[:4], isPlateAlnum) &&
			(isPlateAlnum(serial[4]) || strings.ContainsRune(plateSuffixes, serial[4]))
	case 6:
		small := isEnergyMark(serial[0]) && allRunes(serial[2:], isDigitRune) &&
			(isDigitRune(serial[1]) || isPlateLetter(serial[1]))
		large := allRunes(serial[:5], isDigitRune) && isEnergyMark(serial[5])
		ok = small || large
	default:
		return "", invalid("车牌号位数不正确")
	}
	if !ok {
		return "", invalid("车牌号格式不正确")
	}
	return p, nil
}

func isDigitRune(r rune) bool   { return r >= '0' && r <= '9' }
func isPlateLetter(r rune) bool { return r >= 'A' && r <= 'Z' && r != 'I' && r != 'O' }
func isPlateAlnum(r rune) bool  { return isDigitRune(r) || isPlateLetter(r) }
func isEnergyMark(r rune) bool  { return r == 'D' || r == 'F' }
func allRunes(rs []rune, f func(rune) bool) bool {
	for _, r := range rs {
		if !f(r) {
			return false
		}
	}
	return true
}
