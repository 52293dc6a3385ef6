package resumption

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/errs"
	"tongxin/internal/importer"
	"tongxin/internal/web"
)

// Enterprise list and export

// pageListForm is the enterprise list's filter as typed.
type pageListForm struct {
	Area, Park, Category, Kind, Query string
	KeyOnly                           bool
}

// Narrowed reports whether a filter other than the search is set.
func (f pageListForm) Narrowed() bool {
	return f.Area != "" || f.Park != "" || f.Category != "" || f.Kind != "" || f.KeyOnly
}

// query encodes the filter (without the cursor).
func (f pageListForm) query() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"area": f.Area, "park": f.Park, "category": f.Category, "kind": f.Kind, "q": f.Query} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if f.KeyOnly {
		v.Set("key_only", "1")
	}
	return v
}

// pageListFilter reads the filter of the list and its export.
func pageListFilter(q url.Values) (pageListForm, ListFilter, error) {
	f := pageListForm{Area: strings.TrimSpace(q.Get("area")), Park: strings.TrimSpace(q.Get("park")),
		Category: strings.TrimSpace(q.Get("category")), Kind: strings.TrimSpace(q.Get("kind")), Query: strings.TrimSpace(q.Get("q"))}
	switch q.Get("key_only") {
	case "", "0", "false":
	default:
		f.KeyOnly = true
	}
	lf := ListFilter{Park: f.Park, Kind: Kind(f.Kind), KeyOnly: f.KeyOnly, Query: f.Query}
	if f.Area != "" {
		lf.Areas = []string{f.Area}
	}
	if pageRunes(f.Query) > 100 || pageRunes(f.Park) > 100 || pageRunes(f.Area) > 20 {
		return f, lf, errs.E(errs.Invalid, "bad_filter", "筛选条件过长")
	}
	switch {
	case f.Category == "":
	case f.Category == GroupFourAbove:
		lf.Category = GroupFourAbove
	default:
		c, err := ParseCategory(f.Category)
		if err != nil {
			return f, lf, &errs.Error{Kind: errs.Invalid, Code: "bad_filter", Message: err.Error(),
				Fields: []errs.FieldError{{Field: "category", Message: "未知类别"}}}
		}
		lf.Category = c
		f.Category = string(c)
	}
	return f, lf, nil
}

func pageRunes(s string) int { return len([]rune(s)) }

// areaByName reads an area filter given by name ("芦淞区", "建设街道") as
// the area's code, among the areas the caller reaches; a code stays as it
// is. A name that matches no area, or several, is refused with a message.
func (pg *Pages) areaByName(ctx context.Context, p *auth.Principal, lf *ListFilter) error {
	if len(lf.Areas) != 1 || strings.Trim(lf.Areas[0], "0123456789") == "" {
		return nil
	}
	name := lf.Areas[0]
	codes, err := pg.svc.AreasNamed(ctx, p, name)
	if err != nil {
		return err
	}
	msg := ""
	switch len(codes) {
	case 1:
		lf.Areas = codes
		return nil
	case 0:
		msg = fmt.Sprintf("没有名为“%s”的区划；请输入区划名称（如 芦淞区）或编码（如 430203）", name)
	default:
		msg = fmt.Sprintf("名为“%s”的区划不止一个（%s），请输入区划编码", name, strings.Join(codes, "、"))
	}
	return &errs.Error{Kind: errs.Invalid, Code: "bad_filter", Message: msg, Fields: []errs.FieldError{{Field: "area", Message: msg}}}
}

// pageListData is the data of resumption/list.
type pageListData struct {
	Filter     pageListForm
	Areas      []pageAreaOption
	Categories []Category
	Items      []Enterprise
	NextURL    string
	ExportURL  string
	Error      string
	MayReport  map[string]bool
}

// EnterpriseList shows the enterprises the caller reaches (GET
// /enterprises?area=&park=&category=&kind=&key_only=&q=&after=), 50 a page.
func (pg *Pages) EnterpriseList(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f, lf, ferr := pageListFilter(q)
	d := pageListData{Filter: f, Categories: Categories, MayReport: map[string]bool{}}
	if d.Areas, err = pg.areaOptions(r.Context(), p); err != nil {
		return err
	}
	status := http.StatusOK
	if ferr == nil {
		ferr = pg.areaByName(r.Context(), p, &lf)
	}
	if ferr == nil {
		lf.After, lf.Limit = strings.TrimSpace(q.Get("after")), pageListSize+1
		d.Items, ferr = pg.svc.List(r.Context(), p, lf)
	}
	if ferr != nil {
		if web.FormStatus(ferr) == 0 || !errs.Is(ferr, errs.Invalid) {
			return ferr
		}
		status, d.Error, d.Items = http.StatusBadRequest, pg.render.Message(r, ferr), nil
	}
	if len(d.Items) > pageListSize {
		d.Items = d.Items[:pageListSize]
		v := f.query()
		v.Set("after", d.Items[pageListSize-1].Key)
		d.NextURL = "/enterprises?" + v.Encode()
	}
	for i := range d.Items {
		d.MayReport[d.Items[i].Key] = pageMayReport(p, &d.Items[i])
	}
	d.ExportURL = "/enterprises.xlsx"
	if enc := f.query().Encode(); enc != "" {
		d.ExportURL += "?" + enc
	}
	return pg.render.Page(w, r, status, "resumption/list", "ent.title", d)
}

// EnterpriseExport answers GET /enterprises.xlsx (the list's filters) with
// every matching enterprise and every column of the list, phones masked.
func (pg *Pages) EnterpriseExport(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Principal(r)
	if err != nil {
		return err
	}
	_, lf, err := pageListFilter(r.URL.Query())
	if err == nil {
		err = pg.areaByName(r.Context(), p, &lf)
	}
	if err != nil {
		return err
	}
	sheet := importer.Sheet{Name: pg.t(r, "ent.title"), Cols: pg.textCols(r, "ent.col.key", "ent.col.name", "ent.col.kind",
		"ent.col.area_code", "ent.col.area", "ent.col.park", "ent.col.categories", "ent.col.is_key", "ent.col.employees",
		"ent.col.contact", "ent.col.phone", "ent.col.closed_loop", "ent.col.liaisons")}
	sheet.Cols[8].Type = importer.Int
	rows := sheet.Rows
	lf.Limit = pageExportChunk
	for len(rows) < pageExportMax {
		list, err := pg.svc.List(r.Context(), p, lf)
		if err != nil {
			return err
		}
		for _, e := range list {
			rows = append(rows, []any{e.Key, e.Name, pg.labelOf(r, "kind", string(e.Kind)), e.AreaCode, e.AreaName, e.Park,
				pg.categoryText(r, e.Categories), pg.yesNo(r, e.IsKey), e.Employees, e.ContactName, e.ContactPhone,
				pg.yesNo(r, e.ClosedLoop), strings.Join(e.Liaisons, "、")})
		}
		if len(list) < lf.Limit {
			break
		}
		lf.After = list[len(list)-1].Key
	}
	sheet.Rows = rows
	b, err := importer.WriteBook(sheet)
	if err != nil {
		return err
	}
	return web.Attachment(w, importer.MediaXLSX, "enterprises-"+pg.now().In(clock.Shanghai).Format("20060102-1504")+".xlsx", b)
}

// textCols are text columns headed by the catalog's texts of keys.
func (pg *Pages) textCols(r *http.Request, keys ...string) []importer.Col {
	cols := make([]importer.Col, len(keys))
	for i, k := range keys {
		cols[i] = importer.Col{Header: pg.t(r, k)}
	}
	return cols
}
