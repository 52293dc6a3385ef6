package ticket

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"tongxin/internal/area"
	"tongxin/internal/auth"
	"tongxin/internal/errs"
	"tongxin/internal/web"
)

// A ticket's page and the actions on it.

// pageHop is an escalation hop as shown.
type pageHop struct {
	At               time.Time
	FromLevel, To    string
	FromArea, ToArea string
	Reason           string
}

// pageEvent is a timeline entry as shown.
type pageEvent struct {
	At    time.Time
	Actor string // a display name, or "系统"/"求助人"
	Login string // the login name beside a display name
	What  string
	Note  string
}

// pageDetailData is the data of ticket/detail.
type pageDetailData struct {
	T              *Ticket
	Category       string
	Level          string
	Escalated      string
	RespondLeft    string
	RespondLate    bool
	ResolveLeft    string
	ResolveLate    bool
	RespondState   DeadlineState
	CreatedBy      string // who filed it, by name
	CreatedByLogin string
	ResolveState   DeadlineState
	Hops           []pageHop
	Events         []pageEvent
	Handler        bool
	MayReveal      bool // pii.reveal over the ticket: the reveal form
	Actions        []Status
	Departments    []area.Department
	ActForm        *web.Form
	CommentForm    *web.Form
	MergeForm      *web.Form
	RevealForm     *web.Form
	RevealedPhone  string
	PhotoForm      *web.Form
	CanAddPhoto    bool
	CanComment     bool
	CanMerge       bool
	Filed          bool // just filed: the tracking number is announced
	Self           string
	MaxPhotoMB     int
	PhotosLeft     int
	AutoConfirmAt  time.Time
	MergedIntoLink string
}

// NeedsNote reports whether moving to s needs a note.
func (d *pageDetailData) NeedsNote(s Status) bool {
	return s == Resolved || s == Rejected || s == Reopened
}

// detail loads the data of a ticket's page.
func (pg *Pages) detail(r *http.Request, p *auth.Principal, ref string) (*pageDetailData, error) {
	ctx := r.Context()
	t, err := pg.svc.Get(ctx, p, ref)
	if err != nil {
		return nil, err
	}
	_, cats, err := pg.categories(r, false)
	if err != nil {
		return nil, err
	}
	areaNames, deptNames, err := pg.svc.placeNames(ctx, t)
	if err != nil {
		return nil, err
	}
	d := &pageDetailData{T: t, Category: t.CategoryName, Level: pg.levelName(r, t.HolderDepth), Handler: CanHandle(p, t), MayReveal: MayRevealPhone(p, t),
		Actions: Actions(p, t), Self: link(t.ID), MaxPhotoMB: MaxPhotoBytes >> 20, PhotosLeft: MaxPhotos - len(t.Photos)}
	if n := cats[t.Category]; n != "" {
		d.Category = n
	}
	pg.deadlines(r, d, pg.now())
	d.Hops = pg.hops(r, t.Escalations, areaNames)
	d.Events, d.CreatedBy, d.CreatedByLogin = pg.events(r, t.Events, deptNames)
	if slices.Contains(d.Actions, Assigned) {
		if d.Departments, err = pg.assignable(ctx, p, t); err != nil {
			return nil, err
		}
	}
	d.ActForm = web.NewForm(url.Values{"department": {t.Department}})
	d.CommentForm, d.MergeForm, d.RevealForm, d.PhotoForm = web.NewForm(nil), web.NewForm(nil), web.NewForm(nil), web.NewForm(nil)
	d.CanComment = t.Status != Merged
	d.CanAddPhoto = !t.Status.Closed() && d.PhotosLeft > 0
	d.CanMerge = d.Handler && t.Status.Open()
	if c, err := r.Cookie(filedCookie); err == nil && c.Value == t.Tracking {
		d.Filed = true
	}
	return d, nil
}

// deadlines fills the escalation, the deadlines left at now, the
// automatic confirmation and the merge of d's ticket.
func (pg *Pages) deadlines(r *http.Request, d *pageDetailData, now time.Time) {
	t := d.T
	if t.EscalationLevel > 0 {
		d.Escalated = pg.t(r, "ticket.escalated_to", d.Level)
	}
	if t.RespondedAt == nil && t.Status.Open() {
		d.RespondLeft, d.RespondLate = pg.left(r, t.RespondBy, now), !t.RespondBy.After(now)
		d.RespondState = StateOf(t.RespondFrom, t.RespondBy, now)
	}
	if t.ResolvedAt == nil && t.Status.Open() {
		d.ResolveLeft, d.ResolveLate = pg.left(r, t.ResolveBy, now), !t.ResolveBy.After(now)
		d.ResolveState = StateOf(t.ResolveFrom, t.ResolveBy, now)
	}
	if t.AutoConfirmAt != nil && t.Status == Resolved {
		d.AutoConfirmAt = *t.AutoConfirmAt
	}
	if t.MergedInto != "" {
		d.MergedIntoLink = "/tickets/" + url.PathEscape(t.MergedInto)
	}
}

// nameOr is names[code], or code itself when it has no name.
func nameOr(names map[string]string, code string) string {
	if n, ok := names[code]; ok {
		return n
	}
	return code
}

// hops are the escalations as shown, their areas named.
func (pg *Pages) hops(r *http.Request, list []Escalation, areaNames map[string]string) []pageHop {
	var out []pageHop
	for _, e := range list {
		out = append(out, pageHop{At: e.At, FromLevel: pg.levelName(r, levelDepth(e.FromLevel)), To: pg.levelName(r, levelDepth(e.ToLevel)),
			FromArea: nameOr(areaNames, e.FromArea), ToArea: nameOr(areaNames, e.ToArea), Reason: pg.labelOf(r, "ticket.esc_reason", e.Reason)})
	}
	return out
}

// events are the timeline as shown, its departments named, and who filed
// the ticket (by name and login).
func (pg *Pages) events(r *http.Request, list []Event, deptNames map[string]string) (out []pageEvent, by, byLogin string) {
	for _, e := range list {
		ev := pageEvent{At: e.At, Actor: pg.labelOf(r, "ticket.actor", e.Actor), Note: e.Note}
		if e.ActorName != "" {
			ev.Actor, ev.Login = e.ActorName, e.Actor
		}
		if e.Kind == "filed" && by == "" {
			by, byLogin = ev.Actor, ev.Login
		}
		switch e.Kind {
		case "transition":
			ev.What = pg.t(r, "ticket.event.transition", pg.labelOf(r, "ticket.status", string(e.FromStatus)), pg.labelOf(r, "ticket.status", string(e.ToStatus)))
			if e.ToStatus == Assigned && e.Department != "" {
				ev.What += pg.t(r, "ticket.event.to_department", nameOr(deptNames, e.Department))
			}
		default:
			ev.What = pg.labelOf(r, "ticket.event", e.Kind)
		}
		out = append(out, ev)
	}
	return out, by, byLogin
}

// showDetail renders a ticket's page with status, forgetting the filed
// announcement once shown.
func (pg *Pages) showDetail(w http.ResponseWriter, r *http.Request, status int, d *pageDetailData) error {
	if d.Filed {
		http.SetCookie(w, &http.Cookie{Name: filedCookie, Value: "", Path: "/tickets/", HttpOnly: true,
			SameSite: http.SameSiteLaxMode, MaxAge: -1})
	}
	return pg.render.Page(w, r, status, "ticket/detail", d.T.Tracking, d)
}

// Detail shows a ticket (GET /tickets/{id}, an id or a tracking number):
// its state and deadlines, escalations, subject, reporter, photos,
// possible duplicates, the actions the caller may take, and the timeline.
func (pg *Pages) Detail(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	d, err := pg.detail(r, p, r.PathValue("id"))
	if err != nil {
		return err
	}
	return pg.showDetail(w, r, http.StatusOK, d)
}

// refuse shows a ticket's page again after a refused form: form holds
// what was typed and err's messages. Errors a user cannot correct are
// returned.
func (pg *Pages) refuse(w http.ResponseWriter, r *http.Request, p *auth.Principal, err error, vals url.Values,
	set func(d *pageDetailData, f *web.Form)) error {
	status := formStatus(err)
	if status == 0 {
		return err
	}
	d, derr := pg.detail(r, p, r.PathValue("id"))
	if derr != nil {
		return derr
	}
	form := web.NewForm(vals)
	pg.render.Fail(form, r, err)
	set(d, form)
	return pg.showDetail(w, r, status, d)
}

// Transition moves the ticket (POST /tickets/{id}/transitions: to,
// department, note, version).
func (pg *Pages) Transition(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	if err := web.ParseForm(w, r, pageMaxForm); err != nil {
		return err
	}
	vals := web.Trimmed(r, "to", "department", "version")
	vals.Set("note", strings.TrimSpace(r.PostForm.Get("note")))
	in := TransitionInput{To: Status(vals.Get("to")), Note: vals.Get("note")}
	if in.To == Assigned {
		// The form offers the department beside every action; it counts
		// only for an assignment.
		in.Department = vals.Get("department")
	}
	if v := vals.Get("version"); v != "" {
		if in.Version, err = strconv.Atoi(v); err != nil || in.Version < 0 {
			in.Version = -1 // a forged version is stale
		}
	}
	var t *Ticket
	if in.To == "" {
		err = errs.Fields("bad_transition", "请选择办理操作", errs.FieldError{Field: "to", Message: "请选择"})
	} else {
		t, err = pg.svc.Transition(r.Context(), p, r.PathValue("id"), in)
	}
	if err != nil {
		vals.Del("version")
		return pg.refuse(w, r, p, err, vals, func(d *pageDetailData, f *web.Form) { d.ActForm = f })
	}
	return web.SeeOther(w, r, link(t.ID), "ticket.flash.moved")
}

// Comment adds a comment (POST /tickets/{id}/comments: note).
func (pg *Pages) Comment(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	if err := web.ParseForm(w, r, pageMaxForm); err != nil {
		return err
	}
	vals := url.Values{"note": {strings.TrimSpace(r.PostForm.Get("note"))}}
	if _, err := pg.svc.Comment(r.Context(), p, r.PathValue("id"), CommentInput{Note: vals.Get("note")}); err != nil {
		return pg.refuse(w, r, p, err, vals, func(d *pageDetailData, f *web.Form) { d.CommentForm = f })
	}
	return web.SeeOther(w, r, "/tickets/"+url.PathEscape(r.PathValue("id"))+"#timeline", "ticket.flash.commented")
}

// Merge closes this ticket as a duplicate of another (POST
// /tickets/{id}/merge: into, note) and goes to the one kept.
func (pg *Pages) Merge(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	if err := web.ParseForm(w, r, pageMaxForm); err != nil {
		return err
	}
	vals := web.Trimmed(r, "into", "note")
	t, err := pg.svc.Merge(r.Context(), p, r.PathValue("id"), MergeInput{Into: vals.Get("into"), Note: vals.Get("note")})
	if err != nil {
		return pg.refuse(w, r, p, err, vals, func(d *pageDetailData, f *web.Form) { d.MergeForm = f })
	}
	return web.SeeOther(w, r, "/tickets/"+url.PathEscape(t.MergedInto), "ticket.flash.merged")
}

// RevealPhone shows the reporter's full phone number once to a handler
// who gives a reason (POST /tickets/{id}/reveal-phone: reason); it is
// audited.
func (pg *Pages) RevealPhone(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	if err := web.ParseForm(w, r, pageMaxForm); err != nil {
		return err
	}
	vals := web.Trimmed(r, "reason")
	phone, err := pg.svc.RevealPhone(r.Context(), p, r.PathValue("id"), vals.Get("reason"))
	if err != nil {
		return pg.refuse(w, r, p, err, vals, func(d *pageDetailData, f *web.Form) { d.RevealForm = f })
	}
	d, err := pg.detail(r, p, r.PathValue("id"))
	if err != nil {
		return err
	}
	d.RevealedPhone = phone
	web.NoStore(r)
	return pg.showDetail(w, r, http.StatusOK, d)
}

// AddPhoto attaches a photo (POST /tickets/{id}/photos,
// multipart/form-data with a "file" field; an image of at most 5 MB).
func (pg *Pages) AddPhoto(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	b, err := ReadPhoto(w, r)
	if err == nil {
		_, err = pg.svc.AddPhoto(r.Context(), p, r.PathValue("id"), b)
	}
	if err != nil {
		return pg.refuse(w, r, p, err, nil, func(d *pageDetailData, f *web.Form) { d.PhotoForm = f })
	}
	return web.SeeOther(w, r, "/tickets/"+url.PathEscape(r.PathValue("id"))+"#photos", "ticket.flash.photo_added")
}
