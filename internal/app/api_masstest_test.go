package app

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tongxin/internal/db"
	"tongxin/internal/db/dbtest"
	"tongxin/internal/pii"
)

// seedHouseholds writes n households of two residents each into the
// register of community, straight into the tables (the register's import
// has tests of its own), and answers the residents' codes in address
// order.
func seedHouseholds(t *testing.T, sys *System, community, estate string, n int) []string {
	t.Helper()
	ctx := context.Background()
	a, err := sys.Areas.Lookup(ctx, community)
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	err = sys.DB.Write(ctx, func(tx *db.Tx) error {
		for i := 0; i < n; i++ {
			var hh int64
			if err := tx.QueryRowContext(ctx, `INSERT INTO testing_households (code, community_code, area_path, estate, building,
				unit, room, members, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, '1单元', $6, 2, $7, $7) RETURNING id`,
				fmt.Sprintf("H-%s-%03d", community, i), community, a.Path, estate, fmt.Sprintf("%d栋", i/4+1),
				fmt.Sprintf("%d0%d", i%4+1, i%2+1), tx.NowMS()).Scan(&hh); err != nil {
				return err
			}
			for k := 0; k < 2; k++ {
				id := fmt.Sprintf("4302031980%02d%02d%03d", k+1, i%28+1, i)
				id += checkDigit(id)
				name, _ := sys.Box.Seal(fmt.Sprintf("居民%d-%d", i, k))
				idEnc, _ := sys.Box.Seal(id)
				code := fmt.Sprintf("R-%s-%03d-%d", community, i, k)
				if _, err := tx.ExecContext(ctx, `INSERT INTO testing_residents (code, household_id, name_masked, name_enc, id_enc,
					id_idx, id4, birth_year, status, created_at, updated_at) VALUES ($1, $2, '居*', $3, $4, $5, $6, 1980, 'present', $7, $7)`,
					code, hh, name, idEnc, sys.Box.Index(pii.KindResidentID, id), pii.Last4(id), tx.NowMS()); err != nil {
					return err
				}
				codes = append(codes, code)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return codes
}

// checkDigit is the GB 11643 check character of 17 digits.
func checkDigit(body string) string {
	weights := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, c := range body {
		sum += int(c-'0') * weights[i]
	}
	return string("10X98765432"[sum%11])
}

// Through the real router and the OpenAPI checks: the testing group opens
// a campaign and a round, 建设街道's officer samples a batch in 古大桥社区 (one refused
// as tube_full, one a repeat), the batch sent again stores nothing more,
// and the missed list comes as a workbook a building a sheet, masked,
// that openpyxl reads.
func TestMassTestingThroughTheRouter(t *testing.T) {
	for _, kind := range dbtest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			ts := newTestSystem(t, kind)
			residents := seedHouseholds(t, ts.sys, "430203001002", "古大桥小区", 12)
			hesuan, jianshe := ts.tokenFor(t, "hesuan"), ts.tokenFor(t, "jianshe")
			r := ts.do(t, "POST", "/api/v1/campaigns", hesuan, "application/json", strings.NewReader(`{"name":"建设街道全员核酸","area_code":"430203001"}`))
			if r.status != 201 {
				t.Fatalf("campaign: %d %s", r.status, r.body)
			}
			var c struct{ ID int64 }
			json.Unmarshal(r.body, &c)
			now := ts.sys.DB.Clock.Now()
			r = ts.do(t, "POST", fmt.Sprintf("/api/v1/campaigns/%d/rounds", c.ID), hesuan, "application/json", strings.NewReader(
				fmt.Sprintf(`{"starts_at":%q,"ends_at":%q,"mode":"both"}`, now.Add(-time.Hour).Format(time.RFC3339), now.Add(8*time.Hour).Format(time.RFC3339))))
			if r.status != 201 {
				t.Fatalf("round: %d %s", r.status, r.body)
			}
			var round struct{ ID int64 }
			json.Unmarshal(r.body, &round)

			var batch []string
			for i, code := range residents[:11] {
				batch = append(batch, fmt.Sprintf(`{"client_id":"d1-%d","resident":%q,"tube":"DY-0001","pool_size":10,"mode":"door"}`, i, code))
			}
			batch = append(batch, fmt.Sprintf(`{"client_id":"d1-x","resident":%q,"tube":"DY-0002","pool_size":1,"mode":"door"}`, residents[0]))
			body := "[" + strings.Join(batch, ",") + "]"
			path := fmt.Sprintf("/api/v1/rounds/%d/samples", round.ID)
			var out struct {
				Items []struct{ Status, Code string }
			}
			for pass := 0; pass < 2; pass++ {
				r = ts.do(t, "POST", path, jianshe, "application/json", strings.NewReader(body))
				if r.status != 200 {
					t.Fatalf("samples: %d %s", r.status, r.body)
				}
				json.Unmarshal(r.body, &out)
				if len(out.Items) != 12 || out.Items[0].Status != "created" || out.Items[10].Code != "tube_full" ||
					out.Items[11].Status != "repeat" {
					t.Fatalf("pass %d: %s", pass, r.body)
				}
			}
			if n := countRows(t, ts.sys.DB, `SELECT COUNT(*) FROM testing_samples WHERE round_id = $1`, round.ID); n != 10 {
				t.Fatalf("%d samples stored, want 10", n)
			}
			// One sample alone answers its result alone.
			r = ts.do(t, "POST", path, jianshe, "application/json", strings.NewReader(
				fmt.Sprintf(`{"client_id":"d1-y","resident":%q,"tube":"DY-0003","pool_size":5,"mode":"door"}`, residents[10])))
			if r.status != 200 || !strings.Contains(string(r.body), `"status":"created"`) {
				t.Fatalf("one sample: %d %s", r.status, r.body)
			}
			r = ts.do(t, "GET", fmt.Sprintf("/api/v1/rounds/%d/coverage?area=430203001002", round.ID), jianshe, "", nil)
			var cov struct {
				Persons struct{ Total, Sampled, Missed int }
			}
			json.Unmarshal(r.body, &cov)
			if r.status != 200 || cov.Persons.Total != 24 || cov.Persons.Sampled != 11 || cov.Persons.Missed != 13 {
				t.Fatalf("coverage: %d %s", r.status, r.body)
			}
			r = ts.do(t, "GET", fmt.Sprintf("/api/v1/rounds/%d/missed?area=430203001002&format=xlsx", round.ID), jianshe, "", nil)
			if r.status != 200 {
				t.Fatalf("missed xlsx: %d %s", r.status, r.body)
			}
			checkMissedBook(t, r.body, 13)
		})
	}
}

// checkMissedBook reads the missed list's workbook with openpyxl: a sheet
// a building, every row masked, birth years numbers, want rows in all.
func checkMissedBook(t *testing.T, book []byte, want int) {
	t.Helper()
	py := python(t)
	file := filepath.Join(t.TempDir(), "missed.xlsx")
	if err := os.WriteFile(file, book, 0o600); err != nil {
		t.Fatal(err)
	}
	script := `
import json, sys, openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
out = {"sheets": wb.sheetnames, "rows": 0, "problems": []}
for ws in wb.worksheets:
    head = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        out["rows"] += 1
        cells = dict(zip(head, row))
        if "*" not in str(cells["身份证号"].value):
            out["problems"].append("ID not masked: %s" % cells["身份证号"].value)
        if cells["出生年份"].data_type != "n":
            out["problems"].append("birth year not a number")
print(json.dumps(out, ensure_ascii=False))
`
	raw, err := exec.Command(py, "-c", script, file).Output()
	if err != nil {
		t.Fatalf("openpyxl: %v", err)
	}
	var got struct {
		Sheets   []string
		Rows     int
		Problems []string
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	if got.Rows != want || len(got.Problems) > 0 || len(got.Sheets) != 2 || !strings.Contains(got.Sheets[0], "2栋") {
		t.Fatalf("missed workbook: %+v", got)
	}
}
