package ticket

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"tongxin/internal/auth"
	"tongxin/internal/errs"
	"tongxin/internal/web"
)

// Filing: the form for staff and the hotline, and its area picker.

// pagePicker is the community picker of a filing form.
type pagePicker struct {
	Endpoint string // the htmx route answering the choices
	Query    string // what was typed
	Choices  []pageAreaChoice
	Error    string
	Label    string // catalog key of the label
}

// pageChoicesData is the data of ticket/area-options.
type pageChoicesData struct {
	Query   string
	Choices []pageAreaChoice
}

// pageNewData is the data of ticket/new.
type pageNewData struct {
	Form        *web.Form
	Hotline     bool
	Categories  []pageCategory
	Urgencies   []Urgency
	Channels    []Channel
	Enterprises []string // an enterprise contact's own
	Picker      pagePicker
}

// newFields are the fields of the filing form.
var newFields = []string{"category", "urgency", "channel", "enterprise", "area_code", "area_q", "address", "description",
	"reporter_name", "reporter_phone"}

func (pg *Pages) newData(r *http.Request, p *auth.Principal, form *web.Form) (*pageNewData, error) {
	d := &pageNewData{Form: form, Hotline: form.Get("channel") == string(ChannelHotline), Urgencies: Urgencies,
		Enterprises: p.Refs(auth.EnterpriseContact),
		Picker:      pagePicker{Endpoint: "/tickets/area-options", Query: form.Get("area_q"), Error: form.Field("area_code"), Label: "ticket.field.area"}}
	var err error
	if d.Categories, _, err = pg.categories(r, true); err != nil {
		return nil, err
	}
	if len(d.Enterprises) > 0 {
		d.Categories = offered(d.Categories, AudienceEnterprise)
	}
	if !d.Hotline {
		d.Channels = Channels
	}
	return d, nil
}

// NewForm shows the filing form (GET /tickets/new). With
// ?channel=hotline_12345 it is the hotline operator's quick form: the
// caller's phone first, categories as large buttons, the community picked
// by typing.
func (pg *Pages) NewForm(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	if err := auth.Require(p, auth.TicketFile, "ticket.NewForm"); err != nil {
		return err
	}
	q := r.URL.Query()
	v := url.Values{"urgency": {string(Normal)}, "channel": {string(ChannelWeb)}}
	if q.Get("channel") == string(ChannelHotline) {
		v.Set("channel", string(ChannelHotline))
	} else if p.HasRole(auth.Liaison) {
		v.Set("channel", string(ChannelLiaison))
	}
	if refs := p.Refs(auth.EnterpriseContact); len(refs) > 0 {
		v.Set("enterprise", refs[0])
	}
	if e := strings.TrimSpace(q.Get("enterprise")); e != "" && utf8.RuneCountInString(e) <= 40 {
		v.Set("enterprise", e)
	}
	d, err := pg.newData(r, p, web.NewForm(v))
	if err != nil {
		return err
	}
	title := "ticket.new.title"
	if d.Hotline {
		title = "ticket.hotline.title"
	}
	return pg.render.Page(w, r, http.StatusOK, "ticket/new", title, d)
}

// Create files the form's ticket (POST /tickets) and goes to its page,
// which shows the tracking number once. Mistakes show the form again with
// a message beside each field.
func (pg *Pages) Create(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	if err := web.ParseForm(w, r, pageMaxForm); err != nil {
		return err
	}
	ctx := r.Context()
	vals := web.Trimmed(r, newFields...)
	// Long texts keep their inner line breaks.
	vals.Set("description", strings.TrimSpace(r.PostForm.Get("description")))
	code, choices, problem, err := pg.resolveArea(ctx, vals.Get("area_code"), vals.Get("area_q"))
	if err != nil {
		return err
	}
	in := Input{Category: vals.Get("category"), Urgency: Urgency(vals.Get("urgency")), Channel: Channel(vals.Get("channel")),
		Enterprise: vals.Get("enterprise"), AreaCode: code, Address: vals.Get("address"), Description: vals.Get("description"),
		ReporterName: vals.Get("reporter_name"), ReporterPhone: vals.Get("reporter_phone")}
	var t *Ticket
	if problem != "" {
		err = pg.withAreaProblem(ctx, in, problem)
	} else {
		t, err = pg.svc.Create(ctx, p, in)
	}
	if err != nil {
		status := formStatus(err)
		if status == 0 || (errs.Is(err, errs.Forbidden) && !p.Can(auth.TicketFile)) {
			return err
		}
		if code != "" {
			vals.Set("area_code", code)
		}
		form := web.NewForm(vals)
		pg.render.Fail(form, r, err)
		d, derr := pg.newData(r, p, form)
		if derr != nil {
			return derr
		}
		d.Picker.Choices = choices
		title := "ticket.new.title"
		if d.Hotline {
			title = "ticket.hotline.title"
		}
		return pg.render.Page(w, r, status, "ticket/new", title, d)
	}
	http.SetCookie(w, &http.Cookie{Name: filedCookie, Value: t.Tracking, Path: "/tickets/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, MaxAge: 120})
	http.Redirect(w, r, link(t.ID), http.StatusSeeOther)
	return nil
}

// withAreaProblem is the refusal of a form whose typed community matched
// no single area: the picker's message with whatever else the service
// finds wrong.
func (pg *Pages) withAreaProblem(ctx context.Context, in Input, problem string) error {
	fields := []errs.FieldError{{Field: "area_code", Message: problem}}
	if _, err := pg.svc.validate(ctx, in); err != nil {
		e := errs.As(err)
		if e == nil || e.Kind != errs.Invalid {
			return err
		}
		for _, fe := range e.Fields {
			if fe.Field != "area_code" {
				fields = append(fields, fe)
			}
		}
	}
	return errs.Fields("invalid_ticket", "工单内容有误", fields...)
}

// AreaOptions answers the filing form's picker (GET
// /tickets/area-options?area_q=&area_code=) with the communities and grids
// matching what was typed, as radio buttons named area_code.
func (pg *Pages) AreaOptions(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	if err := auth.Require(p, auth.TicketFile, "ticket.AreaOptions"); err != nil {
		return err
	}
	return pg.areaOptionsFragment(w, r)
}

// HelpAreaOptions is AreaOptions for the public help form (GET
// /help/area-options?area_q=): names of communities are public.
func (pg *Pages) HelpAreaOptions(w http.ResponseWriter, r *http.Request) error {
	return pg.areaOptionsFragment(w, r)
}

func (pg *Pages) areaOptionsFragment(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	query := strings.TrimSpace(q.Get("area_q"))
	if query == "" {
		query = strings.TrimSpace(q.Get("q"))
	}
	choices, err := pg.areaChoices(r.Context(), query)
	if err != nil {
		return err
	}
	picked := strings.TrimSpace(q.Get("area_code"))
	for i := range choices {
		choices[i].Checked = choices[i].Code == picked || len(choices) == 1
	}
	return pg.render.Fragment(w, r, http.StatusOK, "ticket/area-options", pageChoicesData{Query: query, Choices: choices})
}
