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

// The demo's estate gate (小区门岗, 两码查验): the east gate of 大园小区 in
// 大园社区 (whose register demoTesting loads), and its officer menggang on
// duty; the gate checks resident codes against the zones in force.

var demoGate = checkpoint.CheckpointInput{Name: "大园小区东门", Kind: checkpoint.EstateGate, Place: "建设南路大园小区东门",
	AreaCode: demoTestingCommunity, Estate: "大园小区"}

// demoMenggang is the estate gate's officer; its scope is the gate's id.
var demoMenggang = demoUser{"menggang", "大园小区东门执勤员", "checkpoint_officer", ""}

// demoEstateGate registers the estate gate, its officer and the shift
// under way and the next. It does nothing once the gate exists.
func demoEstateGate(ctx context.Context, sys *System) (users []string, err error) {
	if id, err := demoGateID(ctx, sys); err != nil || id != "" {
		return nil, err
	}
	sysP := auth.System()
	c, err := sys.Checkpoints.Create(ctx, sysP, demoGate)
	if err != nil {
		return nil, fmt.Errorf("demo: estate gate: %w", err)
	}
	if _, err := sys.Auth.CreateUser(ctx, sysP, auth.NewUser{Username: demoMenggang.username, DisplayName: demoMenggang.name,
		Password: DemoPassword, Roles: []auth.RoleInput{{Role: demoMenggang.role, Scope: "checkpoint:" + c.Ref()}}}); err != nil && !errs.Is(err, errs.Conflict) {
		return nil, fmt.Errorf("demo: user %s: %w", demoMenggang.username, err)
	}
	shift := demoShiftStart(sys.DB.Clock.Now().In(clock.Shanghai).Add(time.Minute))
	if _, err := sys.Checkpoints.SetRoster(ctx, sysP, c.Ref(), checkpoint.RosterInput{Shifts: []checkpoint.ShiftInput{
		{Name: demoMenggang.name, Username: demoMenggang.username, Post: "门岗执勤（两码查验）", Start: shift, End: shift.Add(12 * time.Hour)},
		{Name: "大园社区 网格员", Post: "网格员", Start: shift, End: shift.Add(12 * time.Hour)},
		{Name: "芦淞区下沉干部", Post: "下沉干部", Start: shift.Add(12 * time.Hour), End: shift.Add(24 * time.Hour)},
	}}); err != nil {
		return nil, fmt.Errorf("demo: estate gate roster: %w", err)
	}
	return []string{demoMenggang.username}, nil
}

// demoGateID is the id of the demo's estate gate, "" before it exists.
func demoGateID(ctx context.Context, sys *System) (string, error) {
	list, err := sys.Checkpoints.List(ctx, auth.System(), checkpoint.Filter{Kind: checkpoint.EstateGate, Area: demoTestingCommunity})
	if err != nil {
		return "", err
	}
	for _, c := range list {
		if c.Name == demoGate.Name {
			return c.Ref(), nil
		}
	}
	return "", nil
}
