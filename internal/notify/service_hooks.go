package notify

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"tongxin/internal/audit"
	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/errs"
)

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
	fe := s.checkHookFields(&v, in, create)
	v.active = true
	if in.Active != nil {
		v.active = *in.Active
	}
	var areaPath string
	if in.AreaCode != nil || create {
		var err error
		if areaPath, fe, err = s.checkHookArea(ctx, p, &v, deref(in.AreaCode), fe); err != nil {
			return v, "", err
		}
	}
	if len(fe) > 0 {
		return v, "", invalidHook(fe)
	}
	return v, areaPath, nil
}

// checkHookFields checks name, url, format, secret and events into v and
// returns what is wrong with them.
func (s *Service) checkHookFields(v *hookValues, in WebhookInput, create bool) []errs.FieldError {
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
		} else if !s.allowPrivate && privateHost(u) {
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
	return fe
}

// checkHookArea checks the area code into v once the other fields are
// right, and returns its path: it must exist and lie within the caller's
// reach. fe is what was found wrong so far, and is returned with the area's
// fault added.
func (s *Service) checkHookArea(ctx context.Context, p *auth.Principal, v *hookValues, code string,
	fe []errs.FieldError) (string, []errs.FieldError, error) {
	v.areaCode = strings.TrimSpace(code)
	if v.areaCode == "" {
		return "", append(fe, fieldErr("area_code", "请填写区划编码（接收该区划及其下级的消息）")), nil
	}
	if len(fe) > 0 {
		return "", fe, nil
	}
	if s.areas == nil {
		return "", fe, errs.Wrap("notify.validateHook", fmt.Errorf("no AreaPaths: set Deps.Areas while wiring"))
	}
	pth, err := s.areas.PathOf(ctx, v.areaCode)
	switch {
	case errs.Is(err, errs.NotFound), err == nil && !p.Covers(auth.NotifyManage, pth):
		fe = append(fe, fieldErr("area_code", "区划不存在或不在您的管辖范围内"))
	case err != nil:
		return "", fe, err
	}
	return pth, fe, nil
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
	u, err := s.prepareUpdate(ctx, p, in)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	var out Webhook
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		h, err := s.reachHook(ctx, tx, p, id)
		if err != nil {
			return err
		}
		changes, err := s.applyUpdate(u, &h)
		if err != nil {
			return errs.Wrap(op, err)
		}
		out = h.Webhook
		if len(changes) == 0 {
			return nil
		}
		if u.deactivated {
			if err := cancelPending(ctx, tx, h.ID); err != nil {
				return err
			}
		}
		if err := updateHook(ctx, tx, &h, u.eventsChanged, p.Actor()); err != nil {
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

// hookUpdate is one update of a webhook: the fields present, their
// validated values, and the new URL and secret sealed before the
// transaction. Applying it notes whether the events changed and whether
// the hook was deactivated.
type hookUpdate struct {
	in                WebhookInput
	v                 hookValues
	areaPath          string
	url               *urlParts
	newURL, newSecret []byte
	eventsChanged     bool
	deactivated       bool
}

// prepareUpdate validates in and seals its new URL and secret.
func (s *Service) prepareUpdate(ctx context.Context, p *auth.Principal, in WebhookInput) (*hookUpdate, error) {
	v, areaPath, err := s.validateHook(ctx, p, in, false)
	if err != nil {
		return nil, err
	}
	u := &hookUpdate{in: in, v: v, areaPath: areaPath}
	if in.URL != nil {
		pu, _ := ValidateURL(v.rawURL)
		u.url = &urlParts{full: pu.String(), display: DisplayURL(pu), base: baseURL(pu)}
		if u.newURL, err = s.seal(pu.String()); err != nil {
			return nil, err
		}
	}
	if v.secret != nil && *v.secret != "" {
		if u.newSecret, err = s.seal(*v.secret); err != nil {
			return nil, err
		}
	}
	return u, nil
}

// applyUpdate changes h as u says and returns the changes in words, in
// the order of the form, for the audit row.
func (s *Service) applyUpdate(u *hookUpdate, h *hookRow) ([]string, error) {
	var changes []string
	add := func(c string) {
		if c != "" {
			changes = append(changes, c)
		}
	}
	add(u.name(h))
	c, err := s.urlChange(u, h)
	if err != nil {
		return nil, err
	}
	add(c)
	add(u.format(h))
	add(u.secret(h))
	add(u.events(h))
	add(u.area(h))
	add(u.active(h))
	return changes, nil
}

func (u *hookUpdate) name(h *hookRow) string {
	if u.in.Name == nil || u.v.name == h.Name {
		return ""
	}
	c := fmt.Sprintf("名称「%s」→「%s」", h.Name, u.v.name)
	h.Name = u.v.name
	return c
}

// urlChange compares the new URL with the stored one, opened: a url equal
// to the one answered keeps it.
func (s *Service) urlChange(u *hookUpdate, h *hookRow) (string, error) {
	if u.url == nil || u.v.rawURL == h.URL {
		return "", nil
	}
	cur, err := s.box.Open(h.urlEnc)
	if err != nil {
		return "", err
	}
	if cur == u.url.full {
		return "", nil
	}
	h.URL, h.urlEnc = u.url.display, u.newURL
	return "地址改为 " + u.url.base, nil
}

func (u *hookUpdate) format(h *hookRow) string {
	if u.in.Format == nil || u.v.format == h.Format {
		return ""
	}
	c := fmt.Sprintf("格式 %s → %s", h.Format, u.v.format)
	h.Format = u.v.format
	return c
}

func (u *hookUpdate) secret(h *hookRow) string {
	switch {
	case u.v.secret == nil:
		return ""
	case *u.v.secret == "" && h.HasSecret:
		h.secretEnc, h.HasSecret = nil, false
		return "删除签名密钥"
	case *u.v.secret != "":
		h.secretEnc, h.HasSecret = u.newSecret, true
		return "更换签名密钥"
	}
	return ""
}

func (u *hookUpdate) events(h *hookRow) string {
	u.eventsChanged = u.in.Events != nil && !slices.Equal(u.v.events, h.Events)
	if !u.eventsChanged {
		return ""
	}
	h.Events = u.v.events
	return "事件改为 " + strings.Join(u.v.events, "、")
}

func (u *hookUpdate) area(h *hookRow) string {
	if u.in.AreaCode == nil || u.v.areaCode == h.AreaCode {
		return ""
	}
	c := fmt.Sprintf("区划 %s → %s", h.AreaCode, u.v.areaCode)
	h.AreaCode, h.areaPath = u.v.areaCode, u.areaPath
	return c
}

func (u *hookUpdate) active(h *hookRow) string {
	if u.in.Active == nil || u.v.active == h.Active {
		return ""
	}
	h.Active = u.v.active
	u.deactivated = !h.Active
	return activeText(u.v.active)
}

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
