package ticket

import (
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The settings form offers a deadline as a choice in words — 限时 N
// 小时, 事不过夜, or 每日时刻 (cut-off, today, tomorrow) — and writes the
// rule ParseRule reads underneath.

// Kinds of a rule in the form.
const (
	ruleDuration  = "duration"
	ruleOvernight = "overnight"
	ruleDaily     = "daily"
)

// ruleUnits are the units a duration is written in, by their suffix.
var ruleUnits = []struct {
	Suffix string
	Size   time.Duration
}{{"d", 24 * time.Hour}, {"h", time.Hour}, {"m", time.Minute}, {"s", time.Second}}

// pageRuleEditor is one deadline in the settings form.
type pageRuleEditor struct {
	Key                     string // the rule's field: "normal.respond_by", "confirm_after"
	Label                   string // catalog key of its legend
	Kind                    string
	Amount, Unit            string
	Cutoff, Today, Tomorrow string
	Units                   []string // the unit suffixes offered: minutes, hours, days, seconds (drills)
	Error                   string
	DurationOnly            bool // confirm_after: a duration, no wall-clock rule
}

// editorOf is r in the form's terms.
func editorOf(key, label string, r Rule) pageRuleEditor {
	e := pageRuleEditor{Key: key, Label: label, Units: []string{"m", "h", "d", "s"}, Cutoff: "17:00", Today: "24:00", Tomorrow: "08:00"}
	switch {
	case r.After > 0:
		e.Kind = ruleDuration
		for _, u := range ruleUnits {
			if r.After%u.Size == 0 {
				e.Amount, e.Unit = strconv.FormatInt(int64(r.After/u.Size), 10), u.Suffix
				break
			}
		}
	case r == Overnight:
		e.Kind = ruleOvernight
	default:
		e.Kind = ruleDaily
		e.Cutoff, e.Today, e.Tomorrow = hmString(r.Cutoff), hmString(r.Today), hmString(r.Tomorrow)
	}
	return e
}

// editorFrom is what was typed for key, and the rule it writes ("" and a
// message when it writes none). A form without the key's choice (a script,
// an older page) may send the rule itself as key.
func editorFrom(form url.Values, key, label string) (pageRuleEditor, string, string) {
	get := func(s string) string { return strings.TrimSpace(form.Get(key + "." + s)) }
	e := pageRuleEditor{Key: key, Label: label, Kind: get("kind"), Amount: get("amount"), Unit: get("unit"),
		Cutoff: get("cutoff"), Today: get("today"), Tomorrow: get("tomorrow"), Units: []string{"m", "h", "d", "s"}}
	switch e.Kind {
	case "":
		raw := strings.TrimSpace(form.Get(key))
		if r, err := ParseRule(raw); err == nil {
			ed := editorOf(key, label, r)
			return ed, raw, ""
		}
		e.Kind = ruleDuration
		return e, raw, ""
	case ruleOvernight:
		return e, "overnight", ""
	case ruleDuration:
		n, err := strconv.Atoi(e.Amount)
		if err != nil || n <= 0 {
			return e, "", "请填写正整数"
		}
		for _, u := range ruleUnits {
			if u.Suffix == e.Unit {
				return e, strconv.Itoa(n) + u.Suffix, ""
			}
		}
		return e, "", "请选择单位"
	case ruleDaily:
		for _, hm := range []string{e.Cutoff, e.Today, e.Tomorrow} {
			if _, ok := parseHM(hm); !ok {
				return e, "", "时刻「" + hm + "」无效：应为 00:00–24:00，如 17:00"
			}
		}
		return e, "before " + e.Cutoff + " today " + e.Today + " else tomorrow " + e.Tomorrow, ""
	}
	return e, "", "请选择时限方式"
}

// pageUrgencyEdit is one urgency's two deadlines in the form.
type pageUrgencyEdit struct {
	Urgency          Urgency
	Respond, Resolve pageRuleEditor
}
