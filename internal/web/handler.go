// Package web is the HTTP kernel: handlers that return errors, one adapter
// that turns error kinds into status codes (problem+json for the API, an
// error page for the browser), JSON decoding with limits, authentication
// middleware, idempotency keys, pagination, templates, i18n and static
// files. Modules mount their handlers on the one route table in
// internal/app/routes.go.
package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"tongxin/internal/auth"
	"tongxin/internal/errs"
)

// Handler is an HTTP handler that returns an error instead of writing it.
type Handler func(w http.ResponseWriter, r *http.Request) error

// Problem is an RFC 9457 problem document.
type Problem struct {
	Type     string            `json:"type"`
	Title    string            `json:"title"`
	Status   int               `json:"status"`
	Code     string            `json:"code"`
	Detail   string            `json:"detail,omitempty"`
	Instance string            `json:"instance,omitempty"`
	Errors   []errs.FieldError `json:"errors,omitempty"`
	// ErrorCount is the number of problems when there are any; Errors
	// lists the first MaxProblemErrors of them.
	ErrorCount int `json:"error_count,omitempty"`
}

// MaxProblemErrors bounds the problems a problem document lists.
const MaxProblemErrors = 100

// StatusOf maps an error kind to an HTTP status.
func StatusOf(k errs.Kind) int {
	switch k {
	case errs.Invalid:
		return http.StatusBadRequest
	case errs.NotFound:
		return http.StatusNotFound
	case errs.Conflict:
		return http.StatusConflict
	case errs.Unauthorized:
		return http.StatusUnauthorized
	case errs.Forbidden:
		return http.StatusForbidden
	case errs.Unavailable:
		return http.StatusServiceUnavailable
	case errs.TooMany:
		return http.StatusTooManyRequests
	case errs.TooLarge:
		return http.StatusRequestEntityTooLarge
	case errs.Unsupported:
		return http.StatusUnsupportedMediaType
	}
	return http.StatusInternalServerError
}

// ProblemOf builds the problem document for err. Internal errors say only
// that something went wrong; their cause is logged, never sent.
func ProblemOf(err error, status int) Problem {
	e := errs.As(err)
	p := Problem{Type: "about:blank", Status: status, Title: http.StatusText(status)}
	if e == nil || e.Kind == errs.Internal {
		p.Code = "internal"
		p.Detail = "服务器内部错误，请稍后重试；如持续出现请联系管理员"
		return p
	}
	p.Code = e.Code
	if p.Code == "" {
		p.Code = string(e.Kind)
	}
	p.Detail = e.Message
	p.Errors = e.Fields
	if len(p.Errors) > 0 {
		p.ErrorCount = max(e.Total, len(p.Errors))
	}
	if len(p.Errors) > MaxProblemErrors {
		p.Errors = p.Errors[:MaxProblemErrors]
	}
	return p
}

// IsAPI reports whether a request is for the JSON API.
func IsAPI(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/api/") || r.URL.Path == "/healthz"
}

// Adapter turns Handlers into http.Handlers.
type Adapter struct {
	Log *slog.Logger
	// ErrorPage renders an error for a browser; nil means plain text.
	ErrorPage func(w http.ResponseWriter, r *http.Request, status int, p Problem)
}

// H adapts h.
func (a *Adapter) H(h Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			a.Error(w, r, err)
		}
	})
}

// Error writes err as problem+json or as an error page, and logs it.
func (a *Adapter) Error(w http.ResponseWriter, r *http.Request, err error) {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		err = errs.E(errs.TooLarge, "body_too_large", "请求体过大")
	}
	if errors.Is(err, context.Canceled) {
		return // the client went away
	}
	k := errs.KindOf(err)
	status := StatusOf(k)
	p := ProblemOf(err, status)
	p.Instance = r.URL.Path
	if k == errs.Internal || k == errs.Unavailable {
		a.Log.ErrorContext(r.Context(), "request failed", "request_id", RequestID(r.Context()), "method", r.Method, "path", r.URL.Path,
			"status", status, "err", err.Error())
	} else {
		a.Log.DebugContext(r.Context(), "request refused", "method", r.Method, "path", r.URL.Path, "status", status, "code", p.Code)
	}
	if status == http.StatusUnauthorized && IsAPI(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="tongxin"`)
	}
	if IsAPI(r) || a.ErrorPage == nil {
		WriteProblem(w, p)
		return
	}
	a.ErrorPage(w, r, status, p)
}

// Header values shared by every answer that carries them (no copy a
// request; as with securityHeaders, nothing changes one in place).
var (
	jsonTypeValue    = []string{"application/json; charset=utf-8"}
	problemTypeValue = []string{"application/problem+json"}
	noStoreValue     = []string{"no-store"}
)

// smallAnswer is the size up to which net/http holds an answer back and
// sends it with its length itself (its bufferBeforeChunkingSize); a
// larger one is given its length here, so that it goes out in one piece
// rather than chunked.
const smallAnswer = 2048

// WriteProblem writes a problem document.
func WriteProblem(w http.ResponseWriter, p Problem) {
	h := w.Header()
	h["Content-Type"] = problemTypeValue
	h["Cache-Control"] = noStoreValue
	w.WriteHeader(p.Status)
	json.NewEncoder(w).Encode(p)
}

// JSON writes v as JSON with status.
func JSON(w http.ResponseWriter, status int, v any) error {
	// Encoded first into a pooled buffer: a value that cannot be encoded
	// is an error answer rather than half a body, and the answer goes out
	// in one write with its length.
	buf := bodyPool.Get().(*bytes.Buffer)
	defer putBody(buf)
	buf.Reset()
	var body []byte
	if a, ok := v.(JSONAppender); ok {
		// Written from where it was appended: a large answer outgrows
		// the pooled buffer, and copying it back in cost as much again.
		buf.Grow(1024) // most answers fit in place
		body = append(a.AppendJSON(buf.AvailableBuffer()), '\n')
	} else {
		if err := json.NewEncoder(buf).Encode(v); err != nil {
			return err
		}
		body = buf.Bytes()
	}
	h := w.Header()
	h["Content-Type"] = jsonTypeValue
	h["Cache-Control"] = noStoreValue
	if len(body) > smallAnswer {
		h["Content-Length"] = []string{strconv.Itoa(len(body))}
	}
	w.WriteHeader(status)
	_, err := w.Write(body)
	if cap(body) > buf.Cap() {
		*buf = *bytes.NewBuffer(body[:0]) // the grown space goes back to the pool
	}
	return err
}

type ctxKey int

const principalKey ctxKey = 1

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p *auth.Principal) context.Context {
	return context.WithValue(ctx, principalKey, p)
}

// PrincipalOf returns the authenticated principal of a request, or nil:
// one set by WithPrincipal, else the one the middleware authenticated.
func PrincipalOf(r *http.Request) *auth.Principal {
	ctx := r.Context()
	if p, ok := ctx.Value(principalKey).(*auth.Principal); ok {
		return p
	}
	if info := infoOf(ctx); info != nil {
		return info.principal
	}
	return nil
}

// ErrUnauthenticated is the answer to a request that needs a login.
var ErrUnauthenticated = errs.E(errs.Unauthorized, "unauthenticated", "请先登录")

// Principal returns the request's principal or ErrUnauthenticated.
func Principal(r *http.Request) (*auth.Principal, error) {
	if p := PrincipalOf(r); p != nil {
		return p, nil
	}
	return nil, ErrUnauthenticated
}
