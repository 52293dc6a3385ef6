package zone

import (
	"net/http"
	"net/url"

	"tongxin/internal/auth"
	"tongxin/internal/web"
)

// pageProposalsData is the data of zone/proposals.
type pageProposalsData struct {
	Status    string
	Proposals []*Proposal
	CanDecide bool
	// Form is the refused form of proposal FormID.
	Form   *web.Form
	FormID int64
}

// proposals builds the queue's data.
func (pg *Pages) proposals(r *http.Request, p *auth.Principal, status string) (*pageProposalsData, error) {
	d := &pageProposalsData{Status: status, CanDecide: p.Can(auth.ZoneDecide), Form: web.NewForm(nil)}
	var err error
	d.Proposals, err = pg.svc.Proposals(r.Context(), p, status, "")
	return d, err
}

// Proposals answers GET /zones/proposals?status=: the proposals to seal a
// building, pending first by default, each with its confirm and decline
// forms.
func (pg *Pages) Proposals(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	status := r.URL.Query().Get("status")
	if _, ok := r.URL.Query()["status"]; !ok {
		status = string(Pending)
	}
	d, err := pg.proposals(r, p, status)
	if err != nil {
		return err
	}
	return pg.render.Page(w, r, http.StatusOK, "zone/proposals", "zone.proposals.title", d)
}

// ConfirmSubmit confirms a proposal (POST /zones/proposals/{id}/confirm:
// decision_no, reason, planned_end).
func (pg *Pages) ConfirmSubmit(w http.ResponseWriter, r *http.Request) error {
	p, id, err := pg.formOn(w, r, errProposalNotFound())
	if err != nil {
		return err
	}
	vals := web.Trimmed(r, "decision_no", "planned_end", "reason")
	in := ConfirmInput{DecisionNo: vals.Get("decision_no"), Reason: vals.Get("reason")}
	in.PlannedEnd, err = formTimeOf(vals.Get("planned_end"), "planned_end")
	var pr *Proposal
	if err == nil {
		pr, err = pg.svc.Confirm(r.Context(), p, id, in)
	}
	if err != nil {
		return pg.refuseProposal(w, r, p, id, vals, err)
	}
	return web.SeeOther(w, r, "/zones/"+itoa(*pr.ZoneID), "zone.flash.confirmed")
}

// DeclineSubmit declines a proposal (POST /zones/proposals/{id}/decline:
// reason).
func (pg *Pages) DeclineSubmit(w http.ResponseWriter, r *http.Request) error {
	p, id, err := pg.formOn(w, r, errProposalNotFound())
	if err != nil {
		return err
	}
	vals := web.Trimmed(r, "reason")
	if _, err := pg.svc.Decline(r.Context(), p, id, DeclineInput{Reason: vals.Get("reason")}); err != nil {
		return pg.refuseProposal(w, r, p, id, vals, err)
	}
	return web.SeeOther(w, r, "/zones/proposals", "zone.flash.declined")
}

// refuseProposal shows the queue again with the refused form of proposal
// id.
func (pg *Pages) refuseProposal(w http.ResponseWriter, r *http.Request, p *auth.Principal, id int64, vals url.Values, err error) error {
	f := web.NewForm(vals)
	return pg.refuse(r, f, err, func(status int) error {
		d, err := pg.proposals(r, p, string(Pending))
		if err != nil {
			return err
		}
		d.Form, d.FormID = f, id
		return pg.render.Page(w, r, status, "zone/proposals", "zone.proposals.title", d)
	})
}
