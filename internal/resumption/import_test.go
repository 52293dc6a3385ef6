package resumption

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"slices"
	"strings"
	"testing"

	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/db/dbtest"
	"tongxin/internal/errs"
	"tongxin/internal/importer"
)

func csvFile(lines ...string) []byte { return []byte(strings.Join(lines, "\r\n") + "\r\n") }

func xlsxFile(t *testing.T, header []string, rows ...[]string) []byte {
	t.Helper()
	b, err := importer.WriteXLSX("Sheet1", header, rows)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func pngFile(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewRGBA(image.Rect(0, 0, 4, 4))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// wantProblem is an expected row error: row, column and a part of the
// message.
type wantProblem struct {
	row    int
	column string
	msg    string
}

func checkProblems(t *testing.T, got []errs.FieldError, want []wantProblem) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("errors = %+v, want %+v", got, want)
	}
	for i, w := range want {
		g := got[i]
		if g.Row != w.row || g.Column != w.column || !strings.Contains(g.Message, w.msg) {
			t.Errorf("error %d = %+v, want row %d column %q message containing %q", i, g, w.row, w.column, w.msg)
		}
	}
}

const enterprisesImportHeader = "统一社会信用代码,项目编码,类型,名称,区域编码,园区,类别,重点,职工人数,联系人,联系电话"

func TestImportEnterprisesGood(t *testing.T) {
	clk := testClock()
	dbtest.Each(t, clk, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, clk)
		k1, k2 := f.key("430203"), f.key("430203")
		file := csvFile(enterprisesImportHeader,
			k1+",,企业,株洲甲公司,430203001,芦淞服饰产业园,规上工业;限上批零住餐,是,1200,张三,13907330001",
			strings.ToLower(k2)+",,,株洲乙公司,430203002,,industrial_above_scale,否,80,,",
			"",
			",XM-2022-0197,项目,老旧小区改造项目,430203001,,,,160,项目部,",
			`,XM-2022-0198,,道路改造项目,430204001,,,Y,"1,200",,`)
		res, err := f.svc.ImportEnterprises(f.ctx, f.sys, file, false)
		if err != nil {
			t.Fatal(err)
		}
		if res.Accepted != 4 || res.Created != 4 || res.Updated != 0 || res.Rejected != 0 || res.Errors == nil || len(res.Errors) != 0 {
			t.Fatalf("result = %+v", res)
		}
		e, err := f.svc.Get(f.ctx, f.sys, k1)
		if err != nil {
			t.Fatal(err)
		}
		if e.Name != "株洲甲公司" || !e.IsKey || e.Employees != 1200 || e.ContactPhone != "139****0001" || e.Park != "芦淞服饰产业园" ||
			!slices.Equal(e.Categories, []Category{IndustrialAboveScale, TradeCateringAboveQuota}) {
			t.Errorf("imported = %+v", e)
		}
		p, err := f.svc.Get(f.ctx, f.sys, "XM-2022-0198")
		if err != nil || p.Kind != KindProject || !p.IsKey || p.Employees != 1200 || p.AreaCode != "430204001" {
			t.Errorf("project = %+v, %v", p, err)
		}
		if c, u, i := f.audits("enterprise.create"), f.audits("enterprise.update"), f.audits("enterprise.import"); c != 4 || u != 0 || i != 1 {
			t.Errorf("audit rows: %d create, %d update, %d import", c, u, i)
		}
		if n := f.count(`SELECT COUNT(*) FROM audit_log WHERE action = 'enterprise.create' AND area_code <> '' AND summary NOT LIKE '%13907330001%'`); n != 4 {
			t.Errorf("create audit rows with an area and no clear phone = %d", n)
		}

		// XLSX with English headers; re-importing updates by key.
		file = xlsxFile(t, []string{"credit_code", "name", "area_code", "categories", "key", "employees", "contact_phone", "closed_loop"},
			[]string{k1, "株洲甲公司（更名）", "430203001", "规上服务业", "false", "1300", "", "是"},
			[]string{k2, "株洲乙公司", "430203002", "", "0", "80", "13907330002", "N"},
			[]string{f.key("430211"), "天元丙公司", "430211001", "资质等级建筑业和房地产开发经营业", "1", "45", "", ""})
		res, err = f.svc.ImportEnterprises(f.ctx, f.sys, file, false)
		if err != nil {
			t.Fatal(err)
		}
		if res.Accepted != 3 || res.Created != 1 || res.Updated != 2 {
			t.Fatalf("re-import = %+v", res)
		}
		if n := f.count(`SELECT COUNT(*) FROM enterprises`); n != 5 {
			t.Errorf("%d enterprises after the re-import, want 5", n)
		}
		e, _ = f.svc.Get(f.ctx, f.sys, k1)
		if e.Name != "株洲甲公司（更名）" || e.IsKey || !e.ClosedLoop || e.ContactPhone != "" || !slices.Equal(e.Categories, []Category{ServicesAboveScale}) {
			t.Errorf("updated = %+v", e)
		}
		if n := f.count(`SELECT COUNT(*) FROM enterprise_categories`); n != 2 {
			t.Errorf("%d category rows, want 2", n)
		}
		if u, i := f.audits("enterprise.update"), f.audits("enterprise.import"); u != 2 || i != 2 {
			t.Errorf("audit rows: %d update, %d import", u, i)
		}
		// The same file again changes nothing but the update time.
		if res, err = f.svc.ImportEnterprises(f.ctx, f.sys, file, false); err != nil || res.Updated != 3 || res.Created != 0 {
			t.Errorf("third import = %+v, %v", res, err)
		}
		if n := f.count(`SELECT COUNT(*) FROM enterprises`); n != 5 {
			t.Errorf("%d enterprises after the third import", n)
		}
	})
}

func TestImportEnterprisesMalformed(t *testing.T) {
	clk := testClock()
	dbtest.Each(t, clk, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, clk)
		registered := f.enterprise("430204001") // in 石峰区, outside the staff's scope
		staff := f.officer(auth.HQStaff, "430203")
		// Each case gets two fresh credit codes, as the partial runs write
		// the good rows.
		cases := []struct {
			name string
			p    *auth.Principal
			file func(k1, k2 string) []byte
			code string
			want []wantProblem
		}{
			{name: "bad credit code", file: func(k1, k2 string) []byte {
				return csvFile(enterprisesImportHeader,
					k1+",,,甲,430203001,,,,,,",
					badCheck(k2)+",,,乙,430203001,,,,,,",
					"91430203MA000000,,,丙,430203001,,,,,,")
			}, code: "import_rejected", want: []wantProblem{{3, "统一社会信用代码", "校验位"}, {4, "统一社会信用代码", "18位"}}},
			{name: "unknown area and the city", file: func(k1, k2 string) []byte {
				return csvFile(enterprisesImportHeader,
					k1+",,,甲,439999,,,,,,",
					k2+",,,乙,430200,,,,,,")
			}, code: "import_rejected", want: []wantProblem{{2, "区域编码", "439999 不存在"}, {3, "区域编码", "全市"}}},
			{name: "text in number columns", file: func(k1, k2 string) []byte {
				return csvFile(enterprisesImportHeader,
					k1+",,,甲,430203001,,,也许,很多,,",
					k2+",,,乙,430203001,,,,-3,,")
			}, code: "import_rejected", want: []wantProblem{{2, "重点", "也许"}, {2, "职工人数", "很多"}, {3, "职工人数", "负"}}},
			{name: "duplicate keys", file: func(k1, k2 string) []byte {
				return csvFile(enterprisesImportHeader,
					k1+",,,甲,430203001,,,,,,",
					",XM-"+k2[10:]+",,项目,430203001,,,,,,",
					strings.ToLower(k1)+",,,甲二,430203001,,,,,,",
					",XM-"+k2[10:]+",,项目二,430203001,,,,,,")
			}, code: "import_rejected", want: []wantProblem{{4, "统一社会信用代码", "与第 2 行重复"}, {5, "项目编码", "与第 3 行重复"}}},
			{name: "unknown category and other fields", file: func(k1, k2 string) []byte {
				return csvFile(enterprisesImportHeader,
					k1+",,,甲,430203001,,规上工业;规下工业,,,,",
					k2+",,工厂,,430203001,,,,,,12345",
					",,项目,丙,430203001,,,,,,")
			}, code: "import_rejected", want: []wantProblem{{2, "类别", "规下工业"}, {3, "类型", "类型"}, {3, "名称", "名称"},
				{3, "联系电话", "手机号"}, {4, "项目编码", "请填写项目编码"}}},
			{name: "out of the caller's scope", p: staff, file: func(k1, k2 string) []byte {
				return csvFile(enterprisesImportHeader,
					k1+",,,甲,430203001,,,,,,",
					k2+",,,乙,430204001,,,,,,",
					registered.Key+",,,抢注,430203001,,,,,,")
			}, code: "import_rejected", want: []wantProblem{{3, "区域编码", "无权"}, {4, "统一社会信用代码", "管辖范围之外"}}},
			{name: "empty file", file: func(string, string) []byte { return []byte(" \r\n") }, code: "import_empty"},
			{name: "header only", file: func(string, string) []byte { return csvFile(enterprisesImportHeader) }, code: "import_no_rows"},
			{name: "renamed PNG", file: func(string, string) []byte { return pngFile(t) }, code: "import_unreadable"},
			{name: "unknown column", file: func(k1, _ string) []byte {
				return csvFile("统一社会信用代码,注册资本,名称,区域编码", k1+",100,甲,430203001")
			}, code: "import_unknown_column", want: []wantProblem{{1, "注册资本", "无法识别"}}},
			{name: "no key column", file: func(string, string) []byte { return csvFile("名称,区域编码", "甲,430203001") },
				code: "import_missing_column", want: []wantProblem{{1, "统一社会信用代码", "缺少"}}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				p := c.p
				if p == nil {
					p = f.sys
				}
				file := c.file(f.key("430203"), f.key("430203"))
				const auditQ = `SELECT COUNT(*) FROM audit_log WHERE action LIKE 'enterprise.%'`
				enterprises, audits := f.count(`SELECT COUNT(*) FROM enterprises`), f.count(auditQ)
				_, err := f.svc.ImportEnterprises(f.ctx, p, file, false)
				e := mustErr(t, err, errs.Invalid, c.code)
				if c.want != nil {
					checkProblems(t, e.Fields, c.want)
				}
				if n := f.count(`SELECT COUNT(*) FROM enterprises`); n != enterprises {
					t.Fatalf("a refused import wrote %d enterprises", n-enterprises)
				}
				if n := f.count(auditQ); n != audits {
					t.Fatalf("a refused import wrote %d audit rows", n-audits)
				}
				// With partial, the bad rows come back in the answer.
				res, err := f.svc.ImportEnterprises(f.ctx, p, file, true)
				if c.code != "import_rejected" {
					mustErr(t, err, errs.Invalid, c.code)
					return
				}
				if err != nil {
					t.Fatalf("partial: %v", err)
				}
				checkProblems(t, res.Errors, c.want)
				if n := f.count(`SELECT COUNT(*) FROM enterprises`); n != enterprises+res.Accepted {
					t.Errorf("partial wrote %d enterprises, accepted %d", n-enterprises, res.Accepted)
				}
			})
		}
	})
}

func TestImportEnterprisesPartial(t *testing.T) {
	clk := testClock()
	dbtest.Each(t, clk, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, clk)
		k1, k2, k3 := f.key("430203"), f.key("430203"), f.key("430204")
		file := csvFile(enterprisesImportHeader,
			k1+",,,甲,430203001,,规上工业,,10,,",
			badCheck(k2)+",,,乙,430203001,,,,,,",
			k3+",,,丙,430204001,,,,20,,",
			",XM-9,,项目,439999,,,,,,",
			k1+",,,甲重复,430203001,,,,,,")
		res, err := f.svc.ImportEnterprises(f.ctx, f.sys, file, true)
		if err != nil {
			t.Fatal(err)
		}
		if res.Accepted != 2 || res.Created != 2 || res.Rejected != 3 || res.ErrorCount != 3 {
			t.Errorf("result = %+v", res)
		}
		checkProblems(t, res.Errors, []wantProblem{{3, "统一社会信用代码", "校验位"}, {5, "区域编码", "不存在"}, {6, "统一社会信用代码", "重复"}})
		list, _ := f.svc.List(f.ctx, f.sys, ListFilter{})
		if got, want := keysOf(list), []string{k1, k3}; !slices.Equal(got, want) {
			t.Errorf("written = %v, want %v", got, want)
		}
		if c, i := f.audits("enterprise.create"), f.audits("enterprise.import"); c != 2 || i != 1 {
			t.Errorf("audit rows: %d create, %d import", c, i)
		}
		if n := f.count(`SELECT COUNT(*) FROM audit_log WHERE action = 'enterprise.import' AND summary LIKE '%拒绝 3 行%'`); n != 1 {
			t.Errorf("import summary row missing")
		}
		_, err = f.svc.ImportEnterprises(f.ctx, f.officer(auth.StreetOfficer, "430203001"), file, true)
		mustErr(t, err, errs.Forbidden, "forbidden")

		// 150 bad rows: the first 100 problems are listed, all are counted.
		rows := make([]string, 150)
		for i := range rows {
			rows[i] = fmt.Sprintf(",XM-%d,,项目,439999,,,,,,", i)
		}
		res, err = f.svc.ImportEnterprises(f.ctx, f.sys, csvFile(append([]string{enterprisesImportHeader}, rows...)...), true)
		if err != nil {
			t.Fatal(err)
		}
		if res.Rejected != 150 || res.ErrorCount != 150 || len(res.Errors) != 100 || res.Errors[99].Row != 101 {
			t.Errorf("150 bad rows: rejected %d, error_count %d, %d listed", res.Rejected, res.ErrorCount, len(res.Errors))
		}
	})
}

const reportsImportHeader = "统一社会信用代码/项目编码,日期,状态,产能,应到岗人数,实际到岗人数,闭环生产,备注"

func TestImportReports(t *testing.T) {
	clk := testClock()
	dbtest.Each(t, clk, func(t *testing.T, d *db.DB) {
		clk.Set(testBase)
		f := newFixture(t, d, clk)
		e1 := f.enterprise("430203001")
		e2 := f.enterprise("430203002")
		e3 := f.enterprise("430204001")
		f.project("XM-2022-0197", "430203001")
		file := csvFile(reportsImportHeader,
			e1.Key+",2022-11-20,已复工,80%,120,95,是,",
			strings.ToLower(e2.Key)+`,2022/11/19,部分复工,50,"1,000",600,否,缺原料`,
			"XM-2022-0197,2022年11月20日,停工,0,20,0,,待解封",
			e1.Key+",2022-11-19,resumed,100,120,120,N,")
		res, err := f.svc.ImportReports(f.ctx, f.sys, file, false)
		if err != nil {
			t.Fatal(err)
		}
		if res.Accepted != 4 || res.Rejected != 0 || len(res.Errors) != 0 {
			t.Fatalf("result = %+v", res)
		}
		r, _ := f.svc.Reports(f.ctx, f.sys, e2.Key, 0)
		if len(r) != 1 || r[0].Date != "2022-11-19" || r[0].Status != Partial || r[0].StaffExpected != 1000 || r[0].Note != "缺原料" {
			t.Errorf("e2 reports = %+v", r)
		}
		r, _ = f.svc.Reports(f.ctx, f.sys, e1.Key, 0)
		if len(r) != 2 || r[0].CapacityPct != 80 || !r[0].ClosedLoop || r[1].CapacityPct != 100 {
			t.Errorf("e1 reports = %+v", r)
		}
		if fr, im := f.audits("report.file"), f.audits("report.import"); fr != 4 || im != 1 {
			t.Errorf("audit rows: %d file, %d import", fr, im)
		}

		// English headers in an XLSX; a second version of a date.
		file = xlsxFile(t, []string{"credit_code", "date", "status", "capacity_pct", "staff_expected", "staff_on_site"},
			[]string{e1.Key, "2022-11-20", "partial", "60", "120", "80"})
		if res, err = f.svc.ImportReports(f.ctx, f.sys, file, false); err != nil || res.Accepted != 1 {
			t.Fatalf("xlsx: %+v, %v", res, err)
		}
		if v, _ := f.svc.ReportVersions(f.ctx, f.sys, e1.Key, "2022-11-20"); len(v) != 2 || v[0].Status != Partial || v[1].Status != Resumed {
			t.Errorf("versions = %+v", v)
		}

		before := f.count(`SELECT COUNT(*) FROM resumption_reports`)
		street := f.officer(auth.StreetOfficer, "430203001")
		bad := csvFile(reportsImportHeader,
			e1.Key+",2022-11-20,已复工,80,120,95,,",
			e3.Key+",2022-11-20,已复工,80,120,95,,",
			f.key("430203")+",2022-11-20,已复工,80,120,95,,",
			e1.Key+",2022-11-21,已复工,八十,120,130,,",
			e1.Key+",2022-11-18,开工,80,120,95,,",
			"XM-2022-0197,2022-11-20,停工,0,20,21,可能,",
			e1.Key+",2022-11-20,停工,0,20,0,,")
		_, err = f.svc.ImportReports(f.ctx, street, bad, false)
		e := mustErr(t, err, errs.Invalid, "import_rejected")
		want := []wantProblem{
			{3, "统一社会信用代码/项目编码", "企业不存在或无权填报"},
			{4, "统一社会信用代码/项目编码", "企业不存在或无权填报"},
			{5, "产能", "八十"},
			{5, "日期", "未来"},
			{5, "实际到岗人数", "不能多于"},
			{6, "状态", "开工"},
			{7, "闭环生产", "可能"},
			{7, "实际到岗人数", "不能多于"},
			{8, "日期", "与第 2 行重复"},
		}
		checkProblems(t, e.Fields, want)
		if n := f.count(`SELECT COUNT(*) FROM resumption_reports`); n != before {
			t.Errorf("a refused import wrote %d reports", n-before)
		}
		res, err = f.svc.ImportReports(f.ctx, street, bad, true)
		if err != nil {
			t.Fatal(err)
		}
		if res.Accepted != 1 || res.Rejected != 6 {
			t.Errorf("partial = %+v", res)
		}
		checkProblems(t, res.Errors, want)
		if n := f.count(`SELECT COUNT(*) FROM resumption_reports`); n != before+1 {
			t.Errorf("partial wrote %d reports, want 1", n-before)
		}
		if n := f.count(`SELECT COUNT(*) FROM audit_log WHERE action = 'report.file' AND actor = 'officer_street_officer'`); n != 1 {
			t.Errorf("%d audit rows of the partial import", n)
		}
		_, err = f.svc.ImportReports(f.ctx, f.officer(auth.HQCommander, "430200"), bad, true)
		mustErr(t, err, errs.Forbidden, "forbidden")
		_, err = f.svc.ImportReports(f.ctx, f.sys, csvFile(reportsImportHeader), false)
		mustErr(t, err, errs.Invalid, "import_no_rows")
		_, err = f.svc.ImportReports(f.ctx, f.sys, pngFile(t), false)
		mustErr(t, err, errs.Invalid, "import_unreadable")
	})
}
