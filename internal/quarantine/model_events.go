package quarantine

import (
	"sort"
)

// siteEvents turns placements (of stays that were at site, with their
// other placements) into the site's events up to at, newest first: an
// admission opens a stay's first placement; a placement following one
// of the same site is a move between its rooms; one following another
// site's is a transfer in, and the end of one here followed by another
// site's a transfer out; a release ends the last.
func siteEvents(site int64, rows []*placementRow, at int64) []Event {
	byStay := map[int64][]*placementRow{}
	for _, r := range rows {
		byStay[r.stayID] = append(byStay[r.stayID], r)
	}
	var out []Event
	for _, list := range byStay {
		sort.Slice(list, func(i, j int) bool { return list[i].from < list[j].from })
		for i, r := range list {
			var prev, next *placementRow
			if i > 0 {
				prev = list[i-1]
			}
			if i+1 < len(list) {
				next = list[i+1]
			}
			out = append(out, placementEvents(site, r, prev, next, at)...)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].At.Equal(out[j].At) {
			return out[i].At.After(out[j].At)
		}
		return out[i].StayID > out[j].StayID
	})
	return out
}

// placementEvents are the events of one placement r of a stay, between
// prev and next of the same stay (nil when none).
func placementEvents(site int64, r, prev, next *placementRow, at int64) []Event {
	var out []Event
	ev := func(t int64, kind, room, to, by string) {
		out = append(out, Event{At: fromMS(t), Kind: kind, StayID: r.stayID, Name: r.name, Room: room, To: to, By: by})
	}
	if r.siteID == site {
		switch {
		case prev == nil:
			ev(r.from, "admit", r.room, "", r.by)
		case prev.siteID == site:
			ev(r.from, "move", prev.room, r.room, r.by)
		default:
			ev(r.from, "transfer_in", r.room, "", r.by)
		}
		if r.to != nil && *r.to <= at && r.endKind != nil && *r.endKind == "release" {
			ev(*r.to, "release", r.room, "", "")
		}
		return out
	}
	if prev != nil && prev.siteID == site {
		ev(r.from, "transfer_out", prev.room, r.site+" "+r.room, r.by)
	}
	_ = next
	return out
}
