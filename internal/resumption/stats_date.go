package resumption

import (
	"context"
	"encoding/json"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/errs"
)

// Figures by report date. A statistic is asked for at a moment (at=,
// default now), and by default its report date is that moment's day: what
// the HQ knew then. date=YYYY-MM-DD asks instead for the figures of that
// report date as known at the moment: each unit's latest report dated on
// or before it, in its latest version filed by the moment. A city that
// imports last week's reports today thus sees last week's figures, and a
// day's figures can be reproduced after the fact (date alone: as known
// now; date with at: as known then). The trend is always by report date.
//
// "No data" is not 0%: a group none of whose units has a report has no
// rate (Reported is 0, the rate is null in JSON, "—" on pages and an empty
// cell in exports), nor has a staff figure without staff expected.

// errBadDate is the error of a malformed or future date=.
func errBadDate(msg string) *errs.Error {
	return &errs.Error{Kind: errs.Invalid, Code: "bad_date", Message: msg,
		Fields: []errs.FieldError{{Field: "date", Message: msg}}}
}

// ParseStatsDate checks a date= value: a calendar date YYYY-MM-DD.
func ParseStatsDate(s string) (string, error) {
	d, err := time.Parse(DateLayout, s)
	if err != nil || d.Format(DateLayout) != s {
		return "", errBadDate("date 须为日期，如 2022-11-20")
	}
	return s, nil
}

// momentFor resolves the moment of a query: q.At (now when zero) and the
// report date, q.Date or the moment's day. A date after the moment's day
// is refused: no report can be dated after the day it is known on.
func (s *Service) momentFor(q StatsQuery) (moment, error) {
	m := momentOf(s.statsAt(q))
	if q.Date == "" {
		return m, nil
	}
	date, err := ParseStatsDate(q.Date)
	if err != nil {
		return m, err
	}
	if date > m.date {
		return m, errBadDate("date 不能晚于统计时点所在的日期 " + m.date + "（未给 at 时为今天）")
	}
	m.date, m.byDate = date, true
	return m, nil
}

// HasRate reports whether the group has data: some of its units reported.
func (g GroupStat) HasRate() bool { return g.Reported > 0 }

// HasRate reports whether the staff figure has data: staff expected.
func (s StaffStat) HasRate() bool { return s.Expected > 0 }

// MarshalJSON writes the rate as null when the group has no data.
func (g GroupStat) MarshalJSON() ([]byte, error) {
	type plain GroupStat
	return json.Marshal(struct {
		plain
		Rate *float64 `json:"rate"`
	}{plain(g), rateOrNil(g.Rate, g.HasRate())})
}

// MarshalJSON writes the rate as null without staff expected.
func (s StaffStat) MarshalJSON() ([]byte, error) {
	type plain StaffStat
	return json.Marshal(struct {
		plain
		Rate *float64 `json:"rate"`
	}{plain(s), rateOrNil(s.Rate, s.HasRate())})
}

// HasCapacity reports whether the mean capacity has data: some unit is
// working.
func (st *Stats) HasCapacity() bool { return st.working > 0 }

// MarshalJSON writes capacity_avg as null when no unit is working.
func (st Stats) MarshalJSON() ([]byte, error) {
	type plain Stats
	return json.Marshal(struct {
		plain
		CapacityAvg *float64 `json:"capacity_avg"`
	}{plain(st), rateOrNil(st.CapacityAvg, st.working > 0)})
}

// rateOrNil is r, or nil without data.
func rateOrNil(r float64, ok bool) *float64 {
	if !ok {
		return nil
	}
	return &r
}

// Trend returns the figures of each of days report dates ending with the
// query's (q.Date, or the day of q.At), oldest first, each as known at
// q.At (default now): a unit counts with its latest report dated on or
// before the day, so reports filed late still count for their day.
func (s *Service) Trend(ctx context.Context, p *auth.Principal, q StatsQuery, days int) ([]DayStats, error) {
	const op = "resumption.Trend"
	if days < 1 || days > MaxTrendDays {
		return nil, errs.Wrap(op, errs.Newf(errs.Invalid, "bad_days", "days 须为 1–%d 的整数", MaxTrendDays))
	}
	last, err := s.momentFor(q)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	dates, err := trendDates(last.date, days)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	var out []DayStats
	err = s.db.Read(ctx, func(tx *db.Tx) error {
		sc, err := resolveScope(ctx, tx, p, q.Areas, op)
		if err != nil {
			return err
		}
		if fast, err := s.dayPathOK(ctx, tx, sc, last); err != nil || fast {
			if err == nil {
				out, err = dayTrendIn(ctx, tx, sc, dates)
			}
			return err
		}
		units, err := scopeUnits(ctx, tx, sc, false)
		if err != nil {
			return err
		}
		if err := attachCategories(ctx, tx, units); err != nil {
			return err
		}
		for _, date := range dates {
			m := last
			m.date, m.byDate = date, true
			if err := attachLatest(ctx, tx, units, m, false); err != nil {
				return err
			}
			var t tally
			for i := range units {
				t.add(&units[i])
			}
			out = append(out, DayStats{Date: m.date, Groups: t.groups(), Staff: t.staff()})
		}
		return nil
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return out, nil
}

// whenZH is the time the briefing speaks of: "11月20日下午5点", or for a
// report date "11月20日".
func whenZH(st *Stats) string {
	if st.Date != "" {
		return dateZH(st.Date)
	}
	return timeZH(st.AsOf)
}

// whenEN is whenZH in English: "5 p.m. on 20 November", "20 November".
func whenEN(st *Stats) string {
	if st.Date != "" {
		return dateEN(st.Date)
	}
	return timeEN(st.AsOf)
}

// rateCell is a rate for a workbook cell: nil (an empty cell) without data.
func rateCell(r float64, ok bool) any {
	if !ok {
		return nil
	}
	return r
}

// statsReportDate is the report date the figures are for: the date asked
// for, or the day of the moment.
func statsReportDate(st *Stats) string {
	if st.Date != "" {
		return st.Date
	}
	return st.AsOf.In(clock.Shanghai).Format(DateLayout)
}

// statsFileStamp names an export after its figures: the report date
// ("20221120") or the moment ("20221120-1700").
func statsFileStamp(st *Stats) string {
	if st.Date != "" {
		return st.Date[:4] + st.Date[5:7] + st.Date[8:]
	}
	return st.AsOf.In(clock.Shanghai).Format("20060102-1504")
}
