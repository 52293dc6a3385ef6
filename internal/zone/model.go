// Package zone is the zones part of design.md's `zone` module: sealed
// (封控区), controlled (管控区) and guarded (防范区) zones over an area, an
// estate of a community or a building of an estate; the proposals to seal
// a building a positive single tube makes; exit permits (外出许可) for
// residents of sealed zones; the snapshot estate gates check resident
// codes against (两码查验, internal/zonerule); the public list.
//
// From the seed: 大园社区 was "最先隔离封控的高风险区域之一". A zone is a
// decision with a time, a reason and a decision number (决定文号): sealed,
// then lowered, then lifted. Raising or lowering ends the zone at T and
// starts one of the new level at T linked to it, so the history of a
// place is a chain of decisions; what was in force at any moment is a
// question the list answers. A zone lifts by itself only at a planned end
// the HQ set.
package zone

import (
	"strings"
	"time"

	"tongxin/internal/errs"
	"tongxin/internal/zonerule"
)

// Kind is what a zone covers.
type Kind string

const (
	OverArea     Kind = "area"     // an area: district, street or community
	OverEstate   Kind = "estate"   // an estate (小区) of a community
	OverBuilding Kind = "building" // a building (楼栋) of an estate
)

// End is how a zone stopped being in force before its planned end.
type End string

const (
	EndNone    End = ""
	EndLifted  End = "lifted"  // 解除
	EndChanged End = "changed" // raised or lowered: a new zone follows
)

// Zone is a decision over a target, as the API answers it.
type Zone struct {
	ID            int64          `json:"id"`
	Level         zonerule.Level `json:"level"`
	LevelName     string         `json:"level_name"`
	Kind          Kind           `json:"kind"`
	AreaCode      string         `json:"area_code"`
	AreaName      string         `json:"area_name"`
	AreaPath      string         `json:"-"`
	Estate        string         `json:"estate,omitempty"`
	Building      string         `json:"building,omitempty"`
	Target        string         `json:"target"` // what, in words: the area, or the estate and building
	EffectiveFrom time.Time      `json:"effective_from"`
	PlannedEnd    *time.Time     `json:"planned_end,omitempty"`
	EndedAt       *time.Time     `json:"ended_at,omitempty"`
	EndKind       End            `json:"end_kind,omitempty"`
	InForce       bool           `json:"in_force"` // at the moment the answer is for
	Status        string         `json:"status"`   // then: in_force, future, lifted, changed or ended (its planned end passed)
	Reason        string         `json:"reason"`
	DecisionNo    string         `json:"decision_no"`
	DecidedBy     string         `json:"decided_by"`
	DecidedAt     time.Time      `json:"decided_at"`
	LiftReason    string         `json:"lift_reason,omitempty"`
	LiftDecision  string         `json:"lift_decision_no,omitempty"`
	LiftedBy      string         `json:"lifted_by,omitempty"`
	PreviousID    *int64         `json:"previous_id,omitempty"`
	NextID        *int64         `json:"next_id,omitempty"`
	Buildings     []Building     `json:"buildings,omitempty"` // an estate or building zone's buildings
	Seq           int64          `json:"seq"`
	// History is the chain of decisions over the target this zone belongs
	// to, oldest first (GET /api/v1/zones/{id} only).
	History []Zone `json:"history,omitempty"`
}

// Building is a building of the register: its name and the key resident
// codes carry.
type Building struct {
	Name string `json:"name"`
	Key  string `json:"key"`
}

// Estate is an estate of a community with its buildings.
type Estate struct {
	Name      string
	Buildings []Building
}

// Until is when the zone stops being in force, nil while open-ended: the
// earlier of its planned end and its end.
func (z *Zone) Until() *time.Time {
	switch {
	case z.EndedAt == nil:
		return z.PlannedEnd
	case z.PlannedEnd == nil || z.EndedAt.Before(*z.PlannedEnd):
		return z.EndedAt
	}
	return z.PlannedEnd
}

// InForceAt reports whether z is in force at t.
func (z *Zone) InForceAt(t time.Time) bool {
	u := z.Until()
	return !t.Before(z.EffectiveFrom) && (u == nil || t.Before(*u))
}

// statusAt is z's status at t.
func (z *Zone) statusAt(t time.Time) string {
	switch {
	case z.InForceAt(t):
		return "in_force"
	case t.Before(z.EffectiveFrom) && (z.EndedAt == nil || z.EndedAt.After(z.EffectiveFrom)):
		return "future"
	case z.EndedAt != nil && (z.PlannedEnd == nil || !z.PlannedEnd.Before(*z.EndedAt)):
		return string(z.EndKind)
	}
	return "ended"
}

// Ended reports whether z no longer changes: lifted, changed, or past its
// planned end at now.
func (z *Zone) Ended(now time.Time) bool {
	return z.EndedAt != nil || (z.PlannedEnd != nil && !now.Before(*z.PlannedEnd))
}

// targetName is what a zone covers, in words.
func targetName(areaName, estate, building string) string {
	return strings.TrimSpace(strings.Join([]string{areaName, estate, building}, " "))
}

// Limits of texts, in characters.
const (
	MaxReasonLen   = 300
	MaxDecisionLen = 60
	MaxNameLen     = 60
	// MaxPermitLength is the longest window of an exit permit.
	MaxPermitLength = 72 * time.Hour
)

// ZoneInput decides a new zone. Estate and Building narrow it: an estate
// of the community AreaCode, a building of that estate. EffectiveFrom
// zero is now; PlannedEnd nil is open-ended (until lifted).
type ZoneInput struct {
	Level         zonerule.Level `json:"level"`
	AreaCode      string         `json:"area_code"`
	Estate        string         `json:"estate"`
	Building      string         `json:"building"`
	EffectiveFrom time.Time      `json:"effective_from"`
	PlannedEnd    *time.Time     `json:"planned_end"`
	Reason        string         `json:"reason"`
	DecisionNo    string         `json:"decision_no"`
}

// ChangeInput raises or lowers a zone at At (nil: now): the zone ends
// there and one of Level starts, with its own planned end.
type ChangeInput struct {
	Level      zonerule.Level `json:"level"`
	At         *time.Time     `json:"at"`
	PlannedEnd *time.Time     `json:"planned_end"`
	Reason     string         `json:"reason"`
	DecisionNo string         `json:"decision_no"`
}

// LiftInput lifts a zone at At (nil: now).
type LiftInput struct {
	At         *time.Time `json:"at"`
	Reason     string     `json:"reason"`
	DecisionNo string     `json:"decision_no"`
}

// decision checks a reason and a decision number.
func decision(reason, number string) []errs.FieldError {
	var fe []errs.FieldError
	if m := errs.CheckText(reason, MaxReasonLen, true); m != "" {
		fe = append(fe, errs.FieldError{Field: "reason", Message: m})
	}
	if m := errs.CheckLine(number, MaxDecisionLen, true); m != "" {
		fe = append(fe, errs.FieldError{Field: "decision_no", Message: m})
	}
	return fe
}

func (in *ZoneInput) validate() []errs.FieldError {
	in.AreaCode, in.Estate, in.Building = strings.TrimSpace(in.AreaCode), strings.TrimSpace(in.Estate), strings.TrimSpace(in.Building)
	in.Reason, in.DecisionNo = strings.TrimSpace(in.Reason), strings.TrimSpace(in.DecisionNo)
	var fe []errs.FieldError
	if !in.Level.Valid() {
		fe = append(fe, errs.FieldError{Field: "level", Message: "级别须为 sealed（封控区）、controlled（管控区）或 guarded（防范区）"})
	}
	if in.AreaCode == "" {
		fe = append(fe, errs.FieldError{Field: "area_code", Message: "必填"})
	}
	if in.Building != "" && in.Estate == "" {
		fe = append(fe, errs.FieldError{Field: "estate", Message: "指定楼栋时须同时指定小区"})
	}
	for _, f := range []struct{ name, v string }{{"estate", in.Estate}, {"building", in.Building}} {
		if m := errs.CheckLine(f.v, MaxNameLen, false); m != "" {
			fe = append(fe, errs.FieldError{Field: f.name, Message: m})
		}
	}
	if in.PlannedEnd != nil && !in.EffectiveFrom.IsZero() && !in.PlannedEnd.After(in.EffectiveFrom) {
		fe = append(fe, errs.FieldError{Field: "planned_end", Message: "计划结束时间须晚于生效时间"})
	}
	return append(fe, decision(in.Reason, in.DecisionNo)...)
}

func (in *ChangeInput) validate() []errs.FieldError {
	in.Reason, in.DecisionNo = strings.TrimSpace(in.Reason), strings.TrimSpace(in.DecisionNo)
	var fe []errs.FieldError
	if !in.Level.Valid() {
		fe = append(fe, errs.FieldError{Field: "level", Message: "级别须为 sealed（封控区）、controlled（管控区）或 guarded（防范区）"})
	}
	return append(fe, decision(in.Reason, in.DecisionNo)...)
}

func (in *LiftInput) validate() []errs.FieldError {
	in.Reason, in.DecisionNo = strings.TrimSpace(in.Reason), strings.TrimSpace(in.DecisionNo)
	return decision(in.Reason, in.DecisionNo)
}

// ProposalStatus is where a proposal stands.
type ProposalStatus string

const (
	Pending   ProposalStatus = "pending"
	Confirmed ProposalStatus = "confirmed"
	Declined  ProposalStatus = "declined"
)

// ProposalStatusNames are the statuses in Chinese.
var ProposalStatusNames = map[ProposalStatus]string{Pending: "待确认", Confirmed: "已确认封控", Declined: "未采纳"}

// SealProposal is what the testing module proposes when a single tube
// comes back positive: the resident's building (never their name or ID
// number) and the cause.
type SealProposal struct {
	Community   string // the community's code
	Estate      string
	Building    string
	BuildingKey string
	Tube        string // the positive tube's barcode
	Round       int64
}

// Proposal is a proposal to seal a building.
type Proposal struct {
	ID            int64          `json:"id"`
	CommunityCode string         `json:"community_code"`
	CommunityName string         `json:"community_name"`
	AreaPath      string         `json:"-"`
	Estate        string         `json:"estate"`
	Building      string         `json:"building"`
	BuildingKey   string         `json:"-"`
	Tube          string         `json:"tube"`
	RoundID       int64          `json:"round_id"`
	Cases         int            `json:"cases"`
	Status        ProposalStatus `json:"status"`
	StatusName    string         `json:"status_name"`
	ZoneID        *int64         `json:"zone_id,omitempty"`
	DeclineReason string         `json:"decline_reason,omitempty"`
	DecidedBy     string         `json:"decided_by,omitempty"`
	DecidedAt     *time.Time     `json:"decided_at,omitempty"`
	CreatedAt     time.Time      `json:"created_at"`
}

// ConfirmInput confirms a proposal: the sealed building zone's start (nil:
// now), planned end, reason (empty: the proposal's cause) and decision
// number.
type ConfirmInput struct {
	EffectiveFrom *time.Time `json:"effective_from"`
	PlannedEnd    *time.Time `json:"planned_end"`
	Reason        string     `json:"reason"`
	DecisionNo    string     `json:"decision_no"`
}

// DeclineInput declines a proposal with a reason.
type DeclineInput struct {
	Reason string `json:"reason"`
}

// Permit is an exit permit (外出许可) as the community's list shows it:
// the resident by masked name and the register's place, never the ID
// number.
type Permit struct {
	ID            int64      `json:"id"`
	ResidentID    int64      `json:"resident_id"`
	Name          string     `json:"name"` // masked
	CommunityCode string     `json:"community_code"`
	CommunityName string     `json:"community_name"`
	AreaPath      string     `json:"-"`
	Estate        string     `json:"estate"`
	Building      string     `json:"building"`
	Reason        string     `json:"reason"`
	ValidFrom     time.Time  `json:"valid_from"`
	ValidTo       time.Time  `json:"valid_to"`
	IssuedBy      string     `json:"issued_by"`
	IssuedAt      time.Time  `json:"issued_at"`
	CancelledAt   *time.Time `json:"cancelled_at,omitempty"`
	CancelledBy   string     `json:"cancelled_by,omitempty"`
	CancelReason  string     `json:"cancel_reason,omitempty"`
	Active        bool       `json:"active"` // not cancelled and not over at the answer's moment
	Seq           int64      `json:"seq"`
}

// PermitInput issues a permit to the resident named by the register: the
// resident's id, their code's pseudonymous id, or a scanned resident code.
type PermitInput struct {
	Resident  string    `json:"resident"`
	Reason    string    `json:"reason"`
	ValidFrom time.Time `json:"valid_from"`
	ValidTo   time.Time `json:"valid_to"`
}

func (in *PermitInput) validate() []errs.FieldError {
	in.Resident, in.Reason = strings.TrimSpace(in.Resident), strings.TrimSpace(in.Reason)
	var fe []errs.FieldError
	if in.Resident == "" {
		fe = append(fe, errs.FieldError{Field: "resident", Message: "请填写居民编号或扫描居民码"})
	}
	if m := errs.CheckText(in.Reason, MaxReasonLen, true); m != "" {
		fe = append(fe, errs.FieldError{Field: "reason", Message: m})
	}
	switch {
	case in.ValidFrom.IsZero() || in.ValidTo.IsZero():
		fe = append(fe, errs.FieldError{Field: "valid_from", Message: "请填写许可的开始和结束时间"})
	case !in.ValidTo.After(in.ValidFrom):
		fe = append(fe, errs.FieldError{Field: "valid_to", Message: "结束时间须晚于开始时间"})
	case in.ValidTo.Sub(in.ValidFrom) > MaxPermitLength:
		fe = append(fe, errs.FieldError{Field: "valid_to", Message: "一次外出许可最长 72 小时"})
	}
	return fe
}

// CancelInput cancels a permit.
type CancelInput struct {
	Reason string `json:"reason"`
}

// Resident is a resident of the register as a permit needs them: the
// register's id, the pseudonymous id of their code, the masked name and
// where they live.
type Resident struct {
	ID            int64
	RID           string
	NameMasked    string
	CommunityCode string
	AreaPath      string
	Estate        string
	Building      string
	BuildingKey   string
}

// PublicZone is a zone on the public list: its level, what it covers and
// since when; no decider, no reason, no person.
type PublicZone struct {
	ID         int64          `json:"id"`
	Level      zonerule.Level `json:"level"`
	LevelName  string         `json:"level_name"`
	Target     string         `json:"target"`
	Since      time.Time      `json:"since"`
	PlannedEnd *time.Time     `json:"planned_end,omitempty"`
}

// PublicDistrict is a district's zones in force, strictest first.
type PublicDistrict struct {
	Code  string       `json:"code"`
	Name  string       `json:"name"`
	Zones []PublicZone `json:"zones"`
}

// PublicList is the public zone list at a moment.
type PublicList struct {
	At        time.Time        `json:"at"`
	Districts []PublicDistrict `json:"districts"`
}

// Figures are the zones' figures for the daily report of an area on a
// day: zones in force at the day's end (or now, today) by level, the
// buildings and communities they cover, the decisions of the day and the
// proposals waiting.
type Figures struct {
	Day         string         `json:"day"`
	AreaCode    string         `json:"area_code"`
	AreaName    string         `json:"area_name"`
	At          time.Time      `json:"at"`
	InForce     map[string]int `json:"in_force"`    // by level
	Buildings   map[string]int `json:"buildings"`   // buildings of estate and building zones, by level
	Communities map[string]int `json:"communities"` // communities of area zones, by level
	Decided     int            `json:"decided"`     // zones started that day (new or changed)
	Lifted      int            `json:"lifted"`      // zones lifted that day
	Pending     int            `json:"pending_proposals"`
	Permits     int            `json:"permits_active"` // exit permits in force at At
}
