package account

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"tongxin/internal/audit"
	"tongxin/internal/auth"
	"tongxin/internal/errs"
	"tongxin/internal/web"
)

// Me is the caller's own account.
type Me struct {
	Username    string            `json:"username"`
	DisplayName string            `json:"display_name"`
	Roles       []auth.Assignment `json:"roles"`
}

// APIMe answers GET /api/v1/me.
func (h *Handlers) APIMe(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	roles := p.Assignments
	if roles == nil {
		roles = []auth.Assignment{}
	}
	return web.JSON(w, http.StatusOK, Me{Username: p.Username, DisplayName: p.DisplayName, Roles: roles})
}

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// APILogin answers POST /api/v1/session: a session for API clients that
// prefer a cookie to a token (the web pages use the form login).
func (h *Handlers) APILogin(w http.ResponseWriter, r *http.Request) error {
	var in loginRequest
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	token, p, err := h.auth.Login(r.Context(), in.Username, in.Password, web.ClientAddr(r))
	if err != nil {
		setRetryAfter(w, err)
		return err
	}
	h.mw.SetSessionCookie(w, token, h.authConfig.AbsoluteTimeout)
	return web.JSON(w, http.StatusCreated, Me{Username: p.Username, DisplayName: p.DisplayName, Roles: p.Assignments})
}

// setRetryAfter tells a throttled client, by the Retry-After header, how
// many seconds to wait before its next login attempt.
func setRetryAfter(w http.ResponseWriter, err error) {
	var ra *auth.RetryAfter
	if errors.As(err, &ra) {
		w.Header().Set("Retry-After", strconv.FormatInt(ra.Seconds(), 10))
	}
}

// APILogout answers DELETE /api/v1/session.
func (h *Handlers) APILogout(w http.ResponseWriter, r *http.Request) error {
	if tok := web.SessionToken(r); tok != "" {
		if err := h.auth.Logout(r.Context(), tok); err != nil {
			return err
		}
	}
	h.mw.ClearSessionCookie(w)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// APIUsers answers GET /api/v1/users?q=&limit=&cursor=.
func (h *Handlers) APIUsers(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	pg, err := web.ParsePage(r, auth.DefaultUsersLimit, auth.MaxUsersLimit)
	if err != nil {
		return err
	}
	users, err := h.auth.ListUsers(r.Context(), p, r.URL.Query().Get("q"), pg.Cursor, pg.Limit+1)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, web.NewPage(users, pg.Limit, func(u *auth.User) string { return u.Username }))
}

// APIUser answers GET /api/v1/users/{username}.
func (h *Handlers) APIUser(w http.ResponseWriter, r *http.Request) error {
	return web.Answer(w, r, func(ctx context.Context, p *auth.Principal) (*auth.User, error) {
		return h.auth.GetUser(ctx, p, r.PathValue("username"))
	})
}

type createUserRequest struct {
	Username    string           `json:"username"`
	DisplayName string           `json:"display_name"`
	Phone       string           `json:"phone"`
	Password    string           `json:"password"`
	Roles       []auth.RoleInput `json:"roles"`
}

// APICreateUser answers POST /api/v1/users.
func (h *Handlers) APICreateUser(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	var in createUserRequest
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	u, err := h.auth.CreateUser(r.Context(), p, auth.NewUser{Username: in.Username, DisplayName: in.DisplayName,
		Phone: in.Phone, Password: in.Password, Roles: in.Roles})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/users/"+u.Username)
	return web.JSON(w, http.StatusCreated, u)
}

// APIAddRole answers POST /api/v1/users/{username}/roles.
func (h *Handlers) APIAddRole(w http.ResponseWriter, r *http.Request) error {
	return web.Decode(w, r, http.StatusOK, func(ctx context.Context, p *auth.Principal, in auth.RoleInput) (*auth.User, error) {
		return h.auth.AddRole(ctx, p, r.PathValue("username"), in)
	})
}

// APIRemoveRole answers POST /api/v1/users/{username}/roles/remove with
// {"role":"…","scope":"…"}: the user without that role.
func (h *Handlers) APIRemoveRole(w http.ResponseWriter, r *http.Request) error {
	return web.Decode(w, r, http.StatusOK, func(ctx context.Context, p *auth.Principal, in auth.RoleInput) (*auth.User, error) {
		return h.auth.RemoveRole(ctx, p, r.PathValue("username"), in)
	})
}

type passwordRequest struct {
	Password        string `json:"password"`
	CurrentPassword string `json:"current_password"`
}

// APISetPassword answers PUT /api/v1/users/{username}/password. For the
// caller's own account current_password is required and the caller's
// session (if the request came with one) stays open; for another user it
// is a manager's reset. Either way every API token of the user is revoked
// and their other sessions end. 204.
func (h *Handlers) APISetPassword(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	var in passwordRequest
	if err := web.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	if strings.ToLower(strings.TrimSpace(r.PathValue("username"))) == p.Username {
		err = h.auth.ChangePassword(r.Context(), p, in.CurrentPassword, in.Password, web.SessionToken(r))
	} else {
		err = h.auth.SetPassword(r.Context(), p, r.PathValue("username"), in.Password)
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type statusRequest struct {
	Status string `json:"status"`
}

// APISetStatus answers PUT /api/v1/users/{username}/status with
// {"status":"active"|"disabled"}.
func (h *Handlers) APISetStatus(w http.ResponseWriter, r *http.Request) error {
	return web.Decode(w, r, http.StatusOK, func(ctx context.Context, p *auth.Principal, in statusRequest) (*auth.User, error) {
		if in.Status != "active" && in.Status != "disabled" {
			return nil, errs.E(errs.Invalid, "bad_status", "status 须为 active 或 disabled")
		}
		return h.auth.SetStatus(ctx, p, r.PathValue("username"), in.Status == "active")
	})
}

type revealRequest struct {
	Reason string `json:"reason"`
}

// APIRevealPhone answers POST /api/v1/users/{username}/reveal-phone.
func (h *Handlers) APIRevealPhone(w http.ResponseWriter, r *http.Request) error {
	return web.Decode(w, r, http.StatusOK, func(ctx context.Context, p *auth.Principal, in revealRequest) (map[string]string, error) {
		phone, err := h.auth.RevealPhone(ctx, p, r.PathValue("username"), in.Reason)
		if err != nil {
			return nil, err
		}
		web.NoStore(r) // the full number is not kept for replays
		return map[string]string{"phone": phone}, nil
	})
}

// newToken is a token with its secret, answered once at creation.
type newToken struct {
	auth.Token
	Secret string `json:"token"`
}

type tokenRequest struct {
	Name string `json:"name"`
	// ExpiresInDays is the token's life in days: 1 to 365, 90 when absent.
	ExpiresInDays *int `json:"expires_in_days"`
}

// tokenLife turns expires_in_days into a token's life (zero for the
// default).
func tokenLife(days *int) (time.Duration, error) {
	if days == nil {
		return 0, nil
	}
	if *days < 1 || *days > 365 {
		return 0, &errs.Error{Kind: errs.Invalid, Code: "bad_expiry", Message: "expires_in_days 须为 1 到 365 之间的整数",
			Fields: []errs.FieldError{{Field: "expires_in_days", Message: "须为 1 到 365"}}}
	}
	return time.Duration(*days) * 24 * time.Hour, nil
}

// APICreateToken answers POST /api/v1/users/{username}/tokens with
// {"name":"…","expires_in_days":30}: the token is in this answer only. A
// request authenticated by an API token is refused (token_cannot_mint).
func (h *Handlers) APICreateToken(w http.ResponseWriter, r *http.Request) error {
	return web.Decode(w, r, http.StatusCreated, func(ctx context.Context, p *auth.Principal, in tokenRequest) (*newToken, error) {
		life, err := tokenLife(in.ExpiresInDays)
		if err != nil {
			return nil, err
		}
		secret, t, err := h.auth.CreateTokenFor(ctx, p, r.PathValue("username"), in.Name, life)
		if err != nil {
			return nil, err
		}
		web.NoStore(r) // the secret is shown once, never kept for replays
		return &newToken{Token: *t, Secret: secret}, nil
	})
}

// APITokens answers GET /api/v1/users/{username}/tokens.
func (h *Handlers) APITokens(w http.ResponseWriter, r *http.Request) error {
	return web.List(w, r, func(ctx context.Context, p *auth.Principal) ([]auth.Token, error) {
		return h.auth.ListTokens(ctx, p, r.PathValue("username"))
	})
}

// APIRevokeToken answers DELETE /api/v1/tokens/{id}.
func (h *Handlers) APIRevokeToken(w http.ResponseWriter, r *http.Request) error {
	return web.NoContentID(w, r, errs.E(errs.NotFound, "token_not_found", "令牌不存在"), h.auth.RevokeToken)
}

// AuditRow is an audit row as the API shows it.
type AuditRow struct {
	Seq        int64  `json:"seq"`
	At         string `json:"at"`
	Actor      string `json:"actor"`
	Action     string `json:"action"`
	ObjectType string `json:"object_type"`
	ObjectID   string `json:"object_id"`
	AreaCode   string `json:"area_code,omitempty"`
	Summary    string `json:"summary"`
	Hash       string `json:"hash"`
}

// AuditFilter reads the audit filter of a request within p's scope.
func AuditFilter(r *http.Request, p *auth.Principal, limit int) (audit.Filter, error) {
	if err := auth.Require(p, auth.AuditRead, "account.Audit"); err != nil {
		return audit.Filter{}, err
	}
	q := r.URL.Query()
	paths, all := p.AreaPaths(auth.AuditRead)
	f := audit.Filter{AllAreas: all, AreaPaths: paths, ObjectType: q.Get("object_type"), ObjectID: q.Get("object_id"),
		Actor: q.Get("actor"), Action: q.Get("action"), Limit: limit}
	// A city-wide scope sees the whole log, including rows without an area.
	for _, a := range p.Assignments {
		if a.Scope.Path != "" && strings.Count(a.Scope.Path, "/") == 2 && p.Covers(auth.AuditRead, a.Scope.Path) {
			f.AllAreas = true
		}
	}
	if s := q.Get("before"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 1 {
			return f, errs.E(errs.Invalid, "bad_cursor", "before 须为正整数")
		}
		f.Before = n
	}
	return f, nil
}

// APIAudit answers GET /api/v1/audit.
func (h *Handlers) APIAudit(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	pg, err := web.ParsePage(r, audit.DefaultLimit, audit.MaxLimit)
	if err != nil {
		return err
	}
	f, err := AuditFilter(r, p, pg.Limit+1)
	if err != nil {
		return err
	}
	if pg.Cursor != "" {
		n, err := strconv.ParseInt(pg.Cursor, 10, 64)
		if err != nil {
			return errs.E(errs.Invalid, "bad_cursor", "cursor 无效")
		}
		f.Before = n
	}
	rows, err := h.auditLog(r.Context(), f)
	if err != nil {
		return err
	}
	out := make([]AuditRow, len(rows))
	for i, a := range rows {
		out[i] = AuditRow{Seq: a.Seq, At: a.At.Format("2006-01-02T15:04:05.000Z07:00"), Actor: a.Actor, Action: a.Action,
			ObjectType: a.ObjectType, ObjectID: a.ObjectID, AreaCode: a.AreaCode, Summary: a.Summary, Hash: a.Hash}
	}
	return web.JSON(w, http.StatusOK, web.NewPage(out, pg.Limit, func(a AuditRow) string { return strconv.FormatInt(a.Seq, 10) }))
}
