// Package clock provides the injectable time source. Nothing in Tongxin
// calls time.Now directly outside this package: deadlines, escalations and
// "as of" queries are tested by moving a Manual clock.
package clock

import (
	"strings"
	"sync"
	"time"

	"tongxin/internal/errs"
)

// Clock tells the time.
type Clock interface {
	Now() time.Time
}

// Real is the system clock.
type Real struct{}

// Now returns the current time in UTC.
func (Real) Now() time.Time { return time.Now().UTC() }

// Manual is a clock that moves only when told to. Safe for concurrent use.
type Manual struct {
	mu sync.Mutex
	t  time.Time
}

// NewManual returns a Manual clock set to t.
func NewManual(t time.Time) *Manual { return &Manual{t: t.UTC()} }

// Now returns the clock's time.
func (m *Manual) Now() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.t
}

// Set moves the clock to t.
func (m *Manual) Set(t time.Time) {
	m.mu.Lock()
	m.t = t.UTC()
	m.mu.Unlock()
}

// Advance moves the clock forward by d.
func (m *Manual) Advance(d time.Duration) {
	m.mu.Lock()
	m.t = m.t.Add(d)
	m.mu.Unlock()
}

// Shanghai is the zone every time is shown in.
var Shanghai = mustZone()

func mustZone() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		// The zone database is embedded by the time/tzdata import in
		// cmd/tongxin; a fixed +08:00 zone is identical for China (no DST).
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}

// Millis converts a time to stored Unix milliseconds.
func Millis(t time.Time) int64 { return t.UnixMilli() }

// FromMillis converts stored Unix milliseconds to a UTC time.
func FromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// ParseDay reads a day written YYYY-MM-DD, as the daily figures take it,
// and answers its start in Asia/Shanghai; anything else is bad_day, on
// the field day.
func ParseDay(day string) (time.Time, error) {
	t, err := time.ParseInLocation(time.DateOnly, strings.TrimSpace(day), Shanghai)
	if err != nil {
		return time.Time{}, errs.Fields("bad_day", "日期格式应为 YYYY-MM-DD", errs.FieldError{Field: "day", Message: "格式应为 YYYY-MM-DD"})
	}
	return t, nil
}
