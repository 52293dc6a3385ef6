package pass

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"tongxin/internal/area"
	"tongxin/internal/auth"
	"tongxin/internal/errs"
	"tongxin/internal/importer"
)

// NamableArea is an area an enterprise's passes may name: by its code, by
// its name when no other area in reach has it, or by its full name
// (芦淞区建设街道).
type NamableArea struct {
	Code     string `json:"code"`
	Name     string `json:"name"`
	FullName string `json:"full_name"` // from the reach's district down
	Level    string `json:"level"`
	Depth    int    `json:"depth"` // below the reach: 0 for the district itself
	Unique   bool   `json:"unique"`
}

// areaIndex resolves what a batch's 区域 column names within a reach.
type areaIndex struct {
	reach  *area.Area
	list   []NamableArea
	byCode map[string]int
	byName map[string][]int // every name variant → positions in list
}

// indexReach lists the reach of sub with every name each area may be
// written as: its own name, and its names joined from each ancestor down
// (建设街道, 芦淞区建设街道, 株洲市芦淞区建设街道).
func (s *Service) indexReach(ctx context.Context, reach *area.Area) (*areaIndex, error) {
	areas, err := s.areas.Subtree(ctx, reach.Code)
	if err != nil {
		return nil, err
	}
	names := map[string]string{} // code → name, ancestors of the reach included
	for _, code := range strings.Split(strings.Trim(reach.Path, "/"), "/") {
		a, err := s.areas.Lookup(ctx, code)
		if err != nil {
			return nil, err
		}
		names[code] = a.Name
	}
	for _, a := range areas {
		names[a.Code] = a.Name
	}
	ix := &areaIndex{reach: reach, byCode: map[string]int{}, byName: map[string][]int{}}
	reachDepth := len(strings.Split(strings.Trim(reach.Path, "/"), "/"))
	for _, a := range areas {
		codes := strings.Split(strings.Trim(a.Path, "/"), "/")
		chain := make([]string, len(codes))
		for i, c := range codes {
			chain[i] = names[c]
		}
		i := len(ix.list)
		// The full name starts at the reach's district, or at the area
		// below the city when the reach is the city itself.
		from := min(max(reachDepth-1, 1), len(chain)-1)
		ix.list = append(ix.list, NamableArea{Code: a.Code, Name: a.Name, FullName: strings.Join(chain[from:], ""),
			Level: string(a.Level), Depth: len(codes) - reachDepth})
		ix.byCode[a.Code] = i
		seen := map[string]bool{}
		for k := range chain {
			v := strings.Join(chain[k:], "")
			if !seen[v] {
				seen[v] = true
				ix.byName[v] = append(ix.byName[v], i)
			}
		}
	}
	for i := range ix.list {
		ix.list[i].Unique = len(ix.byName[ix.list[i].Name]) == 1
	}
	return ix, nil
}

// resolve reads one item of the 区域 column: a code or a name within
// reach. It returns the code, or a message for the row.
func (ix *areaIndex) resolve(ctx context.Context, areas Areas, item string) (string, string, error) {
	if i, ok := ix.byCode[item]; ok {
		return ix.list[i].Code, "", nil
	}
	if hits := ix.byName[item]; len(hits) == 1 {
		return ix.list[hits[0]].Code, "", nil
	} else if len(hits) > 1 {
		var full []string
		for _, i := range hits {
			full = append(full, ix.list[i].FullName)
		}
		return "", fmt.Sprintf("区域「%s」有 %d 处同名（%s）：请写全称或区划编码", item, len(hits), strings.Join(full, "、")), nil
	}
	// Not in reach: say why, naming a known area outside it.
	if isDigits(item) {
		a, err := areas.Lookup(ctx, item)
		switch {
		case errs.Is(err, errs.NotFound):
			return "", fmt.Sprintf("区划 %s 不存在", item), nil
		case err != nil:
			return "", "", err
		}
		return "", fmt.Sprintf("区划 %s（%s）不在本企业所在的%s范围内", item, a.Name, ix.reach.Name), nil
	}
	return "", fmt.Sprintf("本企业所在的%s范围内没有区域「%s」：请按「可填写的区域」页面填写名称或区划编码", ix.reach.Name, item), nil
}

func isDigits(s string) bool {
	return s != "" && strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }) < 0
}

// AreaList is the areas an enterprise's passes may name.
type AreaList struct {
	Enterprise     string        `json:"enterprise"`
	EnterpriseName string        `json:"enterprise_name"`
	Reach          string        `json:"reach"` // the district's name
	Areas          []NamableArea `json:"areas"`
}

// NamableAreas lists the areas the passes of enterprise key may name
// (its district's subtree). A contact names one of their enterprises ("":
// their first); others name one they read passes of.
func (s *Service) NamableAreas(ctx context.Context, p *auth.Principal, key string) (*AreaList, error) {
	const op = "pass.NamableAreas"
	v, err := reads(p, op)
	if err != nil {
		return nil, err
	}
	key = normalizeKey(key)
	if key == "" {
		refs := p.Refs(auth.EnterpriseContact)
		if len(refs) == 0 {
			return nil, errs.Wrap(op, errs.Fields("enterprise_required", "请指定企业（enterprise）",
				errs.FieldError{Field: "enterprise", Message: "必填"}))
		}
		key = refs[0]
	}
	sub, err := s.subjectOf(ctx, key)
	if err == nil && !v.covers(key, sub.Area.Path) {
		err = errEnterpriseNotFound()
	}
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	ix, err := s.indexReach(ctx, sub.Reach)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return &AreaList{Enterprise: key, EnterpriseName: sub.Name, Reach: sub.Reach.Name, Areas: ix.list}, nil
}

// areaNames maps the area codes of passes or rows to their names, each
// looked up once; a code that is no longer an area keeps its code.
func (s *Service) areaNames(ctx context.Context, lists ...[]string) (map[string]string, error) {
	out := map[string]string{}
	for _, l := range lists {
		for _, code := range l {
			if _, ok := out[code]; ok {
				continue
			}
			a, err := s.areas.Lookup(ctx, code)
			switch {
			case errs.Is(err, errs.NotFound):
				out[code] = code
			case err != nil:
				return nil, err
			default:
				out[code] = a.Name
			}
		}
	}
	return out, nil
}

// exampleMarker begins the name of the template's example row, which an
// upload skips: a contact may keep it above their own rows.
const exampleMarker = "示例"

// isExample reports whether a row is the template's example row.
func isExample(r importer.Row) bool {
	name := strings.TrimSpace(r.Get("name"))
	name = strings.TrimLeft(name, "（(【[")
	return strings.HasPrefix(name, exampleMarker)
}

// withoutExamples drops the example rows of a file.
func withoutExamples(rows []importer.Row) (kept []importer.Row, skipped int) {
	kept = slices.DeleteFunc(slices.Clone(rows), isExample)
	return kept, len(rows) - len(kept)
}
