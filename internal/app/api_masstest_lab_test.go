package app

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"tongxin/internal/db"
	"tongxin/internal/db/dbtest"
	"tongxin/internal/pii"
)

// labWorld writes, with SQL of its own, ten residents of 大园社区 in one
// 10-person tube and two of 古大桥社区 in a 5-person tube of a round the
// test created through the API.
func labWorld(t *testing.T, ts *testSystem, round int64) {
	t.Helper()
	ctx := context.Background()
	paths := map[string]string{}
	for _, c := range []string{"430203001001", "430203001002"} {
		a, err := ts.sys.Areas.Lookup(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		paths[c] = a.Path
	}
	err := ts.sys.DB.Write(ctx, func(tx *db.Tx) error {
		tubes := map[string]int64{}
		for bc, size := range map[string]int{"LAB-API-10": 10, "LAB-API-5": 5} {
			var id int64
			if err := tx.QueryRowContext(ctx, `INSERT INTO testing_tubes (barcode, round_id, pool_size, filled)
				VALUES ($1, $2, $3, 0) RETURNING id`, bc, round, size).Scan(&id); err != nil {
				return err
			}
			tubes[bc] = id
		}
		for i := range 12 {
			community, tube := "430203001001", tubes["LAB-API-10"]
			if i >= 10 {
				community, tube = "430203001002", tubes["LAB-API-5"]
			}
			if err := labResident(ctx, tx, ts.sys.Box, i, community, paths[community], round, tube); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// labResident writes the i-th resident, their household and their sample.
func labResident(ctx context.Context, tx *db.Tx, box *pii.Box, i int, community, path string, round, tube int64) error {
	name, idNo := fmt.Sprintf("检测%d", i), fmt.Sprintf("43020319900101%04d", i)
	nameEnc, err := box.Seal(name)
	if err != nil {
		return err
	}
	idEnc, err := box.Seal(idNo)
	if err != nil {
		return err
	}
	var hh, res int64
	now := tx.NowMS()
	if err := tx.QueryRowContext(ctx, `INSERT INTO testing_households (code, community_code, area_path, estate, building,
		unit, room, members, created_at, updated_at) VALUES ($1, $2, $3, '湘江苑', '8栋', '1', $4, 1, $5, $5) RETURNING id`,
		fmt.Sprintf("LAB-H%d", i), community, path, fmt.Sprintf("%d", 101+i), now).Scan(&hh); err != nil {
		return err
	}
	if err := tx.QueryRowContext(ctx, `INSERT INTO testing_residents (code, household_id, name_masked, name_enc, id_enc, id_idx,
		id4, birth_year, status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 1990, 'present', $8, $8) RETURNING id`,
		fmt.Sprintf("LAB-R%d", i), hh, pii.MaskName(name), nameEnc, idEnc, box.Index(pii.KindResidentID, idNo), pii.Last4(idNo), now).Scan(&res); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO testing_samples (round_id, resident_id, household_id, tube_id, mode, collector,
		client_id, sampled_at, received_at) VALUES ($1, $2, $3, $4, 'door', 'dayuan', $5, $6, $6)`,
		round, res, hh, tube, fmt.Sprintf("lab-api-%d", i), now); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE testing_tubes SET filled = filled + 1 WHERE id = $1`, tube)
	return err
}

// Lab results through the real router: a file refused as a whole stores
// nothing, a good CSV file places a positive pool's ten residents on the
// retest list of their community (masked), a JSON batch sent twice stores
// once, and the community's worker is told while another's is not.
func TestLabResultsOverHTTP(t *testing.T) {
	t.Parallel()
	for _, kind := range dbtest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			ts := newTestSystem(t, kind)
			admin, staff, dayuan := ts.tokenFor(t, "admin"), ts.tokenFor(t, "hqstaff"), ts.tokenFor(t, "dayuan")
			body := `{"username":"xinhua_w","display_name":"新华桥网格员","password":"long-enough-1","roles":[{"role":"community_worker","scope":"430203001003"}]}`
			if r := ts.do(t, "POST", "/api/v1/users", admin, "application/json", strings.NewReader(body)); r.status != 201 {
				t.Fatalf("user: %d %s", r.status, r.body)
			}
			xinhua := ts.tokenFor(t, "xinhua_w")
			r := ts.do(t, "POST", "/api/v1/campaigns", staff, "application/json", strings.NewReader(`{"name":"芦淞区核酸","area_code":"430203"}`))
			var c struct{ ID int64 }
			if r.status != 201 || json.Unmarshal(r.body, &c) != nil {
				t.Fatalf("campaign: %d %s", r.status, r.body)
			}
			now := time.Now()
			rb := fmt.Sprintf(`{"starts_at":%q,"ends_at":%q,"mode":"both","area_codes":["430203001"]}`,
				now.Add(-time.Hour).Format(time.RFC3339), now.Add(20*time.Hour).Format(time.RFC3339))
			r = ts.do(t, "POST", fmt.Sprintf("/api/v1/campaigns/%d/rounds", c.ID), staff, "application/json", strings.NewReader(rb))
			var round struct{ ID int64 }
			if r.status != 201 || json.Unmarshal(r.body, &round) != nil {
				t.Fatalf("round: %d %s", r.status, r.body)
			}
			labWorld(t, ts, round.ID)

			bad := "管码,结果,检测机构\nLAB-API-10,阳性,市疾控\nLAB-API-NONE,阴性,市疾控\n"
			r = ts.do(t, "POST", "/api/v1/lab-results/import", staff, "text/csv", strings.NewReader(bad))
			if r.status != 400 || !strings.Contains(string(r.body), "import_rejected") || !strings.Contains(string(r.body), "unknown_tube") {
				t.Fatalf("bad file: %d %s", r.status, r.body)
			}
			if r := ts.do(t, "GET", fmt.Sprintf("/api/v1/retests?round=%d", round.ID), dayuan, "", nil); r.status != 200 ||
				!strings.Contains(string(r.body), `"total":0`) {
				t.Fatalf("a refused file placed retests: %d %s", r.status, r.body)
			}
			good := "tube,result,lab,reported_at\nLAB-API-10,positive,市疾控," + now.Format(time.RFC3339) + "\n"
			r = ts.do(t, "POST", "/api/v1/lab-results/import", staff, "text/csv", strings.NewReader(good))
			if r.status != 200 || !strings.Contains(string(r.body), `"retests":10`) {
				t.Fatalf("file: %d %s", r.status, r.body)
			}
			var page struct {
				Total int `json:"total"`
				Items []struct {
					Name     string `json:"name"`
					IDNumber string `json:"id_number"`
					Tube     string `json:"tube"`
				} `json:"items"`
			}
			r = ts.do(t, "GET", fmt.Sprintf("/api/v1/retests?round=%d&status=open&per_page=5", round.ID), dayuan, "", nil)
			if r.status != 200 || json.Unmarshal(r.body, &page) != nil || page.Total != 10 || len(page.Items) != 5 ||
				page.Items[0].Tube != "LAB-API-10" || !strings.Contains(page.Items[0].IDNumber, "*") || strings.Contains(string(r.body), "检测0") {
				t.Fatalf("retests: %d %s", r.status, r.body)
			}
			batch := `{"results":[{"tube":"LAB-API-5","result":"negative","lab":"市疾控"},{"tube":"LAB-API-10","result":"positive"},{"tube":"NOPE","result":"negative"}]}`
			for i, want := range []string{`"stored":1`, `"stored":0`} {
				r = ts.do(t, "POST", "/api/v1/lab-results", staff, "application/json", strings.NewReader(batch))
				if r.status != 200 || !strings.Contains(string(r.body), want) || !strings.Contains(string(r.body), "unknown_tube") {
					t.Fatalf("batch %d: %d %s", i, r.status, r.body)
				}
			}
			if r := ts.do(t, "POST", "/api/v1/lab-results", dayuan, "application/json", strings.NewReader(batch)); r.status != 403 {
				t.Fatalf("a community worker stored results: %d", r.status)
			}
			if r := ts.do(t, "GET", "/api/v1/inbox", dayuan, "", nil); !strings.Contains(string(r.body), "混管阳性") {
				t.Fatalf("大园's worker was not told: %s", r.body)
			}
			if r := ts.do(t, "GET", "/api/v1/inbox", xinhua, "", nil); strings.Contains(string(r.body), "混管阳性") {
				t.Fatalf("新华桥's worker was told: %s", r.body)
			}
			if r := ts.do(t, "GET", "/api/v1/retests", xinhua, "", nil); !strings.Contains(string(r.body), `"total":0`) {
				t.Fatalf("新华桥's worker sees retests: %s", r.body)
			}
			if r := ts.do(t, "GET", "/api/v1/lab-results/import/template?format=csv", staff, "", nil); r.status != 200 ||
				!strings.Contains(string(r.body), "管码") {
				t.Fatalf("template: %d %s", r.status, r.body)
			}
		})
	}
}
