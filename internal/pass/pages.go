package pass

import (
	"embed"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"tongxin/internal/auth"
	"tongxin/internal/errs"
	"tongxin/internal/importer"
	"tongxin/internal/web"
)

// Templates are the HTML templates of the pass pages.
//
//go:embed templates/*.html
var Templates embed.FS

// Pages serves the HTML pages of passes.
type Pages struct {
	svc    *Service
	render *web.Renderer
}

// NewPages builds the pages over svc, drawn by render.
func NewPages(svc *Service, render *web.Renderer) *Pages { return &Pages{svc: svc, render: render} }

// pageBatchesData is the data of GET /pass-batches.
type pageBatchesData struct {
	Batches     []Batch
	Status      string // the status filter, "" for all
	Statuses    []BatchStatus
	Reviewer    bool
	MayApply    bool
	Enterprises []string // the caller's own enterprises, when several
	Form        *web.Form
	Errors      web.RowErrors // per-row problems of a refused upload
	// Passes per enterprise (PassRead), over the period From–To (days as
	// typed, "" for totals); StatsError says why a period was refused.
	ShowStats   bool
	Stats       []EnterpriseStats
	Period      StatsQuery
	From, To    string
	StatsError  string
	StatsExport string
}

func (pg *Pages) batchesData(r *http.Request, p *auth.Principal) (*pageBatchesData, error) {
	d := &pageBatchesData{Statuses: BatchStatuses, Reviewer: p.Can(auth.PassReview), MayApply: p.Can(auth.PassApply),
		Form: web.NewForm(nil)}
	if refs := p.Refs(auth.EnterpriseContact); len(refs) > 1 {
		d.Enterprises = refs
	}
	q := r.URL.Query()
	d.Status = q.Get("status")
	if _, set := q["status"]; !set && d.Reviewer {
		d.Status = string(Submitted) // a reviewer lands on the queue
	}
	f := BatchFilter{Limit: 200}
	if d.Status != "" {
		if !validBatchStatus(BatchStatus(d.Status)) {
			return nil, badFilter("status", "未知状态 "+d.Status)
		}
		f.Statuses = []BatchStatus{BatchStatus(d.Status)}
	}
	var err error
	if d.Batches, err = pg.svc.ListBatches(r.Context(), p, f); err != nil {
		return nil, err
	}
	if d.ShowStats = p.Can(auth.PassRead); d.ShowStats {
		d.From, d.To = strings.TrimSpace(q.Get("from")), strings.TrimSpace(q.Get("to"))
		d.StatsExport = "/api/v1/passes/stats.xlsx"
		d.Period, err = ParseStatsPeriod(d.From, d.To, pg.svc.clock.Now())
		if err != nil {
			if !errs.Is(err, errs.Invalid) {
				return nil, err
			}
			d.StatsError = pg.render.Message(r, err)
			return d, nil
		}
		if d.Period.Period() {
			v := url.Values{}
			if d.From != "" {
				v.Set("from", d.From)
			}
			if d.To != "" {
				v.Set("to", d.To)
			}
			d.StatsExport += "?" + v.Encode()
		}
		if d.Stats, err = pg.svc.Stats(r.Context(), p, d.Period); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// Batches shows the review queue (reviewers) or the caller's batches
// (contacts) with the upload form (GET /pass-batches?status=).
func (pg *Pages) Batches(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	if _, err := reads(p, "pass.Batches"); err != nil {
		return err
	}
	d, err := pg.batchesData(r, p)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if d.StatsError != "" {
		status = http.StatusBadRequest
	}
	return pg.render.Page(w, r, status, "pass/batches", "pass.batches.title", d)
}

// formStatus is the status of a form shown again after err, 0 for errors
// the handler returns instead.
func formStatus(err error) int {
	switch {
	case errs.Is(err, errs.Unauthorized):
		return 0
	case errs.Is(err, errs.TooLarge):
		return http.StatusRequestEntityTooLarge
	case errs.Is(err, errs.NotFound):
		return http.StatusNotFound
	}
	return web.FormStatus(err)
}

// UploadSubmit uploads a batch from the form (POST /pass-batches,
// multipart: file, enterprise) and shows it; a refused file shows the list
// again with every bad row.
func (pg *Pages) UploadSubmit(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	in, err := ReadBatchUpload(w, r)
	var b *Batch
	if err == nil {
		b, err = pg.svc.Upload(r.Context(), p, in)
	}
	if err != nil {
		status := formStatus(err)
		if status == 0 {
			return err
		}
		r.URL.RawQuery = ""
		d, derr := pg.batchesData(r, p)
		if derr != nil {
			return derr
		}
		d.Form = web.NewForm(url.Values{"enterprise": {in.Enterprise}})
		pg.render.Fail(d.Form, r, err)
		d.Errors = web.RowErrorsOf(err)
		return pg.render.Page(w, r, status, "pass/batches", "pass.batches.title", d)
	}
	web.SetFlash(w, "pass.flash.uploaded")
	target := "/pass-batches/" + strconv.FormatInt(b.ID, 10)
	if len(b.IgnoredColumns) > 0 {
		target += "?" + url.Values{"ignored": b.IgnoredColumns}.Encode()
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
	return nil
}

// pageBatchData is the data of GET /pass-batches/{id}.
type pageBatchData struct {
	B          *Batch
	MayReview  bool
	ReviewForm *web.Form
	RejectForm *web.Form
	Quota      *Quota
	Errors     web.RowErrors // rows a refused approval names
	// Ignored names the columns the upload did not read (?ignored=, set
	// by the upload's redirect), at most maxIgnoredShown, joined by "、".
	Ignored string
	// AreaNames names the rows' area codes.
	AreaNames map[string]string
	// MayReveal offers the reveal form (MayRevealID); Revealed is the row
	// whose ID number was just revealed.
	MayReveal  bool
	RevealForm *web.Form
	Revealed   *revealedID
	// Reasons and Unticked are the per-row reasons and rows left out of a
	// refused approval, shown again.
	Reasons  map[int]string
	Unticked map[int]bool
}

// revealedID is a row's full ID number shown once.
type revealedID struct {
	Row      int
	Name, ID string
}

// maxIgnoredShown bounds the ignored columns a batch page repeats.
const maxIgnoredShown = 20

func (pg *Pages) batchData(r *http.Request, p *auth.Principal) (*pageBatchData, error) {
	id, err := web.PathID(r, "id", errBatchNotFound())
	if err != nil {
		return nil, err
	}
	b, err := pg.svc.GetBatch(r.Context(), p, id)
	if err != nil {
		return nil, err
	}
	d := &pageBatchData{B: b, MayReview: b.Status == Submitted && p.Covers(auth.PassReview, b.AreaPath),
		ReviewForm: web.NewForm(nil), RejectForm: web.NewForm(nil), RevealForm: web.NewForm(nil), MayReveal: MayRevealID(p, b)}
	var ignored []string
	for _, c := range r.URL.Query()["ignored"] {
		if c = importer.Short(c); c != "" && len(ignored) < maxIgnoredShown {
			ignored = append(ignored, c)
		}
	}
	d.Ignored = strings.Join(ignored, "、")
	var codes [][]string
	for _, row := range b.Rows {
		codes = append(codes, row.Areas)
	}
	if d.AreaNames, err = pg.svc.areaNames(r.Context(), codes...); err != nil {
		return nil, err
	}
	if q, err := pg.svc.GetQuota(r.Context(), p, b.EnterpriseKey); err == nil {
		d.Quota = q
	}
	return d, nil
}

// Batch shows a batch: its rows with decisions and passes, and for a
// reviewer the approve and reject forms.
func (pg *Pages) Batch(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	d, err := pg.batchData(r, p)
	if err != nil {
		return err
	}
	return pg.render.Page(w, r, http.StatusOK, "pass/batch", pg.render.T(r, "pass.batch.title", d.B.ID), d)
}

// ApproveSubmit approves the checked rows (POST /pass-batches/{id}/approve:
// row (repeated), note); every row checked approves the whole batch.
func (pg *Pages) ApproveSubmit(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	if err := web.ParseForm(w, r, 1<<20); err != nil {
		return err
	}
	id, err := web.PathID(r, "id", errBatchNotFound())
	if err != nil {
		return err
	}
	in, reasons, err := approveForm(r.PostForm)
	if err != nil {
		return err
	}
	refused := func(err error) error {
		return pg.again(w, r, p, err, func(d *pageBatchData) *web.Form {
			d.ReviewForm = web.NewForm(url.Values{"note": {in.Note}})
			d.Reasons, d.Unticked = reasons, unticked(d.B, in.Rows)
			return d.ReviewForm
		})
	}
	if r.PostForm.Get("confirm") != "1" {
		pv, err := pg.svc.PreviewApproval(r.Context(), p, id, in)
		if err != nil {
			return refused(err)
		}
		return pg.confirmApproval(w, r, pv, in)
	}
	if _, err := pg.svc.Approve(r.Context(), p, id, in); err != nil {
		return refused(err)
	}
	web.SetFlash(w, "pass.flash.approved")
	http.Redirect(w, r, "/pass-batches/"+strconv.FormatInt(id, 10), http.StatusSeeOther)
	return nil
}

// RejectSubmit rejects the batch (POST /pass-batches/{id}/reject: reason).
func (pg *Pages) RejectSubmit(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	if err := web.ParseForm(w, r, 1<<20); err != nil {
		return err
	}
	id, err := web.PathID(r, "id", errBatchNotFound())
	if err != nil {
		return err
	}
	reason := r.PostForm.Get("reason")
	refused := func(err error) error {
		return pg.again(w, r, p, err, func(d *pageBatchData) *web.Form {
			d.RejectForm = web.NewForm(url.Values{"reason": {reason}})
			return d.RejectForm
		})
	}
	if r.PostForm.Get("confirm") != "1" {
		b, err := pg.svc.PreviewReject(r.Context(), p, id, ReasonInput{Reason: reason})
		if err != nil {
			return refused(err)
		}
		return pg.render.Page(w, r, http.StatusOK, "pass/confirm-reject", pg.render.T(r, "pass.confirm.title", b.ID),
			&pageConfirmData{B: b, Reason: strings.TrimSpace(reason)})
	}
	if _, err := pg.svc.Reject(r.Context(), p, id, ReasonInput{Reason: reason}); err != nil {
		return refused(err)
	}
	web.SetFlash(w, "pass.flash.rejected")
	http.Redirect(w, r, "/pass-batches/"+strconv.FormatInt(id, 10), http.StatusSeeOther)
	return nil
}

// again shows the batch again with a refused form.
func (pg *Pages) again(w http.ResponseWriter, r *http.Request, p *auth.Principal, err error, form func(*pageBatchData) *web.Form) error {
	status := formStatus(err)
	if status == 0 || status == http.StatusNotFound {
		return err
	}
	d, derr := pg.batchData(r, p)
	if derr != nil {
		return derr
	}
	pg.render.Fail(form(d), r, err)
	d.Errors = web.RowErrorsOf(err)
	return pg.render.Page(w, r, status, "pass/batch", pg.render.T(r, "pass.batch.title", d.B.ID), d)
}

// Card is one printed pass.
type Card struct {
	Pass
	QR template.HTML // inline SVG
}

// pageCardsData is the data of the card sheet: cards in pages of eight.
type pageCardsData struct {
	B         *Batch
	Pages     [][]Card
	AreaNames map[string]string // the passes' area codes named
}

// CardsPerPage is how many cards an A4 sheet holds.
const CardsPerPage = 8

// Cards is the printable A4 sheet of a batch's passes (GET
// /pass-batches/{id}/cards): eight cards per page, masked name,
// enterprise, validity and QR.
func (pg *Pages) Cards(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", errBatchNotFound())
	if err != nil {
		return err
	}
	b, err := pg.svc.GetBatchBrief(r.Context(), p, id)
	if err != nil {
		return err
	}
	passes, err := pg.svc.BatchPasses(r.Context(), p, id)
	if err != nil {
		return err
	}
	d := &pageCardsData{B: b}
	var codes [][]string
	for _, ps := range passes {
		codes = append(codes, ps.Areas)
	}
	if d.AreaNames, err = pg.svc.areaNames(r.Context(), codes...); err != nil {
		return err
	}
	for i, ps := range passes {
		svg, err := QRSVG(ps.Token)
		if err != nil {
			return err
		}
		if i%CardsPerPage == 0 {
			d.Pages = append(d.Pages, nil)
		}
		// The SVG is drawn by QRSVG from numbers only: safe to inline.
		d.Pages[len(d.Pages)-1] = append(d.Pages[len(d.Pages)-1], Card{Pass: ps, QR: template.HTML(svg)})
	}
	return pg.render.Page(w, r, http.StatusOK, "pass/cards", pg.render.T(r, "pass.cards.title", b.ID), d)
}

// NavItems are the menu entries of passes: the batches (review queue or
// one's own applications), with the number of batches waiting for a
// reviewer.
func NavItems(svc *Service) []web.NavItem {
	var roles []auth.Role
	for _, r := range auth.Roles {
		if auth.RoleHas(r, auth.PassApply) && !slices.Contains(roles, r) {
			roles = append(roles, r)
		}
	}
	return []web.NavItem{
		{Key: "pass.nav.batches", DescKey: "pass.card.batches", Path: "/pass-batches", Perm: auth.PassRead, Roles: roles,
			Count: reviewCount(svc)},
	}
}
