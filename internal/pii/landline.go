package pii

import "strings"

// NormalizeContactPhone validates the phone of an organisation's contact:
// a mobile number (NormalizePhone) or a landline with its area code, and
// returns a mobile number's 11 digits or a landline as "0731-22837000"
// (area code, dash, local number, and "-" and the extension if one was
// given with 转, ext or #). Spaces, dashes and brackets around the area
// code are accepted, as are +86 or 0086 before it, and 400/800 service
// numbers ("400-123-4567" gives "4001234567").
func NormalizeContactPhone(s string) (string, error) {
	number, ext := splitExtension(s)
	p := clean(number, phonePunct)
	if p == "" {
		return "", invalid("请填写联系电话")
	}
	if !strings.HasPrefix(p, "0") || strings.HasPrefix(p, "00") {
		if m, err := NormalizePhone(p); err == nil && ext == "" {
			return m, nil
		}
	}
	p = dropCountryCode(p)
	if isServiceNumber(p) {
		return withExt(p, ext), nil
	}
	if !allDigits(p) || !allDigits(ext) {
		return "", errContactPhone
	}
	if !strings.HasPrefix(p, "0") {
		if len(p) == 11 && p[0] == '1' {
			return NormalizePhone(p)
		}
		return "", errContactPhone
	}
	return landline(p, ext)
}

// phonePunct reports the characters a phone number is written with and
// that are dropped: dashes and brackets, ASCII or full-width.
func phonePunct(r rune) bool {
	return r == '-' || r == '(' || r == ')' || r == '（' || r == '）'
}

// dropCountryCode turns +86 or 0086 before a number into the trunk prefix
// 0 of a landline (kept off a mobile number).
func dropCountryCode(p string) string {
	for _, prefix := range []string{"+86", "0086"} {
		if rest, ok := strings.CutPrefix(p, prefix); ok {
			p = strings.TrimPrefix(rest, "0")
			if !strings.HasPrefix(p, "1") || len(p) != 11 {
				p = "0" + p
			}
			return p
		}
	}
	return p
}

// isServiceNumber reports a 400 or 800 service number of ten digits.
func isServiceNumber(p string) bool {
	return (strings.HasPrefix(p, "400") || strings.HasPrefix(p, "800")) && len(p) == 10 && allDigits(p)
}

// landline splits a landline of digits starting with 0 into its area code
// (three digits for 010 and 020 to 029, four otherwise) and a local number
// of 7 or 8 digits, "0731-22837000", with the extension if any.
func landline(p, ext string) (string, error) {
	area := 4 // 0731
	if len(p) > 1 && (p[1] == '1' || p[1] == '2') {
		area = 3 // 010, 020 to 029
	}
	local := p[min(area, len(p)):]
	if len(local) < 7 || len(local) > 8 || local[0] == '0' || local[0] == '1' {
		return "", errContactPhone
	}
	return withExt(p[:area]+"-"+local, ext), nil
}

// errContactPhone is the answer to a contact phone that is neither.
var errContactPhone = invalid("联系电话应为11位手机号，或带区号的座机号码（如 0731-22837000）")

// splitExtension cuts an extension written after 转, ext or # off a
// phone number.
func splitExtension(s string) (number, ext string) {
	for _, sep := range []string{"转", "ext.", "ext", "EXT", "Ext", "#"} {
		if n, e, ok := strings.Cut(s, sep); ok {
			return n, strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(e), ".:："))
		}
	}
	return s, ""
}

func withExt(p, ext string) string {
	if ext == "" {
		return p
	}
	return p + "-" + ext
}
