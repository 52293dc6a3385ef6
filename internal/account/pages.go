package account

import (
	"embed"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"tongxin/internal/audit"
	"tongxin/internal/auth"
	"tongxin/internal/errs"
	"tongxin/internal/web"
)

// Templates holds the account pages; the Renderer is built with it.
//
//go:embed templates
var Templates embed.FS

// Page sizes of the lists.
const (
	usersPerPage = 50
	auditPerPage = 50
)

// loginData is the data of account/login.
type loginData struct {
	Form *web.Form
	Next string
}

// LoginPage shows the login form (GET /login). A signed-in user goes on
// to next at once.
func (h *Handlers) LoginPage(w http.ResponseWriter, r *http.Request) error {
	next := web.SafeNext(r.URL.Query().Get("next"), "/")
	if web.PrincipalOf(r) != nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return nil
	}
	return h.render.Page(w, r, http.StatusOK, "account/login", "login.title", loginData{Form: web.NewForm(nil), Next: next})
}

// LoginSubmit checks the credentials (POST /login), opens a session and sends
// the browser to next. A refusal shows the form again with the reason.
func (h *Handlers) LoginSubmit(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return errs.E(errs.Invalid, "bad_form", "表单无法解析")
	}
	next := web.SafeNext(r.PostForm.Get("next"), "/")
	username, password := strings.TrimSpace(r.PostForm.Get("username")), r.PostForm.Get("password")
	form := web.NewForm(url.Values{"username": {username}})
	if username == "" || password == "" {
		form.Error = h.render.T(r, "login.err.empty")
		return h.render.Page(w, r, http.StatusBadRequest, "account/login", "login.title", loginData{Form: form, Next: next})
	}
	token, _, err := h.auth.Login(r.Context(), username, password, web.ClientAddr(r))
	if err != nil {
		setRetryAfter(w, err)
		status := web.FormStatus(err)
		if status == 0 {
			return err
		}
		h.render.Fail(form, r, err)
		return h.render.Page(w, r, status, "account/login", "login.title", loginData{Form: form, Next: next})
	}
	// A session the browser still held is ended rather than left behind.
	if old := web.SessionToken(r); old != "" {
		if err := h.auth.Logout(r.Context(), old); err != nil {
			return err
		}
	}
	h.mw.SetSessionCookie(w, token, h.authConfig.AbsoluteTimeout)
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

// Logout ends the session (POST /logout) and goes back to the login page.
func (h *Handlers) Logout(w http.ResponseWriter, r *http.Request) error {
	if tok := web.SessionToken(r); tok != "" {
		if err := h.auth.Logout(r.Context(), tok); err != nil {
			return err
		}
	}
	h.mw.ClearSessionCookie(w)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return nil
}

// homeData is the data of account/home.
type homeData struct {
	// Work are the counts waiting for the user today (and the HQ's
	// headline figures), each a link; modules add theirs with
	// Renderer.AddWork.
	Work []web.Figure
	// WorkFailed is true when some figures could not be computed.
	WorkFailed bool
	// Cards are what the user can do: the menu entries that have a
	// description and that the user's permissions allow. Modules add
	// theirs with Renderer.AddNav.
	Cards []web.NavItem
}

// Home is the start page (GET /): a greeting, the work waiting for the
// user, their roles and cards of what they can do. Anonymous visitors go
// to the login page.
func (h *Handlers) Home(w http.ResponseWriter, r *http.Request) error {
	p := web.PrincipalOf(r)
	if p == nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return nil
	}
	var d homeData
	var err error
	d.Work, err = h.render.WorkFor(r.Context(), p)
	d.WorkFailed = err != nil
	for _, it := range h.render.NavFor(p) {
		if it.DescKey != "" {
			d.Cards = append(d.Cards, it)
		}
	}
	return h.render.Page(w, r, http.StatusOK, "account/home", "home.title", d)
}

// usersData is the data of account/users.
type usersData struct {
	Query     string
	Users     []*auth.User
	NextURL   string
	CanManage bool
}

// UsersPage lists the users within the caller's reach (GET /users?q=&after=).
func (h *Handlers) UsersPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	users, err := h.auth.ListUsers(r.Context(), p, q, r.URL.Query().Get("after"), usersPerPage+1)
	if err != nil {
		return err
	}
	d := usersData{Query: q, Users: users, CanManage: p.Can(auth.UserManage)}
	if len(users) > usersPerPage {
		d.Users = users[:usersPerPage]
		v := url.Values{"after": {d.Users[usersPerPage-1].Username}}
		if q != "" {
			v.Set("q", q)
		}
		d.NextURL = "/users?" + v.Encode()
	}
	return h.render.Page(w, r, http.StatusOK, "account/users", "users.title", d)
}

// userFormData is the data of account/user-new.
type userFormData struct {
	Form  *web.Form
	Roles []auth.Role
}

// NewUserPage shows the form for a new account (GET /users/new).
func (h *Handlers) NewUserPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	if err := auth.Require(p, auth.UserManage, "account.NewUser"); err != nil {
		return err
	}
	return h.render.Page(w, r, http.StatusOK, "account/user-new", "users.new.title", userFormData{Form: web.NewForm(nil), Roles: auth.Roles})
}

// CreateUserSubmit creates an account with one role (POST /users). A refusal
// shows the form again with the messages.
func (h *Handlers) CreateUserSubmit(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	if err := auth.Require(p, auth.UserManage, "account.CreateUser"); err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return errs.E(errs.Invalid, "bad_form", "表单无法解析")
	}
	f := r.PostForm
	in := auth.NewUser{
		Username:    f.Get("username"),
		DisplayName: f.Get("display_name"),
		Phone:       f.Get("phone"),
		Password:    f.Get("password"),
	}
	if f.Get("role") != "" || f.Get("scope") != "" {
		in.Roles = []auth.RoleInput{{Role: f.Get("role"), Scope: f.Get("scope")}}
	}
	u, err := h.auth.CreateUser(r.Context(), p, in)
	if err != nil {
		status := web.FormStatus(err)
		if status == 0 {
			return err
		}
		form := web.NewForm(url.Values{
			"username": {f.Get("username")}, "display_name": {f.Get("display_name")},
			"phone": {f.Get("phone")}, "role": {f.Get("role")}, "scope": {f.Get("scope")},
		})
		h.fail(form, r, err)
		return h.render.Page(w, r, status, "account/user-new", "users.new.title", userFormData{Form: form, Roles: auth.Roles})
	}
	web.SetFlash(w, "flash.user_created")
	http.Redirect(w, r, "/users/"+url.PathEscape(u.Username), http.StatusSeeOther)
	return nil
}

// fail records err on a user or role form, placing the role and scope
// errors, which the service reports without a field, beside their field.
func (h *Handlers) fail(form *web.Form, r *http.Request, err error) {
	h.render.Fail(form, r, err)
	if e := errs.As(err); e != nil {
		field := ""
		switch e.Code {
		case "bad_role":
			field = "role"
		case "bad_scope", "scope_not_found", "scope_unsupported", "forbidden":
			field = "scope"
		case "username_taken":
			field = "username"
		}
		if field != "" && form.Fields[field] == "" {
			form.Fields[field] = form.Error
		}
		if _, ok := form.Fields["roles"]; ok && form.Fields["role"] == "" {
			form.Fields["role"] = form.Fields["roles"]
		}
	}
}

// userData is the data of account/user.
type userData struct {
	User       *auth.User
	Tokens     []auth.Token
	ShowTokens bool
	CanManage  bool
	Self       bool
	Roles      []auth.Role
	Form       *web.Form // the add-role form
	StatusErr  string
	RoleErr    string    // a refused role removal
	PwForm     *web.Form // the password form
}

// UserPage shows one account (GET /users/{username}): roles, API tokens and,
// for managers, the forms to add a role and to disable or enable it.
func (h *Handlers) UserPage(w http.ResponseWriter, r *http.Request) error {
	return h.renderUser(w, r, http.StatusOK, web.NewForm(nil), "")
}

func (h *Handlers) renderUser(w http.ResponseWriter, r *http.Request, status int, roleForm *web.Form, statusErr string) error {
	return h.renderUserWith(w, r, status, userData{Form: roleForm, StatusErr: statusErr})
}

// renderUserWith shows the user page with the forms and messages of d.
func (h *Handlers) renderUserWith(w http.ResponseWriter, r *http.Request, status int, d userData) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	u, err := h.auth.GetUser(r.Context(), p, r.PathValue("username"))
	if err != nil {
		return err
	}
	d.User, d.CanManage, d.Self, d.Roles = u, p.Can(auth.UserManage), p.Username == u.Username, auth.Roles
	if d.Form == nil {
		d.Form = web.NewForm(nil)
	}
	if d.PwForm == nil {
		d.PwForm = web.NewForm(nil)
	}
	if d.CanManage || d.Self {
		tokens, err := h.auth.ListTokens(r.Context(), p, u.Username)
		switch {
		case err == nil:
			d.Tokens, d.ShowTokens = tokens, true
		case errs.Is(err, errs.NotFound), errs.Is(err, errs.Forbidden):
			// Readable but outside the caller's management scope.
			d.CanManage = false
		default:
			return err
		}
	}
	return h.render.Page(w, r, status, "account/user", u.DisplayName, d)
}

// AddRoleSubmit binds a role to the user (POST /users/{username}/roles).
func (h *Handlers) AddRoleSubmit(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	if err := auth.Require(p, auth.UserManage, "account.AddRole"); err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return errs.E(errs.Invalid, "bad_form", "表单无法解析")
	}
	in := auth.RoleInput{Role: r.PostForm.Get("role"), Scope: r.PostForm.Get("scope")}
	u, err := h.auth.AddRole(r.Context(), p, r.PathValue("username"), in)
	if err != nil {
		status := web.FormStatus(err)
		// A user out of reach gets no add-role form to show the error in.
		if status == 0 || errs.Is(err, errs.Unauthorized) || errs.As(err).Code == "user_out_of_reach" {
			return err
		}
		form := web.NewForm(url.Values{"role": {in.Role}, "scope": {in.Scope}})
		h.fail(form, r, err)
		return h.renderUser(w, r, status, form, "")
	}
	web.SetFlash(w, "flash.role_added")
	http.Redirect(w, r, "/users/"+url.PathEscape(u.Username), http.StatusSeeOther)
	return nil
}

// RemoveRoleSubmit withdraws one role from the user (POST
// /users/{username}/roles/remove, fields role and scope).
func (h *Handlers) RemoveRoleSubmit(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	if err := auth.Require(p, auth.UserManage, "account.RemoveRole"); err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return errs.E(errs.Invalid, "bad_form", "表单无法解析")
	}
	in := auth.RoleInput{Role: r.PostForm.Get("role"), Scope: r.PostForm.Get("scope")}
	u, err := h.auth.RemoveRole(r.Context(), p, r.PathValue("username"), in)
	if err != nil {
		status := web.FormStatus(err)
		if status == 0 || errs.Is(err, errs.Unauthorized) {
			return err
		}
		return h.renderUserWith(w, r, status, userData{RoleErr: h.render.Message(r, err)})
	}
	web.SetFlash(w, "flash.role_removed")
	http.Redirect(w, r, "/users/"+url.PathEscape(u.Username), http.StatusSeeOther)
	return nil
}

// PasswordSubmit changes a password (POST /users/{username}/password,
// fields password and, for one's own account, current_password). One's
// own change keeps this session; a manager's reset ends every session of
// the user. Either revokes the user's API tokens.
func (h *Handlers) PasswordSubmit(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return errs.E(errs.Invalid, "bad_form", "表单无法解析")
	}
	username := strings.ToLower(strings.TrimSpace(r.PathValue("username")))
	self := username == p.Username
	if self {
		err = h.auth.ChangePassword(r.Context(), p, r.PostForm.Get("current_password"), r.PostForm.Get("password"), web.SessionToken(r))
	} else {
		err = h.auth.SetPassword(r.Context(), p, username, r.PostForm.Get("password"))
	}
	if err != nil {
		status := web.FormStatus(err)
		if status == 0 || errs.Is(err, errs.Unauthorized) || errs.Is(err, errs.Forbidden) {
			return err
		}
		form := web.NewForm(nil)
		h.render.Fail(form, r, err)
		return h.renderUserWith(w, r, status, userData{PwForm: form})
	}
	key := "flash.password_reset"
	if self {
		key = "flash.password_changed"
	}
	web.SetFlash(w, key)
	http.Redirect(w, r, "/users/"+url.PathEscape(username), http.StatusSeeOther)
	return nil
}

// StatusSubmit disables or enables the user (POST /users/{username}/status,
// field active=true|false).
func (h *Handlers) StatusSubmit(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	if err := auth.Require(p, auth.UserManage, "account.SetStatus"); err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return errs.E(errs.Invalid, "bad_form", "表单无法解析")
	}
	active, perr := strconv.ParseBool(r.PostForm.Get("active"))
	if perr != nil {
		err = &errs.Error{Kind: errs.Invalid, Code: "bad_active", Message: "active 须为 true 或 false",
			Fields: []errs.FieldError{{Field: "active", Message: "须为 true 或 false"}}}
	} else {
		var u *auth.User
		u, err = h.auth.SetStatus(r.Context(), p, r.PathValue("username"), active)
		if err == nil {
			key := "flash.user_disabled"
			if active {
				key = "flash.user_enabled"
			}
			web.SetFlash(w, key)
			http.Redirect(w, r, "/users/"+url.PathEscape(u.Username), http.StatusSeeOther)
			return nil
		}
	}
	status := web.FormStatus(err)
	// Forbidden: the page would not show the status form to this caller.
	if status == 0 || errs.Is(err, errs.Unauthorized) || errs.Is(err, errs.Forbidden) {
		return err
	}
	return h.renderUser(w, r, status, web.NewForm(nil), h.render.Message(r, err))
}

// auditData is the data of account/audit.
type auditData struct {
	ObjectType string
	Action     string
	Actor      string
	// Objects and Actions are the choices of the filter, named.
	Objects []auditChoice
	Actions []auditChoice
	Rows    []audit.Row
	NextURL string
}

// AuditPage shows the audit log within the caller's areas, newest first
// (GET /audit?object_type=&action=&actor=&before=). The kind of object
// and the action may be given as codes or by their names.
func (h *Handlers) AuditPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	if err := auth.Require(p, auth.AuditRead, "account.Audit"); err != nil {
		return err
	}
	f, err := AuditFilter(r, p, auditPerPage+1)
	if err != nil {
		return err
	}
	f.ObjectType = h.auditCode(objectPrefix, f.ObjectType)
	f.Action = h.auditCode(actionPrefix, f.Action)
	f.Actor = strings.TrimSpace(f.Actor)
	d := auditData{ObjectType: f.ObjectType, Action: f.Action, Actor: f.Actor,
		Objects: withCurrent(h.auditChoices(r, objectPrefix), f.ObjectType),
		Actions: withCurrent(h.auditChoices(r, actionPrefix), f.Action)}
	rows, err := h.auditLog(r.Context(), f)
	if err != nil {
		return err
	}
	d.Rows = rows
	if len(rows) > auditPerPage {
		d.Rows = rows[:auditPerPage]
		v := url.Values{"before": {strconv.FormatInt(d.Rows[auditPerPage-1].Seq, 10)}}
		for k, val := range map[string]string{"object_type": d.ObjectType, "action": d.Action, "actor": d.Actor} {
			if val != "" {
				v.Set(k, val)
			}
		}
		d.NextURL = "/audit?" + v.Encode()
	}
	return h.render.Page(w, r, http.StatusOK, "account/audit", "audit.title", d)
}
