package area_test

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"tongxin/internal/area"
	"tongxin/internal/audit"
	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/db/dbtest"
	"tongxin/internal/errs"
	"tongxin/internal/importer"
)

var ctx = context.Background()

func testClock() clock.Clock { return clock.NewManual(time.Date(2022, 11, 20, 17, 0, 0, 0, time.UTC)) }

// seedDemo loads the demo city as the system.
func seedDemo(t *testing.T, d *db.DB) *area.Service {
	t.Helper()
	svc := area.NewService(d, area.Deps{})
	as, ds, gs := area.DemoCity()
	if _, err := svc.Seed(ctx, auth.System(), as, ds, gs); err != nil {
		t.Fatalf("seed: %v", err)
	}
	return svc
}

// principal builds a user holding role over the area with code.
func principal(t *testing.T, svc *area.Service, role auth.Role, codes ...string) *auth.Principal {
	t.Helper()
	p := &auth.Principal{UserID: 42, Username: "user_" + string(role)}
	for _, c := range codes {
		path, err := svc.PathOf(ctx, c)
		if err != nil {
			t.Fatalf("PathOf(%s): %v", c, err)
		}
		p.Assignments = append(p.Assignments, auth.Assignment{Role: role, Scope: auth.Scope{Kind: auth.ScopeArea, Ref: c, Path: path}})
	}
	return p
}

func count(t *testing.T, d *db.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := d.ReadPool().QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func auditCount(t *testing.T, d *db.DB) int { return count(t, d, `SELECT COUNT(*) FROM audit_log`) }

func codes(list []area.Area) []string {
	out := make([]string, len(list))
	for i, a := range list {
		out[i] = a.Code
	}
	return out
}

func wantKind(t *testing.T, err error, k errs.Kind, code string) {
	t.Helper()
	if !errs.Is(err, k) {
		t.Fatalf("err = %v, want kind %s", err, k)
	}
	if code != "" && errs.As(err).Code != code {
		t.Fatalf("err code = %q, want %q (%v)", errs.As(err).Code, code, err)
	}
}

func TestDemoCity(t *testing.T) {
	as, ds, gs := area.DemoCity()
	byCode := map[string]area.Area{}
	for _, a := range as {
		if _, dup := byCode[a.Code]; dup {
			t.Errorf("duplicate code %s", a.Code)
		}
		byCode[a.Code] = a
	}
	find := func(name string) area.Area {
		for _, a := range as {
			if a.Name == name {
				return a
			}
		}
		t.Fatalf("no %s in the demo city", name)
		return area.Area{}
	}
	if a := find("大园社区"); a.Code != "430203001001" || a.ParentCode != "430203001" || byCode["430203001"].Name != "建设街道" {
		t.Errorf("大园社区 = %+v", a)
	}
	if a := find("郭家塘村"); byCode[a.ParentCode].Name != "井龙街道" || byCode[byCode[a.ParentCode].ParentCode].Name != "石峰区" {
		t.Errorf("郭家塘村 = %+v", a)
	}
	var districts, grids int
	for _, a := range as {
		switch a.Level {
		case area.District:
			districts++
		case area.Grid:
			grids++
			if a.ParentCode != "430203001001" {
				t.Errorf("grid %s not under 大园社区", a.Code)
			}
		}
	}
	if districts != 9 || grids < 1 || grids > 2 {
		t.Errorf("%d districts, %d grids", districts, grids)
	}
	if len(ds) != 9 || len(gs) != 7 {
		t.Errorf("%d departments, %d work groups", len(ds), len(gs))
	}
	for _, g := range gs {
		if g.Remit == "" || g.AreaCode != "430200" {
			t.Errorf("work group %+v", g)
		}
	}
}

func TestSeedIsIdempotent(t *testing.T) {
	dbtest.Each(t, testClock(), func(t *testing.T, d *db.DB) {
		svc := area.NewService(d, area.Deps{})
		as, ds, gs := area.DemoCity()
		n, err := svc.Seed(ctx, auth.System(), as, ds, gs)
		if err != nil {
			t.Fatal(err)
		}
		if want := len(as) + len(ds) + len(gs); n != want {
			t.Errorf("first seed changed %d, want %d", n, want)
		}
		rows := auditCount(t, d)
		if rows != n {
			t.Errorf("%d audit rows after the first seed, want %d", rows, n)
		}
		if got := count(t, d, `SELECT COUNT(*) FROM audit_log WHERE action = 'area.create' AND area_code = '430203001001'`); got != 1 {
			t.Errorf("audit rows for 大园社区 = %d, want 1", got)
		}
		n, err = svc.Seed(ctx, auth.System(), as, ds, gs)
		if err != nil || n != 0 {
			t.Fatalf("second seed: changed %d, err %v; want 0, nil", n, err)
		}
		if got := auditCount(t, d); got != rows {
			t.Errorf("audit rows %d after the second seed, want %d", got, rows)
		}
		// A changed name is one update.
		ds[0].Name = "市卫生健康委员会"
		if n, err = svc.Seed(ctx, auth.System(), as, ds, gs); err != nil || n != 1 {
			t.Errorf("seed with one change: %d, %v", n, err)
		}
		if checked, err := audit.Verify(ctx, d); err != nil || checked != int64(rows+1) {
			t.Errorf("audit.Verify = %d, %v", checked, err)
		}
		// Seeding needs the write permission.
		officer := principal(t, svc, auth.DistrictOfficer, "430203")
		_, err = svc.Seed(ctx, officer, as, ds, gs)
		wantKind(t, err, errs.Forbidden, "")
	})
}

// csvFile joins lines into a CSV file.
func csvFile(lines ...string) []byte { return []byte(strings.Join(lines, "\r\n") + "\r\n") }

func xlsxFile(t *testing.T, header []string, rows ...[]string) []byte {
	t.Helper()
	b, err := importer.WriteXLSX("areas", header, rows)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestImport(t *testing.T) {
	type wantErr struct {
		row    int
		column string
		text   string
	}
	cases := []struct {
		name             string
		file             func(t *testing.T) []byte
		created, updated int
		errs             []wantErr // non-empty: the file is refused
		code             string    // error code when refused
	}{
		{
			name: "CSV with Chinese headers, parents after children, levels partly given",
			file: func(*testing.T) []byte {
				return csvFile("区划代码,名称,上级编码,层级",
					"430202001001,月塘社区,430202001,社区",
					"430202001,月塘街道,430202,",
					"430202,荷塘区,430200,区",
					"430202001001001,月塘第一网格,430202001001,",
					"430200,株洲市,,市")
			},
			created: 5,
		},
		{
			name: "XLSX with English headers",
			file: func(t *testing.T) []byte {
				return xlsxFile(t, []string{"code", "name", "parent_code", "level"},
					[]string{"430200", "株洲市", "", "city"},
					[]string{"430203", "芦淞区", "430200", "district"},
					[]string{"430203001", "建设街道", "430203", "street"},
					[]string{"430203001001", "大园社区", "430203001", "community"})
			},
			created: 4,
		},
		{
			name: "one bad row among good ones",
			file: func(*testing.T) []byte {
				return csvFile("编码,名称,上级编码",
					"430200,株洲市,",
					"430203,芦淞区,430200",
					"430203001,,430203",
					"430203002,贺家土街道,430203")
			},
			errs: []wantErr{{4, "名称", "名称不能为空"}},
			code: "import_rejected",
		},
		{
			name: "every kind of bad row",
			file: func(*testing.T) []byte {
				return csvFile("编码,名称,上级编码,级别",
					"430200,株洲市,,",                               // 2 good
					",无编码,430200,",                               // 3 missing code
					"43020a,坏编码,430200,",                         // 4 bad format
					"430200,又一个株洲,,",                             // 5 duplicate
					"430203001,孤儿街道,430299,",                     // 6 parent not found
					"430204,石峰区,430200,街道",                       // 7 wrong level
					"430211001001,甲社区,430211001001001,",          // 8 cycle
					"430211001001001,乙网格,430211001001,",          // 9 cycle
					"430212,"+strings.Repeat("渌", 51)+",430200,", // 10 name too long
					"430224001,坏街道,430224,省",                     // 11 unknown level
					"430225,炎陵县,,区")                              // 12 district without parent
			},
			errs: []wantErr{
				{3, "编码", "编码不能为空"},
				{4, "编码", "只能包含数字"},
				{5, "编码", "重复"},
				{6, "上级编码", "不存在"},
				{7, "层级", "层级错误"},
				{8, "上级编码", "循环"},
				{9, "上级编码", "循环"},
				{10, "名称", "不能超过 50"},
				{11, "层级", "无法识别"},
				{12, "上级编码", "缺少上级编码"},
			},
			code: "import_rejected",
		},
		{
			name: "code that does not extend its parent's",
			file: func(*testing.T) []byte {
				return csvFile("编码,名称,上级编码", "430200,株洲市,", "430203,芦淞区,430200", "430204001,建设街道,430203")
			},
			errs: []wantErr{{4, "编码", "应以上级编码“430203”开头"}},
			code: "import_rejected",
		},
		{
			name: "header only",
			file: func(*testing.T) []byte { return csvFile("编码,名称,上级编码") },
			code: "import_no_rows",
		},
		{
			name: "unknown column",
			file: func(*testing.T) []byte { return csvFile("编码,人口,名称", "430200,100,株洲市") },
			errs: []wantErr{{1, "人口", "无法识别"}},
			code: "import_unknown_column",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dbtest.Each(t, testClock(), func(t *testing.T, d *db.DB) {
				svc := area.NewService(d, area.Deps{})
				res, err := svc.Import(ctx, auth.System(), tc.file(t))
				if tc.code != "" {
					wantKind(t, err, errs.Invalid, tc.code)
					fields := errs.As(err).Fields
					if len(fields) != len(tc.errs) {
						t.Fatalf("errors = %+v, want %d", fields, len(tc.errs))
					}
					for i, w := range tc.errs {
						f := fields[i]
						if f.Row != w.row || f.Column != w.column || !strings.Contains(f.Message, w.text) {
							t.Errorf("error %d = %+v, want row %d column %s containing %q", i, f, w.row, w.column, w.text)
						}
					}
					if n := count(t, d, `SELECT COUNT(*) FROM areas`); n != 0 {
						t.Errorf("%d areas written by a refused import", n)
					}
					if n := auditCount(t, d); n != 0 {
						t.Errorf("%d audit rows written by a refused import", n)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if res.Created != tc.created || res.Updated != tc.updated || res.Accepted != tc.created+tc.updated || res.Rejected != 0 || res.Errors == nil {
					t.Errorf("result = %+v", res)
				}
				if n := count(t, d, `SELECT COUNT(*) FROM areas`); n != tc.created {
					t.Errorf("%d areas, want %d", n, tc.created)
				}
				if n := count(t, d, `SELECT COUNT(*) FROM audit_log WHERE action = 'area.create'`); n != tc.created {
					t.Errorf("%d area.create audit rows, want %d", n, tc.created)
				}
				if n := count(t, d, `SELECT COUNT(*) FROM audit_log WHERE action = 'area.import' AND area_code = '430200'`); n != 1 {
					t.Errorf("%d area.import audit rows, want 1", n)
				}
			})
		})
	}
}

func TestReimportUpdatesNames(t *testing.T) {
	dbtest.Each(t, testClock(), func(t *testing.T, d *db.DB) {
		svc := seedDemo(t, d)
		areas, audits := count(t, d, `SELECT COUNT(*) FROM areas`), auditCount(t, d)
		res, err := svc.Import(ctx, auth.System(), csvFile("编码,名称,上级编码,层级",
			"430203001001,大园社区（芦淞）,430203001,社区",
			"430203001,建设街道,430203,",
			"430203001004,新建社区,430203001,"))
		if err != nil {
			t.Fatal(err)
		}
		if res.Created != 1 || res.Updated != 1 || res.Accepted != 3 {
			t.Errorf("result = %+v", res)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM areas`); n != areas+1 {
			t.Errorf("%d areas, want %d", n, areas+1)
		}
		a, err := svc.Get(ctx, auth.System(), "430203001001")
		if err != nil || a.Name != "大园社区（芦淞）" {
			t.Fatalf("Get = %+v, %v", a, err)
		}
		// update + create + import summary
		if n := auditCount(t, d); n != audits+3 {
			t.Errorf("%d audit rows, want %d", n, audits+3)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM audit_log WHERE action = 'area.update' AND area_code = '430203001001'`); n != 1 {
			t.Errorf("%d area.update rows", n)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM audit_log WHERE action = 'area.import' AND area_code = '430203001'`); n != 1 {
			t.Errorf("%d area.import rows under 建设街道", n)
		}

		// Moving or re-levelling an existing area is refused.
		for _, line := range []string{"430203001001,大园社区,430203002,", "430203001001,大园社区,430203001,网格", "430203,芦淞区,,"} {
			_, err = svc.Import(ctx, auth.System(), csvFile("编码,名称,上级编码,层级", line))
			wantKind(t, err, errs.Invalid, "import_rejected")
			if f := errs.As(err).Fields; len(f) != 1 || !strings.Contains(f[0].Message, "不能更改已有区划的上级或层级") {
				t.Errorf("%s: errors = %+v", line, f)
			}
		}
	})
}

func TestScope(t *testing.T) {
	dbtest.Each(t, testClock(), func(t *testing.T, d *db.DB) {
		svc := seedDemo(t, d)
		worker := principal(t, svc, auth.CommunityWorker, "430203001001") // 大园社区
		officer := principal(t, svc, auth.DistrictOfficer, "430203")      // 芦淞区
		staff := principal(t, svc, auth.HQStaff, "430203")                // may write 芦淞区
		nobody := &auth.Principal{UserID: 9, Username: "vol", Assignments: []auth.Assignment{{Role: auth.Volunteer,
			Scope: auth.Scope{Kind: auth.ScopeArea, Ref: "430203", Path: "/430200/430203/"}}}}

		t.Run("community worker", func(t *testing.T) {
			a, err := svc.Get(ctx, worker, "430203001001")
			if err != nil || a.Name != "大园社区" || len(a.Children) != 2 || a.ChildCount != 2 {
				t.Fatalf("Get own community = %+v, %v", a, err)
			}
			for _, other := range []string{"430203001002", "430203001", "430200", "999999"} {
				_, err := svc.Get(ctx, worker, other)
				wantKind(t, err, errs.NotFound, "area_not_found")
				if errs.As(err).Message != "区划不存在" {
					t.Errorf("message %q", errs.As(err).Message)
				}
				_, err = svc.Children(ctx, worker, other)
				wantKind(t, err, errs.NotFound, "area_not_found")
			}
			roots, err := svc.Roots(ctx, worker)
			if err != nil || !slices.Equal(codes(roots), []string{"430203001001"}) {
				t.Errorf("Roots = %v, %v", codes(roots), err)
			}
			found, err := svc.Search(ctx, worker, "社区", 0)
			if err != nil || !slices.Equal(codes(found), []string{"430203001001"}) {
				t.Errorf("Search 社区 = %v, %v", codes(found), err)
			}
			found, err = svc.Search(ctx, worker, "4302", 0)
			if err != nil || len(found) != 3 || found[0].Code != "430203001001" {
				t.Errorf("Search 4302 = %v, %v", codes(found), err)
			}
			kids, err := svc.Children(ctx, worker, "430203001001")
			if err != nil || !slices.Equal(codes(kids), []string{"430203001001001", "430203001001002"}) {
				t.Errorf("Children = %v, %v", codes(kids), err)
			}
			anc, err := svc.Ancestors(ctx, worker, "430203001001002")
			if err != nil || !slices.Equal(codes(anc), []string{"430203001001", "430203001001002"}) {
				t.Errorf("Ancestors = %v, %v", codes(anc), err)
			}
			ds, err := svc.Departments(ctx, worker)
			if err != nil || len(ds) != 0 {
				t.Errorf("Departments = %v, %v", ds, err)
			}
		})

		t.Run("district officer", func(t *testing.T) {
			roots, err := svc.Roots(ctx, officer)
			if err != nil || !slices.Equal(codes(roots), []string{"430203"}) || roots[0].ChildCount != 3 {
				t.Errorf("Roots = %+v, %v", roots, err)
			}
			found, err := svc.Search(ctx, officer, "街道", 0)
			if err != nil || !slices.Equal(codes(found), []string{"430203001", "430203002", "430203003"}) {
				t.Errorf("Search = %v, %v", codes(found), err)
			}
			found, err = svc.Search(ctx, officer, "街道", 2)
			if err != nil || len(found) != 2 {
				t.Errorf("Search limit 2 = %v, %v", codes(found), err)
			}
			found, err = svc.Search(ctx, officer, "%", 0) // a literal, not a wildcard
			if err != nil || len(found) != 0 {
				t.Errorf("Search %% = %v, %v", codes(found), err)
			}
			anc, err := svc.Ancestors(ctx, officer, "430203001001")
			if err != nil || !slices.Equal(codes(anc), []string{"430203", "430203001", "430203001001"}) {
				t.Errorf("Ancestors = %v, %v", codes(anc), err)
			}
			ds, err := svc.Departments(ctx, officer)
			if err != nil || len(ds) != 1 || ds[0].Code != "ls_wjj" {
				t.Errorf("Departments = %+v, %v", ds, err)
			}
			_, err = svc.Import(ctx, officer, csvFile("编码,名称,上级编码", "430203001005,新社区,430203001"))
			wantKind(t, err, errs.Forbidden, "forbidden")
			_, err = svc.CreateDepartment(ctx, officer, area.Department{Code: "ls_gxj", Name: "芦淞区工信局", AreaCode: "430203"})
			wantKind(t, err, errs.Forbidden, "forbidden")
			_, err = svc.UpdateWorkgroup(ctx, officer, area.Workgroup{Code: "testing", Name: "核酸组", AreaCode: "430200"})
			wantKind(t, err, errs.Forbidden, "forbidden")
		})

		t.Run("no read permission", func(t *testing.T) {
			_, err := svc.Get(ctx, nobody, "430203")
			wantKind(t, err, errs.Forbidden, "forbidden")
			_, err = svc.Roots(ctx, nobody)
			wantKind(t, err, errs.Forbidden, "forbidden")
			_, err = svc.Search(ctx, nobody, "社区", 0)
			wantKind(t, err, errs.Forbidden, "forbidden")
			_, err = svc.Workgroups(ctx, nobody)
			wantKind(t, err, errs.Forbidden, "forbidden")
			_, err = svc.Get(ctx, nil, "430203")
			wantKind(t, err, errs.Unauthorized, "")
		})

		t.Run("writer limited to a district", func(t *testing.T) {
			res, err := svc.Import(ctx, staff, csvFile("编码,名称,上级编码", "430203001005,新社区,430203001"))
			if err != nil || res.Created != 1 {
				t.Fatalf("import inside the district: %+v, %v", res, err)
			}
			_, err = svc.Import(ctx, staff, csvFile("编码,名称,上级编码",
				"430203001006,又一社区,430203001", "430204001004,石峰新社区,430204001", "430204,石峰,430200", "430300,湘潭市,"))
			wantKind(t, err, errs.Invalid, "import_rejected")
			f := errs.As(err).Fields
			if len(f) != 3 || f[0].Row != 3 || f[1].Row != 4 || f[2].Row != 5 {
				t.Fatalf("errors = %+v", f)
			}
			// A parent outside the caller's sight reads as missing; an area
			// outside its write scope is refused as such.
			for i, want := range []string{"不存在", "不在您的管辖范围内", "管理员"} {
				if !strings.Contains(f[i].Message, want) {
					t.Errorf("error %d = %+v, want %q", i, f[i], want)
				}
			}
			_, err = svc.CreateDepartment(ctx, staff, area.Department{Code: "sf_gxj", Name: "石峰区工信局", AreaCode: "430204"})
			wantKind(t, err, errs.NotFound, "area_not_found")
			_, err = svc.UpdateDepartment(ctx, staff, area.Department{Code: "sf_jw", Name: "石峰区纪委", AreaCode: "430204"})
			wantKind(t, err, errs.NotFound, "department_not_found")
			_, err = svc.UpdateDepartment(ctx, staff, area.Department{Code: "ls_wjj", Name: "芦淞区卫健局", AreaCode: "430204"})
			wantKind(t, err, errs.NotFound, "area_not_found")
			g, err := svc.CreateWorkgroup(ctx, staff, area.Workgroup{Code: "ls_testing", Name: "芦淞区核酸检测组", AreaCode: "430203", Remit: "区内核酸检测"})
			if err != nil || g.AreaCode != "430203" {
				t.Fatalf("CreateWorkgroup = %+v, %v", g, err)
			}
		})
	})
}

func TestDepartmentsAndWorkgroups(t *testing.T) {
	dbtest.Each(t, testClock(), func(t *testing.T, d *db.DB) {
		svc := seedDemo(t, d)
		sys := auth.System()
		before := auditCount(t, d)
		dep, err := svc.CreateDepartment(ctx, sys, area.Department{Code: " tj ", Name: " 市统计局 ", AreaCode: "430200"})
		if err != nil || !reflect.DeepEqual(*dep, area.Department{Code: "tj", Name: "市统计局", AreaCode: "430200", Capabilities: []auth.Capability{}}) {
			t.Fatalf("CreateDepartment = %+v, %v", dep, err)
		}
		invalid := []struct {
			name string
			in   area.Department
			kind errs.Kind
			code string
		}{
			{"taken code", area.Department{Code: "wjw", Name: "卫健委", AreaCode: "430200"}, errs.Conflict, "department_exists"},
			{"short code", area.Department{Code: "w", Name: "卫健委", AreaCode: "430200"}, errs.Invalid, "invalid_department"},
			{"upper case", area.Department{Code: "WJW2", Name: "卫健委", AreaCode: "430200"}, errs.Invalid, "invalid_department"},
			{"no name", area.Department{Code: "abc", AreaCode: "430200"}, errs.Invalid, "invalid_department"},
			{"long name", area.Department{Code: "abc", Name: strings.Repeat("局", 51), AreaCode: "430200"}, errs.Invalid, "invalid_department"},
			{"no area", area.Department{Code: "abc", Name: "局"}, errs.Invalid, "invalid_department"},
			{"unknown area", area.Department{Code: "abc", Name: "局", AreaCode: "430299"}, errs.NotFound, "area_not_found"},
		}
		for _, c := range invalid {
			_, err := svc.CreateDepartment(ctx, sys, c.in)
			if !errs.Is(err, c.kind) || errs.As(err).Code != c.code {
				t.Errorf("%s: err = %v, want %s %s", c.name, err, c.kind, c.code)
			}
		}
		if got := auditCount(t, d); got != before+1 {
			t.Errorf("audit rows %d, want %d", got, before+1)
		}
		dep, err = svc.UpdateDepartment(ctx, sys, area.Department{Code: "tj", Name: "市统计局", AreaCode: "430203"})
		if err != nil || dep.AreaCode != "430203" {
			t.Fatalf("UpdateDepartment = %+v, %v", dep, err)
		}
		_, err = svc.UpdateDepartment(ctx, sys, area.Department{Code: "nope", Name: "无", AreaCode: "430200"})
		wantKind(t, err, errs.NotFound, "department_not_found")
		if n := count(t, d, `SELECT COUNT(*) FROM audit_log WHERE object_type = 'department' AND object_id = 'tj'`); n != 2 {
			t.Errorf("%d audit rows for tj, want 2", n)
		}

		g, err := svc.UpdateWorkgroup(ctx, sys, area.Workgroup{Code: "traffic", Name: "交通管控组", AreaCode: "430200", Remit: "卡口与交通管制"})
		if err != nil || g.Remit != "卡口与交通管制" {
			t.Fatalf("UpdateWorkgroup = %+v, %v", g, err)
		}
		_, err = svc.CreateWorkgroup(ctx, sys, area.Workgroup{Code: "x1", Name: "组", AreaCode: "430200", Remit: strings.Repeat("职", 201)})
		wantKind(t, err, errs.Invalid, "invalid_workgroup")
		gs, err := svc.Workgroups(ctx, sys)
		if err != nil || len(gs) != 7 {
			t.Fatalf("Workgroups = %v, %v", gs, err)
		}
		for _, g := range gs {
			if g.Code == "traffic" && g.Remit != "卡口与交通管制" {
				t.Errorf("traffic = %+v", g)
			}
		}
		ds, err := svc.Departments(ctx, sys)
		if err != nil || len(ds) != 10 || ds[0].AreaCode != "430200" {
			t.Fatalf("Departments = %v, %v", ds, err)
		}
		if n, err := audit.Verify(ctx, d); err != nil {
			t.Errorf("audit.Verify after %d rows: %v", n, err)
		}
	})
}

func TestPathOf(t *testing.T) {
	dbtest.Each(t, testClock(), func(t *testing.T, d *db.DB) {
		svc := seedDemo(t, d)
		for code, want := range map[string]string{
			"430200":          "/430200/",
			"430204001001":    "/430200/430204/430204001/430204001001/",
			"430203001001002": "/430200/430203/430203001/430203001001/430203001001002/",
		} {
			if got, err := svc.PathOf(ctx, code); err != nil || got != want {
				t.Errorf("PathOf(%s) = %q, %v; want %q", code, got, err, want)
			}
		}
		_, err := svc.PathOf(ctx, "430299")
		wantKind(t, err, errs.NotFound, "area_not_found")
		roots, err := svc.Roots(ctx, auth.System())
		if err != nil || len(roots) != 1 || roots[0].Code != "430200" || roots[0].ChildCount != 9 {
			t.Errorf("system Roots = %+v, %v", roots, err)
		}
	})
}

// Names names many codes in one call; unknown ones are left out.
func TestNames(t *testing.T) {
	dbtest.Each(t, testClock(), func(t *testing.T, d *db.DB) {
		svc := seedDemo(t, d)
		got, err := svc.Names(ctx, []string{"430203", " 430204001001", "430299", "430203"})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got["430203"] != "芦淞区" || got["430204001001"] == "" {
			t.Errorf("Names = %v", got)
		}
		if got, err := svc.Names(ctx, nil); err != nil || len(got) != 0 {
			t.Errorf("Names(nil) = %v, %v", got, err)
		}
	})
}

// A department's capabilities: set by whoever may change the department
// (area.write over its area), kept when an update leaves them out, cleared
// by [], refused when unknown, listed, audited.
func TestDepartmentCapabilities(t *testing.T) {
	dbtest.Each(t, testClock(), func(t *testing.T, d *db.DB) {
		svc := seedDemo(t, d)
		sys := auth.System()
		caps := func(code string) []auth.Capability {
			t.Helper()
			ds, err := svc.Departments(ctx, sys)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range ds {
				if d.Code == code {
					return d.Capabilities
				}
			}
			t.Fatalf("no department %s", code)
			return nil
		}
		if c := caps("gxj"); !reflect.DeepEqual(c, []auth.Capability{auth.CapPassReview, auth.CapResumptionManage}) {
			t.Fatalf("gxj: %v", c)
		}
		if c := caps("mzj"); c == nil || len(c) != 0 {
			t.Fatalf("mzj: %#v", c)
		}
		dep, err := svc.UpdateDepartment(ctx, sys, area.Department{Code: "jtj", Name: "市交通运输局", AreaCode: "430200",
			Capabilities: []auth.Capability{auth.CapResumptionManage, auth.CapPassReview, auth.CapPassReview}})
		if err != nil || !reflect.DeepEqual(dep.Capabilities, []auth.Capability{auth.CapPassReview, auth.CapResumptionManage}) {
			t.Fatalf("grant: %+v %v", dep, err)
		}
		// A rename without the field keeps them.
		if _, err := svc.UpdateDepartment(ctx, sys, area.Department{Code: "jtj", Name: "市交通局", AreaCode: "430200"}); err != nil {
			t.Fatal(err)
		}
		if c := caps("jtj"); len(c) != 2 {
			t.Fatalf("after a rename: %v", c)
		}
		if _, err := svc.UpdateDepartment(ctx, sys, area.Department{Code: "jtj", Name: "市交通局", AreaCode: "430200",
			Capabilities: []auth.Capability{}}); err != nil {
			t.Fatal(err)
		}
		if c := caps("jtj"); len(c) != 0 {
			t.Fatalf("after []: %v", c)
		}
		_, err = svc.UpdateDepartment(ctx, sys, area.Department{Code: "jtj", Name: "市交通局", AreaCode: "430200",
			Capabilities: []auth.Capability{"superuser"}})
		wantKind(t, err, errs.Invalid, "invalid_department")
		if f := errs.As(err).Fields; len(f) != 1 || f[0].Field != "capabilities" {
			t.Fatalf("fields %+v", f)
		}
		// A district officer may not; HQ staff of a district may not for
		// a city department.
		officer := principal(t, svc, auth.DistrictOfficer, "430203")
		_, err = svc.UpdateDepartment(ctx, officer, area.Department{Code: "mzj", Name: "市民政局", AreaCode: "430200",
			Capabilities: []auth.Capability{auth.CapPassReview}})
		wantKind(t, err, errs.Forbidden, "")
		staff := principal(t, svc, auth.HQStaff, "430203")
		_, err = svc.UpdateDepartment(ctx, staff, area.Department{Code: "mzj", Name: "市民政局", AreaCode: "430200",
			Capabilities: []auth.Capability{auth.CapPassReview}})
		wantKind(t, err, errs.NotFound, "department_not_found")
		if c := caps("mzj"); len(c) != 0 {
			t.Fatalf("mzj after refusals: %v", c)
		}
		// Granted, kept by the rename, withdrawn (“原为 … 职能：…”).
		if n := count(t, d, `SELECT COUNT(*) FROM audit_log WHERE object_id = 'jtj' AND summary LIKE '%职能：审核通行证（pass_review）、管理复工复产企业名录（resumption_manage）%'`); n != 3 {
			t.Errorf("%d audit rows naming jtj's capabilities, want 3", n)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM audit_log WHERE object_id = 'jtj' AND summary LIKE '%，职能：无；原为%'`); n != 1 {
			t.Errorf("%d audit rows withdrawing jtj's capabilities, want 1", n)
		}
	})
}
