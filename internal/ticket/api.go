package ticket

import (
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"tongxin/internal/auth"
	"tongxin/internal/errs"
	"tongxin/internal/web"
)

// API serves the JSON routes of tickets.
type API struct{ svc *Service }

// NewAPI builds the handlers.
func NewAPI(svc *Service) *API { return &API{svc: svc} }

// Create answers POST /api/v1/tickets with 201 and the new ticket.
func (a *API) Create(w http.ResponseWriter, r *http.Request) error {
	return web.Decode(w, r, http.StatusCreated, a.svc.Create)
}

// Get answers GET /api/v1/tickets/{id} (an id or a tracking number).
func (a *API) Get(w http.ResponseWriter, r *http.Request) error {
	return web.Answer(w, r, func(ctx context.Context, p *auth.Principal) (*Ticket, error) {
		return a.svc.Get(ctx, p, r.PathValue("id"))
	})
}

func badFilter(field, msg string) error {
	return &errs.Error{Kind: errs.Invalid, Code: "bad_filter", Message: msg, Fields: []errs.FieldError{{Field: field, Message: msg}}}
}

// ParseFilter reads the list filters of a query string: status (repeated
// or comma-separated; "open" for every open status), department, area
// (repeated), category, kind, enterprise, overdue, expiring, mine, holder, q.
func ParseFilter(r *http.Request) (Filter, error) {
	q := r.URL.Query()
	var f Filter
	for _, v := range q["status"] {
		for _, s := range strings.Split(v, ",") {
			s = strings.TrimSpace(s)
			if s == "" {
				continue
			}
			if s == "open" {
				f.Statuses = append(f.Statuses, New, Assigned, InProgress, Reopened)
				continue
			}
			st, ok := ParseStatus(s)
			if !ok {
				return f, badFilter("status", "未知状态 "+s)
			}
			f.Statuses = append(f.Statuses, st)
		}
	}
	f.Department = strings.TrimSpace(q.Get("department"))
	for _, code := range q["area"] {
		if code = strings.TrimSpace(code); code != "" {
			f.Areas = append(f.Areas, code)
		}
	}
	f.Category = strings.TrimSpace(q.Get("category"))
	f.Enterprise = strings.TrimSpace(q.Get("enterprise"))
	if k := strings.TrimSpace(q.Get("kind")); k != "" {
		if !slices.Contains(Kinds, Kind(k)) {
			return f, badFilter("kind", "未知种类 "+k)
		}
		f.Kind = Kind(k)
	}
	for _, b := range []struct {
		name string
		dst  *bool
	}{{"overdue", &f.Overdue}, {"expiring", &f.Expiring}, {"mine", &f.Mine}} {
		switch v := q.Get(b.name); v {
		case "":
		case "true", "1":
			*b.dst = true
		case "false", "0":
		default:
			return f, badFilter(b.name, b.name+" 须为 true 或 false")
		}
	}
	f.Holder = strings.TrimSpace(q.Get("holder"))
	f.Query = q.Get("q")
	return f, nil
}

// List answers GET /api/v1/tickets?status=&department=&area=&overdue=true
// &expiring=true&category=&kind=&enterprise=&mine=&holder=&q=&limit=&cursor=, newest first.
func (a *API) List(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	page, err := web.ParsePage(r, DefaultListLimit, MaxListLimit)
	if err != nil {
		return err
	}
	f, err := ParseFilter(r)
	if err != nil {
		return err
	}
	if page.Cursor != "" {
		id, err := strconv.ParseInt(page.Cursor, 10, 64)
		if err != nil || id <= 0 {
			return errs.E(errs.Invalid, "bad_cursor", "cursor 无效")
		}
		f.Before = id
	}
	f.Limit = page.Limit + 1
	list, err := a.svc.List(r.Context(), p, f)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, web.NewPage(list, page.Limit, func(t *Ticket) string { return strconv.FormatInt(t.ID, 10) }))
}

// Transition answers POST /api/v1/tickets/{id}/transitions.
func (a *API) Transition(w http.ResponseWriter, r *http.Request) error {
	return web.Decode(w, r, http.StatusOK, func(ctx context.Context, p *auth.Principal, in TransitionInput) (*Ticket, error) {
		return a.svc.Transition(ctx, p, r.PathValue("id"), in)
	})
}

// Comment answers POST /api/v1/tickets/{id}/comments with 201 and the
// timeline entry.
func (a *API) Comment(w http.ResponseWriter, r *http.Request) error {
	return web.Decode(w, r, http.StatusCreated, func(ctx context.Context, p *auth.Principal, in CommentInput) (*Event, error) {
		return a.svc.Comment(ctx, p, r.PathValue("id"), in)
	})
}

// Merge answers POST /api/v1/tickets/{id}/merge ({"into":"WT…","note":"…"}).
func (a *API) Merge(w http.ResponseWriter, r *http.Request) error {
	return web.Decode(w, r, http.StatusOK, func(ctx context.Context, p *auth.Principal, in MergeInput) (*Ticket, error) {
		return a.svc.Merge(ctx, p, r.PathValue("id"), in)
	})
}

// RevealInput is the reason for seeing a full phone number.
type RevealInput struct {
	Reason string `json:"reason"`
}

// RevealPhone answers POST /api/v1/tickets/{id}/reveal-phone.
func (a *API) RevealPhone(w http.ResponseWriter, r *http.Request) error {
	return web.Decode(w, r, http.StatusOK, func(ctx context.Context, p *auth.Principal, in RevealInput) (map[string]string, error) {
		phone, err := a.svc.RevealPhone(ctx, p, r.PathValue("id"), in.Reason)
		if err != nil {
			return nil, err
		}
		web.NoStore(r) // the full number is not kept for replays
		return map[string]string{"phone": phone}, nil
	})
}

// AddPhoto answers POST /api/v1/tickets/{id}/photos: the body is the image
// itself (image/jpeg, image/png, image/webp, image/gif) or
// multipart/form-data with a "file" field.
func (a *API) AddPhoto(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	b, err := ReadPhoto(w, r)
	if err != nil {
		return err
	}
	ph, err := a.svc.AddPhoto(r.Context(), p, r.PathValue("id"), b)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusCreated, ph)
}

func photoTooLarge() error {
	return &errs.Error{Kind: errs.TooLarge, Code: "photo_too_large", Message: "照片不能超过 5 MB",
		Fields: []errs.FieldError{{Field: "file", Message: "超过 5 MB"}}}
}

// ReadPhoto reads one image from a raw or multipart body, at most
// MaxPhotoBytes.
func ReadPhoto(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return nil, errs.E(errs.Unsupported, "unsupported_media_type", "请上传图片（image/jpeg、image/png、image/webp、image/gif），或以 multipart/form-data 的 file 字段提交")
	}
	body := http.MaxBytesReader(w, r.Body, MaxPhotoBytes+1<<20)
	var b []byte
	switch {
	case strings.HasPrefix(mt, "image/") || mt == "application/octet-stream":
		b, err = io.ReadAll(io.LimitReader(body, MaxPhotoBytes+1))
	case mt == "multipart/form-data" && params["boundary"] != "":
		mr := multipart.NewReader(body, params["boundary"])
		for {
			part, perr := mr.NextPart()
			if errors.Is(perr, io.EOF) {
				return nil, &errs.Error{Kind: errs.Invalid, Code: "invalid_photo", Message: "请选择照片",
					Fields: []errs.FieldError{{Field: "file", Message: "缺少 file 字段"}}}
			}
			if perr != nil {
				err = perr
				break
			}
			if part.FormName() == "file" {
				b, err = io.ReadAll(io.LimitReader(part, MaxPhotoBytes+1))
				break
			}
		}
	default:
		return nil, errs.E(errs.Unsupported, "unsupported_media_type", "请上传图片（image/jpeg、image/png、image/webp、image/gif），或以 multipart/form-data 的 file 字段提交")
	}
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, photoTooLarge()
		}
		return nil, &errs.Error{Kind: errs.Invalid, Code: "bad_form", Message: "上传内容无法读取", Err: err}
	}
	if len(b) > MaxPhotoBytes {
		return nil, photoTooLarge()
	}
	return b, nil
}

// Photo answers GET /api/v1/tickets/{id}/photos/{photo}.
func (a *API) Photo(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	pid, err := web.PathID(r, "photo", errs.E(errs.NotFound, "photo_not_found", "照片不存在"))
	if err != nil {
		return err
	}
	ph, f, err := a.svc.PhotoFile(r.Context(), p, r.PathValue("id"), pid)
	if err != nil {
		return err
	}
	defer f.Close()
	h := w.Header()
	h.Set("Content-Type", ph.MediaType)
	h.Set("Content-Length", strconv.Itoa(ph.Size))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "private, no-store") // a personal photo: in no cache, shared or not
	w.WriteHeader(http.StatusOK)
	_, err = io.Copy(w, f)
	return err
}

// Policies answers GET /api/v1/ticket-policies.
func (a *API) Policies(w http.ResponseWriter, r *http.Request) error {
	return web.List(w, r, a.svc.Policies)
}

// SetPolicy answers PUT /api/v1/ticket-policies/{category}.
func (a *API) SetPolicy(w http.ResponseWriter, r *http.Request) error {
	return web.Decode(w, r, http.StatusOK, func(ctx context.Context, p *auth.Principal, in PolicyInput) (*CategoryPolicy, error) {
		return a.svc.SetPolicy(ctx, p, r.PathValue("category"), in)
	})
}

// Categories answers GET /api/v1/ticket-categories (any signed-in user:
// forms need them).
func (a *API) Categories(w http.ResponseWriter, r *http.Request) error {
	return web.List(w, r, func(ctx context.Context, p *auth.Principal) ([]Category, error) {
		return a.svc.Categories(ctx)
	})
}

// SaveCategory answers PUT /api/v1/ticket-categories/{code}.
func (a *API) SaveCategory(w http.ResponseWriter, r *http.Request) error {
	return web.Decode(w, r, http.StatusOK, func(ctx context.Context, p *auth.Principal, in Category) (*Category, error) {
		if in.Code != "" && in.Code != r.PathValue("code") {
			return nil, badFilter("code", "请求体中的 code 与地址不一致")
		}
		in.Code = r.PathValue("code")
		return a.svc.SaveCategory(ctx, p, in)
	})
}

// Routes answers GET /api/v1/ticket-routes.
func (a *API) Routes(w http.ResponseWriter, r *http.Request) error {
	return web.List(w, r, a.svc.Routes)
}

// SaveRoute answers PUT /api/v1/ticket-routes: creates or replaces the
// rule of (category, area_code).
func (a *API) SaveRoute(w http.ResponseWriter, r *http.Request) error {
	return web.Decode(w, r, http.StatusOK, a.svc.SaveRoute)
}

// DeleteRoute answers DELETE /api/v1/ticket-routes/{id} with 204.
func (a *API) DeleteRoute(w http.ResponseWriter, r *http.Request) error {
	return web.NoContentID(w, r, errs.E(errs.NotFound, "route_not_found", "分派规则不存在"), a.svc.DeleteRoute)
}

// Stats answers GET /api/v1/tickets/stats?area=&from=&to= (dates
// YYYY-MM-DD in Asia/Shanghai, inclusive; the last 14 days by default).
func (a *API) Stats(w http.ResponseWriter, r *http.Request) error {
	return web.Answer(w, r, func(ctx context.Context, p *auth.Principal) (*Stats, error) {
		q := r.URL.Query()
		from, to, err := DayRange(q.Get("from"), q.Get("to"), a.svc.clock.Now())
		if err != nil {
			return nil, err
		}
		return a.svc.Stats(ctx, p, StatsQuery{Areas: q["area"], From: from, To: to})
	})
}

// PublicFile answers POST /api/v1/public/help (no login) with 201 and the
// tracking number.
func (a *API) PublicFile(w http.ResponseWriter, r *http.Request) error {
	var in PublicInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	rc, err := a.svc.FilePublic(r.Context(), web.ClientAddr(r), in)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusCreated, rc)
}

// PublicStatusInput asks for a request's status.
type PublicStatusInput struct {
	Tracking   string `json:"tracking"`
	PhoneLast4 string `json:"phone_last4"`
}

// PublicStatus answers POST /api/v1/public/help/status (no login): the
// tracking number and the last four digits of the phone are in the body,
// so that they stay out of access logs.
func (a *API) PublicStatus(w http.ResponseWriter, r *http.Request) error {
	var in PublicStatusInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	v, err := a.svc.PublicStatus(r.Context(), web.ClientAddr(r), in.Tracking, in.PhoneLast4)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, v)
}

// PublicConfirmInput is a resident's answer to a resolution.
type PublicConfirmInput struct {
	Tracking   string `json:"tracking"`
	PhoneLast4 string `json:"phone_last4"`
	Satisfied  *bool  `json:"satisfied"`
	Note       string `json:"note"`
}

// PublicConfirm answers POST /api/v1/public/help/confirm (no login).
func (a *API) PublicConfirm(w http.ResponseWriter, r *http.Request) error {
	var in PublicConfirmInput
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.Satisfied == nil {
		return &errs.Error{Kind: errs.Invalid, Code: "invalid_confirm", Message: "请选择是否已解决",
			Fields: []errs.FieldError{{Field: "satisfied", Message: "必填：true 或 false"}}}
	}
	v, err := a.svc.PublicConfirm(r.Context(), web.ClientAddr(r), in.Tracking, in.PhoneLast4, *in.Satisfied, in.Note)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, v)
}

// Sweep answers POST /api/v1/tickets/sweep: one sweeper pass now, for the
// system administrator (operations and drills).
func (a *API) Sweep(w http.ResponseWriter, r *http.Request) error {
	return web.Answer(w, r, func(ctx context.Context, p *auth.Principal) (SweepResult, error) {
		if err := auth.Require(p, auth.TicketManage, "ticket.Sweep"); err != nil {
			return SweepResult{}, err
		}
		return a.svc.Sweep(ctx)
	})
}
