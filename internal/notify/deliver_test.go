package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/db/dbtest"
)

// Each format reaches a local receiver with its body shape and headers;
// signatures verify with the hook's secret.
func TestDeliveryFormats(t *testing.T) {
	clk := clock.NewManual(testBase)
	dbtest.Each(t, clk, func(t *testing.T, d *db.DB) {
		clk.Set(testBase)
		f := newFixture(t, d, clk)
		f.svc = NewService(d, Deps{Box: f.Box, Areas: f.Areas, AllowPrivate: true, BaseURL: "https://tongxin.example.cn/"})
		rc := newReceiver(t, nil)
		const secret = "json-secret"
		const dingSecret = "SECdingtalk-secret"
		jsonHook := f.hook("系统对接", rc.URL+"/json?token=abc", FormatJSON, secret, "430200", "ticket.created")
		plainHook := f.hook("无密钥", rc.URL+"/plain", FormatJSON, "", "430200", "ticket.created")
		wecomHook := f.hook("企业微信", rc.URL+"/wecom?key=k1", FormatWeCom, "", "430200", "ticket.created")
		dingHook := f.hook("钉钉", rc.URL+"/robot/send?access_token=t1", FormatDingTalk, dingSecret, "430200", "ticket.created")
		msg := Message{Event: "ticket.created", Title: "新工单：返岗车辆受阻", Body: "芦淞区建设街道\n联系电话 13907330009",
			Link: "/tickets/42", ObjectType: "ticket", ObjectID: "42", AreaPath: "/430200/430203/"}
		f.send(nil, msg)
		f.deliverDue(4)

		byPath := map[string]received{}
		for _, r := range rc.requests() {
			byPath[r.Path] = r
		}
		if len(byPath) != 4 {
			t.Fatalf("receiver got %d distinct requests: %v", len(byPath), rc.requests())
		}
		ts := strconv.FormatInt(testBase.Unix(), 10)

		// json: the payload, headers and a verifiable signature.
		r := byPath["/json"]
		if r.Query["token"][0] != "abc" {
			t.Errorf("query string lost: %v", r.Query)
		}
		body := r.JSON(t)
		want := map[string]any{"event": "ticket.created", "title": "新工单：返岗车辆受阻", "body": "芦淞区建设街道\n联系电话 139****0009",
			"link": "https://tongxin.example.cn/tickets/42", "object_type": "ticket", "object_id": "42", "sent_at": "2022-11-20T09:00:00Z"}
		if len(body) != len(want) {
			t.Errorf("json body has keys %v", body)
		}
		for k, v := range want {
			if body[k] != v {
				t.Errorf("json %s = %v, want %v", k, body[k], v)
			}
		}
		dl := f.deliveries(jsonHook.ID)
		h := r.Header
		if h.Get("Content-Type") != "application/json" || h.Get(HeaderEvent) != "ticket.created" ||
			h.Get(HeaderDelivery) != strconv.FormatInt(dl[0].ID, 10) || h.Get(HeaderAttempt) != "1" || h.Get(HeaderTimestamp) != ts {
			t.Errorf("json headers = %v", h)
		}
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write([]byte(h.Get(HeaderTimestamp) + "." + string(r.Body)))
		if got := h.Get(HeaderSignature); got != "sha256="+hex.EncodeToString(mac.Sum(nil)) {
			t.Errorf("signature %q does not verify", got)
		}
		if byPath["/plain"].Header.Get(HeaderSignature) != "" {
			t.Error("a hook without secret sent a signature")
		}

		// wecom: a markdown message.
		r = byPath["/wecom"]
		body = r.JSON(t)
		md, _ := body["markdown"].(map[string]any)
		if body["msgtype"] != "markdown" || len(body) != 2 || len(md) != 1 ||
			md["content"] != "**新工单：返岗车辆受阻**\n芦淞区建设街道\n联系电话 139＊＊＊＊0009\n[查看](https://tongxin.example.cn/tickets/42)" {
			t.Errorf("wecom body = %s", r.Body)
		}

		// dingtalk: a markdown message and DingTalk's own signature.
		r = byPath["/robot/send"]
		body = r.JSON(t)
		md, _ = body["markdown"].(map[string]any)
		if body["msgtype"] != "markdown" || md["title"] != "新工单：返岗车辆受阻" ||
			md["text"] != "#### 新工单：返岗车辆受阻\n\n芦淞区建设街道\n\n联系电话 139＊＊＊＊0009\n\n[查看](https://tongxin.example.cn/tickets/42)" {
			t.Errorf("dingtalk body = %s", r.Body)
		}
		q := r.Query
		if q.Get("access_token") != "t1" || q.Get("timestamp") != strconv.FormatInt(testBase.UnixMilli(), 10) {
			t.Errorf("dingtalk query = %v", q)
		}
		mac = hmac.New(sha256.New, []byte(dingSecret))
		mac.Write([]byte(q.Get("timestamp") + "\n" + dingSecret))
		if q.Get("sign") != base64.StdEncoding.EncodeToString(mac.Sum(nil)) {
			t.Errorf("dingtalk sign %q does not verify", q.Get("sign"))
		}
		if r.Header.Get(HeaderSignature) != "" {
			t.Error("dingtalk request carries X-Tongxin-Signature")
		}

		for _, id := range []int64{jsonHook.ID, plainHook.ID, wecomHook.ID, dingHook.ID} {
			dl := f.deliveries(id)
			if len(dl) != 1 || dl[0].Status != StatusDelivered || dl[0].Attempts != 1 || len(dl[0].Log) != 1 ||
				dl[0].Log[0].HTTPStatus != 200 || dl[0].Log[0].Error != "" || dl[0].NextAt != nil {
				t.Errorf("hook %d deliveries = %+v", id, dl)
			}
		}
		f.deliverDue(0)
	})
}

// A 500 is retried after the backoff and the delivery logs both attempts;
// a robot's errcode is a failure; after MaxAttempts a delivery fails.
func TestDeliveryRetries(t *testing.T) {
	clk := clock.NewManual(testBase)
	dbtest.Each(t, clk, func(t *testing.T, d *db.DB) {
		clk.Set(testBase)
		f := newFixture(t, d, clk)
		flaky := newReceiver(t, func(n int, _ received) (int, string) {
			if n == 1 {
				return http.StatusInternalServerError, `oops`
			}
			return http.StatusOK, `{}`
		})
		robot := newReceiver(t, func(n int, _ received) (int, string) {
			if n == 1 {
				return http.StatusOK, `{"errcode":93000,"errmsg":"invalid webhook url"}`
			}
			return http.StatusOK, `{"errcode":0,"errmsg":"ok"}`
		})
		down := newReceiver(t, func(int, received) (int, string) { return http.StatusBadGateway, "" })
		hFlaky := f.hook("偶发故障", flaky.URL, FormatJSON, "", "430200", "*")
		hRobot := f.hook("企业微信", robot.URL+"?key=k", FormatWeCom, "", "430200", "*")
		hDown := f.hook("一直失败", down.URL, FormatJSON, "", "430200", "*")
		f.send(nil, ticketMsg("ticket.overdue", "7", "/430200/430211/"))

		f.deliverDue(3)
		for _, id := range []int64{hFlaky.ID, hRobot.ID} {
			dl := f.deliveries(id)[0]
			if dl.Status != StatusPending || dl.Attempts != 1 || dl.NextAt == nil || !dl.NextAt.Equal(testBase.Add(30*time.Second)) {
				t.Fatalf("after a failure: %+v", dl)
			}
		}
		if dl := f.deliveries(hRobot.ID)[0]; dl.LastStatus != 200 || dl.LastError != ErrBadResponse || dl.LastErrorText != "对方应答表示失败" {
			t.Errorf("wecom errcode not a failure: %+v", dl)
		}
		if dl := f.deliveries(hFlaky.ID)[0]; dl.LastStatus != 500 || dl.LastError != ErrHTTP5xx || dl.Log[0].Error != ErrHTTP5xx {
			t.Errorf("500 logged as %+v", dl)
		}

		clk.Advance(29 * time.Second)
		f.deliverDue(0) // not yet due
		clk.Advance(time.Second)
		f.deliverDue(3)
		for _, id := range []int64{hFlaky.ID, hRobot.ID} {
			dl := f.deliveries(id)[0]
			if dl.Status != StatusDelivered || dl.Attempts != 2 || len(dl.Log) != 2 {
				t.Fatalf("hook %d after the retry: %+v", id, dl)
			}
			if l := dl.Log; l[0].Attempt != 1 || l[0].Error == "" || l[1].Attempt != 2 || l[1].Error != "" ||
				!l[1].At.Equal(testBase.Add(30*time.Second)) || l[1].HTTPStatus != 200 {
				t.Errorf("hook %d log = %+v", id, l)
			}
		}
		if n := len(flaky.requests()); n != 2 {
			t.Errorf("flaky receiver got %d requests", n)
		}

		// The hook that always fails: 30 s, 1, 2, 4, 8, 16, 32 min, then failed.
		for attempt := 3; attempt <= MaxAttempts; attempt++ {
			clk.Advance(RetryWait(attempt - 1))
			f.deliverDue(1)
		}
		dl := f.deliveries(hDown.ID)[0]
		if dl.Status != StatusFailed || dl.Attempts != MaxAttempts || len(dl.Log) != MaxAttempts || dl.NextAt != nil {
			t.Errorf("after %d attempts: %+v", MaxAttempts, dl)
		}
		clk.Advance(24 * time.Hour)
		f.deliverDue(0)
		if n := len(down.requests()); n != MaxAttempts {
			t.Errorf("failing receiver got %d requests, want %d", n, MaxAttempts)
		}
	})
}

// A receiver that does not answer in time, or cannot be reached, is a
// failed attempt whose error names no credential.
func TestDeliveryTransportErrors(t *testing.T) {
	clk := clock.NewManual(testBase)
	d := dbtest.Open(t, "sqlite", clk)
	f := newFixture(t, d, clk)
	release := make(chan struct{})
	slow := newReceiver(t, func(int, received) (int, string) { <-release; return 200, "" })
	defer close(release)
	f.svc = NewService(d, Deps{Box: f.Box, Areas: f.Areas, AllowPrivate: true, HTTPClient: &http.Client{Timeout: 50 * time.Millisecond}})
	hSlow := f.hook("慢", slow.URL+"?key=very-secret-key", FormatWeCom, "", "430200", "*")
	hDead := f.hook("不通", "http://127.0.0.1:1/hook?key=very-secret-key", FormatJSON, "", "430200", "*")
	f.send(nil, ticketMsg("ticket.created", "9", ""))
	f.deliverDue(2)
	for _, id := range []int64{hSlow.ID, hDead.ID} {
		dl := f.deliveries(id)[0]
		if dl.Status != StatusPending || dl.LastError == "" || dl.LastStatus != 0 || strings.Contains(dl.LastError, "very-secret-key") {
			t.Errorf("hook %d: %+v", id, dl)
		}
	}
	if e := f.deliveries(hSlow.ID)[0].LastError; e != ErrTimeout {
		t.Errorf("timeout logged as %q", e)
	}
	if e := f.deliveries(hDead.ID)[0].LastError; e != ErrRefused {
		t.Errorf("a refused connection logged as %q", e)
	}
}

// Two workers running DeliverDue at once, in one process and as two
// instances on one database, send every delivery exactly once.
func TestConcurrentDeliverDue(t *testing.T) {
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			clk := clock.NewManual(testBase)
			u := dbtest.URL(t, kind)
			open := func() *db.DB {
				d, err := db.Open(context.Background(), u, clk)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { d.Close() })
				d.AuditKey = dbtest.AuditKey(u)
				return d
			}
			d1, d2 := open(), open()
			if _, err := d1.Migrate(context.Background()); err != nil {
				t.Fatal(err)
			}
			f := newFixture(t, d1, clk)
			var mu sync.Mutex
			seen := map[string]int{}
			rc := newReceiver(t, func(_ int, r received) (int, string) {
				time.Sleep(2 * time.Millisecond) // let the workers overlap
				mu.Lock()
				seen[r.Header.Get(HeaderDelivery)+"/"+r.Header.Get(HeaderAttempt)]++
				mu.Unlock()
				return http.StatusOK, "{}"
			})
			f.hook("接收端", rc.URL, FormatJSON, "", "430200", "*")
			const messages = 3 * deliverBatch
			for i := range messages {
				f.send(nil, ticketMsg("ticket.created", strconv.Itoa(i), ""))
			}
			workers := []*Service{f.svc, f.service(d1), f.service(d2), f.service(d2)}
			var wg sync.WaitGroup
			counts := make([]int, len(workers))
			for i, s := range workers {
				wg.Go(func() {
					n, err := s.DeliverDue(context.Background())
					if err != nil {
						t.Errorf("worker %d: %v", i, err)
					}
					counts[i] = n
				})
			}
			wg.Wait()
			total := 0
			for _, n := range counts {
				total += n
			}
			if total != messages || len(seen) != messages {
				t.Errorf("attempts %v (total %d), distinct requests %d, want %d", counts, total, len(seen), messages)
			}
			for k, n := range seen {
				if n != 1 || !strings.HasSuffix(k, "/1") {
					t.Errorf("request %s sent %d times", k, n)
				}
			}
			if n := f.Count(`SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'delivered' AND attempts = 1`); n != messages {
				t.Errorf("%d deliveries delivered at the first attempt, want %d", n, messages)
			}
			if n := f.Count(`SELECT COUNT(*) FROM webhook_attempts`); n != messages {
				t.Errorf("%d attempts logged, want %d", n, messages)
			}
		})
	}
}

// A claim left by a worker that died expires, and the next attempt carries
// the next number.
func TestExpiredClaim(t *testing.T) {
	clk := clock.NewManual(testBase)
	d := dbtest.Open(t, "sqlite", clk)
	f := newFixture(t, d, clk)
	rc := newReceiver(t, nil)
	h := f.hook("接收端", rc.URL, FormatJSON, "", "430200", "*")
	f.send(nil, ticketMsg("ticket.created", "1", ""))
	var c []claimed
	if err := d.Write(f.Ctx, func(tx *db.Tx) (err error) { c, err = claimDue(f.Ctx, tx, 10); return err }); err != nil || len(c) != 1 {
		t.Fatalf("claim: %v %v", c, err)
	}
	f.deliverDue(0) // claimed by the "dead" worker
	clk.Advance(claimLease)
	f.deliverDue(1)
	dl := f.deliveries(h.ID)[0]
	if dl.Status != StatusDelivered || dl.Attempts != 2 || len(dl.Log) != 1 || dl.Log[0].Attempt != 2 {
		t.Errorf("after the claim expired: %+v", dl)
	}
	if got := rc.requests(); len(got) != 1 || got[0].Header.Get(HeaderAttempt) != "2" {
		t.Errorf("receiver got %d requests", len(got))
	}
}

// RunDeliveries delivers as soon as Send's transaction commits, without
// waiting for its interval, and stops with its context.
func TestRunDeliveriesWakes(t *testing.T) {
	d := dbtest.Open(t, "sqlite", clock.NewManual(testBase))
	f := newFixture(t, d, nil)
	got := make(chan string, 1)
	rc := newReceiver(t, func(_ int, r received) (int, string) { got <- r.Header.Get(HeaderEvent); return 200, "{}" })
	f.hook("接收端", rc.URL, FormatJSON, "", "430200", "ticket.*")
	alice := f.user("alice", auth.CommunityWorker, "430203001001")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.svc.RunDeliveries(ctx, time.Hour); close(done) }()
	f.send([]int64{alice.UserID}, ticketMsg("ticket.resolved", "3", "/430200/"))
	select {
	case e := <-got:
		if e != "ticket.resolved" {
			t.Errorf("event %q", e)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the worker was not woken")
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("RunDeliveries did not stop")
	}
}

func TestRetryWait(t *testing.T) {
	want := []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute,
		16 * time.Minute, 32 * time.Minute, time.Hour, time.Hour}
	for i, w := range want {
		if got := RetryWait(i + 1); got != w {
			t.Errorf("RetryWait(%d) = %v, want %v", i+1, got, w)
		}
	}
}

// The signing helpers match the documented recipes.
func TestSignatures(t *testing.T) {
	if got := Sign("k", "1668934800", []byte(`{}`)); got != "sha256="+hmacHex("k", "1668934800.{}") {
		t.Errorf("Sign = %s", got)
	}
	u, err := DingTalkSignURL("https://oapi.dingtalk.com/robot/send?access_token=abc", "SECx", time.UnixMilli(1668934800123))
	if err != nil {
		t.Fatal(err)
	}
	sign := url.QueryEscape(base64.StdEncoding.EncodeToString(hmacRaw("SECx", "1668934800123\nSECx")))
	if want := "https://oapi.dingtalk.com/robot/send?access_token=abc&sign=" + sign + "&timestamp=1668934800123"; u != want {
		t.Errorf("signed URL = %s\nwant          %s", u, want)
	}
}

func hmacRaw(key, msg string) []byte {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(msg))
	return m.Sum(nil)
}

func hmacHex(key, msg string) string { return hex.EncodeToString(hmacRaw(key, msg)) }
