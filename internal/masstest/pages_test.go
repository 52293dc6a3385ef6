package masstest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/testcity"
	"tongxin/internal/web"
)

// pagesEnv mounts the mass-testing pages as the app does.
func pagesEnv(t *testing.T, f *fixture) *http.ServeMux {
	t.Helper()
	site := testcity.NewSite(t, NavItems(), Templates)
	pg := NewPages(f.svc, site.Render)
	site.Mount(map[string]web.Handler{
		"GET /testing":                         pg.Campaigns,
		"GET /testing/campaigns/{id}":          pg.Campaign,
		"GET /testing/rounds/{id}":             pg.Round,
		"GET /testing/rounds/{id}/board":       pg.RoundBoard,
		"GET /testing/rounds/{id}/missed":      pg.Missed,
		"POST /testing":                        pg.CreateCampaignSubmit,
		"POST /testing/campaigns/{id}/rounds":  pg.CreateRoundSubmit,
		"POST /testing/rounds/{id}/close":      pg.CloseRoundSubmit,
		"POST /testing/rounds/{id}/exemptions": pg.ExemptSubmit,
	})
	return site.Mux
}

func get(mux *http.ServeMux, target string, p *auth.Principal, header map[string]string) *httptest.ResponseRecorder {
	return testcity.Serve(mux, testcity.Request{Target: target, As: p, Header: header})
}

// The HQ follows the rounds of a campaign down to a community's
// buildings; a community worker sees their community only, and the
// missed list masks every ID number.
func TestRoundPages(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		mux := pagesEnv(t, f)
		people := f.estateOf(dayuan, "大园小区", 20)
		others := f.estateOf(gudaqiao, "古大桥小区", 5)
		r1 := f.round(street)
		f.sampleAll(r1, append(people[2:], others...), 10, "P")
		r2 := f.nextRound(r1.CampaignID)
		f.sampleAll(r2, people, 10, "Q")
		hq := f.User("hq_staff1", auth.HQStaff, "430203")
		worker := f.User("dy_worker", auth.CommunityWorker, dayuan)

		w := get(mux, "/testing", hq, nil)
		testcity.Sees(t, w, 200, []string{"全员核酸检测", fmt.Sprintf("/testing/campaigns/%d", r1.CampaignID)}, nil)
		w = get(mux, fmt.Sprintf("/testing/campaigns/%d", r1.CampaignID), hq, nil)
		testcity.Sees(t, w, 200, []string{"第 1 轮", "第 2 轮", "建设街道", `id="chart-history"`}, nil)
		charts := chartData(t, w)
		if len(charts) != 1 || len(charts[0].Categories) != 2 {
			t.Fatalf("history chart %+v", charts)
		}

		w = get(mux, fmt.Sprintf("/testing/rounds/%d", r1.ID), hq, nil)
		testcity.Sees(t, w, 200, []string{"大园社区", "古大桥社区", `hx-trigger="every 30s"`, "format=xlsx"}, []string{"贺家土"})
		w = get(mux, fmt.Sprintf("/testing/rounds/%d/board?area=%s", r1.ID, dayuan), hq, map[string]string{"HX-Request": "true"})
		testcity.Sees(t, w, 200, []string{`id="round-board"`, "大园小区 1栋", "大园小区 2栋"}, []string{"<html"})

		// The missed list: two of 大园社区's residents, masked.
		w = get(mux, fmt.Sprintf("/testing/rounds/%d/missed?area=%s", r1.ID, dayuan), worker, nil)
		testcity.Sees(t, w, 200, []string{"漏采", "大园社区 大园小区 1栋", "采样签字", people[0].idNumber[:6] + "********"},
			[]string{people[0].idNumber, people[5].code})
		// The worker of 大园社区 cannot read 古大桥社区.
		w = get(mux, fmt.Sprintf("/testing/rounds/%d?area=%s", r1.ID, gudaqiao), worker, nil)
		testcity.Sees(t, w, 400, []string{"不在您的查看范围"}, nil)
		// Without an area, the worker sees their community.
		w = get(mux, fmt.Sprintf("/testing/rounds/%d", r1.ID), worker, nil)
		testcity.Sees(t, w, 200, []string{"大园小区 1栋"}, []string{"古大桥社区"})
		// Someone who does not read testing does not see the round.
		vol := f.User("vol_1", auth.Volunteer, dayuan)
		if w := get(mux, fmt.Sprintf("/testing/rounds/%d", r1.ID), vol, nil); w.Code != http.StatusForbidden {
			t.Fatalf("volunteer: %d", w.Code)
		}
	})
}

func chartData(t *testing.T, w *httptest.ResponseRecorder) []pageChartSpec {
	t.Helper()
	m := regexp.MustCompile(`(?s)<script type="application/json" id="chart-data">(.*?)</script>`).FindStringSubmatch(w.Body.String())
	if m == nil {
		t.Fatal("no chart data")
	}
	var out []pageChartSpec
	if err := json.Unmarshal([]byte(strings.TrimSpace(m[1])), &out); err != nil {
		t.Fatalf("chart data %q: %v", m[1], err)
	}
	return out
}

func post(mux *http.ServeMux, target string, p *auth.Principal, form url.Values) *httptest.ResponseRecorder {
	return testcity.Serve(mux, testcity.Request{Method: "POST", Target: target, As: p, Form: form})
}

// The testing group opens a campaign and a round from the pages; a
// community worker exempts a resident of the missed list; a bad form is
// answered on its page in Chinese; the round is closed.
func TestManagementForms(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		mux := pagesEnv(t, f)
		people := f.estateOf(dayuan, "大园小区", 3)
		hq := f.User("hq_staff1", auth.HQStaff, "430203")
		worker := f.User("dy_worker", auth.CommunityWorker, dayuan)
		w := post(mux, "/testing", hq, url.Values{"name": {"建设街道核酸"}, "area_code": {street}})
		if w.Code != http.StatusSeeOther || !strings.HasPrefix(w.Header().Get("Location"), "/testing/campaigns/") {
			t.Fatalf("campaign: %d %s", w.Code, w.Body.String())
		}
		campaign := w.Header().Get("Location")
		w = post(mux, "/testing", hq, url.Values{"name": {""}, "area_code": {street}})
		testcity.Sees(t, w, 400, []string{"新建检测任务"}, nil)
		day := f.Clock.Now().In(clock.Shanghai).Format(time.DateOnly)
		w = post(mux, campaign+"/rounds", hq, url.Values{"starts_at": {day + "T21:00"}, "ends_at": {day + "T07:00"}, "mode": {"both"}})
		testcity.Sees(t, w, 400, []string{"结束时间须晚于开始时间"}, nil)
		w = post(mux, campaign+"/rounds", hq, url.Values{"starts_at": {day + "T07:00"}, "ends_at": {day + "T21:00"}, "mode": {"door"},
			"area_codes": {dayuan}})
		if w.Code != http.StatusSeeOther {
			t.Fatalf("round: %d %s", w.Code, w.Body.String())
		}
		round := w.Header().Get("Location")
		w = get(mux, round+"/missed?area="+dayuan, worker, nil)
		testcity.Sees(t, w, 200, []string{"登记免检", people[0].code}, nil)
		w = post(mux, round+"/exemptions", worker, url.Values{"resident": {people[0].code}, "reason": {"away"}, "area": {dayuan}})
		if w.Code != http.StatusSeeOther {
			t.Fatalf("exempt: %d %s", w.Code, w.Body.String())
		}
		w = post(mux, round+"/exemptions", worker, url.Values{"resident": {people[1].code}, "reason": {"infant"}, "area": {dayuan}})
		testcity.Sees(t, w, 400, []string{"婴幼儿免检限 3 岁以下"}, nil)
		w = get(mux, round+"/missed?area="+dayuan, worker, nil)
		testcity.Sees(t, w, 200, []string{people[1].code}, []string{people[0].code})
		// The worker may not close the round; the testing group may.
		if w := post(mux, round+"/close", worker, url.Values{}); w.Code != http.StatusForbidden {
			t.Fatalf("worker closing: %d", w.Code)
		}
		w = get(mux, round, hq, nil)
		testcity.Sees(t, w, 200, []string{"结束本轮"}, nil)
		if w := post(mux, round+"/close", hq, url.Values{}); w.Code != http.StatusSeeOther {
			t.Fatalf("close: %d %s", w.Code, w.Body.String())
		}
		w = get(mux, round, hq, nil)
		testcity.Sees(t, w, 200, []string{"已结束"}, []string{"结束本轮"})
	})
}
