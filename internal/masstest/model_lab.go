package masstest

import "time"

// Lab results and what follows from them: a positive pooled tube puts its
// residents on the retest list, a positive single tube makes a positive
// and proposes sealing the building, an invalid tube asks for a resample,
// and the result of a retest's single tube closes the retest.

// LabRecord is one result as the lab reports it.
type LabRecord struct {
	Tube       string `json:"tube"`
	Result     string `json:"result"`
	Lab        string `json:"lab"`
	ReportedAt string `json:"reported_at"` // RFC 3339; empty is the moment received
}

// LabBatch is the body of POST /api/v1/lab-results.
type LabBatch struct {
	Results []LabRecord `json:"results"`
}

// Answers of a lab record.
const (
	LabStored = "stored"
	LabRepeat = "repeat"
	LabError  = "error"
)

// LabAnswer is the answer to one record, in the order sent.
type LabAnswer struct {
	Index  int    `json:"index"`
	Tube   string `json:"tube"`
	Status string `json:"status"` // stored, repeat or error
	// Code and Message say why a record was refused: unknown_tube,
	// result_conflict, invalid_result, invalid_tube, invalid_lab,
	// invalid_time.
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
	Result  Result `json:"result,omitempty"`
	// Retests is how many residents a stored result placed on the retest
	// list (a positive pooled tube, an invalid tube).
	Retests int `json:"retests,omitempty"`
	// Positive is set when a stored result made a resident positive.
	Positive bool `json:"positive,omitempty"`
	// Closed is set when a stored result closed a retest.
	Closed bool `json:"closed,omitempty"`
}

// LabSummary is the answer of a batch or a file: counts and the answer of
// each record.
type LabSummary struct {
	Stored    int         `json:"stored"`
	Repeats   int         `json:"repeats"`
	Errors    int         `json:"errors"`
	Retests   int         `json:"retests"`   // residents placed on the retest list
	Positives int         `json:"positives"` // residents found positive
	Closed    int         `json:"closed"`    // retests closed
	Items     []LabAnswer `json:"items"`
}

// MaxLabBatch is the most records a request may carry.
const MaxLabBatch = 5000

// MaxLabFileRows is the most rows a lab file may carry.
const MaxLabFileRows = 20000

// MaxLabLen is the longest lab name, in characters.
const MaxLabLen = 60

// RetestCause is why a resident is to be sampled again.
type RetestCause string

const (
	CausePoolPositive RetestCause = "pool_positive"
	CauseInvalid      RetestCause = "invalid"
)

// RetestCauseNames are the causes in Chinese.
var RetestCauseNames = map[RetestCause]string{CausePoolPositive: "混管阳性", CauseInvalid: "样本无效"}

// RetestStatus is where a retest is. Resampled is a retest whose single
// tube came back invalid: a new retest (cause invalid) replaces it.
type RetestStatus string

const (
	RetestOpen      RetestStatus = "open"
	RetestNegative  RetestStatus = "negative"
	RetestPositive  RetestStatus = "positive"
	RetestResampled RetestStatus = "resampled"
)

// RetestStatusNames are the statuses in Chinese.
var RetestStatusNames = map[RetestStatus]string{RetestOpen: "待复核", RetestNegative: "复核阴性",
	RetestPositive: "复核阳性", RetestResampled: "已重采"}

// Place is where a resident lives.
type Place struct {
	CommunityCode string `json:"community_code"`
	CommunityName string `json:"community_name"`
	Estate        string `json:"estate"`
	Building      string `json:"building"`
	Unit          string `json:"unit"`
	Room          string `json:"room"`
}

// Retest is a resident to sample again in a single tube.
type Retest struct {
	ID         int64        `json:"id"`
	RoundID    int64        `json:"round_id"`
	ResidentID int64        `json:"resident_id"`
	Name       string       `json:"name"`      // masked
	IDNumber   string       `json:"id_number"` // masked
	Place      Place        `json:"place"`
	Cause      RetestCause  `json:"cause"`
	CauseName  string       `json:"cause_name"`
	Status     RetestStatus `json:"status"`
	StatusName string       `json:"status_name"`
	Tube       string       `json:"tube"` // the barcode of the tube that caused it
	CreatedAt  time.Time    `json:"created_at"`
	DoneAt     *time.Time   `json:"done_at,omitempty"`
}

// PositiveCase is a resident whose single tube came back positive.
type PositiveCase struct {
	ID         int64     `json:"id"`
	RoundID    int64     `json:"round_id"`
	ResidentID int64     `json:"resident_id"`
	Name       string    `json:"name"`      // masked
	IDNumber   string    `json:"id_number"` // masked
	Place      Place     `json:"place"`
	Tube       string    `json:"tube"`
	FoundAt    time.Time `json:"found_at"`
}

// ListFilter selects retests or positives: Round and Area optional,
// Status only for retests ("" is every status).
type ListFilter struct {
	Round   string
	Area    string
	Status  string
	Page    int
	PerPage int
}

// ListPage is one page of a list, with the total.
type ListPage[T any] struct {
	Items   []T `json:"items"`
	Total   int `json:"total"`
	Page    int `json:"page"`
	PerPage int `json:"per_page"`
}

// Page sizes of the lists.
const (
	DefaultPerPage = 50
	MaxPerPage     = 500
)

// Figures are the testing group's figures for the daily report.
type Figures struct {
	Day      string `json:"day"`
	AreaCode string `json:"area_code"`
	AreaName string `json:"area_name"`
	// RoundsInProgress counts the rounds over the area open that day.
	RoundsInProgress int `json:"rounds_in_progress"`
	// Samples counts the samples taken that day in the area, RetestSamples
	// those of them taken for a retest.
	Samples       int `json:"samples"`
	RetestSamples int `json:"retest_samples"`
	// Latest is the coverage of the latest round over the area started by
	// the end of the day; nil when there is none.
	Latest *RoundCoverage `json:"latest_round,omitempty"`
	// PositivesDay and PositivesTotal count the positives found that day
	// and in all by its end; RetestsOpen the retests open at its end.
	PositivesDay   int `json:"positives_day"`
	PositivesTotal int `json:"positives_total"`
	RetestsOpen    int `json:"retests_open"`
}

// RoundCoverage is a round's persons in an area: Missed is persons
// neither sampled nor exempt, Rate the share sampled or exempt, in
// percent with one decimal.
type RoundCoverage struct {
	RoundID  int64   `json:"round_id"`
	Campaign string  `json:"campaign"`
	Number   int     `json:"number"`
	Persons  int     `json:"persons"`
	Sampled  int     `json:"sampled"`
	Exempt   int     `json:"exempt"`
	Missed   int     `json:"missed"`
	Rate     float64 `json:"rate"`
}
