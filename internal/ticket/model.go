// Package ticket is the problem collection and coordination mechanism
// (企业问题收集和协调解决机制): enterprise problems and residents' calls for
// help are filed, routed to a department, held to deadlines — "问题研究事不过夜"
// — escalated up the area tree when a deadline passes, resolved, confirmed
// by the reporter and counted.
package ticket

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"tongxin/internal/clock"
	"tongxin/internal/errs"
)

// Kind is what a ticket is about.
type Kind string

const (
	EnterpriseProblem Kind = "enterprise_problem" // 企业问题
	ResidentHelp      Kind = "resident_help"      // 群众求助
	OtherKind         Kind = "other"
)

// Kinds lists the kinds in display order.
var Kinds = []Kind{EnterpriseProblem, ResidentHelp, OtherKind}

// KindNames are the Chinese names of the kinds.
var KindNames = map[Kind]string{EnterpriseProblem: "企业问题", ResidentHelp: "群众求助", OtherKind: "其他"}

// Urgency orders tickets and picks their deadline policy.
type Urgency string

const (
	Normal   Urgency = "normal"
	Urgent   Urgency = "urgent"
	Critical Urgency = "critical"
)

// Urgencies lists the urgencies from least to most urgent.
var Urgencies = []Urgency{Normal, Urgent, Critical}

// UrgencyNames are the Chinese names of the urgencies.
var UrgencyNames = map[Urgency]string{Normal: "一般", Urgent: "紧急", Critical: "特急"}

// Channel is how a ticket arrived.
type Channel string

const (
	ChannelWeb     Channel = "web"
	ChannelHotline Channel = "hotline_12345"
	ChannelPhone   Channel = "phone"
	ChannelWeChat  Channel = "wechat"
	ChannelLiaison Channel = "liaison"
	ChannelWalkIn  Channel = "walk_in"
)

// Channels lists the channels in display order.
var Channels = []Channel{ChannelWeb, ChannelHotline, ChannelPhone, ChannelWeChat, ChannelLiaison, ChannelWalkIn}

// ChannelNames are the Chinese names of the channels.
var ChannelNames = map[Channel]string{ChannelWeb: "网上", ChannelHotline: "12345 热线", ChannelPhone: "电话",
	ChannelWeChat: "微信", ChannelLiaison: "驻企联络员", ChannelWalkIn: "来访"}

// Status is where a ticket is in its lifecycle.
type Status string

const (
	New        Status = "new"
	Assigned   Status = "assigned"
	InProgress Status = "in_progress"
	Resolved   Status = "resolved"
	Confirmed  Status = "confirmed"
	Rejected   Status = "rejected"
	Reopened   Status = "reopened"
	Merged     Status = "merged"
)

// Statuses lists the statuses in lifecycle order.
var Statuses = []Status{New, Assigned, InProgress, Resolved, Confirmed, Rejected, Reopened, Merged}

// StatusNames are the Chinese names of the statuses.
var StatusNames = map[Status]string{New: "待分派", Assigned: "已分派", InProgress: "办理中", Resolved: "已办结",
	Confirmed: "已确认", Rejected: "已退回", Reopened: "已重启", Merged: "已合并"}

// Open reports whether work on a ticket in s is still owed: its deadlines
// run and it can escalate.
func (s Status) Open() bool { return s == New || s == Assigned || s == InProgress || s == Reopened }

// Closed reports whether s is final (a resolved ticket awaits confirmation
// and is neither open nor closed).
func (s Status) Closed() bool { return s == Confirmed || s == Rejected || s == Merged }

// Responded reports whether a ticket in s has been answered: respond-by no
// longer runs.
func (s Status) Responded() bool { return s != New && s != Assigned }

// ParseStatus reads a status code.
func ParseStatus(s string) (Status, bool) {
	for _, v := range Statuses {
		if string(v) == s {
			return v, true
		}
	}
	return "", false
}

// SubjectKind is what a ticket is about: an enterprise, a household or an
// address.
type SubjectKind string

const (
	SubjectEnterprise SubjectKind = "enterprise"
	SubjectHousehold  SubjectKind = "household"
	SubjectAddress    SubjectKind = "address"
)

// transitions lists, for each target status, the statuses it may be reached
// from. "new" and "merged" are never targets of a transition: a ticket is
// born new, and merging has its own use case.
var transitions = map[Status][]Status{
	Assigned:   {New, Assigned, InProgress, Reopened},
	InProgress: {New, Assigned, Reopened},
	Resolved:   {New, Assigned, InProgress, Reopened},
	Rejected:   {New, Assigned, InProgress, Reopened},
	Confirmed:  {Resolved},
	Reopened:   {Resolved, Rejected},
}

// CanTransition reports whether a ticket may go from one status to another.
func CanTransition(from, to Status) bool {
	for _, f := range transitions[to] {
		if f == from {
			return true
		}
	}
	return false
}

// errBadTransition explains a refused transition in the user's words.
func errBadTransition(from, to Status) *errs.Error {
	name := StatusNames[to]
	if name == "" {
		name = string(to)
	}
	return errs.Newf(errs.Conflict, "bad_transition", "工单当前为「%s」，不能转为「%s」", StatusNames[from], name)
}

// Category is a configurable kind of problem, routed and timed by its code.
type Category struct {
	Code     string `json:"code"`
	Name     string `json:"name"`
	NameEn   string `json:"name_en"`
	Position int    `json:"position"`
	Active   bool   `json:"active"`
	// Audience is who the category is offered to.
	Audience Audience `json:"audience"`
	// ConfirmAfter is how long a resolved ticket waits for its reporter
	// before it confirms itself.
	ConfirmAfter Duration `json:"confirm_after"`
}

// Audience is who a category is offered to: residents (the public help
// form), enterprises (their problems), or both.
type Audience string

const (
	AudienceAll        Audience = "all"
	AudienceEnterprise Audience = "enterprise"
	AudienceResident   Audience = "resident"
)

// For reports whether a category of audience a is offered to who.
func (a Audience) For(who Audience) bool {
	return a == AudienceAll || a == "" || who == AudienceAll || a == who
}

// DefaultConfirmAfter is the auto-confirmation delay of a new category.
const DefaultConfirmAfter = 72 * time.Hour

var categoryCodeRE = regexp.MustCompile(`^[a-z][a-z0-9_]{1,31}$`)

// Rule is a deadline: a duration from the moment it starts, or a
// wall-clock rule in Asia/Shanghai — "reported before Cutoff: by Today this
// day; later: by Tomorrow the next day".
type Rule struct {
	After time.Duration // > 0 for a duration rule
	// Wall-clock rule, in minutes after midnight; Today may be 1440 (24:00).
	Cutoff, Today, Tomorrow int
}

// Overnight is the seed's rule, 事不过夜: reported before 17:00, answered by
// 24:00 the same day; reported later, by 08:00 the next morning.
var Overnight = Rule{Cutoff: 17 * 60, Today: 24 * 60, Tomorrow: 8 * 60}

// Limits of a duration rule.
const (
	MinRuleDuration = time.Second
	MaxRuleDuration = 30 * 24 * time.Hour
)

var (
	wallRuleRE = regexp.MustCompile(`^before (\d{1,2}:\d{2}) today (\d{1,2}:\d{2}) else tomorrow (\d{1,2}:\d{2})$`)
	daysRE     = regexp.MustCompile(`^(\d{1,2})d$`)
)

// ParseRule reads a rule: a duration ("2h", "30m", "1h30m", "45s", "3d"),
// "overnight" (事不过夜), or "before HH:MM today HH:MM else tomorrow HH:MM".
func ParseRule(s string) (Rule, error) {
	s = strings.Join(strings.Fields(strings.ToLower(s)), " ")
	switch s {
	case "":
		return Rule{}, fmt.Errorf("请填写时限")
	case "overnight", "事不过夜":
		return Overnight, nil
	}
	if m := wallRuleRE.FindStringSubmatch(s); m != nil {
		var mins [3]int
		for i, hm := range m[1:] {
			v, ok := parseHM(hm)
			if !ok {
				return Rule{}, fmt.Errorf("时刻 %q 无效：应为 00:00–24:00", hm)
			}
			mins[i] = v
		}
		r := Rule{Cutoff: mins[0], Today: mins[1], Tomorrow: mins[2]}
		switch {
		case r.Cutoff == 0 || r.Cutoff >= 24*60:
			return Rule{}, fmt.Errorf("分界时刻须在 00:01 与 23:59 之间")
		case r.Today <= r.Cutoff:
			return Rule{}, fmt.Errorf("当日时限须晚于分界时刻 %s", hmString(r.Cutoff))
		case r.Tomorrow >= 24*60:
			return Rule{}, fmt.Errorf("次日时限须早于 24:00")
		}
		return r, nil
	}
	var d time.Duration
	if m := daysRE.FindStringSubmatch(s); m != nil {
		n, _ := strconv.Atoi(m[1])
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		d, err = time.ParseDuration(s)
		if err != nil {
			return Rule{}, fmt.Errorf("时限 %q 无效：应为时长（如 2h、30m、3d）、overnight，或 before 17:00 today 24:00 else tomorrow 08:00", s)
		}
	}
	if d < MinRuleDuration || d > MaxRuleDuration {
		return Rule{}, fmt.Errorf("时长须在 1 秒与 30 天之间")
	}
	return Rule{After: d}, nil
}

func parseHM(s string) (int, bool) {
	h, m, ok := strings.Cut(s, ":")
	if !ok {
		return 0, false
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || mm < 0 || mm > 59 || hh > 24 || (hh == 24 && mm != 0) {
		return 0, false
	}
	return hh*60 + mm, true
}

func hmString(min int) string { return fmt.Sprintf("%02d:%02d", min/60, min%60) }

// String is the rule as ParseRule reads it.
func (r Rule) String() string {
	if r.After > 0 {
		return formatDuration(r.After)
	}
	if r == Overnight {
		return "overnight"
	}
	return fmt.Sprintf("before %s today %s else tomorrow %s", hmString(r.Cutoff), hmString(r.Today), hmString(r.Tomorrow))
}

// Label is the rule in Chinese, for pages.
func (r Rule) Label() string {
	if r.After > 0 {
		return durationLabel(r.After) + "内"
	}
	s := fmt.Sprintf("%s 前提出的当日 %s 前，之后的次日 %s 前", hmString(r.Cutoff), hmString(r.Today), hmString(r.Tomorrow))
	if r == Overnight {
		s = "事不过夜：" + s
	}
	return s
}

// Due is the deadline of something that started at from.
func (r Rule) Due(from time.Time) time.Time {
	if r.After > 0 {
		return from.Add(r.After)
	}
	t := from.In(clock.Shanghai)
	y, m, d := t.Date()
	midnight := time.Date(y, m, d, 0, 0, 0, 0, clock.Shanghai)
	if t.Before(midnight.Add(time.Duration(r.Cutoff) * time.Minute)) {
		return time.Date(y, m, d, 0, r.Today, 0, 0, clock.Shanghai).UTC()
	}
	return time.Date(y, m, d+1, 0, r.Tomorrow, 0, 0, clock.Shanghai).UTC()
}

// formatDuration renders d compactly: "2h", "90m" → "1h30m", "3d".
func formatDuration(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return strconv.Itoa(int(d/(24*time.Hour))) + "d"
	}
	s := d.String()
	s = strings.TrimSuffix(s, "0s")
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// durationLabel renders d in Chinese: "2 小时", "1 小时 30 分", "45 秒".
func durationLabel(d time.Duration) string {
	if d < time.Minute {
		return strconv.Itoa(int(d/time.Second)) + " 秒"
	}
	days := int(d / (24 * time.Hour))
	hours := int(d % (24 * time.Hour) / time.Hour)
	mins := int(d % time.Hour / time.Minute)
	var parts []string
	if days > 0 {
		parts = append(parts, strconv.Itoa(days)+" 天")
	}
	if hours > 0 {
		parts = append(parts, strconv.Itoa(hours)+" 小时")
	}
	if mins > 0 {
		parts = append(parts, strconv.Itoa(mins)+" 分")
	}
	return strings.Join(parts, " ")
}

// Duration is a time.Duration written as "72h" in JSON.
type Duration time.Duration

// MarshalText writes the compact form.
func (d Duration) MarshalText() ([]byte, error) { return []byte(formatDuration(time.Duration(d))), nil }

// UnmarshalText reads "72h", "3d", "90m".
func (d *Duration) UnmarshalText(b []byte) error {
	r, err := ParseRule(string(b))
	if err != nil || r.After == 0 {
		return fmt.Errorf("时长 %q 无效：应为如 72h、3d", string(b))
	}
	*d = Duration(r.After)
	return nil
}

// Policy is the deadlines of one category and urgency.
type Policy struct {
	Urgency   Urgency `json:"urgency"`
	RespondBy Rule    `json:"-"`
	ResolveBy Rule    `json:"-"`
}

// DefaultPolicy is the deadlines of a category without its own policy:
// normal problems are answered within 2 hours and solved overnight (事不过夜);
// urgent ones within 30 minutes and 6 hours; critical within 10 minutes and
// 2 hours.
func DefaultPolicy(u Urgency) Policy {
	switch u {
	case Urgent:
		return Policy{Urgency: u, RespondBy: Rule{After: 30 * time.Minute}, ResolveBy: Rule{After: 6 * time.Hour}}
	case Critical:
		return Policy{Urgency: u, RespondBy: Rule{After: 10 * time.Minute}, ResolveBy: Rule{After: 2 * time.Hour}}
	}
	return Policy{Urgency: Normal, RespondBy: Rule{After: 2 * time.Hour}, ResolveBy: Overnight}
}

// Left renders the time until due (negative: overdue) in Chinese:
// "剩余 1 小时 20 分" or "超时 3 小时".
func Left(due, now time.Time) string {
	d := due.Sub(now)
	if d >= 0 {
		if d < time.Minute {
			return "剩余不到 1 分钟"
		}
		return "剩余 " + durationLabel(d.Truncate(time.Minute))
	}
	d = -d
	if d < time.Minute {
		return "刚刚超时"
	}
	return "超时 " + durationLabel(d.Truncate(time.Minute))
}

// levelNames are the Chinese names of the escalation levels by depth.
var levelNames = []string{"市指挥部", "区县", "街道", "社区", "网格"}

// levelCodes are the area levels by depth.
var levelCodes = []string{"city", "district", "street", "community", "grid"}

// LevelName is the Chinese name of the escalation level at depth.
func LevelName(depth int) string {
	if depth < 0 || depth >= len(levelNames) {
		return ""
	}
	return levelNames[depth]
}

// LevelCode is the area level at depth.
func LevelCode(depth int) string {
	if depth < 0 || depth >= len(levelCodes) {
		return ""
	}
	return levelCodes[depth]
}

// pathCodes splits an area path "/430200/430203/" into its codes.
func pathCodes(path string) []string {
	return strings.FieldsFunc(path, func(r rune) bool { return r == '/' })
}

// Limits of a ticket's texts, in characters, and of its photos.
const (
	MaxDescriptionLen = 2000
	MaxNoteLen        = 1000
	MaxAddressLen     = 200
	MaxNameLen        = 50
	MaxPhotoBytes     = 5 << 20
	MaxPhotos         = 9
)

// AudienceNames are the Chinese names of the audiences.
var AudienceNames = map[Audience]string{AudienceAll: "群众和企业", AudienceEnterprise: "企业问题", AudienceResident: "群众求助"}
