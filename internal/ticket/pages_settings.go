package ticket

import (
	"net/http"
	"net/url"
	"slices"
	"time"

	"tongxin/internal/area"
	"tongxin/internal/auth"
	"tongxin/internal/errs"
	"tongxin/internal/web"
)

// ---------------------------------------------------------------------
// Settings: deadlines and routing

// pageRuleRow is one urgency's deadlines of a category, in words.
type pageRuleRow struct {
	Urgency          Urgency
	Respond, Resolve RuleView
	Default          bool
}

// pagePolicyRow is a category with its deadlines, in words and as the
// form offers them.
type pagePolicyRow struct {
	Code, Name   string
	Active       bool
	Audience     Audience
	Rules        []pageRuleRow
	ConfirmLabel string
	Edits        []pageUrgencyEdit
	Confirm      pageRuleEditor
}

// pageSettingsData is the data of ticket/settings.
type pageSettingsData struct {
	Policies    []pagePolicyRow
	Routes      []Route
	Categories  []pageCategory
	Departments []area.Department
	Areas       []pageAreaOption
	RouteForm   *web.Form
}

// pagePolicyEditData is the data of ticket/policy-edit.
type pagePolicyEditData struct {
	Row  pagePolicyRow
	Form *web.Form // the form's message when refused
}

// policyRow is cp in words and in the form's terms.
func policyRow(cp CategoryPolicy, name string) pagePolicyRow {
	row := pagePolicyRow{Code: cp.Code, Name: name, Active: cp.Active, Audience: cp.Audience,
		ConfirmLabel: durationLabel(time.Duration(cp.ConfirmAfter))}
	for _, u := range Urgencies {
		pv := cp.Policies[u]
		row.Rules = append(row.Rules, pageRuleRow{Urgency: u, Respond: pv.RespondBy, Resolve: pv.ResolveBy, Default: pv.Default})
		respond, _ := ParseRule(pv.RespondBy.Rule)
		resolve, _ := ParseRule(pv.ResolveBy.Rule)
		row.Edits = append(row.Edits, pageUrgencyEdit{Urgency: u,
			Respond: editorOf(string(u)+".respond_by", "ticket.settings.respond", respond),
			Resolve: editorOf(string(u)+".resolve_by", "ticket.settings.resolve", resolve)})
	}
	row.Confirm = editorOf("confirm_after", "ticket.settings.confirm_after", Rule{After: time.Duration(cp.ConfirmAfter)})
	row.Confirm.DurationOnly = true
	return row
}

// settings loads the settings page's data for a manager.
func (pg *Pages) settings(r *http.Request, p *auth.Principal) (*pageSettingsData, error) {
	ctx := r.Context()
	if err := auth.Require(p, auth.TicketManage, "ticket.Settings"); err != nil {
		return nil, err
	}
	pols, err := pg.svc.Policies(ctx, p)
	if err != nil {
		return nil, err
	}
	d := &pageSettingsData{RouteForm: web.NewForm(nil)}
	if d.Categories, _, err = pg.categories(r, false); err != nil {
		return nil, err
	}
	names := map[string]string{}
	for _, c := range d.Categories {
		names[c.Code] = c.Name
	}
	for _, cp := range pols {
		d.Policies = append(d.Policies, policyRow(cp, names[cp.Code]))
	}
	if d.Routes, err = pg.svc.Routes(ctx, p); err != nil {
		return nil, err
	}
	for i := range d.Routes {
		if n := names[d.Routes[i].Category]; n != "" {
			d.Routes[i].CategoryName = n
		}
	}
	if p.Can(auth.AreaRead) {
		if d.Departments, err = pg.areas.Departments(ctx, p); err != nil {
			return nil, err
		}
	}
	if d.Areas, err = pg.areaOptions(ctx, p); err != nil {
		return nil, err
	}
	return d, nil
}

// Settings shows the deadlines of every category in one table, in words,
// each with a link to its form, and the routing rules (GET
// /ticket-settings; ticket.manage).
func (pg *Pages) Settings(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	d, err := pg.settings(r, p)
	if err != nil {
		return err
	}
	return pg.render.Page(w, r, http.StatusOK, "ticket/settings", "ticket.settings.title", d)
}

// policyOfPage is the deadline policy of the category the request's path
// names, as the settings page shows it to p (ticket.manage).
func (pg *Pages) policyOfPage(r *http.Request, p *auth.Principal) (*pagePolicyRow, error) {
	d, err := pg.settings(r, p)
	if err != nil {
		return nil, err
	}
	code := r.PathValue("category")
	i := slices.IndexFunc(d.Policies, func(row pagePolicyRow) bool { return row.Code == code })
	if i < 0 {
		return nil, errCategoryNotFound()
	}
	return &d.Policies[i], nil
}

// PolicyEdit shows a category's deadlines as choices in words (GET
// /ticket-settings/policies/{category}; ticket.manage).
func (pg *Pages) PolicyEdit(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	row, err := pg.policyOfPage(r, p)
	if err != nil {
		return err
	}
	return pg.render.Page(w, r, http.StatusOK, "ticket/policy-edit", "ticket.settings.edit_title",
		pagePolicyEditData{Row: *row, Form: web.NewForm(nil)})
}

// normRule is a rule as ParseRule writes it back, or s when unreadable.
func normRule(s string) string {
	if r, err := ParseRule(s); err == nil {
		return r.String()
	}
	return s
}

// SavePolicy sets a category's deadlines (POST
// /ticket-settings/policies/{category}: for each of normal, urgent and
// critical and each of respond_by and resolve_by, "<u>.<d>.kind" =
// duration (with .amount and .unit m/h/d), overnight or daily (with
// .cutoff, .today, .tomorrow); confirm_after.amount and .unit. A field
// "<u>.<d>" may carry the rule itself instead). Only what changed is
// written, so the defaults stay defaults.
func (pg *Pages) SavePolicy(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	if err := web.ParseForm(w, r, pageMaxForm); err != nil {
		return err
	}
	row, err := pg.policyOfPage(r, p)
	if err != nil {
		return err
	}
	in, edit, changed, err := readPolicyForm(r.PostForm, row)
	if err == nil && !changed {
		return web.SeeOther(w, r, "/ticket-settings#cat-"+url.PathEscape(row.Code), "ticket.flash.policy_unchanged")
	}
	if err == nil {
		_, err = pg.svc.SetPolicy(r.Context(), p, row.Code, in)
	}
	if err != nil {
		status := formStatus(err)
		if status == 0 {
			return err
		}
		form := web.NewForm(nil)
		pg.render.Fail(form, r, err)
		for i := range edit.Edits {
			edit.Edits[i].Respond.Error = form.Field(edit.Edits[i].Respond.Key)
			edit.Edits[i].Resolve.Error = form.Field(edit.Edits[i].Resolve.Key)
		}
		edit.Confirm.Error = form.Field("confirm_after")
		return pg.render.Page(w, r, status, "ticket/policy-edit", "ticket.settings.edit_title", pagePolicyEditData{Row: edit, Form: form})
	}
	return web.SeeOther(w, r, "/ticket-settings#cat-"+url.PathEscape(row.Code), "ticket.flash.policy_saved")
}

// readPolicyForm reads the policy form against the category's current
// row: the input of what changed, the row as typed, and a refusal naming
// each field that writes no rule.
func readPolicyForm(form url.Values, cur *pagePolicyRow) (PolicyInput, pagePolicyRow, bool, error) {
	var in PolicyInput
	edit := *cur
	edit.Edits = slices.Clone(cur.Edits)
	changed := false
	var fields []errs.FieldError
	for i, ue := range cur.Edits {
		respondEd, respond, msg1 := editorFrom(form, ue.Respond.Key, ue.Respond.Label)
		resolveEd, resolve, msg2 := editorFrom(form, ue.Resolve.Key, ue.Resolve.Label)
		edit.Edits[i].Respond, edit.Edits[i].Resolve = respondEd, resolveEd
		for _, x := range []struct{ key, msg string }{{ue.Respond.Key, msg1}, {ue.Resolve.Key, msg2}} {
			if x.msg != "" {
				fields = append(fields, errs.FieldError{Field: x.key, Message: x.msg})
			}
		}
		pv := cur.Rules[i]
		if normRule(respond) == pv.Respond.Rule && normRule(resolve) == pv.Resolve.Rule {
			continue
		}
		ri := &RuleInput{RespondBy: respond, ResolveBy: resolve}
		switch ue.Urgency {
		case Normal:
			in.Normal = ri
		case Urgent:
			in.Urgent = ri
		case Critical:
			in.Critical = ri
		}
		changed = true
	}
	confirmEd, confirm, msg := editorFrom(form, "confirm_after", "ticket.settings.confirm_after")
	confirmEd.DurationOnly = true
	edit.Confirm = confirmEd
	if msg != "" {
		fields = append(fields, errs.FieldError{Field: "confirm_after", Message: msg})
	}
	curConfirm, _ := ParseRule(cur.Confirm.Amount + cur.Confirm.Unit)
	if confirm != "" && normRule(confirm) != curConfirm.String() {
		in.ConfirmAfter, changed = confirm, true
	}
	if len(fields) > 0 {
		return in, edit, changed, errs.Fields("invalid_policy", "时限设置有误", fields...)
	}
	return in, edit, changed, nil
}

// SaveRoute adds or replaces a routing rule (POST /ticket-settings/routes:
// category, area_code, department).
func (pg *Pages) SaveRoute(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	if err := web.ParseForm(w, r, pageMaxForm); err != nil {
		return err
	}
	vals := web.Trimmed(r, "category", "area_code", "department")
	in := RouteInput{Category: vals.Get("category"), AreaCode: vals.Get("area_code"), Department: vals.Get("department")}
	if _, err := pg.svc.SaveRoute(r.Context(), p, in); err != nil {
		status := formStatus(err)
		if status == 0 {
			return err
		}
		d, derr := pg.settings(r, p)
		if derr != nil {
			return derr
		}
		d.RouteForm = web.NewForm(vals)
		pg.render.Fail(d.RouteForm, r, err)
		return pg.render.Page(w, r, status, "ticket/settings", "ticket.settings.title", d)
	}
	return web.SeeOther(w, r, "/ticket-settings#routes", "ticket.flash.route_saved")
}

// DeleteRoute removes a routing rule (POST /ticket-settings/routes/{id}/delete).
func (pg *Pages) DeleteRoute(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", errs.E(errs.NotFound, "route_not_found", "分派规则不存在"))
	if err != nil {
		return err
	}
	if err := pg.svc.DeleteRoute(r.Context(), p, id); err != nil {
		return err
	}
	return web.SeeOther(w, r, "/ticket-settings#routes", "ticket.flash.route_deleted")
}
