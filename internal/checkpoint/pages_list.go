package checkpoint

import (
	"net/http"
	"net/url"
	"strings"

	"tongxin/internal/auth"
	"tongxin/internal/web"
)

// The checkpoint list, with the registration form for managers.

// pageListData is the data of checkpoint/list.
type pageListData struct {
	Rows      []*Checkpoint
	Kinds     []Kind
	Kind      string
	CanManage bool
	Form      *web.Form
}

func (pg *Pages) list(r *http.Request, p *auth.Principal, form *web.Form) (*pageListData, error) {
	kind := strings.TrimSpace(r.URL.Query().Get("kind"))
	rows, err := pg.svc.List(r.Context(), p, Filter{Kind: Kind(kind)})
	if err != nil {
		return nil, err
	}
	if form == nil {
		form = web.NewForm(url.Values{"kind": {string(Bridge)}, "open": {"true"}})
	}
	return &pageListData{Rows: rows, Kinds: Kinds, Kind: kind, CanManage: p.Can(auth.CheckpointManage), Form: form}, nil
}

// List answers GET /checkpoints?kind=: the checkpoints in reach with who
// is on duty, and the registration form for managers.
func (pg *Pages) List(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	d, err := pg.list(r, p, nil)
	if err != nil {
		return err
	}
	return pg.render.Page(w, r, http.StatusOK, "checkpoint/list", "checkpoint.list.title", d)
}

// inputOf reads a checkpoint form.
func inputOf(vals url.Values) (CheckpointInput, error) {
	in := CheckpointInput{Name: vals.Get("name"), Kind: Kind(vals.Get("kind")), Place: vals.Get("place"),
		AreaCode: vals.Get("area_code"), Estate: vals.Get("estate"), Open: ptrOf(vals.Get("open") == "true")}
	var err error
	if in.Lat, err = formFloat(vals.Get("lat"), "lat"); err != nil {
		return in, err
	}
	in.Lng, err = formFloat(vals.Get("lng"), "lng")
	return in, err
}

func ptrOf[T any](v T) *T { return &v }

// Create registers a checkpoint (POST /checkpoints: name, kind, place,
// area_code, open, lat, lng).
func (pg *Pages) Create(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	if err := web.ParseForm(w, r, pageMaxForm); err != nil {
		return err
	}
	vals := web.Trimmed(r, "name", "kind", "place", "area_code", "estate", "open", "lat", "lng")
	in, err := inputOf(vals)
	var c *Checkpoint
	if err == nil {
		c, err = pg.svc.Create(r.Context(), p, in)
	}
	if err != nil {
		status := web.FormStatus(err)
		if status == 0 {
			return err
		}
		form := web.NewForm(vals)
		pg.render.Fail(form, r, err)
		d, derr := pg.list(r, p, form)
		if derr != nil {
			return derr
		}
		if !d.CanManage {
			// No form on the page to show the refusal: the error page.
			return err
		}
		return pg.render.Page(w, r, status, "checkpoint/list", "checkpoint.list.title", d)
	}
	return web.SeeOther(w, r, "/checkpoints/"+c.Ref(), "checkpoint.flash.created")
}
