package app

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"tongxin/internal/db/dbtest"
	"tongxin/internal/quarantine"
)

// qcall sends a JSON request and decodes a 2xx answer into out (nil: not
// decoded), failing unless the status is want.
func qcall(t *testing.T, ts *testSystem, token, method, path, body string, want int, out any) res {
	t.Helper()
	var r res
	if body == "" {
		r = ts.do(t, method, path, token, "", nil)
	} else {
		r = ts.do(t, method, path, token, "application/json", strings.NewReader(body))
	}
	if r.status != want {
		t.Fatalf("%s %s: %d %s", method, path, r.status, r.body)
	}
	if out != nil {
		if err := json.Unmarshal(r.body, out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	return r
}

// problemCode is a problem answer's code.
func problemCode(r res) string {
	var p struct{ Code string }
	json.Unmarshal(r.body, &p)
	return p.Code
}

// Central quarantine through the real router: the central group's member
// opens a site and its rooms, admits a resident of the register and an
// outsider, moves one, releases one; occupancy asked at moments around
// each act is admissions minus releases; the refusals; scope.
func TestCentralQuarantineThroughTheRouter(t *testing.T) {
	for _, kind := range dbtest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			ts := newTestSystem(t, kind)
			jizhong, inspector := ts.tokenFor(t, "jizhong"), ts.tokenFor(t, "inspector")
			jianshe := ts.tokenFor(t, "jianshe")
			var demo struct{ Items []quarantine.Site }
			qcall(t, ts, jizhong, "GET", "/api/v1/quarantine/sites", "", 200, &demo)
			if len(demo.Items) != 1 || demo.Items[0].Occupied == 0 || demo.Items[0].Name != demoHotel {
				t.Fatalf("demo sites: %+v", demo.Items)
			}
			residents := seedHouseholds(t, ts.sys, "430203001001", "隔离测试小区", 3)
			outsiderID := demoIDNumber("43021119900101001")
			var site quarantine.Site
			qcall(t, ts, jizhong, "POST", "/api/v1/quarantine/sites", `{"name":"测试隔离点","place":"测试路 1 号","area_code":"430203001","capacity":10}`, 201, &site)
			sref := fmt.Sprint(site.ID)
			qcall(t, ts, jizhong, "POST", "/api/v1/quarantine/sites/"+sref+"/rooms", `{"rooms":[{"number":"101","floor":1,"beds":1},{"number":"102","floor":1,"beds":2}]}`, 201, nil)
			now := ts.sys.DB.Clock.Now().Truncate(time.Second)
			t1, t2, t3 := now.Add(-3*time.Hour), now.Add(-2*time.Hour), now.Add(-time.Hour)
			var a, b quarantine.Stay
			qcall(t, ts, jizhong, "POST", "/api/v1/quarantine/stays", fmt.Sprintf(`{"resident":%q,"category":"close_contact","site":%d,"room":"101","starts_at":%q}`,
				residents[0], site.ID, t1.Format(time.RFC3339)), 201, &a)
			qcall(t, ts, jizhong, "POST", "/api/v1/quarantine/stays", fmt.Sprintf(`{"name":"外来测试","id_number":%q,"phone":"13807331234","category":"inbound","site":%d,"room":"102","starts_at":%q}`,
				outsiderID, site.ID, t1.Add(10*time.Minute).Format(time.RFC3339)), 201, &b)
			if a.Resident != residents[0] || a.Outsider || !b.Outsider || strings.Contains(string(mustJSON(t, b)), outsiderID) ||
				strings.Contains(string(mustJSON(t, b)), "13807331234") {
				t.Fatalf("stays: %+v %+v", a, b)
			}
			qcall(t, ts, jizhong, "POST", fmt.Sprintf("/api/v1/quarantine/stays/%d/transfer", a.ID), fmt.Sprintf(`{"room":"102","at":%q}`, t2.Format(time.RFC3339)), 200, nil)
			qcall(t, ts, jizhong, "POST", fmt.Sprintf("/api/v1/quarantine/stays/%d/release", b.ID), fmt.Sprintf(`{"reason":"completed","at":%q}`, t3.Format(time.RFC3339)), 200, nil)
			// occupancy: (moment, persons, free rooms)
			for _, c := range []struct {
				at      time.Time
				n, free int
			}{{t1.Add(-time.Second), 0, 2}, {t1, 1, 1}, {t1.Add(10 * time.Minute), 2, 0}, {t2, 2, 1}, {t3.Add(-time.Second), 2, 1}, {t3, 1, 1}, {now, 1, 1}} {
				var board quarantine.SiteBoard
				qcall(t, ts, jianshe, "GET", "/api/v1/quarantine/sites/"+sref+"?at="+strings.ReplaceAll(c.at.Format(time.RFC3339), "+", "%2B"), "", 200, &board)
				if board.Occupied != c.n || board.FreeRooms != c.free {
					t.Fatalf("at %s: %d persons, %d free; want %d, %d", c.at, board.Occupied, board.FreeRooms, c.n, c.free)
				}
			}
			r := qcall(t, ts, jizhong, "POST", "/api/v1/quarantine/stays", fmt.Sprintf(`{"resident":%q,"category":"other","site":%d,"room":"101"}`, residents[0], site.ID), 409, nil)
			if problemCode(r) != "already_in_quarantine" {
				t.Fatalf("twice: %s", r.body)
			}
			qcall(t, ts, jizhong, "POST", "/api/v1/quarantine/stays", fmt.Sprintf(`{"resident":%q,"category":"other","site":%d,"room":"102"}`, residents[1], site.ID), 201, nil)
			r = qcall(t, ts, jizhong, "POST", "/api/v1/quarantine/stays", fmt.Sprintf(`{"resident":%q,"category":"other","site":%d,"room":"102"}`, residents[2], site.ID), 409, nil)
			if problemCode(r) != "room_full" || !strings.Contains(string(r.body), "102 房只有 2 张床位") {
				t.Fatalf("room full: %s", r.body)
			}
			r = qcall(t, ts, jizhong, "POST", fmt.Sprintf("/api/v1/quarantine/stays/%d/release", b.ID), `{"reason":"completed"}`, 409, nil)
			if problemCode(r) != "already_released" {
				t.Fatalf("released twice: %s", r.body)
			}
			qcall(t, ts, ts.tokenFor(t, "lusong"), "POST", fmt.Sprintf("/api/v1/quarantine/stays/%d/release", a.ID), `{"reason":"completed"}`, 403, nil)
			qcall(t, ts, inspector, "GET", "/api/v1/quarantine/sites/"+sref, "", 404, nil)
			qcall(t, ts, jizhong, "GET", "/api/v1/quarantine/sites/"+sref+"?at=yesterday", "", 400, nil)
			var evs struct{ Items []quarantine.Event }
			qcall(t, ts, jizhong, "GET", "/api/v1/quarantine/sites/"+sref+"/events", "", 200, &evs)
			if len(evs.Items) != 5 { // three admissions, a move, a release
				t.Fatalf("events: %+v", evs.Items)
			}
			var fig quarantine.CentralFigures
			qcall(t, ts, jizhong, "GET", "/api/v1/quarantine/figures/central?area=430203&day="+now.In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly), "", 200, &fig)
			if len(fig.Sites) != 2 || fig.Persons < 2 {
				t.Fatalf("figures: %+v", fig)
			}
			var rev quarantine.Revealed
			qcall(t, ts, ts.tokenFor(t, "commander"), "POST", fmt.Sprintf("/api/v1/quarantine/persons/%d/reveal", b.PersonID), `{"reason":"转运核对"}`, 200, &rev)
			if rev.IDNumber != outsiderID || rev.Phone != "13807331234" {
				t.Fatalf("reveal: %+v", rev)
			}
		})
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Home quarantine through the real router: a community worker starts a
// resident's home quarantine on day 4 of the rule's 1, 4, 7, sees the
// test due, a sample of the resident in a round makes it done; checks
// recorded move people off the missed list of their community only; the
// page and its quick form.
func TestHomeQuarantineThroughTheRouter(t *testing.T) {
	for _, kind := range dbtest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			ts := newTestSystem(t, kind)
			dayuan, hesuan, jianshe := ts.tokenFor(t, "dayuan"), ts.tokenFor(t, "hesuan"), ts.tokenFor(t, "jianshe")
			residents := seedHouseholds(t, ts.sys, "430203001001", "居家测试小区", 2)
			if r := ts.do(t, "POST", "/api/v1/households/import", jianshe, "text/csv", strings.NewReader(registerCSV("430203001002", 1, 700))); r.status != 200 {
				t.Fatalf("古大桥's register: %d %s", r.status, r.body)
			}
			other := []string{demoIDNumber("43020319800101700")} // its resident, by ID number
			now := ts.sys.DB.Clock.Now()
			start := now.AddDate(0, 0, -3).Format(time.RFC3339)
			var st quarantine.Stay
			qcall(t, ts, dayuan, "POST", "/api/v1/quarantine/home", fmt.Sprintf(`{"resident":%q,"category":"secondary_contact","starts_at":%q}`, residents[0], start), 201, &st)
			qcall(t, ts, dayuan, "POST", "/api/v1/quarantine/home", fmt.Sprintf(`{"resident":%q,"category":"secondary_contact"}`, other[0]), 400, nil)
			qcall(t, ts, jianshe, "POST", "/api/v1/quarantine/home", fmt.Sprintf(`{"resident":%q,"category":"secondary_contact"}`, other[0]), 201, nil)
			board := func(area string) quarantine.HomeBoard {
				var b quarantine.HomeBoard
				qcall(t, ts, jianshe, "GET", "/api/v1/quarantine/home?area="+area, "", 200, &b)
				return b
			}
			find := func(list []*quarantine.HomeDay, id int64) *quarantine.HomeDay {
				for _, h := range list {
					if h.Stay.ID == id {
						return h
					}
				}
				return nil
			}
			b := board("430203001001")
			h := find(b.TestsDue, st.ID)
			if h == nil || h.DayNo != 4 || h.TestDone || find(b.Missed, st.ID) == nil {
				t.Fatalf("before: %+v", h)
			}
			for _, x := range board("430203001002").Missed {
				if x.Stay.AreaCode != "430203001002" {
					t.Fatalf("大园's person on 古大桥's missed list: %+v", x.Stay)
				}
			}
			// A sample of the resident today, in a round of the testing group.
			var c, round struct{ ID int64 }
			qcall(t, ts, hesuan, "POST", "/api/v1/campaigns", `{"name":"居家隔离检测","area_code":"430203001"}`, 201, &c)
			qcall(t, ts, hesuan, "POST", fmt.Sprintf("/api/v1/campaigns/%d/rounds", c.ID), fmt.Sprintf(`{"starts_at":%q,"ends_at":%q,"mode":"door"}`,
				now.Add(-time.Hour).Format(time.RFC3339), now.Add(8*time.Hour).Format(time.RFC3339)), 201, &round)
			qcall(t, ts, jianshe, "POST", fmt.Sprintf("/api/v1/rounds/%d/samples", round.ID),
				fmt.Sprintf(`[{"client_id":"q-1","resident":%q,"tube":"QH-0001","pool_size":1,"mode":"door"}]`, residents[0]), 200, nil)
			b = board("430203001001")
			if h := find(b.TestsDue, st.ID); h == nil || !h.TestDone {
				t.Fatalf("after the sample: %+v", h)
			}
			qcall(t, ts, dayuan, "POST", fmt.Sprintf("/api/v1/quarantine/stays/%d/checks", st.ID), `{"done":true,"temperature":36.6,"contacted":true,"seal_intact":true}`, 200, nil)
			var missed struct{ Items []*quarantine.HomeDay }
			qcall(t, ts, dayuan, "GET", "/api/v1/quarantine/home/missed?area=430203001001", "", 200, &missed)
			if find(missed.Items, st.ID) != nil || len(missed.Items) != len(b.Missed)-1 {
				t.Fatalf("missed after the check: %d, before %d", len(missed.Items), len(b.Missed))
			}
			var fig quarantine.HomeFigures
			qcall(t, ts, ts.tokenFor(t, "jujia"), "GET", "/api/v1/quarantine/figures/home?area=430203001001&day="+b.Day, "", 200, &fig)
			if fig.Persons != len(b.Persons) || fig.TestsDone < 1 || fig.ChecksMissed != len(missed.Items) {
				t.Fatalf("figures: %+v", fig)
			}
			homePages(t, ts, missed.Items)
		})
	}
}

// homePages: the community worker's page lists the missed checks; the
// quick form through htmx answers the person's card, checked.
func homePages(t *testing.T, ts *testSystem, missed []*quarantine.HomeDay) {
	t.Helper()
	cookie := ts.login(t, "dayuan", DemoPassword)
	r := ts.as(t, cookie, "GET", "/quarantine/home", "")
	if r.status != 200 || len(missed) == 0 || !strings.Contains(string(r.body), missed[0].Stay.Name) ||
		!strings.Contains(string(r.body), fmt.Sprintf(`hx-post="/quarantine/home/stays/%d/check"`, missed[0].Stay.ID)) {
		t.Fatalf("home page: %d", r.status)
	}
	r = ts.as(t, ts.login(t, "lusong", DemoPassword), "GET", "/quarantine", "")
	if r.status != 200 || !strings.Contains(string(r.body), demoHotel) {
		t.Fatalf("central board: %d", r.status)
	}
	// The worker ends a stay from the same page (期满解除) and is sent
	// back to it; the person leaves the day's list.
	last := missed[len(missed)-1].Stay
	form := url.Values{"reason": {"completed"}, "back": {"home:430203001001"}}.Encode()
	r = ts.do(t, "POST", fmt.Sprintf("/quarantine/stays/%d/release", last.ID), "", "application/x-www-form-urlencoded",
		strings.NewReader(form), "Cookie", cookie)
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/quarantine/home?area=430203001001") {
		t.Fatalf("release from the home page: %d %s %s", r.status, r.header.Get("Location"), r.body)
	}
	if r := ts.as(t, cookie, "GET", "/quarantine/home", ""); strings.Contains(string(r.body), fmt.Sprintf(`id="stay-%d"`, last.ID)) {
		t.Fatalf("a released person is still on the day's list")
	}
}
