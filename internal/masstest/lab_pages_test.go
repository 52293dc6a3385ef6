package masstest

import (
	"net/http"
	"testing"

	"tongxin/internal/auth"
	"tongxin/internal/testcity"
	"tongxin/internal/web"
)

// The lab page imports a file or shows its bad rows in Chinese; the
// retest board shows a community worker their community, masked.
func TestLabPages(t *testing.T) {
	eachLab(t, func(t *testing.T, f *labFixture) {
		dy, gdq := f.people(dayuan, "1栋", 3), f.people(gudaqiao, "2栋", 2)
		f.startRound()
		f.pool("T-P5", 5, append(dy, gdq...)...)
		site := testcity.NewSite(t, LabNavItems(), Templates)
		pg := NewPages(f.svc, site.Render)
		site.Mount(map[string]web.Handler{
			"GET /testing/lab":     pg.LabPage,
			"POST /testing/lab":    pg.LabSubmit,
			"GET /testing/retests": pg.RetestsPage,
		})
		staff := f.User("hesuan", auth.HQStaff, "430200")
		worker := f.User("dayuan_w", auth.CommunityWorker, dayuan)
		testcity.Sees(t, testcity.Serve(site.Mux, testcity.Request{Target: "/testing/lab", As: staff}), http.StatusOK,
			[]string{"核酸检测结果导入", "/api/v1/lab-results/import/template?format=xlsx"}, nil)
		testcity.Sees(t, testcity.Serve(site.Mux, testcity.Request{Target: "/testing/lab", As: worker}), http.StatusForbidden, nil, nil)

		upload := func(csv string) testcity.Request {
			body, ctype := testcity.Multipart(t, "file", "lab.csv", []byte(csv))
			return testcity.Request{Method: "POST", Target: "/testing/lab", As: staff, Body: body,
				Header: map[string]string{"Content-Type": ctype}}
		}
		testcity.Sees(t, testcity.Serve(site.Mux, upload("管码,结果\nT-P5,阳性\nT-NONE,阴性\n")), http.StatusBadRequest,
			[]string{"T-NONE 不存在或不在您的管理范围内", "未导入任何数据"}, nil)
		if n := f.Count(`SELECT COUNT(*) FROM testing_retests`); n != 0 {
			t.Fatalf("a refused file placed %d retests", n)
		}
		testcity.Sees(t, testcity.Serve(site.Mux, upload("管码,结果\nT-P5,阳性\n")), http.StatusOK,
			[]string{"导入完成", "列入复核 5 人"}, nil)

		w := testcity.Serve(site.Mux, testcity.Request{Target: "/testing/retests?status=open", As: worker})
		testcity.Sees(t, w, http.StatusOK, []string{"复核名单", "共 3 人", "庐山春天 1栋", "混管阳性", "430203********"},
			[]string{"古大桥社区", labIDNumber(1), "居民1号"})
		testcity.Sees(t, testcity.Serve(site.Mux, testcity.Request{Target: "/testing/retests?status=maybe", As: worker}),
			http.StatusBadRequest, []string{"状态须为"}, nil)
	})
}
