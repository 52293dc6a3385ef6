package app

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/masstest"
)

// demoMissedHouseholds is how many households each round misses: many at
// first, a handful later, none in the last rounds but one.
var demoMissedHouseholds = [demoTestingRounds + 1]int{9, 7, 5, 4, 3, 3, 2, 1, 2, 0, 1, 0, 0, 0, 0, 0}

// demoRegister is 大园社区's households in address order, each with its
// residents (codes and flags; no personal data is needed to sample them).
func demoRegister(ctx context.Context, h *System, p *auth.Principal) ([]masstest.Household, error) {
	var out []masstest.Household
	for page := 1; ; page++ {
		list, err := h.Testing.ListHouseholds(ctx, p, masstest.HouseholdFilter{Area: demoTestingCommunity, Page: page,
			PerPage: masstest.MaxHouseholdsPerPage})
		if err != nil {
			return nil, fmt.Errorf("demo: households: %w", err)
		}
		out = append(out, list.Items...)
		if len(out) >= list.Total || len(list.Items) == 0 {
			return out, nil
		}
	}
}

// demoSampling is what a round of the demo records: its samples, its
// exemptions and the tubes they fill.
type demoSampling struct {
	samples    []masstest.SampleInput
	exemptions []masstest.ExemptionInput
	tubes      []string
	tube       map[bool]string // the tube being filled, door or not
	filled     map[bool]int
}

// put adds a sample to the next room of its kind of tube.
func (s *demoSampling) put(k int, r masstest.Resident, door bool, at time.Time, site int64) {
	if s.filled[door]%10 == 0 {
		kind := "S"
		if door {
			kind = "D"
		}
		s.tube[door] = fmt.Sprintf("DY%02d%s%04d", k, kind, len(s.tubes)+1)
		s.tubes = append(s.tubes, s.tube[door])
	}
	s.filled[door]++
	in := masstest.SampleInput{ClientID: fmt.Sprintf("demo-%02d-%d", k, r.ID), Resident: r.Code, Tube: s.tube[door], PoolSize: 10,
		Mode: masstest.AtDoor, SampledAt: at}
	if !door {
		in.Mode, in.SiteID = masstest.AtSite, site
	}
	s.samples = append(s.samples, in)
}

// plan decides round k: who is exempt (away, infants), which households
// are missed, who is sampled where and when.
func demoPlan(k int, day time.Time, households []masstest.Household, site int64) *demoSampling {
	s := &demoSampling{tube: map[bool]string{}, filled: map[bool]int{}}
	missed := map[int64]bool{}
	for i := 0; len(missed) < demoMissedHouseholds[k-1]; i++ {
		missed[households[demoHash("missed/%d/%d", k, i)%uint32(len(households))].ID] = true
	}
	n := 0
	for _, hh := range households {
		for _, r := range hh.Residents {
			switch {
			case r.Status == masstest.Away:
				s.exemptions = append(s.exemptions, masstest.ExemptionInput{Resident: r.Code, Reason: masstest.ExemptAway, Note: "在外地"})
			case r.Infant:
				s.exemptions = append(s.exemptions, masstest.ExemptionInput{Resident: r.Code, Reason: masstest.ExemptInfant})
			case missed[hh.ID]:
			default:
				at := day.Add(7*time.Hour + time.Duration(n%700)*time.Minute).Add(time.Duration(demoHash("at/%d/%d", k, r.ID)%60) * time.Second)
				s.put(k, r, k <= 3 || r.Flags.Any(), at, site)
				n++
			}
		}
	}
	return s
}

// demoTestingRound replays round k on day: the round opened at 06:30, the
// exemptions and samples uploaded at 21:30, the lab's results at 23:00,
// and the round closed. Today's round (now set) is open all day and holds
// the samples taken before now, without results.
func demoTestingRound(ctx context.Context, h *System, clk *clock.Manual, campaign, site int64, k int, day time.Time, now *time.Time) error {
	ps, err := demoPrincipals(ctx, h, "dayuan", "hesuan")
	if err != nil {
		return err
	}
	dayuan, hesuan := ps[0], ps[1]
	in := masstest.RoundInput{Number: k, StartsAt: day.Add(7 * time.Hour), EndsAt: day.Add(21 * time.Hour), Mode: masstest.ModeBoth}
	clk.Set(day.Add(6*time.Hour + 30*time.Minute))
	if k <= 3 {
		in.Mode = masstest.ModeDoor
	}
	if now != nil {
		in.StartsAt, in.EndsAt = day, day.Add(24*time.Hour)
		clk.Set(day)
	}
	r, err := h.Testing.CreateRound(ctx, hesuan, strconv.FormatInt(campaign, 10), in)
	if err != nil {
		return fmt.Errorf("demo: round %d: %w", k, err)
	}
	ref := strconv.FormatInt(r.ID, 10)
	households, err := demoRegister(ctx, h, dayuan)
	if err != nil {
		return err
	}
	plan := demoPlan(k, day, households, site)
	clk.Set(day.Add(21*time.Hour + 30*time.Minute))
	if now != nil {
		clk.Set(*now)
		plan.until(*now)
	}
	if err := plan.record(ctx, h, dayuan, ref, k); err != nil || now != nil {
		return err
	}
	clk.Set(day.Add(23 * time.Hour))
	var results []masstest.LabRecord
	for i, tube := range plan.tubes {
		result := "negative"
		if k == demoTestingRounds && i == 1 {
			result = "positive" // ten residents to retest
		}
		results = append(results, masstest.LabRecord{Tube: tube, Result: result, Lab: demoTestingLab})
	}
	if _, err := h.Testing.StoreLabResults(ctx, hesuan, masstest.LabBatch{Results: results}); err != nil {
		return fmt.Errorf("demo: round %d results: %w", k, err)
	}
	if _, err := h.Testing.CloseRound(ctx, hesuan, ref); err != nil {
		return fmt.Errorf("demo: close round %d: %w", k, err)
	}
	return nil
}

// until keeps the samples taken before t.
func (s *demoSampling) until(t time.Time) {
	var kept []masstest.SampleInput
	for _, x := range s.samples {
		if x.SampledAt.Before(t) {
			kept = append(kept, x)
		}
	}
	s.samples = kept
}

// record uploads the round's exemptions and samples as p.
func (s *demoSampling) record(ctx context.Context, h *System, p *auth.Principal, ref string, k int) error {
	for _, e := range s.exemptions {
		if _, err := h.Testing.Exempt(ctx, p, ref, e); err != nil {
			return fmt.Errorf("demo: round %d exemption: %w", k, err)
		}
	}
	for start := 0; start < len(s.samples); start += masstest.MaxSampleBatch {
		res, err := h.Testing.RecordSamples(ctx, p, ref, s.samples[start:min(start+masstest.MaxSampleBatch, len(s.samples))])
		if err != nil {
			return fmt.Errorf("demo: round %d samples: %w", k, err)
		}
		for _, x := range res {
			if x.Status != masstest.Created {
				return fmt.Errorf("demo: round %d sample: %s %s", k, x.Code, x.Message)
			}
		}
	}
	return nil
}
