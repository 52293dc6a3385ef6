package resumption

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"tongxin/internal/audit"
	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/errs"
)

// Power load (电力数据): a pre-epidemic baseline per scope and the daily
// maximum loads filed against it; recovery = load ÷ baseline. Scopes are
// "city_industrial" (the city's industrial load), "district_industrial:CODE"
// and "park:NAME" (an industrial park). Every filing of a reading is kept;
// "as of T" reads the versions filed at or before T.

// Power scope kinds.
const (
	ScopeCityIndustrial     = "city_industrial"
	ScopeDistrictIndustrial = "district_industrial" // district_industrial:CODE
	ScopePark               = "park"                // park:NAME
)

// ParksScope is the scope of the parks' total in Stats.ParksTotal.
const ParksScope = "parks"

// Limits of power data.
const (
	MaxPowerKW      = 1e12
	MaxPowerNameLen = 100
	MaxReferenceLen = 200
)

// BaselineInput is a baseline as set by a manager.
type BaselineInput struct {
	AreaCode   string  `json:"area_code"`
	Name       string  `json:"name"`
	BaselineKW float64 `json:"baseline_kw"`
	Reference  string  `json:"reference"`
}

// Baseline is the pre-epidemic reference load of a power scope.
type Baseline struct {
	Scope      string    `json:"scope"`
	AreaCode   string    `json:"area_code"`
	Name       string    `json:"name"`
	BaselineKW float64   `json:"baseline_kw"`
	Reference  string    `json:"reference"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// ReadingInput is a daily maximum load as filed.
type ReadingInput struct {
	Scope     string  `json:"scope"`
	Date      string  `json:"date"`
	MaxLoadKW float64 `json:"max_load_kw"`
}

// Reading is one filed daily maximum load.
type Reading struct {
	Scope     string    `json:"scope"`
	Date      string    `json:"date"`
	MaxLoadKW float64   `json:"max_load_kw"`
	FiledAt   time.Time `json:"filed_at"`
	FiledBy   string    `json:"filed_by"`
}

func errBaselineNotFound() *errs.Error {
	return errs.E(errs.NotFound, "baseline_not_found", "该范围尚未设置电力基准")
}

// powerScope is a parsed scope.
type powerScope struct {
	kind, ref string
}

func (ps powerScope) String() string {
	if ps.ref == "" {
		return ps.kind
	}
	return ps.kind + ":" + ps.ref
}

// parsePowerScope reads "city_industrial", "district_industrial:CODE" or
// "park:NAME".
func parsePowerScope(s string) (powerScope, error) {
	s = strings.TrimSpace(s)
	kind, ref, _ := strings.Cut(s, ":")
	ref = strings.TrimSpace(ref)
	bad := func(msg string) (powerScope, error) {
		return powerScope{}, &errs.Error{Kind: errs.Invalid, Code: "bad_scope", Message: msg,
			Fields: []errs.FieldError{{Field: "scope", Message: msg}}}
	}
	switch kind {
	case ScopeCityIndustrial:
		if ref != "" {
			return bad("city_industrial 不带编码")
		}
	case ScopeDistrictIndustrial:
		if ref == "" || len(ref) > 32 {
			return bad("区县工业负荷的范围须写作 district_industrial:区县编码")
		}
	case ScopePark:
		if ref == "" {
			return bad("园区负荷的范围须写作 park:园区名称")
		}
		if utf8.RuneCountInString(ref) > MaxPowerNameLen || strings.ContainsFunc(ref, isControlRune) {
			return bad(fmt.Sprintf("园区名称不能超过 %d 个字，且不能包含控制字符", MaxPowerNameLen))
		}
	default:
		return bad(fmt.Sprintf("电力数据范围 %q 无效：应为 city_industrial、district_industrial:区县编码 或 park:园区名称", s))
	}
	return powerScope{kind: kind, ref: ref}, nil
}

func isControlRune(r rune) bool { return r < 0x20 || r == 0x7f }

// powerRank orders scopes: the city, districts, parks.
func powerRank(scope string) int {
	switch {
	case scope == ScopeCityIndustrial:
		return 0
	case strings.HasPrefix(scope, ScopeDistrictIndustrial+":"):
		return 1
	case strings.HasPrefix(scope, ScopePark+":"):
		return 2
	}
	return 3
}

func comparePowerScopes(a, b string) int {
	if c := powerRank(a) - powerRank(b); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

// validLoad reports whether kw is a usable load or baseline.
func validLoad(kw float64) bool {
	return !math.IsNaN(kw) && !math.IsInf(kw, 0) && kw >= 0 && kw <= MaxPowerKW
}

// PutBaseline creates or replaces the baseline of scope. It needs
// resumption.manage over the baseline's area (and over its former area
// when it moves); the change is audited.
func (s *Service) PutBaseline(ctx context.Context, p *auth.Principal, scope string, in BaselineInput) (*Baseline, error) {
	const op = "resumption.PutBaseline"
	if err := auth.Require(p, auth.ResumptionManage, op); err != nil {
		return nil, err
	}
	ps, err := parsePowerScope(scope)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	if err := validateBaseline(ps, &in); err != nil {
		return nil, errs.Wrap(op, err)
	}
	var out *Baseline
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		a, err := getAreaRef(ctx, tx, in.AreaCode)
		if err != nil {
			return err
		}
		if err := auth.Authorize(p, auth.ResumptionManage, a.Path, op, errAreaNotFound()); err != nil {
			return err
		}
		if err := baselineAreaProblem(ps, a); err != nil {
			return err
		}
		if in.Name == "" {
			in.Name = defaultBaselineName(ps, a)
		}
		old, found, err := getBaseline(ctx, tx, ps.String())
		if err != nil {
			return err
		}
		if found && !p.Covers(auth.ResumptionManage, old.path) {
			return errBaselineNotFound()
		}
		out = &Baseline{Scope: ps.String(), AreaCode: a.Code, Name: in.Name, BaselineKW: in.BaselineKW, Reference: in.Reference, UpdatedAt: tx.Now}
		if err := upsertBaseline(ctx, tx, *out); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{ActorID: p.UserID, Actor: p.Actor(), Action: "power.baseline.put",
			ObjectType: "power_baseline", ObjectID: ps.String(), AreaCode: a.Code, Summary: baselineSummary(ps, in, a, old, found)})
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return out, nil
}

// validateBaseline trims in and checks what needs no database; a
// district's baseline takes the district of its scope as its area.
func validateBaseline(ps powerScope, in *BaselineInput) error {
	in.AreaCode = strings.TrimSpace(in.AreaCode)
	in.Name = strings.TrimSpace(in.Name)
	in.Reference = strings.TrimSpace(in.Reference)
	var fields []errs.FieldError
	add := func(f, msg string) { fields = append(fields, errs.FieldError{Field: f, Message: msg}) }
	if ps.kind == ScopeDistrictIndustrial {
		if in.AreaCode == "" {
			in.AreaCode = ps.ref
		} else if in.AreaCode != ps.ref {
			add("area_code", "区县工业负荷的区划须与范围中的区县编码一致")
		}
	}
	if in.AreaCode == "" {
		add("area_code", "请填写所属区划编码")
	}
	if in.BaselineKW <= 0 || !validLoad(in.BaselineKW) {
		add("baseline_kw", "基准负荷须为大于 0 的千瓦数")
	}
	if utf8.RuneCountInString(in.Name) > MaxPowerNameLen || strings.ContainsFunc(in.Name, isControlRune) {
		add("name", fmt.Sprintf("名称不能超过 %d 个字，且不能包含控制字符", MaxPowerNameLen))
	}
	if utf8.RuneCountInString(in.Reference) > MaxReferenceLen || strings.ContainsFunc(in.Reference, isControlRune) {
		add("reference", fmt.Sprintf("基准说明不能超过 %d 个字，且不能包含控制字符", MaxReferenceLen))
	}
	if len(fields) > 0 {
		return &errs.Error{Kind: errs.Invalid, Code: "invalid_baseline", Message: joinFieldMessages("电力基准有误：", fields), Fields: fields}
	}
	return nil
}

// baselineAreaProblem refuses an area of the wrong level for the scope:
// the city's industry belongs to the city, a district's to the district.
func baselineAreaProblem(ps powerScope, a areaRef) error {
	switch {
	case ps.kind == ScopeCityIndustrial && a.Level != "city":
		return &errs.Error{Kind: errs.Invalid, Code: "invalid_baseline", Message: "全市工业负荷的区划须为市级",
			Fields: []errs.FieldError{{Field: "area_code", Message: "须为市级区划"}}}
	case ps.kind == ScopeDistrictIndustrial && a.Level != "district":
		return &errs.Error{Kind: errs.Invalid, Code: "invalid_baseline", Message: "区县工业负荷的区划须为区县级",
			Fields: []errs.FieldError{{Field: "area_code", Message: "须为区县级区划"}}}
	}
	return nil
}

// defaultBaselineName names a baseline set without a name.
func defaultBaselineName(ps powerScope, a areaRef) string {
	switch ps.kind {
	case ScopeCityIndustrial:
		return "全市工业"
	case ScopeDistrictIndustrial:
		return a.Name + "工业"
	}
	return ps.ref
}

// baselineSummary describes a baseline put for the audit log; old is the
// one it replaces, if found.
func baselineSummary(ps powerScope, in BaselineInput, a areaRef, old baselineRow, found bool) string {
	summary := fmt.Sprintf("设置电力基准 %s（%s）：%s 千瓦，区划 %s", in.Name, ps, formatKW(in.BaselineKW), a.Code)
	if in.Reference != "" {
		summary += "，依据：" + in.Reference
	}
	if found {
		summary += fmt.Sprintf("；原为 %s 千瓦，区划 %s", formatKW(old.BaselineKW), old.AreaCode)
	}
	return summary
}

func joinFieldMessages(prefix string, fields []errs.FieldError) string {
	msgs := make([]string, len(fields))
	for i, f := range fields {
		msgs[i] = f.Message
	}
	return prefix + strings.Join(msgs, "；")
}

// formatKW writes a load without exponent or needless decimals.
func formatKW(kw float64) string { return strconv.FormatFloat(kw, 'f', -1, 64) }

// related reports whether the area at path lies inside one of paths or
// above one of them.
func related(path string, paths []string) bool {
	for _, p := range paths {
		if strings.HasPrefix(path, p) || strings.HasPrefix(p, path) {
			return true
		}
	}
	return false
}

// Baselines lists the baselines of the caller's reach: those of areas
// inside it and of the areas above it (a district sees the city's).
func (s *Service) Baselines(ctx context.Context, p *auth.Principal) ([]Baseline, error) {
	const op = "resumption.Baselines"
	if err := auth.Require(p, auth.ResumptionRead, op); err != nil {
		return nil, err
	}
	paths, all := p.AreaPaths(auth.ResumptionRead)
	out := []Baseline{}
	err := s.db.Read(ctx, func(tx *db.Tx) error {
		list, err := listBaselines(ctx, tx)
		if err != nil {
			return err
		}
		for _, b := range list {
			if all || related(b.path, paths) {
				out = append(out, b.Baseline)
			}
		}
		return nil
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return out, nil
}

// AddReading files the daily maximum load of a scope that has a baseline.
// Each filing is a new version; the latest filed as of a moment counts.
// It needs resumption.manage over the baseline's area; dates in the future
// (Asia/Shanghai) are refused; the filing is audited.
func (s *Service) AddReading(ctx context.Context, p *auth.Principal, in ReadingInput) (*Reading, error) {
	const op = "resumption.AddReading"
	if err := auth.Require(p, auth.ResumptionManage, op); err != nil {
		return nil, err
	}
	ps, err := parsePowerScope(in.Scope)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	in.Scope = ps.String()
	in.Date = strings.TrimSpace(in.Date)
	var fields []errs.FieldError
	if d, err := time.Parse(DateLayout, in.Date); err != nil || d.Format(DateLayout) != in.Date {
		fields = append(fields, errs.FieldError{Field: "date", Message: "日期须为 YYYY-MM-DD 格式的有效日期"})
	}
	if !validLoad(in.MaxLoadKW) {
		fields = append(fields, errs.FieldError{Field: "max_load_kw", Message: "最大负荷须为不小于 0 的千瓦数"})
	}
	if len(fields) > 0 {
		return nil, errs.Wrap(op, &errs.Error{Kind: errs.Invalid, Code: "invalid_reading", Message: joinFieldMessages("负荷数据有误：", fields), Fields: fields})
	}
	var out *Reading
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		if today := tx.Now.In(clock.Shanghai).Format(DateLayout); in.Date > today {
			return &errs.Error{Kind: errs.Invalid, Code: "invalid_reading", Message: "负荷数据有误：不能填报未来日期",
				Fields: []errs.FieldError{{Field: "date", Message: "不能填报未来日期"}}}
		}
		b, found, err := getBaseline(ctx, tx, in.Scope)
		if err != nil {
			return err
		}
		if !found {
			return errBaselineNotFound()
		}
		if err := auth.Authorize(p, auth.ResumptionManage, b.path, op, errBaselineNotFound()); err != nil {
			return err
		}
		if err := insertReading(ctx, tx, in, p.Actor()); err != nil {
			return err
		}
		out = &Reading{Scope: in.Scope, Date: in.Date, MaxLoadKW: in.MaxLoadKW, FiledAt: tx.Now, FiledBy: p.Actor()}
		return audit.Record(ctx, tx, audit.Entry{ActorID: p.UserID, Actor: p.Actor(), Action: "power.reading.add",
			ObjectType: "power_reading", ObjectID: in.Scope + "@" + in.Date, AreaCode: b.AreaCode,
			Summary: fmt.Sprintf("填报 %s（%s）%s 最大负荷 %s 千瓦，恢复至基准的 %.2f%%", b.Name, in.Scope, in.Date,
				formatKW(in.MaxLoadKW), in.MaxLoadKW/b.BaselineKW*100)})
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return out, nil
}

// ParksTotal sums the parks' latest loads and baselines (the seed's
// "园区总负荷"); ok is false without park figures. Its date is the latest
// of the parks' dates.
func (st *Stats) ParksTotal() (total PowerStat, ok bool) {
	total = PowerStat{Scope: ParksScope, Name: "园区合计"}
	for _, p := range st.Power {
		if !strings.HasPrefix(p.Scope, ScopePark+":") {
			continue
		}
		ok = true
		total.MaxLoadKW += p.MaxLoadKW
		total.BaselineKW += p.BaselineKW
		total.Date = max(total.Date, p.Date)
	}
	total.Recovery = ratio(total.MaxLoadKW, total.BaselineKW)
	return total, ok
}

// loadPower returns, for every baseline (all) or every baseline inside or
// above paths, its latest reading as of m: the greatest date not after m's
// date and, for it, the latest version filed at or before m. Baselines
// without such a reading are left out.
func loadPower(ctx context.Context, tx *db.Tx, all bool, paths []string, m moment) ([]PowerStat, error) {
	if !all && len(paths) == 0 {
		return []PowerStat{}, nil
	}
	list, err := latestReadings(ctx, tx, m)
	if err != nil {
		return nil, err
	}
	return powerWithin(list, all, paths), nil
}

// powerWithin keeps the readings of every baseline (all) or of those
// inside or above paths.
func powerWithin(list []powerReading, all bool, paths []string) []PowerStat {
	out := []PowerStat{}
	for _, r := range list {
		if all || related(r.path, paths) {
			out = append(out, r.stat())
		}
	}
	return out
}
