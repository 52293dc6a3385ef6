// Package quarantine is central quarantine (集中隔离) and home quarantine
// (居家隔离), the work of the HQ's 集中隔离管控组 and 居家隔离管控组.
//
// From the seed: the two groups report every evening, and inspectors ask
// "居家隔离人员是怎么管控的？" — how home quarantine is enforced. Central
// quarantine is sites (hotels) with rooms, persons admitted to a room,
// transferred, tested and released, occupancy exact at any moment; home
// quarantine is residents of the household register kept at home, a
// community worker's daily check of each, tests on given days, and the
// list of checks missed today per community.
//
// design.md puts quarantine in the zone module; it is its own package so
// that zones and the two quarantine groups' work can grow apart.
package quarantine

import (
	"strconv"
	"strings"
	"time"
)

// Kind is where a stay is kept.
type Kind string

const (
	Central Kind = "central" // 集中隔离
	Home    Kind = "home"    // 居家隔离
)

// KindNames are the kinds in Chinese.
var KindNames = map[Kind]string{Central: "集中隔离", Home: "居家隔离"}

// Category is why a person is quarantined.
type Category string

const (
	CloseContact     Category = "close_contact"     // 密接
	SecondaryContact Category = "secondary_contact" // 次密接
	Inbound          Category = "inbound"           // 风险地区来（返）株
	Other            Category = "other"
)

// Categories lists the categories in display order.
var Categories = []Category{CloseContact, SecondaryContact, Inbound, Other}

// CategoryNames are the categories in Chinese.
var CategoryNames = map[Category]string{CloseContact: "密接", SecondaryContact: "次密接", Inbound: "风险地区来株", Other: "其他"}

func (c Category) valid() bool { _, ok := CategoryNames[c]; return ok }

// EndReason is why a stay ended.
type EndReason string

const (
	Completed  EndReason = "completed" // 期满解除
	ToHospital EndReason = "hospital"  // 转送医院
	OtherEnd   EndReason = "other"
)

// EndReasonNames are the reasons in Chinese.
var EndReasonNames = map[EndReason]string{Completed: "期满解除", ToHospital: "转送医院", OtherEnd: "其他"}

// Result is a test's result.
type Result string

const (
	Negative Result = "negative"
	Positive Result = "positive"
	Pending  Result = "pending"
)

// ResultNames are the results in Chinese.
var ResultNames = map[Result]string{Negative: "阴性", Positive: "阳性", Pending: "待出结果"}

// SiteStatus is whether a site takes persons.
type SiteStatus string

const (
	SiteOpen   SiteStatus = "open"
	SiteClosed SiteStatus = "closed"
)

// Limits of inputs.
const (
	MaxNameLen    = 100
	MaxPlaceLen   = 200
	MaxNoteLen    = 500
	MaxRoomNumLen = 20
	MaxRoomsAdded = 500
	MaxBeds       = 20
	MaxDays       = 60
	MaxCapacity   = 100000
	MaxListed     = 2000 // a list's rows at most
)

// Rule is the days a category of person stays in quarantine: centrally,
// then at home, and the days of a home stay on which they are tested.
type Rule struct {
	Category     Category  `json:"category"`
	CategoryName string    `json:"category_name"`
	CentralDays  int       `json:"central_days"`
	HomeDays     int       `json:"home_days"`
	HomeTestDays []int     `json:"home_test_days"`
	UpdatedAt    time.Time `json:"updated_at"`
	UpdatedBy    string    `json:"updated_by"`
}

// RuleInput changes a rule.
type RuleInput struct {
	CentralDays  int   `json:"central_days"`
	HomeDays     int   `json:"home_days"`
	HomeTestDays []int `json:"home_test_days"`
}

// Site is a central quarantine site with its occupancy at a moment.
type Site struct {
	ID        int64      `json:"id"`
	Name      string     `json:"name"`
	Place     string     `json:"place"`
	AreaCode  string     `json:"area_code"`
	AreaName  string     `json:"area_name"`
	Capacity  int        `json:"capacity"`
	Status    SiteStatus `json:"status"`
	Rooms     int        `json:"rooms"`
	Beds      int        `json:"beds"`
	Occupied  int        `json:"occupied"`   // persons at the moment
	FreeRooms int        `json:"free_rooms"` // rooms nobody is in at the moment
	At        time.Time  `json:"at"`
	CreatedAt time.Time  `json:"created_at"`
	CreatedBy string     `json:"created_by"`

	areaPath string
}

// SiteInput creates or changes a site.
type SiteInput struct {
	Name     string `json:"name"`
	Place    string `json:"place"`
	AreaCode string `json:"area_code"`
	Capacity int    `json:"capacity"`
	Open     *bool  `json:"open,omitempty"` // a change: open or close the site; a new site is open
}

// Room is a room of a site with who is in it at the moment.
type Room struct {
	ID        int64      `json:"id"`
	Number    string     `json:"number"`
	Floor     int        `json:"floor"`
	Beds      int        `json:"beds"`
	Occupants []Occupant `json:"occupants"`
}

// Occupant is a person in a room, masked.
type Occupant struct {
	StayID   int64     `json:"stay_id"`
	Name     string    `json:"name"`
	Category Category  `json:"category"`
	Since    time.Time `json:"since"`
}

// RoomInput adds a room.
type RoomInput struct {
	Number string `json:"number"`
	Floor  int    `json:"floor"`
	Beds   int    `json:"beds"`
}

// RoomsInput adds rooms to a site.
type RoomsInput struct {
	Rooms []RoomInput `json:"rooms"`
}

// SiteBoard is a site with its rooms and occupants at a moment.
type SiteBoard struct {
	Site
	RoomList []Room `json:"room_list"`
}

// Event is an admission to, a transfer in or out of, or a release from a
// site's rooms.
type Event struct {
	At     time.Time `json:"at"`
	Kind   string    `json:"kind"` // admit, transfer_in, transfer_out, move (within the site), release
	StayID int64     `json:"stay_id"`
	Name   string    `json:"name"`
	Room   string    `json:"room"`
	To     string    `json:"to,omitempty"` // of a move or a transfer out: the room or site gone to
	By     string    `json:"by"`
}

// PersonInput names who is admitted: a resident of the register (their
// id, resident code or ID number) or someone from outside it.
type PersonInput struct {
	Resident string `json:"resident,omitempty"`
	Name     string `json:"name,omitempty"`
	IDNumber string `json:"id_number,omitempty"`
	Phone    string `json:"phone,omitempty"`
}

// AdmitInput admits a person to central quarantine.
type AdmitInput struct {
	PersonInput
	Category Category   `json:"category"`
	Site     int64      `json:"site"`
	Room     string     `json:"room"` // the room's number
	StartsAt *time.Time `json:"starts_at,omitempty"`
	Note     string     `json:"note,omitempty"`
}

// HomeInput starts a resident's home quarantine.
type HomeInput struct {
	Resident string     `json:"resident"`
	Category Category   `json:"category"`
	StartsAt *time.Time `json:"starts_at,omitempty"`
	Note     string     `json:"note,omitempty"`
}

// TransferInput moves a person to another room, of this site or another.
type TransferInput struct {
	Site int64      `json:"site,omitempty"` // 0: the same site
	Room string     `json:"room"`
	At   *time.Time `json:"at,omitempty"`
	Note string     `json:"note,omitempty"`
}

// ReleaseInput ends a stay.
type ReleaseInput struct {
	Reason EndReason  `json:"reason"`
	At     *time.Time `json:"at,omitempty"`
	Note   string     `json:"note,omitempty"`
}

// TestInput records a test's result on a day of the stay.
type TestInput struct {
	Day    string `json:"day"` // YYYY-MM-DD; empty: today
	Result Result `json:"result"`
	Note   string `json:"note,omitempty"`
}

// CheckInput records a home stay's daily check.
type CheckInput struct {
	Day         string   `json:"day,omitempty"` // empty: today
	Done        bool     `json:"done"`
	Temperature *float64 `json:"temperature,omitempty"` // °C, of a check done
	Contacted   bool     `json:"contacted"`
	SealIntact  bool     `json:"seal_intact"`
	Reason      string   `json:"reason,omitempty"` // of a check missed
}

// Stay is a person's stay in quarantine, masked.
type Stay struct {
	ID            int64      `json:"id"`
	PersonID      int64      `json:"person_id"`
	Kind          Kind       `json:"kind"`
	Category      Category   `json:"category"`
	CategoryName  string     `json:"category_name"`
	Name          string     `json:"name"`
	IDNumber      string     `json:"id_number"`
	Phone         string     `json:"phone,omitempty"`
	Resident      string     `json:"resident,omitempty"` // the resident code (rid) of a resident of the register
	Outsider      bool       `json:"outsider"`
	AreaCode      string     `json:"area_code"`
	AreaName      string     `json:"area_name"`
	SiteID        int64      `json:"site_id,omitempty"`
	Site          string     `json:"site,omitempty"`
	Room          string     `json:"room,omitempty"`
	Address       string     `json:"address,omitempty"`
	StartsAt      time.Time  `json:"starts_at"`
	PlannedEnd    time.Time  `json:"planned_end"`
	TestDays      []int      `json:"test_days,omitempty"`
	EndedAt       *time.Time `json:"ended_at,omitempty"`
	EndReason     EndReason  `json:"end_reason,omitempty"`
	EndReasonName string     `json:"end_reason_name,omitempty"`
	Note          string     `json:"note,omitempty"`
	CreatedBy     string     `json:"created_by"`
	Tests         []Test     `json:"tests,omitempty"`
	Checks        []Check    `json:"checks,omitempty"`
	Placements    []Placed   `json:"placements,omitempty"`

	areaPath       string
	residentID     int64
	idEnc, phoneEn []byte
	id4            string
	householdID    int64
}

// Active reports whether the stay has not ended.
func (s *Stay) Active() bool { return s.EndedAt == nil }

// Test is a test during a stay.
type Test struct {
	Day        string    `json:"day"`
	Result     Result    `json:"result"`
	ResultName string    `json:"result_name"`
	Note       string    `json:"note,omitempty"`
	RecordedAt time.Time `json:"recorded_at"`
	RecordedBy string    `json:"recorded_by"`
}

// Check is a home stay's daily check.
type Check struct {
	Day         string    `json:"day"`
	Done        bool      `json:"done"`
	Temperature *float64  `json:"temperature,omitempty"`
	Contacted   bool      `json:"contacted"`
	SealIntact  bool      `json:"seal_intact"`
	Reason      string    `json:"reason,omitempty"`
	RecordedAt  time.Time `json:"recorded_at"`
	RecordedBy  string    `json:"recorded_by"`
}

// Placed is a stay's time in one room.
type Placed struct {
	Site    string     `json:"site"`
	Room    string     `json:"room"`
	From    time.Time  `json:"from"`
	To      *time.Time `json:"to,omitempty"`
	EndKind string     `json:"end_kind,omitempty"` // transfer or release
}

// StayFilter selects stays.
type StayFilter struct {
	Kind   Kind
	Area   string // an area code; empty: every area the caller reads
	Site   int64
	Active bool // only stays not ended
}

// HomeDay is one home-quarantined person's day: the check recorded (nil:
// none yet), whether a test is due and done.
type HomeDay struct {
	Stay     *Stay  `json:"stay"`
	DayNo    int    `json:"day_no"` // 1 on the first day of the stay
	Check    *Check `json:"check"`
	TestDue  bool   `json:"test_due"`
	TestDone bool   `json:"test_done"` // the testing module has a sample of the resident that day
}

// HomeBoard is a community's home quarantine on a day: every person in
// it, those whose check is missing (not recorded, or recorded missed),
// and the tests due.
type HomeBoard struct {
	Day           string     `json:"day"`
	AreaCode      string     `json:"area_code"`
	AreaName      string     `json:"area_name"`
	Persons       []*HomeDay `json:"persons"`
	Missed        []*HomeDay `json:"missed"`
	TestsDue      []*HomeDay `json:"tests_due"`
	ChecksDone    int        `json:"checks_done"`
	ChecksMissing int        `json:"checks_missing"`
}

// CentralFigures are the central quarantine group's figures of an area on
// a day (at its end, or now when the day is today).
type CentralFigures struct {
	Day           string        `json:"day"`
	AreaCode      string        `json:"area_code"`
	AreaName      string        `json:"area_name"`
	Persons       int           `json:"persons"`
	AdmittedToday int           `json:"admitted_today"`
	ReleasedToday int           `json:"released_today"`
	Sites         []SiteFigures `json:"sites"`
}

// SiteFigures is a site's occupancy in the figures.
type SiteFigures struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	Capacity  int    `json:"capacity"`
	Rooms     int    `json:"rooms"`
	Occupied  int    `json:"occupied"`
	FreeRooms int    `json:"free_rooms"`
}

// HomeFigures are the home quarantine group's figures of an area on a day.
type HomeFigures struct {
	Day           string `json:"day"`
	AreaCode      string `json:"area_code"`
	AreaName      string `json:"area_name"`
	Persons       int    `json:"persons"`
	StartedToday  int    `json:"started_today"`
	ReleasedToday int    `json:"released_today"`
	ChecksDone    int    `json:"checks_done"`
	ChecksMissed  int    `json:"checks_missed"`
	TestsDue      int    `json:"tests_due"`
	TestsDone     int    `json:"tests_done"`
}

// RevealInput asks for an outsider's full ID number and phone.
type RevealInput struct {
	Reason string `json:"reason"`
}

// Revealed is a person's full ID number and phone.
type Revealed struct {
	PersonID int64  `json:"person_id"`
	IDNumber string `json:"id_number"`
	Phone    string `json:"phone,omitempty"`
}

// formatDays writes test days as stored: "1,4,7".
func formatDays(days []int) string {
	parts := make([]string, len(days))
	for i, d := range days {
		parts[i] = strconv.Itoa(d)
	}
	return strings.Join(parts, ",")
}

// parseDays reads stored test days.
func parseDays(s string) []int {
	var out []int
	for _, p := range strings.Split(s, ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(p)); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// TempText is the check's temperature as shown, "" when none.
func (c Check) TempText() string {
	if c.Temperature == nil {
		return ""
	}
	return strconv.FormatFloat(*c.Temperature, 'f', 1, 64)
}
