package pass

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"tongxin/internal/auth"
	"tongxin/internal/errs"
	"tongxin/internal/web"
)

// approveForm reads an approval form: row (repeated, the rows ticked),
// total (the rows shown; every row ticked approves the whole batch) or
// all=1 (the confirmation of that), note, and reason_N for each row N
// left out. It returns the input and
// the reasons typed, by row, to show again on a refusal.
func approveForm(form url.Values) (ApproveInput, map[int]string, error) {
	in := ApproveInput{Rows: []int{}, Note: form.Get("note")}
	ticked := map[int]bool{}
	for _, v := range form["row"] {
		n, err := strconv.Atoi(v)
		if err != nil {
			return in, nil, errs.Fields("bad_form", "行号无效", errs.FieldError{Field: "row", Message: "行号无效"})
		}
		in.Rows = append(in.Rows, n)
		ticked[n] = true
	}
	reasons := map[int]string{}
	for k, vs := range form {
		num, ok := strings.CutPrefix(k, "reason_")
		if !ok {
			continue
		}
		n, err := strconv.Atoi(num)
		if err != nil {
			return in, nil, errs.Fields("bad_form", "行号无效", errs.FieldError{Field: k, Message: "行号无效"})
		}
		if v := strings.TrimSpace(vs[0]); v != "" {
			reasons[n] = v
		}
	}
	// A reason typed for a row ticked again is dropped: the row is
	// approved.
	for n, v := range reasons {
		if !ticked[n] {
			in.Reasons = append(in.Reasons, RowReason{Row: n, Reason: v})
		}
	}
	if total, err := strconv.Atoi(form.Get("total")); err == nil && total == len(in.Rows) && total > 0 {
		in.Rows = nil // all of them
	}
	if form.Get("all") == "1" && len(in.Rows) == 0 {
		in.Rows = nil // the confirmation of an approval of every row
	}
	return in, reasons, nil
}

// unticked is the rows of b an approval of rows leaves out (nil: none).
func unticked(b *Batch, rows []int) map[int]bool {
	if rows == nil {
		return nil
	}
	ticked := map[int]bool{}
	for _, n := range rows {
		ticked[n] = true
	}
	out := map[int]bool{}
	for _, r := range b.Rows {
		if !ticked[r.Row] {
			out[r.Row] = true
		}
	}
	return out
}

// pageConfirmData is the data of the confirmation of an approval or a
// rejection: what it will do, and the form that does it (the same fields
// again, with confirm=1).
type pageConfirmData struct {
	B       *Batch
	Preview *ApprovalPreview
	Rows    []int // the rows approved; nil for all
	Note    string
	Reason  string // a rejection's
}

// confirmApproval asks the reviewer to confirm an approval with its
// counts (a page: it works without JavaScript).
func (pg *Pages) confirmApproval(w http.ResponseWriter, r *http.Request, pv *ApprovalPreview, in ApproveInput) error {
	d := &pageConfirmData{B: pv.Batch, Preview: pv, Rows: in.Rows, Note: strings.TrimSpace(in.Note)}
	return pg.render.Page(w, r, http.StatusOK, "pass/confirm-approve", pg.render.T(r, "pass.confirm.title", pv.Batch.ID), d)
}

// RevealSubmit shows a row's full ID number once to a reviewer who gives
// a reason (POST /pass-batches/{id}/reveal: row, reason); it is audited.
func (pg *Pages) RevealSubmit(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	if err := web.ParseForm(w, r, 1<<16); err != nil {
		return err
	}
	id, err := web.PathID(r, "id", errBatchNotFound())
	if err != nil {
		return err
	}
	vals := web.Trimmed(r, "row", "reason")
	row, convErr := strconv.Atoi(vals.Get("row"))
	var full string
	if convErr != nil || row <= 0 {
		err = errs.Fields("bad_row", "请填写要查看的行号", errs.FieldError{Field: "row", Message: "请填写行号"})
	} else {
		full, err = pg.svc.RevealID(r.Context(), p, id, row, vals.Get("reason"))
	}
	if err != nil {
		return pg.again(w, r, p, err, func(d *pageBatchData) *web.Form {
			d.RevealForm = web.NewForm(vals)
			return d.RevealForm
		})
	}
	d, err := pg.batchData(r, p)
	if err != nil {
		return err
	}
	d.Revealed = &revealedID{Row: row, ID: full}
	for _, br := range d.B.Rows {
		if br.Row == row {
			d.Revealed.Name = br.Name
		}
	}
	web.NoStore(r)
	w.Header().Set("Cache-Control", "no-store")
	return pg.render.Page(w, r, http.StatusOK, "pass/batch", pg.render.T(r, "pass.batch.title", d.B.ID), d)
}

// pageAreasData is the data of GET /pass-batches/areas.
type pageAreasData struct {
	List        *AreaList
	Enterprises []string // the caller's enterprises, when several
}

// Areas lists the areas an enterprise's passes may name, by name or code
// (GET /pass-batches/areas?enterprise=).
func (pg *Pages) Areas(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	list, err := pg.svc.NamableAreas(r.Context(), p, r.URL.Query().Get("enterprise"))
	if err != nil {
		return err
	}
	d := &pageAreasData{List: list}
	if refs := p.Refs(auth.EnterpriseContact); len(refs) > 1 {
		d.Enterprises = refs
	}
	return pg.render.Page(w, r, http.StatusOK, "pass/areas", "pass.areas.title", d)
}
