package app

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"time"

	"tongxin/internal/area"
	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/errs"
	"tongxin/internal/resumption"
)

// demoCityNote opens the audit summaries of the demo city's bulk loads.
const demoCityNote = "演示城市"

// demoCity registers the generated units of the demo city and files their
// two weeks of reports and the power readings before yesterday's, each in
// one bulk load (one audit row each). It does nothing once the generated
// units exist. The named enterprises were saved by demoResumption, which
// also filed their reports of today.
func demoCity(ctx context.Context, sys *System) error {
	areas, _, _ := area.DemoCity()
	units := demoCityUnits(areas)
	sysP := auth.System()
	var fresh []resumption.EnterpriseInput
	for _, u := range units {
		if !u.named {
			fresh = append(fresh, u.in)
		}
	}
	if _, err := sys.Resumption.Get(ctx, sysP, fresh[0].Key); err == nil {
		return nil
	} else if !errs.Is(err, errs.NotFound) {
		return fmt.Errorf("demo: city: %w", err)
	}
	if _, err := sys.Resumption.BulkRegister(ctx, sysP, fresh, demoCityNote); err != nil {
		return fmt.Errorf("demo: city registry: %w", err)
	}
	now := sys.DB.Clock.Now()
	if _, err := sys.Resumption.BulkFile(ctx, sysP, demoCityReports(units, now), demoCityNote); err != nil {
		return fmt.Errorf("demo: city reports: %w", err)
	}
	if _, err := sys.Resumption.BulkReadings(ctx, sysP, demoCityReadings(now), demoCityNote); err != nil {
		return fmt.Errorf("demo: power readings: %w", err)
	}
	return nil
}

// demoDay is the midnight (Asia/Shanghai) of day k of the demo, day
// demoDays-1 being today.
func demoDay(now time.Time, k int) time.Time {
	t := now.In(clock.Shanghai)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, clock.Shanghai).AddDate(0, 0, k-(demoDays-1))
}

// demoFiledAt is when a unit filed its report of day k: between 08:00 and
// 16:30 on past days (before the 17:00 of the daily figures), and between
// 08:00 (or midnight, early in the morning) and now today.
func demoFiledAt(now time.Time, key string, k int) time.Time {
	h := fnv.New32a()
	fmt.Fprintf(h, "%s/%d", key, k)
	frac := float64(h.Sum32()%10000) / 10000
	day := demoDay(now, k)
	from, span := day.Add(8*time.Hour), 510*time.Minute
	if k == demoDays-1 {
		if from.After(now) {
			from = day
		}
		span = now.Sub(from)
	}
	return from.Add(time.Duration(frac * float64(span))).Truncate(time.Millisecond)
}

// demoCityReports are the reports of every unit on every day it reports,
// but today's of the named enterprises (filed by demoResumption).
func demoCityReports(units []cityUnit, now time.Time) []resumption.FiledReport {
	var out []resumption.FiledReport
	for _, u := range units {
		for k := u.first; k < demoDays; k++ {
			if k == demoDays-1 && (u.named || u.skipLast) {
				continue
			}
			out = append(out, resumption.FiledReport{Key: u.in.Key, FiledAt: demoFiledAt(now, u.in.Key, k),
				ReportInput: u.report(demoDay(now, k).Format(resumption.DateLayout), k)})
		}
	}
	return out
}

// report is the unit's report of day k: suspended before it resumes, then
// partial for two days (or for good), its capacity and staff climbing to
// their last-day figures.
func (u *cityUnit) report(date string, k int) resumption.ReportInput {
	in := resumption.ReportInput{Date: date, Status: resumption.Suspended, ClosedLoop: u.in.ClosedLoop}
	capacity, expected, onSite := 0, u.expected, 0
	if k >= u.resume {
		in.Status = resumption.Resumed
		if u.partial || k-u.resume < 2 {
			in.Status = resumption.Partial
		}
		// Half of the last figures on the first day, all of them after a week.
		ramp := 0.5 + 0.5*math.Min(1, float64(k-u.resume)/6)
		if k == demoDays-1 {
			ramp = 1
		}
		capacity = int(float64(u.capacity) * ramp)
		if in.Status == resumption.Partial && !u.partial {
			capacity = min(capacity, int(float64(u.capacity)*demoPartialFactor))
		}
		onSite = min(expected, int(math.Round(float64(u.onSite)*ramp)))
	} else {
		in.Note = u.note
	}
	in.CapacityPct, in.StaffExpected, in.StaffOnSite = &capacity, &expected, &onSite
	return in
}

// demoPowerScopes are the power baselines of demoResumption with the
// readings it files for yesterday; the days before climb to them.
var demoPowerScopes = []struct {
	scope string
	load  float64
}{
	{"city_industrial", 59650000}, {"park:株洲高新区", 322100}, {"park:田心高科园", 205000},
}

// demoCityReadings are the daily maximum loads of the twelve days up to
// the day before yesterday, each filed at 09:00 the next morning,
// climbing from 62% towards yesterday's load.
func demoCityReadings(now time.Time) []resumption.FiledReading {
	var out []resumption.FiledReading
	for _, s := range demoPowerScopes {
		for k := 0; k < demoDays-2; k++ {
			day := demoDay(now, k)
			share := 0.62 + 0.36*demoCurve(0, k)
			out = append(out, resumption.FiledReading{FiledAt: day.Add(33 * time.Hour),
				ReadingInput: resumption.ReadingInput{Scope: s.scope, Date: day.Format(resumption.DateLayout),
					MaxLoadKW: math.Round(s.load*share/10) * 10}})
		}
	}
	return out
}
