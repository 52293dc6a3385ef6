package pass

import (
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"strconv"
	"strings"
	"time"

	"tongxin/internal/clock"
	"tongxin/internal/importer"
	"tongxin/internal/passtoken"
)

// Status is the state of a pass. Expired is derived when the pass is read:
// an active pass whose valid_to has passed.
type Status string

const (
	StatusActive  Status = "active"
	StatusRevoked Status = "revoked"
	StatusExpired Status = "expired"
)

// Statuses lists the statuses a list may filter by.
var Statuses = []Status{StatusActive, StatusRevoked, StatusExpired}

// BatchStatus is the state of a batch.
type BatchStatus string

const (
	Submitted      BatchStatus = "submitted"
	Approved       BatchStatus = "approved"
	PartlyApproved BatchStatus = "partly_approved"
	Rejected       BatchStatus = "rejected"
)

// BatchStatuses lists every batch status.
var BatchStatuses = []BatchStatus{Submitted, Approved, PartlyApproved, Rejected}

// Decision is a reviewer's decision on one row of a batch.
type Decision string

const (
	Pending     Decision = "pending"
	RowApproved Decision = "approved"
	RowRejected Decision = "rejected"
)

// Limits of batches and passes.
const (
	// MaxValidityDays bounds valid_from … valid_to of one pass (both days
	// included): a lockdown pass is renewed, not issued for a season.
	MaxValidityDays = 90
	// MaxBatchRows bounds one upload.
	MaxBatchRows = 20000
	// MaxAreasPerPass bounds the areas of one row.
	MaxAreasPerPass = 10
	// MaxCheckpointsPerPass bounds the checkpoints of one row.
	MaxCheckpointsPerPass = 10
	// MaxNameLen bounds a holder's name (runes).
	MaxNameLen = 30
	// MaxReasonLen bounds a rejection or revocation reason (runes).
	MaxReasonLen = 200
	// DefaultListLimit and MaxListLimit page the lists.
	DefaultListLimit = 100
	MaxListLimit     = 1000
	// MaxRevocationPage bounds one page of the revocation list.
	MaxRevocationPage = 10000
)

// Pass is a pass as the API answers it. Personal data is masked; the plate
// is shown in full, as the token carries it for the checkpoint to compare.
type Pass struct {
	PID            string         `json:"pid"`
	Number         string         `json:"number,omitempty"` // the short number on the card (number.go); none before 0011
	Kind           passtoken.Kind `json:"kind"`
	EnterpriseKey  string         `json:"enterprise"`
	EnterpriseName string         `json:"enterprise_name"`
	Name           string         `json:"name"`
	IDNumber       string         `json:"id_number,omitempty"`
	Phone          string         `json:"phone,omitempty"`
	Plate          string         `json:"plate,omitempty"`
	Areas          []string       `json:"areas"`
	Checkpoints    []string       `json:"checkpoints,omitempty"`
	ValidFrom      time.Time      `json:"valid_from"`
	ValidTo        time.Time      `json:"valid_to"`
	Status         Status         `json:"status"`
	Kid            string         `json:"kid"`
	Token          string         `json:"token,omitempty"`
	BatchID        int64          `json:"batch_id,omitempty"`
	BatchRow       int            `json:"batch_row,omitempty"`
	IssuedAt       time.Time      `json:"issued_at"`
	IssuedBy       string         `json:"issued_by"`
	RevokedAt      *time.Time     `json:"revoked_at,omitempty"`
	RevokeReason   string         `json:"revoke_reason,omitempty"`
	RevokedBy      string         `json:"revoked_by,omitempty"`
	AreaPath       string         `json:"-"`
	ID4            string         `json:"-"`
	id             int64

	// TransferPoint is set on a vehicle pass limited to reaching a
	// transfer point (物资接驳点): its only checkpoint is one.
	TransferPoint *passtoken.CheckpointInfo `json:"transfer_point,omitempty"`
}

// NumberShown is the pass number as the card prints it.
func (p *Pass) NumberShown() string { return passtoken.FormatNumber(p.Number) }

// LastDay is the last day the pass is valid, in Shanghai (valid_to is the
// exclusive end).
func (p *Pass) LastDay() string { return lastDay(p.ValidTo) }

// FirstDay is the first day the pass is valid, in Shanghai.
func (p *Pass) FirstDay() string { return p.ValidFrom.In(clock.Shanghai).Format(DateLayout) }

// Batch is an uploaded list of passes applied for.
type Batch struct {
	ID             int64       `json:"id"`
	EnterpriseKey  string      `json:"enterprise"`
	EnterpriseName string      `json:"enterprise_name"`
	AreaCode       string      `json:"area_code"`
	AreaPath       string      `json:"-"`
	Status         BatchStatus `json:"status"`
	FileName       string      `json:"file_name,omitempty"`
	RowCount       int         `json:"row_count"`
	ApprovedCount  int         `json:"approved_count"`
	RejectedCount  int         `json:"rejected_count"`
	Persons        int         `json:"persons"`
	Vehicles       int         `json:"vehicles"`
	UploadedBy     string      `json:"uploaded_by"`
	UploadedAt     time.Time   `json:"uploaded_at"`
	ReviewedBy     string      `json:"reviewed_by,omitempty"`
	ReviewedAt     *time.Time  `json:"reviewed_at,omitempty"`
	Note           string      `json:"note,omitempty"`
	// Detail only (GetBatch).
	Rows []BatchRow `json:"rows,omitempty"`
	// Upload only: the headers of the file's columns that were not read
	// (序号, 备注 after the data), as written.
	IgnoredColumns []string `json:"ignored_columns,omitempty"`
}

// BatchRow is one row of a batch, masked, with the reviewer's decision and
// the pass issued for it.
type BatchRow struct {
	Row         int            `json:"row"`
	Kind        passtoken.Kind `json:"kind"`
	Name        string         `json:"name"`
	IDNumber    string         `json:"id_number,omitempty"`
	Phone       string         `json:"phone,omitempty"`
	Plate       string         `json:"plate,omitempty"`
	Areas       []string       `json:"areas"`
	Checkpoints []string       `json:"checkpoints,omitempty"`
	ValidFrom   time.Time      `json:"valid_from"`
	ValidTo     time.Time      `json:"valid_to"`
	Decision    Decision       `json:"decision"`
	Reason      string         `json:"reason,omitempty"` // why a row left out of an approval was not approved
	PID         string         `json:"pid,omitempty"`
	// Conflict: for the batch's reviewer while it awaits review, what the
	// row's holder already has (see GetBatch).
	Conflict *Conflict `json:"conflict,omitempty"`

	// TransferPoint: as Pass.TransferPoint.
	TransferPoint *passtoken.CheckpointInfo `json:"transfer_point,omitempty"`
}

// LastDay is the row's last valid day in Shanghai.
func (r *BatchRow) LastDay() string { return lastDay(r.ValidTo) }

// FirstDay is the row's first valid day in Shanghai.
func (r *BatchRow) FirstDay() string { return r.ValidFrom.In(clock.Shanghai).Format(DateLayout) }

// Quota is an enterprise's pass quota and its use.
type Quota struct {
	Enterprise string `json:"enterprise"`
	Quota      int    `json:"quota"`
	Default    bool   `json:"default"` // no quota set: the registered employees
	Active     int    `json:"active"`  // active, unexpired passes
}

// DateLayout is how days are written in files and answers.
const DateLayout = "2006-01-02"

func lastDay(validTo time.Time) string {
	return validTo.Add(-time.Millisecond).In(clock.Shanghai).Format(DateLayout)
}

// BatchSpec is the file format of pass batches. Its example values are
// those of TemplateSpec, which dates them from today.
var BatchSpec = importer.Spec{
	Kind:    "pass-batch",
	MaxRows: MaxBatchRows,
	Columns: []importer.Column{
		{Key: "name", Header: "姓名", Aliases: []string{"名字", "持证人", "驾驶员", "司机"}, Required: true, Example: "（" + exampleMarker + "）张三"},
		{Key: "id_number", Header: "身份证号", Aliases: []string{"身份证号码", "身份证", "证件号码", "id"}, Example: ExampleID("430203", "19900101", 123)},
		{Key: "phone", Header: "手机", Aliases: []string{"手机号", "手机号码", "联系电话", "电话"}, Example: "13807330001"},
		{Key: "plate", Header: "车牌", Aliases: []string{"车牌号", "车牌号码"}, Example: ""},
		{Key: "areas", Header: "区域", Aliases: []string{"通行区域", "区域编码", "区划编码", "区域名称"}, Required: true, Example: "芦淞区建设街道"},
		{Key: "checkpoints", Header: "卡口", Aliases: []string{"指定卡口", "卡口编号"}},
		{Key: "transfer_point", Header: "接驳点", Aliases: []string{"物资接驳点", "接驳点编号", "物资接驳点编号"}},
		{Key: "valid_from", Header: "起", Aliases: []string{"起始日期", "开始日期", "有效期起", "生效日期", "from"}, Required: true, Example: "2022-11-21"},
		{Key: "valid_to", Header: "止", Aliases: []string{"截止日期", "结束日期", "有效期止", "失效日期", "to"}, Required: true, Example: "2022-12-20"},
	},
}

// parseDay reads a day written 2022-11-20, 2022/11/20, 2022.11.20,
// 2022-1-5 or 2022年11月20日 as midnight in Shanghai; a time of day a date
// cell carries is dropped (importer.DatePart).
func parseDay(s string) (time.Time, bool) {
	s = importer.DatePart(s)
	t := strings.NewReplacer("年", "-", "月", "-", "日", "", "/", "-", ".", "-").Replace(s)
	parts := strings.Split(t, "-")
	if len(parts) != 3 {
		return time.Time{}, false
	}
	var n [3]int
	for i, p := range parts {
		v, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil {
			return time.Time{}, false
		}
		n[i] = v
	}
	if n[0] < 2000 || n[0] > 2999 || n[1] < 1 || n[1] > 12 || n[2] < 1 || n[2] > 31 {
		return time.Time{}, false
	}
	d := time.Date(n[0], time.Month(n[1]), n[2], 0, 0, 0, 0, clock.Shanghai)
	if d.Day() != n[2] {
		return time.Time{}, false // 2022-02-30
	}
	return d, true
}

// splitList splits a cell of codes separated by ; ， , 、 or spaces,
// dropping duplicates and empty items.
func splitList(s string) []string {
	parts := strings.FieldsFunc(s, func(r rune) bool {
		return r == ';' || r == '；' || r == ',' || r == '，' || r == '、' || r == ' ' || r == '\t' || r == '|'
	})
	var out []string
	seen := map[string]bool{}
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

func joinList(l []string) string { return strings.Join(l, ";") }

func splitStored(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ";")
}

var pidEncoding = base32.NewEncoding("abcdefghijkmnpqrstuvwxyz23456789").WithPadding(base32.NoPadding)

// NewPID returns a random pass id: 16 characters of a 32-letter alphabet
// without look-alikes (80 bits).
func NewPID() string {
	var b [10]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("pass: random: %v", err)) // crypto/rand does not fail on supported platforms
	}
	return pidEncoding.EncodeToString(b[:])
}

// validPID reports whether s looks like a pass id (before any lookup).
func validPID(s string) bool {
	if len(s) != 16 {
		return false
	}
	_, err := pidEncoding.DecodeString(s)
	return err == nil
}

// statusAt is the status of a stored pass at now.
func statusAt(stored Status, validTo, now time.Time) Status {
	if stored == StatusActive && !now.Before(validTo) {
		return StatusExpired
	}
	return stored
}
