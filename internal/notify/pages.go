package notify

import (
	"context"
	"embed"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"tongxin/internal/auth"
	"tongxin/internal/errs"
	"tongxin/internal/web"
)

// Templates holds the inbox and webhook pages; the Renderer is built with
// it.
//
//go:embed templates
var Templates embed.FS

// Pages serves the inbox and the webhook list as HTML.
type Pages struct {
	svc    *Service
	render *web.Renderer
	// areaNames names area codes, all of a page's at once (nil: codes are
	// shown as they are).
	areaNames func(ctx context.Context, codes []string) (map[string]string, error)
}

// NewPages builds the pages. areaNames names area codes, all of a page's
// at once (area.Service.Names; nil shows the codes as they are).
func NewPages(svc *Service, render *web.Renderer, areaNames func(ctx context.Context, codes []string) (map[string]string, error)) *Pages {
	return &Pages{svc: svc, render: render, areaNames: areaNames}
}

// NavItems are the menu entries (and home cards) of the module, for
// Renderer.AddNav.
func NavItems(svc *Service) []web.NavItem {
	unread := func(ctx context.Context, p *auth.Principal) int {
		n, err := svc.UnreadCount(ctx, p)
		if err != nil {
			return 0
		}
		return n
	}
	return []web.NavItem{
		{Key: "notify.nav.inbox", DescKey: "notify.card.inbox", Path: "/inbox", Count: unread},
		{Key: "notify.nav.webhooks", DescKey: "notify.card.webhooks", Path: "/webhooks", Perm: auth.NotifyManage},
	}
}

// HomeWork is the module's home-page figure: everyone's unread messages,
// linked to the inbox's unread view.
func HomeWork(svc *Service) web.Work {
	return web.Work{Figures: func(ctx context.Context, p *auth.Principal) ([]web.Figure, error) {
		n, err := svc.UnreadCount(ctx, p)
		if err != nil {
			return nil, err
		}
		return []web.Figure{{Key: "notify.work.unread", Value: n, Path: "/inbox?unread=1", Alert: true}}, nil
	}}
}

// Page sizes.
const (
	inboxPerPage      = 30
	pageDeliveries    = 5
	pageMaxFormBytes  = 16 << 10
	pageInboxDefault  = "/inbox"
	pageHooksLocation = "/webhooks"
)

// inboxData is the data of notify/inbox.
type inboxData struct {
	Items      []Notification
	Unread     int
	UnreadOnly bool
	Back       string // this page: where the forms come back to
	NextURL    string
}

// InboxPage lists the caller's notifications (GET /inbox?unread=1&cursor=).
func (pg *Pages) InboxPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	unread := q.Get("unread") == "1" || q.Get("unread") == "true"
	var before int64
	if c := q.Get("before"); c != "" {
		if before, err = strconv.ParseInt(c, 10, 64); err != nil || before <= 0 {
			return errs.E(errs.Invalid, "bad_cursor", "翻页参数无效")
		}
	}
	list, err := pg.svc.Inbox(r.Context(), p, InboxFilter{UnreadOnly: unread, Before: before, Limit: inboxPerPage + 1})
	if err != nil {
		return err
	}
	n, err := pg.svc.UnreadCount(r.Context(), p)
	if err != nil {
		return err
	}
	d := inboxData{Items: list, Unread: n, UnreadOnly: unread, Back: r.URL.RequestURI()}
	if len(list) > inboxPerPage {
		d.Items = list[:inboxPerPage]
		v := url.Values{"before": {strconv.FormatInt(d.Items[inboxPerPage-1].ID, 10)}}
		if unread {
			v.Set("unread", "1")
		}
		d.NextURL = "/inbox?" + v.Encode()
	}
	return pg.render.Page(w, r, http.StatusOK, "notify/inbox", "notify.inbox.title", d)
}

// backTo sends the browser to the form's next (a path under base) with 303.
func backTo(w http.ResponseWriter, r *http.Request, base string) {
	next := web.SafeNext(r.PostForm.Get("next"), base)
	if next != base && !strings.HasPrefix(next, base+"?") && !strings.HasPrefix(next, base+"/") {
		next = base
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// MarkReadSubmit marks one notification read (POST /inbox/{id}/read) and
// goes back to the inbox.
func (pg *Pages) MarkReadSubmit(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", errs.E(errs.NotFound, "notification_not_found", "通知不存在"))
	if err != nil {
		return err
	}
	if err := web.ParseForm(w, r, pageMaxFormBytes); err != nil {
		return err
	}
	if _, err := pg.svc.MarkRead(r.Context(), p, id); err != nil {
		return err
	}
	backTo(w, r, pageInboxDefault)
	return nil
}

// MarkAllReadSubmit marks every notification read (POST /inbox/read-all)
// and goes back to the inbox.
func (pg *Pages) MarkAllReadSubmit(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	if err := web.ParseForm(w, r, pageMaxFormBytes); err != nil {
		return err
	}
	if _, err := pg.svc.MarkAllRead(r.Context(), p); err != nil {
		return err
	}
	web.SetFlash(w, "notify.flash.read_all")
	backTo(w, r, pageInboxDefault)
	return nil
}

// hookView is a webhook with its latest deliveries.
type hookView struct {
	Webhook
	AreaName   string
	Deliveries []Delivery
}

// webhooksData is the data of notify/webhooks.
type webhooksData struct {
	Hooks   []hookView
	Form    *web.Form
	Formats []string
	Events  []EventName
	Checked map[string]bool // events ticked on the form
}

// WebhooksPage lists the webhooks in the caller's reach with their latest
// deliveries, and the form for a new one (GET /webhooks).
func (pg *Pages) WebhooksPage(w http.ResponseWriter, r *http.Request) error {
	form := web.NewForm(url.Values{"format": {FormatJSON}, "active": {"1"}})
	return pg.renderHooks(w, r, http.StatusOK, form)
}

func (pg *Pages) renderHooks(w http.ResponseWriter, r *http.Request, status int, form *web.Form) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	hooks, err := pg.svc.ListWebhooks(r.Context(), p)
	if err != nil {
		return err
	}
	d := webhooksData{Form: form, Formats: Formats, Events: Events, Checked: map[string]bool{}}
	for _, e := range form.Values["events"] {
		d.Checked[e] = true
	}
	for _, h := range hooks {
		v := hookView{Webhook: h}
		if v.Deliveries, err = pg.svc.Deliveries(r.Context(), p, h.ID, 0, pageDeliveries); err != nil {
			return err
		}
		d.Hooks = append(d.Hooks, v)
	}
	if pg.areaNames != nil && len(d.Hooks) > 0 {
		codes := make([]string, len(d.Hooks))
		for i, h := range d.Hooks {
			codes[i] = h.AreaCode
		}
		names, err := pg.areaNames(r.Context(), codes)
		if err != nil {
			return err
		}
		for i := range d.Hooks {
			d.Hooks[i].AreaName = names[d.Hooks[i].AreaCode]
		}
	}
	return pg.render.Page(w, r, status, "notify/webhooks", "notify.webhooks.title", d)
}

// CreateWebhookSubmit adds a webhook from the form (POST /webhooks). A
// refusal shows the page again with the messages.
func (pg *Pages) CreateWebhookSubmit(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	if err := auth.Require(p, auth.NotifyManage, "notify.CreateWebhook"); err != nil {
		return err
	}
	if err := web.ParseForm(w, r, pageMaxFormBytes); err != nil {
		return err
	}
	f := r.PostForm
	name, rawURL, format, secret, areaCode := f.Get("name"), f.Get("url"), f.Get("format"), f.Get("secret"), f.Get("area_code")
	events := f["events"]
	active := f.Get("active") != ""
	in := WebhookInput{Name: &name, URL: &rawURL, Format: &format, Events: &events, AreaCode: &areaCode, Active: &active}
	if strings.TrimSpace(secret) != "" {
		in.Secret = &secret
	}
	if _, err := pg.svc.CreateWebhook(r.Context(), p, in); err != nil {
		status := web.FormStatus(err)
		if status == 0 {
			return err
		}
		// The secret is never sent back to the browser.
		form := web.NewForm(url.Values{"name": {name}, "url": {rawURL}, "format": {format}, "area_code": {areaCode}, "events": events})
		if active {
			form.Values.Set("active", "1")
		}
		pg.render.Fail(form, r, err)
		return pg.renderHooks(w, r, status, form)
	}
	web.SetFlash(w, "notify.flash.webhook_created")
	http.Redirect(w, r, pageHooksLocation, http.StatusSeeOther)
	return nil
}

// TestWebhookSubmit queues a test message (POST /webhooks/{id}/test).
func (pg *Pages) TestWebhookSubmit(w http.ResponseWriter, r *http.Request) error {
	return pg.hookAction(w, r, "notify.flash.test_queued", func(p *auth.Principal, id int64) error {
		_, err := pg.svc.TestWebhook(r.Context(), p, id)
		return err
	})
}

// ActiveWebhookSubmit starts or stops a webhook (POST /webhooks/{id}/active,
// field active = true or false).
func (pg *Pages) ActiveWebhookSubmit(w http.ResponseWriter, r *http.Request) error {
	return pg.hookAction(w, r, "notify.flash.webhook_updated", func(p *auth.Principal, id int64) error {
		var active bool
		switch r.PostForm.Get("active") {
		case "true", "1":
			active = true
		case "false", "0":
		default:
			return &errs.Error{Kind: errs.Invalid, Code: "webhook_invalid", Message: "active 须为 true 或 false",
				Fields: []errs.FieldError{{Field: "active", Message: "须为 true 或 false"}}}
		}
		_, err := pg.svc.UpdateWebhook(r.Context(), p, id, WebhookInput{Active: &active})
		return err
	})
}

// DeleteWebhookSubmit deletes a webhook (POST /webhooks/{id}/delete).
func (pg *Pages) DeleteWebhookSubmit(w http.ResponseWriter, r *http.Request) error {
	return pg.hookAction(w, r, "notify.flash.webhook_deleted", func(p *auth.Principal, id int64) error {
		return pg.svc.DeleteWebhook(r.Context(), p, id)
	})
}

// hookAction runs a form action on one webhook and goes back to the list
// with a flash.
func (pg *Pages) hookAction(w http.ResponseWriter, r *http.Request, flash string, do func(p *auth.Principal, id int64) error) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", errHookNotFound())
	if err != nil {
		return err
	}
	if err := web.ParseForm(w, r, pageMaxFormBytes); err != nil {
		return err
	}
	if err := do(p, id); err != nil {
		return err
	}
	web.SetFlash(w, flash)
	http.Redirect(w, r, pageHooksLocation, http.StatusSeeOther)
	return nil
}
