package checkpoint

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"tongxin/internal/auth"
	"tongxin/internal/testcity"
	"tongxin/internal/web"
)

// pagesEnv mounts the checkpoint and traffic pages as the app does, behind
// the real adapter and error pages.
func pagesEnv(t *testing.T, f *fixture) *http.ServeMux {
	t.Helper()
	site := testcity.NewSite(t, NavItems(), Templates)
	pg := NewPages(f.svc, site.Render)
	site.Mount(map[string]web.Handler{
		"GET /checkpoints":                          pg.List,
		"POST /checkpoints":                         pg.Create,
		"GET /checkpoints/stats":                    pg.Stats,
		"GET /checkpoints/{id}":                     pg.Detail,
		"POST /checkpoints/{id}":                    pg.Update,
		"POST /checkpoints/{id}/handovers":          pg.LogHandover,
		"GET /checkpoints/{id}/scans.xlsx":          pg.ScansExport,
		"GET /traffic":                              pg.Traffic,
		"GET /traffic/notices/{id}":                 pg.NoticePage,
		"GET /traffic/manage":                       pg.Manage,
		"POST /traffic/manage/measures":             pg.CreateMeasure,
		"POST /traffic/manage/measures/{id}/cancel": pg.CancelMeasure,
		"POST /traffic/manage/notices":              pg.PublishNotice,
	})
	return site.Mux
}

// page requests target as p (nil: anonymous), with a form body for POST.
func page(mux *http.ServeMux, method, target string, p *auth.Principal, form url.Values) *httptest.ResponseRecorder {
	return testcity.Serve(mux, testcity.Request{Method: method, Target: target, As: p, Form: form})
}

func mustContain(t *testing.T, w *httptest.ResponseRecorder, status int, parts ...string) {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status %d, want %d: %s", w.Code, status, w.Body.String())
	}
	for _, s := range parts {
		if !strings.Contains(w.Body.String(), s) {
			t.Fatalf("page lacks %q:\n%s", s, w.Body.String())
		}
	}
}

func TestCheckpointPages(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		mux := pagesEnv(t, f)
		hq := f.user("hqstaff", auth.HQStaff, "430200")
		// Register a transfer point through the form; a bad one comes back
		// with its message.
		w := page(mux, "POST", "/checkpoints", hq, url.Values{"name": {""}, "kind": {"transfer_point"}, "area_code": {"430211003"}})
		mustContain(t, w, http.StatusBadRequest, "必填", `name="area_code"`, "430211003")
		w = page(mux, "POST", "/checkpoints", hq, url.Values{"name": {"株洲高新区物资接驳点"}, "kind": {"transfer_point"},
			"area_code": {"430211003"}, "open": {"true"}, "lat": {"27.83"}, "lng": {"113.1"}})
		if w.Code != http.StatusSeeOther || !strings.HasPrefix(w.Header().Get("Location"), "/checkpoints/") {
			t.Fatalf("create: %d %s", w.Code, w.Body.String())
		}
		loc := w.Header().Get("Location")
		id := strings.TrimPrefix(loc, "/checkpoints/")
		officer := f.user("jiebo", auth.CheckpointOfficer, "checkpoint:"+id)
		if _, err := f.svc.SetRoster(f.Ctx, f.Sys, id, RosterInput{Shifts: []ShiftInput{{Name: "王警官", Post: "交警",
			Start: testBase.Add(-time.Hour), End: testBase.Add(8 * time.Hour)}}}); err != nil {
			t.Fatal(err)
		}
		named := claims("P1")
		named.EntName = "千金药业（扫码名）"
		tok := f.ver.sign(t, named, "")
		for i, token := range []string{tok, "garbage"} {
			if _, err := f.svc.Scan(f.Ctx, officer, id, ScanInput{Token: token, ClientID: "page-000" + string(rune('0'+i))}); err != nil {
				t.Fatal(err)
			}
		}
		// The list shows who is on duty; the officer sees it too.
		mustContain(t, page(mux, "GET", "/checkpoints", hq, nil), 200, "株洲高新区物资接驳点", "王警官", "设立卡口或接驳点")
		w = page(mux, "GET", "/checkpoints", officer, nil)
		mustContain(t, w, 200, "株洲高新区物资接驳点")
		if strings.Contains(w.Body.String(), "设立卡口或接驳点") {
			t.Fatal("an officer is offered the registration form")
		}
		// The checkpoint's page: roster, scans, handover form, scan link.
		// The scan shows the enterprise by the name its token carries.
		mustContain(t, page(mux, "GET", loc, officer, nil), 200, "王警官", "通行", "无法识别的通行码", "王*", "千金药业（扫码名）",
			`href="`+loc+`/scan"`, `action="`+loc+`/handovers"`)
		w = page(mux, "POST", loc+"/handovers", officer, url.Values{"enterprise": {qianjin}, "goods": {"原料药"}, "quantity": {"x"},
			"unit": {"吨"}, "outside_plate": {"湘A12345"}, "inside_plate": {"湘B23456"}})
		mustContain(t, w, http.StatusBadRequest, "须为数字")
		w = page(mux, "POST", loc+"/handovers", officer, url.Values{"enterprise": {qianjin}, "goods": {"原料药"}, "quantity": {"2"},
			"unit": {"吨"}, "outside_plate": {"湘A12345"}, "inside_plate": {"湘B23456"}, "at": {"2022-11-20T09:30"}})
		if w.Code != http.StatusSeeOther {
			t.Fatalf("handover: %d %s", w.Code, w.Body.String())
		}
		mustContain(t, page(mux, "GET", loc, officer, nil), 200, "株洲千金药业股份有限公司", "湘A12345 → 湘B23456")
		// The manager edits it; the officer may not.
		w = page(mux, "POST", loc, hq, url.Values{"name": {"高新区接驳点"}, "kind": {"transfer_point"}, "area_code": {"430211003"},
			"version": {"1"}})
		if w.Code != http.StatusSeeOther {
			t.Fatalf("edit: %d %s", w.Code, w.Body.String())
		}
		mustContain(t, page(mux, "GET", loc, hq, nil), 200, "高新区接驳点", "已关闭")
		w = page(mux, "POST", loc, officer, url.Values{"name": {"x"}, "kind": {"road"}, "area_code": {"430211003"}})
		mustContain(t, w, http.StatusForbidden)
		// Export: a workbook with the two scans.
		w = page(mux, "GET", loc+"/scans.xlsx?from=2022-11-20&to=2022-11-20", hq, nil)
		if w.Code != 200 || !strings.Contains(w.Header().Get("Content-Disposition"), ".xlsx") {
			t.Fatalf("export: %d %v", w.Code, w.Header())
		}
		x, err := excelize.OpenReader(bytes.NewReader(w.Body.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		rows, err := x.GetRows(x.GetSheetName(0))
		if err != nil || len(rows) != 3 || rows[1][1] != "通行" || rows[2][2] != "无法识别的通行码" {
			t.Fatalf("export rows: %v %v", rows, err)
		}
		// Statistics.
		mustContain(t, page(mux, "GET", "/checkpoints/stats?from=2022-11-20&to=2022-11-20", hq, nil), 200,
			"高新区接驳点", "无法识别的通行码", "共接驳 1 次", "原料药 2 吨")
		mustContain(t, page(mux, "GET", "/checkpoints/stats?from=bad", hq, nil), http.StatusBadRequest, "YYYY-MM-DD")
		// Another officer: not found.
		other := f.checkpoint("株洲大桥", Bridge, "430211001")
		stranger := f.user("kakou", auth.CheckpointOfficer, "checkpoint:"+ref(other))
		mustContain(t, page(mux, "GET", loc, stranger, nil), http.StatusNotFound)
		mustContain(t, page(mux, "GET", loc+"/scans.xlsx", stranger, nil), http.StatusNotFound)
	})
}

func TestTrafficPages(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		mux := pagesEnv(t, f)
		hq := f.user("hqstaff", auth.HQStaff, "430200")
		w := page(mux, "POST", "/traffic/manage/measures", hq, url.Values{"kind": {"closure"}, "target": {"株洲大桥"},
			"target_kind": {"bridge"}, "area_code": {"430203"}, "effective_from": {"2022-11-12T00:00"}})
		if w.Code != http.StatusSeeOther {
			t.Fatalf("measure: %d %s", w.Code, w.Body.String())
		}
		w = page(mux, "POST", "/traffic/manage/measures", hq, url.Values{"kind": {"emergency_lane"}, "target": {"枫溪大道坚固立交路口"},
			"target_kind": {"road"}, "area_code": {"430202"}, "effective_from": {"2022-11-12T00:00"}})
		if w.Code != http.StatusSeeOther {
			t.Fatalf("lane: %d %s", w.Code, w.Body.String())
		}
		w = page(mux, "POST", "/traffic/manage/measures", hq, url.Values{"kind": {"closure"}, "target": {""},
			"area_code": {"430203"}, "effective_from": {"2022-11-12"}})
		mustContain(t, w, http.StatusBadRequest, "时间格式")
		// The public page, without a login.
		mustContain(t, page(mux, "GET", "/traffic", nil, nil), 200, "株洲大桥", "枫溪大道坚固立交路口", "暂无通告")
		mustContain(t, page(mux, "GET", "/traffic/manage", hq, nil), 200, `name="lifts" value="1"`)
		mustContain(t, page(mux, "GET", "/traffic/manage", nil, nil), http.StatusUnauthorized)
		lusong := f.user("lusong", auth.DistrictOfficer, "430203")
		mustContain(t, page(mux, "GET", "/traffic/manage", lusong, nil), http.StatusForbidden)
		// Publishing the notice that lifts the bridge.
		w = page(mux, "POST", "/traffic/manage/notices", hq, url.Values{"number": {"株疫指通〔2022〕12号"},
			"title": {"关于调整主城区部分区域临时交通管制措施的通告"}, "body": {"株洲大桥解除交通管制。"},
			"published_at": {"2022-11-20T09:00"}, "lifts": {"1"}})
		if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/traffic/notices/1" {
			t.Fatalf("notice: %d %s %v", w.Code, w.Body.String(), w.Header())
		}
		w = page(mux, "POST", "/traffic/manage/notices", hq, url.Values{"number": {"株疫指通〔2022〕12号"}, "title": {"x"}, "body": {"x"}})
		mustContain(t, w, http.StatusConflict, "已发布")
		mustContain(t, page(mux, "GET", "/traffic/notices/1", nil, nil), 200, "株疫指通〔2022〕12号", "解除", "株洲大桥")
		w = page(mux, "GET", "/traffic", nil, nil)
		mustContain(t, w, 200, "枫溪大道坚固立交路口", "关于调整主城区部分区域临时交通管制措施的通告")
		if strings.Contains(w.Body.String(), "<strong>株洲大桥</strong>") {
			t.Fatal("the lifted bridge is still shown in force")
		}
		mustContain(t, page(mux, "GET", "/traffic/notices/99", nil, nil), http.StatusNotFound)
		w = page(mux, "POST", "/traffic/manage/measures/2/cancel", hq, url.Values{})
		if w.Code != http.StatusSeeOther {
			t.Fatalf("cancel: %d %s", w.Code, w.Body.String())
		}
		mustContain(t, page(mux, "GET", "/traffic", nil, nil), 200, "目前没有交通管制措施")
	})
}
