package masstest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"strings"
)

// The household register: the vocabulary of its import and answers.

// BuildingKey is a building's pseudonymous key, the one resident codes
// carry and zones seal buildings by: the first 16 hex characters of the
// SHA-256 of community, estate and building joined by NUL.
func BuildingKey(community, estate, building string) string {
	h := sha256.Sum256([]byte(community + "\x00" + estate + "\x00" + building))
	return hex.EncodeToString(h[:])[:16]
}

// FlagNames are the flags in Chinese, in the order the register shows
// them.
var FlagNames = []struct{ Key, Name string }{
	{"mobility_impaired", "行动不便"}, {"elderly_alone", "独居老人"}, {"bedridden", "卧床"}, {"infant", "婴幼儿"},
}

// set turns on the flag named key (English or Chinese); false when the
// name is unknown.
func (f *Flags) set(name string) bool {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "mobility_impaired", "行动不便":
		f.MobilityImpaired = true
	case "elderly_alone", "独居老人":
		f.ElderlyAlone = true
	case "bedridden", "卧床":
		f.Bedridden = true
	case "infant", "婴幼儿":
		f.Infant = true
	default:
		return false
	}
	return true
}

// Names lists the flags set, in Chinese.
func (f Flags) Names() []string {
	on := []bool{f.MobilityImpaired, f.ElderlyAlone, f.Bedridden, f.Infant}
	var out []string
	for i, n := range FlagNames {
		if on[i] {
			out = append(out, n.Name)
		}
	}
	return out
}

// parseStatus reads a status in English or Chinese; empty is present.
func parseStatus(s string) (Status, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return Present, true
	}
	for st, name := range StatusNames {
		if s == string(st) || s == name {
			return st, true
		}
	}
	if s == "moved out" || s == "迁出" {
		return MovedOut, true
	}
	return "", false
}

// placeText is where a household is: estate, building, unit and room, in words.
func placeText(estate, building, unit, room string) string {
	parts := make([]string, 0, 4)
	for _, p := range []string{estate, building, unit, room} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, " ")
}

// newCode is a fresh pseudonymous code: prefix and 16 random base32
// characters (80 bits).
func newCode(prefix string) string {
	b := make([]byte, 10)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24)
	return prefix + strings.ToLower(base32.StdEncoding.EncodeToString(b))
}

// ResidentChange is one resident an import moved in, moved out or
// changed, masked.
type ResidentChange struct {
	ID       int64    `json:"id"`
	Name     string   `json:"name"`
	IDNumber string   `json:"id_number"`
	Address  string   `json:"address"`
	From     string   `json:"from,omitempty"`    // the address before, when the resident moved
	Changed  []string `json:"changed,omitempty"` // of a change: name, phone, flags, status, birth_year, room

	fromCommunity string // the code of the community moved in from, named after the import
}

// CommunitySync is what an import did to one community.
type CommunitySync struct {
	Code string `json:"code"`
	Name string `json:"name"`
	// First: the community had nobody registered; its residents are
	// counted as moved in, not listed.
	First         bool             `json:"first"`
	Households    int              `json:"households"` // in the file
	Residents     int              `json:"residents"`  // in the file
	NewHouseholds int              `json:"new_households"`
	MovedInCount  int              `json:"moved_in_count"`
	MovedOutCount int              `json:"moved_out_count"`
	ChangedCount  int              `json:"changed_count"`
	Unchanged     int              `json:"unchanged"`
	MovedIn       []ResidentChange `json:"moved_in"`
	MovedOut      []ResidentChange `json:"moved_out"`
	Changed       []ResidentChange `json:"changed"`
}

// MaxListedChanges bounds each list of an import's answer per community;
// the counts count them all.
const MaxListedChanges = 1000

// RegisterImport is the answer to a household import.
type RegisterImport struct {
	Rows           int             `json:"rows"`
	Communities    []CommunitySync `json:"communities"`
	IgnoredColumns []string        `json:"ignored_columns"`
}

// HouseholdFilter selects a page of households of the register.
type HouseholdFilter struct {
	Area     string // a community (or above) code; empty is every area the caller reads
	Estate   string
	Building string
	Page     int // from 1
	PerPage  int
}

// Household list pages.
const (
	DefaultHouseholdsPerPage = 50
	MaxHouseholdsPerPage     = 500
	MaxHouseholdPage         = 100000
)

// HouseholdPage is a page of the register, in order of estate, building,
// unit and room.
type HouseholdPage struct {
	Items   []Household `json:"items"`
	Page    int         `json:"page"`
	PerPage int         `json:"per_page"`
	Total   int         `json:"total"` // households matching, on every page
}

// HouseholdCodes are the resident codes of one household: its own and
// each resident's.
type HouseholdCodes struct {
	HouseholdID int64          `json:"household_id"`
	Address     string         `json:"address"`
	Household   string         `json:"household"`
	Residents   []ResidentCode `json:"residents"`
}

// ResidentCode is one resident's signed code.
type ResidentCode struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Token string `json:"token"`
}

// RevealInput asks for a resident's full ID number.
type RevealInput struct {
	Reason string `json:"reason"`
}

// Revealed is a resident's full ID number.
type Revealed struct {
	ID       int64  `json:"id"`
	IDNumber string `json:"id_number"`
}
