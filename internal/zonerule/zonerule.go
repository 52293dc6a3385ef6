// Package zonerule is the rule of an estate gate (两码查验): given the
// zones in force and the exit permits, may a resident shown by their
// resident code pass this gate. The zone module keeps zones and permits
// and serves them as a Snapshot (whole, or the changes after a sequence
// number); the checkpoint module decides a gate scan with Gate; the scan
// page mirrors Gate offline over the same Snapshot JSON
// (static/js/zone-rule.js). The package is pure: no storage, no clock, and
// it knows nothing of names or ID numbers — residents and buildings are
// the pseudonymous ids resident codes carry.
package zonerule

import (
	"slices"

	"tongxin/internal/passtoken"
)

// Level is a zone's level, strictest first.
type Level string

const (
	Sealed     Level = "sealed"     // 封控区: residents stay at home
	Controlled Level = "controlled" // 管控区: residents stay inside the zone
	Guarded    Level = "guarded"    // 防范区: movement allowed, gatherings limited
)

// Levels lists the levels, strictest first.
var Levels = []Level{Sealed, Controlled, Guarded}

// LevelNames are the levels in Chinese.
var LevelNames = map[Level]string{Sealed: "封控区", Controlled: "管控区", Guarded: "防范区"}

// Valid reports whether l is a known level.
func (l Level) Valid() bool { return l.rank() > 0 }

// rank is 3 for sealed down to 1 for guarded, 0 for an unknown level.
func (l Level) rank() int {
	switch l {
	case Sealed:
		return 3
	case Controlled:
		return 2
	case Guarded:
		return 1
	}
	return 0
}

// Stricter reports whether l is stricter than m.
func (l Level) Stricter(m Level) bool { return l.rank() > m.rank() }

// Zone is a zone as a gate needs it: its level, what it covers and when.
// An area zone covers whole communities: Communities holds the code of
// every community under the area (the zone module expands it). An estate
// or building zone covers buildings: Buildings holds their keys as
// resident codes carry them (masstest.BuildingKey).
type Zone struct {
	ID          int64    `json:"id"`
	Level       Level    `json:"level"`
	Communities []string `json:"communities,omitempty"`
	Buildings   []string `json:"buildings,omitempty"`
	From        int64    `json:"from"`         // in force from, Unix ms
	To          int64    `json:"to,omitempty"` // no longer in force from (the planned end, or when lifted), Unix ms; 0 while open
	Seq         int64    `json:"seq"`          // the change that made the zone as it is
}

// InForce reports whether z is in force at at (Unix ms).
func (z *Zone) InForce(at int64) bool { return z.From <= at && (z.To == 0 || at < z.To) }

// Covers reports whether z covers the building of community.
func (z *Zone) Covers(community, building string) bool {
	return slices.Contains(z.Communities, community) || (building != "" && slices.Contains(z.Buildings, building))
}

// Permit is an exit permit (外出许可): a resident of a sealed zone may go
// out between From and To (a medical visit, say), issued by their
// community. A cancelled permit comes back with To at the cancellation.
type Permit struct {
	ID       int64  `json:"id"`
	Resident string `json:"rid"`  // the resident code's pseudonymous id
	From     int64  `json:"from"` // Unix ms
	To       int64  `json:"to"`   // Unix ms, after From
	Seq      int64  `json:"seq"`
}

// InForce reports whether p is in force at at (Unix ms).
func (p *Permit) InForce(at int64) bool { return p.From <= at && at < p.To }

// Snapshot is what a gate knows: zones and permits, and the highest
// sequence number among them. Full is true for a whole snapshot, which
// replaces what a device held; false for the changes after a sequence
// number, which Merge applies.
type Snapshot struct {
	Seq     int64    `json:"seq"`
	Full    bool     `json:"full"`
	Zones   []Zone   `json:"zones"`
	Permits []Permit `json:"permits"`
}

// Merge applies the changes d to s: a zone or permit replaces the one with
// its id, a new one is added; a whole snapshot replaces s. Seq becomes the
// higher of the two.
func (s *Snapshot) Merge(d *Snapshot) {
	if d.Full {
		*s = Snapshot{Seq: d.Seq, Full: true, Zones: slices.Clone(d.Zones), Permits: slices.Clone(d.Permits)}
		return
	}
	for _, z := range d.Zones {
		if i := slices.IndexFunc(s.Zones, func(o Zone) bool { return o.ID == z.ID }); i >= 0 {
			s.Zones[i] = z
		} else {
			s.Zones = append(s.Zones, z)
		}
	}
	for _, p := range d.Permits {
		if i := slices.IndexFunc(s.Permits, func(o Permit) bool { return o.ID == p.ID }); i >= 0 {
			s.Permits[i] = p
		} else {
			s.Permits = append(s.Permits, p)
		}
	}
	s.Seq = max(s.Seq, d.Seq)
}

// Index is a snapshot arranged for lookups: the zones by community and by
// building, the permits by resident. Build it once per snapshot (the
// server keeps it beside the snapshot it caches); it is read-only after.
type Index struct {
	snap        *Snapshot
	communities map[string][]int
	buildings   map[string][]int
	permits     map[string][]int
}

// NewIndex indexes s, which must not change afterwards.
func NewIndex(s *Snapshot) *Index {
	x := &Index{snap: s, communities: map[string][]int{}, buildings: map[string][]int{}, permits: map[string][]int{}}
	for i := range s.Zones {
		for _, c := range s.Zones[i].Communities {
			x.communities[c] = append(x.communities[c], i)
		}
		for _, b := range s.Zones[i].Buildings {
			x.buildings[b] = append(x.buildings[b], i)
		}
	}
	for i := range s.Permits {
		x.permits[s.Permits[i].Resident] = append(x.permits[s.Permits[i].Resident], i)
	}
	return x
}

// Snapshot answers the snapshot x indexes.
func (x *Index) Snapshot() *Snapshot { return x.snap }

// ZoneOf answers the strictest zone in force at at over the building of
// community (the lowest id among equals, so the answer is stable), nil
// when none is.
func (x *Index) ZoneOf(community, building string, at int64) *Zone {
	var best *Zone
	pick := func(ids []int) {
		for _, i := range ids {
			z := &x.snap.Zones[i]
			if !z.InForce(at) {
				continue
			}
			if best == nil || z.Level.Stricter(best.Level) || (z.Level == best.Level && z.ID < best.ID) {
				best = z
			}
		}
	}
	pick(x.communities[community])
	if building != "" {
		pick(x.buildings[building])
	}
	return best
}

// PermitOf answers a permit of resident in force at at, nil when none is.
func (x *Index) PermitOf(resident string, at int64) *Permit {
	for _, i := range x.permits[resident] {
		if p := &x.snap.Permits[i]; p.InForce(at) {
			return p
		}
	}
	return nil
}

// Gate is where an estate gate stands: the community and the keys of the
// buildings of its estate.
type Gate struct {
	Community string
	Buildings []string
}

// within reports whether z covers the gate: its community, or one of its
// estate's buildings.
func (g Gate) within(z *Zone) bool {
	if slices.Contains(z.Communities, g.Community) {
		return true
	}
	for _, b := range g.Buildings {
		if slices.Contains(z.Buildings, b) {
			return true
		}
	}
	return false
}

// Resident is who a resident code names: the pseudonymous resident id,
// the household's community and building.
type Resident struct {
	ID        string
	Community string
	Building  string
}

// Verdict is a gate's answer for a resident: the reason (OK, ZoneSealed or
// ZoneControlled), the zone that decided (nil when none covers the
// resident) and the exit permit that let a sealed resident out.
type Verdict struct {
	Reason passtoken.Reason
	Zone   *Zone
	Permit *Permit
}

// Decide answers whether resident r may pass gate g at at (Unix ms),
// going either way: a resident of a sealed zone only with an exit permit
// in force (zone_sealed otherwise), wherever the gate is; a resident of a
// controlled zone only at a gate inside that zone (zone_controlled
// otherwise); anyone else passes. The gate's own zone does not change a
// resident's answer: a resident of another estate gets the answer for
// their own zone.
func (x *Index) Decide(g Gate, r Resident, at int64) Verdict {
	z := x.ZoneOf(r.Community, r.Building, at)
	if z == nil {
		return Verdict{Reason: passtoken.OK}
	}
	switch z.Level {
	case Sealed:
		if p := x.PermitOf(r.ID, at); p != nil {
			return Verdict{Reason: passtoken.OK, Zone: z, Permit: p}
		}
		return Verdict{Reason: passtoken.ZoneSealed, Zone: z}
	case Controlled:
		if g.within(z) {
			return Verdict{Reason: passtoken.OK, Zone: z}
		}
		return Verdict{Reason: passtoken.ZoneControlled, Zone: z}
	}
	return Verdict{Reason: passtoken.OK, Zone: z}
}
