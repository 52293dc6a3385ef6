package pass

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/errs"
	"tongxin/internal/importer"
	"tongxin/internal/web"
)

// API serves the JSON routes of passes.
type API struct{ svc *Service }

// NewAPI builds the handlers.
func NewAPI(svc *Service) *API { return &API{svc: svc} }

// ReadBatchUpload reads a batch upload: the file itself as the body (CSV
// or XLSX, see importer.ReadUpload) with ?enterprise=, or
// multipart/form-data with a "file" and an optional "enterprise" field.
func ReadBatchUpload(w http.ResponseWriter, r *http.Request) (UploadInput, error) {
	in := UploadInput{Enterprise: r.URL.Query().Get("enterprise")}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		data, err := importer.ReadUpload(w, r, web.MaxUploadBody)
		in.Data = data
		return in, err
	}
	r.Body = http.MaxBytesReader(w, r.Body, web.MaxUploadBody)
	err := r.ParseMultipartForm(8 << 20)
	if r.MultipartForm != nil {
		defer r.MultipartForm.RemoveAll()
	}
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return in, &errs.Error{Kind: errs.TooLarge, Code: "body_too_large", Message: "上传的文件太大，最大允许 20 MB", Err: err}
		}
		return in, &errs.Error{Kind: errs.Invalid, Code: "import_unreadable", Message: "上传的表单无法读取，请重新上传", Err: err}
	}
	if v := r.MultipartForm.Value["enterprise"]; len(v) > 0 && strings.TrimSpace(v[0]) != "" {
		in.Enterprise = v[0]
	}
	files := r.MultipartForm.File["file"]
	if len(files) == 0 {
		return in, errs.E(errs.Invalid, "import_no_file", "上传的表单中没有名为 file 的文件字段")
	}
	fh := files[0]
	in.FileName = fh.Filename
	f, err := fh.Open()
	if err != nil {
		return in, err
	}
	defer f.Close()
	if in.Data, err = io.ReadAll(f); err != nil {
		return in, err
	}
	if len(in.Data) == 0 {
		return in, errs.E(errs.Invalid, "import_empty", "文件为空或没有表头行，请使用导入模板填写后再上传")
	}
	return in, nil
}

// Upload answers POST /api/v1/pass-batches with 201 and the batch.
func (a *API) Upload(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	if err := auth.Require(p, auth.PassApply, "pass.Upload"); err != nil {
		return err
	}
	in, err := ReadBatchUpload(w, r)
	if err != nil {
		return err
	}
	b, err := a.svc.Upload(r.Context(), p, in)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusCreated, b)
}

// Template answers GET /api/v1/pass-batches/template (?format=csv|xlsx).
func (a *API) Template(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	return web.ServeTemplate(w, r, a.svc.TemplateSpec(r.Context(), p))
}

func badFilter(field, msg string) error {
	return &errs.Error{Kind: errs.Invalid, Code: "bad_filter", Message: msg, Fields: []errs.FieldError{{Field: field, Message: msg}}}
}

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

// ListBatches answers GET /api/v1/pass-batches?status=&enterprise=&limit=&cursor=.
func (a *API) ListBatches(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	page, err := web.ParsePage(r, DefaultListLimit, MaxListLimit)
	if err != nil {
		return err
	}
	f := BatchFilter{Enterprise: r.URL.Query().Get("enterprise"), Limit: page.Limit + 1}
	for _, v := range r.URL.Query()["status"] {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s == "" {
				continue
			}
			if !validBatchStatus(BatchStatus(s)) {
				return badFilter("status", "未知状态 "+s)
			}
			f.Statuses = append(f.Statuses, BatchStatus(s))
		}
	}
	if f.Before, err = cursorID(page); err != nil {
		return err
	}
	list, err := a.svc.ListBatches(r.Context(), p, f)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, web.NewPage(list, page.Limit, func(b Batch) string { return strconv.FormatInt(b.ID, 10) }))
}

func validBatchStatus(s BatchStatus) bool {
	for _, x := range BatchStatuses {
		if x == s {
			return true
		}
	}
	return false
}

// GetBatch answers GET /api/v1/pass-batches/{id} with its rows.
func (a *API) GetBatch(w http.ResponseWriter, r *http.Request) error {
	return web.AnswerID(w, r, errBatchNotFound(), a.svc.GetBatch)
}

// Approve answers POST /api/v1/pass-batches/{id}/approve ({"rows":[2,3],"note":"…",
// "reasons":[{"row":4,"reason":"…"}]}; rows omitted approves every row,
// and each row left out needs a reason).
func (a *API) Approve(w http.ResponseWriter, r *http.Request) error {
	return web.DecodeID(w, r, http.StatusOK, errBatchNotFound(), a.svc.Approve)
}

// Reject answers POST /api/v1/pass-batches/{id}/reject ({"reason":"…"}).
func (a *API) Reject(w http.ResponseWriter, r *http.Request) error {
	return web.DecodeID(w, r, http.StatusOK, errBatchNotFound(), a.svc.Reject)
}

// BatchPasses answers GET /api/v1/pass-batches/{id}/passes: the passes
// issued for the batch, with their tokens.
func (a *API) BatchPasses(w http.ResponseWriter, r *http.Request) error {
	return web.AnswerID(w, r, errBatchNotFound(), func(ctx context.Context, p *auth.Principal, id int64) (web.Items[Pass], error) {
		list, err := a.svc.BatchPasses(ctx, p, id)
		if list == nil {
			list = []Pass{}
		}
		return web.Items[Pass]{Items: list}, err
	})
}

// JWKS answers GET /api/v1/passes/jwks.json, public.
func (a *API) JWKS(w http.ResponseWriter, r *http.Request) error {
	set, err := a.svc.JWKS(r.Context())
	if err != nil {
		return err
	}
	return publicJSON(w, "public, max-age=300", set)
}

// publicJSON writes v as JSON that any origin may read and caches may keep
// as cacheControl says (web.JSON forbids storing).
func publicJSON(w http.ResponseWriter, cacheControl string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", cacheControl)
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(append(b, '\n'))
	return err
}

// Revocations answers GET /api/v1/passes/revocations?since=SEQ&limit=N,
// public, with an ETag (304 on If-None-Match).
func (a *API) Revocations(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	var since int64
	if v := q.Get("since"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return badFilter("since", "since 须为不小于 0 的整数")
		}
		since = n
	}
	limit, err := web.QueryInt(r, "limit", MaxRevocationPage, 1, MaxRevocationPage)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Cache-Control", "no-cache")
	h.Set("Access-Control-Allow-Origin", "*")
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		tag, err := a.svc.RevocationTag(r.Context(), since, limit)
		if err != nil {
			return err
		}
		if etagMatch(inm, tag) {
			h.Set("ETag", tag)
			w.WriteHeader(http.StatusNotModified)
			return nil
		}
	}
	list, tag, err := a.svc.Revocations(r.Context(), since, limit)
	if err != nil {
		return err
	}
	h.Set("ETag", tag)
	return publicJSON(w, "no-cache", list)
}

// etagMatch reports whether an If-None-Match header names tag (weak
// comparison, as RFC 9110 asks for If-None-Match).
func etagMatch(header, tag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == tag {
			return true
		}
	}
	return false
}

// ListPasses answers GET /api/v1/passes?enterprise=&status=&batch=&limit=&cursor=.
func (a *API) ListPasses(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	page, err := web.ParsePage(r, DefaultListLimit, MaxListLimit)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := PassFilter{Enterprise: q.Get("enterprise"), Status: Status(q.Get("status")), Limit: page.Limit + 1}
	switch f.Status {
	case "", StatusActive, StatusRevoked, StatusExpired:
	default:
		return badFilter("status", "状态须为 active、revoked 或 expired")
	}
	if v := q.Get("batch"); v != "" {
		if f.Batch, err = strconv.ParseInt(v, 10, 64); err != nil || f.Batch <= 0 {
			return badFilter("batch", "batch 须为批次编号")
		}
	}
	if f.Before, err = cursorID(page); err != nil {
		return err
	}
	list, err := a.svc.ListPasses(r.Context(), p, f)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, web.NewPage(list, page.Limit, func(p Pass) string { return strconv.FormatInt(p.id, 10) }))
}

// GetPass answers GET /api/v1/passes/{pid} with its token.
func (a *API) GetPass(w http.ResponseWriter, r *http.Request) error {
	return web.Answer(w, r, func(ctx context.Context, p *auth.Principal) (*Pass, error) {
		return a.svc.GetPass(ctx, p, r.PathValue("pid"))
	})
}

// Revoke answers POST /api/v1/passes/{pid}/revoke ({"reason":"…"}).
func (a *API) Revoke(w http.ResponseWriter, r *http.Request) error {
	return web.Decode(w, r, http.StatusOK, func(ctx context.Context, p *auth.Principal, in ReasonInput) (*Pass, error) {
		return a.svc.Revoke(ctx, p, r.PathValue("pid"), in)
	})
}

// RevokeEnterprise answers POST /api/v1/enterprises/{key}/passes/revoke
// ({"reason":"…"}) with {"revoked":N}.
func (a *API) RevokeEnterprise(w http.ResponseWriter, r *http.Request) error {
	return web.Decode(w, r, http.StatusOK, func(ctx context.Context, p *auth.Principal, in ReasonInput) (*RevokeResult, error) {
		return a.svc.RevokeEnterprise(ctx, p, r.PathValue("key"), in)
	})
}

// Quota answers GET /api/v1/enterprises/{key}/pass-quota.
func (a *API) Quota(w http.ResponseWriter, r *http.Request) error {
	return web.Answer(w, r, func(ctx context.Context, p *auth.Principal) (*Quota, error) {
		return a.svc.GetQuota(ctx, p, r.PathValue("key"))
	})
}

// SetQuota answers PUT /api/v1/enterprises/{key}/pass-quota ({"quota":N};
// null returns to the default).
func (a *API) SetQuota(w http.ResponseWriter, r *http.Request) error {
	return web.Decode(w, r, http.StatusOK, func(ctx context.Context, p *auth.Principal, in QuotaInput) (*Quota, error) {
		return a.svc.SetQuota(ctx, p, r.PathValue("key"), in)
	})
}

// QRSVG answers GET /api/v1/passes/{pid}/qr.svg.
func (a *API) QRSVG(w http.ResponseWriter, r *http.Request) error {
	return a.qr(w, r, "image/svg+xml", func(token string) ([]byte, error) { return QRSVG(token) })
}

// QRPNG answers GET /api/v1/passes/{pid}/qr.png (?scale=1–32 pixels per
// module, default 8).
func (a *API) QRPNG(w http.ResponseWriter, r *http.Request) error {
	scale, err := web.QueryInt(r, "scale", 8, 1, 32)
	if err != nil {
		return err
	}
	return a.qr(w, r, "image/png", func(token string) ([]byte, error) { return QRPNG(token, scale) })
}

func (a *API) qr(w http.ResponseWriter, r *http.Request, mediaType string, draw func(string) ([]byte, error)) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	ps, err := a.svc.GetPass(r.Context(), p, r.PathValue("pid"))
	if err != nil {
		return err
	}
	b, err := draw(ps.Token)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", mediaType)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	h.Set("Cache-Control", "private, no-store")
	_, err = w.Write(b)
	return err
}

// ParseStatsPeriod reads the period of a statistics request: from and to
// are days written YYYY-MM-DD in Asia/Shanghai, both included. Neither
// asks for totals; from alone runs to today, to alone from the first pass.
// A bad date is 400 bad_period naming the field, as web.DayRange answers;
// to before from is 400 bad_period too.
func ParseStatsPeriod(fromS, toS string, now time.Time) (StatsQuery, error) {
	fromS, toS = strings.TrimSpace(fromS), strings.TrimSpace(toS)
	if fromS == "" && toS == "" {
		return StatsQuery{}, nil
	}
	from, to, err := web.DayRange(fromS, toS, now, 1)
	if err != nil {
		return StatsQuery{}, err
	}
	q := StatsQuery{To: to}
	if fromS != "" {
		q.From = from
		if !to.After(from) {
			return StatsQuery{}, &errs.Error{Kind: errs.Invalid, Code: "bad_period", Message: "截止日期早于起始日期",
				Fields: []errs.FieldError{{Field: "to", Message: "早于起始日期"}}}
		}
	}
	return q, nil
}

// statsQuery reads the period of a statistics request (?from=&to=).
func (a *API) statsQuery(r *http.Request) (*auth.Principal, StatsQuery, error) {
	p, err := web.Principal(r)
	if err != nil {
		return nil, StatsQuery{}, err
	}
	q := r.URL.Query()
	sq, err := ParseStatsPeriod(q.Get("from"), q.Get("to"), a.svc.clock.Now())
	return p, sq, err
}

// StatsAnswer is the answer of GET /api/v1/passes/stats: the counts per
// enterprise and the period they cover (days, both included; absent for
// totals).
type StatsAnswer struct {
	Items []EnterpriseStats `json:"items"`
	From  string            `json:"from,omitempty"`
	To    string            `json:"to,omitempty"`
}

// Stats answers GET /api/v1/passes/stats?from=&to=: passes issued and
// revoked per enterprise in reach, in the period or in total.
func (a *API) Stats(w http.ResponseWriter, r *http.Request) error {
	p, sq, err := a.statsQuery(r)
	if err != nil {
		return err
	}
	list, err := a.svc.Stats(r.Context(), p, sq)
	if err != nil {
		return err
	}
	if list == nil {
		list = []EnterpriseStats{}
	}
	return web.JSON(w, http.StatusOK, StatsAnswer{Items: list, From: sq.FirstDay(), To: sq.LastDay()})
}

// StatsXLSX answers GET /api/v1/passes/stats.xlsx?from=&to=.
func (a *API) StatsXLSX(w http.ResponseWriter, r *http.Request) error {
	p, sq, err := a.statsQuery(r)
	if err != nil {
		return err
	}
	b, err := a.svc.StatsXLSX(r.Context(), p, sq)
	if err != nil {
		return err
	}
	return web.Attachment(w, importer.MediaXLSX, statsFileName(sq), b)
}

// statsFileName names the statistics file after its period.
func statsFileName(sq StatsQuery) string {
	switch {
	case !sq.Period():
		return "通行证统计.xlsx"
	case sq.FirstDay() == "":
		return "通行证统计_截至" + sq.LastDay() + ".xlsx"
	}
	return "通行证统计_" + sq.FirstDay() + "至" + sq.LastDay() + ".xlsx"
}

// RevealInput names the row whose full ID number is to be seen and why.
type RevealInput struct {
	Row    int    `json:"row"`
	Reason string `json:"reason"`
}

// RevealID answers POST /api/v1/pass-batches/{id}/reveal-id
// ({"row":3,"reason":"…"}): the row's full ID number, audited.
func (a *API) RevealID(w http.ResponseWriter, r *http.Request) error {
	return web.DecodeID(w, r, http.StatusOK, errBatchNotFound(), func(ctx context.Context, p *auth.Principal, id int64,
		in RevealInput) (map[string]string, error) {
		full, err := a.svc.RevealID(ctx, p, id, in.Row, in.Reason)
		if err != nil {
			return nil, err
		}
		web.NoStore(r) // the full number is not kept for replays
		return map[string]string{"id_number": full}, nil
	})
}
