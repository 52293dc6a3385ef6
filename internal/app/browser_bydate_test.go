package app_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/go-rod/rod"

	"tongxin/internal/clock"
	"tongxin/internal/testcity"
)

// The commander reads the statistics on a phone: days of the trend
// without reports are gaps (null points), not 0%, and "—" in the table;
// then asks for yesterday's report date with the date field.
func TestBrowserStatsByReportDate(t *testing.T) {
	t.Parallel()
	testcity.Assets(t) // the charts are drawn with ECharts from the vendor files
	b := newBrowser(t)
	in, _ := setup(t, "sqlite")
	s := serve(t, in)
	err := rod.Try(func() {
		page := b.MustPage("").Timeout(pageBudget)
		page.MustSetViewport(360, 740, 2, true)
		cpLogin(t, page, s.URL, "commander", "tongxin-demo")
		// The demo city's reports start 13 days ago: the trend of the
		// fourteen days up to then has reports on its last day alone.
		first := time.Now().In(clock.Shanghai).AddDate(0, 0, -13).Format("2006-01-02")
		page.MustNavigate(s.URL + "/resumption?date=" + first)
		page.MustWaitLoad()
		page.MustWait(`() => document.querySelector("#chart-trend svg") !== null`)
		// The first day of the trend has no report in the demo city.
		points := page.MustEval(`() => {
			const o = echarts.getInstanceByDom(document.getElementById("chart-trend")).getOption();
			return JSON.stringify(o.series.map(s => [s.data[0], s.data[s.data.length - 1]]));
		}`).String()
		if !strings.HasPrefix(points, "[[null,") || strings.Contains(points, ",null]") {
			t.Fatalf("trend series (first and last point): %s", points)
		}
		if cells := page.MustEval(`() => [...document.querySelectorAll("details.trend tbody tr:first-child td.num")].map(td => td.textContent).join(" ")`).String(); cells != "— — — —" {
			t.Fatalf("first trend row: %q", cells)
		}
		if w := page.MustEval(`() => document.documentElement.scrollWidth`).Int(); w > 360 {
			t.Fatalf("statistics page is %d px wide on a 360 px screen", w)
		}

		yesterday := time.Now().In(clock.Shanghai).AddDate(0, 0, -1)
		page.MustElement(`#date`).MustEval(`function (d) { this.value = d }`, yesterday.Format("2006-01-02"))
		page.MustElement(`#at`).MustEval(`function () { this.value = "" }`)
		newPage(t, page, func() { page.MustElement(`form.stats-form button[type="submit"]`).MustClick() })
		waitForURL(t, page, "date="+yesterday.Format("2006-01-02"))
		main := page.MustElement("main").MustText()
		for _, want := range []string{"填报日期：" + yesterday.Format("2006-01-02"),
			fmt.Sprintf("截至%d月%d日，", int(yesterday.Month()), yesterday.Day())} {
			if !strings.Contains(main, want) {
				t.Fatalf("the page for yesterday lacks %q:\n%s", want, main)
			}
		}
		shot(t, page, "resumption-by-date-360.png")
	})
	if err != nil {
		t.Fatal(err)
	}
}
