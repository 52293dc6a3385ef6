package notify

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db/dbtest"
	"tongxin/internal/errs"
	"tongxin/internal/testcity"
)

func TestPublicAddr(t *testing.T) {
	blocked := []string{
		"127.0.0.1", "127.8.9.10", "::1", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "fc00::1", "fd12:3456::1",
		"169.254.169.254", "169.254.0.1", "fe80::1", "fe80::1%eth0", "0.0.0.0", "::", "224.0.0.1", "239.1.2.3", "ff02::1",
		"100.64.0.1", "100.127.255.254", "255.255.255.255", "240.0.0.1", "198.18.0.1", "0.1.2.3",
		"::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "::127.0.0.1", "64:ff9b::a00:1", "2002:a00:1::1",
		"2002:7f00:1::1",
	}
	public := []string{"1.1.1.1", "8.8.8.8", "101.226.4.6", "100.128.0.1", "172.32.0.1", "2408:8000::1", "::ffff:1.1.1.1",
		"64:ff9b::101:101", "2002:101:101::1"}
	for _, s := range blocked {
		if PublicAddr(netip.MustParseAddr(s)) {
			t.Errorf("%s counted as public", s)
		}
	}
	for _, s := range public {
		if !PublicAddr(netip.MustParseAddr(s)) {
			t.Errorf("%s counted as private", s)
		}
	}
}

// countingServer is a local receiver that counts the connections it
// accepts, to prove that a blocked delivery never connects.
func countingServer(t *testing.T) (*httptest.Server, *atomic.Int32, *atomic.Int32) {
	var conns, reqs atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqs.Add(1)
		w.Write([]byte(`{"errcode":0}`))
	}))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &conns, &reqs
}

// A webhook pointing at 127.0.0.1, or at a name resolving to it
// (localhost), saved while private addresses were allowed (or while DNS
// answered otherwise), is refused when dialed by a service that does not
// allow them: the attempt is logged as blocked_address, the receiver sees
// no connection at all, and the log names no address. With the flag it is
// delivered.
func TestDeliveryToAPrivateAddressIsBlockedWhenDialed(t *testing.T) {
	clk := clock.NewManual(testBase)
	d := dbtest.Open(t, "sqlite", clk)
	f := newFixture(t, d, clk)
	srv, conns, reqs := countingServer(t)
	port := srv.Listener.Addr().String()
	port = port[strings.LastIndex(port, ":"):]
	hIP := f.hook("本机", "http://127.0.0.1"+port+"/hook", FormatJSON, "", "430200", "*")
	hName := f.hook("本机名", "http://localhost"+port+"/hook", FormatWeCom, "", "430200", "*")
	f.send(nil, ticketMsg("ticket.created", "9", ""))

	var logBuf bytes.Buffer
	strict := NewService(d, Deps{Box: f.Box, Log: slog.New(slog.NewJSONHandler(&logBuf, nil)), Areas: f.Areas})
	if n, err := strict.DeliverDue(f.Ctx); err != nil || n != 2 {
		t.Fatalf("DeliverDue without the flag: %d attempts, %v", n, err)
	}
	for _, id := range []int64{hIP.ID, hName.ID} {
		dl := f.deliveries(id)[0]
		if dl.Status != StatusPending || dl.LastError != ErrBlockedAddress || dl.LastStatus != 0 || dl.Log[0].Error != ErrBlockedAddress ||
			dl.LastErrorText != "地址指向内网或本机，已拦截" {
			t.Errorf("hook %d without the flag: %+v", id, dl)
		}
	}
	if c, r := conns.Load(), reqs.Load(); c != 0 || r != 0 {
		t.Fatalf("the receiver got %d connections and %d requests; a blocked delivery must not connect", c, r)
	}
	logged := logBuf.String()
	if strings.Count(logged, `"error_class":"blocked_address"`) != 2 || strings.Contains(logged, "127.0.0.1") || strings.Contains(logged, "localhost") {
		t.Fatalf("worker log:\n%s", logged)
	}

	clk.Advance(RetryWait(1))
	f.deliverDue(2) // f.svc allows private addresses, as --webhook-allow-private
	for _, id := range []int64{hIP.ID, hName.ID} {
		if dl := f.deliveries(id)[0]; dl.Status != StatusDelivered || dl.LastError != "" {
			t.Errorf("hook %d with the flag: %+v", id, dl)
		}
	}
	if reqs.Load() != 2 {
		t.Fatalf("with the flag the receiver got %d requests, want 2", reqs.Load())
	}
}

// A redirect is never followed, so it cannot lead a delivery to an
// address that was not checked.
func TestDeliveryDoesNotFollowRedirects(t *testing.T) {
	clk := clock.NewManual(testBase)
	f := newFixture(t, dbtest.Open(t, "sqlite", clk), clk)
	var followed atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { followed.Add(1) }))
	t.Cleanup(target.Close)
	redirect := httptest.NewServer(http.RedirectHandler(target.URL+"/internal", http.StatusTemporaryRedirect))
	t.Cleanup(redirect.Close)
	h := f.hook("重定向", redirect.URL, FormatJSON, "", "430200", "*")
	f.send(nil, ticketMsg("ticket.created", "9", ""))
	f.deliverDue(1)
	if dl := f.deliveries(h.ID)[0]; dl.LastStatus != 307 || dl.LastError != ErrRedirect || followed.Load() != 0 {
		t.Fatalf("redirect: %+v, followed %d", dl, followed.Load())
	}
}

// Saving refuses obviously private hosts unless private addresses are
// allowed, through the API as a 400 on the url field.
func TestSaveRefusesPrivateHosts(t *testing.T) {
	clk := clock.NewManual(testBase)
	d := dbtest.Open(t, "sqlite", clk)
	f := newFixture(t, d, clk)
	strict := NewService(d, Deps{Box: f.Box, Areas: f.Areas})
	h := apiRoutes(NewAPI(strict))
	alice := f.user("alice", auth.HQStaff, "430203")
	for _, u := range []string{"http://127.0.0.1/hook", "http://10.1.2.3/x", "http://[::1]:8080/", "http://169.254.169.254/latest/meta-data",
		"http://[::ffff:127.0.0.1]/", "http://100.64.1.1/", "http://localhost:8080/", "http://LOCALHOST./", "http://a.localhost/",
		"http://[fe80::1%25eth0]/", "http://0.0.0.0/", "http://192.168.1.1/"} {
		body, _ := json.Marshal(map[string]any{"name": "内网", "url": u, "events": []string{"*"}, "area_code": "430203"})
		a := testcity.Call(t, h, alice, "POST", "/api/v1/webhooks", "application/json", body)
		if a.Status != 400 || a.JSON["code"] != "webhook_invalid" || !strings.Contains(string(a.Body), "webhook-allow-private") {
			t.Errorf("%s: %d %s", u, a.Status, a.Body)
		}
	}
	for _, u := range []string{"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", "https://1.1.1.1/hook"} {
		_, err := strict.CreateWebhook(f.Ctx, f.Sys, WebhookInput{Name: ptr("公网"), URL: &u, Events: &[]string{"*"}, AreaCode: ptr("430200")})
		if err != nil {
			t.Errorf("%s refused: %v", u, err)
		}
	}
	if _, err := f.svc.CreateWebhook(f.Ctx, f.Sys, WebhookInput{Name: ptr("允许内网"), URL: ptr("http://127.0.0.1:9/x"), Events: &[]string{"*"},
		AreaCode: ptr("430200")}); err != nil {
		t.Errorf("with private addresses allowed: %v", err)
	}
	_, err := strict.UpdateWebhook(f.Ctx, f.Sys, 1, WebhookInput{URL: ptr("http://10.0.0.8/")})
	if e := errs.As(err); e == nil || e.Code != "webhook_invalid" {
		t.Errorf("update to a private address: %v", err)
	}
}

// What the public types is escaped in robots' markdown: no link, image or
// font tag is formed from it, while the message's own bold title and link
// stay; the JSON format carries the text as it was typed.
func TestRobotMarkdownEscapesUserText(t *testing.T) {
	typed := "[点此领取补贴](http://evil.example) ![x](http://evil.example/x.png) <font color=red>紧急</font>"
	p := Payload{Event: "ticket.created", Title: "新求助：" + typed, Body: "# 标题\n> 引用\n" + typed + "\n**粗** _斜_ `码` &lt;font&gt;",
		Link: "https://tongxin.example.gov.cn/tickets/T-1", SentAt: testBase}
	wecom, err := WeComPayload(p)
	if err != nil {
		t.Fatal(err)
	}
	ding, err := DingTalkPayload(p)
	if err != nil {
		t.Fatal(err)
	}
	for name, raw := range map[string][]byte{"wecom": wecom, "dingtalk": ding} {
		var m struct {
			Markdown struct{ Content, Text, Title string }
		}
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		md := m.Markdown.Content + m.Markdown.Text
		own := "[查看](https://tongxin.example.gov.cn/tickets/T-1)"
		if !strings.HasSuffix(md, own) {
			t.Errorf("%s: our link is gone:\n%s", name, md)
		}
		user := strings.TrimSuffix(md, own)
		for _, bad := range []string{"](", "![", "<font", "<", "](http", "http://", "`", "&lt;"} {
			if strings.Contains(user, bad) {
				t.Errorf("%s: %q formed from the user's text:\n%s", name, bad, md)
			}
		}
		for _, line := range strings.Split(user, "\n")[1:] {
			if strings.HasPrefix(line, "#") || strings.HasPrefix(line, ">") {
				t.Errorf("%s: a line starts with markdown: %q", name, line)
			}
		}
		if !strings.Contains(md, "点此领取补贴") || !strings.Contains(md, "紧急") || !strings.Contains(md, "evil.example") {
			t.Errorf("%s: the text itself must still be readable:\n%s", name, md)
		}
		ownBold := map[string]int{"wecom": 2, "dingtalk": 0}[name] // WeCom's title is **bold**, DingTalk's a #### heading
		if strings.Count(user, "**") != ownBold || !strings.HasPrefix(md, map[string]string{"wecom": "**新求助：", "dingtalk": "#### 新求助："}[name]) {
			t.Errorf("%s: the title's own markup is lost or the user's kept:\n%s", name, md)
		}
	}
	js, err := JSONPayload(p)
	if err != nil {
		t.Fatal(err)
	}
	var back Payload
	if err := json.Unmarshal(js, &back); err != nil || back.Title != p.Title || back.Body != p.Body {
		t.Fatalf("the JSON format must carry the raw text: %s (%v)", js, err)
	}

	// A link our base URL makes cannot be broken out of either.
	p.Link = "https://tongxin.example.gov.cn/tickets/T-1) [x](http://evil.example"
	wecom, _ = WeComPayload(p)
	if strings.Contains(string(wecom), "T-1) [x](http") {
		t.Errorf("a link with a parenthesis: %s", wecom)
	}
}
