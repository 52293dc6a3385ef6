package zone

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/testcity"
	"tongxin/internal/zonerule"
)

// Sealing a building at T1 and lifting it at T2: the list at a moment
// between holds it, after T2 does not; the decisions are audited.
func TestSealThenLift(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		z := f.decide(ZoneInput{Level: zonerule.Sealed, AreaCode: dayuan, Estate: "大园小区", Building: "2栋", EffectiveFrom: at(0)})
		if z.Kind != OverBuilding || z.Target != "大园社区 大园小区 2栋" || len(z.Buildings) != 1 || z.Buildings[0].Key != key(dayuan, "大园小区", "2栋") {
			t.Fatalf("zone: %+v", z)
		}
		f.Clock.Set(at(48 * time.Hour))
		if _, err := f.svc.Lift(f.Ctx, f.hq, z.ID, LiftInput{At: ptr(at(24 * time.Hour)), Reason: "连续检测阴性", DecisionNo: "株防指〔2022〕9号"}); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			at   time.Time
			want bool
		}{{at(-time.Minute), false}, {at(0), true}, {at(12 * time.Hour), true}, {at(24 * time.Hour), false}} {
			list, err := f.svc.List(f.Ctx, f.worker, ListFilter{At: &c.at})
			if err != nil {
				t.Fatal(err)
			}
			if got := slices.Contains(ids(list), z.ID); got != c.want {
				t.Errorf("at %s: listed %v, want %v", c.at, got, c.want)
			}
		}
		_, err := f.svc.Lift(f.Ctx, f.hq, z.ID, LiftInput{Reason: "再次", DecisionNo: "X"})
		testcity.MustErr(t, err, errs.Conflict, "zone_lifted")
		if n := f.Count(`SELECT COUNT(*) FROM audit_log WHERE object_type = 'zone' AND object_id = $1`, strconv.FormatInt(z.ID, 10)); n != 2 {
			t.Errorf("audit rows: %d", n)
		}
		// 古大桥's worker does not read 大园's zones.
		list, err := f.svc.List(f.Ctx, f.other, ListFilter{At: ptr(at(time.Hour))})
		if err != nil || len(list) != 0 {
			t.Fatalf("古大桥 sees %v %v", ids(list), err)
		}
		_, err = f.svc.Get(f.Ctx, f.other, z.ID)
		testcity.MustErr(t, err, errs.NotFound, "zone_not_found")
	})
}

// Refusals: unknown estate and building, a grid, a community worker
// deciding, an identical zone overlapping, a planned end before the start.
func TestDecisionRefusals(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		cases := []struct {
			in   ZoneInput
			kind errs.Kind
			code string
		}{
			{ZoneInput{Level: zonerule.Sealed, AreaCode: dayuan, Estate: "无此小区"}, errs.Invalid, "estate_not_found"},
			{ZoneInput{Level: zonerule.Sealed, AreaCode: dayuan, Estate: "大园小区", Building: "9栋"}, errs.Invalid, "building_not_found"},
			{ZoneInput{Level: zonerule.Sealed, AreaCode: street, Estate: "大园小区"}, errs.Invalid, "estate_needs_community"},
			{ZoneInput{Level: "red", AreaCode: dayuan}, errs.Invalid, "invalid_zone"},
			{ZoneInput{Level: zonerule.Sealed, AreaCode: dayuan, EffectiveFrom: at(time.Hour), PlannedEnd: ptr(at(0))}, errs.Invalid, "invalid_zone"},
			{ZoneInput{Level: zonerule.Sealed, AreaCode: "999999"}, errs.Invalid, "area_not_found"},
		}
		for _, c := range cases {
			c.in.Reason, c.in.DecisionNo = "理由", "文号1"
			_, err := f.svc.Create(f.Ctx, f.hq, c.in)
			testcity.MustErr(t, err, c.kind, c.code)
		}
		_, err := f.svc.Create(f.Ctx, f.worker, ZoneInput{Level: zonerule.Sealed, AreaCode: dayuan, Reason: "r", DecisionNo: "n"})
		testcity.MustErr(t, err, errs.Forbidden, "forbidden")
		f.decide(ZoneInput{Level: zonerule.Sealed, AreaCode: dayuan, Estate: "大园小区", EffectiveFrom: at(0), PlannedEnd: ptr(at(72 * time.Hour))})
		_, err = f.svc.Create(f.Ctx, f.hq, ZoneInput{Level: zonerule.Controlled, AreaCode: dayuan, Estate: "大园小区",
			EffectiveFrom: at(24 * time.Hour), Reason: "r", DecisionNo: "n"})
		e := testcity.MustErr(t, err, errs.Conflict, "zone_overlap")
		if e.Message == "" {
			t.Fatal("no message")
		}
		// After the planned end the estate may be zoned again; inside it,
		// a building of it may be sealed on its own.
		f.decide(ZoneInput{Level: zonerule.Guarded, AreaCode: dayuan, Estate: "大园小区", EffectiveFrom: at(72 * time.Hour)})
		f.decide(ZoneInput{Level: zonerule.Sealed, AreaCode: dayuan, Estate: "大园小区", Building: "1栋", EffectiveFrom: at(0)})
	})
}

// Lowering a sealed estate: the chain holds both decisions, the list at
// each moment the right level, a planned end lifts by itself.
func TestChangeKeepsHistory(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		z := f.decide(ZoneInput{Level: zonerule.Sealed, AreaCode: dayuan, Estate: "大园小区", EffectiveFrom: at(0)})
		f.Clock.Set(at(16 * 24 * time.Hour))
		_, err := f.svc.Change(f.Ctx, f.hq, z.ID, ChangeInput{Level: zonerule.Sealed, Reason: "r", DecisionNo: "n"})
		testcity.MustErr(t, err, errs.Invalid, "level_unchanged")
		low, err := f.svc.Change(f.Ctx, f.hq, z.ID, ChangeInput{Level: zonerule.Controlled, PlannedEnd: ptr(at(20 * 24 * time.Hour)),
			Reason: "连续 7 天无新增", DecisionNo: "株防指〔2022〕18号"})
		if err != nil {
			t.Fatal(err)
		}
		if low.PreviousID == nil || *low.PreviousID != z.ID || !low.EffectiveFrom.Equal(at(16*24*time.Hour)) || len(low.Buildings) != 3 {
			t.Fatalf("lowered: %+v", low)
		}
		_, err = f.svc.Change(f.Ctx, f.hq, z.ID, ChangeInput{Level: zonerule.Guarded, Reason: "r", DecisionNo: "n"})
		testcity.MustErr(t, err, errs.Conflict, "zone_changed")
		got, err := f.svc.Get(f.Ctx, f.worker, z.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.History) != 2 || got.History[0].ID != z.ID || got.History[1].ID != low.ID || got.NextID == nil {
			t.Fatalf("history: %+v", got.History)
		}
		for _, c := range []struct {
			d    time.Duration
			want zonerule.Level
		}{{time.Hour, zonerule.Sealed}, {16*24*time.Hour + time.Minute, zonerule.Controlled}, {20 * 24 * time.Hour, ""}} {
			list, err := f.svc.List(f.Ctx, f.hq, ListFilter{At: ptr(at(c.d)), Area: dayuan})
			if err != nil {
				t.Fatal(err)
			}
			var level zonerule.Level
			if len(list) == 1 {
				level = list[0].Level
			}
			if level != c.want || len(list) > 1 {
				t.Errorf("at +%s: %v, want %s", c.d, ids(list), c.want)
			}
		}
		f.Clock.Set(at(21 * 24 * time.Hour))
		_, err = f.svc.Lift(f.Ctx, f.hq, low.ID, LiftInput{Reason: "r", DecisionNo: "n"})
		testcity.MustErr(t, err, errs.Conflict, "zone_ended")
		hist, err := f.svc.History(f.Ctx, f.worker, dayuan)
		if err != nil || len(hist) != 2 || hist[0].ID != low.ID {
			t.Fatalf("history list: %v %v", ids(hist), err)
		}
	})
}

// The gate snapshot: whole, then the changes after a sequence number; an
// area zone names its communities, an estate zone its buildings; a permit
// cancelled ends at its cancellation.
func TestSnapshot(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		ctl := f.decide(ZoneInput{Level: zonerule.Controlled, AreaCode: street, EffectiveFrom: at(0)})
		est := f.decide(ZoneInput{Level: zonerule.Sealed, AreaCode: dayuan, Estate: "大园小区", EffectiveFrom: at(0)})
		full, err := f.svc.Snapshot(f.Ctx, f.worker, 0)
		if err != nil {
			t.Fatal(err)
		}
		if !full.Full || full.Seq != 2 || len(full.Zones) != 2 {
			t.Fatalf("full: %+v", full)
		}
		if !slices.Contains(full.Zones[0].Communities, dayuan) || !slices.Contains(full.Zones[0].Communities, gudaqiao) ||
			slices.Contains(full.Zones[0].Communities, hejiatu) || len(full.Zones[1].Buildings) != 3 {
			t.Fatalf("expansion: %+v", full.Zones)
		}
		pm, err := f.svc.IssuePermit(f.Ctx, f.worker, PermitInput{Resident: "r1", Reason: "就医（透析）", ValidFrom: at(time.Hour), ValidTo: at(5 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.IssuePermit(f.Ctx, f.worker, PermitInput{Resident: "r2", Reason: "就医", ValidFrom: at(time.Hour), ValidTo: at(5 * time.Hour)})
		testcity.MustErr(t, err, errs.Conflict, "not_sealed")
		_, err = f.svc.IssuePermit(f.Ctx, f.other, PermitInput{Resident: "r1", Reason: "就医", ValidFrom: at(time.Hour), ValidTo: at(5 * time.Hour)})
		testcity.MustErr(t, err, errs.Invalid, "resident_not_found")
		d, err := f.svc.Snapshot(f.Ctx, f.worker, full.Seq)
		if err != nil || d.Full || d.Seq != 3 || len(d.Zones) != 0 || len(d.Permits) != 1 || d.Permits[0].Resident != "r1" {
			t.Fatalf("delta: %+v %v", d, err)
		}
		x, _ := f.svc.GateIndex(f.Ctx)
		g := zonerule.Gate{Community: dayuan, Buildings: []string{key(dayuan, "大园小区", "1栋")}}
		r1 := zonerule.Resident{ID: "r1", Community: dayuan, Building: key(dayuan, "大园小区", "1栋")}
		if v := x.Decide(g, r1, at(2*time.Hour).UnixMilli()); v.Reason != "ok" || v.Permit == nil {
			t.Fatalf("with the permit: %+v", v)
		}
		f.Clock.Set(at(90 * time.Minute))
		if _, err := f.svc.CancelPermit(f.Ctx, f.worker, pm.ID, CancelInput{Reason: "已返回"}); err != nil {
			t.Fatal(err)
		}
		x, _ = f.svc.GateIndex(f.Ctx)
		if v := x.Decide(g, r1, at(2*time.Hour).UnixMilli()); v.Reason != "zone_sealed" || v.Zone.ID != est.ID {
			t.Fatalf("after the cancellation: %+v", v)
		}
		d, err = f.svc.Snapshot(f.Ctx, f.worker, 3)
		if err != nil || d.Full || len(d.Permits) != 1 || d.Permits[0].To != at(90*time.Minute).UnixMilli() {
			t.Fatalf("cancelled: %+v %v", d, err)
		}
		if s, _ := f.svc.Snapshot(f.Ctx, f.worker, 999); !s.Full {
			t.Fatal("a sequence number ahead of the database is not answered whole")
		}
		_, err = f.svc.CancelPermit(f.Ctx, f.worker, pm.ID, CancelInput{})
		testcity.MustErr(t, err, errs.Conflict, "permit_cancelled")
		_ = ctl
	})
}

// Two instances on one database: a change on one reaches the other's
// gate index once a second has passed; within it, the index is the
// cached one.
func TestGateIndexAcrossInstances(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		other := f.service(f.DB)
		x0, err := other.GateIndex(f.Ctx)
		if err != nil || x0.Snapshot().Seq != 0 {
			t.Fatalf("empty index: %v %v", x0, err)
		}
		f.decide(ZoneInput{Level: zonerule.Sealed, AreaCode: gudaqiao, EffectiveFrom: at(0)})
		if x, _ := other.GateIndex(f.Ctx); x != x0 {
			t.Fatal("the index was rebuilt within a second")
		}
		f.Clock.Set(at(1100 * time.Millisecond))
		x, err := other.GateIndex(f.Ctx)
		if err != nil || x.Snapshot().Seq != 1 || x.ZoneOf(gudaqiao, "", at(2*time.Second).UnixMilli()) == nil {
			t.Fatalf("after a second: %+v %v", x.Snapshot(), err)
		}
		if y, _ := f.svc.GateIndex(f.Ctx); y.Snapshot().Seq != 1 {
			t.Fatal("this instance's index did not follow its own change")
		}
	})
}

// A positive single tube's proposal: one per building while pending (more
// cases counted), the deciders told; confirming seals the building,
// declining needs a reason; a confirmed proposal is not decided again.
func TestProposals(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		sp := SealProposal{Community: dayuan, Estate: "大园小区", Building: "3栋", BuildingKey: key(dayuan, "大园小区", "3栋"), Tube: "T-1", Round: 7}
		for range 2 {
			if err := f.DB.Write(f.Ctx, func(tx *db.Tx) error { return f.svc.ProposeSeal(f.Ctx, tx, sp) }); err != nil {
				t.Fatal(err)
			}
		}
		if len(f.notes.sent) != 1 || f.notes.sent[0].Link != ProposalsLink {
			t.Fatalf("messages: %+v", f.notes.sent)
		}
		list, err := f.svc.Proposals(f.Ctx, f.worker, "pending", "")
		if err != nil || len(list) != 1 || list[0].Cases != 2 || list[0].Building != "3栋" {
			t.Fatalf("proposals: %+v %v", list, err)
		}
		_, err = f.svc.Confirm(f.Ctx, f.worker, list[0].ID, ConfirmInput{DecisionNo: "n"})
		testcity.MustErr(t, err, errs.Forbidden, "forbidden")
		_, err = f.svc.Confirm(f.Ctx, f.hq, list[0].ID, ConfirmInput{})
		testcity.MustErr(t, err, errs.Invalid, "invalid_confirm")
		pr, err := f.svc.Confirm(f.Ctx, f.hq, list[0].ID, ConfirmInput{DecisionNo: "株防指〔2022〕21号"})
		if err != nil || pr.Status != Confirmed || pr.ZoneID == nil {
			t.Fatalf("confirm: %+v %v", pr, err)
		}
		z, err := f.svc.Get(f.Ctx, f.hq, *pr.ZoneID)
		if err != nil || z.Level != zonerule.Sealed || z.Kind != OverBuilding || z.Building != "3栋" || !z.InForce {
			t.Fatalf("sealed: %+v %v", z, err)
		}
		_, err = f.svc.Decline(f.Ctx, f.hq, pr.ID, DeclineInput{Reason: "r"})
		testcity.MustErr(t, err, errs.Conflict, "proposal_decided")
		sp.Building, sp.BuildingKey, sp.Tube = "2栋", key(dayuan, "大园小区", "2栋"), "T-2"
		if err := f.DB.Write(f.Ctx, func(tx *db.Tx) error { return f.svc.ProposeSeal(f.Ctx, tx, sp) }); err != nil {
			t.Fatal(err)
		}
		list, _ = f.svc.Proposals(f.Ctx, f.hq, "pending", dayuan)
		_, err = f.svc.Decline(f.Ctx, f.hq, list[0].ID, DeclineInput{})
		testcity.MustErr(t, err, errs.Invalid, "invalid_decline")
		if pr, err := f.svc.Decline(f.Ctx, f.hq, list[0].ID, DeclineInput{Reason: "流调显示已转运，楼栋无风险"}); err != nil || pr.Status != Declined {
			t.Fatalf("decline: %+v %v", pr, err)
		}
	})
}

// The public list is the zones in force, by district, with no names;
// SealedIn finds a sealed zone over a round's areas; the figures count
// the zones by level.
func TestPublicSealedInFigures(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		f.decide(ZoneInput{Level: zonerule.Controlled, AreaCode: dayuan, EffectiveFrom: at(0)})
		b := f.decide(ZoneInput{Level: zonerule.Sealed, AreaCode: dayuan, Estate: "大园小区", Building: "1栋", EffectiveFrom: at(0)})
		f.decide(ZoneInput{Level: zonerule.Guarded, AreaCode: "430204", EffectiveFrom: at(time.Hour)})
		pub, err := f.svc.Public(f.Ctx, nil)
		if err != nil || len(pub.Districts) != 1 || pub.Districts[0].Name != "芦淞区" || len(pub.Districts[0].Zones) != 2 ||
			pub.Districts[0].Zones[0].ID != b.ID {
			t.Fatalf("public: %+v %v", pub, err)
		}
		list, _ := f.svc.List(f.Ctx, f.hq, ListFilter{})
		if len(list) != 2 {
			t.Fatalf("list: %v", ids(list))
		}
		streetPath := "/430200/430203/430203001/"
		if a, err := f.Areas.Lookup(f.Ctx, street); err == nil {
			streetPath = a.Path
		}
		name, err := f.svc.SealedIn(f.Ctx, []string{streetPath}, at(-time.Hour), at(time.Hour))
		if err != nil || name == "" {
			t.Fatalf("sealed in: %q %v", name, err)
		}
		if name, _ := f.svc.SealedIn(f.Ctx, []string{streetPath}, at(-2*time.Hour), at(-time.Hour)); name != "" {
			t.Fatalf("sealed before the zone: %q", name)
		}
		fig, err := f.svc.Figures(f.Ctx, f.hq, "2022-11-20", "430203")
		if err != nil || fig.InForce["sealed"] != 1 || fig.InForce["controlled"] != 1 || fig.Buildings["sealed"] != 1 ||
			fig.Communities["controlled"] != 1 || fig.Decided != 2 {
			t.Fatalf("figures: %+v %v", fig, err)
		}
	})
}
