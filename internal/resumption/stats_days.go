package resumption

import (
	"context"
	"slices"
	"time"

	"tongxin/internal/db"
)

// Statistics at city scale: per-day figures kept in the database.
//
// The figures of a group on report date D are sums over its units of each
// unit's effective report on D (its latest report dated on or before D, in
// its latest version): reported, resumed, staff expected and on site,
// capacity of the working units and their number. resumption_day_deltas
// holds, per date, area code and group signature (sigOf), the change of
// those sums on that date, so that the figures of D are the sums of the
// rows dated on or before D — a trend of 90 days is one grouped read of
// those rows, whatever the number of units. Totals and "not reported" come
// from counting the units in scope as before.
//
// Every transaction that changes a unit's reports or attributes keeps the
// rows exact (dayChange): it locks the units (PostgreSQL), reads each
// unit's history, makes its change, reads the history again and adds the
// difference of the two timelines — for a filing, the new figures minus
// the old at its date and the reverse at the unit's next report date; for
// an edit of area, categories or key flag, the whole timeline moved from
// the old key to the new. The rows live in the database, in the same
// transaction as the reports, so every instance reads the same figures.
//
// The rows describe the reports as known now. The statistics use them
// when that is the question (the moment is no earlier than the latest
// filing of any report: one index probe) and the caller's scope is by
// area alone; an earlier moment or a contact's or liaison's scope (a few
// units) take the per-unit path of store_stats.go.

// dayFig are the additive figures of an effective report, or a change of
// them: reported, resumed, staff expected, staff on site, capacity sum and
// capacity count (the last two of working units), and units (in the rows
// dated "", a unit is 1).
type dayFig [7]int64

func (f *dayFig) add(g dayFig, sign int64) {
	for i := range f {
		f[i] += sign * g[i]
	}
}

// figOf are the figures of a report.
func figOf(st Status, capacity, expected, onSite int) dayFig {
	f := dayFig{1, 0, int64(expected), int64(onSite), 0, 0, 0}
	if st.Working() {
		f[1], f[4], f[5] = 1, int64(capacity), 1
	}
	return f
}

// Signature bits beyond the four categories' (bit i: Categories[i]).
const (
	sigProject = 16
	sigKey     = 32
)

// sigOf is the group signature of a unit.
func sigOf(cats uint8, kind string, isKey bool) uint8 {
	s := cats
	if kind == string(KindProject) {
		s |= sigProject
	}
	if isKey {
		s |= sigKey
	}
	return s
}

// catBits are the category bits of cs.
func catBits(cs []Category) uint8 {
	var b uint8
	for _, c := range cs {
		if i := slices.Index(Categories, c); i >= 0 {
			b |= 1 << i
		}
	}
	return b
}

// dayKey is a row of resumption_day_deltas.
type dayKey struct {
	date, area string
	sig        uint8
}

// histReport is a report version of a unit's history.
type histReport struct {
	id   int64
	date string
	fig  dayFig
}

// unitHistory is a unit's area, signature and report versions in order
// of date, filing time and id.
type unitHistory struct {
	id      int64
	area    string
	sig     uint8
	reports []histReport
}

// addTo adds sign × the unit's deltas to out: the unit itself under date
// "", and at each report date the figures of its latest version minus
// those of the date before.
func (h *unitHistory) addTo(out map[dayKey]dayFig, sign int64) {
	self := out[dayKey{"", h.area, h.sig}]
	self[6] += sign
	out[dayKey{"", h.area, h.sig}] = self
	var prev dayFig
	for i, r := range h.reports {
		if i+1 < len(h.reports) && h.reports[i+1].date == r.date {
			continue // a later version of the same date follows
		}
		k := dayKey{r.date, h.area, h.sig}
		f := out[k]
		f.add(r.fig, sign)
		f.add(prev, -sign)
		out[k] = f
		prev = r.fig
	}
}

// dayChange keeps resumption_day_deltas exact across a change of some
// units' reports or attributes: begin before the change, commit after it,
// in the same transaction.
type dayChange struct {
	ids    []int64
	deltas map[dayKey]dayFig
	latest map[int64]int64 // the units' latest report ids before
}

// newUnitsChange is the change of registering the units with ids: nothing
// to read before (and where beginDayChange starts).
func newUnitsChange(ids []int64) *dayChange {
	return &dayChange{ids: ids, deltas: map[dayKey]dayFig{}, latest: map[int64]int64{}}
}

// beginDayChange locks the units with ids and reads their timelines.
func beginDayChange(ctx context.Context, tx *db.Tx, ids []int64) (*dayChange, error) {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if err := lockUnits(ctx, tx, ids); err != nil {
		return nil, err
	}
	c := newUnitsChange(ids)
	hs, err := unitHistories(ctx, tx, ids)
	if err != nil {
		return nil, err
	}
	for _, h := range hs {
		h.addTo(c.deltas, -1)
		if n := len(h.reports); n > 0 {
			c.latest[h.id] = h.reports[n-1].id
		}
	}
	return c, nil
}

// commit reads the units' timelines again and writes the difference.
func (c *dayChange) commit(ctx context.Context, tx *db.Tx) error {
	hs, err := unitHistories(ctx, tx, c.ids)
	if err != nil {
		return err
	}
	changed := map[int64]int64{}
	for _, h := range hs {
		h.addTo(c.deltas, 1)
		if n := len(h.reports); n > 0 && h.reports[n-1].id != c.latest[h.id] {
			changed[h.id] = h.reports[n-1].id
		}
	}
	if err := applyDayDeltas(ctx, tx, c.deltas); err != nil {
		return err
	}
	return applyLatest(ctx, tx, changed)
}

// fileDayChange keeps the per-day figures of one filing, for the hot
// path of FileReport, in one read of index probes rather than two reads of
// the unit's history: begin (before the insert) reads the effective report
// on the date and the unit's next report date; commit works out the
// effective report after the insert from the new version alone (the
// insert changes no other date), adds the change at the date and its
// reverse at the next report date, and makes the new version the unit's
// latest report when no report is dated after it and it is the date's
// latest version.
type fileDayChange struct {
	t      reportTargetRef // with its signature
	date   string
	before effective
	next   string
}

// beginFileDayChange locks the unit t (found by reportTarget) and reads
// its effective report on date and its next report date.
func beginFileDayChange(ctx context.Context, tx *db.Tx, t reportTargetRef, date string) (*fileDayChange, error) {
	if err := lockUnits(ctx, tx, []int64{t.ID}); err != nil {
		return nil, err
	}
	before, next, err := effectiveReport(ctx, tx, t.ID, date)
	if err != nil {
		return nil, err
	}
	return &fileDayChange{t: t, date: date, before: before, next: next}, nil
}

// wins reports whether a version of c's date filed at filedAt (with an id
// above every other) is the effective report on the date: versions are
// ordered by date, filing time and id, so it loses only to a version of
// the same date filed later.
func (c *fileDayChange) wins(filedAt int64) bool {
	return !c.before.ok || c.before.date != c.date || c.before.filedAt <= filedAt
}

// commit writes the change of filing version rid of in at filedAt.
func (c *fileDayChange) commit(ctx context.Context, tx *db.Tx, rid int64, in ReportInput, filedAt int64) error {
	won := c.wins(filedAt)
	after := c.before.fig
	if won {
		after = figOf(in.Status, *in.CapacityPct, *in.StaffExpected, *in.StaffOnSite)
	}
	var change dayFig
	change.add(after, 1)
	change.add(c.before.fig, -1)
	if change != (dayFig{}) {
		d := map[dayKey]dayFig{{c.date, c.t.AreaCode, c.t.sig}: change}
		if c.next != "" {
			var back dayFig
			back.add(change, -1)
			d[dayKey{c.next, c.t.AreaCode, c.t.sig}] = back
		}
		if err := applyDayDeltas(ctx, tx, d); err != nil {
			return err
		}
	}
	if c.next != "" || !won {
		return nil // a later report stays the latest
	}
	return setLatest(ctx, tx, c.t.ID, rid)
}

// dayPathOK reports whether the per-day figures answer a query of sc at
// m exactly: a scope by area alone, and no report filed after m.
func (s *Service) dayPathOK(ctx context.Context, tx *db.Tx, sc *statsScope, m moment) (bool, error) {
	if s.perUnitStats || len(sc.vis.keys) > 0 || sc.vis.liaisonID != 0 || !sc.vis.all && len(sc.vis.paths) == 0 {
		return false, nil
	}
	last, err := latestFiling(ctx, tx)
	return err == nil && m.ms >= last, err
}

// addSig counts the units of signature sig whose figures sum to f.
func (t *tally) addSig(sig uint8, f dayFig) {
	n := int(f[6])
	for g, ok := range sigGroups(sig) {
		if !ok {
			continue
		}
		t.total[g] += n
		t.resumed[g] += int(f[1])
		t.reported[g] += int(f[0])
		t.expected[g] += int(f[2])
		t.onSite[g] += int(f[3])
	}
	t.capSum += int(f[4])
	t.capN += int(f[5])
	t.notReported += n - int(f[0])
}

// sigGroups are the groups (in the order of Groups) a signature is in.
func sigGroups(sig uint8) [7]bool {
	var in [7]bool
	for i := range Categories {
		in[i] = sig&(1<<i) != 0
	}
	in[4] = sig&15 != 0
	in[5] = sig&sigProject != 0
	in[6] = sig&sigKey != 0
	return in
}

// dayTally is the tally of the sums of some signatures' figures.
func dayTally(sums map[uint8]dayFig) tally {
	var t tally
	for sig, f := range sums {
		t.addSig(sig, f)
	}
	return t
}

// dayStatsIn is the tally of the units in sc on m's date from the per-day
// figures.
func dayStatsIn(ctx context.Context, tx *db.Tx, sc *statsScope, m moment) (tally, error) {
	rows, err := readDaySums(ctx, tx, sc, "", m.date, false)
	if err != nil {
		return tally{}, err
	}
	sums := map[uint8]dayFig{}
	for _, r := range rows {
		f := sums[r.sig]
		f.add(r.fig, 1)
		sums[r.sig] = f
	}
	return dayTally(sums), nil
}

// dayTrendIn is the trend of the units in sc over the dates days (oldest
// first) from the per-day figures.
func dayTrendIn(ctx context.Context, tx *db.Tx, sc *statsScope, days []string) ([]DayStats, error) {
	rows, err := readDaySums(ctx, tx, sc, days[0], days[len(days)-1], false)
	if err != nil {
		return nil, err
	}
	byDate := map[string]map[uint8]dayFig{}
	for _, r := range rows {
		if byDate[r.date] == nil {
			byDate[r.date] = map[uint8]dayFig{}
		}
		byDate[r.date][r.sig] = r.fig
	}
	sums := map[uint8]dayFig{}
	for sig, f := range byDate[""] {
		sums[sig] = f
	}
	out := make([]DayStats, 0, len(days))
	for _, d := range days {
		for sig, f := range byDate[d] {
			x := sums[sig]
			x.add(f, 1)
			sums[sig] = x
		}
		t := dayTally(sums)
		out = append(out, DayStats{Date: d, Groups: t.groups(), Staff: t.staff()})
	}
	return out, nil
}

// trendDates are the days report dates ending with last, oldest first.
func trendDates(last string, days int) ([]string, error) {
	d, err := time.Parse(DateLayout, last)
	if err != nil {
		return nil, err
	}
	out := make([]string, days)
	for i := range out {
		out[i] = d.AddDate(0, 0, i-days+1).Format(DateLayout)
	}
	return out, nil
}
