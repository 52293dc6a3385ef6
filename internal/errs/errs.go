// Package errs defines Tongxin's one error type. Every error that reaches a
// user carries a Kind, from which the HTTP layer picks the status code and
// the problem+json code, and a user-safe message in Chinese. Internal causes
// are wrapped with %w and never shown to the client.
package errs

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Kind classifies an error for callers and for the HTTP adapter.
type Kind string

const (
	Internal     Kind = "internal"     // a bug or an unexpected failure: 500, details logged only
	Invalid      Kind = "invalid"      // the input is wrong: 400 / 422
	NotFound     Kind = "not_found"    // no such object, or outside the caller's scope: 404
	Conflict     Kind = "conflict"     // the object's state forbids the change, or a duplicate: 409
	Unauthorized Kind = "unauthorized" // no valid credentials: 401
	Forbidden    Kind = "forbidden"    // authenticated but not allowed: 403
	Unavailable  Kind = "unavailable"  // a dependency is down or busy: 503
	TooMany      Kind = "too_many"     // throttled: 429
	TooLarge     Kind = "too_large"    // body over the limit: 413
	Unsupported  Kind = "unsupported"  // wrong media type: 415
)

// FieldError names one bad field or cell of an input.
type FieldError struct {
	Row     int    `json:"row,omitempty"`
	Column  string `json:"column,omitempty"`
	Field   string `json:"field,omitempty"`
	Code    string `json:"code,omitempty"` // a stable code for this problem, where it has one
	Message string `json:"message"`
}

// Error is the error type of Tongxin.
type Error struct {
	Kind    Kind         // what went wrong
	Code    string       // stable machine code, e.g. "area_not_found"; defaults to Kind
	Op      string       // operation, e.g. "area.Service.Get"
	Message string       // user-safe message, Chinese
	Fields  []FieldError // per-field or per-row details
	Total   int          // the number of details when Fields holds only the first of them; 0: len(Fields)
	Err     error        // the cause, never shown to the client
}

func (e *Error) Error() string {
	s := ""
	if e.Op != "" {
		s = e.Op + ": "
	}
	s += string(e.Kind)
	if e.Code != "" && e.Code != string(e.Kind) {
		s += " (" + e.Code + ")"
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// E builds an error of a kind with a user-safe message.
func E(kind Kind, code, msg string) *Error {
	return &Error{Kind: kind, Code: code, Message: msg}
}

// Newf builds an error of a kind with a formatted user-safe message.
func Newf(kind Kind, code, format string, args ...any) *Error {
	return &Error{Kind: kind, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap annotates err with an operation name. A nil err stays nil. An err that
// is not an *Error becomes Internal.
func Wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		c := *e
		if c.Op == "" {
			c.Op = op
		} else {
			c.Op = op + ": " + c.Op
		}
		c.Err = e.Err
		return &c
	}
	return &Error{Kind: Internal, Op: op, Err: err}
}

// Rows builds an Invalid error carrying per-row details (imports).
func Rows(code, msg string, fields []FieldError) *Error {
	return &Error{Kind: Invalid, Code: code, Message: msg, Fields: fields}
}

// KindOf reports the kind of err: the Kind of the first *Error in its chain,
// Internal for any other non-nil error.
func KindOf(err error) Kind {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// Is reports whether err is an *Error of kind k.
func Is(err error, k Kind) bool { return err != nil && KindOf(err) == k }

// As returns the first *Error in err's chain, or nil.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// Fields is an Invalid error with code and message naming the fields at
// fault.
func Fields(code, msg string, fields ...FieldError) error {
	return &Error{Kind: Invalid, Code: code, Message: msg, Fields: fields}
}

// CheckText checks a text a user typed: present if required, at most max
// characters, valid UTF-8 without NUL. It returns what is wrong in
// Chinese, or "" when the text is fine. Line breaks are allowed.
func CheckText(s string, max int, required bool) string {
	return checkText(s, max, required, func(r rune) bool { return r == 0 })
}

// CheckLine is CheckText for one-line fields (names, reasons): no control
// characters at all.
func CheckLine(s string, max int, required bool) string {
	return checkText(s, max, required, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

func checkText(s string, max int, required bool, bad func(rune) bool) string {
	switch {
	case required && strings.TrimSpace(s) == "":
		return "必填"
	case utf8.RuneCountInString(s) > max:
		return fmt.Sprintf("不能超过 %d 个字", max)
	case !utf8.ValidString(s) || strings.ContainsFunc(s, bad):
		return "含有无效字符"
	}
	return ""
}
