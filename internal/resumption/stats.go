package resumption

import (
	"context"
	"database/sql"
	"math"
	"slices"
	"strconv"
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
	var codes []string
	for _, c := range areas {
		for _, part := range strings.Split(c, ",") {
			if part = strings.TrimSpace(part); part != "" && !slices.Contains(codes, part) {
				codes = append(codes, part)
			}
		}
	}
	if len(codes) > 0 {
		if len(codes) > 100 {
			return nil, errs.E(errs.Invalid, "too_many_areas", "一次最多查询 100 个区划")
		}
		for _, code := range codes {
			a, err := getAreaRef(ctx, tx, code)
			if err != nil {
				return nil, err
			}
			// Officers must reach the area; contacts and liaisons, who
			// reach enterprises rather than areas, see their own units
			// inside it.
			byArea := v.all
			for _, r := range reachPaths {
				if strings.HasPrefix(a.Path, r) {
					byArea = true
				}
			}
			if !byArea && len(v.keys) == 0 && v.liaisonID == 0 {
				return nil, errAreaNotFound()
			}
			sc.areas = append(sc.areas, a)
			sc.filter = append(sc.filter, a.Path)
			// An area's power load is the area's, not an enterprise's:
			// only those who reach the area see it.
			if byArea {
				sc.powerPaths = append(sc.powerPaths, a.Path)
			}
		}
		return sc, nil
	}
	// The caller's whole reach.
	if v.all {
		rows, err := queryAreaRefs(ctx, tx, `parent_code IS NULL`)
		if err != nil {
			return nil, err
		}
		sc.areas, sc.powerAll = rows, true
		return sc, nil
	}
	for _, r := range reachPaths {
		codes := area.CodesOf(r)
		if len(codes) == 0 {
			continue
		}
		a, err := getAreaRef(ctx, tx, codes[len(codes)-1])
		if err != nil {
			if errs.Is(err, errs.NotFound) {
				continue
			}
			return nil, err
		}
		sc.areas = append(sc.areas, a)
	}
	sc.powerPaths = reachPaths
	return sc, nil
}

// pathsWhere is the condition "the path in col lies under one of paths".
func pathsWhere(col string, paths []string, args *db.Args) string {
	ors := make([]string, len(paths))
	for i, p := range paths {
		ors[i] = col + " LIKE " + args.Add(db.LikePrefix(p)) + ` ESCAPE '\'`
	}
	return "(" + strings.Join(ors, " OR ") + ")"
}

// unitRow is a unit in scope with its latest report as of a moment.
type unitRow struct {
	id                 int64
	kind               string
	isKey              bool
	areaPath           string
	cats               uint8 // bit i: Categories[i]
	key, name          string
	areaCode, areaName string // with detail only
	// The latest report as of the moment, if has.
	has                     bool
	repID, filedAt          int64
	status                  Status
	capacity, expected, onS int
	date, note              string // note with detail only
}

// Tuning of loadUnits: scopes up to probeMax units are resolved by one
// index probe per unit; larger ones by scanning whole days of reports
// (at most maxDayScans days back) and probing only the units left.
const (
	probeMax    = 300
	maxDayScans = 7
	inChunk     = 500
)

// loadUnits returns every unit in sc with its categories and its latest
// report as of m; detail adds the names, keys and notes NotResumed shows.
func loadUnits(ctx context.Context, tx *db.Tx, sc *statsScope, m moment, detail bool) ([]unitRow, error) {
	units, err := scopeUnits(ctx, tx, sc, detail)
	if err != nil {
		return nil, err
	}
	if err := attachCategories(ctx, tx, units); err != nil {
		return nil, err
	}
	if err := attachLatest(ctx, tx, units, m, detail); err != nil {
		return nil, err
	}
	return units, nil
}

// scopeUnits lists the units in sc (without reports).
func scopeUnits(ctx context.Context, tx *db.Tx, sc *statsScope, detail bool) ([]unitRow, error) {
	const op = "resumption.scopeUnits"
	var args db.Args
	where := sc.vis.where(&args)
	if sc.filter != nil {
		where += " AND " + pathsWhere("a.path", sc.filter, &args)
	}
	cols := "e.id, e.kind, e.is_key, a.path"
	if detail {
		cols += ", e.ekey, e.name, e.area_code, a.name"
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+cols+` FROM enterprises e JOIN areas a ON a.code = e.area_code WHERE `+where, args.List...)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	defer rows.Close()
	var out []unitRow
	for rows.Next() {
		var u unitRow
		dest := []any{&u.id, &u.kind, &u.isKey, &u.areaPath}
		if detail {
			dest = append(dest, &u.key, &u.name, &u.areaCode, &u.areaName)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, errs.Wrap(op, err)
		}
		out = append(out, u)
	}
	return out, errs.Wrap(op, rows.Err())
}

// indexOf maps unit ids to their index in units.
func indexOf(units []unitRow) map[int64]int {
	idx := make(map[int64]int, len(units))
	for i, u := range units {
		idx[u.id] = i
	}
	return idx
}

// idChunks calls fn with the ids of units, at most inChunk at a time.
func idChunks(ids []int64, fn func(in string, args []any) error) error {
	for start := 0; start < len(ids); start += inChunk {
		part := ids[start:min(start+inChunk, len(ids))]
		var b strings.Builder
		args := make([]any, len(part))
		for i, id := range part {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("$" + strconv.Itoa(i+1))
			args[i] = id
		}
		if err := fn("("+b.String()+")", args); err != nil {
			return err
		}
	}
	return nil
}

// attachCategories sets the category bits of units: for a few units by
// their ids, for many by reading the whole (small) category table.
func attachCategories(ctx context.Context, tx *db.Tx, units []unitRow) error {
	const op = "resumption.attachCategories"
	idx := indexOf(units)
	read := func(q string, args ...any) error {
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return errs.Wrap(op, err)
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			var c Category
			if err := rows.Scan(&id, &c); err != nil {
				return errs.Wrap(op, err)
			}
			if i, ok := idx[id]; ok {
				if bit := slices.Index(Categories, c); bit >= 0 {
					units[i].cats |= 1 << bit
				}
			}
		}
		return errs.Wrap(op, rows.Err())
	}
	if len(units) > inChunk {
		return read(`SELECT enterprise_id, category FROM enterprise_categories`)
	}
	ids := make([]int64, len(units))
	for i, u := range units {
		ids[i] = u.id
	}
	return idChunks(ids, func(in string, args []any) error {
		return read(`SELECT enterprise_id, category FROM enterprise_categories WHERE enterprise_id IN `+in, args...)
	})
}

// later reports whether a report version (date, filedAt, id) comes after
// the unit's current one.
func (u *unitRow) later(date string, filedAt, id int64) bool {
	if !u.has {
		return true
	}
	if date != u.date {
		return date > u.date
	}
	if filedAt != u.filedAt {
		return filedAt > u.filedAt
	}
	return id > u.repID
}

// latestCols are the columns a report row is read with.
func latestCols(detail bool) string {
	c := "r.enterprise_id, r.id, r.report_date, r.filed_at, r.status, r.capacity_pct, r.staff_expected, r.staff_on_site"
	if detail {
		c += ", r.note"
	}
	return c
}

// readReports reads report rows and offers each to its unit (if in
// units), keeping the latest; it returns the number of rows read.
func readReports(ctx context.Context, tx *db.Tx, units []unitRow, idx map[int64]int, detail bool, q string, args ...any) (int, error) {
	const op = "resumption.readReports"
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return 0, errs.Wrap(op, err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var r unitRow
		var eid int64
		dest := []any{&eid, &r.repID, &r.date, &r.filedAt, &r.status, &r.capacity, &r.expected, &r.onS}
		if detail {
			dest = append(dest, &r.note)
		}
		if err := rows.Scan(dest...); err != nil {
			return n, errs.Wrap(op, err)
		}
		n++
		i, ok := idx[eid]
		if !ok {
			continue
		}
		if u := &units[i]; u.later(r.date, r.filedAt, r.repID) {
			u.has, u.repID, u.date, u.filedAt, u.status = true, r.repID, r.date, r.filedAt, r.status
			u.capacity, u.expected, u.onS, u.note = r.capacity, r.expected, r.onS, r.note
		}
	}
	return n, errs.Wrap(op, rows.Err())
}

// attachLatest finds each unit's latest report as of m: the greatest
// report date not after m's date and, for that date, the latest version
// filed at or before m (the greatest id on a tie). Many units: whole days
// are read through resumption_reports_day, newest first, while that pays;
// the units still without a report are probed one by one through
// resumption_reports_latest.
func attachLatest(ctx context.Context, tx *db.Tx, units []unitRow, m moment, detail bool) error {
	return attachLatestBy(ctx, tx, units, m, detail, len(units) > probeMax)
}

// attachLatestBy is attachLatest with the strategy chosen: scan reads
// whole days first, else every unit is probed.
func attachLatestBy(ctx context.Context, tx *db.Tx, units []unitRow, m moment, detail, scan bool) error {
	for i := range units {
		u := &units[i]
		u.has, u.repID, u.filedAt, u.status, u.capacity, u.expected, u.onS, u.date, u.note = false, 0, 0, "", 0, 0, 0, "", ""
	}
	idx := indexOf(units)
	if scan {
		day, err := time.Parse(DateLayout, m.date)
		if err != nil {
			return errs.Wrap("resumption.attachLatest", err)
		}
		unresolved := len(units)
		for k := 0; k < maxDayScans && unresolved > 0; k++ {
			date := day.AddDate(0, 0, -k).Format(DateLayout)
			read, err := readReports(ctx, tx, units, idx, detail,
				`SELECT `+latestCols(detail)+` FROM resumption_reports r WHERE r.report_date = $1 AND r.filed_at <= $2`, date, m.ms)
			if err != nil {
				return err
			}
			before := unresolved
			unresolved = 0
			for i := range units {
				if !units[i].has {
					unresolved++
				}
			}
			// Another day is read only while it resolves more than a
			// probe per four rows would (probes cost about four rows).
			found := before - unresolved
			if k == 0 && unresolved*4 < read || k > 0 && found*4 < read {
				break
			}
		}
	}
	var left []int64
	for _, u := range units {
		if !u.has {
			left = append(left, u.id)
		}
	}
	return probeLatest(ctx, tx, units, idx, left, m, detail)
}

// probeLatest finds the latest report of the units with ids by one index
// probe each, then reads those reports by id.
func probeLatest(ctx context.Context, tx *db.Tx, units []unitRow, idx map[int64]int, ids []int64, m moment, detail bool) error {
	const op = "resumption.probeLatest"
	return idChunks(ids, func(in string, args []any) error {
		n := len(args)
		d, t := "$"+strconv.Itoa(n+1), "$"+strconv.Itoa(n+2)
		rows, err := tx.QueryContext(ctx, `SELECT (SELECT x.id FROM resumption_reports x
			WHERE x.enterprise_id = e.id AND x.report_date <= `+d+` AND x.filed_at <= `+t+`
			ORDER BY x.report_date DESC, x.filed_at DESC, x.id DESC LIMIT 1)
			FROM enterprises e WHERE e.id IN `+in, append(args, m.date, m.ms)...)
		if err != nil {
			return errs.Wrap(op, err)
		}
		var rids []int64
		for rows.Next() {
			var rid sql.NullInt64
			if err := rows.Scan(&rid); err != nil {
				rows.Close()
				return errs.Wrap(op, err)
			}
			if rid.Valid {
				rids = append(rids, rid.Int64)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return errs.Wrap(op, err)
		}
		return idChunks(rids, func(in string, args []any) error {
			_, err := readReports(ctx, tx, units, idx, detail, `SELECT `+latestCols(detail)+` FROM resumption_reports r WHERE r.id IN `+in, args...)
			return err
		})
	})
}

// categories returns the unit's categories in display order.
func (u *unitRow) categories() []Category {
	out := []Category{}
	for i, c := range Categories {
		if u.cats&(1<<i) != 0 {
			out = append(out, c)
		}
	}
	return out
}

// working reports whether the unit counts as resumed.
func (u *unitRow) working() bool { return u.has && u.status.Working() }

// ratio is a/b rounded to 4 decimals, 0 when b is 0.
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return math.Round(a/b*1e4) / 1e4
}

// tally counts units into the groups.
type tally struct {
	total, resumed, reported, expected, onSite [7]int
	capSum, capN, notReported                  int
}

func (t *tally) add(u *unitRow) {
	var in [7]bool
	for i := range Categories {
		in[i] = u.cats&(1<<i) != 0
	}
	in[4] = u.cats != 0
	in[5] = u.kind == string(KindProject)
	in[6] = u.isKey
	w := u.working()
	for g, ok := range in {
		if !ok {
			continue
		}
		t.total[g]++
		if w {
			t.resumed[g]++
		}
		if u.has {
			t.reported[g]++
			t.expected[g] += u.expected
			t.onSite[g] += u.onS
		}
	}
	if w {
		t.capSum += u.capacity
		t.capN++
	}
	if !u.has {
		t.notReported++
	}
}

func (t *tally) groups() []GroupStat {
	out := make([]GroupStat, len(Groups))
	for i, g := range Groups {
		out[i] = GroupStat{Group: g, Total: t.total[i], Resumed: t.resumed[i], Reported: t.reported[i],
			Rate: ratio(float64(t.resumed[i]), float64(t.total[i]))}
	}
	return out
}

func (t *tally) staff() []StaffStat {
	out := make([]StaffStat, len(Groups))
	for i, g := range Groups {
		out[i] = StaffStat{Group: g, Expected: t.expected[i], OnSite: t.onSite[i], Rate: ratio(float64(t.onSite[i]), float64(t.expected[i]))}
	}
	return out
}

func (t *tally) stats(m moment, areaCodes string, power []PowerStat) *Stats {
	capAvg := 0.0
	if t.capN > 0 {
		capAvg = math.Round(float64(t.capSum)/float64(t.capN)*10) / 10
	}
	if power == nil {
		power = []PowerStat{}
	}
	st := &Stats{AsOf: m.at, Area: areaCodes, Groups: t.groups(), Staff: t.staff(), CapacityAvg: capAvg, working: t.capN,
		NotReported: t.notReported, Power: power}
	if m.byDate {
		st.Date = m.date
	}
	return st
}

// Stats returns the resumption figures of the queried areas (or of the
// caller's whole reach) as of q.At.
func (s *Service) Stats(ctx context.Context, p *auth.Principal, q StatsQuery) (*Stats, error) {
	const op = "resumption.Stats"
	var out *Stats
	err := s.db.Read(ctx, func(tx *db.Tx) (err error) {
		out, _, err = s.statsIn(ctx, tx, p, q, op)
		return err
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return out, nil
}

// statsIn computes Stats inside tx and returns the resolved scope too.
func (s *Service) statsIn(ctx context.Context, tx *db.Tx, p *auth.Principal, q StatsQuery, op string) (*Stats, *statsScope, error) {
	m, err := s.momentFor(q)
	if err != nil {
		return nil, nil, err
	}
	sc, err := resolveScope(ctx, tx, p, q.Areas, op)
	if err != nil {
		return nil, nil, err
	}
	units, err := loadUnits(ctx, tx, sc, m, false)
	if err != nil {
		return nil, nil, err
	}
	power, err := loadPower(ctx, tx, sc.powerAll, sc.powerPaths, m)
	if err != nil {
		return nil, nil, err
	}
	var t tally
	for i := range units {
		t.add(&units[i])
	}
	return t.stats(m, sc.codes(), power), sc, nil
}

// Breakdown returns the figures of the queried areas per district or per
// street, ordered by code. A queried area below the level stands for
// itself.
func (s *Service) Breakdown(ctx context.Context, p *auth.Principal, q StatsQuery, level string) ([]AreaStats, error) {
	const op = "resumption.Breakdown"
	var depth int
	switch level {
	case LevelDistrict:
		depth = 1
	case LevelStreet:
		depth = 2
	default:
		return nil, errs.Wrap(op, errs.E(errs.Invalid, "bad_level", "level 须为 district（区县）或 street（街道）"))
	}
	m, err := s.momentFor(q)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	var out []AreaStats
	err = s.db.Read(ctx, func(tx *db.Tx) error {
		sc, err := resolveScope(ctx, tx, p, q.Areas, op)
		if err != nil {
			return err
		}
		units, err := loadUnits(ctx, tx, sc, m, false)
		if err != nil {
			return err
		}
		// The rows: areas of the level inside the scope, and queried
		// areas below the level themselves.
		var rowsAreas []areaRef
		seen := map[string]bool{}
		addArea := func(a areaRef) {
			if !seen[a.Path] {
				seen[a.Path] = true
				rowsAreas = append(rowsAreas, a)
			}
		}
		var levelAreas []areaRef
		var args db.Args
		cond := "level = " + args.Add(level)
		paths := sc.filter
		if paths == nil {
			paths = sc.powerPaths // the caller's reach
		}
		switch {
		case sc.filter == nil && sc.vis.all:
			levelAreas, err = queryAreaRefs(ctx, tx, cond, args.List...)
		case len(paths) > 0:
			cond += " AND " + pathsWhere("path", paths, &args)
			levelAreas, err = queryAreaRefs(ctx, tx, cond, args.List...)
		}
		if err != nil {
			return err
		}
		for _, a := range levelAreas {
			addArea(a)
		}
		for _, a := range sc.areas {
			if len(area.CodesOf(a.Path)) > depth+1 {
				addArea(a)
			}
		}
		// Units outside every row so far (contacts, liaisons): their area
		// at the level.
		for _, u := range units {
			codes := area.CodesOf(u.areaPath)
			if len(codes) <= depth || rowOf(rowsAreas, u.areaPath) >= 0 {
				continue
			}
			a, err := getAreaRef(ctx, tx, codes[depth])
			if err != nil {
				return err
			}
			addArea(a)
		}
		slices.SortFunc(rowsAreas, func(x, y areaRef) int { return strings.Compare(x.Code, y.Code) })
		tallies := make([]tally, len(rowsAreas))
		for i := range units {
			if r := rowOf(rowsAreas, units[i].areaPath); r >= 0 {
				tallies[r].add(&units[i])
			}
		}
		out = make([]AreaStats, len(rowsAreas))
		for i, a := range rowsAreas {
			power, err := loadPower(ctx, tx, false, []string{a.Path}, m)
			if err != nil {
				return err
			}
			out[i] = AreaStats{Code: a.Code, Name: a.Name, Stats: tallies[i].stats(m, a.Code, power)}
		}
		return nil
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return out, nil
}

// rowOf returns the index of the deepest area of rows containing path, -1
// if none.
func rowOf(rows []areaRef, path string) int {
	best, bestLen := -1, 0
	for i, a := range rows {
		if strings.HasPrefix(path, a.Path) && len(a.Path) > bestLen {
			best, bestLen = i, len(a.Path)
		}
	}
	return best
}

// NotResumed lists the units in scope whose latest report as of q.At says
// suspended, or that have no report at all, ordered by area and key.
func (s *Service) NotResumed(ctx context.Context, p *auth.Principal, q StatsQuery) ([]Unit, error) {
	const op = "resumption.NotResumed"
	m, err := s.momentFor(q)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	out := []Unit{}
	err = s.db.Read(ctx, func(tx *db.Tx) error {
		sc, err := resolveScope(ctx, tx, p, q.Areas, op)
		if err != nil {
			return err
		}
		units, err := loadUnits(ctx, tx, sc, m, true)
		if err != nil {
			return err
		}
		for i := range units {
			u := &units[i]
			if u.working() {
				continue
			}
			x := Unit{Key: u.key, Name: u.name, Kind: u.kind, AreaCode: u.areaCode, AreaName: u.areaName,
				Categories: u.categories(), Reason: ReasonNotReported}
			if u.has {
				x.Reason, x.LastDate, x.Status, x.Note = ReasonSuspended, u.date, u.status, u.note
			}
			out = append(out, x)
		}
		return nil
	})
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	slices.SortFunc(out, func(a, b Unit) int {
		if c := strings.Compare(a.AreaCode, b.AreaCode); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	return out, nil
}
