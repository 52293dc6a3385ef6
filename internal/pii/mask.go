package pii

import "strings"

// mask keeps the first head and last tail runes of s and replaces the rest
// with '*'. If fewer than minLen runes are present, every rune is replaced.
func mask(s string, head, tail, minLen int) string {
	rs := []rune(s)
	n := len(rs)
	if n < minLen || n <= head+tail {
		return strings.Repeat("*", n)
	}
	return string(rs[:head]) + strings.Repeat("*", n-head-tail) + string(rs[n-tail:])
}

// MaskID masks a resident ID number for display, keeping the first 6
// (region) and last 4 characters: "430202********1234". Input shorter than
// the 15 characters of the oldest ID numbers is masked entirely.
func MaskID(id string) string { return mask(id, 6, 4, 15) }

// MaskPhone masks a phone number for display, keeping the first 3 and last
// 4 characters: "138****8000". Input shorter than 11 characters is masked
// entirely.
func MaskPhone(p string) string { return mask(p, 3, 4, 11) }

// MaskName masks a person's name rune by rune: one rune becomes "*", two
// keep the first ("张*"), longer names keep the first and the last
// ("欧**娜").
func MaskName(n string) string {
	rs := []rune(n)
	switch len(rs) {
	case 0:
		return ""
	case 1:
		return "*"
	case 2:
		return string(rs[0]) + "*"
	}
	return mask(n, 1, 1, 3)
}

// MaskPlate masks a vehicle plate for display, keeping the first 2 and last
// 2 runes: "湘B***45". Input of 4 runes or fewer is masked entirely.
func MaskPlate(p string) string { return mask(p, 2, 2, 5) }

// Last4 returns the last four runes of s, or s itself if it is shorter. It
// suits "ID ending in 002X" prompts.
func Last4(s string) string {
	rs := []rune(s)
	if len(rs) <= 4 {
		return s
	}
	return string(rs[len(rs)-4:])
}
