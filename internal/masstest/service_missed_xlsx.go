package masstest

import (
	"context"
	"fmt"
	"strings"

	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/importer"
)

// Limits of the missed list as a workbook.
const (
	MaxMissedExport = 100000 // rows; a wider area is refused, not cut
	MaxMissedSheets = 200    // buildings with a sheet each; more go on one sheet
)

var missedSheetCols = []importer.Col{{Header: "社区"}, {Header: "小区"}, {Header: "楼栋"}, {Header: "单元"}, {Header: "房号"},
	{Header: "姓名"}, {Header: "身份证号"}, {Header: "手机号"}, {Header: "出生年份", Type: importer.Int}, {Header: "状态"},
	{Header: "需上门"}, {Header: "标记"}, {Header: "采样签字"}}

// MissedXLSX is a round's whole missed list under an area as a workbook
// for the door-to-door teams: one sheet a building (a single sheet when
// the area has more than MaxMissedSheets buildings), masked, with a
// column for the collector's signature.
func (s *Service) MissedXLSX(ctx context.Context, p *auth.Principal, roundRef, areaCode string) (string, []byte, error) {
	const op = "masstest.MissedXLSX"
	var rows []missedRow
	var r *Round
	var a AreaRef
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		var err error
		if r, a, err = s.roundArea(ctx, tx, p, roundRef, areaCode, op); err != nil {
			return err
		}
		tally, err := tallyRows(ctx, tx, r.ID, a.Path)
		if err != nil {
			return err
		}
		rows, err = missedPage(ctx, tx, r.ID, communitiesOf(tally), MaxMissedExport+1, 0)
		return err
	})
	if err != nil {
		return "", nil, errs.Wrap(op, err)
	}
	if len(rows) > MaxMissedExport {
		return "", nil, errs.E(errs.Invalid, "too_many_rows", fmt.Sprintf("未采样名单超过 %d 人，请按街道或社区分别导出", MaxMissedExport))
	}
	people, err := s.unseal(rows)
	if err != nil {
		return "", nil, errs.Wrap(op, err)
	}
	b, err := importer.WriteBook(missedSheets(people)...)
	if err != nil {
		return "", nil, errs.Wrap(op, err)
	}
	return fmt.Sprintf("%s第%d轮未采样名单_%s.xlsx", r.Campaign, r.Number, a.Name), b, nil
}

// missedSheets puts people (in address order) on a sheet a building.
func missedSheets(people []MissedPerson) []importer.Sheet {
	var sheets []importer.Sheet
	for _, m := range people {
		name := m.Address.CommunityName + m.Address.Estate + m.Address.Building
		if len(sheets) == 0 || sheets[len(sheets)-1].Name != name {
			sheets = append(sheets, importer.Sheet{Name: name, Cols: missedSheetCols})
		}
		sh := &sheets[len(sheets)-1]
		sh.Rows = append(sh.Rows, missedRowCells(m))
	}
	if len(sheets) > MaxMissedSheets || len(sheets) == 0 {
		all := importer.Sheet{Name: "未采样名单", Cols: missedSheetCols}
		for _, sh := range sheets {
			all.Rows = append(all.Rows, sh.Rows...)
		}
		return []importer.Sheet{all}
	}
	return sheets
}

func missedRowCells(m MissedPerson) []any {
	door := ""
	if m.AtHome {
		door = "是"
	}
	return []any{m.Address.CommunityName, m.Address.Estate, m.Address.Building, m.Address.Unit, m.Address.Room, m.Name,
		m.IDNumber, m.Phone, m.BirthYear, m.StatusName, door, flagNames(m.Flags), nil}
}

// flagNames are the set flags in Chinese, separated by 、.
func flagNames(f Flags) string {
	var out []string
	for _, x := range []struct {
		on   bool
		name string
	}{{f.MobilityImpaired, "行动不便"}, {f.ElderlyAlone, "独居老人"}, {f.Bedridden, "卧床"}, {f.Infant, "婴幼儿"}} {
		if x.on {
			out = append(out, x.name)
		}
	}
	return strings.Join(out, "、")
}
