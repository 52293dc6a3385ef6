package app

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"tongxin/internal/apispec/apitest"
)

// What a resident types into the public help form reaches the HQ's WeCom
// group as text: no link, image or font tag is formed from it, while the
// message's own link to the ticket stays. Through the real router; hooks
// to the local receiver need private addresses allowed, as
// --webhook-allow-private does, and are refused without it.
func TestPublicHelpTextIsInertInRobotMessages(t *testing.T) {
	t.Parallel()
	ts := newTestSystem(t, "sqlite")
	var mu sync.Mutex
	var bodies [][]byte
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, b)
		mu.Unlock()
		io.WriteString(w, `{"errcode":0,"errmsg":"ok"}`)
	}))
	defer rc.Close()
	admin := ts.tokenFor(t, "admin")
	const jsonCT = "application/json"
	hook := `{"name":"指挥部群","url":"` + rc.URL + `/cgi-bin/webhook/send?key=k","format":"wecom","events":["ticket.created"],"area_code":"430200"}`
	if r := ts.do(t, "POST", "/api/v1/webhooks", admin, jsonCT, strings.NewReader(hook)); r.status != 400 || !strings.Contains(string(r.body), "webhook_invalid") {
		t.Fatalf("a hook to 127.0.0.1 without --webhook-allow-private: %d %s", r.status, r.body)
	}
	ts = rewired(t, ts, wiring{baseURL: "https://tongxin.example.gov.cn", allowPrivate: true})
	if r := ts.do(t, "POST", "/api/v1/webhooks", admin, jsonCT, strings.NewReader(hook)); r.status != 201 {
		t.Fatalf("create hook: %d %s", r.status, r.body)
	}
	typed := "[点此领取补贴](http://evil.example) ![x](http://evil.example/x.png) <font color=red>紧急</font>"
	help, _ := json.Marshal(map[string]string{"name": "周阿姨", "phone": "13973301234", "area_code": "430203001001",
		"category": "food", "description": typed})
	if r := ts.do(t, "POST", "/api/v1/public/help", "", jsonCT, strings.NewReader(string(help))); r.status != 201 {
		t.Fatalf("public help: %d %s", r.status, r.body)
	}
	if _, err := ts.sys.Notify.DeliverDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(bodies) != 1 {
		t.Fatalf("the robot got %d messages, want 1", len(bodies))
	}
	var m struct{ Markdown struct{ Content string } }
	if err := json.Unmarshal(bodies[0], &m); err != nil {
		t.Fatal(err)
	}
	md := m.Markdown.Content
	own := regexpLink.FindString(md)
	if own == "" || !strings.HasSuffix(md, own) {
		t.Fatalf("our link to the ticket is missing:\n%s", md)
	}
	user := strings.TrimSuffix(md, own)
	for _, bad := range []string{"](", "![", "<font", "http://evil"} {
		if strings.Contains(user, bad) {
			t.Errorf("%q formed from the resident's text:\n%s", bad, md)
		}
	}
	if !strings.Contains(user, "点此领取补贴") || !strings.Contains(user, "紧急") {
		t.Errorf("the resident's words must still be there:\n%s", md)
	}
}

var regexpLink = regexp.MustCompile(`\n\[查看\]\(https://tongxin\.example\.gov\.cn/tickets/\d+\)$`)

// rewired serves the database of ts again through services wired as serve
// wires them with the given options (--base-url, --webhook-allow-private).
func rewired(t *testing.T, ts *testSystem, w wiring) *testSystem {
	t.Helper()
	sys := wireSystem(ts.sys.DB, ts.sys.Box, ts.sys.DataDir, ts.sys.Log, w)
	srv, err := NewServer(sys, ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(apitest.Handler(t, srv))
	t.Cleanup(hs.Close)
	return &testSystem{sys: sys, srv: hs, rt: srv.routes}
}
