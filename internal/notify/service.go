package notify

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"tongxin/internal/audit"
	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/pii"
)

// AreaPaths resolves area codes to their paths; area.Service satisfies it.
type AreaPaths interface {
	PathOf(ctx context.Context, code string) (string, error)
}

// Service is the notification use cases: sending, the inbox, webhook
// management and the delivery worker.
type Service struct {
	// BaseURL is the address users reach Tongxin at
	// ("https://tongxin.example.gov.cn"), which makes the links of webhook
	// payloads absolute; empty leaves them relative. Set it while wiring.
	BaseURL string
	// AllowPrivate lets webhooks reach private, loopback and link-local
	// addresses (serve --webhook-allow-private); otherwise such addresses
	// are refused when saved (IP literals, localhost) and when dialed.
	// Set it while wiring.
	AllowPrivate bool

	db     *db.DB
	box    *pii.Box
	log    *slog.Logger
	areas  AreaPaths
	client *http.Client
	// wake is signalled after a transaction that queued deliveries has
	// committed; RunDeliveries delivers at once instead of at its next tick.
	wake chan struct{}
}

// NewService builds the service. box seals webhook URLs and secrets at
// rest. Webhook management needs SetAreas.
func NewService(d *db.DB, box *pii.Box, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Service{db: d, box: box, log: log, wake: make(chan struct{}, 1)}
	s.client = s.newClient()
	return s
}

// SetAreas sets how area codes of webhooks are resolved (area.Service).
func (s *Service) SetAreas(a AreaPaths) { s.areas = a }

// SetHTTPClient replaces the client deliveries are posted with (tests).
// Its own timeout, if any, applies besides RequestTimeout. A client
// without a Transport gets the one that checks addresses when dialing.
func (s *Service) SetHTTPClient(c *http.Client) {
	if c.Transport == nil {
		c.Transport = s.transport()
	}
	s.client = c
}

// DB returns the database, for the other parts of the package.
func (s *Service) DB() *db.DB { return s.db }

// newClient posts with a timeout, through the transport that checks
// addresses, and never follows a redirect: a hook that moved answers 3xx,
// which counts as a failed attempt.
func (s *Service) newClient() *http.Client {
	return &http.Client{
		Transport:     s.transport(),
		Timeout:       RequestTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Wake makes a running delivery worker look for due deliveries now.
func (s *Service) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// ---------------------------------------------------------------------
// Sending

// Send notifies, inside the caller's write transaction: one inbox row per
// distinct user id (ids ≤ 0 are ignored), and one pending delivery for every
// active webhook subscribed to m.Event (by name, by its module's wildcard
// or to "*") whose area covers m.AreaPath. Once tx commits the delivery
// worker is woken. Send does no network I/O.
func (s *Service) Send(ctx context.Context, tx *db.Tx, userIDs []int64, m Message) error {
	const op = "notify.Send"
	m, err := m.normalize()
	if err != nil {
		return errs.Wrap(op, err)
	}
	seen := make(map[int64]bool, len(userIDs))
	for _, id := range userIDs {
		if id <= 0 || seen[id] {
			continue
		}
		seen[id] = true
		if err := insertNotification(ctx, tx, id, m); err != nil {
			if tx.Dialect.IsForeignKeyViolation(err) {
				return &errs.Error{Kind: errs.Internal, Op: op, Err: fmt.Errorf("no user with id %d", id)}
			}
			return errs.Wrap(op, err)
		}
	}
	ids, paths, err := subscribedHooks(ctx, tx, m.Event)
	if err != nil {
		return errs.Wrap(op, err)
	}
	queued := 0
	for i, id := range ids {
		if !covers(paths[i], m.AreaPath) {
			continue
		}
		if _, err := insertDelivery(ctx, tx, id, m); err != nil {
			return errs.Wrap(op, err)
		}
		queued++
	}
	if queued > 0 {
		tx.AfterCommit(s.Wake)
	}
	return nil
}

// ---------------------------------------------------------------------
// Inbox

// Inbox limits.
const (
	DefaultInboxLimit = 50
	MaxInboxLimit     = 200
)

// InboxFilter selects inbox rows: unread only, older than the row Before
// (0: from the newest), at most Limit.
type InboxFilter struct {
	UnreadOnly bool
	Before     int64
	Limit      int
}

// requireUser refuses an anonymous caller. The system principal has no
// inbox (its user id is 0) and sees an empty one.
func requireUser(p *auth.Principal, op string) error {
	if p == nil {
		return &errs.Error{Kind: errs.Unauthorized, Code: "unauthenticated", Op: op, Message: "请先登录"}
	}
	return nil
}

// Inbox returns the caller's notifications, newest first. Nobody reads
// another user's inbox.
func (s *Service) Inbox(ctx context.Context, p *auth.Principal, f InboxFilter) ([]Notification, error) {
	const op = "notify.Inbox"
	if err := requireUser(p, op); err != nil {
		return nil, err
	}
	if p.UserID <= 0 {
		return nil, nil
	}
	if f.Limit <= 0 {
		f.Limit = DefaultInboxLimit
	}
	f.Limit = min(f.Limit, MaxInboxLimit+1) // a page and the row that says another follows
	var out []Notification
	err := s.db.Read(ctx, func(tx *db.Tx) (err error) {
		out, err = listNotifications(ctx, tx, p.UserID, f.UnreadOnly, f.Before, f.Limit)
		return err
	})
	return out, errs.Wrap(op, err)
}

// UnreadCount counts the caller's unread notifications (the menu badge).
func (s *Service) UnreadCount(ctx context.Context, p *auth.Principal) (int, error) {
	const op = "notify.UnreadCount"
	if err := requireUser(p, op); err != nil {
		return 0, err
	}
	if p.UserID <= 0 {
		return 0, nil
	}
	var n int
	err := s.db.Read(ctx, func(tx *db.Tx) (err error) {
		n, err = countUnread(ctx, tx, p.UserID)
		return err
	})
	return n, errs.Wrap(op, err)
}

// MarkRead marks one of the caller's notifications read and returns it;
// another user's notification is not found. Marking it again keeps the
// first reading time.
func (s *Service) MarkRead(ctx context.Context, p *auth.Principal, id int64) (*Notification, error) {
	const op = "notify.MarkRead"
	if err := requireUser(p, op); err != nil {
		return nil, err
	}
	if p.UserID <= 0 || id <= 0 {
		return nil, &errs.Error{Kind: errs.NotFound, Code: "notification_not_found", Op: op, Message: "通知不存在"}
	}
	var n Notification
	err := s.db.Write(ctx, func(tx *db.Tx) (err error) {
		n, err = markRead(ctx, tx, p.UserID, id)
		return err
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return &n, nil
}

// MarkAllRead marks every unread notification of the caller read and says
// how many there were.
func (s *Service) MarkAllRead(ctx context.Context, p *auth.Principal) (int, error) {
	const op = "notify.MarkAllRead"
	if err := requireUser(p, op); err != nil {
		return 0, err
	}
	if p.UserID <= 0 {
		return 0, nil
	}
	var n int
	err := s.db.Write(ctx, func(tx *db.Tx) (err error) {
		n, err = markAllRead(ctx, tx, p.UserID)
		return err
	})
	return n, errs.Wrap(op, err)
}

// ---------------------------------------------------------------------
// Webhooks

func errHookNotFound() *errs.Error {
	return errs.E(errs.NotFound, "webhook_not_found", "Webhook 不存在")
}

// visible reports whether p manages webhooks over the hook's area.
func visible(p *auth.Principal, h hookRow) bool { return p.Covers(auth.NotifyManage, h.areaPath) }

// ListWebhooks returns the webhooks of the areas the caller manages
// webhooks in.
func (s *Service) ListWebhooks(ctx context.Context, p *auth.Principal) ([]Webhook, error) {
	const op = "notify.ListWebhooks"
	if err := auth.Require(p, auth.NotifyManage, op); err != nil {
		return nil, err
	}
	var out []Webhook
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		hooks, err := listHooks(ctx, tx)
		if err != nil {
			return err
		}
		for _, h := range hooks {
			if visible(p, h) {
				out = append(out, h.Webhook)
			}
		}
		return nil
	})
	return out, errs.Wrap(op, err)
}

// GetWebhook returns one webhook in the caller's reach.
func (s *Service) GetWebhook(ctx context.Context, p *auth.Principal, id int64) (*Webhook, error) {
	const op = "notify.GetWebhook"
	if err := auth.Require(p, auth.NotifyManage, op); err != nil {
		return nil, err
	}
	var out Webhook
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		h, err := s.reachHook(ctx, tx, p, id)
		out = h.Webhook
		return err
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return &out, nil
}

// reachHook loads a hook the caller manages; any other is not found.
func (s *Service) reachHook(ctx context.Context, tx *db.Tx, p *auth.Principal, id int64) (hookRow, error) {
	if id <= 0 {
		return hookRow{}, errHookNotFound()
	}
	h, err := loadHook(ctx, tx, id)
	if err != nil {
		return h, err
	}
	if !visible(p, h) {
		return h, errHookNotFound()
	}
	return h, nil
}

// validateHook checks the fields present in in; create requires name, url,
// events and area_code. It resolves the area, which must lie within the
// caller's reach.
func (s *Service) validateHook(ctx context.Context, p *auth.Principal, in WebhookInput, create bool) (hookValues, string, error) {
	var v hookValues
	var fe []errs.FieldError
	add := func(e *errs.FieldError) {
		if e != nil {
			fe = append(fe, *e)
		}
	}
	if in.Name != nil || create {
		var e *errs.FieldError
		v.name, e = validateName(deref(in.Name))
		add(e)
	}
	if in.URL != nil || create {
		v.rawURL = strings.TrimSpace(deref(in.URL))
		if u, err := ValidateURL(v.rawURL); err != nil {
			fe = append(fe, errs.As(err).Fields...)
		} else if !s.AllowPrivate && privateHost(u) {
			fe = append(fe, fieldErr("url", "地址指向本机或内网，不允许投递；确需投递到内网时，请运维以 serve --webhook-allow-private 启动"))
		}
	}
	if in.Format != nil || create {
		var e *errs.FieldError
		v.format, e = validateFormat(deref(in.Format))
		add(e)
	}
	if in.Secret != nil {
		sec, e := validateSecret(*in.Secret)
		add(e)
		v.secret = &sec
	}
	if in.Events != nil || create {
		var list []string
		if in.Events != nil {
			list = *in.Events
		}
		ev, efe := validateEvents(list)
		fe = append(fe, efe...)
		v.events = ev
	}
	v.active = true
	if in.Active != nil {
		v.active = *in.Active
	}
	var areaPath string
	if in.AreaCode != nil || create {
		v.areaCode = strings.TrimSpace(deref(in.AreaCode))
		if v.areaCode == "" {
			fe = append(fe, fieldErr("area_code", "请填写区划编码（接收该区划及其下级的消息）"))
		} else if len(fe) == 0 {
			if s.areas == nil {
				return v, "", errs.Wrap("notify.validateHook", fmt.Errorf("no AreaPaths: call SetAreas while wiring"))
			}
			pth, err := s.areas.PathOf(ctx, v.areaCode)
			switch {
			case errs.Is(err, errs.NotFound), err == nil && !p.Covers(auth.NotifyManage, pth):
				fe = append(fe, fieldErr("area_code", "区划不存在或不在您的管辖范围内"))
			case err != nil:
				return v, "", err
			}
			areaPath = pth
		}
	}
	if len(fe) > 0 {
		return v, "", invalidHook(fe)
	}
	return v, areaPath, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// seal encrypts a URL or secret for storage.
func (s *Service) seal(plain string) ([]byte, error) {
	if s.box == nil {
		return nil, fmt.Errorf("notify: no pii.Box")
	}
	return s.box.Seal(plain)
}

// CreateWebhook adds a webhook. It needs notify.manage over its area.
func (s *Service) CreateWebhook(ctx context.Context, p *auth.Principal, in WebhookInput) (*Webhook, error) {
	const op = "notify.CreateWebhook"
	if err := auth.Require(p, auth.NotifyManage, op); err != nil {
		return nil, err
	}
	v, areaPath, err := s.validateHook(ctx, p, in, true)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	u, _ := ValidateURL(v.rawURL)
	h := hookRow{Webhook: Webhook{Name: v.name, URL: DisplayURL(u), Format: v.format, Events: v.events, AreaCode: v.areaCode,
		Active: v.active, areaPath: areaPath}}
	if h.urlEnc, err = s.seal(u.String()); err != nil {
		return nil, errs.Wrap(op, err)
	}
	if v.secret != nil && *v.secret != "" {
		if h.secretEnc, err = s.seal(*v.secret); err != nil {
			return nil, errs.Wrap(op, err)
		}
		h.HasSecret = true
	}
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		if err := insertHook(ctx, tx, &h, p.Actor()); err != nil {
			return err
		}
		summary := fmt.Sprintf("新建 Webhook「%s」：%s，格式 %s，事件 %s，区划 %s，%s，%s", h.Name, baseURL(u), h.Format,
			strings.Join(h.Events, "、"), h.AreaCode, activeText(h.Active), secretText(h.HasSecret))
		return audit.Record(ctx, tx, audit.Entry{ActorID: p.UserID, Actor: p.Actor(), Action: "webhook.create",
			ObjectType: "webhook", ObjectID: strconv.FormatInt(h.ID, 10), AreaCode: h.AreaCode, Summary: summary})
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return &h.Webhook, nil
}

func activeText(b bool) string {
	if b {
		return "已启用"
	}
	return "已停用"
}

func secretText(b bool) string {
	if b {
		return "有签名密钥"
	}
	return "无签名密钥"
}

// UpdateWebhook changes the fields present in in. Deactivating a hook
// cancels its pending deliveries. A url equal to the one answered (with
// its query values hidden) keeps the stored URL.
func (s *Service) UpdateWebhook(ctx context.Context, p *auth.Principal, id int64, in WebhookInput) (*Webhook, error) {
	const op = "notify.UpdateWebhook"
	if err := auth.Require(p, auth.NotifyManage, op); err != nil {
		return nil, err
	}
	v, areaPath, err := s.validateHook(ctx, p, in, false)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	// Seal outside the transaction; compare inside.
	var newURL []byte
	var u *urlParts
	if in.URL != nil {
		pu, _ := ValidateURL(v.rawURL)
		u = &urlParts{full: pu.String(), display: DisplayURL(pu), base: baseURL(pu)}
		if newURL, err = s.seal(pu.String()); err != nil {
			return nil, errs.Wrap(op, err)
		}
	}
	var newSecret []byte
	if v.secret != nil && *v.secret != "" {
		if newSecret, err = s.seal(*v.secret); err != nil {
			return nil, errs.Wrap(op, err)
		}
	}
	var out Webhook
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		h, err := s.reachHook(ctx, tx, p, id)
		if err != nil {
			return err
		}
		var changes []string
		if in.Name != nil && v.name != h.Name {
			changes = append(changes, fmt.Sprintf("名称「%s」→「%s」", h.Name, v.name))
			h.Name = v.name
		}
		if u != nil && v.rawURL != h.URL {
			cur, err := s.box.Open(h.urlEnc)
			if err != nil {
				return errs.Wrap(op, err)
			}
			if cur != u.full {
				changes = append(changes, "地址改为 "+u.base)
				h.URL, h.urlEnc = u.display, newURL
			}
		}
		if in.Format != nil && v.format != h.Format {
			changes = append(changes, fmt.Sprintf("格式 %s → %s", h.Format, v.format))
			h.Format = v.format
		}
		if v.secret != nil {
			switch {
			case *v.secret == "" && h.HasSecret:
				changes = append(changes, "删除签名密钥")
				h.secretEnc, h.HasSecret = nil, false
			case *v.secret != "":
				changes = append(changes, "更换签名密钥")
				h.secretEnc, h.HasSecret = newSecret, true
			}
		}
		eventsChanged := in.Events != nil && !slices.Equal(v.events, h.Events)
		if eventsChanged {
			changes = append(changes, "事件改为 "+strings.Join(v.events, "、"))
			h.Events = v.events
		}
		if in.AreaCode != nil && v.areaCode != h.AreaCode {
			changes = append(changes, fmt.Sprintf("区划 %s → %s", h.AreaCode, v.areaCode))
			h.AreaCode, h.areaPath = v.areaCode, areaPath
		}
		if in.Active != nil && v.active != h.Active {
			changes = append(changes, activeText(v.active))
			h.Active = v.active
			if !h.Active {
				if err := cancelPending(ctx, tx, h.ID); err != nil {
					return err
				}
			}
		}
		if len(changes) == 0 {
			out = h.Webhook
			return nil
		}
		if err := updateHook(ctx, tx, &h, eventsChanged, p.Actor()); err != nil {
			return err
		}
		out = h.Webhook
		return audit.Record(ctx, tx, audit.Entry{ActorID: p.UserID, Actor: p.Actor(), Action: "webhook.update",
			ObjectType: "webhook", ObjectID: strconv.FormatInt(h.ID, 10), AreaCode: h.AreaCode,
			Summary: fmt.Sprintf("修改 Webhook「%s」：%s", h.Name, strings.Join(changes, "；"))})
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return &out, nil
}

// urlParts are the shown and audited forms of a new URL.
type urlParts struct{ full, display, base string }

// DeleteWebhook removes a webhook: it receives nothing more, its pending
// deliveries are cancelled, and its delivery log is kept.
func (s *Service) DeleteWebhook(ctx context.Context, p *auth.Principal, id int64) error {
	const op = "notify.DeleteWebhook"
	if err := auth.Require(p, auth.NotifyManage, op); err != nil {
		return err
	}
	err := s.db.Write(ctx, func(tx *db.Tx) error {
		h, err := s.reachHook(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if err := deleteHook(ctx, tx, h.ID, p.Actor()); err != nil {
			return err
		}
		if err := cancelPending(ctx, tx, h.ID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{ActorID: p.UserID, Actor: p.Actor(), Action: "webhook.delete",
			ObjectType: "webhook", ObjectID: strconv.FormatInt(h.ID, 10), AreaCode: h.AreaCode,
			Summary: fmt.Sprintf("删除 Webhook「%s」（%s）", h.Name, h.Format)})
	})
	return errs.Wrap(op, err)
}

// Delivery log limits.
const (
	DefaultDeliveriesLimit = 20
	MaxDeliveriesLimit     = 100
)

// Deliveries returns a webhook's deliveries with id < before (0: from the
// newest), newest first, each with its attempts.
func (s *Service) Deliveries(ctx context.Context, p *auth.Principal, id, before int64, limit int) ([]Delivery, error) {
	const op = "notify.Deliveries"
	if err := auth.Require(p, auth.NotifyManage, op); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = DefaultDeliveriesLimit
	}
	limit = min(limit, MaxDeliveriesLimit+1) // a page and the row that says another follows
	var out []Delivery
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		if _, err := s.reachHook(ctx, tx, p, id); err != nil {
			return err
		}
		var err error
		out, err = listDeliveries(ctx, tx, id, before, limit)
		return err
	})
	return out, errs.Wrap(op, err)
}

// TestWebhook queues a "test" message to one webhook only (active or not,
// whatever it subscribes to) and returns the pending delivery.
func (s *Service) TestWebhook(ctx context.Context, p *auth.Principal, id int64) (*Delivery, error) {
	const op = "notify.TestWebhook"
	if err := auth.Require(p, auth.NotifyManage, op); err != nil {
		return nil, err
	}
	var out Delivery
	err := s.db.Write(ctx, func(tx *db.Tx) error {
		h, err := s.reachHook(ctx, tx, p, id)
		if err != nil {
			return err
		}
		m, err := Message{Event: EventTest, Title: "同心平台测试消息",
			Body: fmt.Sprintf("这是 Webhook「%s」的测试消息，由 %s 发送。收到即表示设置正确。", h.Name, p.Actor()),
			Link: "/webhooks", ObjectType: "webhook", ObjectID: strconv.FormatInt(h.ID, 10)}.normalize()
		if err != nil {
			return err
		}
		did, err := insertDelivery(ctx, tx, h.ID, m)
		if err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, audit.Entry{ActorID: p.UserID, Actor: p.Actor(), Action: "webhook.test",
			ObjectType: "webhook", ObjectID: strconv.FormatInt(h.ID, 10), AreaCode: h.AreaCode,
			Summary: fmt.Sprintf("向 Webhook「%s」发送测试消息（投递 %d）", h.Name, did)}); err != nil {
			return err
		}
		out, err = loadDelivery(ctx, tx, did)
		if err != nil {
			return err
		}
		tx.AfterCommit(s.Wake)
		return nil
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return &out, nil
}
