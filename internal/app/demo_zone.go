package app

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/masstest"
	"tongxin/internal/zone"
	"tongxin/internal/zonerule"
)

// The demo's zones, on the story of the seed's newspaper page (its day,
// 2022-11-21, is the demo's today): 大园社区, "最先隔离封控的高风险区域之一",
// had its three estates sealed on 2022-11-02 (19 days before today) with
// the community controlled around them, and the estates lowered to
// controlled on 2022-11-18 (3 days before today). Today a retest of the
// last round's positive pool came back positive in a single tube: its
// building waits on the proposal queue. One resident of a building sealed
// today holds an exit permit for a medical visit.

const (
	demoZoneSealDays  = 19 // 2022-11-02
	demoZoneLowerDays = 3  // 2022-11-18
)

// demoZones decides the zones on a clock of their own. It does nothing
// once a zone exists.
func demoZones(ctx context.Context, sys *System) error {
	if list, err := sys.Zones.History(ctx, auth.System(), ""); err != nil {
		return fmt.Errorf("demo: zones: %w", err)
	} else if len(list) > 0 {
		return nil
	}
	now := sys.DB.Clock.Now()
	today := demoDay(now, demoDays-1)
	sealed := today.AddDate(0, 0, -demoZoneSealDays).Add(6 * time.Hour)
	clk := clock.NewManual(sealed.Add(-30 * time.Minute))
	h := wireSystem(sys.DB.WithClock(clk), sys.Box, sys.DataDir, sys.Log, wiring{})
	ps, err := demoPrincipals(ctx, sys, "commander", "dayuan")
	if err != nil {
		return err
	}
	commander, dayuan := ps[0], ps[1]
	if _, err := h.Zones.Create(ctx, commander, zone.ZoneInput{Level: zonerule.Controlled, AreaCode: demoTestingCommunity,
		EffectiveFrom: sealed, Reason: "大园社区出现本土阳性病例，社区划为管控区，人不出区、严禁聚集", DecisionNo: "株防指〔2022〕101号"}); err != nil {
		return fmt.Errorf("demo: controlled zone: %w", err)
	}
	var estates []*zone.Zone
	for i, e := range demoEstates {
		z, err := h.Zones.Create(ctx, commander, zone.ZoneInput{Level: zonerule.Sealed, AreaCode: demoTestingCommunity, Estate: e.name,
			EffectiveFrom: sealed, Reason: "小区内发现阳性感染者，实行封控管理，足不出户、上门服务",
			DecisionNo: fmt.Sprintf("株防指〔2022〕%d号", 102+i)})
		if err != nil {
			return fmt.Errorf("demo: seal %s: %w", e.name, err)
		}
		estates = append(estates, z)
	}
	lowered := today.AddDate(0, 0, -demoZoneLowerDays)
	clk.Set(lowered.Add(-time.Hour))
	for _, z := range estates {
		if _, err := h.Zones.Change(ctx, commander, z.ID, zone.ChangeInput{Level: zonerule.Controlled, At: &lowered,
			Reason: "连续多轮全员核酸检测无新增阳性，封控区降为管控区", DecisionNo: "株防指〔2022〕131号"}); err != nil {
			return fmt.Errorf("demo: lower %s: %w", z.Estate, err)
		}
	}
	return demoZoneToday(ctx, h, clk, today, now, dayuan, commander)
}

// demoZoneToday is today's part: a retest of the positive pool comes back
// positive in a single tube at 11:00 (a pending proposal for its
// building); a building of 芦淞花园 was sealed at 08:00, and a resident of
// it holds an exit permit for a medical visit this afternoon (until
// 17:00, or four hours from a later install).
func demoZoneToday(ctx context.Context, h *System, clk *clock.Manual, today, now time.Time, dayuan, commander *auth.Principal) error {
	at := func(hours int) time.Time {
		t := today.Add(time.Duration(hours) * time.Hour)
		if t.After(now) {
			return now // early in the morning: what happened is all "now"
		}
		return t
	}
	clk.Set(at(8))
	b, err := h.Zones.Create(ctx, commander, zone.ZoneInput{Level: zonerule.Sealed, AreaCode: demoTestingCommunity, Estate: "芦淞花园",
		Building: "2栋", EffectiveFrom: at(8), Reason: "楼栋内发现密切接触者，封控该楼栋", DecisionNo: "株防指〔2022〕140号"})
	if err != nil {
		return fmt.Errorf("demo: seal a building: %w", err)
	}
	residents, err := h.Testing.ListHouseholds(ctx, dayuan, masstest.HouseholdFilter{Area: demoTestingCommunity, Estate: b.Estate,
		Building: b.Building, Page: 1, PerPage: 1})
	if err != nil || len(residents.Items) == 0 || len(residents.Items[0].Residents) == 0 {
		return fmt.Errorf("demo: a resident of %s %s: %v", b.Estate, b.Building, err)
	}
	clk.Set(at(9))
	// The visit lasts until 17:00, or, for a demo installed later in the
	// day, until four hours from now: the permit is in force whenever the
	// demo city is made.
	until := at(9).Add(8 * time.Hour)
	if soon := now.Add(4 * time.Hour); until.Before(soon) {
		until = soon
	}
	if _, err := h.Zones.IssuePermit(ctx, dayuan, zone.PermitInput{Resident: residents.Items[0].Residents[0].Code,
		Reason: "就医（血液透析）", ValidFrom: at(9), ValidTo: until}); err != nil {
		return fmt.Errorf("demo: exit permit: %w", err)
	}
	return demoPositiveRetest(ctx, h, clk, at(10), at(11))
}

// demoPositiveRetest samples the first open retest of the positive pool
// in a single tube at sampled, and stores its positive result at result:
// the lab's answer proposes sealing the resident's building.
func demoPositiveRetest(ctx context.Context, h *System, clk *clock.Manual, sampled, result time.Time) error {
	ps, err := demoPrincipals(ctx, h, "dayuan", "hesuan")
	if err != nil {
		return err
	}
	dayuan, hesuan := ps[0], ps[1]
	open, err := h.Testing.Retests(ctx, dayuan, masstest.ListFilter{Area: demoTestingCommunity, Status: "open", Page: 1, PerPage: 1})
	if err != nil || len(open.Items) == 0 {
		return err
	}
	rt := open.Items[0]
	r, err := h.Testing.LookupResident(ctx, strconv.FormatInt(rt.ResidentID, 10))
	if err != nil {
		return err
	}
	clk.Set(sampled)
	res, err := h.Testing.RecordSamples(ctx, dayuan, strconv.FormatInt(rt.RoundID, 10), []masstest.SampleInput{{ClientID: "demo-retest-1",
		Resident: r.Code, Tube: "DYR0001", PoolSize: 1, Mode: masstest.AtDoor, SampledAt: sampled, RetestID: rt.ID}})
	if err != nil || len(res) != 1 || res[0].Status != masstest.Created {
		return fmt.Errorf("demo: retest sample: %v %+v", err, res)
	}
	clk.Set(result)
	if _, err := h.Testing.StoreLabResults(ctx, hesuan, masstest.LabBatch{Results: []masstest.LabRecord{{Tube: "DYR0001",
		Result: "positive", Lab: demoTestingLab}}}); err != nil {
		return fmt.Errorf("demo: retest result: %w", err)
	}
	return nil
}
