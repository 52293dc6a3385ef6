package auth

import (
	_ "embed"
	"strings"
	"unicode/utf8"

	"tongxin/internal/errs"
)

// MinPasswordLen is the shortest password accepted, in characters.
const MinPasswordLen = 10

//go:embed common_passwords.txt
var commonPasswordsText string

// commonPasswords is the embedded list, lower-cased.
var commonPasswords = func() map[string]bool {
	m := map[string]bool{}
	for _, line := range strings.Split(commonPasswordsText, "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "# ") {
			m[strings.ToLower(line)] = true
		}
	}
	return m
}()

func weakPassword(msg string) error {
	return &errs.Error{Kind: errs.Invalid, Code: "weak_password", Message: msg,
		Fields: []errs.FieldError{{Field: "password", Message: msg}}}
}

// CheckPasswordPolicy says why pw may not be the password of the account
// (username, display name), or nil: at least MinPasswordLen characters and
// at most 128, not one of the common passwords, not a single repeated
// character, and not containing the username or the display name
// (case-insensitive). The error is Invalid with code weak_password.
func CheckPasswordPolicy(username, displayName, pw string) error {
	n := utf8.RuneCountInString(pw)
	lower := strings.ToLower(pw)
	username = strings.ToLower(strings.TrimSpace(username))
	displayName = strings.ToLower(strings.TrimSpace(displayName))
	switch {
	case n < MinPasswordLen:
		return weakPassword("密码至少 10 个字符")
	case n > 128:
		return weakPassword("密码不能超过 128 个字符")
	case commonPasswords[lower]:
		return weakPassword("该密码过于常见，容易被猜中，请换一个")
	case strings.Count(lower, string([]rune(lower)[:1])) == n:
		return weakPassword("密码不能由同一个字符重复组成")
	case username != "" && strings.Contains(lower, username):
		return weakPassword("密码不能包含用户名")
	case utf8.RuneCountInString(displayName) >= 2 && strings.Contains(lower, displayName):
		return weakPassword("密码不能包含姓名")
	}
	return nil
}
