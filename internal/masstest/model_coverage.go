package masstest

import (
	"math"
	"strconv"
	"time"
)

// Count is households or persons of a round's population: Total is
// Sampled + Exempt + Missed, at every level.
type Count struct {
	Total   int `json:"total"`
	Sampled int `json:"sampled"`
	Exempt  int `json:"exempt"`
	Missed  int `json:"missed"`
	// Rate is the share covered, (Sampled + Exempt) / Total, to four
	// places; null when there is nobody.
	Rate *float64 `json:"rate"`
}

// PersonCount is persons, with the exempt by reason.
type PersonCount struct {
	Count
	ExemptBy map[ExemptReason]int `json:"exempt_by_reason"`
}

// Cover is a round's coverage of some households.
type Cover struct {
	Households Count       `json:"households"`
	Persons    PersonCount `json:"persons"`
}

// CoverRow is one child of the area a coverage is asked for: an area
// below it, or, below a community, a building.
type CoverRow struct {
	Kind     string `json:"kind"` // area or building
	Code     string `json:"code,omitempty"`
	Name     string `json:"name"`
	Estate   string `json:"estate,omitempty"`
	Building string `json:"building,omitempty"`
	Cover
}

// Coverage answers GET /api/v1/rounds/{id}/coverage.
type Coverage struct {
	Round    RoundBrief `json:"round"`
	Area     AreaRef    `json:"area"`
	Cover               // the area's totals
	Children []CoverRow `json:"children"`
	AsOf     time.Time  `json:"as_of"`
}

// RoundBrief names a round in answers about it.
type RoundBrief struct {
	ID       int64  `json:"id"`
	Campaign string `json:"campaign"`
	Number   int    `json:"number"`
	Open     bool   `json:"open"`
}

func briefOf(r *Round) RoundBrief {
	return RoundBrief{ID: r.ID, Campaign: r.Campaign, Number: r.Number, Open: r.Open}
}

// tallyRow is a building's row of testing_tally.
type tallyRow struct {
	areaPath, estate, building                        string
	households, persons, hhSampled, hhExempt, sampled int
	exempt                                            [4]int // by ExemptReasons
}

// add counts t into c.
func (c *Cover) add(t *tallyRow) {
	c.Households.Total += t.households
	c.Households.Sampled += t.hhSampled
	c.Households.Exempt += t.hhExempt
	c.Persons.Total += t.persons
	c.Persons.Sampled += t.sampled
	if c.Persons.ExemptBy == nil {
		c.Persons.ExemptBy = map[ExemptReason]int{}
	}
	for i, r := range ExemptReasons {
		c.Persons.Exempt += t.exempt[i]
		c.Persons.ExemptBy[r] += t.exempt[i]
	}
}

// finish works out what is missed and the rates.
func (c *Cover) finish() {
	for _, n := range []*Count{&c.Households, &c.Persons.Count} {
		n.Missed = n.Total - n.Sampled - n.Exempt
		n.Rate = nil
		if n.Total > 0 {
			r := math.Round(float64(n.Sampled+n.Exempt)/float64(n.Total)*10000) / 10000
			n.Rate = &r
		}
	}
	if c.Persons.ExemptBy == nil {
		c.Persons.ExemptBy = map[ExemptReason]int{}
	}
	for _, r := range ExemptReasons {
		c.Persons.ExemptBy[r] += 0
	}
}

// MissedPerson is a resident of a round's population neither sampled nor
// exempt, masked.
type MissedPerson struct {
	ResidentID int64  `json:"resident_id"`
	Resident   string `json:"resident"`
	Name       string `json:"name"`
	IDNumber   string `json:"id_number"`
	Phone      string `json:"phone,omitempty"`
	BirthYear  int    `json:"birth_year"`
	Flags
	Status      Status  `json:"status"`
	StatusName  string  `json:"status_name"`
	HouseholdID int64   `json:"household_id"`
	Address     Address `json:"address"`
	// AtHome: a flagged resident, whom a team samples at home.
	AtHome bool `json:"at_home"`
}

// MissedList answers GET /api/v1/rounds/{id}/missed.
type MissedList struct {
	Round      RoundBrief     `json:"round"`
	Area       AreaRef        `json:"area"`
	Households int            `json:"households"` // households with someone missed
	Persons    int            `json:"persons"`    // persons missed
	Page       int            `json:"page"`
	PerPage    int            `json:"per_page"`
	Items      []MissedPerson `json:"items"`
}

// Comparison answers GET /api/v1/rounds/{id}/compare: who one round
// covered and the other missed, each way.
type Comparison struct {
	Round RoundBrief `json:"round"`
	With  RoundBrief `json:"with"`
	Area  AreaRef    `json:"area"`
	// MissedHere: covered in With, missed in Round.
	MissedHere      []MissedPerson `json:"missed_here"`
	MissedHereTotal int            `json:"missed_here_total"`
	// MissedThere: covered in Round, missed in With.
	MissedThere      []MissedPerson `json:"missed_there"`
	MissedThereTotal int            `json:"missed_there_total"`
}

// MaxCompared bounds each list of a comparison (the totals count all).
const MaxCompared = 1000

// Percent is the rate as the pages show it ("97.3%"), "—" when there is
// nobody.
func (c Count) Percent() string {
	if c.Rate == nil {
		return "—"
	}
	return strconv.FormatFloat(*c.Rate*100, 'f', 1, 64) + "%"
}

// Exempted is how many are exempt for reason, for the pages.
func (p PersonCount) Exempted(reason string) int { return p.ExemptBy[ExemptReason(reason)] }
