// Package checkpoint is the checkpoints (卡口) of the headquarters: the
// registry of control points on bridges, roads, community and park gates,
// their duty rosters, the scans of signed passes (online, and uploaded
// later by phones that scanned offline), the transfer points (物资接驳点)
// where goods change vehicles, and traffic control (交通管制): measures
// closing or restricting roads and bridges, and the public notices (通告)
// that announce and lift them.
package checkpoint

import (
	"fmt"
	"math"
	"strings"
	"time"

	"tongxin/internal/errs"
	"tongxin/internal/passtoken"
)

// Kind is what a checkpoint stands on.
type Kind string

const (
	Bridge        Kind = "bridge"         // 桥梁卡口
	Road          Kind = "road"           // 道路卡口
	Community     Kind = "community"      // 小区/社区出入口
	ParkGate      Kind = "park_gate"      // 园区门岗
	TransferPoint Kind = "transfer_point" // 物资接驳点
	EstateGate    Kind = "estate_gate"    // 小区门岗（两码查验）: resident codes against the zones too (model_gate.go)
)

// Kinds lists the kinds in display order.
var Kinds = []Kind{Bridge, Road, Community, ParkGate, TransferPoint, EstateGate}

// KindNames are the Chinese names of the kinds.
var KindNames = map[Kind]string{Bridge: "桥梁卡口", Road: "道路卡口", Community: "社区卡口", ParkGate: "园区门岗",
	TransferPoint: "物资接驳点", EstateGate: "小区门岗"}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { _, ok := KindNames[k]; return ok }

// Verdict is what a scan answers at the checkpoint.
type Verdict string

const (
	Allow Verdict = "allow"
	Deny  Verdict = "deny"
)

// VerdictOf is the verdict of a reason: allow for ok only.
func VerdictOf(r passtoken.Reason) Verdict {
	if r == passtoken.OK {
		return Allow
	}
	return Deny
}

// Reasons lists the scan reasons in display order.
var Reasons = []passtoken.Reason{passtoken.OK, passtoken.Malformed, passtoken.BadSignature, passtoken.UnknownKey, passtoken.NotYetValid,
	passtoken.Expired, passtoken.Revoked, passtoken.AreaNotAllowed, passtoken.CheckpointNotAllowed, passtoken.ZoneSealed, passtoken.ZoneControlled}

// Checkpoint is a control point as the API answers it.
type Checkpoint struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	Kind     Kind   `json:"kind"`
	KindName string `json:"kind_name"`
	Place    string `json:"place"`
	AreaCode string `json:"area_code"`
	AreaName string `json:"area_name"`
	AreaPath string `json:"-"`
	// Estate is the estate (小区) of the area, a community, whose gate an
	// estate gate is; "" for the other kinds.
	Estate    string    `json:"estate,omitempty"`
	Open      bool      `json:"open"`
	Lat       *float64  `json:"lat,omitempty"`
	Lng       *float64  `json:"lng,omitempty"`
	Version   int       `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by"`
	UpdatedAt time.Time `json:"updated_at"`
	// OnDuty is the roster's shifts running now (lists and detail).
	OnDuty []Shift `json:"on_duty"`
	// buildings are the keys of the estate's buildings (an estate gate
	// read for scans; see Service.cached).
	buildings []string
}

// Ref is the checkpoint's id as scopes ("checkpoint:12") and pass tokens
// ("cp") write it.
func (c *Checkpoint) Ref() string { return fmt.Sprint(c.ID) }

// CheckpointInput is a checkpoint as registered or updated.
type CheckpointInput struct {
	Name     string   `json:"name"`
	Kind     Kind     `json:"kind"`
	Place    string   `json:"place"`
	AreaCode string   `json:"area_code"`
	Estate   string   `json:"estate,omitempty"` // an estate gate's estate, of the community AreaCode
	Open     *bool    `json:"open"`
	Lat      *float64 `json:"lat"`
	Lng      *float64 `json:"lng"`
	// Version, when set on an update, must be the stored version.
	Version int `json:"version,omitempty"`
}

// Limits of the texts, in characters, and of the lists.
const (
	MaxNameLen        = 50
	MaxPlaceLen       = 200
	MaxPostLen        = 30
	MaxGoodsLen       = 50
	MaxUnitLen        = 10
	MaxTargetLen      = 100
	MaxDescriptionLen = 1000
	MaxNumberLen      = 50
	MaxTitleLen       = 200
	MaxBodyLen        = 10000
	MaxShifts         = 200
	MaxBatchScans     = 1000
	MaxClientIDLen    = 64
	// ClockSkew is how far in the future a device's clock may run before its
	// times are refused.
	ClockSkew = 5 * time.Minute
	// DefaultOfflineMaxAge is how old an offline scan may be when it is
	// uploaded (serve --offline-scan-max-age).
	DefaultOfflineMaxAge = 72 * time.Hour
)

// validate checks everything of in that needs no database and returns the
// problems by field. The area is resolved by the service.
func (in *CheckpointInput) validate() []errs.FieldError {
	var fe []errs.FieldError
	add := func(field, msg string) { fe = append(fe, errs.FieldError{Field: field, Message: msg}) }
	in.Name, in.Place, in.AreaCode = strings.TrimSpace(in.Name), strings.TrimSpace(in.Place), strings.TrimSpace(in.AreaCode)
	in.Estate = strings.TrimSpace(in.Estate)
	if msg := errs.CheckText(in.Name, MaxNameLen, true); msg != "" {
		add("name", msg)
	}
	if !in.Kind.Valid() {
		add("kind", "类型须为 bridge（桥梁）、road（道路）、community（社区）、park_gate（园区门岗）、transfer_point（物资接驳点）或 estate_gate（小区门岗）")
	}
	if msg := estateProblem(in.Kind, in.Estate); msg != "" {
		add("estate", msg)
	}
	if msg := errs.CheckText(in.Place, MaxPlaceLen, false); msg != "" {
		add("place", msg)
	}
	if in.AreaCode == "" {
		add("area_code", "请填写所在区划编码")
	}
	if (in.Lat == nil) != (in.Lng == nil) {
		add("lat", "经纬度须同时填写或同时不填")
	}
	if in.Lat != nil && (math.IsNaN(*in.Lat) || *in.Lat < -90 || *in.Lat > 90) {
		add("lat", "纬度须在 -90 与 90 之间")
	}
	if in.Lng != nil && (math.IsNaN(*in.Lng) || *in.Lng < -180 || *in.Lng > 180) {
		add("lng", "经度须在 -180 与 180 之间")
	}
	return fe
}

// Shift is one entry of a duty roster.
type Shift struct {
	ID       int64     `json:"id"`
	Name     string    `json:"name"`
	Username string    `json:"username,omitempty"`
	Post     string    `json:"post,omitempty"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
}

// ShiftInput is a shift as written in a roster.
type ShiftInput struct {
	Name     string    `json:"name"`
	Username string    `json:"username"`
	Post     string    `json:"post"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
}

// RosterInput replaces the shifts of a checkpoint that have not ended.
type RosterInput struct {
	Shifts []ShiftInput `json:"shifts"`
}

// PassInfo is what a scanned token said, masked as the token carries it.
type PassInfo struct {
	PID       string         `json:"pid"`
	Kind      passtoken.Kind `json:"kind"`
	Name      string         `json:"name"`
	ID4       string         `json:"id4,omitempty"`
	Plate     string         `json:"plate,omitempty"`
	Ent       string         `json:"ent"`
	EntName   string         `json:"ent_name,omitempty"` // as the token carries it (issued since 0011)
	ValidFrom time.Time      `json:"valid_from"`
	ValidTo   time.Time      `json:"valid_to"`

	json []byte // AppendJSON's bytes, once made (passInfoOf); the info is then shared, read only
	// PID as a statement's argument, made with json: an interface
	// holding a string is a copy on the heap, once here instead of for
	// every row (scanInsert).
	pidArg any
}

// passInfo is the part of verified claims a scan keeps; nil when the
// token's content cannot be trusted (it did not verify).
func passInfo(c *passtoken.Claims, r passtoken.Reason) *PassInfo {
	if !trusted(c, r) {
		return nil
	}
	return &PassInfo{PID: c.PID, Kind: c.Kind, Name: c.Name, ID4: c.ID4, Plate: c.Plate, Ent: c.Ent,
		EntName: c.EntName, ValidFrom: unixTime(c.NBF), ValidTo: unixTime(c.EXP)}
}

// trusted reports whether claims c that the verifier answered with
// reason r may be shown: they are, unless the token did not verify.
func trusted(c *passtoken.Claims, r passtoken.Reason) bool {
	return c != nil && r != passtoken.Malformed && r != passtoken.BadSignature && r != passtoken.UnknownKey
}

// maxUnix is 9999-12-31T23:59:59Z, the last time JSON can write.
const maxUnix = 253402300799

// unixTime is a token's Unix seconds as a time JSON can write: a signed
// token may carry any number, and an answer must never fail to encode.
func unixTime(sec int64) time.Time {
	return time.Unix(min(max(sec, 0), maxUnix), 0).UTC()
}

// ScanInput is one scan as a device sends it. ScannedAt is when the device
// read the code; an online scan without it is taken as received.
type ScanInput struct {
	Token string `json:"token"`
	// Number is the short pass number typed instead of the token (online
	// scans only; the server looks the token up).
	Number    string     `json:"number,omitempty"`
	ClientID  string     `json:"client_id"`
	ScannedAt *time.Time `json:"scanned_at"`
}

// BatchInput is the scans a device made offline.
type BatchInput struct {
	Scans []ScanInput `json:"scans"`
}

// Scan is a logged scan: the verdict and what the pass said.
type Scan struct {
	ID           int64            `json:"id,omitempty"` // 0 until the scan reaches the database (see journal.go)
	CheckpointID int64            `json:"checkpoint_id"`
	ClientID     string           `json:"client_id"`
	Shown        Shown            `json:"shown"`
	Verdict      Verdict          `json:"verdict"`
	Reason       passtoken.Reason `json:"reason"`
	ReasonName   string           `json:"reason_name"`
	Pass         *PassInfo        `json:"pass"`
	Resident     *ResidentInfo    `json:"resident,omitempty"` // what a resident code said (estate gates)
	ScannedAt    time.Time        `json:"scanned_at"`
	ReceivedAt   time.Time        `json:"received_at"`
	Officer      string           `json:"officer"`
	Offline      bool             `json:"offline"`
	// Replayed is true when the client id had been seen: the answer is the
	// stored one and no row was added.
	Replayed bool `json:"replayed,omitempty"`

	// encoded is the scan's JSON when the journal encoded it to remember
	// the answer (journal.add): the answer is written from it rather than
	// encoded twice. Nothing changes a journaled answer; a replay is a
	// copy without it.
	encoded []byte
	// residentJSON is Resident as the log keeps it (scanRow.passJSON),
	// written into the answer as it is rather than encoded again.
	residentJSON []byte
}

// BatchItem is the answer to one scan of a batch: the scan, or why it was
// not taken.
type BatchItem struct {
	ClientID string      `json:"client_id"`
	Scan     *Scan       `json:"scan,omitempty"`
	Error    *BatchError `json:"error,omitempty"`
}

// BatchError is a refused item of a batch.
type BatchError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// BatchResult answers a batch upload.
type BatchResult struct {
	Accepted int         `json:"accepted"` // new rows
	Replayed int         `json:"replayed"` // already logged
	Refused  int         `json:"refused"`  // items with an error
	Items    []BatchItem `json:"items"`
}

// clientIDProblem checks a device's scan id (8 to 64 of A–Z, a–z, 0–9,
// - and _); "" when it is fine. A loop rather than a regular expression:
// it runs for every scan, and the expression's matcher was a tenth of
// the scan handler's own time.
func clientIDProblem(id string) string {
	ok := len(id) >= 8 && len(id) <= 64
	for i := 0; ok && i < len(id); i++ {
		c := id[i]
		ok = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_'
	}
	if !ok {
		return "client_id 须为 8–64 位字母、数字、- 或 _（建议用 UUID）"
	}
	return ""
}

// Handover is goods passed at a transfer point.
type Handover struct {
	ID             int64     `json:"id"`
	CheckpointID   int64     `json:"checkpoint_id"`
	CheckpointName string    `json:"checkpoint_name"`
	Enterprise     string    `json:"enterprise"`
	EnterpriseName string    `json:"enterprise_name"`
	Goods          string    `json:"goods"`
	Quantity       float64   `json:"quantity"`
	Unit           string    `json:"unit"`
	OutsidePlate   string    `json:"outside_plate"`
	InsidePlate    string    `json:"inside_plate"`
	At             time.Time `json:"at"`
	RecordedBy     string    `json:"recorded_by"`
	RecordedAt     time.Time `json:"recorded_at"`
}

// HandoverInput is a handover as logged at the transfer point.
type HandoverInput struct {
	Enterprise   string     `json:"enterprise"`
	Goods        string     `json:"goods"`
	Quantity     float64    `json:"quantity"`
	Unit         string     `json:"unit"`
	OutsidePlate string     `json:"outside_plate"`
	InsidePlate  string     `json:"inside_plate"`
	At           *time.Time `json:"at"`
}

// MeasureKind is what a traffic-control measure does.
type MeasureKind string

const (
	Closure       MeasureKind = "closure"        // 封闭
	Restriction   MeasureKind = "restriction"    // 限行
	EmergencyLane MeasureKind = "emergency_lane" // 应急通道
)

// MeasureKinds lists the kinds in display order.
var MeasureKinds = []MeasureKind{Closure, Restriction, EmergencyLane}

// MeasureKindNames are the Chinese names of the measure kinds.
var MeasureKindNames = map[MeasureKind]string{Closure: "交通管制（封闭）", Restriction: "限行", EmergencyLane: "应急通道"}

// TargetKind is what a measure applies to.
type TargetKind string

const (
	TargetRoad   TargetKind = "road"
	TargetBridge TargetKind = "bridge"
	TargetArea   TargetKind = "area"
)

// TargetKindNames are the Chinese names of the target kinds.
var TargetKindNames = map[TargetKind]string{TargetRoad: "道路", TargetBridge: "桥梁", TargetArea: "区域"}

// MeasureStatus is where a measure stands. Whether it is in force at a
// moment follows from its status and its effective times (InForce).
type MeasureStatus string

const (
	MeasureActive    MeasureStatus = "active"    // announced; in force between its times
	MeasureLifted    MeasureStatus = "lifted"    // ended by a notice
	MeasureCancelled MeasureStatus = "cancelled" // withdrawn: never counts as in force
)

// Measure is a traffic-control measure.
type Measure struct {
	ID            int64         `json:"id"`
	Kind          MeasureKind   `json:"kind"`
	KindName      string        `json:"kind_name"`
	Target        string        `json:"target"`
	TargetKind    TargetKind    `json:"target_kind"`
	AreaCode      string        `json:"area_code"`
	AreaName      string        `json:"area_name"`
	AreaPath      string        `json:"-"`
	Description   string        `json:"description"`
	EffectiveFrom time.Time     `json:"effective_from"`
	EffectiveTo   *time.Time    `json:"effective_to"`
	Status        MeasureStatus `json:"status"`
	// InForce is whether the measure is in force at the moment asked about
	// (now, unless the request named one).
	InForce   bool        `json:"in_force"`
	Notices   []NoticeRef `json:"notices"`
	Version   int         `json:"version"`
	CreatedAt time.Time   `json:"created_at"`
	CreatedBy string      `json:"created_by"`
	UpdatedAt time.Time   `json:"updated_at"`
}

// InForce reports whether m is in force at t.
func (m *Measure) inForce(t time.Time) bool {
	if m.Status == MeasureCancelled || t.Before(m.EffectiveFrom) {
		return false
	}
	return m.EffectiveTo == nil || t.Before(*m.EffectiveTo)
}

// NoticeRef is a notice as a measure lists it.
type NoticeRef struct {
	ID          int64     `json:"id"`
	Number      string    `json:"number"`
	Action      string    `json:"action"` // start or lift
	PublishedAt time.Time `json:"published_at"`
}

// MeasureInput is a measure as created or updated.
type MeasureInput struct {
	Kind          MeasureKind   `json:"kind"`
	Target        string        `json:"target"`
	TargetKind    TargetKind    `json:"target_kind"`
	AreaCode      string        `json:"area_code"`
	Description   string        `json:"description"`
	EffectiveFrom time.Time     `json:"effective_from"`
	EffectiveTo   *time.Time    `json:"effective_to"`
	Status        MeasureStatus `json:"status"` // updates only: active or cancelled
	Version       int           `json:"version,omitempty"`
}

// validate checks what needs no database.
func (in *MeasureInput) validate() []errs.FieldError {
	var fe []errs.FieldError
	add := func(field, msg string) { fe = append(fe, errs.FieldError{Field: field, Message: msg}) }
	in.Target, in.AreaCode, in.Description = strings.TrimSpace(in.Target), strings.TrimSpace(in.AreaCode), strings.TrimSpace(in.Description)
	if _, ok := MeasureKindNames[in.Kind]; !ok {
		add("kind", "类型须为 closure（封闭）、restriction（限行）或 emergency_lane（应急通道）")
	}
	if msg := errs.CheckText(in.Target, MaxTargetLen, true); msg != "" {
		add("target", msg)
	}
	if in.TargetKind == "" {
		in.TargetKind = TargetRoad
	}
	if _, ok := TargetKindNames[in.TargetKind]; !ok {
		add("target_kind", "对象须为 road（道路）、bridge（桥梁）或 area（区域）")
	}
	if in.AreaCode == "" {
		add("area_code", "请填写区划编码")
	}
	if msg := errs.CheckText(in.Description, MaxDescriptionLen, false); msg != "" {
		add("description", msg)
	}
	if in.EffectiveFrom.IsZero() {
		add("effective_from", "请填写生效时间")
	}
	if in.EffectiveTo != nil && !in.EffectiveFrom.IsZero() && in.EffectiveTo.Before(in.EffectiveFrom) {
		add("effective_to", "结束时间不能早于生效时间")
	}
	switch in.Status {
	case "", MeasureActive, MeasureCancelled:
	default:
		add("status", "状态只能改为 active（有效）或 cancelled（撤销）；解除管制请发布通告")
	}
	return fe
}

// Notice is a public traffic-control notice (通告).
type Notice struct {
	ID          int64     `json:"id"`
	Number      string    `json:"number"`
	Title       string    `json:"title"`
	Body        string    `json:"body"`
	AreaCode    string    `json:"area_code"`
	AreaName    string    `json:"area_name"`
	AreaPath    string    `json:"-"`
	PublishedAt time.Time `json:"published_at"`
	Starts      []int64   `json:"starts"`
	Lifts       []int64   `json:"lifts"`
	CreatedAt   time.Time `json:"created_at"`
	CreatedBy   string    `json:"created_by"`
	// Measures are the measures the notice starts and lifts (detail only).
	Measures []Measure `json:"measures,omitempty"`
}

// NoticeInput is a notice as published.
type NoticeInput struct {
	Number      string     `json:"number"`
	Title       string     `json:"title"`
	Body        string     `json:"body"`
	AreaCode    string     `json:"area_code"`
	PublishedAt *time.Time `json:"published_at"`
	Starts      []int64    `json:"starts"`
	Lifts       []int64    `json:"lifts"`
}

// validate checks what needs no database.
func (in *NoticeInput) validate() []errs.FieldError {
	var fe []errs.FieldError
	add := func(field, msg string) { fe = append(fe, errs.FieldError{Field: field, Message: msg}) }
	in.Number, in.Title, in.Body, in.AreaCode = strings.TrimSpace(in.Number), strings.TrimSpace(in.Title), strings.TrimSpace(in.Body), strings.TrimSpace(in.AreaCode)
	if msg := errs.CheckText(in.Number, MaxNumberLen, true); msg != "" {
		add("number", msg)
	}
	if msg := errs.CheckText(in.Title, MaxTitleLen, true); msg != "" {
		add("title", msg)
	}
	if msg := errs.CheckText(in.Body, MaxBodyLen, true); msg != "" {
		add("body", msg)
	}
	seen := map[int64]string{}
	for _, l := range []struct {
		field string
		ids   []int64
	}{{"starts", in.Starts}, {"lifts", in.Lifts}} {
		for _, id := range l.ids {
			if prev, dup := seen[id]; dup {
				if prev == l.field {
					add(l.field, fmt.Sprintf("措施 %d 重复", id))
				} else {
					add(l.field, fmt.Sprintf("措施 %d 不能同时启动和解除", id))
				}
			}
			seen[id] = l.field
		}
	}
	if len(seen) > 100 {
		add("starts", "一份通告最多涉及 100 项措施")
	}
	return fe
}
