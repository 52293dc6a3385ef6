package ticket

import (
	"net/http"
	"net/url"
	"strings"

	"tongxin/internal/errs"
	"tongxin/internal/web"
)

// Public help pages (no login, no JavaScript needed).

// pageHelpData is the data of ticket/help.
type pageHelpData struct {
	Form       *web.Form
	Categories []pageCategory
	Picker     pagePicker
}

// helpFields are the fields of the public help form.
var helpFields = []string{"name", "phone", "area_code", "area_q", "address", "category", "description", "confirm_duplicate"}

func (pg *Pages) helpData(r *http.Request, form *web.Form) (*pageHelpData, error) {
	d := &pageHelpData{Form: form, Picker: pagePicker{Endpoint: "/help/area-options", Query: form.Get("area_q"),
		Error: form.Field("area_code"), Label: "ticket.help.field.community"}}
	var err error
	d.Categories, _, err = pg.categories(r, true)
	d.Categories = offered(d.Categories, AudienceResident)
	return d, err
}

// HelpForm shows a resident's help form (GET /help).
func (pg *Pages) HelpForm(w http.ResponseWriter, r *http.Request) error {
	d, err := pg.helpData(r, web.NewForm(nil))
	if err != nil {
		return err
	}
	return pg.render.Page(w, r, http.StatusOK, "ticket/help", "ticket.help.title", d)
}

// pageReceiptData is the data of ticket/help-receipt.
type pageReceiptData struct {
	Receipt *Receipt
	Last4   string
}

// HelpSubmit files a resident's help request (POST /help: name, phone,
// area_code or area_q, address, category, description) and shows the
// receipt with its tracking number. Filings are throttled by the service.
func (pg *Pages) HelpSubmit(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(w, r, pageMaxForm); err != nil {
		return err
	}
	ctx := r.Context()
	vals := web.Trimmed(r, helpFields...)
	vals.Set("description", strings.TrimSpace(r.PostForm.Get("description")))
	code, choices, problem, err := pg.resolveArea(ctx, vals.Get("area_code"), vals.Get("area_q"))
	if err != nil {
		return err
	}
	var rc *Receipt
	if problem != "" {
		err = errs.Fields("invalid_ticket", "请选择所在社区", errs.FieldError{Field: "area_code", Message: problem})
	} else {
		rc, err = pg.svc.FilePublic(ctx, web.ClientAddr(r), PublicInput{Name: vals.Get("name"), Phone: vals.Get("phone"),
			AreaCode: code, Address: vals.Get("address"), Category: vals.Get("category"), Description: vals.Get("description"),
			ConfirmDuplicate: vals.Get("confirm_duplicate") == "yes"})
	}
	if err != nil {
		status := formStatus(err)
		if status == 0 {
			return err
		}
		if code != "" {
			vals.Set("area_code", code)
		}
		form := web.NewForm(vals)
		pg.render.Fail(form, r, err)
		// The service names the reporter's fields as the API does.
		for from, to := range map[string]string{"reporter_name": "name", "reporter_phone": "phone"} {
			if msg := form.Fields[from]; msg != "" && form.Fields[to] == "" {
				form.Fields[to] = msg
			}
		}
		d, derr := pg.helpData(r, form)
		if derr != nil {
			return derr
		}
		d.Picker.Choices = choices
		return pg.render.Page(w, r, status, "ticket/help", "ticket.help.title", d)
	}
	digits := strings.Map(func(c rune) rune {
		if c >= '0' && c <= '9' {
			return c
		}
		return -1
	}, vals.Get("phone"))
	d := pageReceiptData{Receipt: rc}
	if len(digits) >= 4 {
		d.Last4 = digits[len(digits)-4:]
	}
	return pg.render.Page(w, r, http.StatusOK, "ticket/help-receipt", "ticket.help.receipt_title", d)
}

// pageHelpStatusData is the data of ticket/help-status.
type pageHelpStatusData struct {
	Form        *web.Form // tracking, last4
	View        *PublicView
	ConfirmForm *web.Form
	Answered    string // catalog key of the thanks after an answer
}

// HelpStatusForm asks for a tracking number and the last four digits of
// the phone (GET /help/status?tracking=).
func (pg *Pages) HelpStatusForm(w http.ResponseWriter, r *http.Request) error {
	v := url.Values{}
	if tr := strings.TrimSpace(r.URL.Query().Get("tracking")); tr != "" && len(tr) <= 32 {
		v.Set("tracking", tr)
	}
	return pg.render.Page(w, r, http.StatusOK, "ticket/help-status", "ticket.help.status_title",
		pageHelpStatusData{Form: web.NewForm(v), ConfirmForm: web.NewForm(nil)})
}

// helpStatusRefused shows the look-up form again with err's message: not
// found (which says nothing of any ticket), throttled, or invalid.
func (pg *Pages) helpStatusRefused(w http.ResponseWriter, r *http.Request, err error, vals url.Values) error {
	status := formStatus(err)
	if errs.Is(err, errs.NotFound) {
		status = http.StatusNotFound
	}
	if status == 0 {
		return err
	}
	form := web.NewForm(url.Values{"tracking": {vals.Get("tracking")}})
	pg.render.Fail(form, r, err)
	return pg.render.Page(w, r, status, "ticket/help-status", "ticket.help.status_title",
		pageHelpStatusData{Form: form, ConfirmForm: web.NewForm(nil)})
}

// HelpStatus shows a request's progress (POST /help/status: tracking,
// last4); the numbers travel in the body, out of access logs. Wrong
// numbers and wrong digits answer alike, and look-ups are throttled.
func (pg *Pages) HelpStatus(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(w, r, pageMaxForm); err != nil {
		return err
	}
	vals := web.Trimmed(r, "tracking", "last4")
	v, err := pg.svc.PublicStatus(r.Context(), web.ClientAddr(r), vals.Get("tracking"), vals.Get("last4"))
	if err != nil {
		return pg.helpStatusRefused(w, r, err, vals)
	}
	return pg.render.Page(w, r, http.StatusOK, "ticket/help-status", "ticket.help.status_title",
		pageHelpStatusData{Form: web.NewForm(vals), View: v, ConfirmForm: web.NewForm(nil)})
}

// HelpConfirm takes the resident's answer to a resolution (POST
// /help/confirm: tracking, last4, satisfied=yes|no, note): solved
// confirms it, not solved reopens it with the note.
func (pg *Pages) HelpConfirm(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(w, r, pageMaxForm); err != nil {
		return err
	}
	ctx := r.Context()
	vals := web.Trimmed(r, "tracking", "last4", "satisfied")
	vals.Set("note", strings.TrimSpace(r.PostForm.Get("note")))
	var v *PublicView
	var err error
	switch vals.Get("satisfied") {
	case "yes", "no":
		v, err = pg.svc.PublicConfirm(ctx, web.ClientAddr(r), vals.Get("tracking"), vals.Get("last4"), vals.Get("satisfied") == "yes", vals.Get("note"))
	default:
		err = errs.Fields("invalid_confirm", "请选择是否已解决", errs.FieldError{Field: "satisfied", Message: "请选择"})
	}
	if err == nil {
		d := pageHelpStatusData{Form: web.NewForm(url.Values{"tracking": {vals.Get("tracking")}, "last4": {vals.Get("last4")}}),
			View: v, ConfirmForm: web.NewForm(nil), Answered: "ticket.help.thanks_reopened"}
		if vals.Get("satisfied") == "yes" {
			d.Answered = "ticket.help.thanks_confirmed"
		}
		return pg.render.Page(w, r, http.StatusOK, "ticket/help-status", "ticket.help.status_title", d)
	}
	if !errs.Is(err, errs.Invalid) && !errs.Is(err, errs.Conflict) {
		return pg.helpStatusRefused(w, r, err, vals)
	}
	// A correctable answer: the progress again, the answer's form with its
	// message. Reading it again counts as a look-up, so that a refused
	// answer is no unthrottled way to try digits.
	view, verr := pg.svc.PublicStatus(ctx, web.ClientAddr(r), vals.Get("tracking"), vals.Get("last4"))
	if verr != nil {
		return pg.helpStatusRefused(w, r, verr, vals)
	}
	form := web.NewForm(vals)
	pg.render.Fail(form, r, err)
	return pg.render.Page(w, r, formStatus(err), "ticket/help-status", "ticket.help.status_title",
		pageHelpStatusData{Form: web.NewForm(url.Values{"tracking": {vals.Get("tracking")}, "last4": {vals.Get("last4")}}), View: view, ConfirmForm: form})
}
