package masstest

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/errs"
	"tongxin/internal/web"
)

// The testing group's forms: a campaign, a round of it, closing a round,
// and a community's exemptions from the missed list. Each answers 303 to
// the page it was posted from; a refusal shows that page again with the
// message.

// pageMaxForm bounds a form's body.
const pageMaxForm = 64 << 10

// formTime is the layout of datetime-local inputs, in Asia/Shanghai.
const formTime = "2006-01-02T15:04"

func formTimeOf(v, field string) (time.Time, error) {
	t, err := time.ParseInLocation(formTime, v, clock.Shanghai)
	if err != nil {
		return time.Time{}, errs.Fields("bad_time", "时间格式应为 YYYY-MM-DDTHH:MM", errs.FieldError{Field: field, Message: "时间格式错误"})
	}
	return t, nil
}

// CreateCampaignSubmit starts a campaign (POST /testing: name, area_code).
func (pg *Pages) CreateCampaignSubmit(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	if err := web.ParseForm(w, r, pageMaxForm); err != nil {
		return err
	}
	vals := web.Trimmed(r, "name", "area_code")
	c, err := pg.svc.CreateCampaign(r.Context(), p, CampaignInput{Name: vals.Get("name"), AreaCode: vals.Get("area_code")})
	if err != nil {
		if web.FormStatus(err) == 0 {
			return err
		}
		list, lerr := pg.svc.ListCampaigns(r.Context(), p)
		if lerr != nil {
			return lerr
		}
		f := web.NewForm(vals)
		pg.render.Fail(f, r, err)
		return pg.render.Page(w, r, web.FormStatus(err), "testing/campaigns", "testing.campaigns.title",
			pageCampaignsData{Campaigns: list, CanManage: true, Form: f})
	}
	return web.SeeOther(w, r, fmt.Sprintf("/testing/campaigns/%d", c.ID), "testing.flash.campaign")
}

// pageCampaignsData is the data of testing/campaigns.
type pageCampaignsData struct {
	Campaigns []*Campaign
	CanManage bool
	Form      *web.Form
}

// CreateRoundSubmit adds a round (POST /testing/campaigns/{id}/rounds:
// starts_at, ends_at, mode, area_codes separated by spaces or commas).
func (pg *Pages) CreateRoundSubmit(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	if err := web.ParseForm(w, r, pageMaxForm); err != nil {
		return err
	}
	vals := web.Trimmed(r, "starts_at", "ends_at", "mode", "area_codes")
	in := RoundInput{Mode: Mode(vals.Get("mode")), AreaCodes: strings.FieldsFunc(vals.Get("area_codes"), func(c rune) bool {
		return c == ',' || c == '，' || c == '、' || c == ' '
	})}
	in.StartsAt, err = formTimeOf(vals.Get("starts_at"), "starts_at")
	if err == nil {
		in.EndsAt, err = formTimeOf(vals.Get("ends_at"), "ends_at")
	}
	var round *Round
	if err == nil {
		round, err = pg.svc.CreateRound(r.Context(), p, r.PathValue("id"), in)
	}
	if err != nil {
		if web.FormStatus(err) == 0 {
			return err
		}
		f := web.NewForm(vals)
		pg.render.Fail(f, r, err)
		return pg.campaignPage(w, r, p, web.FormStatus(err), f)
	}
	return web.SeeOther(w, r, fmt.Sprintf("/testing/rounds/%d", round.ID), "testing.flash.round")
}

// CloseRoundSubmit ends a round (POST /testing/rounds/{id}/close).
func (pg *Pages) CloseRoundSubmit(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	if err := web.ParseForm(w, r, pageMaxForm); err != nil {
		return err
	}
	round, err := pg.svc.CloseRound(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	return web.SeeOther(w, r, fmt.Sprintf("/testing/rounds/%d", round.ID), "testing.flash.closed")
}

// ExemptSubmit exempts a resident of the missed list (POST
// /testing/rounds/{id}/exemptions: resident, reason, note; area and page
// to go back to).
func (pg *Pages) ExemptSubmit(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	if err := web.ParseForm(w, r, pageMaxForm); err != nil {
		return err
	}
	vals := web.Trimmed(r, "resident", "reason", "note", "area", "page")
	ref := r.PathValue("id")
	back := roundURL(ref, "/missed", vals.Get("area"))
	if page := vals.Get("page"); page != "" && page != "1" {
		sep := "?"
		if strings.Contains(back, "?") {
			sep = "&"
		}
		back += sep + url.Values{"page": {page}}.Encode()
	}
	_, err = pg.svc.Exempt(r.Context(), p, ref, ExemptionInput{Resident: vals.Get("resident"), Reason: ExemptReason(vals.Get("reason")),
		Note: vals.Get("note")})
	if err != nil {
		// A resident not found is told on the list; a round not found is
		// the error page.
		status := web.FormStatus(err)
		if e := errs.As(err); e != nil && e.Kind == errs.NotFound && e.Code != "round_not_found" {
			status = http.StatusNotFound
		}
		if status == 0 {
			return err
		}
		return pg.missedPage(w, r, p, ref, vals.Get("area"), 1, status, pg.render.Message(r, err))
	}
	return web.SeeOther(w, r, back, "testing.flash.exempt")
}

// canSample says whether the missed list offers exemptions to p.
func canSample(p *auth.Principal) bool { return p.Can(auth.TestingSample) }
