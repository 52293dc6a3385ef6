package notify

import (
	"net/http"
	"strconv"

	"tongxin/internal/errs"
	"tongxin/internal/web"
)

// API serves the JSON routes of the inbox and of webhooks.
type API struct{ svc *Service }

// NewAPI builds the handlers.
func NewAPI(svc *Service) *API { return &API{svc: svc} }

// cursorID reads a page's cursor as the id to continue below.
func cursorID(page web.PageRequest) (int64, error) {
	if page.Cursor == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(page.Cursor, 10, 64)
	if err != nil || id <= 0 {
		return 0, errs.E(errs.Invalid, "bad_cursor", "cursor 无效")
	}
	return id, nil
}

// parseBool reads a true/false query flag ("" is false).
func parseBool(r *http.Request, name string) (bool, error) {
	switch r.URL.Query().Get(name) {
	case "", "false", "0", "no":
		return false, nil
	case "true", "1", "yes":
		return true, nil
	}
	return false, &errs.Error{Kind: errs.Invalid, Code: "bad_" + name, Message: name + " 须为 true 或 false",
		Fields: []errs.FieldError{{Field: name, Message: "须为 true 或 false"}}}
}

// InboxPage is the answer of GET /api/v1/inbox: a page of notifications
// and the caller's unread count.
type InboxPage struct {
	web.Page[Notification]
	Unread int `json:"unread"`
}

// Inbox answers GET /api/v1/inbox?unread=true&limit=&cursor=: the caller's
// notifications, newest first.
func (a *API) Inbox(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	page, err := web.ParsePage(r, DefaultInboxLimit, MaxInboxLimit)
	if err != nil {
		return err
	}
	before, err := cursorID(page)
	if err != nil {
		return err
	}
	unread, err := parseBool(r, "unread")
	if err != nil {
		return err
	}
	list, err := a.svc.Inbox(r.Context(), p, InboxFilter{UnreadOnly: unread, Before: before, Limit: page.Limit + 1})
	if err != nil {
		return err
	}
	n, err := a.svc.UnreadCount(r.Context(), p)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, InboxPage{
		Page:   web.NewPage(list, page.Limit, func(n Notification) string { return strconv.FormatInt(n.ID, 10) }),
		Unread: n,
	})
}

// MarkRead answers POST /api/v1/inbox/{id}/read with the notification.
func (a *API) MarkRead(w http.ResponseWriter, r *http.Request) error {
	return web.AnswerID(w, r, errs.E(errs.NotFound, "notification_not_found", "通知不存在"), a.svc.MarkRead)
}

// MarkAllRead answers POST /api/v1/inbox/read-all with {"marked":N}.
func (a *API) MarkAllRead(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	n, err := a.svc.MarkAllRead(r.Context(), p)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, map[string]int{"marked": n})
}

// Webhooks answers GET /api/v1/webhooks: the webhooks in the caller's reach.
func (a *API) Webhooks(w http.ResponseWriter, r *http.Request) error {
	return web.List(w, r, a.svc.ListWebhooks)
}

// CreateWebhook answers POST /api/v1/webhooks with 201 and the webhook.
func (a *API) CreateWebhook(w http.ResponseWriter, r *http.Request) error {
	return web.Decode(w, r, http.StatusCreated, a.svc.CreateWebhook)
}

// Webhook answers GET /api/v1/webhooks/{id}.
func (a *API) Webhook(w http.ResponseWriter, r *http.Request) error {
	return web.AnswerID(w, r, errHookNotFound(), a.svc.GetWebhook)
}

// UpdateWebhook answers PUT /api/v1/webhooks/{id}: the fields present
// change, the others stay.
func (a *API) UpdateWebhook(w http.ResponseWriter, r *http.Request) error {
	return web.DecodeID(w, r, http.StatusOK, errHookNotFound(), a.svc.UpdateWebhook)
}

// DeleteWebhook answers DELETE /api/v1/webhooks/{id} with 204.
func (a *API) DeleteWebhook(w http.ResponseWriter, r *http.Request) error {
	return web.NoContentID(w, r, errHookNotFound(), a.svc.DeleteWebhook)
}

// Deliveries answers GET /api/v1/webhooks/{id}/deliveries?limit=&cursor=:
// the webhook's deliveries, newest first, each with its attempts.
func (a *API) Deliveries(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", errHookNotFound())
	if err != nil {
		return err
	}
	page, err := web.ParsePage(r, DefaultDeliveriesLimit, MaxDeliveriesLimit)
	if err != nil {
		return err
	}
	before, err := cursorID(page)
	if err != nil {
		return err
	}
	list, err := a.svc.Deliveries(r.Context(), p, id, before, page.Limit+1)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, web.NewPage(list, page.Limit, func(d Delivery) string { return strconv.FormatInt(d.ID, 10) }))
}

// TestWebhook answers POST /api/v1/webhooks/{id}/test with 202 and the
// queued delivery of a test message.
func (a *API) TestWebhook(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", errHookNotFound())
	if err != nil {
		return err
	}
	d, err := a.svc.TestWebhook(r.Context(), p, id)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusAccepted, d)
}
