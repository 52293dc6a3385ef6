// Package notify is the notification kernel: an in-app inbox per user and
// outgoing webhooks. A module sends a Message inside its own write
// transaction (Service.Send); the inbox rows and the pending webhook
// deliveries commit or roll back with the change they announce, and a
// delivery worker (Service.RunDeliveries) posts them afterwards, outside any
// transaction, with retries and a log of every attempt.
//
// Webhook payloads come in three formats: Tongxin's own JSON (signed with
// HMAC-SHA256 when the hook has a secret), and the markdown messages that
// WeCom (企业微信) and DingTalk (钉钉) group robots accept. docs/notify.md
// describes them for receivers.
package notify

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"tongxin/internal/errs"
	"tongxin/internal/pii"
)

// Message is one notification.
type Message struct {
	Event      string // "ticket.created", "ticket.assigned", … (see Events)
	Title      string // short, Chinese
	Body       string // one or a few lines, Chinese; never full phone or ID numbers
	Link       string // path in the web UI, e.g. "/tickets/42"
	ObjectType string // "ticket"
	ObjectID   string
	// AreaPath is the area path of the object ("/430200/430203/"). It
	// selects the webhooks whose area covers it; "" reaches only city-wide
	// hooks (those whose area is a root of the tree).
	AreaPath string
}

// Events are the event names a webhook may subscribe to, with their Chinese
// names. A module that sends a new event adds it here. Besides these a hook
// may subscribe to "*" (everything) or "ticket.*" (every event of a module).
var Events = []EventName{
	{"ticket.created", "新工单"},
	{"ticket.assigned", "工单已分派"},
	{"ticket.accepted", "工单已受理"},
	{"ticket.escalated", "工单已升级"},
	{"ticket.overdue", "工单已超时"},
	{"ticket.resolved", "工单已办结"},
	{"ticket.confirmed", "工单已确认"},
	{"ticket.rejected", "工单被退回"},
	{"ticket.reopened", "工单已重开"},
	{"ticket.closed", "工单已关闭"},
	{"ticket.merged", "工单已合并"},
	{"ticket.comment", "工单新留言"},
	{"pass.batch_submitted", "通行证申请待审核"},
	{"pass.batch_approved", "通行证申请已批准"},
	{"pass.batch_rejected", "通行证申请被驳回"},
	{"pass.revoked", "通行证已吊销"},
	{"testing.pool_positive", "混管阳性待复核"},
	{"testing.positive", "单管阳性"},
	{"testing.resample", "样本无效需重采"},
	{"zone.proposal", "封控提议待确认"},
	{EventTest, "测试消息"},
}

// EventName is an event and its Chinese name.
type EventName struct {
	Name  string `json:"name"`
	Title string `json:"title"`
}

// EventTest is the event of the message POST /api/v1/webhooks/{id}/test
// queues.
const EventTest = "test"

// AllEvents subscribes a webhook to every event.
const AllEvents = "*"

// Webhook payload formats.
const (
	FormatJSON     = "json"     // Tongxin's JSON, optionally signed
	FormatWeCom    = "wecom"    // 企业微信群机器人 markdown message
	FormatDingTalk = "dingtalk" // 钉钉群机器人 markdown message, optionally signed DingTalk's way
)

// Formats lists the payload formats.
var Formats = []string{FormatJSON, FormatWeCom, FormatDingTalk}

// Delivery statuses.
const (
	StatusPending   = "pending"
	StatusDelivered = "delivered"
	StatusFailed    = "failed"
	StatusCancelled = "cancelled" // the hook was deactivated or deleted first
)

// Delivery timing.
const (
	// MaxAttempts is how many times a delivery is tried before it fails.
	MaxAttempts = 8
	// FirstRetry is the wait after the first failed attempt; each further
	// failure doubles it, up to MaxRetryWait.
	FirstRetry   = 30 * time.Second
	MaxRetryWait = time.Hour
	// RequestTimeout bounds one POST.
	RequestTimeout = 10 * time.Second
	// claimLease is how long a claimed delivery stays invisible to other
	// workers; longer than RequestTimeout plus recording the result, so
	// that only a crashed worker's claims expire.
	claimLease = time.Minute
)

// RetryWait is the wait after failed attempt n (1-based): 30 s, 1 min,
// 2 min, 4 min, … capped at MaxRetryWait.
func RetryWait(n int) time.Duration {
	d := FirstRetry
	for i := 1; i < n && d < MaxRetryWait; i++ {
		d *= 2
	}
	return min(d, MaxRetryWait)
}

// Limits of texts, in characters.
const (
	maxTitle      = 200
	maxBody       = 2000
	maxLink       = 500
	maxHookName   = 100
	maxURL        = 2000
	maxSecret     = 200
	maxEvents     = 50
	maxErrorText  = 200
	maxObjectText = 100
)

// Notification is one row of a user's inbox.
type Notification struct {
	ID         int64      `json:"id"`
	Event      string     `json:"event"`
	Title      string     `json:"title"`
	Body       string     `json:"body"`
	Link       string     `json:"link"`
	ObjectType string     `json:"object_type"`
	ObjectID   string     `json:"object_id"`
	CreatedAt  time.Time  `json:"created_at"`
	ReadAt     *time.Time `json:"read_at"`
}

// Unread reports whether the notification has not been read.
func (n Notification) Unread() bool { return n.ReadAt == nil }

// Webhook is an outgoing webhook as answered: neither its secret nor the
// values of its URL's query string (which often hold a robot's key) are
// ever shown.
type Webhook struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	URL       string    `json:"url"` // query values replaced by "***"
	Format    string    `json:"format"`
	HasSecret bool      `json:"has_secret"`
	Events    []string  `json:"events"`
	AreaCode  string    `json:"area_code"`
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by"`
	UpdatedAt time.Time `json:"updated_at"`
	UpdatedBy string    `json:"updated_by"`

	areaPath string
}

// WebhookInput is a webhook as created (POST) or changed (PUT). On a
// change every field is optional: an absent field keeps its value, and
// "secret": "" removes the secret.
type WebhookInput struct {
	Name     *string   `json:"name"`
	URL      *string   `json:"url"`
	Format   *string   `json:"format"`
	Secret   *string   `json:"secret"`
	Events   *[]string `json:"events"`
	AreaCode *string   `json:"area_code"`
	Active   *bool     `json:"active"`
}

// Delivery is one message to one webhook, with its attempts.
type Delivery struct {
	ID            int64      `json:"id"`
	WebhookID     int64      `json:"webhook_id"`
	Event         string     `json:"event"`
	Title         string     `json:"title"`
	ObjectType    string     `json:"object_type"`
	ObjectID      string     `json:"object_id"`
	Status        string     `json:"status"`
	Attempts      int        `json:"attempts"`
	NextAt        *time.Time `json:"next_at"` // the next attempt, while pending
	LastStatus    int        `json:"last_status"`
	LastError     string     `json:"last_error"`      // an error class ("timeout", "http_5xx", …), "" after success
	LastErrorText string     `json:"last_error_text"` // the class in Chinese
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
	Log           []Attempt  `json:"log"`
}

// Attempt is one POST of a delivery.
type Attempt struct {
	Attempt    int       `json:"attempt"`
	At         time.Time `json:"at"`
	HTTPStatus int       `json:"http_status"` // 0 when no answer came
	Error      string    `json:"error"`       // an error class, "" when it succeeded
	ErrorText  string    `json:"error_text"`  // the class in Chinese
	DurationMS int64     `json:"duration_ms"`
}

// ---------------------------------------------------------------------
// Rules

// eventRE is the shape of an event name: "module.verb" in lower case.
var eventRE = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$`)

// knownEvent reports whether name is in Events.
func knownEvent(name string) bool {
	return slices.ContainsFunc(Events, func(e EventName) bool { return e.Name == name })
}

// knownModule reports whether some event of Events starts with "module.".
func knownModule(module string) bool {
	return slices.ContainsFunc(Events, func(e EventName) bool { return strings.HasPrefix(e.Name, module+".") })
}

// subscriptionsOf lists the subscriptions that receive event: the event
// itself, its module's wildcard and "*".
func subscriptionsOf(event string) []string {
	out := []string{event, AllEvents}
	if module, _, ok := strings.Cut(event, "."); ok {
		out = append(out, module+".*")
	}
	return out
}

// covers reports whether a hook whose area has path hookPath receives a
// message about an object at msgPath: the object lies in the hook's
// subtree, or the message has no area and the hook is city-wide.
func covers(hookPath, msgPath string) bool {
	if msgPath == "" {
		return strings.Count(hookPath, "/") == 2 // "/430200/": a root of the tree
	}
	return strings.HasPrefix(msgPath, hookPath)
}

func fieldErr(field, msg string) errs.FieldError { return errs.FieldError{Field: field, Message: msg} }

// invalidHook is the error of a webhook input with bad fields.
func invalidHook(fe []errs.FieldError) error {
	return &errs.Error{Kind: errs.Invalid, Code: "webhook_invalid", Message: "Webhook 设置有误，请检查标出的字段", Fields: fe}
}

// hookValues is a validated webhook input.
type hookValues struct {
	name, rawURL, format, areaCode string
	secret                         *string // nil: unchanged
	events                         []string
	active                         bool
}

// cleanText trims s and reports whether it is free of control characters
// and within max characters.
func cleanText(s string, max int) (string, bool) {
	s = strings.TrimSpace(s)
	return s, utf8.RuneCountInString(s) <= max && !strings.ContainsFunc(s, unicode.IsControl)
}

// validateName checks a webhook's name.
func validateName(s string) (string, *errs.FieldError) {
	s, ok := cleanText(s, maxHookName)
	switch {
	case s == "":
		fe := fieldErr("name", "请填写名称")
		return s, &fe
	case !ok:
		fe := fieldErr("name", fmt.Sprintf("名称不能超过 %d 个字，且不能含控制字符", maxHookName))
		return s, &fe
	}
	return s, nil
}

// ValidateURL checks a webhook address: an absolute http or https URL with a
// host, without user name or password (put credentials in the query string
// or the secret), without a fragment, at most 2000 bytes.
func ValidateURL(raw string) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	bad := func(msg string) error {
		return invalidHook([]errs.FieldError{fieldErr("url", msg)})
	}
	if raw == "" {
		return nil, bad("请填写地址")
	}
	if len(raw) > maxURL || strings.ContainsFunc(raw, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) }) {
		return nil, bad(fmt.Sprintf("地址不能超过 %d 个字符，且不能含空白或控制字符", maxURL))
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return nil, bad("地址格式不正确")
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, bad("地址须以 http:// 或 https:// 开头")
	case u.Host == "" || u.Hostname() == "" || u.Opaque != "":
		return nil, bad("地址缺少主机名")
	case u.User != nil:
		return nil, bad("地址不能包含用户名或密码")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return nil, bad("地址不能包含 # 片段")
	}
	if p := u.Port(); p != "" {
		if n := atoiPort(p); n < 1 || n > 65535 {
			return nil, bad("地址的端口不正确")
		}
	}
	return u, nil
}

func atoiPort(s string) int {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' || n > 65535 {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// DisplayURL is u as shown and audited: the values of its query string
// are replaced by "***", since robots carry their key there.
func DisplayURL(u *url.URL) string {
	c := *u
	c.User, c.Fragment, c.RawFragment = nil, "", ""
	if c.RawQuery != "" {
		q := c.Query()
		keys := make([]string, 0, len(q))
		for k := range q {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = url.QueryEscape(k) + "=***"
		}
		c.RawQuery = strings.Join(parts, "&")
	}
	return c.String()
}

// baseURL is u without its query string, for audit summaries.
func baseURL(u *url.URL) string {
	c := *u
	c.User, c.RawQuery, c.ForceQuery, c.Fragment, c.RawFragment = nil, "", false, "", ""
	return c.String()
}

// validateFormat checks a payload format ("" is json).
func validateFormat(s string) (string, *errs.FieldError) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return FormatJSON, nil
	}
	if !slices.Contains(Formats, s) {
		fe := fieldErr("format", "格式须为 json、wecom（企业微信群机器人）或 dingtalk（钉钉群机器人）")
		return s, &fe
	}
	return s, nil
}

// validateEvents checks a subscription list: known events, "module.*" of a
// known module, or "*". It is returned sorted without duplicates.
func validateEvents(list []string) ([]string, []errs.FieldError) {
	var out []string
	var fe []errs.FieldError
	for _, e := range list {
		e = strings.TrimSpace(e)
		switch {
		case e == AllEvents, knownEvent(e):
		case strings.HasSuffix(e, ".*") && knownModule(strings.TrimSuffix(e, ".*")):
		default:
			fe = append(fe, fieldErr("events", fmt.Sprintf("未知事件 %q", short(e, 60))))
			continue
		}
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	switch {
	case len(fe) > 0:
		return nil, fe
	case len(out) == 0:
		return nil, []errs.FieldError{fieldErr("events", "请至少选择一个事件（* 表示全部）")}
	case len(out) > maxEvents:
		return nil, []errs.FieldError{fieldErr("events", fmt.Sprintf("事件不能超过 %d 个", maxEvents))}
	}
	slices.Sort(out)
	return out, nil
}

// validateSecret checks a signing secret.
func validateSecret(s string) (string, *errs.FieldError) {
	s = strings.TrimSpace(s)
	if len(s) > maxSecret || strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) }) {
		fe := fieldErr("secret", fmt.Sprintf("密钥不能超过 %d 个字符，且不能含空白或控制字符", maxSecret))
		return s, &fe
	}
	return s, nil
}

// ---------------------------------------------------------------------
// Messages

// normalize trims a message and bounds its texts; it refuses a message
// without an event or a title, which is a bug of the sending module.
func (m Message) normalize() (Message, error) {
	m.Event = strings.TrimSpace(m.Event)
	m.Title = maskPII(short(strings.TrimSpace(m.Title), maxTitle))
	m.Body = maskPII(short(strings.TrimSpace(m.Body), maxBody))
	m.Link = short(strings.TrimSpace(m.Link), maxLink)
	m.ObjectType = short(strings.TrimSpace(m.ObjectType), maxObjectText)
	m.ObjectID = short(strings.TrimSpace(m.ObjectID), maxObjectText)
	if m.AreaPath = strings.TrimSpace(m.AreaPath); m.AreaPath != "" && !strings.HasSuffix(m.AreaPath, "/") {
		m.AreaPath += "/"
	}
	switch {
	case !eventRE.MatchString(m.Event) || len(m.Event) > maxObjectText:
		return m, errs.Newf(errs.Invalid, "notify_bad_message", "通知的事件名 %q 无效", short(m.Event, 60))
	case m.Title == "":
		return m, errs.E(errs.Invalid, "notify_bad_message", "通知缺少标题")
	case m.Link != "" && !strings.HasPrefix(m.Link, "/"):
		return m, errs.E(errs.Invalid, "notify_bad_message", "通知的链接须为站内路径（以 / 开头）")
	}
	return m, nil
}

// short cuts s to n characters.
func short(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// digitRuns finds runs of ASCII digits, possibly ending in X (ID numbers).
var digitRuns = regexp.MustCompile(`[0-9]+[Xx]?`)

// maskPII masks what looks like a full mobile number or resident ID number
// in a notification's text: a safety net behind the rule that modules never
// put them there. Only runs that validate (number range, birth date and
// check character) are masked, so that ticket numbers and dates survive.
func maskPII(s string) string {
	return digitRuns.ReplaceAllStringFunc(s, func(run string) string {
		switch len(run) {
		case 11:
			if p, err := pii.NormalizePhone(run); err == nil {
				return pii.MaskPhone(p)
			}
		case 18:
			if id, err := pii.NormalizeResidentID(strings.ToUpper(run)); err == nil {
				return pii.MaskID(id)
			}
		}
		return run
	})
}
