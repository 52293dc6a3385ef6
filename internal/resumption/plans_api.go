package resumption

import (
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"

	"tongxin/internal/auth"
	"tongxin/internal/errs"
	"tongxin/internal/web"
)

// maxPlanFormField bounds each text field of a plan upload.
const maxPlanFormField = 4 << 10

// planFormFields are the text fields a plan upload may carry.
var planFormFields = map[string]bool{"subject_kind": true, "subject": true, "area_code": true, "title": true}

// readPlanForm reads a multipart/form-data plan upload: the text fields
// and at most one file, streamed with limits rather than spooled to disk.
func readPlanForm(w http.ResponseWriter, r *http.Request) (PlanInput, error) {
	var in PlanInput
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return in, errs.E(errs.Unsupported, "unsupported_media_type",
			"请以 multipart/form-data 表单提交预案（字段 subject_kind、subject、area_code、title 与文件 file）")
	}
	body := http.MaxBytesReader(w, r.Body, MaxPlanFile+1<<20)
	mr := multipart.NewReader(body, params["boundary"])
	fields := map[string]string{}
	seenFile := false
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return in, planFormError(err)
		}
		name := part.FormName()
		switch {
		case name == "file":
			if seenFile {
				return in, errs.E(errs.Invalid, "plan_invalid", "一次只能上传一个预案文件")
			}
			seenFile = true
			b, err := io.ReadAll(io.LimitReader(part, MaxPlanFile+1))
			if err != nil {
				return in, planFormError(err)
			}
			if len(b) > MaxPlanFile {
				io.Copy(io.Discard, part)
				return in, planTooLarge()
			}
			in.File, in.FileName = b, part.FileName()
		case planFormFields[name]:
			b, err := io.ReadAll(io.LimitReader(part, maxPlanFormField+1))
			if err != nil {
				return in, planFormError(err)
			}
			if len(b) > maxPlanFormField {
				return in, &errs.Error{Kind: errs.Invalid, Code: "plan_invalid", Message: "表单字段 " + name + " 过长",
					Fields: []errs.FieldError{{Field: name, Message: "过长"}}}
			}
			fields[name] = string(b)
		default:
			return in, &errs.Error{Kind: errs.Invalid, Code: "unknown_field", Message: "未知字段 " + name,
				Fields: []errs.FieldError{{Field: name, Message: "未知字段"}}}
		}
	}
	in.SubjectKind, in.Subject, in.AreaCode, in.Title = fields["subject_kind"], fields["subject"], fields["area_code"], fields["title"]
	return in, nil
}

func planTooLarge() error {
	return &errs.Error{Kind: errs.TooLarge, Code: "plan_file_too_large", Message: "预案文件不能超过 10 MB",
		Fields: []errs.FieldError{{Field: "file", Message: "文件超过 10 MB"}}}
}

func planFormError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return planTooLarge()
	}
	return &errs.Error{Kind: errs.Invalid, Code: "bad_form", Message: "表单无法解析", Err: err}
}

// SubmitPlan answers POST /api/v1/plans (multipart/form-data: subject_kind,
// subject, area_code for parks, title, file) with 201 and the new version.
func (a *API) SubmitPlan(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	in, err := readPlanForm(w, r)
	if err != nil {
		return err
	}
	pl, err := a.svc.SubmitPlan(r.Context(), p, in)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusCreated, pl)
}

// Plans answers GET /api/v1/plans?subject_kind=&subject= with the versions
// of one subject's plan, newest first.
func (a *API) Plans(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	return web.List(w, r, func(ctx context.Context, p *auth.Principal) ([]Plan, error) {
		return a.svc.Plans(ctx, p, q.Get("subject_kind"), q.Get("subject"))
	})
}

// PlanFile answers GET /api/v1/plans/{id}/file with the stored file, typed
// as it was sniffed at upload, always as an attachment.
func (a *API) PlanFile(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", errPlanNotFound())
	if err != nil {
		return err
	}
	pl, f, err := a.svc.PlanFile(r.Context(), p, id)
	if err != nil {
		return err
	}
	defer f.Close()
	h := w.Header()
	h.Set("Content-Type", pl.MediaType)
	h.Set("Content-Disposition", web.ContentDisposition(pl.FileName))
	h.Set("Content-Length", strconv.FormatInt(pl.FileSize, 10))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "private, no-store")
	w.WriteHeader(http.StatusOK)
	_, err = io.Copy(w, f)
	return err
}

// PlanReview is the body of POST /api/v1/plans/{id}/review.
type PlanReview struct {
	Approve *bool  `json:"approve"`
	Note    string `json:"note"`
}

// ReviewPlan answers POST /api/v1/plans/{id}/review ({"approve":true,
// "note":"…"}) with the reviewed version.
func (a *API) ReviewPlan(w http.ResponseWriter, r *http.Request) error {
	return web.DecodeID(w, r, http.StatusOK, errPlanNotFound(), func(ctx context.Context, p *auth.Principal, id int64, in PlanReview) (*Plan, error) {
		if in.Approve == nil {
			return nil, &errs.Error{Kind: errs.Invalid, Code: "plan_review_invalid", Message: "请用 approve 字段说明通过（true）或退回（false）",
				Fields: []errs.FieldError{{Field: "approve", Message: "必填"}}}
		}
		return a.svc.ReviewPlan(ctx, p, id, *in.Approve, in.Note)
	})
}

// PlansMissing answers GET /api/v1/plans/missing with the enterprises in
// reach whose latest plan is not approved, or that have none.
func (a *API) PlansMissing(w http.ResponseWriter, r *http.Request) error {
	return web.List(w, r, a.svc.WithoutApprovedPlan)
}
