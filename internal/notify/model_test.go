package notify

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"tongxin/internal/errs"
)

func TestValidateURL(t *testing.T) {
	for _, c := range []struct {
		raw, display string // display "" means refused
	}{
		{"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=***"},
		{"https://oapi.dingtalk.com/robot/send?access_token=t&x=1", "https://oapi.dingtalk.com/robot/send?access_token=***&x=***"},
		{" http://10.0.0.5:8080/hooks/tongxin ", "http://10.0.0.5:8080/hooks/tongxin"},
		{"http://[::1]:9000/h", "http://[::1]:9000/h"},
		{"", ""},
		{"ftp://example.com/", ""},
		{"javascript:alert(1)", ""},
		{"mailto:a@example.com", ""},
		{"/relative/path", ""},
		{"https://", ""},
		{"https://user:pw@example.com/", ""},
		{"https://example.com/#frag", ""},
		{"https://example.com/a b", ""},
		{"https://example.com:99999/", ""},
		{"https://example.com/\x00", ""},
		{"https://example.com/" + strings.Repeat("a", 2000), ""},
	} {
		u, err := ValidateURL(c.raw)
		if c.display == "" {
			if e := errs.As(err); e == nil || e.Kind != errs.Invalid || len(e.Fields) != 1 || e.Fields[0].Field != "url" {
				t.Errorf("ValidateURL(%q) = %v, %v; want an invalid url field", c.raw, u, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ValidateURL(%q): %v", c.raw, err)
			continue
		}
		if got := DisplayURL(u); got != c.display {
			t.Errorf("DisplayURL(%q) = %q, want %q", c.raw, got, c.display)
		}
		if strings.Contains(baseURL(u), "?") {
			t.Errorf("baseURL(%q) = %q keeps the query", c.raw, baseURL(u))
		}
	}
}

func TestValidateEvents(t *testing.T) {
	got, fe := validateEvents([]string{" ticket.overdue", "ticket.created", "ticket.created", "*", "ticket.*"})
	if len(fe) != 0 || !slices.Equal(got, []string{"*", "ticket.*", "ticket.created", "ticket.overdue"}) {
		t.Errorf("validateEvents = %v, %v", got, fe)
	}
	for _, bad := range [][]string{nil, {}, {""}, {"ticket.unknown"}, {"Ticket.Created"}, {"plane.*"}, {"**"}, {"ticket.created", "x"}} {
		if _, fe := validateEvents(bad); len(fe) == 0 || fe[0].Field != "events" {
			t.Errorf("validateEvents(%q) accepted", bad)
		}
	}
	many := make([]string, 0, len(Events))
	for _, e := range Events {
		many = append(many, e.Name)
	}
	if _, fe := validateEvents(many); len(fe) != 0 {
		t.Errorf("every known event: %v", fe)
	}
}

func TestCoversAndSubscriptions(t *testing.T) {
	for _, c := range []struct {
		hook, msg string
		want      bool
	}{
		{"/430200/", "/430200/430203/430203001/", true},
		{"/430200/430203/", "/430200/430203/430203001/", true},
		{"/430200/430203/", "/430200/430203/", true},
		{"/430200/430203/", "/430200/430204/", false},
		{"/430200/430203/430203001/", "/430200/430203/", false},
		{"/430200/", "", true},
		{"/430200/430203/", "", false},
	} {
		if got := covers(c.hook, c.msg); got != c.want {
			t.Errorf("covers(%q, %q) = %v", c.hook, c.msg, got)
		}
	}
	if got := subscriptionsOf("ticket.created"); !slices.Equal(got, []string{"ticket.created", "*", "ticket.*"}) {
		t.Errorf("subscriptionsOf = %v", got)
	}
}

// A phone number or ID number that slipped into a message is masked;
// ticket numbers, dates and credit codes are not.
func TestMaskPII(t *testing.T) {
	for in, want := range map[string]string{
		"联系电话13907330009，请回电":        "联系电话139****0009，请回电",
		"身份证 430203199001011234 已核验": "身份证 430203199001011234 已核验", // bad check digit: left alone
		"身份证 11010519491231002X":     "身份证 110105********002X",
		"工单 20221120000123 已受理":      "工单 20221120000123 已受理",
		"2022-11-20 17:00 共 12000 人": "2022-11-20 17:00 共 12000 人",
		"电话 12345678901":             "电话 12345678901",
		"信用代码 914302001838260003":    "信用代码 914302001838260003",
	} {
		if got := maskPII(in); got != want {
			t.Errorf("maskPII(%q) = %q, want %q", in, got, want)
		}
	}
	m, err := Message{Event: "ticket.created", Title: "来电 13907330009", Body: strings.Repeat("长", maxBody+10)}.normalize()
	if err != nil || m.Title != "来电 139****0009" || len([]rune(m.Body)) != maxBody {
		t.Errorf("normalize = %+v, %v", m, err)
	}
	if _, err := (Message{Event: "ticket.created", Title: "x", Link: "https://evil.example/"}).normalize(); err == nil {
		t.Error("an absolute link was accepted")
	}
}

func TestPayloads(t *testing.T) {
	p := Payload{Event: "ticket.created", Title: "标题 <b>&", Body: strings.Repeat("很长的正文", 2000), Link: "/tickets/1",
		ObjectType: "ticket", ObjectID: "1", SentAt: time.Date(2022, 11, 20, 9, 0, 0, 0, time.UTC)}
	b, err := WeComPayload(p)
	if err != nil {
		t.Fatal(err)
	}
	var w struct {
		Msgtype  string
		Markdown struct{ Content string }
	}
	if err := json.Unmarshal(b, &w); err != nil {
		t.Fatal(err)
	}
	if len(w.Markdown.Content) > maxWeComContent || !strings.HasPrefix(w.Markdown.Content, "**标题 ＜b＞＆**\n很长") ||
		!strings.HasSuffix(w.Markdown.Content, "\n[查看](/tickets/1)") {
		t.Errorf("wecom content (%d bytes) = %.80q…", len(w.Markdown.Content), w.Markdown.Content)
	}
	b, _ = JSONPayload(Payload{Event: "test", Title: "t", SentAt: p.SentAt})
	if string(b) != `{"event":"test","title":"t","body":"","link":"","object_type":"","object_id":"","sent_at":"2022-11-20T09:00:00Z"}` {
		t.Errorf("json payload = %s", b)
	}
	b, _ = DingTalkPayload(Payload{Title: "t"})
	if string(b) != `{"markdown":{"text":"#### t","title":"t"},"msgtype":"markdown"}` {
		t.Errorf("dingtalk payload = %s", b)
	}
	if got := absLink("https://a.example/", "/x"); got != "https://a.example/x" {
		t.Errorf("absLink = %s", got)
	}
	if got := absLink("", "/x"); got != "/x" {
		t.Errorf("absLink without base = %s", got)
	}
}
