// Package masstest is the module design.md calls testing (the name is
// the standard library's): mass testing (全员核酸), the household register
// of each community, campaigns and their numbered rounds, sampling sites
// and teams, samples in pooled tubes, exemptions, coverage and the missed
// list, lab results and retests.
//
// From the seed: 大园社区 tested door to door — "一层楼一层楼往上爬，一户
// 一户地敲门" — fifteen rounds, "不漏一户、不漏一人、不漏一处". After a round
// a community must know, building by building, who has not been sampled
// and why, and a positive pooled tube must turn at once into the list of
// people to retest.
//
// Coverage is kept per round and building (testing_tally) in the
// transaction of every sample and exemption, so that a district of half
// a million households is a sum of some thousands of rows; the register's
// changes rebuild the tallies of the open rounds they touch.
package masstest

import (
	"time"
)

// Status is where a resident is.
type Status string

const (
	Present      Status = "present"
	Away         Status = "away"
	Hospitalized Status = "hospitalized"
	Deceased     Status = "deceased"
	MovedOut     Status = "moved_out"
)

// StatusNames are the statuses in Chinese.
var StatusNames = map[Status]string{Present: "在住", Away: "外出", Hospitalized: "住院", Deceased: "已故", MovedOut: "已迁出"}

// InPopulation reports whether a resident of this status is one a round
// must sample or exempt: everyone registered but the dead and those who
// moved out.
func (s Status) InPopulation() bool { return s != Deceased && s != MovedOut }

// Flags mark residents a door-to-door team must visit.
type Flags struct {
	MobilityImpaired bool `json:"mobility_impaired"`
	ElderlyAlone     bool `json:"elderly_alone"`
	Bedridden        bool `json:"bedridden"`
	Infant           bool `json:"infant"`
}

// Any reports whether a flag is set: the resident is sampled at home.
func (f Flags) Any() bool { return f.MobilityImpaired || f.ElderlyAlone || f.Bedridden || f.Infant }

// Household is a room of an estate, with its residents.
type Household struct {
	ID            int64      `json:"id"`
	Code          string     `json:"code"`
	CommunityCode string     `json:"community_code"`
	CommunityName string     `json:"community_name"`
	Estate        string     `json:"estate"`
	Building      string     `json:"building"`
	Unit          string     `json:"unit"`
	Room          string     `json:"room"`
	Members       int        `json:"members"`
	Residents     []Resident `json:"residents,omitempty"`
}

// Resident is a person of a household, their ID number and phone masked.
type Resident struct {
	ID          int64  `json:"id"`
	Code        string `json:"code"`
	HouseholdID int64  `json:"household_id"`
	Name        string `json:"name"`
	IDNumber    string `json:"id_number"`
	Phone       string `json:"phone,omitempty"`
	BirthYear   int    `json:"birth_year"`
	Flags
	Status     Status `json:"status"`
	StatusName string `json:"status_name"`
	StatusDate string `json:"status_date,omitempty"`
}

// Mode is how a round samples: at sites, door to door, or both.
type Mode string

const (
	ModeSites Mode = "sites"
	ModeDoor  Mode = "door"
	ModeBoth  Mode = "both"
)

// ModeNames are the modes in Chinese.
var ModeNames = map[Mode]string{ModeSites: "采样点", ModeDoor: "上门", ModeBoth: "采样点和上门"}

// Campaign tests every resident of an area in rounds.
type Campaign struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	AreaCode  string    `json:"area_code"`
	AreaName  string    `json:"area_name"`
	AreaPath  string    `json:"-"`
	Rounds    []Round   `json:"rounds"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by"`
}

// Round is one pass of a campaign over some areas.
type Round struct {
	ID         int64      `json:"id"`
	CampaignID int64      `json:"campaign_id"`
	Campaign   string     `json:"campaign"`
	Number     int        `json:"number"`
	StartsAt   time.Time  `json:"starts_at"`
	EndsAt     time.Time  `json:"ends_at"`
	Mode       Mode       `json:"mode"`
	ModeName   string     `json:"mode_name"`
	Areas      []AreaRef  `json:"areas"`
	ClosedAt   *time.Time `json:"closed_at,omitempty"`
	Open       bool       `json:"open"`
	CreatedAt  time.Time  `json:"created_at"`
	CreatedBy  string     `json:"created_by"`
}

// AreaRef names an area.
type AreaRef struct {
	Code string `json:"code"`
	Name string `json:"name"`
	Path string `json:"-"`
}

// OpenAt reports whether the round takes samples made at t: not closed,
// and t within its window.
func (r *Round) OpenAt(t time.Time) bool {
	return r.ClosedAt == nil && !t.Before(r.StartsAt) && t.Before(r.EndsAt)
}

// Site is a sampling site of a campaign.
type Site struct {
	ID         int64  `json:"id"`
	CampaignID int64  `json:"campaign_id"`
	Name       string `json:"name"`
	Place      string `json:"place"`
	AreaCode   string `json:"area_code"`
	AreaName   string `json:"area_name"`
	Hours      string `json:"hours"`
}

// MemberKind is what a team member is.
type MemberKind string

const (
	MemberCommunityWorker MemberKind = "community_worker"
	MemberVolunteer       MemberKind = "volunteer"
	MemberMedical         MemberKind = "medical"
)

// Team is a team of collectors over an area.
type Team struct {
	ID         int64        `json:"id"`
	CampaignID int64        `json:"campaign_id"`
	Name       string       `json:"name"`
	AreaCode   string       `json:"area_code"`
	AreaName   string       `json:"area_name"`
	Members    []TeamMember `json:"members"`
}

// TeamMember is a collector's account in a team.
type TeamMember struct {
	Username    string     `json:"username"`
	DisplayName string     `json:"display_name"`
	Kind        MemberKind `json:"kind"`
}

// ExemptReason is why a round does not sample a resident.
type ExemptReason string

const (
	ExemptAway         ExemptReason = "away"
	ExemptHospitalized ExemptReason = "hospitalized"
	ExemptInfant       ExemptReason = "infant"
	ExemptDeceased     ExemptReason = "deceased"
)

// ExemptReasons lists the reasons in the order coverage shows them.
var ExemptReasons = []ExemptReason{ExemptAway, ExemptHospitalized, ExemptInfant, ExemptDeceased}

// ExemptReasonNames are the reasons in Chinese.
var ExemptReasonNames = map[ExemptReason]string{ExemptAway: "外出", ExemptHospitalized: "住院", ExemptInfant: "婴幼儿",
	ExemptDeceased: "已故"}

// InfantAgeLimit is the age under which a resident may be exempt as an
// infant (years, by birth year).
const InfantAgeLimit = 3

// PoolSizes are the sizes of tube a sample may go into (1 is a single
// tube, 10 is 10混1).
var PoolSizes = []int{1, 5, 10, 20}

// SampleMode is where one sample was taken.
type SampleMode string

const (
	AtSite SampleMode = "site"
	AtDoor SampleMode = "door"
)

// Result is a tube's lab result.
type Result string

const (
	Negative Result = "negative"
	Positive Result = "positive"
	Invalid  Result = "invalid"
)

// ResultNames are the results in Chinese.
var ResultNames = map[Result]string{Negative: "阴性", Positive: "阳性", Invalid: "无效"}
