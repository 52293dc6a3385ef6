package resumption

import (
	"context"
	"slices"
	"strings"
	"time"

	"tongxin/internal/area"
	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/errs"
)

// Statistics as of a moment. Three reads per moment, whatever the number of
// units: the units in scope (one query), their categories (one query) and
// their latest reports — for a large scope the moment's day of reports in
// one range scan of resumption_reports_day (and earlier days while that
// pays), for the units left one index probe each through
// resumption_reports_latest. Everything is counted in Go. A per-unit
// correlated subquery alone costs 5–10 µs a unit on either database, and
// PostgreSQL may turn its join into a scan of every report.

// StatsQuery selects the units and the moment of a statistic.
type StatsQuery struct {
	// Areas are area codes, each standing for its subtree; repeated or
	// nested codes count each unit once. Empty means everything the
	// caller reaches.
	Areas []string
	// At is the moment; zero means now.
	At time.Time
	// Date (YYYY-MM-DD), when set, asks for the figures of that report
	// date as known at At: each unit's latest report dated on or before
	// it, in its latest version filed by At (see stats_date.go).
	Date string
}

// Statistical groups, in display order: the four categories, "四上"
// (any of them), projects and key units.
const (
	GroupFourAbove = "four_above"
	GroupProject   = "project"
	GroupKey       = "key"
)

// Groups lists the group codes in display order.
var Groups = []string{string(IndustrialAboveScale), string(ConstructionRealEstate), string(TradeCateringAboveQuota),
	string(ServicesAboveScale), GroupFourAbove, GroupProject, GroupKey}

// GroupNames are the Chinese names of the groups.
var GroupNames = map[string]string{
	string(IndustrialAboveScale):    "规上工业",
	string(ConstructionRealEstate):  "资质等级建筑业和房地产开发经营业",
	string(TradeCateringAboveQuota): "限上批零住餐",
	string(ServicesAboveScale):      "规上服务业",
	GroupFourAbove:                  "“四上”企业",
	GroupProject:                    "项目",
	GroupKey:                        "重点企业",
}

// GroupStat is how many units of a group there are and how many of them
// have resumed work.
type GroupStat struct {
	Group   string `json:"group"`
	Total   int    `json:"total"`
	Resumed int    `json:"resumed"`
	// Reported counts the units with a report; without any the group has
	// no data, and Rate is 0 here and null in JSON (HasRate).
	Reported int     `json:"reported"`
	Rate     float64 `json:"rate"`
}

// StaffStat is the staff expected and on site in a group, summed over the
// units' latest reports. Without staff expected Rate is null in JSON.
type StaffStat struct {
	Group    string  `json:"group"`
	Expected int     `json:"expected"`
	OnSite   int     `json:"on_site"`
	Rate     float64 `json:"rate"`
}

// PowerStat is the latest daily maximum load of a power scope against its
// pre-epidemic baseline.
type PowerStat struct {
	Scope      string  `json:"scope"`
	Name       string  `json:"name"`
	Date       string  `json:"date"`
	MaxLoadKW  float64 `json:"max_load_kw"`
	BaselineKW float64 `json:"baseline_kw"`
	Recovery   float64 `json:"recovery"`
}

// Stats are the resumption figures of some areas as of a moment.
type Stats struct {
	AsOf time.Time `json:"as_of"`
	// Date is the report date asked for with date=, empty otherwise.
	Date string `json:"date,omitempty"`
	// Area is the area codes, joined by ",".
	Area   string      `json:"area"`
	Groups []GroupStat `json:"groups"`
	Staff  []StaffStat `json:"staff"`
	// CapacityAvg is the mean capacity (percent) of the units working;
	// 0 here and null in JSON when none is (HasCapacity).
	CapacityAvg float64 `json:"capacity_avg"`
	// working counts the units working (see HasCapacity).
	working int
	// NotReported counts the units without any report as of AsOf.
	NotReported int         `json:"not_reported"`
	Power       []PowerStat `json:"power"`
}

// Group returns the figures of group g (zero figures if unknown).
func (st *Stats) Group(g string) GroupStat {
	for _, x := range st.Groups {
		if x.Group == g {
			return x
		}
	}
	return GroupStat{Group: g}
}

// StaffOf returns the staff figures of group g (zero figures if unknown).
func (st *Stats) StaffOf(g string) StaffStat {
	for _, x := range st.Staff {
		if x.Group == g {
			return x
		}
	}
	return StaffStat{Group: g}
}

// AreaStats are the figures of one area of a breakdown.
type AreaStats struct {
	Code  string `json:"code"`
	Name  string `json:"name"`
	Stats *Stats `json:"stats"`
}

// DayStats are the figures of one report date of a trend.
type DayStats struct {
	Date   string      `json:"date"`
	Groups []GroupStat `json:"groups"`
	Staff  []StaffStat `json:"staff"`
}

// Reasons a unit is listed as not resumed.
const (
	ReasonNotReported = "not_reported"
	ReasonSuspended   = "suspended"
)

// Unit is an enterprise or project that has not resumed work as of a
// moment: its latest report says suspended, or it has none.
type Unit struct {
	Key        string     `json:"key"`
	Name       string     `json:"name"`
	Kind       string     `json:"kind"`
	AreaCode   string     `json:"area_code"`
	AreaName   string     `json:"area_name"`
	Categories []Category `json:"categories"`
	Reason     string     `json:"reason"`
	LastDate   string     `json:"last_date"`
	Status     Status     `json:"status"`
	Note       string     `json:"note"`
}

// Breakdown levels.
const (
	LevelDistrict = "district"
	LevelStreet   = "street"
)

// MaxTrendDays bounds a trend.
const MaxTrendDays = 90

// areaRef is an area as the statistics need it.
type areaRef struct {
	Code, Name, Level, Path string
}

// statsScope is what a statistics query covers, resolved and authorised.
type statsScope struct {
	vis visibility
	// areas are the queried areas, or the roots of the caller's reach.
	areas []areaRef
	// filter are the area paths units must lie under; nil: no area filter
	// beyond the caller's visibility.
	filter []string
	// powerAll includes every power baseline; otherwise those inside or
	// above powerPaths.
	powerAll   bool
	powerPaths []string
}

// codes returns the codes of the scope's areas joined by ",".
func (sc *statsScope) codes() string {
	c := make([]string, len(sc.areas))
	for i, a := range sc.areas {
		c[i] = a.Code
	}
	return strings.Join(c, ",")
}

// moment is a statistics moment in the forms the SQL needs.
type moment struct {
	at   time.Time
	date string // YYYY-MM-DD, Asia/Shanghai
	ms   int64
	// byDate: date was asked for rather than taken from at.
	byDate bool
}

func momentOf(t time.Time) moment {
	t = t.UTC().Truncate(time.Millisecond)
	return moment{at: t, date: t.In(clock.Shanghai).Format(DateLayout), ms: t.UnixMilli()}
}

func errAreaNotFound() *errs.Error { return errs.E(errs.NotFound, "area_not_found", "区划不存在") }

// statsAt returns q.At, or now when it is zero.
func (s *Service) statsAt(q StatsQuery) time.Time {
	if q.At.IsZero() {
		return s.db.Clock.Now()
	}
	return q.At
}

// maxStatsAreas bounds the areas of one statistics query.
const maxStatsAreas = 100

// resolveScope checks the caller and the queried areas: Unauthorized
// without a principal, Forbidden for a caller without resumption.read who
// is neither an enterprise contact nor a liaison, NotFound for an area
// that does not exist or lies outside the caller's reach.
func resolveScope(ctx context.Context, tx *db.Tx, p *auth.Principal, areas []string, op string) (*statsScope, error) {
	v, err := reach(p, auth.ResumptionRead, op)
	if err != nil {
		return nil, err
	}
	reachPaths, _ := p.AreaPaths(auth.ResumptionRead)
	sc := &statsScope{vis: v}
	if codes := scopeCodes(areas); len(codes) > 0 {
		return sc, sc.addQueried(ctx, tx, codes, reachPaths)
	}
	// The caller's whole reach.
	if v.all {
		sc.areas, err = queryAreaRefs(ctx, tx, `parent_code IS NULL`)
		sc.powerAll = true
		return sc, err
	}
	return sc, sc.addReach(ctx, tx, reachPaths)
}

// scopeCodes are the distinct area codes of a query's areas (each may be
// a comma-separated list), in order.
func scopeCodes(areas []string) []string {
	var codes []string
	for _, c := range areas {
		for _, part := range strings.Split(c, ",") {
			if part = strings.TrimSpace(part); part != "" && !slices.Contains(codes, part) {
				codes = append(codes, part)
			}
		}
	}
	return codes
}

// addQueried adds the queried areas with codes to the scope (at most
// maxStatsAreas, read in one query), checked against the caller's reach
// (reachPaths).
func (sc *statsScope) addQueried(ctx context.Context, tx *db.Tx, codes, reachPaths []string) error {
	if len(codes) > maxStatsAreas {
		return errs.E(errs.Invalid, "too_many_areas", "一次最多查询 100 个区划")
	}
	refs, err := areaRefsByCode(ctx, tx, codes)
	if err != nil {
		return err
	}
	v := sc.vis
	for _, code := range codes {
		a, ok := refs[code]
		if !ok {
			return errAreaNotFound()
		}
		// Officers must reach the area; contacts and liaisons, who reach
		// enterprises rather than areas, see their own units inside it.
		byArea := v.all || slices.ContainsFunc(reachPaths, func(r string) bool { return strings.HasPrefix(a.Path, r) })
		if !byArea && len(v.keys) == 0 && v.liaisonID == 0 {
			return errAreaNotFound()
		}
		sc.areas = append(sc.areas, a)
		sc.filter = append(sc.filter, a.Path)
		// An area's power load is the area's, not an enterprise's: only
		// those who reach the area see it.
		if byArea {
			sc.powerPaths = append(sc.powerPaths, a.Path)
		}
	}
	return nil
}

// addReach makes the roots of the caller's reach (reachPaths, one query)
// the scope's areas.
func (sc *statsScope) addReach(ctx context.Context, tx *db.Tx, reachPaths []string) error {
	var codes []string
	for _, r := range reachPaths {
		if c := area.CodesOf(r); len(c) > 0 {
			codes = append(codes, c[len(c)-1])
		}
	}
	refs, err := areaRefsByCode(ctx, tx, codes)
	if err != nil {
		return err
	}
	for _, code := range codes {
		if a, ok := refs[code]; ok {
			sc.areas = append(sc.areas, a)
		}
	}
	sc.powerPaths = reachPaths
	return nil
}
