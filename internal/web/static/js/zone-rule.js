// The estate gate's rule (两码查验) in the browser: internal/zonerule
// line for line, so that the scan page of an estate gate decides resident
// codes offline as the server does online, over the same snapshot of
// zones and exit permits (GET /api/v1/zones/snapshot?after=SEQ,
// zonerule.Snapshot's JSON). Times are Unix milliseconds. A Go test runs
// one decision table through both (internal/checkpoint/gaterule_test.go);
// when zonerule.go changes, this changes.
//
// Loaded as a file (the Content-Security-Policy forbids inline scripts);
// it defines window.TongxinZone and touches nothing else.
"use strict";

(function (root) {
  // Level.rank: 3 for sealed down to 1 for guarded, 0 for an unknown level.
  var RANK = { sealed: 3, controlled: 2, guarded: 1 };
  function rank(l) { return RANK[l] || 0; }
  function has(list, v) { return Array.isArray(list) && list.indexOf(v) >= 0; }

  // Zone.InForce and Permit.InForce.
  function zoneInForce(z, at) { return z.from <= at && (!z.to || at < z.to); }
  function permitInForce(p, at) { return p.from <= at && at < p.to; }

  // merge is Snapshot.Merge: d's zones and permits replace those of s with
  // their ids, new ones are added; a whole snapshot replaces s. It answers
  // the merged snapshot (s is not changed).
  function merge(s, d) {
    if (!d) return s;
    if (d.full || !s) {
      return { seq: d.seq || 0, full: true, zones: (d.zones || []).slice(), permits: (d.permits || []).slice() };
    }
    var out = { seq: Math.max(s.seq || 0, d.seq || 0), full: s.full, zones: (s.zones || []).slice(), permits: (s.permits || []).slice() };
    [["zones", d.zones], ["permits", d.permits]].forEach(function (kv) {
      var list = out[kv[0]];
      (kv[1] || []).forEach(function (x) {
        var i = list.findIndex(function (o) { return o.id === x.id; });
        if (i >= 0) list[i] = x;
        else list.push(x);
      });
    });
    return out;
  }

  // Index is NewIndex: the zones by community and by building, the
  // permits by resident, as positions in the snapshot's lists.
  function Index(snap) {
    this.snap = snap || { seq: 0, zones: [], permits: [] };
    this.communities = new Map();
    this.buildings = new Map();
    this.permits = new Map();
    var add = function (m, k, i) {
      if (!m.has(k)) m.set(k, []);
      m.get(k).push(i);
    };
    var self = this;
    (this.snap.zones || []).forEach(function (z, i) {
      (z.communities || []).forEach(function (c) { add(self.communities, c, i); });
      (z.buildings || []).forEach(function (b) { add(self.buildings, b, i); });
    });
    (this.snap.permits || []).forEach(function (p, i) { add(self.permits, p.rid, i); });
  }

  // zoneOf is Index.ZoneOf: the strictest zone in force at at over the
  // building of community (the lowest id among equals), null when none.
  Index.prototype.zoneOf = function (community, building, at) {
    var best = null, zones = this.snap.zones || [];
    var pick = function (ids) {
      (ids || []).forEach(function (i) {
        var z = zones[i];
        if (!zoneInForce(z, at)) return;
        if (best === null || rank(z.level) > rank(best.level) || (z.level === best.level && z.id < best.id)) best = z;
      });
    };
    pick(this.communities.get(community));
    if (building) pick(this.buildings.get(building));
    return best;
  };

  // permitOf is Index.PermitOf: a permit of resident in force at at.
  Index.prototype.permitOf = function (resident, at) {
    var list = this.permits.get(resident) || [], permits = this.snap.permits || [];
    for (var j = 0; j < list.length; j++) {
      if (permitInForce(permits[list[j]], at)) return permits[list[j]];
    }
    return null;
  };

  // within is Gate.within: z covers the gate's community or one of its
  // estate's buildings.
  function within(gate, z) {
    if (has(z.communities, gate.community)) return true;
    return (gate.buildings || []).some(function (b) { return has(z.buildings, b); });
  }

  // decide is Index.Decide: {reason, zone, permit} for resident r
  // ({id, community, building}) at gate g ({community, buildings}) at at.
  Index.prototype.decide = function (g, r, at) {
    var z = this.zoneOf(r.community, r.building, at);
    if (!z) return { reason: "ok", zone: null, permit: null };
    if (z.level === "sealed") {
      var p = this.permitOf(r.id, at);
      if (p) return { reason: "ok", zone: z, permit: p };
      return { reason: "zone_sealed", zone: z, permit: null };
    }
    if (z.level === "controlled") {
      return { reason: within(g, z) ? "ok" : "zone_controlled", zone: z, permit: null };
    }
    return { reason: "ok", zone: z, permit: null };
  };

  root.TongxinZone = { merge: merge, Index: Index };
})(typeof window !== "undefined" ? window : globalThis);
