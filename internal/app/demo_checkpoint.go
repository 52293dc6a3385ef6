package app

import (
	"context"
	"fmt"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/checkpoint"
	"tongxin/internal/clock"
	"tongxin/internal/errs"
)

// demoCheckpoints are the seed's checkpoints: the four bridges released
// from traffic control, the two road checkpoints with their emergency
// lane, and a transfer point (物资接驳点) in the high-tech zone.
var demoCheckpoints = []checkpoint.CheckpointInput{
	{Name: "株洲大桥", Kind: checkpoint.Bridge, Place: "株洲大桥芦淞区桥头（建设南路口）", AreaCode: "430203001"},
	{Name: "建宁大桥", Kind: checkpoint.Bridge, Place: "建宁大桥天元区桥头（嵩山路口）", AreaCode: "430211001"},
	{Name: "芦淞大桥", Kind: checkpoint.Bridge, Place: "芦淞大桥芦淞区桥头", AreaCode: "430203002"},
	{Name: "枫溪大桥", Kind: checkpoint.Bridge, Place: "枫溪大桥荷塘区桥头", AreaCode: "430202003"},
	{Name: "建设路中心广场南口", Kind: checkpoint.Road, Place: "建设路中心广场南口", AreaCode: "430203003002"},
	{Name: "枫溪大道坚固立交路口", Kind: checkpoint.Road, Place: "枫溪大道坚固立交路口（应急通道）", AreaCode: "430202003"},
	{Name: "株洲高新区物资接驳点", Kind: checkpoint.TransferPoint, Place: "栗雨工业园物流中心", AreaCode: "430211003"},
}

// demoKakou is the checkpoint officer of the demo, at 建宁大桥; its scope
// is the checkpoint's id, known once the checkpoint exists.
var demoKakou = demoUser{"kakou", "建宁大桥卡口执勤员", "checkpoint_officer", ""}

// demoCheckpointData fills the checkpoint module: the checkpoints, the
// officer kakou, a duty roster at 建宁大桥, handovers at the transfer point,
// the bridges' closures with the notices that started and lifted them
// (株疫指通〔2022〕12号) and the emergency lane still in force. It does
// nothing once 建宁大桥 exists.
func demoCheckpointData(ctx context.Context, sys *System) (users []string, err error) {
	sysP := auth.System()
	if id, err := demoKakouCheckpoint(ctx, sys); err != nil {
		return nil, err
	} else if id != "" {
		return nil, nil
	}
	ids := map[string]string{}
	for _, in := range demoCheckpoints {
		c, err := sys.Checkpoints.Create(ctx, sysP, in)
		if err != nil {
			return nil, fmt.Errorf("demo: checkpoint %s: %w", in.Name, err)
		}
		ids[in.Name] = c.Ref()
	}
	jianning := ids["建宁大桥"]
	if _, err := sys.Auth.CreateUser(ctx, sysP, auth.NewUser{Username: demoKakou.username, DisplayName: demoKakou.name,
		Password: DemoPassword, Roles: []auth.RoleInput{{Role: demoKakou.role, Scope: "checkpoint:" + jianning}}}); err != nil && !errs.Is(err, errs.Conflict) {
		return nil, fmt.Errorf("demo: user %s: %w", demoKakou.username, err)
	}
	users = append(users, demoKakou.username)
	if err := demoCheckpointDuty(ctx, sys, ids); err != nil {
		return nil, err
	}
	if err := demoTrafficControl(ctx, sys); err != nil {
		return nil, err
	}
	return users, nil
}

// demoShiftStart is the start of the twelve-hour shift under way at now:
// shifts change at 08:00 and 20:00. The demo rosters that shift and the
// next, so that the demo can be built at any hour (a roster may not add a
// shift that has already ended).
func demoShiftStart(now time.Time) time.Time {
	start := time.Date(now.Year(), now.Month(), now.Day(), 8, 0, 0, 0, clock.Shanghai)
	switch {
	case now.Before(start):
		return start.Add(-12 * time.Hour)
	case !now.Before(start.Add(12 * time.Hour)):
		return start.Add(12 * time.Hour)
	}
	return start
}

// demoCheckpointDuty is the roster under way at 建宁大桥 and three handovers at
// the transfer point in the hours before now.
func demoCheckpointDuty(ctx context.Context, sys *System, ids map[string]string) error {
	sysP := auth.System()
	jianning := ids["建宁大桥"]
	now := sys.DB.Clock.Now().In(clock.Shanghai)
	// A minute before a change, the next shift is the one to roster: by
	// the time the roster is checked the current one may have ended.
	shift := demoShiftStart(now.Add(time.Minute))
	if _, err := sys.Checkpoints.SetRoster(ctx, sysP, jianning, checkpoint.RosterInput{Shifts: []checkpoint.ShiftInput{
		{Name: demoKakou.name, Username: demoKakou.username, Post: "卡口执勤", Start: shift, End: shift.Add(12 * time.Hour)},
		{Name: "荷塘区交警大队 李警官", Post: "交警", Start: shift, End: shift.Add(12 * time.Hour)},
		{Name: "市贸促会 下沉干部", Post: "下沉干部", Start: shift.Add(12 * time.Hour), End: shift.Add(24 * time.Hour)},
	}}); err != nil {
		return fmt.Errorf("demo: roster: %w", err)
	}
	transfer := ids["株洲高新区物资接驳点"]
	for i, h := range []checkpoint.HandoverInput{
		{Enterprise: "914302001838260003", Goods: "原料药辅料", Quantity: 2.5, Unit: "吨", OutsidePlate: "湘A7K253", InsidePlate: "湘B6D318"},
		{Enterprise: "914302001838260003", Goods: "药品包装材料", Quantity: 120, Unit: "箱", OutsidePlate: "湘A7K253", InsidePlate: "湘B6D318"},
		{Enterprise: "91430200616784000D", Goods: "汽车零部件", Quantity: 36, Unit: "托", OutsidePlate: "赣C3M706", InsidePlate: "湘B2F119"},
	} {
		at := now.Add(-time.Duration(3-i) * time.Hour)
		h.At = &at
		if _, err := sys.Checkpoints.LogHandover(ctx, sysP, transfer, h); err != nil {
			return fmt.Errorf("demo: handover: %w", err)
		}
	}
	return nil
}

// demoTrafficControl is the traffic control: the closures from 11-11
// evening, the emergency lane, and the notice of 11-20 that released the
// four bridges.
func demoTrafficControl(ctx context.Context, sys *System) error {
	sysP := auth.System()
	closedFrom := time.Date(2022, 11, 11, 20, 0, 0, 0, clock.Shanghai)
	var closures []int64
	for _, b := range demoCheckpoints[:4] {
		m, err := sys.Checkpoints.CreateMeasure(ctx, sysP, checkpoint.MeasureInput{Kind: checkpoint.Closure, Target: b.Name,
			TargetKind: checkpoint.TargetBridge, AreaCode: b.AreaCode[:6], EffectiveFrom: closedFrom,
			Description: "除防疫物资、保供车辆和应急车辆外，禁止车辆和行人通行。"})
		if err != nil {
			return fmt.Errorf("demo: measure %s: %w", b.Name, err)
		}
		closures = append(closures, m.ID)
	}
	lane, err := sys.Checkpoints.CreateMeasure(ctx, sysP, checkpoint.MeasureInput{Kind: checkpoint.EmergencyLane,
		Target: "枫溪大道坚固立交路口", TargetKind: checkpoint.TargetRoad, AreaCode: "430202", EffectiveFrom: closedFrom,
		Description: "设置防疫管控卡口，开通应急通道，保障防疫物资、保供车辆通行。"})
	if err != nil {
		return fmt.Errorf("demo: emergency lane: %w", err)
	}
	started := closedFrom.Add(-2 * time.Hour)
	if _, err := sys.Checkpoints.PublishNotice(ctx, sysP, checkpoint.NoticeInput{Number: "株疫指通〔2022〕8号",
		Title: "关于对主城区部分区域实施临时交通管制的通告", AreaCode: "430200", PublishedAt: &started,
		Body: "为科学精准做好疫情防控工作，自2022年11月11日20时起，对株洲大桥、建宁大桥、芦淞大桥、枫溪大桥实施临时交通管制，" +
			"除防疫物资、保供车辆和应急车辆外禁止通行；在建设路中心广场南口、枫溪大道坚固立交路口设置防疫管控卡口，开通应急通道。",
		Starts: append(append([]int64{}, closures...), lane.ID)}); err != nil {
		return fmt.Errorf("demo: notice 8: %w", err)
	}
	lifted := time.Date(2022, 11, 20, 12, 0, 0, 0, clock.Shanghai)
	if _, err := sys.Checkpoints.PublishNotice(ctx, sysP, checkpoint.NoticeInput{Number: "株疫指通〔2022〕12号",
		Title: "关于调整主城区部分区域临时交通管制措施的通告", AreaCode: "430200", PublishedAt: &lifted,
		Body: "为科学精准做好疫情防控工作，经市疫情防控指挥部研究决定，调整主城区部分区域临时交通管制措施：" +
			"株洲大桥、建宁大桥、芦淞大桥、枫溪大桥解除交通管制。枫溪大道坚固立交路口应急通道继续保留。",
		Lifts: closures}); err != nil {
		return fmt.Errorf("demo: notice 12: %w", err)
	}
	return nil
}

// demoKakouCheckpoint is the id of the demo's 建宁大桥 checkpoint, "" when
// the demo checkpoints do not exist yet.
func demoKakouCheckpoint(ctx context.Context, sys *System) (string, error) {
	list, err := sys.Checkpoints.List(ctx, auth.System(), checkpoint.Filter{Kind: checkpoint.Bridge, Area: "430211001"})
	if err != nil {
		return "", fmt.Errorf("demo: checkpoints: %w", err)
	}
	for _, c := range list {
		if c.Name == "建宁大桥" {
			return c.Ref(), nil
		}
	}
	return "", nil
}
