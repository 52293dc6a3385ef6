package app

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/checkpoint"
	"tongxin/internal/importer"
)

// exportTypes is what every XLSX export must type, by route: sheet →
// column header → int, number, percent, date, minute or second. A route
// of the table ending in .xlsx that is missing here fails the test, so a
// new export cannot be forgotten.
var exportTypes = map[string]map[string]map[string]string{
	"GET /api/v1/resumption/stats.xlsx": resumptionStatsTypes,
	"GET /resumption.xlsx": withSheet(resumptionStatsTypes, "近期趋势", map[string]string{
		"日期": "date", "规上工业": "percent"}),
	"GET /resumption/not-resumed.xlsx": {"未复工及未填报单位": {"最近日报日期": "date"}},
	"GET /enterprises.xlsx":            {"企业名录": {"职工人数": "int"}},
	"GET /tickets.xlsx":                {"工单": {"提交时间": "minute", "升级次数": "int", "办结时限": "minute"}},
	"GET /tickets/stats.xlsx": {
		"工单统计": {"受理": "int", "未办结": "int"},
		"每日":   {"日期": "date", "受理": "int"},
	},
	"GET /api/v1/passes/stats.xlsx":      {"通行证统计": {"签发": "int", "当前有效": "int", "人员": "int"}},
	"GET /checkpoints/{id}/scans.xlsx":   {"扫码记录": {"扫码时间": "second", "上传时间": "second"}},
	"GET /checkpoints/stats.xlsx":        checkpointStatsTypes,
	"GET /api/v1/checkpoints/stats.xlsx": checkpointStatsTypes,
}

var resumptionStatsTypes = map[string]map[string]string{
	"概况":   {},
	"复工复产": {"单位总数": "int", "已复工": "int", "复工率": "percent"},
	"到岗":   {"应到岗人数": "int", "实际到岗人数": "int", "到岗率": "percent"},
}

var checkpointStatsTypes = map[string]map[string]string{
	"各卡口扫码": {"扫码": "int", "通行": "int", "拒绝": "int", "居民码": "int"},
	"拒绝原因":  {"次数": "int"},
	"分时段扫码": {"时段": "minute", "扫码": "int"},
	"接驳企业":  {"接驳次数": "int"},
	"逐日接驳":  {"日期": "date", "接驳次数": "int"},
}

func withSheet(m map[string]map[string]string, sheet string, cols map[string]string) map[string]map[string]string {
	out := map[string]map[string]string{sheet: cols}
	for k, v := range m {
		out[k] = v
	}
	return out
}

// python finds a Python 3 with openpyxl: skipped without one, but CI
// must have it (.ci/run installs python3-openpyxl).
func python(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"python3", "/usr/bin/python3"} {
		if exec.Command(p, "-c", "import openpyxl").Run() == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("CI must install python3-openpyxl")
	}
	t.Skip("no python3 with openpyxl (Debian package python3-openpyxl)")
	return ""
}

// soffice finds LibreOffice; "" (and a log line) without it outside CI.
func soffice(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("soffice"); err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatal("CI must install LibreOffice Calc (Debian package libreoffice-calc-nogui)")
	}
	t.Log("no soffice: the =SUM check in LibreOffice is skipped (Debian package libreoffice-calc-nogui)")
	return ""
}

type typeReport struct {
	Problems []string `json:"problems"`
	Sums     []struct {
		Label  string  `json:"label"`
		Expect float64 `json:"expect"`
	} `json:"sums"`
}

// TestExportsAreTyped downloads every XLSX export of the route table as
// the city-wide administrator, in a world with data in every table (the
// access matrix's, plus scans), and reads each with openpyxl: counts are
// number cells, rates numbers with a % format, days and moments dates
// with a format (scans to the second). Then LibreOffice recalculates a
// =SUM over every count column, which must equal the sum of the counts
// (a count stored as text sums to 0).
func TestExportsAreTyped(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds the access matrix's world")
	}
	py := python(t)
	w := buildMatrixWorld(t)
	sys, err := openMatrixSystem(w.dir)
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close()
	ctx := context.Background()
	id, roles, err := sys.Auth.LookupUser(ctx, roleUser("checkpoint_officer"))
	if err != nil {
		t.Fatal(err)
	}
	officer := &auth.Principal{UserID: id, Username: roleUser("checkpoint_officer"), Assignments: roles}
	for i, tok := range []string{w.passTok, w.passTok, "不是通行证"} {
		at := matrixNow.Add(-time.Duration(90*i+7) * time.Minute).Add(13 * time.Second)
		if _, err := sys.Checkpoints.Scan(ctx, officer, w.id("checkpoint", true), checkpoint.ScanInput{Token: tok,
			ClientID: fmt.Sprintf("typed-scan-%04d", i), ScannedAt: &at}); err != nil {
			t.Fatalf("scan %d: %v", i, err)
		}
	}
	render, err := newRenderer(nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer(sys, ServerOptions{}, render)

	dir := t.TempDir()
	var checks []string
	var labels []string
	var sums [][]float64
	var sumLabels [][]string
	for _, rt := range srv.routes.table() {
		if !strings.HasPrefix(rt.Pattern, "GET ") || !strings.HasSuffix(rt.Pattern, ".xlsx") {
			continue
		}
		expect, ok := exportTypes[rt.Pattern]
		if !ok {
			t.Errorf("%s: an export without expected cell types: add it to exportTypes", rt.Pattern)
			continue
		}
		req := matrixRequest(w, matrixCell{route: rt, role: string(auth.SystemAdmin), scope: "in"})
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		body, _ := io.ReadAll(rec.Result().Body)
		if rec.Code != 200 || rec.Header().Get("Content-Type") != importer.MediaXLSX {
			t.Errorf("%s (%s): %d %s %.300s", rt.Pattern, req.URL, rec.Code, rec.Header().Get("Content-Type"), body)
			continue
		}
		name := fmt.Sprintf("export%02d", len(checks))
		file, expFile, check := filepath.Join(dir, name+".xlsx"), filepath.Join(dir, name+".json"), filepath.Join(dir, name+"-sums.xlsx")
		expJSON, _ := json.Marshal(expect)
		if err := os.WriteFile(file, body, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(expFile, expJSON, 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(py, "testdata/xlsx_types.py", file, expFile, check).Output()
		if err != nil {
			t.Fatalf("%s: openpyxl: %v %s", rt.Pattern, err, errText(err))
		}
		var rep typeReport
		if err := json.Unmarshal(out, &rep); err != nil {
			t.Fatalf("%s: %v: %s", rt.Pattern, err, out)
		}
		for _, p := range rep.Problems {
			t.Errorf("%s: %s", rt.Pattern, p)
		}
		if len(rep.Sums) > 0 {
			checks = append(checks, check)
			labels = append(labels, rt.Pattern)
			row := make([]float64, len(rep.Sums))
			names := make([]string, len(rep.Sums))
			for i, s := range rep.Sums {
				row[i], names[i] = s.Expect, s.Label
			}
			sums, sumLabels = append(sums, row), append(sumLabels, names)
		}
	}
	if len(checks) < 6 {
		t.Fatalf("only %d exports with counts", len(checks))
	}
	lo := soffice(t)
	if lo == "" {
		return
	}
	// One LibreOffice run converts every check workbook: its first sheet
	// (the sums) becomes CSV, recalculated.
	outDir := filepath.Join(dir, "csv")
	args := append([]string{"-env:UserInstallation=file://" + filepath.Join(dir, "lo-profile"), "--headless", "--norestore",
		"--convert-to", "csv", "--outdir", outDir}, checks...)
	cmdCtx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(cmdCtx, lo, args...).CombinedOutput(); err != nil {
		t.Fatalf("soffice: %v\n%s", err, out)
	}
	n := 0
	for _, s := range sums {
		n += len(s)
	}
	t.Logf("LibreOffice recalculates =SUM over %d count columns of %d exports", n, len(checks))
	for i, check := range checks {
		f, err := os.Open(filepath.Join(outDir, strings.TrimSuffix(filepath.Base(check), ".xlsx")+".csv"))
		if err != nil {
			t.Errorf("%s: %v", labels[i], err)
			continue
		}
		recs, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil || len(recs) != len(sums[i]) {
			t.Errorf("%s: LibreOffice sums %q, %v; want %d rows", labels[i], recs, err, len(sums[i]))
			continue
		}
		for j, want := range sums[i] {
			got, err := strconv.ParseFloat(strings.TrimSpace(recs[j][0]), 64)
			if err != nil || got != want {
				t.Errorf("%s: LibreOffice =SUM over %s gives %q, want %v", labels[i], sumLabels[i][j], recs[j][0], want)
			}
		}
	}
}

// errText is the standard error of a failed command.
func errText(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}
