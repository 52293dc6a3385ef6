package masstest

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"tongxin/internal/area"
	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/errs"
	"tongxin/internal/importer"
	"tongxin/internal/pii"
)

// HouseholdSpec is the file format of the household register: one row
// per resident.
var HouseholdSpec = importer.Spec{
	Kind: "households",
	Columns: []importer.Column{
		{Key: "community_code", Header: "社区代码", Aliases: []string{"社区编码", "区划代码", "community"}, Required: true, Example: "430203001001"},
		{Key: "estate", Header: "小区", Aliases: []string{"小区名称"}, Required: true, Example: "庐山春天"},
		{Key: "building", Header: "楼栋", Aliases: []string{"楼号", "栋"}, Required: true, Example: "3栋"},
		{Key: "unit", Header: "单元", Example: "1单元"},
		{Key: "room", Header: "房号", Aliases: []string{"门牌号", "房间号"}, Required: true, Example: "201"},
		{Key: "name", Header: "姓名", Required: true, Example: "张三"},
		{Key: "id_number", Header: "身份证号", Aliases: []string{"身份证号码", "公民身份号码", "证件号码"}, Required: true,
			Example: "430203198501011234"},
		{Key: "phone", Header: "手机号", Aliases: []string{"手机", "联系电话"}, Example: "13907330003"},
		{Key: "birth_year", Header: "出生年份", Aliases: []string{"出生年"}, Example: "1985"},
		{Key: "flags", Header: "标记", Aliases: []string{"重点人员标记"}, Example: "独居老人"},
		{Key: "status", Header: "状态", Aliases: []string{"居住状态"}, Example: "在住"},
		{Key: "status_date", Header: "状态日期", Example: ""},
	},
	MaxRows: 50000,
}

// regRow is a checked row of a household import.
type regRow struct {
	num                          int
	community                    string // code
	estate, building, unit, room string
	name, id, phone              string // normalized
	birthYear                    int
	flags                        Flags
	status                       Status
	statusDate                   string // "" when the file gave none
}

// place is the household key of the row.
func (r *regRow) place() placeKey {
	return placeKey{r.community, r.estate, r.building, r.unit, r.room}
}

// placeKey names a household: community, estate, building, unit, room.
type placeKey struct{ community, estate, building, unit, room string }

// MaxPlaceTextLen bounds estate, building, unit and room, in characters.
const MaxPlaceTextLen = 40

// regChecker checks the rows of a household import: the cells, the
// communities (once per code) and ID numbers repeated in the file.
type regChecker struct {
	s      *Service
	p      *auth.Principal
	now    time.Time
	comms  map[string]*commCheck
	firstr map[string]int // ID number -> the row it first appeared in
	errs   importer.Errors
}

// commCheck is a community of the file, resolved once.
type commCheck struct {
	ref     AreaRef
	problem string
}

// add records a problem of a row's column.
func (ck *regChecker) add(num int, col, msg string) {
	ck.errs.Add(num, HouseholdSpec.HeaderOf(col), msg)
}

// row checks one row; the error is a failure to check.
func (ck *regChecker) row(ctx context.Context, row importer.Row) (regRow, error) {
	r := regRow{num: row.Num, community: row.Get("community_code")}
	before := ck.errs.Len()
	if err := ck.community(ctx, &r); err != nil {
		return r, err
	}
	ck.placeCells(row, &r)
	ck.person(row, &r)
	ck.extras(row, &r)
	if ck.errs.Len() == before {
		return r, nil
	}
	return regRow{num: row.Num}, nil
}

// community resolves the row's community: it exists, is a community, and
// p registers testing over it.
func (ck *regChecker) community(ctx context.Context, r *regRow) error {
	if r.community == "" {
		ck.add(r.num, "community_code", "请填写社区代码")
		return nil
	}
	c, seen := ck.comms[r.community]
	if !seen {
		c = &commCheck{}
		a, err := ck.s.areas.Lookup(ctx, r.community)
		switch {
		case errs.Is(err, errs.NotFound):
			c.problem = "区划 " + importer.Quote(r.community) + " 不存在"
		case err != nil:
			return err
		case a.Level != area.Community:
			c.problem = a.Name + " 不是社区：户籍登记以社区为单位"
		case !ck.p.Covers(auth.TestingRegister, a.Path):
			c.problem = a.Name + " 不在您的登记范围内"
		default:
			c.ref = AreaRef{Code: a.Code, Name: a.Name, Path: a.Path}
		}
		ck.comms[r.community] = c
	}
	if c.problem != "" {
		ck.add(r.num, "community_code", c.problem)
	}
	return nil
}

// placeCells reads estate, building, unit and room.
func (ck *regChecker) placeCells(row importer.Row, r *regRow) {
	for _, c := range []struct {
		key      string
		dst      *string
		required bool
	}{{"estate", &r.estate, true}, {"building", &r.building, true}, {"unit", &r.unit, false}, {"room", &r.room, true}} {
		*c.dst = row.Get(c.key)
		if m := errs.CheckLine(*c.dst, MaxPlaceTextLen, c.required); m != "" {
			ck.add(r.num, c.key, m)
		}
	}
}

// person reads the name, the ID number (once in the file) and the phone.
func (ck *regChecker) person(row importer.Row, r *regRow) {
	r.name = row.Get("name")
	if m := errs.CheckLine(r.name, MaxNameLen, true); m != "" {
		ck.add(r.num, "name", m)
	}
	id, err := pii.NormalizeResidentID(row.Get("id_number"))
	switch {
	case err != nil:
		ck.add(r.num, "id_number", err.Error())
	case ck.firstr[id] != 0:
		ck.add(r.num, "id_number", fmt.Sprintf("身份证号与第 %d 行重复", ck.firstr[id]))
	default:
		ck.firstr[id] = r.num
		r.id = id
	}
	if v := row.Get("phone"); v != "" {
		if r.phone, err = pii.NormalizePhone(v); err != nil {
			ck.add(r.num, "phone", err.Error())
		}
	}
}

// extras reads the birth year, the flags, the status and its date.
func (ck *regChecker) extras(row importer.Row, r *regRow) {
	year := ck.now.In(clock.Shanghai).Year()
	if r.id != "" {
		r.birthYear, _ = strconv.Atoi(r.id[6:10])
		if r.birthYear > year {
			ck.add(r.num, "id_number", "身份证号的出生日期晚于今天")
		}
	}
	if v := row.Get("birth_year"); v != "" {
		y, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSuffix(v, "年"), ".0"))
		switch {
		case err != nil || y < 1900 || y > year:
			ck.add(r.num, "birth_year", fmt.Sprintf("出生年份须为 1900 到 %d 的年份，而不是%s", year, importer.Quote(v)))
		case r.birthYear != 0 && y != r.birthYear:
			ck.add(r.num, "birth_year", fmt.Sprintf("出生年份 %d 与身份证号（%d 年）不符", y, r.birthYear))
		}
	}
	for _, name := range strings.FieldsFunc(row.Get("flags"), func(c rune) bool {
		return strings.ContainsRune("、,，;； \t", c)
	}) {
		if !r.flags.set(name) {
			ck.add(r.num, "flags", "未知标记"+importer.Quote(name)+"：可填 行动不便、独居老人、卧床、婴幼儿")
		}
	}
	var ok bool
	if r.status, ok = parseStatus(row.Get("status")); !ok {
		ck.add(r.num, "status", "状态须为 在住、外出、住院、已故 或 已迁出，而不是"+importer.Quote(row.Get("status")))
	}
	if v := importer.DatePart(row.Get("status_date")); v != "" {
		t, err := time.ParseInLocation(time.DateOnly, v, clock.Shanghai)
		if err != nil || t.Year() < 1900 || t.After(ck.now) {
			ck.add(r.num, "status_date", "状态日期须为不晚于今天的 YYYY-MM-DD，而不是"+importer.Quote(v))
		} else {
			r.statusDate = v
		}
	}
}
