package masstest

import (
	"strings"
	"time"

	"tongxin/internal/errs"
)

// SampleInput is one sample as a collector's device sends it. The resident
// is named by the pseudonymous id of their resident code (Resident), the
// whole scanned code (ResidentCode, verified here), or the ID number
// (IDNumber, found by its blind index).
type SampleInput struct {
	ClientID     string     `json:"client_id"`
	Resident     string     `json:"resident,omitempty"`
	ResidentCode string     `json:"resident_code,omitempty"`
	IDNumber     string     `json:"id_number,omitempty"`
	Tube         string     `json:"tube"`
	PoolSize     int        `json:"pool_size"`
	Mode         SampleMode `json:"mode"`
	SiteID       int64      `json:"site_id,omitempty"`
	SampledAt    time.Time  `json:"sampled_at"`
	// RetestID names the retest this sample answers (a single tube; it
	// does not count in the round's coverage).
	RetestID int64 `json:"retest_id,omitempty"`
}

// Sample is a stored sample.
type Sample struct {
	ID          int64      `json:"id"`
	RoundID     int64      `json:"round_id"`
	ResidentID  int64      `json:"resident_id"`
	Resident    string     `json:"resident"`
	Name        string     `json:"name"`
	HouseholdID int64      `json:"household_id"`
	Tube        string     `json:"tube"`
	PoolSize    int        `json:"pool_size"`
	Mode        SampleMode `json:"mode"`
	SiteID      *int64     `json:"site_id"`
	Collector   string     `json:"collector"`
	ClientID    string     `json:"client_id"`
	SampledAt   time.Time  `json:"sampled_at"`
	ReceivedAt  time.Time  `json:"received_at"`
	RetestID    *int64     `json:"retest_id"`
}

// Outcome of one sample record.
const (
	Created = "created" // stored now, or stored before under the same client id
	Repeat  = "repeat"  // the resident was already sampled in this round: Sample is the first
	Refused = "error"   // nothing stored: Code and Message say why
)

// SampleResult answers one sample record.
type SampleResult struct {
	Status  string  `json:"status"`
	Code    string  `json:"code,omitempty"`
	Message string  `json:"message,omitempty"`
	Sample  *Sample `json:"sample,omitempty"`
}

// MaxSampleBatch bounds the records of one request.
const MaxSampleBatch = 1000

// Limits of a sample's fields.
const (
	MaxClientIDLen = 64
	MaxTubeLen     = 40
	// MaxSampleSkew is how far in the future a device's clock may put a
	// sample.
	MaxSampleSkew = 5 * time.Minute
)

func refused(code, msg string) SampleResult {
	return SampleResult{Status: Refused, Code: code, Message: msg}
}

// validate checks the fields that need no lookup; the answer is empty
// when they are fine.
func (in *SampleInput) validate(now time.Time) (SampleResult, bool) {
	in.ClientID, in.Tube = strings.TrimSpace(in.ClientID), strings.TrimSpace(in.Tube)
	in.Resident, in.IDNumber = strings.TrimSpace(in.Resident), strings.TrimSpace(in.IDNumber)
	switch {
	case in.ClientID == "" || len(in.ClientID) > MaxClientIDLen || errs.CheckLine(in.ClientID, MaxClientIDLen, true) != "":
		return refused("invalid_client_id", "client_id 须为 1 到 64 个字符"), false
	case in.Resident == "" && strings.TrimSpace(in.ResidentCode) == "" && in.IDNumber == "":
		return refused("resident_required", "请扫描居民码或填写身份证号"), false
	case !validTube(in.Tube):
		return refused("invalid_tube", "管码须为 1 到 40 位字母、数字或 -"), false
	case !validPool(in.PoolSize):
		return refused("invalid_pool_size", "混采人数须为 1、5、10 或 20"), false
	case in.RetestID != 0 && in.PoolSize != 1:
		return refused("retest_single_tube", "复检须单管单采"), false
	case in.Mode != AtSite && in.Mode != AtDoor:
		return refused("invalid_mode", "采样方式须为 site 或 door"), false
	case in.Mode == AtDoor && in.SiteID != 0:
		return refused("invalid_mode", "上门采样不属于采样点"), false
	case in.SampledAt.IsZero():
		in.SampledAt = now
	case in.SampledAt.After(now.Add(MaxSampleSkew)):
		return refused("sampled_in_future", "采样时间晚于当前时间，请校准设备时钟"), false
	}
	in.SampledAt = in.SampledAt.UTC().Truncate(time.Millisecond)
	return SampleResult{}, true
}

func validTube(s string) bool {
	if s == "" || len(s) > MaxTubeLen {
		return false
	}
	for _, c := range []byte(s) {
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || c == '-') {
			return false
		}
	}
	return true
}

func validPool(n int) bool {
	for _, p := range PoolSizes {
		if n == p {
			return true
		}
	}
	return false
}

// ExemptionInput exempts a resident from a round.
type ExemptionInput struct {
	Resident string       `json:"resident,omitempty"`
	IDNumber string       `json:"id_number,omitempty"`
	Reason   ExemptReason `json:"reason"`
	Note     string       `json:"note"`
}

// MaxNoteLen bounds an exemption's note.
const MaxNoteLen = 200

// Exemption is a resident a round does not sample, and why.
type Exemption struct {
	RoundID    int64        `json:"round_id"`
	ResidentID int64        `json:"resident_id"`
	Resident   string       `json:"resident"`
	Name       string       `json:"name"`
	Address    Address      `json:"address"`
	Reason     ExemptReason `json:"reason"`
	ReasonName string       `json:"reason_name"`
	Note       string       `json:"note"`
	CreatedAt  time.Time    `json:"created_at"`
	CreatedBy  string       `json:"created_by"`
}

// Address is where a household is.
type Address struct {
	CommunityCode string `json:"community_code"`
	CommunityName string `json:"community_name"`
	Estate        string `json:"estate"`
	Building      string `json:"building"`
	Unit          string `json:"unit"`
	Room          string `json:"room"`
}
