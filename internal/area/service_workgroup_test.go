package area_test

import (
	"reflect"
	"strings"
	"sync"
	"testing"

	"tongxin/internal/area"
	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/db/dbtest"
	"tongxin/internal/errs"
)

// forgetLog records the scopes whose cached principals the service drops.
type forgetLog struct {
	mu  sync.Mutex
	got []string
}

func (f *forgetLog) ForgetScope(kind auth.ScopeKind, ref string) {
	f.mu.Lock()
	f.got = append(f.got, string(kind)+":"+ref)
	f.mu.Unlock()
}

// take returns the scopes forgotten since the last call.
func (f *forgetLog) take() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.got
	f.got = nil
	return out
}

// A work group's capabilities, as a department's: the demo's testing
// group manages testing, the others nothing; set on create (sorted, each
// once), kept by an update that leaves them out, cleared by [], refused
// when unknown (the message lists all three), listed and audited.
func TestWorkgroupCapabilities(t *testing.T) {
	dbtest.Each(t, testClock(), func(t *testing.T, d *db.DB) {
		svc := seedDemo(t, d)
		sys := auth.System()
		caps := func(code string) []auth.Capability {
			t.Helper()
			gs, err := svc.Workgroups(ctx, sys)
			if err != nil {
				t.Fatal(err)
			}
			for _, g := range gs {
				if g.Code == code {
					return g.Capabilities
				}
			}
			t.Fatalf("no work group %s", code)
			return nil
		}
		if c := caps("testing"); !reflect.DeepEqual(c, []auth.Capability{auth.CapTestingManage}) {
			t.Fatalf("testing: %v", c)
		}
		if c := caps("traffic"); c == nil || len(c) != 0 {
			t.Fatalf("traffic: %#v", c)
		}
		g, err := svc.CreateWorkgroup(ctx, sys, area.Workgroup{Code: "ls_testing", Name: "芦淞区核酸检测组", AreaCode: "430203",
			Remit: "芦淞区的全员核酸检测", Capabilities: []auth.Capability{auth.CapTestingManage, auth.CapPassReview, auth.CapTestingManage}})
		if err != nil || !reflect.DeepEqual(g.Capabilities, []auth.Capability{auth.CapPassReview, auth.CapTestingManage}) {
			t.Fatalf("create: %+v %v", g, err)
		}
		plain, err := svc.CreateWorkgroup(ctx, sys, area.Workgroup{Code: "ls_plain", Name: "芦淞区宣传组", AreaCode: "430203", Remit: "宣传"})
		if err != nil || plain.Capabilities == nil || len(plain.Capabilities) != 0 {
			t.Fatalf("create without: %#v %v", plain, err)
		}
		// A new remit without the field keeps them.
		g, err = svc.UpdateWorkgroup(ctx, sys, area.Workgroup{Code: "ls_testing", Name: "芦淞区核酸检测组", AreaCode: "430203", Remit: "检测"})
		if err != nil || len(g.Capabilities) != 2 || len(caps("ls_testing")) != 2 {
			t.Fatalf("after a new remit: %+v %v", g, err)
		}
		if _, err := svc.UpdateWorkgroup(ctx, sys, area.Workgroup{Code: "ls_testing", Name: "芦淞区核酸检测组", AreaCode: "430203",
			Remit: "检测", Capabilities: []auth.Capability{}}); err != nil {
			t.Fatal(err)
		}
		if c := caps("ls_testing"); len(c) != 0 {
			t.Fatalf("after []: %v", c)
		}
		_, err = svc.UpdateWorkgroup(ctx, sys, area.Workgroup{Code: "ls_testing", Name: "芦淞区核酸检测组", AreaCode: "430203",
			Remit: "检测", Capabilities: []auth.Capability{"superuser"}})
		wantKind(t, err, errs.Invalid, "invalid_workgroup")
		if f := errs.As(err).Fields; len(f) != 1 || f[0].Field != "capabilities" ||
			!strings.Contains(f[0].Message, "未知的工作组职能“superuser”") || !strings.Contains(f[0].Message, "testing_manage（管理全员核酸检测）") {
			t.Fatalf("fields %+v", f)
		}
		_, err = svc.CreateWorkgroup(ctx, sys, area.Workgroup{Code: "ls_x", Name: "组", AreaCode: "430203", Capabilities: []auth.Capability{"superuser"}})
		wantKind(t, err, errs.Invalid, "invalid_workgroup")
		// HQ staff of a district may not give a city group capabilities.
		staff := principal(t, svc, auth.HQStaff, "430203")
		_, err = svc.UpdateWorkgroup(ctx, staff, area.Workgroup{Code: "traffic", Name: "交通管控组", AreaCode: "430200",
			Capabilities: []auth.Capability{auth.CapTestingManage}})
		wantKind(t, err, errs.NotFound, "workgroup_not_found")
		if c := caps("traffic"); len(c) != 0 {
			t.Fatalf("traffic after a refusal: %v", c)
		}
		// Created with, kept by the new remit, withdrawn (“原为 … 职能：…”).
		both := `%职能：审核通行证（pass_review）、管理全员核酸检测（testing_manage）%`
		if n := count(t, d, `SELECT COUNT(*) FROM audit_log WHERE object_type = 'workgroup' AND object_id = 'ls_testing' AND summary LIKE $1`, both); n != 3 {
			t.Errorf("%d audit rows naming ls_testing's capabilities, want 3", n)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM audit_log WHERE object_id = 'ls_testing' AND summary LIKE '%，职能：无；原为%'`); n != 1 {
			t.Errorf("%d audit rows withdrawing ls_testing's capabilities, want 1", n)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM audit_log WHERE object_id = 'testing' AND action = 'workgroup.create'
			AND summary LIKE '%职能：管理全员核酸检测（testing_manage）'`); n != 1 {
			t.Errorf("%d audit rows creating the demo's testing group with its capability, want 1", n)
		}
	})
}

// A change to a work group or a department drops the cached principals of
// its members or officers once it commits; an update that changes nothing,
// or fails, drops nothing.
func TestOrgChangesForgetPrincipals(t *testing.T) {
	dbtest.Each(t, testClock(), func(t *testing.T, d *db.DB) {
		log := &forgetLog{}
		as, ds, gs := area.DemoCity()
		svc := area.NewService(d, area.Deps{Principals: log})
		sys := auth.System()
		if _, err := svc.Seed(ctx, sys, as, ds, gs); err != nil {
			t.Fatal(err)
		}
		log.take()
		g := gs[1] // 集中隔离管控组
		g.Capabilities = []auth.Capability{auth.CapTestingManage}
		if _, err := svc.UpdateWorkgroup(ctx, sys, g); err != nil {
			t.Fatal(err)
		}
		if got := log.take(); !reflect.DeepEqual(got, []string{"workgroup:" + g.Code}) {
			t.Errorf("after a work group's change: %v", got)
		}
		if _, err := svc.UpdateWorkgroup(ctx, sys, g); err != nil {
			t.Fatal(err)
		}
		g.Capabilities = []auth.Capability{"superuser"}
		if _, err := svc.UpdateWorkgroup(ctx, sys, g); err == nil {
			t.Fatal("an unknown capability was taken")
		}
		if got := log.take(); len(got) != 0 {
			t.Errorf("after no change and a refusal: %v", got)
		}
		dep := ds[0]
		dep.Capabilities = []auth.Capability{auth.CapTestingManage}
		if _, err := svc.UpdateDepartment(ctx, sys, dep); err != nil {
			t.Fatal(err)
		}
		if got := log.take(); !reflect.DeepEqual(got, []string{"department:" + dep.Code}) {
			t.Errorf("after a department's change: %v", got)
		}
		// The demo seeded again puts the group back, and forgets it.
		if n, err := svc.Seed(ctx, sys, as, ds, gs); err != nil || n != 2 {
			t.Fatalf("seed again: %d, %v", n, err)
		}
		if got := log.take(); len(got) != 2 {
			t.Errorf("after the seed: %v", got)
		}
	})
}
