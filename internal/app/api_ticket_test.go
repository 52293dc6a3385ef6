package app

import (
	"encoding/json"
	"strings"
	"testing"

	"tongxin/internal/db/dbtest"
)

// ticketJSON is the part of a ticket the API tests read.
type ticketJSON struct {
	ID              int64  `json:"id"`
	Tracking        string `json:"tracking"`
	Status          string `json:"status"`
	Department      string `json:"department"`
	EscalationLevel int    `json:"escalation_level"`
	Reporter        struct {
		Phone string `json:"phone"`
	} `json:"reporter"`
	Events []struct {
		Kind string `json:"kind"`
	} `json:"events"`
}

func decodeTicket(t *testing.T, r res) ticketJSON {
	t.Helper()
	var tk ticketJSON
	if err := json.Unmarshal(r.body, &tk); err != nil {
		t.Fatalf("ticket JSON %s: %v", r.body, err)
	}
	return tk
}

// TestTicketAPI drives tickets through the real router: who sees what,
// the lifecycle, refusals as problem+json, the public intake.
func TestTicketAPI(t *testing.T) {
	t.Parallel()
	for _, kind := range dbtest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			ts := newTestSystem(t, kind)
			tok := map[string]string{}
			for _, u := range []string{"admin", "hqstaff", "hotline", "minzheng", "gxj", "dayuan", "jianshe", "lusong", "volunteer", "qianjin", "inspector", "liaison"} {
				tok[u] = ts.tokenFor(t, u)
			}
			const jsonCT = "application/json"
			body := `{"category":"elderly_care","area_code":"430203001001","address":"大园社区 9 栋","channel":"hotline_12345",
				"reporter_name":"孙奶奶","reporter_phone":"13807339999","description":"老人独居需要每日送餐"}`
			r := ts.do(t, "POST", "/api/v1/tickets", tok["hotline"], jsonCT, strings.NewReader(body), "Idempotency-Key", "call-1")
			if r.status != 201 {
				t.Fatalf("file: %d %s", r.status, r.body)
			}
			tk := decodeTicket(t, r)
			if tk.Status != "assigned" || tk.Department != "mzj" || tk.Reporter.Phone != "138****9999" {
				t.Fatalf("filed ticket %+v", tk)
			}
			if strings.Contains(string(r.body), "13807339999") {
				t.Fatal("full phone in the answer")
			}
			again := ts.do(t, "POST", "/api/v1/tickets", tok["hotline"], jsonCT, strings.NewReader(body), "Idempotency-Key", "call-1")
			if again.status != 201 || decodeTicket(t, again).ID != tk.ID {
				t.Fatalf("idempotent replay filed another ticket: %s", again.body)
			}
			path := "/api/v1/tickets/" + tk.Tracking
			for user, want := range map[string]int{"hotline": 200, "minzheng": 200, "dayuan": 200, "jianshe": 200, "lusong": 200,
				"hqstaff": 200, "gxj": 404, "qianjin": 404, "inspector": 404, "liaison": 404, "volunteer": 403} {
				if got := ts.do(t, "GET", path, tok[user], "", nil); got.status != want {
					t.Errorf("GET ticket as %s: %d, want %d", user, got.status, want)
				}
			}
			// The lifecycle through the API.
			move := func(user, to, extra string, want int) res {
				t.Helper()
				got := ts.do(t, "POST", path+"/transitions", tok[user], jsonCT, strings.NewReader(`{"to":"`+to+`"`+extra+`}`))
				if got.status != want {
					t.Fatalf("%s → %s: %d, want %d: %s", user, to, got.status, want, got.body)
				}
				return got
			}
			move("minzheng", "in_progress", "", 200)
			if code := move("minzheng", "resolved", "", 400).problemCode(t); code != "note_required" {
				t.Errorf("resolve without note: %s", code)
			}
			move("minzheng", "resolved", `,"note":"已安排志愿者每日送餐"`, 200)
			if code := move("minzheng", "new", "", 409).problemCode(t); code != "bad_transition" {
				t.Errorf("resolved → new: %s", code)
			}
			if code := move("dayuan", "confirmed", "", 403).problemCode(t); code != "not_reporter" {
				t.Errorf("someone else confirms: %s", code)
			}
			if code := move("minzheng", "assigned", "", 400).problemCode(t); code != "department_required" {
				t.Errorf("assign without department: %s", code)
			}
			if code := move("minzheng", "flying", "", 400).problemCode(t); code != "bad_transition" {
				t.Errorf("unknown status: %s", code)
			}
			move("hotline", "confirmed", "", 200)
			got := decodeTicket(t, ts.do(t, "GET", path, tok["hotline"], "", nil))
			if got.Status != "confirmed" || len(got.Events) < 5 {
				t.Errorf("after confirmation: %+v", got)
			}
			// Comments, photos, policies: refusals are problem+json.
			cases := []struct {
				name, method, path, user, ctype, body string
				status                                int
				code                                  string
			}{
				{"unknown field", "POST", "/api/v1/tickets", "hotline", jsonCT, `{"category":"food","priority":1}`, 400, "unknown_field"},
				{"bad ticket", "POST", "/api/v1/tickets", "hotline", jsonCT, `{"category":"food"}`, 400, "invalid_ticket"},
				{"volunteer files", "POST", "/api/v1/tickets", "volunteer", jsonCT, `{"category":"food"}`, 403, "forbidden"},
				{"empty comment", "POST", path + "/comments", "hotline", jsonCT, `{"note":" "}`, 400, "invalid_comment"},
				{"pdf as photo", "POST", path + "/photos", "hotline", "application/pdf", "%PDF-1.4", 415, "unsupported_media_type"},
				{"pdf bytes labelled png", "POST", path + "/photos", "hotline", "image/png", "%PDF-1.4", 415, "not_an_image"},
				{"bad rule", "PUT", "/api/v1/ticket-policies/food", "hqstaff", jsonCT, `{"normal":{"respond_by":"soon","resolve_by":"overnight"}}`, 400, "invalid_policy"},
				{"unknown category policy", "PUT", "/api/v1/ticket-policies/weather", "hqstaff", jsonCT, `{"normal":{"respond_by":"2h","resolve_by":"overnight"}}`, 404, "category_not_found"},
				{"policy by non-manager", "PUT", "/api/v1/ticket-policies/food", "dayuan", jsonCT, `{"normal":{"respond_by":"2h","resolve_by":"overnight"}}`, 403, "forbidden"},
				{"route to nowhere", "PUT", "/api/v1/ticket-routes", "hqstaff", jsonCT, `{"category":"food","area_code":"430203","department":"nope"}`, 400, "invalid_route"},
				{"bad status filter", "GET", "/api/v1/tickets?status=lost", "hqstaff", "", "", 400, "bad_filter"},
				{"bad overdue filter", "GET", "/api/v1/tickets?overdue=maybe", "hqstaff", "", "", 400, "bad_filter"},
				{"bad stats period", "GET", "/api/v1/tickets/stats?from=2022-11-20&to=2022-11-01", "hqstaff", "", "", 400, "bad_period"},
				{"no such ticket", "GET", "/api/v1/tickets/WT19990101-0001", "hqstaff", "", "", 404, "ticket_not_found"},
				{"public status wrong digits", "POST", "/api/v1/public/help/status", "", jsonCT, `{"tracking":"` + tk.Tracking + `","phone_last4":"0000"}`, 404, "ticket_not_found"},
				{"public bad input", "POST", "/api/v1/public/help", "", jsonCT, `{"name":"","phone":"1"}`, 400, "invalid_ticket"},
			}
			for _, c := range cases {
				got := ts.do(t, c.method, c.path, tok[c.user], c.ctype, strings.NewReader(c.body))
				if got.status != c.status {
					t.Errorf("%s: %d, want %d: %s", c.name, got.status, c.status, got.body)
					continue
				}
				if code := got.problemCode(t); code != c.code {
					t.Errorf("%s: code %s, want %s", c.name, code, c.code)
				}
			}
			// A resident files without logging in and reads the status.
			pub := ts.do(t, "POST", "/api/v1/public/help", "", jsonCT, strings.NewReader(
				`{"name":"周阿姨","phone":"13973301234","area_code":"430203001001","category":"food","description":"家里断菜了"}`))
			if pub.status != 201 {
				t.Fatalf("public filing: %d %s", pub.status, pub.body)
			}
			var rc struct{ Tracking string }
			json.Unmarshal(pub.body, &rc)
			st := ts.do(t, "POST", "/api/v1/public/help/status", "", jsonCT, strings.NewReader(`{"tracking":"`+rc.Tracking+`","phone_last4":"1234"}`))
			if st.status != 200 || !strings.Contains(string(st.body), `"status":"assigned"`) || strings.Contains(string(st.body), "周") {
				t.Errorf("public status: %d %s", st.status, st.body)
			}
			// Lists are scoped: the department sees its own, not the others'.
			var list struct {
				Items []ticketJSON `json:"items"`
			}
			json.Unmarshal(ts.do(t, "GET", "/api/v1/tickets?status=open", tok["gxj"], "", nil).body, &list)
			for _, it := range list.Items {
				if it.Department != "gxj" {
					t.Errorf("gxj sees a ticket of %q", it.Department)
				}
			}
			stats := ts.do(t, "GET", "/api/v1/tickets/stats", tok["hqstaff"], "", nil)
			if stats.status != 200 || !strings.Contains(string(stats.body), `"by_department"`) {
				t.Errorf("stats: %d %s", stats.status, stats.body)
			}
		})
	}
}
