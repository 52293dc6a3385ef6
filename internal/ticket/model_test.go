package ticket

import (
	"testing"
	"time"

	"tongxin/internal/clock"
)

func sh(y int, m time.Month, d, hh, mm, ss int) time.Time {
	return time.Date(y, m, d, hh, mm, ss, 0, clock.Shanghai)
}

// TestOvernightRule checks 事不过夜 at its edges: before 17:00 by 24:00
// the same day, later by 08:00 the next day, around midnight and across
// the ends of months and years.
func TestOvernightRule(t *testing.T) {
	cases := []struct {
		filed, due time.Time
	}{
		{sh(2022, 11, 20, 16, 59, 0), sh(2022, 11, 21, 0, 0, 0)},
		{sh(2022, 11, 20, 16, 59, 59), sh(2022, 11, 21, 0, 0, 0)},
		{sh(2022, 11, 20, 17, 0, 0), sh(2022, 11, 21, 8, 0, 0)},
		{sh(2022, 11, 20, 17, 1, 0), sh(2022, 11, 21, 8, 0, 0)},
		{sh(2022, 11, 20, 23, 59, 59), sh(2022, 11, 21, 8, 0, 0)},
		{sh(2022, 11, 21, 0, 0, 0), sh(2022, 11, 22, 0, 0, 0)},
		{sh(2022, 11, 21, 0, 30, 0), sh(2022, 11, 22, 0, 0, 0)},
		{sh(2022, 11, 30, 16, 59, 0), sh(2022, 12, 1, 0, 0, 0)},
		{sh(2022, 11, 30, 17, 1, 0), sh(2022, 12, 1, 8, 0, 0)},
		{sh(2022, 12, 31, 17, 1, 0), sh(2023, 1, 1, 8, 0, 0)},
		{sh(2024, 2, 28, 18, 0, 0), sh(2024, 2, 29, 8, 0, 0)},
		{sh(2024, 2, 29, 12, 0, 0), sh(2024, 3, 1, 0, 0, 0)},
		// Filed in UTC terms on the previous day: 2022-11-20 16:30 UTC is
		// 2022-11-21 00:30 in Shanghai.
		{time.Date(2022, 11, 20, 16, 30, 0, 0, time.UTC), sh(2022, 11, 22, 0, 0, 0)},
	}
	for _, c := range cases {
		if got := Overnight.Due(c.filed); !got.Equal(c.due) {
			t.Errorf("filed %s: due %s, want %s", c.filed.In(clock.Shanghai).Format(time.DateTime),
				got.In(clock.Shanghai).Format(time.DateTime), c.due.Format(time.DateTime))
		}
	}
}

func TestParseRule(t *testing.T) {
	good := map[string]string{
		"2h": "2h", "30m": "30m", "90m": "1h30m", "45s": "45s", "3d": "3d", "overnight": "overnight", "事不过夜": "overnight",
		"before 17:00 today 24:00 else tomorrow 08:00":  "overnight",
		"Before 12:00  today 18:00 else tomorrow 09:30": "before 12:00 today 18:00 else tomorrow 09:30",
	}
	for in, want := range good {
		r, err := ParseRule(in)
		if err != nil {
			t.Errorf("ParseRule(%q): %v", in, err)
			continue
		}
		if r.String() != want {
			t.Errorf("ParseRule(%q).String() = %q, want %q", in, r.String(), want)
		}
		back, err := ParseRule(r.String())
		if err != nil || back != r {
			t.Errorf("round trip of %q: %v %v", in, back, err)
		}
	}
	for _, in := range []string{"", "0s", "-2h", "31d", "2 hours", "before 25:00 today 24:00 else tomorrow 08:00",
		"before 17:00 today 16:00 else tomorrow 08:00", "before 17:00 today 24:00 else tomorrow 24:00", "before 00:00 today 24:00 else tomorrow 08:00"} {
		if _, err := ParseRule(in); err == nil {
			t.Errorf("ParseRule(%q) accepted", in)
		}
	}
	r, _ := ParseRule("before 12:00 today 18:00 else tomorrow 09:30")
	if got := r.Due(sh(2022, 11, 20, 11, 0, 0)); !got.Equal(sh(2022, 11, 20, 18, 0, 0)) {
		t.Errorf("custom rule before cutoff: %s", got)
	}
	if got := r.Due(sh(2022, 11, 20, 12, 0, 0)); !got.Equal(sh(2022, 11, 21, 9, 30, 0)) {
		t.Errorf("custom rule after cutoff: %s", got)
	}
}

func TestTransitions(t *testing.T) {
	allowed := map[[2]Status]bool{}
	for to, froms := range transitions {
		for _, f := range froms {
			allowed[[2]Status{f, to}] = true
		}
	}
	for _, from := range Statuses {
		for _, to := range Statuses {
			if got := CanTransition(from, to); got != allowed[[2]Status{from, to}] {
				t.Errorf("CanTransition(%s, %s) = %v", from, to, got)
			}
		}
	}
	for _, bad := range [][2]Status{{Resolved, New}, {Confirmed, Reopened}, {Merged, Assigned}, {New, Confirmed}, {Rejected, Resolved}} {
		if CanTransition(bad[0], bad[1]) {
			t.Errorf("%s → %s allowed", bad[0], bad[1])
		}
	}
}

func TestLeft(t *testing.T) {
	now := sh(2022, 11, 20, 10, 0, 0)
	cases := map[time.Duration]string{
		80 * time.Minute:                "剩余 1 小时 20 分",
		30 * time.Second:                "剩余不到 1 分钟",
		-3 * time.Hour:                  "超时 3 小时",
		-(26*time.Hour + 5*time.Minute): "超时 1 天 2 小时 5 分",
	}
	for d, want := range cases {
		if got := Left(now.Add(d), now); got != want {
			t.Errorf("Left(%v) = %q, want %q", d, got, want)
		}
	}
}
