package checkpoint

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/passtoken"
	"tongxin/internal/web"
)

func TestCheckpointRegistry(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		manager := f.user("lsmanager", auth.HQStaff, "430203")
		c, err := f.svc.Create(f.Ctx, manager, CheckpointInput{Name: "芦淞大桥", Kind: Bridge, Place: "芦淞大桥东桥头",
			AreaCode: "430203002", Lat: ptr(27.83), Lng: ptr(113.15)})
		if err != nil {
			t.Fatal(err)
		}
		if c.ID == 0 || !c.Open || c.AreaName != "贺家土街道" || c.KindName != "桥梁卡口" || *c.Lat != 27.83 || c.CreatedBy != "lsmanager" {
			t.Fatalf("created %+v", c)
		}
		bad := []struct {
			in    CheckpointInput
			code  string
			field string
		}{
			{CheckpointInput{Kind: Bridge, AreaCode: "430203002"}, "invalid_checkpoint", "name"},
			{CheckpointInput{Name: "x", Kind: "ferry", AreaCode: "430203002"}, "invalid_checkpoint", "kind"},
			{CheckpointInput{Name: "x", Kind: Road}, "invalid_checkpoint", "area_code"},
			{CheckpointInput{Name: "x", Kind: Road, AreaCode: "430203002", Lat: ptr(1.0)}, "invalid_checkpoint", "lat"},
			{CheckpointInput{Name: "x", Kind: Road, AreaCode: "430203002", Lat: ptr(100.0), Lng: ptr(1.0)}, "invalid_checkpoint", "lat"},
			{CheckpointInput{Name: strings.Repeat("长", 51), Kind: Road, AreaCode: "430203002"}, "invalid_checkpoint", "name"},
			{CheckpointInput{Name: "x", Kind: Road, AreaCode: "439999"}, "area_not_found", "area_code"},
		}
		for _, b := range bad {
			_, err := f.svc.Create(f.Ctx, manager, b.in)
			e := mustErr(t, err, errs.Invalid, b.code)
			if len(e.Fields) == 0 || e.Fields[0].Field != b.field {
				t.Errorf("%+v: fields %+v, want %s", b.in, e.Fields, b.field)
			}
		}
		// Outside the manager's district: as if the area did not exist.
		_, err = f.svc.Create(f.Ctx, manager, CheckpointInput{Name: "株洲大桥", Kind: Bridge, AreaCode: "430211001"})
		mustErr(t, err, errs.NotFound, "area_not_found")
		reader := f.user("lusong", auth.DistrictOfficer, "430203")
		_, err = f.svc.Create(f.Ctx, reader, CheckpointInput{Name: "x", Kind: Road, AreaCode: "430203002"})
		mustErr(t, err, errs.Forbidden, "forbidden")
		// Moving it out of reach is refused; within reach it works and the
		// scan cache follows.
		_, err = f.svc.Update(f.Ctx, manager, ref(c), CheckpointInput{Name: c.Name, Kind: Bridge, AreaCode: "430211001"})
		mustErr(t, err, errs.Invalid, "area_not_found")
		if _, err := f.svc.cached(f.Ctx, ref(c)); err != nil {
			t.Fatal(err)
		}
		up, err := f.svc.Update(f.Ctx, manager, ref(c), CheckpointInput{Name: "芦淞大桥卡口", Kind: Bridge, AreaCode: "430203001"})
		if err != nil || up.AreaCode != "430203001" || up.Name != "芦淞大桥卡口" || up.Lat != nil || !up.Open {
			t.Fatalf("update: %+v %v", up, err)
		}
		if cc, _ := f.svc.cached(f.Ctx, ref(c)); cc.AreaPath != up.AreaPath {
			t.Fatalf("cache kept %s", cc.AreaPath)
		}
		if n := f.Count(`SELECT COUNT(*) FROM audit_log WHERE action LIKE 'checkpoint.%'`); n != 2 {
			t.Fatalf("%d audit rows", n)
		}
		// The officer role binds to a checkpoint through the registered
		// resolver; an unknown checkpoint is refused.
		u := f.user("kakou", auth.CheckpointOfficer, "checkpoint:"+ref(c))
		if sc := u.Assignments[0].Scope; sc.Name != "芦淞大桥卡口" || sc.Path != up.AreaPath {
			t.Fatalf("officer scope: %+v", sc)
		}
		_, err = f.Users.CreateUser(f.Ctx, f.Sys, auth.NewUser{Username: "nobody", DisplayName: "无", Password: "Checkpoint-Pass-2022!",
			Roles: []auth.RoleInput{{Role: "checkpoint_officer", Scope: "checkpoint:12345"}}})
		mustErr(t, err, errs.Invalid, "scope_not_found")
		_, err = f.Users.CreateUser(f.Ctx, f.Sys, auth.NewUser{Username: "nobody", DisplayName: "无", Password: "Checkpoint-Pass-2022!",
			Roles: []auth.RoleInput{{Role: "checkpoint_officer", Scope: "checkpoint:abc"}}})
		mustErr(t, err, errs.Invalid, "scope_not_found")
		// Lists filter by kind and area.
		f.checkpoint("物资接驳点", TransferPoint, "430211003")
		if l, err := f.svc.List(f.Ctx, f.Sys, Filter{Kind: TransferPoint}); err != nil || len(l) != 1 {
			t.Fatalf("by kind: %v %v", l, err)
		}
		if l, err := f.svc.List(f.Ctx, f.Sys, Filter{Area: "430203"}); err != nil || len(l) != 1 || l[0].ID != c.ID {
			t.Fatalf("by area: %v %v", l, err)
		}
		_, err = f.svc.List(f.Ctx, f.Sys, Filter{Kind: "x"})
		mustErr(t, err, errs.Invalid, "bad_kind")
	})
}

// What the pass module learns of a checkpoint a pass names: its id as
// tokens write it, its name and kind, the transfer point kind spelled as
// the pass module spells it; an unknown or malformed id is NotFound.
func TestCheckpointForPasses(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		tp := f.checkpoint("株洲高新区物资接驳点", TransferPoint, "430211003")
		bridge := f.checkpoint("建宁大桥", Bridge, "430211001")
		got, err := f.svc.Checkpoint(f.Ctx, " "+ref(tp))
		if err != nil || got.ID != ref(tp) || got.Name != "株洲高新区物资接驳点" || got.Kind != passtoken.TransferPointKind || !got.IsTransferPoint() {
			t.Fatalf("transfer point: %+v %v", got, err)
		}
		if got, err := f.svc.Checkpoint(f.Ctx, ref(bridge)); err != nil || got.Name != "建宁大桥" || got.IsTransferPoint() {
			t.Fatalf("bridge: %+v %v", got, err)
		}
		for _, id := range []string{"99999", "0", "-3", "abc", ""} {
			if _, err := f.svc.Checkpoint(f.Ctx, id); !errs.Is(err, errs.NotFound) {
				t.Errorf("%q: %v, want NotFound", id, err)
			}
		}
	})
}

func TestRoster(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		c := f.checkpoint("建宁大桥", Bridge, "430202002")
		kakou := f.user("kakou", auth.CheckpointOfficer, "checkpoint:"+ref(c))
		day := time.Date(2022, 11, 20, 8, 0, 0, 0, clock.Shanghai)
		in := RosterInput{Shifts: []ShiftInput{
			{Name: "王警官", Username: "kakou", Post: "交警", Start: day, End: day.Add(12 * time.Hour)},
			{Name: "李志愿者", Post: "志愿者", Start: day.Add(12 * time.Hour), End: day.Add(24 * time.Hour)},
		}}
		list, err := f.svc.SetRoster(f.Ctx, f.Sys, ref(c), in)
		if err != nil || len(list) != 2 || list[0].Username != "kakou" {
			t.Fatalf("roster: %+v %v", list, err)
		}
		got, err := f.svc.Get(f.Ctx, kakou, ref(c))
		if err != nil || len(got.OnDuty) != 1 || got.OnDuty[0].Name != "王警官" {
			t.Fatalf("on duty: %+v %v", got, err)
		}
		// The next day the roster is replaced from now on; the past stays.
		f.Clock.Set(day.Add(25 * time.Hour))
		list, err = f.svc.SetRoster(f.Ctx, f.Sys, ref(c), RosterInput{Shifts: []ShiftInput{
			{Name: "赵警官", Start: day.Add(24 * time.Hour), End: day.Add(36 * time.Hour)},
		}})
		if err != nil || len(list) != 1 || list[0].Name != "赵警官" {
			t.Fatalf("second roster: %+v %v", list, err)
		}
		all, err := f.svc.Roster(f.Ctx, kakou, ref(c), day.Add(-time.Hour), day.Add(48*time.Hour))
		if err != nil || len(all) != 3 {
			t.Fatalf("whole roster: %+v %v", all, err)
		}
		for _, b := range []ShiftInput{
			{Start: day.Add(30 * time.Hour), End: day.Add(31 * time.Hour)},
			{Name: "x", Start: day.Add(30 * time.Hour), End: day.Add(29 * time.Hour)},
			{Name: "x", Start: day, End: day.Add(time.Hour)},
			{Name: "x", Username: "ghost", Start: day.Add(30 * time.Hour), End: day.Add(31 * time.Hour)},
			{Name: "x", Start: day.Add(30 * time.Hour), End: day.Add(30*time.Hour + 8*24*time.Hour)},
		} {
			_, err := f.svc.SetRoster(f.Ctx, f.Sys, ref(c), RosterInput{Shifts: []ShiftInput{b}})
			mustErr(t, err, errs.Invalid, "invalid_roster")
		}
		_, err = f.svc.SetRoster(f.Ctx, kakou, ref(c), in)
		mustErr(t, err, errs.Forbidden, "forbidden")
	})
}

// Adding one shift keeps every other one, including shifts another
// manager added meanwhile; a bad shift names its field.
func TestAddShift(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		c := f.checkpoint("建宁大桥", Bridge, "430202002")
		kakou := f.user("kakou", auth.CheckpointOfficer, "checkpoint:"+ref(c))
		day := time.Date(2022, 11, 20, 12, 0, 0, 0, clock.Shanghai)
		var wg sync.WaitGroup
		for i, name := range []string{"王警官", "李志愿者", "赵警官", "钱医生"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				start := day.Add(time.Duration(i) * 6 * time.Hour)
				if _, err := f.svc.AddShift(f.Ctx, f.Sys, ref(c), ShiftInput{Name: name, Start: start, End: start.Add(6 * time.Hour)}); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		list, err := f.svc.Roster(f.Ctx, f.Sys, ref(c), day, day.Add(48*time.Hour))
		if err != nil || len(list) != 4 {
			t.Fatalf("roster after four managers added a shift each: %+v %v", list, err)
		}
		if n := f.Count(`SELECT COUNT(*) FROM audit_log WHERE action = 'checkpoint.shift_add'`); n != 4 {
			t.Fatalf("%d audit rows", n)
		}
		_, err = f.svc.AddShift(f.Ctx, f.Sys, ref(c), ShiftInput{Name: "x", Start: day.Add(2 * time.Hour), End: day.Add(time.Hour)})
		if e := mustErr(t, err, errs.Invalid, "invalid_shift"); len(e.Fields) != 1 || e.Fields[0].Field != "end" {
			t.Fatalf("fields %+v", e.Fields)
		}
		_, err = f.svc.AddShift(f.Ctx, kakou, ref(c), ShiftInput{Name: "x", Start: day, End: day.Add(time.Hour)})
		mustErr(t, err, errs.Forbidden, "forbidden")
	})
}

func TestHandovers(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		tp := f.checkpoint("株洲高新区物资接驳点", TransferPoint, "430211003")
		bridge := f.checkpoint("株洲大桥", Bridge, "430211001")
		officer := f.user("jiebo", auth.CheckpointOfficer, "checkpoint:"+ref(tp))
		good := HandoverInput{Enterprise: qianjin, Goods: "原料药辅料", Quantity: 2.5, Unit: "吨", OutsidePlate: "湘A·12345",
			InsidePlate: "湘B23456"}
		h, err := f.svc.LogHandover(f.Ctx, officer, ref(tp), good)
		if err != nil {
			t.Fatal(err)
		}
		if h.EnterpriseName != "株洲千金药业股份有限公司" || h.OutsidePlate != "湘A12345" || !h.At.Equal(testBase) || h.RecordedBy != "jiebo" {
			t.Fatalf("handover %+v", h)
		}
		bad := []struct {
			mut   func(*HandoverInput)
			field string
		}{
			{func(in *HandoverInput) { in.OutsidePlate = "湘I12345" }, "outside_plate"},
			{func(in *HandoverInput) { in.InsidePlate = "ABC" }, "inside_plate"},
			{func(in *HandoverInput) { in.InsidePlate = "湘A12345" }, "inside_plate"},
			{func(in *HandoverInput) { in.Quantity = 0 }, "quantity"},
			{func(in *HandoverInput) { in.Goods = "" }, "goods"},
			{func(in *HandoverInput) { in.Unit = "" }, "unit"},
			{func(in *HandoverInput) { in.Enterprise = "914302001838260004" }, "enterprise"},
			{func(in *HandoverInput) { in.Enterprise = "91430200MA4L00000X" }, "enterprise"},
			{func(in *HandoverInput) { in.At = ptr(testBase.Add(time.Hour)) }, "at"},
		}
		for _, b := range bad {
			in := good
			b.mut(&in)
			_, err := f.svc.LogHandover(f.Ctx, officer, ref(tp), in)
			e := mustErr(t, err, errs.Invalid, "invalid_handover")
			if e.Fields[0].Field != b.field {
				t.Errorf("%+v: %+v, want %s", in, e.Fields, b.field)
			}
		}
		_, err = f.svc.LogHandover(f.Ctx, f.Sys, ref(bridge), good)
		mustErr(t, err, errs.Conflict, "not_transfer_point")
		_, err = f.svc.LogHandover(f.Ctx, officer, ref(bridge), good)
		mustErr(t, err, errs.NotFound, "checkpoint_not_found")
		// Counts per day, enterprise and goods.
		in := good
		in.At = ptr(testBase.Add(-24 * time.Hour))
		in.Quantity = 1.5
		if _, err := f.svc.LogHandover(f.Ctx, officer, ref(tp), in); err != nil {
			t.Fatal(err)
		}
		in.Goods, in.Unit, in.Quantity = "药品包装材料", "箱", 40
		if _, err := f.svc.LogHandover(f.Ctx, officer, ref(tp), in); err != nil {
			t.Fatal(err)
		}
		from, to, _ := web.DayRange("2022-11-18", "2022-11-20", f.Clock.Now(), statsDays)
		st, err := f.svc.HandoverStats(f.Ctx, f.Sys, StatsQuery{From: from, To: to})
		if err != nil {
			t.Fatal(err)
		}
		if st.Total != 3 || len(st.Days) != 3 || st.Days[1] != (HandoverDay{"2022-11-19", 2}) || st.Days[2].Handovers != 1 {
			t.Fatalf("days: %+v", st)
		}
		if len(st.Enterprises) != 1 || st.Enterprises[0].Handovers != 3 || len(st.Enterprises[0].Goods) != 2 {
			t.Fatalf("enterprises: %+v", st.Enterprises)
		}
		if len(st.Goods) != 2 || st.Goods[0] != (HandoverGoods{Goods: "原料药辅料", Unit: "吨", Handovers: 2, Quantity: 4}) {
			t.Fatalf("goods: %+v", st.Goods)
		}
		if st, _ := f.svc.HandoverStats(f.Ctx, f.Sys, StatsQuery{From: from, To: to, Area: "430203"}); st.Total != 0 {
			t.Fatalf("another district: %+v", st)
		}
		list, err := f.svc.Handovers(f.Ctx, officer, ref(tp), 10)
		if err != nil || len(list) != 3 || list[0].Goods != "原料药辅料" || !list[0].At.Equal(testBase) {
			t.Fatalf("list: %+v %v", list, err)
		}
		if n := f.Count(`SELECT COUNT(*) FROM audit_log WHERE action = 'checkpoint.handover' AND summary LIKE '%湘A%'`); n != 3 {
			t.Fatalf("%d audit rows", n)
		}
	})
}

// Measures in force at a moment, and lifting by notice: the seed's four
// bridges closed, then released by 株疫指通〔2022〕12号.
func TestTrafficControl(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		hq := f.user("hqstaff", auth.HQStaff, "430200")
		closedFrom := time.Date(2022, 11, 12, 0, 0, 0, 0, clock.Shanghai)
		var bridges []int64
		for _, b := range []struct{ name, area string }{{"株洲大桥", "430203"}, {"建宁大桥", "430202"}, {"芦淞大桥", "430203"}, {"枫溪大桥", "430211"}} {
			m, err := f.svc.CreateMeasure(f.Ctx, hq, MeasureInput{Kind: Closure, Target: b.name, TargetKind: TargetBridge,
				AreaCode: b.area, EffectiveFrom: closedFrom, Description: "除保供、应急车辆外禁止通行"})
			if err != nil {
				t.Fatal(err)
			}
			if !m.InForce || m.Status != MeasureActive {
				t.Fatalf("new measure: %+v", m)
			}
			bridges = append(bridges, m.ID)
		}
		lane, err := f.svc.CreateMeasure(f.Ctx, hq, MeasureInput{Kind: EmergencyLane, Target: "枫溪大道坚固立交路口",
			AreaCode: "430202", EffectiveFrom: closedFrom})
		if err != nil {
			t.Fatal(err)
		}
		later, err := f.svc.CreateMeasure(f.Ctx, hq, MeasureInput{Kind: Restriction, Target: "建设路", AreaCode: "430203",
			EffectiveFrom: testBase.Add(48 * time.Hour), EffectiveTo: ptr(testBase.Add(72 * time.Hour))})
		if err != nil || later.InForce {
			t.Fatalf("later: %+v %v", later, err)
		}
		inForce := func(at time.Time) []int64 {
			t.Helper()
			list, err := f.svc.Measures(f.Ctx, &at)
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, m := range list {
				if !m.InForce {
					t.Fatalf("listed at %s but not in force: %+v", at, m)
				}
				ids = append(ids, m.ID)
			}
			return ids
		}
		if got := inForce(closedFrom.Add(-time.Minute)); len(got) != 0 {
			t.Fatalf("before: %v", got)
		}
		if got := inForce(testBase); len(got) != 5 {
			t.Fatalf("on 11-20 10:00: %v", got)
		}
		if got := inForce(testBase.Add(50 * time.Hour)); len(got) != 6 {
			t.Fatalf("on 11-22: %v", got)
		}
		published := time.Date(2022, 11, 20, 18, 0, 0, 0, clock.Shanghai)
		n, err := f.svc.PublishNotice(f.Ctx, hq, NoticeInput{Number: "株疫指通〔2022〕12号", Title: "关于调整主城区部分区域临时交通管制措施的通告",
			Body: "株洲大桥、建宁大桥、芦淞大桥、枫溪大桥解除交通管制。", PublishedAt: &published, Lifts: bridges})
		if err != nil {
			t.Fatal(err)
		}
		if n.AreaCode != "430200" || len(n.Lifts) != 4 || len(n.Measures) != 4 || n.Measures[0].Status != MeasureLifted {
			t.Fatalf("notice: %+v", n)
		}
		if got := inForce(published.Add(-time.Minute)); len(got) != 5 {
			t.Fatalf("just before the notice: %v", got)
		}
		if got := inForce(published); len(got) != 1 || got[0] != lane.ID {
			t.Fatalf("at the notice: %v", got)
		}
		all, err := f.svc.Measures(f.Ctx, nil)
		if err != nil || len(all) != 6 {
			t.Fatalf("all: %v %v", all, err)
		}
		for _, m := range all {
			if m.ID == bridges[0] && (m.EffectiveTo == nil || !m.EffectiveTo.Equal(published) || len(m.Notices) != 1 || m.Notices[0].Action != "lift") {
				t.Fatalf("lifted measure: %+v", m)
			}
		}
		// A lifted measure stays lifted.
		_, err = f.svc.PublishNotice(f.Ctx, hq, NoticeInput{Number: "株疫指通〔2022〕13号", Title: "再次解除", Body: "x", Lifts: bridges[:1]})
		mustErr(t, err, errs.Conflict, "measure_not_active")
		_, err = f.svc.UpdateMeasure(f.Ctx, hq, bridges[0], MeasureInput{Kind: Closure, Target: "株洲大桥", AreaCode: "430203", EffectiveFrom: closedFrom})
		mustErr(t, err, errs.Conflict, "measure_lifted")
		_, err = f.svc.PublishNotice(f.Ctx, hq, NoticeInput{Number: "株疫指通〔2022〕12号", Title: "重复", Body: "x", AreaCode: "430200"})
		mustErr(t, err, errs.Conflict, "notice_exists")
		_, err = f.svc.PublishNotice(f.Ctx, hq, NoticeInput{Number: "14号", Title: "x", Body: "x", Starts: []int64{lane.ID}, Lifts: []int64{lane.ID}})
		mustErr(t, err, errs.Invalid, "invalid_notice")
		_, err = f.svc.PublishNotice(f.Ctx, hq, NoticeInput{Number: "15号", Title: "x", Body: "x", Lifts: []int64{99999}})
		mustErr(t, err, errs.Invalid, "measure_not_found")
		// A measure that was to start after the lifting notice never does.
		f.Clock.Set(published.Add(time.Hour))
		n2, err := f.svc.PublishNotice(f.Ctx, hq, NoticeInput{Number: "株疫指通〔2022〕16号", Title: "取消建设路限行", Body: "x", Lifts: []int64{later.ID}})
		if err != nil || n2.AreaCode != "430203" {
			t.Fatalf("notice 16: %+v %v", n2, err)
		}
		if got := inForce(testBase.Add(50 * time.Hour)); len(got) != 1 {
			t.Fatalf("after cancelling the later restriction: %v", got)
		}
		// Cancelling: never in force.
		m, err := f.svc.UpdateMeasure(f.Ctx, hq, lane.ID, MeasureInput{Kind: EmergencyLane, Target: "枫溪大道坚固立交路口", AreaCode: "430202",
			EffectiveFrom: closedFrom, Status: MeasureCancelled, Version: lane.Version})
		if err != nil || m.Status != MeasureCancelled || m.InForce {
			t.Fatalf("cancel: %+v %v", m, err)
		}
		if got := inForce(testBase); len(got) != 4 {
			t.Fatalf("after cancelling the lane: %v", got)
		}
		_, err = f.svc.UpdateMeasure(f.Ctx, hq, lane.ID, MeasureInput{Kind: EmergencyLane, Target: "x", AreaCode: "430202",
			EffectiveFrom: closedFrom, Version: 1})
		mustErr(t, err, errs.Conflict, "stale_measure")
		// Notices: published ones, newest first.
		notices, err := f.svc.Notices(f.Ctx, 10)
		if err != nil || len(notices) != 2 || notices[0].Number != "株疫指通〔2022〕16号" {
			t.Fatalf("notices: %v %v", notices, err)
		}
		got, err := f.svc.Notice(f.Ctx, "1")
		if err != nil || got.Number != "株疫指通〔2022〕12号" || len(got.Measures) != 4 {
			t.Fatalf("notice 1: %+v %v", got, err)
		}
		_, err = f.svc.Notice(f.Ctx, "x")
		mustErr(t, err, errs.NotFound, "notice_not_found")
		// Who may: HQ staff within their area; district officers not at all.
		district := f.user("lsstaff", auth.HQStaff, "430203")
		_, err = f.svc.CreateMeasure(f.Ctx, district, MeasureInput{Kind: Closure, Target: "湘江大桥", AreaCode: "430211", EffectiveFrom: testBase})
		mustErr(t, err, errs.Invalid, "area_not_found")
		_, err = f.svc.UpdateMeasure(f.Ctx, district, lane.ID, MeasureInput{Kind: EmergencyLane, Target: "x", AreaCode: "430203", EffectiveFrom: closedFrom})
		mustErr(t, err, errs.NotFound, "measure_not_found")
		officer := f.user("lusong", auth.DistrictOfficer, "430203")
		_, err = f.svc.CreateMeasure(f.Ctx, officer, MeasureInput{Kind: Closure, Target: "x", AreaCode: "430203", EffectiveFrom: testBase})
		mustErr(t, err, errs.Forbidden, "forbidden")
		for _, b := range []MeasureInput{
			{Target: "x", AreaCode: "430203", EffectiveFrom: testBase},
			{Kind: Closure, AreaCode: "430203", EffectiveFrom: testBase},
			{Kind: Closure, Target: "x", AreaCode: "430203"},
			{Kind: Closure, Target: "x", AreaCode: "430203", EffectiveFrom: testBase, EffectiveTo: ptr(testBase.Add(-time.Hour))},
			{Kind: Closure, Target: "x", AreaCode: "430203", EffectiveFrom: testBase, Status: MeasureLifted},
		} {
			_, err := f.svc.CreateMeasure(f.Ctx, hq, b)
			mustErr(t, err, errs.Invalid, "invalid_measure")
		}
		if n := f.Count(`SELECT COUNT(*) FROM audit_log WHERE action LIKE 'traffic.%'`); n != 9 {
			t.Fatalf("%d audit rows", n)
		}
	})
}

// The schema's rules hold on both databases: one scan per client id and
// checkpoint, effective_to never before effective_from.
func TestSchemaConstraints(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		c := f.checkpoint("株洲大桥", Bridge, "430211001")
		err := f.DB.Write(f.Ctx, func(tx *db.Tx) error {
			for range 2 {
				if _, err := tx.ExecContext(context.Background(), `INSERT INTO checkpoint_scans (checkpoint_id, client_id, verdict, reason,
					scanned_at, received_at, officer) VALUES ($1, 'dup-00001', 'deny', 'malformed', 0, 0, 'x')`, c.ID); err != nil {
					return err
				}
			}
			return nil
		})
		if !f.DB.Dialect.IsUniqueViolation(err) {
			t.Fatalf("duplicate client id: %v", err)
		}
		err = f.DB.Write(f.Ctx, func(tx *db.Tx) error {
			_, err := tx.ExecContext(context.Background(), `INSERT INTO traffic_measures (kind, target, target_kind, area_code, area_path,
				effective_from, effective_to, status, created_at, created_by, updated_at, updated_by)
				VALUES ('closure', 'x', 'road', '430200', '/430200/', 10, 5, 'active', 0, 'x', 0, 'x')`)
			return err
		})
		if err == nil {
			t.Fatal("a measure ending before it starts was stored")
		}
	})
}
