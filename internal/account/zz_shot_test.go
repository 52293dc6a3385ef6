package account

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"testing"

	"tongxin/internal/area"
	"tongxin/internal/web"
)

func TestZZShots(t *testing.T) {
	if os.Getenv("SHOTS") == "" {
		t.Skip()
	}
	e := newPageEnv(t)
	pg := &area.Pages{Svc: e.h.Areas, Render: e.h.Render}
	a := &web.Adapter{Log: e.h.MW.Log, ErrorPage: e.h.Render.ErrorPage}
	e.mux.Handle("GET /areas", a.H(pg.Tree))
	e.mux.Handle("GET /areas/{code}", a.H(pg.Node))
	e.mux.Handle("GET /areas/{code}/children", a.H(pg.ChildrenFragment))
	e.mux.Handle("GET /static/", e.h.Render.StaticHandler())
	who := e.admin
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("as") == "anon" {
			e.mux.ServeHTTP(w, r)
			return
		}
		e.mux.ServeHTTP(w, r.WithContext(web.WithPrincipal(r.Context(), who)))
	}))
	defer srv.Close()
	for name, path := range map[string]string{"home": "/", "users": "/users", "user": "/users/lisi", "new": "/users/new", "audit": "/audit", "areas": "/areas", "node": "/areas/430203001", "login": "/login?as=anon", "err": "/users/nobody"} {
		for _, wd := range []string{"360", "1280"} {
			out := "/tmp/gen/" + name + "-" + wd + ".png"
			cmd := exec.Command("chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size="+wd+",900", "--screenshot="+out, srv.URL+path)
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Log(string(b))
			}
		}
	}
}
