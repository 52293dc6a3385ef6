package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"tongxin/internal/db"
	"tongxin/internal/db/dbtest"
)

// zoneIDs reads the ids of a list of zones.
func zoneIDs(t *testing.T, body []byte) []int64 {
	t.Helper()
	var list struct {
		Items []struct{ ID int64 } `json:"items"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		t.Fatalf("zones: %v %s", err, body)
	}
	var out []int64
	for _, z := range list.Items {
		out = append(out, z.ID)
	}
	return out
}

// publicIDs reads the ids of the public list.
func publicIDs(t *testing.T, body []byte) []int64 {
	t.Helper()
	var list struct {
		Districts []struct {
			Zones []struct{ ID int64 } `json:"zones"`
		} `json:"districts"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		t.Fatalf("public: %v %s", err, body)
	}
	var out []int64
	for _, d := range list.Districts {
		for _, z := range d.Zones {
			out = append(out, z.ID)
		}
	}
	slices.Sort(out)
	return out
}

// Zones through the real router: a building sealed at T1 and lifted at
// T2 is listed between them and not after, by zones?at= and by the public
// list alike, which holds no names; the demo's zones are there; the gate
// snapshot is for checkpoint officers and zone readers.
func TestZonesOverHTTP(t *testing.T) {
	t.Parallel()
	for _, kind := range dbtest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			ts := newTestSystem(t, kind)
			staff, commander, dayuan := ts.tokenFor(t, "hqstaff"), ts.tokenFor(t, "commander"), ts.tokenFor(t, "dayuan")
			t1 := time.Now().Add(-2 * time.Hour).Truncate(time.Second)
			t2 := t1.Add(time.Hour)
			body := fmt.Sprintf(`{"level":"sealed","area_code":"430203001001","estate":"大园小区","building":"6栋","effective_from":%q,"reason":"发现阳性病例","decision_no":"株防指〔2022〕901号"}`,
				t1.Format(time.RFC3339))
			r := ts.do(t, "POST", "/api/v1/zones", staff, "application/json", strings.NewReader(body))
			var z struct {
				ID     int64
				Status string
			}
			if r.status != 201 || json.Unmarshal(r.body, &z) != nil || z.Status != "in_force" {
				t.Fatalf("seal: %d %s", r.status, r.body)
			}
			if r := ts.do(t, "POST", "/api/v1/zones", dayuan, "application/json", strings.NewReader(body)); r.status != 403 {
				t.Fatalf("a community worker decided: %d", r.status)
			}
			bad := strings.Replace(body, "大园小区", "无名小区", 1)
			if r := ts.do(t, "POST", "/api/v1/zones", staff, "application/json", strings.NewReader(bad)); r.status != 400 || r.problemCode(t) != "estate_not_found" {
				t.Fatalf("unknown estate: %d %s", r.status, r.body)
			}
			if r := ts.do(t, "POST", "/api/v1/zones", staff, "application/json", strings.NewReader(body)); r.status != 409 || r.problemCode(t) != "zone_overlap" {
				t.Fatalf("identical zone: %d %s", r.status, r.body)
			}
			lift := fmt.Sprintf(`{"at":%q,"reason":"连续检测阴性","decision_no":"株防指〔2022〕902号"}`, t2.Format(time.RFC3339))
			path := fmt.Sprintf("/api/v1/zones/%d/lift", z.ID)
			if r := ts.do(t, "POST", path, staff, "application/json", strings.NewReader(lift)); r.status != 200 {
				t.Fatalf("lift: %d %s", r.status, r.body)
			}
			if r := ts.do(t, "POST", path, staff, "application/json", strings.NewReader(lift)); r.status != 409 || r.problemCode(t) != "zone_lifted" {
				t.Fatalf("lift again: %d %s", r.status, r.body)
			}
			for _, c := range []struct {
				at   time.Time
				want bool
			}{{t1.Add(30 * time.Minute), true}, {t2.Add(time.Minute), false}, {time.Now(), false}} {
				q := "?at=" + url.QueryEscape(c.at.Format(time.RFC3339))
				r := ts.do(t, "GET", "/api/v1/zones"+q, commander, "", nil)
				ids := zoneIDs(t, r.body)
				if r.status != 200 || slices.Contains(ids, z.ID) != c.want {
					t.Fatalf("zones at %s: %d %v", c.at, r.status, ids)
				}
				pub := ts.do(t, "GET", "/api/v1/public/zones"+q, "", "", nil)
				slices.Sort(ids)
				if pub.status != 200 || !slices.Equal(publicIDs(t, pub.body), ids) {
					t.Fatalf("public at %s: %s, want %v", c.at, pub.body, ids)
				}
				for _, secret := range []string{"hqstaff", "commander", "胡指挥", "阳性病例", "株防指"} {
					if strings.Contains(string(pub.body), secret) {
						t.Fatalf("the public list holds %q: %s", secret, pub.body)
					}
				}
				if c.want && len(ids) < 2 {
					t.Fatalf("the demo's zones are missing: %v", ids)
				}
			}
			if r := ts.do(t, "GET", "/public/zones", "", "", nil); r.status != 200 || !strings.Contains(string(r.body), "大园社区") {
				t.Fatalf("public page: %d", r.status)
			}
			if r := ts.do(t, "GET", "/api/v1/zones/snapshot", ts.tokenFor(t, "kakou"), "", nil); r.status != 200 || !strings.Contains(string(r.body), `"full":true`) {
				t.Fatalf("snapshot for a checkpoint officer: %d %s", r.status, r.body)
			}
			if r := ts.do(t, "GET", "/api/v1/zones/snapshot?after=1", dayuan, "", nil); r.status != 200 || !strings.Contains(string(r.body), `"full":false`) {
				t.Fatalf("snapshot delta: %d %s", r.status, r.body)
			}
			if r := ts.do(t, "GET", "/api/v1/zones/snapshot", ts.tokenFor(t, "volunteer"), "", nil); r.status != 403 {
				t.Fatalf("snapshot for a volunteer: %d", r.status)
			}
			// The demo: a pending proposal from the positive retest, an exit
			// permit of 大园社区 that its worker sees masked.
			if r := ts.do(t, "GET", "/api/v1/zone-proposals?status=pending", ts.tokenFor(t, "hesuan"), "", nil); r.status != 200 ||
				!strings.Contains(string(r.body), `"tube":"DYR0001"`) {
				t.Fatalf("the demo's proposal: %d %s", r.status, r.body)
			}
			if r := ts.do(t, "GET", "/api/v1/zone-permits?active=true", dayuan, "", nil); r.status != 200 ||
				!strings.Contains(string(r.body), "血液透析") || !strings.Contains(string(r.body), "*") {
				t.Fatalf("the demo's permit: %d %s", r.status, r.body)
			}
			r = ts.do(t, "GET", fmt.Sprintf("/api/v1/zones/%d", z.ID), dayuan, "", nil)
			if r.status != 200 || !strings.Contains(string(r.body), `"status":"lifted"`) {
				t.Fatalf("zone: %d %s", r.status, r.body)
			}
		})
	}
}

// A positive single tube yields a proposal to seal the resident's
// building, the HQ is told, and confirming it seals that building; a
// round sampling only at sites is then refused over that street.
func TestPositiveProposesSeal(t *testing.T) {
	t.Parallel()
	for _, kind := range dbtest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			ts := newTestSystem(t, kind)
			staff := ts.tokenFor(t, "hqstaff")
			r := ts.do(t, "POST", "/api/v1/campaigns", staff, "application/json", strings.NewReader(`{"name":"复检","area_code":"430203"}`))
			var c struct{ ID int64 }
			if r.status != 201 || json.Unmarshal(r.body, &c) != nil {
				t.Fatalf("campaign: %d %s", r.status, r.body)
			}
			now := time.Now()
			rb := fmt.Sprintf(`{"starts_at":%q,"ends_at":%q,"mode":"door","area_codes":["430203001"]}`,
				now.Add(-time.Hour).Format(time.RFC3339), now.Add(20*time.Hour).Format(time.RFC3339))
			r = ts.do(t, "POST", fmt.Sprintf("/api/v1/campaigns/%d/rounds", c.ID), staff, "application/json", strings.NewReader(rb))
			var round struct{ ID int64 }
			if r.status != 201 || json.Unmarshal(r.body, &round) != nil {
				t.Fatalf("round: %d %s", r.status, r.body)
			}
			singleTube(t, ts, round.ID)
			r = ts.do(t, "POST", "/api/v1/lab-results", staff, "application/json",
				strings.NewReader(`{"results":[{"tube":"ZONE-S1","result":"positive","lab":"市疾控"}]}`))
			if r.status != 200 || !strings.Contains(string(r.body), `"positives":1`) {
				t.Fatalf("result: %d %s", r.status, r.body)
			}
			var props struct {
				Items []struct {
					ID            int64  `json:"id"`
					CommunityCode string `json:"community_code"`
					Estate        string `json:"estate"`
					Building      string `json:"building"`
					Tube          string `json:"tube"`
				} `json:"items"`
			}
			r = ts.do(t, "GET", "/api/v1/zone-proposals?status=pending&area=430203001001", staff, "", nil)
			if r.status != 200 || json.Unmarshal(r.body, &props) != nil {
				t.Fatalf("proposals: %d %s", r.status, r.body)
			}
			i := slices.IndexFunc(props.Items, func(p struct {
				ID            int64  `json:"id"`
				CommunityCode string `json:"community_code"`
				Estate        string `json:"estate"`
				Building      string `json:"building"`
				Tube          string `json:"tube"`
			}) bool {
				return p.Tube == "ZONE-S1"
			})
			if i < 0 || props.Items[i].Estate != "湘江苑" || props.Items[i].Building != "9栋" || props.Items[i].CommunityCode != "430203001001" ||
				strings.Contains(string(r.body), "检测") {
				t.Fatalf("the proposal: %s", r.body)
			}
			if r := ts.do(t, "GET", "/api/v1/inbox", staff, "", nil); !strings.Contains(string(r.body), "封控提议") {
				t.Fatalf("the HQ was not told: %s", r.body)
			}
			confirm := `{"decision_no":"株防指〔2022〕903号"}`
			r = ts.do(t, "POST", fmt.Sprintf("/api/v1/zone-proposals/%d/confirm", props.Items[i].ID), staff, "application/json", strings.NewReader(confirm))
			var pr struct {
				Status string `json:"status"`
				ZoneID int64  `json:"zone_id"`
			}
			if r.status != 200 || json.Unmarshal(r.body, &pr) != nil || pr.Status != "confirmed" || pr.ZoneID == 0 {
				t.Fatalf("confirm: %d %s", r.status, r.body)
			}
			r = ts.do(t, "GET", fmt.Sprintf("/api/v1/zones/%d", pr.ZoneID), staff, "", nil)
			if r.status != 200 || !strings.Contains(string(r.body), `"level":"sealed"`) || !strings.Contains(string(r.body), `"building":"9栋"`) ||
				!strings.Contains(string(r.body), `"in_force":true`) {
				t.Fatalf("the sealed building: %d %s", r.status, r.body)
			}
			rb = strings.Replace(rb, `"mode":"door"`, `"mode":"sites"`, 1)
			r = ts.do(t, "POST", fmt.Sprintf("/api/v1/campaigns/%d/rounds", c.ID), staff, "application/json", strings.NewReader(rb))
			if r.status != 400 || r.problemCode(t) != "sealed_zone_sites" || !strings.Contains(string(r.body), "封控区") {
				t.Fatalf("a sites round over a sealed zone: %d %s", r.status, r.body)
			}
		})
	}
}

// singleTube writes, with SQL of its own, a resident of 大园社区 (湘江苑
// 9栋) sampled in a single tube ZONE-S1 of round.
func singleTube(t *testing.T, ts *testSystem, round int64) {
	t.Helper()
	ctx := context.Background()
	a, err := ts.sys.Areas.Lookup(ctx, "430203001001")
	if err != nil {
		t.Fatal(err)
	}
	err = ts.sys.DB.Write(ctx, func(tx *db.Tx) error {
		var tube int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO testing_tubes (barcode, round_id, pool_size, filled)
			VALUES ('ZONE-S1', $1, 1, 0) RETURNING id`, round).Scan(&tube); err != nil {
			return err
		}
		if err := labResident(ctx, tx, ts.sys.Box, 40, a.Code, a.Path, round, tube); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE testing_households SET estate = '湘江苑', building = '9栋' WHERE code = 'LAB-H40'`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
