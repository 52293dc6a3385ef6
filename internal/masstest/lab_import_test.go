package masstest

import (
	"testing"

	"tongxin/internal/errs"
	"tongxin/internal/importer"
	"tongxin/internal/testcity"
)

// A lab file is stored all or nothing, with Chinese or English headers,
// CSV or XLSX; a bad row refuses the file with its row and reason.
func TestLabImport(t *testing.T) {
	eachLab(t, func(t *testing.T, f *labFixture) {
		a, b := f.people(dayuan, "1栋", 10), f.people(gudaqiao, "2栋", 2)
		f.startRound()
		f.pool("T-10", 10, a...)
		f.pool("T-5", 5, b...)
		f.pool("T-E", 5)

		bad := []byte("管码,结果,检测机构,报告时间\nT-10,阳性,市疾控,2022-11-20 09:30\nT-NONE,阴性,市疾控,2022-11-20 09:30\nT-5,不确定,,\n")
		_, err := f.svc.ImportLabResults(f.Ctx, f.Sys, bad)
		e := testcity.MustErr(t, err, errs.Invalid, "import_rejected")
		if len(e.Fields) != 2 || e.Fields[0].Row != 3 || e.Fields[0].Code != "unknown_tube" || e.Fields[1].Row != 4 ||
			e.Fields[1].Column != "结果" {
			t.Fatalf("row errors = %+v", e.Fields)
		}
		if n := f.Count(`SELECT COUNT(*) FROM testing_tubes WHERE result IS NOT NULL`) + f.Count(`SELECT COUNT(*) FROM testing_retests`); n != 0 {
			t.Fatalf("a refused file stored %d rows", n)
		}
		if len(f.sent.sent) != 0 {
			t.Fatalf("a refused file sent %d messages", len(f.sent.sent))
		}

		good := []byte("\ufefftube,result,lab,reported_at\nT-10,positive,CDC,2022-11-20T09:30:00+08:00\nT-5,negative,CDC,\n")
		out, err := f.svc.ImportLabResults(f.Ctx, f.Sys, good)
		if err != nil {
			t.Fatal(err)
		}
		if out.Stored != 2 || out.Retests != 10 {
			t.Fatalf("import = %+v", out)
		}
		again, err := f.svc.ImportLabResults(f.Ctx, f.Sys, good)
		if err != nil || again.Repeats != 2 || again.Stored != 0 {
			t.Fatalf("again = %+v, %v", again, err)
		}
		x, err := importer.WriteXLSX("结果", []string{"管码", "结果"}, [][]string{{"T-E", "无效"}})
		if err != nil {
			t.Fatal(err)
		}
		if out, err := f.svc.ImportLabResults(f.Ctx, f.Sys, x); err != nil || out.Stored != 1 {
			t.Fatalf("xlsx = %+v, %v", out, err)
		}
		conflict := []byte("管码,结果\nT-10,阴性\n")
		_, err = f.svc.ImportLabResults(f.Ctx, f.Sys, conflict)
		if e := testcity.MustErr(t, err, errs.Invalid, "import_rejected"); e.Fields[0].Code != "result_conflict" {
			t.Fatalf("conflict = %+v", e.Fields)
		}
	})
}
