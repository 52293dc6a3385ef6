package ticket

import (
	"strconv"
	"time"

	"tongxin/internal/db"
)

// DeadlineState is how urgent a running deadline looks: by the share of
// its window left and by the minutes left, so that a critical ticket with
// two minutes left is not the same green as one with eleven hours.
type DeadlineState string

const (
	DeadlineAmple    DeadlineState = "ample"     // 时间充裕: more than half of the window left
	DeadlinePastHalf DeadlineState = "past_half" // 时间过半: half of the window or less left
	DeadlineExpiring DeadlineState = "expiring"  // 即将超时: a quarter (at most two hours) or ten minutes left
	DeadlineOverdue  DeadlineState = "overdue"   // 已超时
)

// DeadlineStates lists the states from least to most urgent.
var DeadlineStates = []DeadlineState{DeadlineAmple, DeadlinePastHalf, DeadlineExpiring, DeadlineOverdue}

// DeadlineStateNames are the Chinese names of the states.
var DeadlineStateNames = map[DeadlineState]string{DeadlineAmple: "时间充裕", DeadlinePastHalf: "时间过半",
	DeadlineExpiring: "即将超时", DeadlineOverdue: "已超时"}

// Thresholds of the states. A deadline is about to expire when a quarter
// of its window is left, but never more than ExpiringCap before it (a
// three-day window is not "about to expire" with eighteen hours left), and
// always in its last ExpiringFloor.
const (
	ExpiringCap   = 2 * time.Hour
	ExpiringFloor = 10 * time.Minute
)

// StateOf is the state at now of a deadline due that started at from. A
// deadline without a known start (from zero or not before due) is judged
// by the minutes left alone.
func StateOf(from, due, now time.Time) DeadlineState {
	left := due.Sub(now)
	window := due.Sub(from)
	if from.IsZero() || window <= 0 {
		window = 0
	}
	switch {
	case left <= 0:
		return DeadlineOverdue
	case left <= ExpiringFloor || (left <= ExpiringCap && left*4 <= window):
		return DeadlineExpiring
	case window > 0 && left*2 <= window:
		return DeadlinePastHalf
	}
	return DeadlineAmple
}

// ShareLeft is the share of the window from..due left at now: 1 at the
// start, 0 at the deadline, negative past it (-1 is late by a whole
// window). Without a known window it is 0 at or past due and 1 before.
func ShareLeft(from, due, now time.Time) float64 {
	window := due.Sub(from)
	if from.IsZero() || window <= 0 {
		if now.Before(due) {
			return 1
		}
		return 0
	}
	return float64(due.Sub(now)) / float64(window)
}

// expiringWhere is the SQL condition of StateOf's DeadlineExpiring for the
// running deadline of tickets aliased t, at now (Unix milliseconds).
func expiringWhere(a *db.Args, now int64) string {
	n := a.Add(now)
	left := "(t.due_at - " + n + ")"
	from := "CASE WHEN t.due_at = t.respond_by AND t.due_at <> t.resolve_by THEN t.respond_from ELSE t.resolve_from END"
	window := "(t.due_at - CASE WHEN " + from + " > 0 THEN " + from + " ELSE t.created_at END)"
	return "(t.due_at > " + n + " AND (" + left + " <= " + ms(ExpiringFloor) + " OR (" + left + " <= " + ms(ExpiringCap) +
		" AND " + left + " * 4 <= " + window + ")))"
}

func ms(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }
