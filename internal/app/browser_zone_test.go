package app_test

import (
	"strings"
	"testing"

	"tongxin/internal/app"
)

// On a 360 px phone: the HQ decides a zone with the decision form (a
// building of 大园社区 sealed), lands on the zone, and the public list —
// without a login — shows it with its level and no decider; both pages
// fit the screen.
func TestBrowserZoneDecisionAndPublicList(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	in := demoInst(t, "sqlite")
	s := serve(t, in)
	page := b.MustIncognito().MustPage("").Timeout(pageBudget)
	page.MustSetViewport(phoneWidth, 740, 2, true)
	page.MustNavigate(s.URL + "/login")
	page.MustWaitLoad()
	login(t, page, "hqstaff", app.DemoPassword)
	page.MustNavigate(s.URL + "/zones/new")
	page.MustWaitLoad()
	if w := page.MustEval(`() => document.documentElement.scrollWidth`).Int(); w > phoneWidth {
		shot(t, page, "zone-new.png")
		t.Fatalf("the decision form is %d px wide", w)
	}
	page.MustElement(`input[name="level"][value="sealed"]`).MustClick()
	page.MustElement(`#n-area`).MustInput("430203001001")
	page.MustElement(`#n-estate`).MustInput("建设新村")
	page.MustElement(`#n-building`).MustInput("4栋")
	page.MustElement(`#n-no`).MustInput("株防指〔2022〕950号")
	page.MustElement(`#n-reason`).MustInput("楼栋内发现阳性感染者")
	newPage(t, page, func() { page.MustElement(`form[action="/zones"] button[type="submit"]`).MustClick() })
	if text := page.MustElement("main").MustText(); !strings.Contains(text, "建设新村 4栋") || !strings.Contains(text, "封控区") {
		shot(t, page, "zone-detail.png")
		t.Fatalf("after the decision: %s", text)
	}
	if w := page.MustEval(`() => document.documentElement.scrollWidth`).Int(); w > phoneWidth {
		t.Fatalf("the zone's page is %d px wide", w)
	}

	pub := b.MustIncognito().MustPage("").Timeout(pageBudget)
	pub.MustSetViewport(phoneWidth, 740, 2, true)
	pub.MustNavigate(s.URL + "/public/zones")
	pub.MustWaitLoad()
	text := pub.MustElement("main").MustText()
	if !strings.Contains(text, "芦淞区") || !strings.Contains(text, "大园社区 建设新村 4栋") || strings.Contains(text, "杨参谋") ||
		strings.Contains(text, "hqstaff") || strings.Contains(text, "阳性感染者") {
		shot(t, pub, "zone-public.png")
		t.Fatalf("the public list: %s", text)
	}
	if w := pub.MustEval(`() => document.documentElement.scrollWidth`).Int(); w > phoneWidth {
		shot(t, pub, "zone-public.png")
		t.Fatalf("the public list is %d px wide", w)
	}
}
