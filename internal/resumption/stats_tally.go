package resumption

import (
	"math"
)

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

// tally counts units into the groups: a unit as the per-day figures would
// count it (addSig), so that both paths share one rule.
type tally struct {
	total, resumed, reported, expected, onSite [7]int
	capSum, capN, notReported                  int
}

func (t *tally) add(u *unitRow) {
	f := dayFig{6: 1}
	if u.has {
		f.add(figOf(u.status, u.capacity, u.expected, u.onS), 1)
	}
	t.addSig(sigOf(u.cats, u.kind, u.isKey), f)
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
