package web

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"tongxin/internal/auth"
	"tongxin/internal/errs"
)

// Authenticator resolves credentials to a principal.
type Authenticator interface {
	SessionPrincipal(ctx context.Context, token string) (*auth.Principal, error)
	TokenPrincipal(ctx context.Context, token string) (*auth.Principal, error)
}

// Cookie names: with TLS the __Host- prefix pins the cookie to this host
// and path "/" and requires Secure.
const (
	CookieName       = "tongxin_session"
	SecureCookieName = "__Host-tongxin_session"
)

// Middleware is the request pipeline shared by every route.
type Middleware struct {
	Log     *slog.Logger
	Auth    Authenticator
	Adapter *Adapter
	Metrics *Metrics
	// SecureCookies marks the session cookie Secure with the __Host- prefix;
	// on when Tongxin is served over TLS (directly or behind a proxy).
	SecureCookies bool

	idOnce   sync.Once
	idPrefix string
	idSeq    atomic.Uint64
}

// SessionCookieName is the cookie used under the current TLS setting.
func (m *Middleware) SessionCookieName() string {
	if m.SecureCookies {
		return SecureCookieName
	}
	return CookieName
}

// SetSessionCookie writes the session cookie.
func (m *Middleware) SetSessionCookie(w http.ResponseWriter, token string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{
		Name: m.SessionCookieName(), Value: token, Path: "/", HttpOnly: true,
		Secure: m.SecureCookies, SameSite: http.SameSiteLaxMode, MaxAge: int(maxAge.Seconds()),
	})
}

// ClearSessionCookie removes the session cookie.
func (m *Middleware) ClearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: m.SessionCookieName(), Value: "", Path: "/", HttpOnly: true,
		Secure: m.SecureCookies, SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

type logKey int

const infoKey logKey = 2

// RequestID returns the request's id.
func RequestID(ctx context.Context) string {
	if info, ok := ctx.Value(infoKey).(*requestInfo); ok {
		return info.id
	}
	return ""
}

// requestInfo is what the middleware knows of a request, in its context
// once (one context value, one copy of the request): its id and, once
// authenticated, its principal and session; inner handlers fill in the
// route for the outer log line and metrics (they work on copies of the
// request, so they write here).
type requestInfo struct {
	id        string
	principal *auth.Principal
	session   string // the session token it was authenticated with
	route     string
	user      string
}

// infoOf is the request's requestInfo, nil outside the middleware.
func infoOf(ctx context.Context) *requestInfo {
	info, _ := ctx.Value(infoKey).(*requestInfo)
	return info
}

// NoteRoute records the matched route pattern of r for logs and metrics;
// the route table calls it for every handler.
func NoteRoute(r *http.Request) {
	if info, ok := r.Context().Value(infoKey).(*requestInfo); ok {
		info.route = r.Pattern
	}
}

// statusWriter records the status and size of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
	size   int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.size += n
	return n, err
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (s *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if h, ok := s.ResponseWriter.(http.Hijacker); ok {
		return h.Hijack()
	}
	return nil, nil, errors.New("hijack not supported")
}

// securityHeaders are set on every answer, their names in canonical
// form. Their values are shared by all answers: nothing changes a value
// in place, and an Add would append to a slice of capacity 1, so copy it.
var securityHeaders = [...]struct {
	name  string
	value []string
}{
	{"X-Content-Type-Options", []string{"nosniff"}},
	{"Referrer-Policy", []string{"same-origin"}},
	{"X-Frame-Options", []string{"DENY"}},
	{"Content-Security-Policy", []string{"default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"}},
}

// Wrap applies the pipeline: request id, recovery, logging and metrics,
// security headers, cross-origin protection, authentication.
func (m *Middleware) Wrap(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.Adapter.Error(w, r, errs.E(errs.Forbidden, "cross_origin", "跨站请求被拒绝"))
	}))
	authed := m.authenticate(next)
	protected := cop.Handler(authed)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		st := &requestState{sw: statusWriter{ResponseWriter: w}}
		id := r.Header.Get("X-Request-Id")
		if id == "" || len(id) > 64 || !printableASCII(id) {
			id = m.nextID(&st.idBuf)
		}
		st.idValue[0] = id
		h := w.Header()
		h["X-Request-Id"] = st.idValue[:]
		for _, sh := range securityHeaders {
			h[sh.name] = sh.value
		}
		info, sw := &st.info, &st.sw
		info.id = id
		ctx := context.WithValue(r.Context(), infoKey, info)
		r = r.WithContext(ctx)
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				m.Log.ErrorContext(ctx, "panic", "request_id", id, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
				if sw.status == 0 {
					m.Adapter.Error(sw, r, errs.Wrap("panic", errors.New("handler panicked")))
				}
			}
			d := time.Since(start)
			if m.Metrics != nil {
				m.Metrics.Observe(r.Method, info.route, sw.status, d)
			}
			if h := m.Log.Handler(); h.Enabled(ctx, slog.LevelInfo) {
				line := AccessLine{At: start.Add(d), ID: id, Method: r.Method, Path: r.URL.Path, Status: sw.status, Bytes: sw.size,
					Duration: d, User: info.user}
				if al, ok := h.(AccessLogger); !ok || !al.LogAccess(line) {
					h.Handle(ctx, line.Record())
				}
			}
		}()
		protected.ServeHTTP(sw, r)
	})
}

// requestState is what the middleware keeps of a request, in one
// allocation: its info, its writer, and its id as the header's value.
type requestState struct {
	info    requestInfo
	sw      statusWriter
	idValue [1]string
	idBuf   [requestIDMax]byte
}

// requestIDMax bounds the ids nextID makes: 8 hex digits, '-' and a
// counter in base 36 (13 digits at most).
const requestIDMax = 24

// nextID returns a request id unique to this process: a random prefix
// drawn once and a counter, so that no request pays for randomness. It
// is written in buf and shares its bytes, which are not written again.
func (m *Middleware) nextID(buf *[requestIDMax]byte) string {
	m.idOnce.Do(func() {
		b := make([]byte, 4)
		rand.Read(b)
		m.idPrefix = hex.EncodeToString(b)
	})
	id := strconv.AppendUint(append(append(buf[:0], m.idPrefix...), '-'), m.idSeq.Add(1), 36)
	return unsafe.String(unsafe.SliceData(id), len(id))
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// authenticate attaches the principal of a bearer token or session cookie.
// A presented but invalid bearer token is refused at once; an invalid
// cookie is dropped and the request goes on anonymous.
func (m *Middleware) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if h := r.Header.Get("Authorization"); h != "" {
			scheme, tok, _ := strings.Cut(h, " ")
			if !strings.EqualFold(scheme, "Bearer") || tok == "" {
				m.Adapter.Error(w, r, errs.E(errs.Unauthorized, "bad_token", "Authorization 须为 Bearer 令牌"))
				return
			}
			p, err := m.Auth.TokenPrincipal(ctx, strings.TrimSpace(tok))
			if err != nil {
				m.Adapter.Error(w, r, err)
				return
			}
			authenticated(r, p, "")
			next.ServeHTTP(w, r)
			return
		}
		if c, err := r.Cookie(m.SessionCookieName()); err == nil && c.Value != "" {
			p, err := m.Auth.SessionPrincipal(ctx, c.Value)
			switch {
			case err == nil:
				r = authenticated(r, p, c.Value)
			case errs.Is(err, errs.Unauthorized):
				m.ClearSessionCookie(w)
			default:
				m.Adapter.Error(w, r, err)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

const sessionTokenKey ctxKey = 2

// authenticated records p (and the session token it came with, if any) on
// r: in the request's requestInfo when the middleware made one — no copy
// of the request — else in a new context.
func authenticated(r *http.Request, p *auth.Principal, session string) *http.Request {
	if info := infoOf(r.Context()); info != nil {
		info.principal, info.session, info.user = p, session, p.Username
		return r
	}
	ctx := WithPrincipal(r.Context(), p)
	if session != "" {
		ctx = context.WithValue(ctx, sessionTokenKey, session)
	}
	return r.WithContext(ctx)
}

// SessionToken returns the session token a request was authenticated with.
func SessionToken(r *http.Request) string {
	if info := infoOf(r.Context()); info != nil && info.session != "" {
		return info.session
	}
	s, _ := r.Context().Value(sessionTokenKey).(string)
	return s
}

// ClientAddr is the client's address for throttling: the connection's
// remote IP (proxies must be configured to pass the real address; Tongxin
// does not trust X-Forwarded-For by default).
func ClientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
