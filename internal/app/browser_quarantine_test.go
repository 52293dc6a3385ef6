package app_test

import (
	"strings"
	"testing"

	"github.com/go-rod/rod"

	"tongxin/internal/app"
)

// A community worker on a 360 px phone opens the home-quarantine page of
// 大园社区: today's missing checks come first, each a card with a quick
// form; recording one swaps the card (htmx) to a done check, and after a
// reload the person is off the missed list. Nothing is wider than the
// phone.
func TestBrowserHomeQuarantineChecksOnAPhone(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	s := serve(t, demoInst(t, "sqlite"))
	fits := func(page *rod.Page, what string) {
		t.Helper()
		if w := page.MustEval(`() => document.documentElement.scrollWidth`).Int(); w > 360 {
			shot(t, page, "quarantine-home-too-wide.png")
			t.Fatalf("%s is %d px wide on a 360 px phone", what, w)
		}
	}
	err := rod.Try(func() {
		page := b.MustPage("").Timeout(pageBudget)
		page.MustSetViewport(360, 740, 2, true)
		page.MustNavigate(s.URL + "/login")
		page.MustWaitLoad()
		login(t, page, "dayuan", app.DemoPassword)
		page.MustNavigate(s.URL + "/quarantine/home")
		page.MustWaitLoad()
		fits(page, "the home-quarantine page")
		missing := page.MustElement("#q-missing").MustText()
		cards := page.MustElements(`#missed ~ ul.q-cards > li.q-card`)
		if len(cards) == 0 || missing == "0" {
			t.Fatalf("no check missing in the demo today (%s)", missing)
		}
		shot(t, page, "quarantine-home-360.png")
		first := cards[0]
		id := first.MustAttribute("id")
		first.MustElement(`input[name="temperature"]`).MustInput("36.7")
		first.MustElement(`form.q-check button[type="submit"]`).MustClick()
		page.MustElement("#" + *id + " .q-ok") // the swapped card
		text := page.MustElement("#" + *id).MustText()
		if !strings.Contains(text, "36.7") || !strings.Contains(text, "已核查") {
			t.Fatalf("the card after the check: %s", text)
		}
		page.MustReload()
		page.MustWaitLoad()
		if after := page.MustElement("#q-missing").MustText(); after == missing {
			t.Fatalf("still %s checks missing after one was recorded", after)
		}
		if has, _, _ := page.Has(`#missed ~ ul.q-cards > li#` + *id + ` form.q-check`); has {
			t.Fatal("the person checked is still on the missed list")
		}
		fits(page, "the page after a check")
	})
	if err != nil {
		t.Fatal(err)
	}
}
