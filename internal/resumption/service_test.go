package resumption

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/db/dbtest"
	"tongxin/internal/errs"
	"tongxin/internal/pii"
)

func TestCreditCodeHelper(t *testing.T) {
	for _, c := range []string{"91430200184287000F", "91430200616784000D", "914302001838260003", "91430203MA4L1A0000"} {
		if got := creditCode(t, c[:17]); got != c {
			t.Errorf("creditCode(%s) = %s, want %s", c[:17], got, c)
		}
		if _, err := pii.NormalizeCreditCode(badCheck(c)); err == nil {
			t.Errorf("badCheck(%s) = %s is still valid", c, badCheck(c))
		}
	}
}

func fieldNames(e *errs.Error) []string {
	var out []string
	for _, f := range e.Fields {
		out = append(out, f.Field)
	}
	return out
}

func TestSaveValidation(t *testing.T) {
	clk := testClock()
	dbtest.Each(t, clk, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, clk)
		key := f.key("430203")
		good := func() EnterpriseInput {
			return EnterpriseInput{Key: key, Kind: KindEnterprise, Name: "株洲测试企业", AreaCode: "430203001",
				Categories: []string{"规上工业"}, Employees: 10, ContactPhone: "139 0733 0001"}
		}
		cases := []struct {
			name   string
			change func(in *EnterpriseInput)
			fields []string
			msg    string // in the first field's message
		}{
			{"bad check character", func(in *EnterpriseInput) { in.Key = badCheck(key) }, []string{"key"}, "校验位"},
			{"17 characters", func(in *EnterpriseInput) { in.Key = key[:17] }, []string{"key"}, "18位"},
			{"bad project code", func(in *EnterpriseInput) { in.Kind, in.Key = KindProject, "XM 01" }, []string{"key"}, "项目编码"},
			{"long project code", func(in *EnterpriseInput) { in.Kind, in.Key = KindProject, strings.Repeat("A", 41) }, []string{"key"}, "1–40"},
			{"unknown kind", func(in *EnterpriseInput) { in.Kind = "factory" }, []string{"kind"}, "类型"},
			{"no name", func(in *EnterpriseInput) { in.Name = " " }, []string{"name"}, "名称"},
			{"long name", func(in *EnterpriseInput) { in.Name = strings.Repeat("企", 101) }, []string{"name"}, "1–100"},
			{"unknown area", func(in *EnterpriseInput) { in.AreaCode = "439999" }, []string{"area_code"}, "不存在"},
			{"the city", func(in *EnterpriseInput) { in.AreaCode = "430200" }, []string{"area_code"}, "全市"},
			{"negative employees", func(in *EnterpriseInput) { in.Employees = -1 }, []string{"employees"}, "负"},
			{"bad phone", func(in *EnterpriseInput) { in.ContactPhone = "0733-1234" }, []string{"contact_phone"}, "手机号"},
			{"unknown category", func(in *EnterpriseInput) { in.Categories = []string{"规上工业", "规下工业"} }, []string{"categories"}, "规下工业"},
			{"several", func(in *EnterpriseInput) { in.Name, in.AreaCode, in.ContactPhone = "", "", "1" },
				[]string{"name", "area_code", "contact_phone"}, "名称"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				in := good()
				c.change(&in)
				_, _, err := f.svc.Save(f.ctx, f.sys, in)
				e := mustErr(t, err, errs.Invalid, "invalid_enterprise")
				if got := fieldNames(e); !slices.Equal(got, c.fields) {
					t.Fatalf("fields = %v, want %v (%v)", got, c.fields, e.Fields)
				}
				if !strings.Contains(e.Fields[0].Message, c.msg) {
					t.Errorf("message %q does not mention %q", e.Fields[0].Message, c.msg)
				}
			})
		}
		if n := f.count(`SELECT COUNT(*) FROM enterprises`); n != 0 {
			t.Errorf("%d enterprises written by refused saves", n)
		}
		if _, _, err := f.svc.Save(f.ctx, f.sys, good()); err != nil {
			t.Fatalf("the good input is refused: %v", err)
		}
	})
}

func TestSaveCreateUpdate(t *testing.T) {
	clk := testClock()
	dbtest.Each(t, clk, func(t *testing.T, d *db.DB) {
		clk.Set(testBase)
		f := newFixture(t, d, clk)
		key := f.key("430203")
		in := EnterpriseInput{Key: strings.ToLower(key), Name: " 株洲测试企业 ", AreaCode: "430203001", Park: "芦淞服饰产业园",
			Categories: []string{"规上工业", "industrial_above_scale"}, IsKey: true, Employees: 300,
			ContactName: "张三丰", ContactPhone: "+86 139-0733-0001", ClosedLoop: true}
		e, created, err := f.svc.Save(f.ctx, f.sys, in)
		if err != nil || !created {
			t.Fatalf("create: %v, created %v", err, created)
		}
		want := Enterprise{Key: key, Kind: KindEnterprise, Name: "株洲测试企业", AreaCode: "430203001", AreaName: "建设街道",
			Park: "芦淞服饰产业园", Categories: []Category{IndustrialAboveScale}, IsKey: true, Employees: 300, ContactName: "张三丰",
			ContactPhone: "139****0001", ClosedLoop: true, Liaisons: []string{}}
		got := *e
		got.ID, got.AreaPath, got.CreatedAt, got.UpdatedAt = 0, "", time.Time{}, time.Time{}
		if !equalEnterprise(got, want) {
			t.Fatalf("created\n got %+v\nwant %+v", got, want)
		}
		if !e.CreatedAt.Equal(testBase) || e.AreaPath != "/430200/430203/430203001/" {
			t.Errorf("created_at %v, path %q", e.CreatedAt, e.AreaPath)
		}
		// The phone is sealed with a blind index, never stored in clear.
		var enc []byte
		var idx string
		if err := d.ReadPool().QueryRowContext(f.ctx, `SELECT contact_phone_enc, contact_phone_idx FROM enterprises WHERE ekey = $1`, key).
			Scan(&enc, &idx); err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(enc, []byte("13907330001")) || idx != f.box.Index("phone", "13907330001") {
			t.Errorf("phone not sealed / indexed: idx %s", idx)
		}
		if plain, err := f.box.Open(enc); err != nil || plain != "13907330001" {
			t.Errorf("sealed phone opens to %q, %v", plain, err)
		}
		summary := f.count(`SELECT COUNT(*) FROM audit_log WHERE action = 'enterprise.create' AND object_id = $1
			AND area_code = '430203001' AND summary LIKE '%139****0001%' AND summary NOT LIKE '%13907330001%' AND summary NOT LIKE '%张三丰%'`, key)
		if summary != 1 {
			t.Errorf("audit rows of the creation with masked personal data = %d, want 1", summary)
		}

		// Update by key: categories replaced, phone removed, area moved.
		clk.Advance(time.Hour)
		in.Key, in.Name, in.AreaCode = key, "株洲测试企业（新）", "430203002"
		in.Categories, in.ContactPhone, in.Employees = []string{"限上批零住餐", "services_above_scale"}, "", 280
		e, created, err = f.svc.Save(f.ctx, f.sys, in)
		if err != nil || created {
			t.Fatalf("update: %v, created %v", err, created)
		}
		if e.Name != "株洲测试企业（新）" || e.AreaCode != "430203002" || e.ContactPhone != "" || e.Employees != 280 ||
			!slices.Equal(e.Categories, []Category{TradeCateringAboveQuota, ServicesAboveScale}) || !e.UpdatedAt.Equal(testBase.Add(time.Hour)) {
			t.Errorf("updated = %+v", e)
		}
		if n := f.count(`SELECT COUNT(*) FROM enterprise_categories`); n != 2 {
			t.Errorf("%d category rows, want 2", n)
		}
		if n := f.count(`SELECT COUNT(*) FROM enterprises`); n != 1 {
			t.Errorf("%d enterprises, want 1", n)
		}
		if n := f.count(`SELECT COUNT(*) FROM audit_log WHERE action = 'enterprise.update' AND area_code = '430203002'
			AND summary LIKE '%职工人数 300 改为 280%' AND summary LIKE '%联系电话已删除%'`); n != 1 {
			t.Errorf("update audit rows = %d, want 1", n)
		}
		// A project may not take over an enterprise's key.
		_, _, err = f.svc.Save(f.ctx, f.sys, EnterpriseInput{Key: key, Kind: KindProject, Name: "项目", AreaCode: "430203002"})
		mustErr(t, err, errs.Conflict, "enterprise_conflict")
	})
}

// equalEnterprise compares the fields a test sets.
func equalEnterprise(a, b Enterprise) bool {
	return a.Key == b.Key && a.Kind == b.Kind && a.Name == b.Name && a.AreaCode == b.AreaCode && a.AreaName == b.AreaName &&
		a.Park == b.Park && slices.Equal(a.Categories, b.Categories) && a.IsKey == b.IsKey && a.Employees == b.Employees &&
		a.ContactName == b.ContactName && a.ContactPhone == b.ContactPhone && a.ClosedLoop == b.ClosedLoop &&
		slices.Equal(a.Liaisons, b.Liaisons)
}

func TestSaveScope(t *testing.T) {
	clk := testClock()
	dbtest.Each(t, clk, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, clk)
		staff := f.officer(auth.HQStaff, "430203") // manages 芦淞区 only
		inShiFeng := f.enterprise("430204001")
		key := f.key("430203")
		if _, created, err := f.svc.Save(f.ctx, staff, EnterpriseInput{Key: key, Name: "芦淞企业", AreaCode: "430203001"}); err != nil || !created {
			t.Fatalf("save in scope: %v", err)
		}
		_, _, err := f.svc.Save(f.ctx, staff, EnterpriseInput{Key: f.key("430204"), Name: "石峰企业", AreaCode: "430204001"})
		if e := mustErr(t, err, errs.Invalid, "invalid_enterprise"); !strings.Contains(e.Fields[0].Message, "无权") {
			t.Errorf("out of scope area: %v", e.Fields)
		}
		// Moving an enterprise out of the caller's scope, or taking over one
		// registered outside it, is refused.
		_, _, err = f.svc.Save(f.ctx, staff, EnterpriseInput{Key: key, Name: "芦淞企业", AreaCode: "430204001"})
		mustErr(t, err, errs.Invalid, "invalid_enterprise")
		_, _, err = f.svc.Save(f.ctx, staff, EnterpriseInput{Key: inShiFeng.Key, Name: "抢注", AreaCode: "430203001"})
		mustErr(t, err, errs.Conflict, "enterprise_conflict")
		_, _, err = f.svc.Save(f.ctx, f.officer(auth.StreetOfficer, "430203001"), EnterpriseInput{Key: key, Name: "x", AreaCode: "430203001"})
		mustErr(t, err, errs.Forbidden, "forbidden")
		_, _, err = f.svc.Save(f.ctx, nil, EnterpriseInput{Key: key, Name: "x", AreaCode: "430203001"})
		mustErr(t, err, errs.Unauthorized, "")
		if e, _ := f.svc.Get(f.ctx, f.sys, inShiFeng.Key); e.Name != inShiFeng.Name || e.AreaCode != "430204001" {
			t.Errorf("enterprise outside the scope changed: %+v", e)
		}
	})
}

func TestVisibility(t *testing.T) {
	clk := testClock()
	dbtest.Each(t, clk, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, clk)
		jianshe := f.enterprise("430203001001", IndustrialAboveScale) // 建设街道 大园社区
		hejiatu := f.enterprise("430203002", TradeCateringAboveQuota) // 贺家土街道
		shifeng := f.enterprise("430204001")                          // 石峰区
		proj := f.project("XM-2022-001", "430203001")
		f.liaison("lly1", "430204")
		f.assign("lly1", hejiatu.Key)
		liaison := &auth.Principal{}
		id, roles, err := f.users.LookupUser(f.ctx, "lly1")
		if err != nil {
			t.Fatal(err)
		}
		liaison.UserID, liaison.Username, liaison.Assignments = id, "lly1", roles

		sorted := func(keys ...string) []string { slices.Sort(keys); return keys }
		// dept is an officer of a city department with capabilities.
		dept := func(code string, caps ...auth.Capability) *auth.Principal {
			return &auth.Principal{UserID: 9200, Username: "officer_" + code, Assignments: []auth.Assignment{{Role: auth.DepartmentOfficer,
				Scope: auth.Scope{Kind: auth.ScopeDepartment, Ref: code, Path: "/430200/", Caps: caps}}}}
		}
		cases := []struct {
			name    string
			p       *auth.Principal
			visible []string
		}{
			{"enterprise contact", f.contact(jianshe.Key), []string{jianshe.Key}},
			{"liaison", liaison, []string{hejiatu.Key}},
			{"street officer", f.officer(auth.StreetOfficer, "430203001"), sorted(jianshe.Key, proj.Key)},
			{"district officer", f.officer(auth.DistrictOfficer, "430203"), sorted(jianshe.Key, hejiatu.Key, proj.Key)},
			{"officer of a city department that manages the registry", dept("gxj", auth.CapResumptionManage), sorted(jianshe.Key, hejiatu.Key, shifeng.Key, proj.Key)},
			{"system", f.sys, sorted(jianshe.Key, hejiatu.Key, shifeng.Key, proj.Key)},
		}
		all := []string{jianshe.Key, hejiatu.Key, shifeng.Key, proj.Key}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				list, err := f.svc.List(f.ctx, c.p, ListFilter{Limit: 100})
				if err != nil {
					t.Fatal(err)
				}
				if got := sorted(keysOf(list)...); !slices.Equal(got, c.visible) {
					t.Errorf("List = %v, want %v", got, c.visible)
				}
				for _, k := range all {
					e, err := f.svc.Get(f.ctx, c.p, k)
					if slices.Contains(c.visible, k) {
						if err != nil || e.Key != k {
							t.Errorf("Get(%s): %v", k, err)
						}
						continue
					}
					e2 := mustErr(t, err, errs.NotFound, "enterprise_not_found")
					if e2.Message != "企业不存在" {
						t.Errorf("message %q", e2.Message)
					}
				}
			})
		}
		e, err := f.svc.Get(f.ctx, liaison, hejiatu.Key)
		if err != nil || !slices.Equal(e.Liaisons, []string{"lly1"}) {
			t.Errorf("liaisons = %v, %v", e, err)
		}
		for _, p := range []*auth.Principal{f.officer(auth.CommunityWorker, "430203001001"), {Username: "volunteer"},
			dept("mzj"), dept("jtj", auth.CapPassReview)} {
			_, err := f.svc.Get(f.ctx, p, jianshe.Key)
			mustErr(t, err, errs.Forbidden, "forbidden")
			_, err = f.svc.List(f.ctx, p, ListFilter{})
			mustErr(t, err, errs.Forbidden, "forbidden")
		}
		_, err = f.svc.Get(f.ctx, nil, jianshe.Key)
		mustErr(t, err, errs.Unauthorized, "")
	})
}

func TestListFilters(t *testing.T) {
	clk := testClock()
	dbtest.Each(t, clk, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, clk)
		a := f.save(EnterpriseInput{Key: f.key("430203"), Name: "芦淞服饰甲公司", AreaCode: "430203001", Park: "芦淞服饰产业园",
			Categories: []string{"规上工业"}, IsKey: true})
		b := f.enterprise("430203002", TradeCateringAboveQuota)
		c := f.enterprise("430204001")
		p := f.project("XM-2022-001", "430203001")
		sorted := func(keys ...string) []string { slices.Sort(keys); return keys }
		cases := []struct {
			name string
			f    ListFilter
			want []string
		}{
			{"everything", ListFilter{}, sorted(a.Key, b.Key, c.Key, p.Key)},
			{"one district", ListFilter{Areas: []string{"430203"}}, sorted(a.Key, b.Key, p.Key)},
			{"a street and a district", ListFilter{Areas: []string{"430203001", "430204"}}, sorted(a.Key, c.Key, p.Key)},
			{"park", ListFilter{Park: "芦淞服饰产业园"}, []string{a.Key}},
			{"category", ListFilter{Category: IndustrialAboveScale}, []string{a.Key}},
			{"four above", ListFilter{Category: "four_above"}, sorted(a.Key, b.Key)},
			{"projects", ListFilter{Kind: KindProject}, []string{p.Key}},
			{"key enterprises", ListFilter{KeyOnly: true}, []string{a.Key}},
			{"name contains", ListFilter{Query: "服饰甲"}, []string{a.Key}},
			{"key prefix", ListFilter{Query: "91430204"}, []string{c.Key}},
			{"project code prefix in lower case", ListFilter{Query: "xm-2022"}, []string{p.Key}},
			{"no match", ListFilter{Query: "不存在的企业"}, []string{}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				list, err := f.svc.List(f.ctx, f.sys, tc.f)
				if err != nil {
					t.Fatal(err)
				}
				if got := sorted(keysOf(list)...); !slices.Equal(got, tc.want) {
					t.Errorf("List = %v, want %v", got, tc.want)
				}
			})
		}
		// Pages by key over the credit codes.
		creditOnly := ListFilter{Kind: KindEnterprise, Limit: 2}
		first, err := f.svc.List(f.ctx, f.sys, creditOnly)
		if err != nil {
			t.Fatal(err)
		}
		creditOnly.After = first[len(first)-1].Key
		rest, err := f.svc.List(f.ctx, f.sys, creditOnly)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := append(keysOf(first), keysOf(rest)...), sorted(a.Key, b.Key, c.Key); !slices.Equal(got, want) {
			t.Errorf("pages = %v, want %v", got, want)
		}
		if len(first) != 2 || first[0].Categories == nil || first[0].Liaisons == nil {
			t.Errorf("first page = %+v", first)
		}
		_, err = f.svc.List(f.ctx, f.sys, ListFilter{Areas: []string{"439999"}})
		mustErr(t, err, errs.Invalid, "bad_filter")
		_, err = f.svc.List(f.ctx, f.sys, ListFilter{Category: "small"})
		mustErr(t, err, errs.Invalid, "bad_filter")
		_, err = f.svc.List(f.ctx, f.sys, ListFilter{Kind: "factory"})
		mustErr(t, err, errs.Invalid, "bad_filter")
	})
}

func TestFileReportValidation(t *testing.T) {
	clk := testClock()
	dbtest.Each(t, clk, func(t *testing.T, d *db.DB) {
		clk.Set(testBase)
		f := newFixture(t, d, clk)
		e := f.enterprise("430203001")
		n := func(v int) *int { return &v }
		cases := []struct {
			name   string
			in     ReportInput
			fields []string
		}{
			{"future date", reportIn("2022-11-21", Resumed, 80, 100, 90), []string{"date"}},
			{"no such date", reportIn("2022-02-30", Resumed, 80, 100, 90), []string{"date"}},
			{"date without dashes", reportIn("20221120", Resumed, 80, 100, 90), []string{"date"}},
			{"unknown status", reportIn("2022-11-20", "working", 80, 100, 90), []string{"status"}},
			{"capacity over 100", reportIn("2022-11-20", Resumed, 101, 100, 90), []string{"capacity_pct"}},
			{"negative staff", reportIn("2022-11-20", Resumed, 80, -1, -1), []string{"staff_expected", "staff_on_site"}},
			{"more on site than expected", reportIn("2022-11-20", Resumed, 80, 100, 101), []string{"staff_on_site"}},
			{"missing numbers", ReportInput{Date: "2022-11-20", Status: Suspended}, []string{"capacity_pct", "staff_expected", "staff_on_site"}},
			{"long note", ReportInput{Date: "2022-11-20", Status: Suspended, CapacityPct: n(0), StaffExpected: n(0), StaffOnSite: n(0),
				Note: strings.Repeat("字", MaxNoteLen+1)}, []string{"note"}},
			{"several", reportIn("2023-01-01", "", -5, 10, 20), []string{"date", "status", "capacity_pct", "staff_on_site"}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				_, err := f.svc.FileReport(f.ctx, f.sys, e.Key, c.in)
				got := mustErr(t, err, errs.Invalid, "invalid_report")
				if names := fieldNames(got); !slices.Equal(names, c.fields) {
					t.Errorf("fields = %v, want %v (%v)", names, c.fields, got.Fields)
				}
			})
		}
		if n := f.count(`SELECT COUNT(*) FROM resumption_reports`); n != 0 {
			t.Errorf("%d reports written by refused filings", n)
		}
		// "Today" is the date in Shanghai: at 23:30 the 21st is still
		// future; ten minutes past midnight it is today, though UTC is
		// still on the 20th.
		f.at(time.Date(2022, 11, 20, 23, 30, 0, 0, clock.Shanghai))
		_, err := f.svc.FileReport(f.ctx, f.sys, e.Key, reportIn("2022-11-21", Resumed, 80, 100, 90))
		if got := mustErr(t, err, errs.Invalid, "invalid_report"); !strings.Contains(got.Fields[0].Message, "未来") {
			t.Errorf("message %q", got.Fields[0].Message)
		}
		f.at(time.Date(2022, 11, 21, 0, 10, 0, 0, clock.Shanghai))
		if _, err := f.svc.FileReport(f.ctx, f.sys, e.Key, reportIn("2022-11-21", Resumed, 80, 100, 90)); err != nil {
			t.Errorf("today in Shanghai refused: %v", err)
		}
		_, err = f.svc.FileReport(f.ctx, f.sys, f.key("430203"), reportIn("2022-11-21", Resumed, 80, 100, 90))
		mustErr(t, err, errs.NotFound, "enterprise_not_found")
	})
}

func TestReportVersions(t *testing.T) {
	clk := testClock()
	dbtest.Each(t, clk, func(t *testing.T, d *db.DB) {
		clk.Set(testBase)
		f := newFixture(t, d, clk)
		e := f.enterprise("430203001", IndustrialAboveScale)
		other := f.enterprise("430203001")
		t1 := testBase.Add(-26 * time.Hour)
		f.reportAt(t1, e.Key, "2022-11-18", Suspended, 0, 100, 0)
		first := f.reportAt(t1.Add(time.Hour), e.Key, "2022-11-19", Resumed, 80, 120, 95)
		in := reportIn("2022-11-19", Partial, 50, 120, 60)
		in.Note, in.ClosedLoop = "  原料短缺  ", true
		f.at(t1.Add(3 * time.Hour))
		second, err := f.svc.FileReport(f.ctx, f.sys, strings.ToLower(e.Key), in)
		if err != nil {
			t.Fatal(err)
		}
		if second.Note != "原料短缺" || !second.FiledAt.Equal(t1.Add(3*time.Hour)) || second.FiledBy != "system" || second.EnterpriseKey != e.Key {
			t.Errorf("filed = %+v", second)
		}
		versions, err := f.svc.ReportVersions(f.ctx, f.sys, e.Key, "2022-11-19")
		if err != nil {
			t.Fatal(err)
		}
		if len(versions) != 2 || versions[0] != *second || versions[1] != *first {
			t.Fatalf("versions = %+v, want %+v then %+v", versions, second, first)
		}
		reports, err := f.svc.Reports(f.ctx, f.sys, e.Key, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(reports) != 2 || reports[0] != *second || reports[1].Date != "2022-11-18" {
			t.Fatalf("reports = %+v", reports)
		}
		if r, _ := f.svc.Reports(f.ctx, f.sys, e.Key, 1); len(r) != 1 || r[0].Date != "2022-11-19" {
			t.Errorf("limit 1 = %+v", r)
		}
		// Both versions stay in the audit.
		if n := f.count(`SELECT COUNT(*) FROM audit_log WHERE action = 'report.file' AND object_id = $1 AND area_code = '430203001'
			AND summary LIKE '%2022-11-19%'`, e.Key); n != 2 {
			t.Errorf("audit rows of 2022-11-19 = %d, want 2", n)
		}
		if n := f.count(`SELECT COUNT(*) FROM audit_log WHERE action = 'report.file' AND summary LIKE '%部分复工，产能 50%，应到岗 120 人，实际到岗 60 人%'`); n != 1 {
			t.Errorf("audit row of the replacement = %d, want 1", n)
		}
		// Versions filed in the same millisecond: the later filing wins.
		f.at(testBase)
		f.report(other.Key, "2022-11-20", Resumed, 90, 10, 10)
		f.report(other.Key, "2022-11-20", Suspended, 0, 10, 0)
		if r, _ := f.svc.Reports(f.ctx, f.sys, other.Key, 0); len(r) != 1 || r[0].Status != Suspended {
			t.Errorf("same-millisecond replacement = %+v", r)
		}
		if v, _ := f.svc.ReportVersions(f.ctx, f.sys, e.Key, "2022-11-17"); v == nil || len(v) != 0 {
			t.Errorf("no versions = %#v, want empty", v)
		}
	})
}

func TestFileReportAccess(t *testing.T) {
	clk := testClock()
	dbtest.Each(t, clk, func(t *testing.T, d *db.DB) {
		clk.Set(testBase)
		f := newFixture(t, d, clk)
		mine := f.enterprise("430203001")
		assigned := f.enterprise("430203002")
		elsewhere := f.enterprise("430204001")
		liaison := f.liaison("lly2", "430203")
		f.assign("lly2", assigned.Key)
		cases := []struct {
			name    string
			p       *auth.Principal
			allowed []string
			kind    errs.Kind // for the others
		}{
			{"contact", f.contact(mine.Key), []string{mine.Key}, errs.NotFound},
			{"liaison", liaison, []string{assigned.Key}, errs.NotFound},
			{"street officer", f.officer(auth.StreetOfficer, "430203001"), []string{mine.Key}, errs.NotFound},
			{"district officer", f.officer(auth.DistrictOfficer, "430204"), []string{elsewhere.Key}, errs.NotFound},
			{"commander (reads only)", f.officer(auth.HQCommander, "430200"), nil, errs.Forbidden},
			{"inspector", f.officer(auth.Inspector, "430200"), nil, errs.Forbidden},
			{"community worker", f.officer(auth.CommunityWorker, "430203001001"), nil, errs.Forbidden},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				for _, k := range []string{mine.Key, assigned.Key, elsewhere.Key} {
					r, err := f.svc.FileReport(f.ctx, c.p, k, reportIn("2022-11-20", Resumed, 70, 10, 9))
					if slices.Contains(c.allowed, k) {
						if err != nil || r.FiledBy != c.p.Username {
							t.Errorf("file for %s: %v %+v", k, err, r)
						}
						continue
					}
					mustErr(t, err, c.kind, "")
				}
			})
		}
		_, err := f.svc.Reports(f.ctx, f.contact(mine.Key), assigned.Key, 0)
		mustErr(t, err, errs.NotFound, "enterprise_not_found")
		_, err = f.svc.ReportVersions(f.ctx, f.contact(mine.Key), assigned.Key, "2022-11-20")
		mustErr(t, err, errs.NotFound, "enterprise_not_found")
		if r, err := f.svc.Reports(f.ctx, f.contact(mine.Key), mine.Key, 0); err != nil || len(r) != 1 {
			t.Errorf("contact's own reports: %v %v", r, err)
		}
	})
}

func TestLiaisons(t *testing.T) {
	clk := testClock()
	dbtest.Each(t, clk, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, clk)
		e := f.enterprise("430203001")
		f.liaison("lly3", "430203")
		if _, err := f.users.CreateUser(f.ctx, f.sys, auth.NewUser{Username: "jd01", DisplayName: "街道干部", Password: "Street-Pass-2022!",
			Roles: []auth.RoleInput{{Role: string(auth.StreetOfficer), Scope: "430203001"}}}); err != nil {
			t.Fatal(err)
		}
		got, err := f.svc.AssignLiaison(f.ctx, f.sys, e.Key, " LLY3 ")
		if err != nil || !slices.Equal(got.Liaisons, []string{"lly3"}) {
			t.Fatalf("assign: %v %+v", err, got)
		}
		_, err = f.svc.AssignLiaison(f.ctx, f.sys, e.Key, "lly3")
		mustErr(t, err, errs.Conflict, "liaison_exists")
		_, err = f.svc.AssignLiaison(f.ctx, f.sys, e.Key, "jd01")
		mustErr(t, err, errs.Invalid, "not_a_liaison")
		_, err = f.svc.AssignLiaison(f.ctx, f.sys, e.Key, "nobody")
		mustErr(t, err, errs.NotFound, "user_not_found")
		_, err = f.svc.AssignLiaison(f.ctx, f.sys, f.key("430203"), "lly3")
		mustErr(t, err, errs.NotFound, "enterprise_not_found")
		_, err = f.svc.AssignLiaison(f.ctx, f.officer(auth.HQStaff, "430204"), e.Key, "lly3")
		mustErr(t, err, errs.NotFound, "enterprise_not_found")
		_, err = f.svc.AssignLiaison(f.ctx, f.officer(auth.StreetOfficer, "430203001"), e.Key, "lly3")
		mustErr(t, err, errs.Forbidden, "forbidden")

		got, err = f.svc.UnassignLiaison(f.ctx, f.officer(auth.HQStaff, "430203"), e.Key, "lly3")
		if err != nil || len(got.Liaisons) != 0 {
			t.Fatalf("unassign: %v %+v", err, got)
		}
		_, err = f.svc.UnassignLiaison(f.ctx, f.sys, e.Key, "lly3")
		mustErr(t, err, errs.NotFound, "liaison_not_assigned")
		if a, u := f.audits("liaison.assign"), f.audits("liaison.unassign"); a != 1 || u != 1 {
			t.Errorf("audit rows: %d assign, %d unassign", a, u)
		}
		if n := f.count(`SELECT COUNT(*) FROM audit_log WHERE action = 'liaison.unassign' AND actor = 'officer_hq_staff' AND area_code = '430203001'`); n != 1 {
			t.Errorf("unassign audit row missing")
		}
	})
}

func TestResolveScope(t *testing.T) {
	clk := testClock()
	dbtest.Each(t, clk, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, clk)
		mine := f.enterprise("430211001")
		other := f.enterprise("430211001")
		u, err := f.users.CreateUser(f.ctx, f.sys, auth.NewUser{Username: "qianjin", DisplayName: "企业联系人", Password: "Contact-Pass-2022!",
			Roles: []auth.RoleInput{{Role: string(auth.EnterpriseContact), Scope: "enterprise:" + mine.Key}}})
		if err != nil {
			t.Fatal(err)
		}
		if s := u.Roles[0].Scope; s.Name != mine.Name || s.Path != "/430200/430211/430211001/" {
			t.Errorf("scope = %+v", s)
		}
		id, roles, err := f.users.LookupUser(f.ctx, "qianjin")
		if err != nil {
			t.Fatal(err)
		}
		p := &auth.Principal{UserID: id, Username: "qianjin", Assignments: roles}
		if _, err := f.svc.Get(f.ctx, p, mine.Key); err != nil {
			t.Errorf("contact reads its enterprise: %v", err)
		}
		_, err = f.svc.Get(f.ctx, p, other.Key)
		mustErr(t, err, errs.NotFound, "enterprise_not_found")
		if _, err := f.svc.FileReport(f.ctx, p, mine.Key, reportIn("2022-11-20", Resumed, 80, 10, 8)); err != nil {
			t.Errorf("contact files for its enterprise: %v", err)
		}

		_, err = f.users.CreateUser(f.ctx, f.sys, auth.NewUser{Username: "ghost", DisplayName: "无", Password: "Contact-Pass-2022!",
			Roles: []auth.RoleInput{{Role: string(auth.EnterpriseContact), Scope: "enterprise:" + f.key("430211")}}})
		if e := mustErr(t, err, errs.Invalid, "scope_not_found"); !strings.Contains(e.Message, "企业") || !strings.Contains(e.Message, "不存在") {
			t.Errorf("message %q", e.Message)
		}
		err = d.Read(f.ctx, func(tx *db.Tx) error {
			_, _, err := f.svc.ResolveScope(f.ctx, tx, strings.ToLower(mine.Key))
			return err
		})
		if e := mustErr(t, err, errs.Invalid, "scope_not_found"); !strings.Contains(e.Message, mine.Key) {
			t.Errorf("lower-case ref: message %q should name the canonical key", e.Message)
		}
	})
}
