package notify

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"tongxin/internal/audit"
	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/db/dbtest"
	"tongxin/internal/errs"
)

func ticketMsg(event, id, areaPath string) Message {
	return Message{Event: event, Title: "工单 " + id, Body: "企业反映员工返岗车辆受阻", Link: "/tickets/" + id,
		ObjectType: "ticket", ObjectID: id, AreaPath: areaPath}
}

// Each user sees only their own notifications; another user's ids answer
// not found; read flags, read-all, the unread filter and paging work.
func TestInbox(t *testing.T) {
	clk := clock.NewManual(testBase)
	dbtest.Each(t, clk, func(t *testing.T, d *db.DB) {
		clk.Set(testBase)
		f := newFixture(t, d, clk)
		alice := f.user("alice", auth.CommunityWorker, "430203001001")
		bob := f.user("bob", auth.CommunityWorker, "430203001002")
		for i := 1; i <= 5; i++ {
			clk.Advance(time.Minute)
			f.send([]int64{alice.UserID, 0, alice.UserID}, ticketMsg("ticket.assigned", "A"+string(rune('0'+i)), "/430200/430203/"))
		}
		f.send([]int64{bob.UserID}, ticketMsg("ticket.assigned", "B1", ""))

		list, err := f.svc.Inbox(f.Ctx, alice, InboxFilter{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 5 {
			t.Fatalf("alice has %d notifications, want 5 (duplicate and zero ids ignored)", len(list))
		}
		if list[0].ObjectID != "A5" || list[4].ObjectID != "A1" || !list[0].Unread() {
			t.Errorf("inbox order = %v … %v", list[0].ObjectID, list[4].ObjectID)
		}
		bobs, _ := f.svc.Inbox(f.Ctx, bob, InboxFilter{})
		if len(bobs) != 1 || bobs[0].ObjectID != "B1" {
			t.Fatalf("bob's inbox = %+v", bobs)
		}

		// Bob cannot read or mark Alice's notification.
		_, err = f.svc.MarkRead(f.Ctx, bob, list[0].ID)
		mustErr(t, err, errs.NotFound, "notification_not_found")
		n, err := f.svc.MarkRead(f.Ctx, alice, list[0].ID)
		if err != nil || n.ReadAt == nil || !n.ReadAt.Equal(clk.Now().Truncate(time.Millisecond)) {
			t.Fatalf("MarkRead = %+v, %v", n, err)
		}
		first := *n.ReadAt
		clk.Advance(time.Hour)
		if n, _ := f.svc.MarkRead(f.Ctx, alice, list[0].ID); !n.ReadAt.Equal(first) {
			t.Errorf("marking again moved read_at to %v", n.ReadAt)
		}
		if c, _ := f.svc.UnreadCount(f.Ctx, alice); c != 4 {
			t.Errorf("alice unread = %d, want 4", c)
		}
		if c, _ := f.svc.UnreadCount(f.Ctx, bob); c != 1 {
			t.Errorf("bob unread = %d, want 1", c)
		}
		unread, _ := f.svc.Inbox(f.Ctx, alice, InboxFilter{UnreadOnly: true})
		if len(unread) != 4 || slices.ContainsFunc(unread, func(n Notification) bool { return n.ID == list[0].ID }) {
			t.Errorf("unread filter = %d rows", len(unread))
		}
		page, _ := f.svc.Inbox(f.Ctx, alice, InboxFilter{Before: list[1].ID, Limit: 2})
		if len(page) != 2 || page[0].ID != list[2].ID || page[1].ID != list[3].ID {
			t.Errorf("page after %d = %+v", list[1].ID, page)
		}

		marked, err := f.svc.MarkAllRead(f.Ctx, alice)
		if err != nil || marked != 4 {
			t.Fatalf("MarkAllRead = %d, %v", marked, err)
		}
		if c, _ := f.svc.UnreadCount(f.Ctx, alice); c != 0 {
			t.Errorf("alice unread after read-all = %d", c)
		}
		if c, _ := f.svc.UnreadCount(f.Ctx, bob); c != 1 {
			t.Errorf("read-all touched bob: unread = %d", c)
		}

		// The system principal has no inbox; nobody is anonymous.
		if l, err := f.svc.Inbox(f.Ctx, f.Sys, InboxFilter{}); err != nil || len(l) != 0 {
			t.Errorf("system inbox = %v, %v", l, err)
		}
		_, err = f.svc.Inbox(f.Ctx, nil, InboxFilter{})
		mustErr(t, err, errs.Unauthorized, "unauthenticated")
	})
}

// Send queues one delivery per active hook subscribed to the event whose
// area covers the message; nothing is queued or stored if the caller's
// transaction rolls back.
func TestSendFanOut(t *testing.T) {
	clk := clock.NewManual(testBase)
	dbtest.Each(t, clk, func(t *testing.T, d *db.DB) {
		clk.Set(testBase)
		f := newFixture(t, d, clk)
		u := "http://127.0.0.1:1/hook"
		city := f.hook("全市", u, FormatJSON, "", "430200", "ticket.created")
		cityAll := f.hook("全市全部", u, FormatJSON, "", "430200", "*")
		lusong := f.hook("芦淞", u, FormatWeCom, "", "430203", "ticket.created", "ticket.escalated")
		lusongWild := f.hook("芦淞工单", u, FormatJSON, "", "430203", "ticket.*")
		street := f.hook("建设街道", u, FormatDingTalk, "", "430203001", "ticket.escalated")
		shifeng := f.hook("石峰", u, FormatJSON, "", "430204", "ticket.created")
		off := f.hook("停用", u, FormatJSON, "", "430200", "*")
		if _, err := f.svc.UpdateWebhook(f.Ctx, f.Sys, off.ID, WebhookInput{Active: ptr(false)}); err != nil {
			t.Fatal(err)
		}
		gone := f.hook("已删", u, FormatJSON, "", "430200", "*")
		if err := f.svc.DeleteWebhook(f.Ctx, f.Sys, gone.ID); err != nil {
			t.Fatal(err)
		}

		woken := func() bool {
			select {
			case <-f.svc.wake:
				return true
			default:
				return false
			}
		}
		woken()
		f.send(nil, ticketMsg("ticket.created", "1", "/430200/430203/430203001/"))
		if !woken() {
			t.Error("Send did not wake the worker after commit")
		}
		f.send(nil, ticketMsg("ticket.escalated", "2", "/430200/430203/430203002/"))
		f.send(nil, ticketMsg("ticket.created", "3", ""))
		f.send(nil, ticketMsg("ticket.comment", "4", "/430200/430204/"))

		want := map[int64][]string{
			city.ID:       {"1", "3"},
			cityAll.ID:    {"1", "2", "3", "4"},
			lusong.ID:     {"1", "2"},
			lusongWild.ID: {"1", "2"},
			street.ID:     nil, // 2 is in another street
			shifeng.ID:    nil,
			off.ID:        nil,
			gone.ID:       nil,
		}
		for id, objs := range want {
			var got []string
			for _, dl := range f.deliveriesOf(id) {
				got = append(got, dl.ObjectID)
			}
			slices.Sort(got)
			if !slices.Equal(got, objs) {
				t.Errorf("hook %d got %v, want %v", id, got, objs)
			}
		}

		// A rolled-back transaction leaves nothing and wakes nobody.
		woken()
		before := f.Count(`SELECT COUNT(*) FROM webhook_deliveries`)
		boom := errors.New("boom")
		alice := f.user("alice", auth.CommunityWorker, "430203001001")
		err := d.Write(f.Ctx, func(tx *db.Tx) error {
			if err := f.svc.Send(f.Ctx, tx, []int64{alice.UserID}, ticketMsg("ticket.created", "5", "")); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if n := f.Count(`SELECT COUNT(*) FROM webhook_deliveries`); n != before {
			t.Errorf("rolled-back Send left %d deliveries", n-before)
		}
		if n := f.Count(`SELECT COUNT(*) FROM notifications`); n != 0 {
			t.Errorf("rolled-back Send left %d notifications", n)
		}
		if woken() {
			t.Error("rolled-back Send woke the worker")
		}

		// A message without event or title is the sender's bug.
		err = d.Write(f.Ctx, func(tx *db.Tx) error { return f.svc.Send(f.Ctx, tx, nil, Message{Event: "Bad Event", Title: "x"}) })
		mustErr(t, err, errs.Invalid, "notify_bad_message")
		err = d.Write(f.Ctx, func(tx *db.Tx) error { return f.svc.Send(f.Ctx, tx, nil, Message{Event: "ticket.created"}) })
		mustErr(t, err, errs.Invalid, "notify_bad_message")
	})
}

// deliveriesOf lists a hook's deliveries, deleted hooks included.
func (f *fixture) deliveriesOf(hookID int64) []Delivery {
	f.T.Helper()
	var out []Delivery
	err := f.DB.Read(f.Ctx, func(tx *db.Tx) (err error) {
		out, err = listDeliveries(f.Ctx, tx, hookID, 0, 100)
		return err
	})
	if err != nil {
		f.T.Fatal(err)
	}
	return out
}

// Webhooks are managed within the caller's areas, validated, audited
// without secrets, and never answer their secret or URL credentials.
func TestWebhookManagement(t *testing.T) {
	clk := clock.NewManual(testBase)
	dbtest.Each(t, clk, func(t *testing.T, d *db.DB) {
		clk.Set(testBase)
		f := newFixture(t, d, clk)
		hq := f.officer(auth.HQStaff, "430200")
		lusong := f.officer(auth.HQStaff, "430203")
		officer := f.officer(auth.DistrictOfficer, "430203")
		const robot = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
		in := WebhookInput{Name: ptr("芦淞区工单群"), URL: ptr(robot), Format: ptr("wecom"), Secret: ptr("s3cret-value"),
			Events: &[]string{"ticket.escalated", "ticket.created", "ticket.created"}, AreaCode: ptr("430203")}

		_, err := f.svc.CreateWebhook(f.Ctx, officer, in)
		mustErr(t, err, errs.Forbidden, "forbidden")
		_, err = f.svc.CreateWebhook(f.Ctx, f.officer(auth.HQStaff, "430204"), in)
		e := mustErr(t, err, errs.Invalid, "webhook_invalid")
		if len(e.Fields) != 1 || e.Fields[0].Field != "area_code" {
			t.Errorf("out-of-scope area: fields %+v", e.Fields)
		}

		h, err := f.svc.CreateWebhook(f.Ctx, lusong, in)
		if err != nil {
			t.Fatal(err)
		}
		if h.URL != "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=***" || !h.HasSecret || !h.Active ||
			!slices.Equal(h.Events, []string{"ticket.created", "ticket.escalated"}) || h.Format != FormatWeCom {
			t.Errorf("created = %+v", h)
		}
		var stored []byte
		if err := d.ReadPool().QueryRowContext(f.Ctx, `SELECT url_enc FROM webhooks WHERE id = $1`, h.ID).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(stored), "693a91f6") {
			t.Error("URL stored in clear")
		}
		if plain, err := f.Box.Open(stored); err != nil || plain != robot {
			t.Errorf("sealed URL opens to %q, %v", plain, err)
		}

		// Reach: HQ over the city sees it, another district does not.
		if l, _ := f.svc.ListWebhooks(f.Ctx, hq); len(l) != 1 {
			t.Errorf("city HQ sees %d hooks", len(l))
		}
		if l, _ := f.svc.ListWebhooks(f.Ctx, f.officer(auth.HQStaff, "430204")); len(l) != 0 {
			t.Errorf("石峰 HQ sees %d hooks", len(l))
		}
		_, err = f.svc.GetWebhook(f.Ctx, f.officer(auth.HQStaff, "430204"), h.ID)
		mustErr(t, err, errs.NotFound, "webhook_not_found")
		_, err = f.svc.ListWebhooks(f.Ctx, officer)
		mustErr(t, err, errs.Forbidden, "forbidden")

		// Sending the shown URL back keeps the stored one; changes are audited.
		clk.Advance(time.Minute)
		h2, err := f.svc.UpdateWebhook(f.Ctx, hq, h.ID, WebhookInput{URL: ptr(h.URL), Name: ptr("芦淞区工单群（新）"), Secret: ptr("")})
		if err != nil {
			t.Fatal(err)
		}
		if h2.HasSecret || h2.Name != "芦淞区工单群（新）" || h2.URL != h.URL || h2.UpdatedBy != hq.Username {
			t.Errorf("updated = %+v", h2)
		}
		if err := d.ReadPool().QueryRowContext(f.Ctx, `SELECT url_enc FROM webhooks WHERE id = $1`, h.ID).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if plain, _ := f.Box.Open(stored); plain != robot {
			t.Errorf("URL became %q", plain)
		}
		// An update that changes nothing writes nothing.
		if _, err := f.svc.UpdateWebhook(f.Ctx, hq, h.ID, WebhookInput{Format: ptr("wecom")}); err != nil {
			t.Fatal(err)
		}

		bad := []struct {
			name  string
			in    WebhookInput
			field string
		}{
			{"ftp url", WebhookInput{URL: ptr("ftp://example.com/x")}, "url"},
			{"relative url", WebhookInput{URL: ptr("/hooks/1")}, "url"},
			{"url with password", WebhookInput{URL: ptr("https://u:p@example.com/")}, "url"},
			{"unknown format", WebhookInput{Format: ptr("slack")}, "format"},
			{"unknown event", WebhookInput{Events: &[]string{"ticket.created", "ticket.exploded"}}, "events"},
			{"unknown module wildcard", WebhookInput{Events: &[]string{"rocket.*"}}, "events"},
			{"no events", WebhookInput{Events: &[]string{}}, "events"},
			{"empty name", WebhookInput{Name: ptr("  ")}, "name"},
			{"unknown area", WebhookInput{AreaCode: ptr("999999")}, "area_code"},
			{"secret with spaces", WebhookInput{Secret: ptr("a b")}, "secret"},
		}
		for _, c := range bad {
			_, err := f.svc.UpdateWebhook(f.Ctx, hq, h.ID, c.in)
			e := mustErr(t, err, errs.Invalid, "webhook_invalid")
			if len(e.Fields) == 0 || e.Fields[0].Field != c.field {
				t.Errorf("%s: fields %+v, want %s", c.name, e.Fields, c.field)
			}
		}
		_, err = f.svc.CreateWebhook(f.Ctx, hq, WebhookInput{})
		e = mustErr(t, err, errs.Invalid, "webhook_invalid")
		var fields []string
		for _, fe := range e.Fields {
			fields = append(fields, fe.Field)
		}
		if !slices.Equal(fields, []string{"name", "url", "events", "area_code"}) {
			t.Errorf("empty create: fields %v", fields)
		}

		// Deactivating cancels pending deliveries; deleting hides the hook.
		if _, err := f.svc.TestWebhook(f.Ctx, hq, h.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.UpdateWebhook(f.Ctx, hq, h.ID, WebhookInput{Active: ptr(false)}); err != nil {
			t.Fatal(err)
		}
		if dl := f.deliveries(h.ID); len(dl) != 1 || dl[0].Status != StatusCancelled {
			t.Errorf("after deactivation: %+v", dl)
		}
		if err := f.svc.DeleteWebhook(f.Ctx, lusong, h.ID); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.GetWebhook(f.Ctx, hq, h.ID)
		mustErr(t, err, errs.NotFound, "webhook_not_found")
		if err := f.svc.DeleteWebhook(f.Ctx, hq, h.ID); !errs.Is(err, errs.NotFound) {
			t.Errorf("second delete: %v", err)
		}

		rows, err := audit.List(f.Ctx, d, audit.Filter{AllAreas: true, ObjectType: "webhook"})
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, r := range rows {
			actions = append(actions, r.Action)
			if strings.Contains(r.Summary, "693a91f6") || strings.Contains(r.Summary, "s3cret") || strings.Contains(r.Summary, "key=") {
				t.Errorf("audit summary leaks a credential: %s", r.Summary)
			}
			if r.AreaCode != "430203" {
				t.Errorf("audit area = %q", r.AreaCode)
			}
		}
		if want := []string{"webhook.delete", "webhook.update", "webhook.test", "webhook.update", "webhook.create"}; !slices.Equal(actions, want) {
			t.Errorf("audit actions = %v, want %v", actions, want)
		}
		if _, err := audit.Verify(f.Ctx, d); err != nil {
			t.Fatal(err)
		}
	})
}
