package pii

import (
	"errors"
	"testing"
)

func TestNormalizeContactPhone(t *testing.T) {
	for in, want := range map[string]string{
		"13907330003":        "13907330003",
		"139 0733 0003":      "13907330003",
		"+86 139-0733-0003":  "13907330003",
		"0731-22837000":      "0731-22837000",
		"0731 2283 7000":     "0731-22837000",
		"(0731)22837000":     "0731-22837000",
		"（0731）22837000":     "0731-22837000",
		"073122837000":       "0731-22837000",
		"010-62345678":       "010-62345678",
		"+86 731 22837000":   "0731-22837000",
		"0731-22837000转8012": "0731-22837000-8012",
		"０７３１－２２８３７０００": "0731-22837000",
		"400-123-4567": "4001234567",
	} {
		got, err := NormalizeContactPhone(in)
		if err != nil || got != want {
			t.Errorf("NormalizeContactPhone(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "22837000", "0731-123", "0731-02837000", "12345", "0731-2283700a", "1390733000"} {
		if got, err := NormalizeContactPhone(in); !errors.Is(err, ErrInvalid) {
			t.Errorf("NormalizeContactPhone(%q) = %q, %v; want an error", in, got, err)
		}
	}
}
