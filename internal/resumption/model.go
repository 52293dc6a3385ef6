// Package resumption is work resumption (复工复产): the registry of
// enterprises and projects, their daily reports, resumption statistics as
// of any moment, power load against its pre-epidemic baseline, liaisons
// stationed at enterprises and prevention plans (一企一策 / 一园一策).
package resumption

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"tongxin/internal/errs"
	"tongxin/internal/importer"
)

// Kind is an enterprise or a (construction / investment) project.
type Kind string

const (
	KindEnterprise Kind = "enterprise"
	KindProject    Kind = "project"
)

// Category is a statistical group. "四上" (four_above) is any of the four.
type Category string

const (
	IndustrialAboveScale    Category = "industrial_above_scale"     // 规上工业
	ConstructionRealEstate  Category = "construction_realestate"    // 资质等级建筑业和房地产开发经营业
	TradeCateringAboveQuota Category = "trade_catering_above_quota" // 限上批零住餐
	ServicesAboveScale      Category = "services_above_scale"       // 规上服务业
)

// Categories lists the four in display order.
var Categories = []Category{IndustrialAboveScale, ConstructionRealEstate, TradeCateringAboveQuota, ServicesAboveScale}

// CategoryNames are the Chinese names, also accepted in imports.
var CategoryNames = map[Category]string{
	IndustrialAboveScale:    "规上工业",
	ConstructionRealEstate:  "资质等级建筑业和房地产开发经营业",
	TradeCateringAboveQuota: "限上批零住餐",
	ServicesAboveScale:      "规上服务业",
}

// categoryAliases are further names people write in spreadsheets.
var categoryAliases = map[string]Category{
	"规模以上工业":   IndustrialAboveScale,
	"规模以上工业企业": IndustrialAboveScale,
	"建筑业":      ConstructionRealEstate,
	"房地产":      ConstructionRealEstate,
	"建筑业和房地产":  ConstructionRealEstate,
	"限额以上批零住餐": TradeCateringAboveQuota,
	"批零住餐":     TradeCateringAboveQuota,
	"规模以上服务业":  ServicesAboveScale,
}

// ParseCategory reads a code or a Chinese name.
func ParseCategory(s string) (Category, error) {
	s = strings.TrimSpace(s)
	for _, c := range Categories {
		if s == string(c) || s == CategoryNames[c] {
			return c, nil
		}
	}
	if c, ok := categoryAliases[s]; ok {
		return c, nil
	}
	return "", fmt.Errorf("未知类别%s（可用：规上工业、资质等级建筑业和房地产开发经营业、限上批零住餐、规上服务业，或其英文代码）", importer.Quote(s))
}

// ParseCategories reads a ";"-separated list (also "；", "," and "、"),
// without duplicates.
func ParseCategories(s string) ([]Category, error) {
	f := func(r rune) bool { return r == ';' || r == '；' || r == ',' || r == '，' || r == '、' }
	var out []Category
	seen := map[Category]bool{}
	for _, part := range strings.FieldsFunc(s, f) {
		if strings.TrimSpace(part) == "" {
			continue
		}
		c, err := ParseCategory(part)
		if err != nil {
			return nil, err
		}
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out, nil
}

// Status is what a daily report says.
type Status string

const (
	Resumed   Status = "resumed"   // 已复工
	Partial   Status = "partial"   // 部分复工
	Suspended Status = "suspended" // 停工
)

// Working reports whether the status counts as resumed in the statistics.
func (s Status) Working() bool { return s == Resumed || s == Partial }

// Valid reports whether s is a known status.
func (s Status) Valid() bool { return s == Resumed || s == Partial || s == Suspended }

// Enterprise is an enterprise or project of the registry. ContactPhone is
// always masked.
type Enterprise struct {
	Key          string     `json:"key"`
	Kind         Kind       `json:"kind"`
	Name         string     `json:"name"`
	AreaCode     string     `json:"area_code"`
	AreaName     string     `json:"area_name,omitempty"`
	Park         string     `json:"park"`
	Categories   []Category `json:"categories"`
	IsKey        bool       `json:"is_key"`
	Employees    int        `json:"employees"`
	ContactName  string     `json:"contact_name"`
	ContactPhone string     `json:"contact_phone"`
	ClosedLoop   bool       `json:"closed_loop"`
	Liaisons     []string   `json:"liaisons"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
	ID           int64      `json:"-"`
	AreaPath     string     `json:"-"`
}

// Report is one daily report (its current version).
type Report struct {
	EnterpriseKey string    `json:"enterprise_key"`
	Date          string    `json:"date"`
	Status        Status    `json:"status"`
	CapacityPct   int       `json:"capacity_pct"`
	StaffExpected int       `json:"staff_expected"`
	StaffOnSite   int       `json:"staff_on_site"`
	ClosedLoop    bool      `json:"closed_loop"`
	Note          string    `json:"note"`
	FiledAt       time.Time `json:"filed_at"`
	FiledBy       string    `json:"filed_by"`
}

// ReportInput is a report as filed.
type ReportInput struct {
	Date          string `json:"date"`
	Status        Status `json:"status"`
	CapacityPct   *int   `json:"capacity_pct"`
	StaffExpected *int   `json:"staff_expected"`
	StaffOnSite   *int   `json:"staff_on_site"`
	ClosedLoop    bool   `json:"closed_loop"`
	Note          string `json:"note"`
}

// DateLayout is the layout of report dates.
const DateLayout = "2006-01-02"

// MaxNoteLen bounds a report's note.
const MaxNoteLen = 500

// Validate checks a report filed on the day today (YYYY-MM-DD in
// Asia/Shanghai) and returns every problem, by field.
func (in ReportInput) Validate(today string) []errs.FieldError {
	var fe []errs.FieldError
	add := func(field, msg string) { fe = append(fe, errs.FieldError{Field: field, Message: msg}) }
	if d, err := time.Parse(DateLayout, in.Date); err != nil || d.Format(DateLayout) != in.Date {
		add("date", "日期须为 YYYY-MM-DD 格式的有效日期")
	} else if in.Date > today {
		add("date", "不能填报未来日期")
	}
	if !in.Status.Valid() {
		add("status", "状态须为 resumed（已复工）、partial（部分复工）或 suspended（停工）")
	}
	switch {
	case in.CapacityPct == nil:
		add("capacity_pct", "请填写产能（0–100）")
	case *in.CapacityPct < 0 || *in.CapacityPct > 100:
		add("capacity_pct", "产能须在 0 到 100 之间")
	}
	switch {
	case in.StaffExpected == nil:
		add("staff_expected", "请填写应到岗人数")
	case *in.StaffExpected < 0:
		add("staff_expected", "应到岗人数不能为负")
	}
	switch {
	case in.StaffOnSite == nil:
		add("staff_on_site", "请填写实际到岗人数")
	case *in.StaffOnSite < 0:
		add("staff_on_site", "到岗人数不能为负")
	case in.StaffExpected != nil && *in.StaffOnSite > *in.StaffExpected:
		add("staff_on_site", "实际到岗人数不能多于应到岗人数")
	}
	if utf8.RuneCountInString(in.Note) > MaxNoteLen {
		add("note", fmt.Sprintf("备注不能超过 %d 个字", MaxNoteLen))
	}
	return fe
}
