// The scan page of a checkpoint (卡口扫码): a hardware scanner typing into
// the field, the camera (the browser's BarcodeDetector, or jsQR loaded on
// demand where there is none), or typing the short pass number printed on
// the card (online only: the server looks the pass up).
//
// Online, every scan goes to the server, whose verdict is shown. When the
// server cannot be reached the page verifies the pass itself
// (scan-verify.js) with the lists it keeps in localStorage — the JWK Set,
// the revocation list (fetched incrementally with ?since=) and the
// checkpoint's area path — and queues the scan; queued scans go to the
// batch endpoint when the network returns (the "online" event and a retry
// every few seconds), each with its client_id, which the server keeps once.
// At an estate gate (两码查验) the page also keeps the zones and exit
// permits (GET /api/v1/zones/snapshot?after=SEQ, merged as
// zonerule.Snapshot.Merge) and
// decides resident codes offline with zone-rule.js, as the server does.
// A service worker (/checkpoints/sw.js) serves the page and its files when
// the network is gone.
//
// The configuration comes from the JSON element #scan-config (the
// Content-Security-Policy forbids inline scripts).
"use strict";

(function () {
  var cfgEl = document.getElementById("scan-config");
  if (!cfgEl || !window.TongxinPass || !window.TongxinPage) return;
  var cfg = JSON.parse(cfgEl.textContent);
  var TP = window.TongxinPass;
  var T = cfg.text || {};
  var cpID = String(cfg.checkpoint.id);

  var HOUR = 3600 * 1000;
  var STALE_WARN = 24 * HOUR; // orange banner
  var STALE_BAD = 48 * HOUR; // red banner
  var REFRESH_EVERY = 5 * 60 * 1000; // lists, while online
  var RETRY_EVERY = 5000; // queued scans
  var ONLINE_TIMEOUT = 4000; // one scan sent to the server
  var BATCH_SIZE = 100;
  var RECENT_MAX = 20;
  var SHOW_ALLOW = 3000, SHOW_DENY = 6000;
  var CACHE = "tongxin-scan-v1"; // shared with the service worker

  var fmt = TongxinPage.fmt;

  // ------------------------------------------------------------------
  // Storage. Lists are shared by every checkpoint of the device; the
  // checkpoint, its queue and its recent scans are per checkpoint.
  var P = "tongxin.scan.";
  var stored = TongxinPage.store(P, function () { note(T.storage_full, "bad"); });
  var load = stored.load, save = stored.save;

  // keys: {fetched_at, keys: [{kty, crv, kid, x}]}
  // revocations: {fetched_at, next, pids: {pid: at}, kids: {kid: at}}
  // site.<id>: {fetched_at, id, name, area_path, area_name}
  // queue.<id>: [{client_id, token, scanned_at}]
  // recent.<id>: [{reason, verdict, source, at, name, uploaded}]
  // zones: {fetched_at, snap: zonerule.Snapshot} (estate gates)
  function site() { return load("site." + cpID, null) || cfg.checkpoint; }
  function saveSite(s, at) {
    var old = load("site." + cpID, null);
    if (old && old.fetched_at > at) return;
    save("site." + cpID, {
      fetched_at: at, id: cpID, name: s.name || "", area_path: s.area_path || "", area_name: s.area_name || "",
    });
  }
  function queue() { return load("queue." + cpID, []); }
  function lists() {
    var k = load("keys", null), r = load("revocations", null);
    return { keys: k ? k.keys : [], revoked: r || { pids: {}, kids: {} }, keysAt: k ? k.fetched_at : 0, revAt: r ? r.fetched_at : 0 };
  }
  var gate = cfg.checkpoint.gate || null; // an estate gate: {estate, community, buildings}
  function zones() { return load("zones", null); }

  // ------------------------------------------------------------------
  // The page's parts.
  var $ = function (id) { return document.getElementById(id); };
  var form = $("scan-form"), input = $("scan-token"), camBtn = $("scan-camera");
  var verdict = $("scan-verdict"), video = $("scan-video"), camBox = $("scan-camera-box");
  var statusNet = $("scan-net"), statusQueue = $("scan-queue"), statusAge = $("scan-age"), statusOffline = $("scan-offline");
  var banner = $("scan-banner"), noteEl = $("scan-note"), recentEl = $("scan-recent");
  var verifier = new TP.Verifier();

  function note(text, level) {
    if (!noteEl) return;
    noteEl.textContent = text || "";
    noteEl.hidden = !text;
    noteEl.className = "scan-note" + (level ? " " + level : "");
  }

  var tz = { timeZone: "Asia/Shanghai" };
  var timeFmt = new Intl.DateTimeFormat(cfg.lang || "zh-CN", Object.assign({ hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false }, tz));
  var dayFmt = new Intl.DateTimeFormat(cfg.lang || "zh-CN", Object.assign({ year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false }, tz));
  function ago(ms) { return TongxinPage.ago(ms, T); }

  // The freshness of the lists, and the banner when they are old.
  function showStatus() {
    var online = navigator.onLine !== false && !net.down();
    statusNet.textContent = online ? T.online : T.offline;
    statusNet.className = "scan-pill " + (online ? "ok" : "bad");
    var n = queue().length;
    statusQueue.textContent = fmt(T.queued, n);
    statusQueue.hidden = n === 0;
    var l = lists();
    var at = Math.min(l.keysAt || 0, l.revAt || 0);
    if (gate) at = Math.min(at, (zones() || {}).fetched_at || 0);
    var age = Date.now() - at;
    document.documentElement.setAttribute("data-lists-at", String(at));
    if (!at) {
      statusAge.textContent = T.lists_never;
      banner.textContent = T.banner_never;
      banner.className = "scan-banner bad";
      banner.hidden = false;
      return;
    }
    statusAge.textContent = fmt(T.lists_age, ago(age));
    statusAge.title = dayFmt.format(new Date(at));
    if (age >= STALE_WARN) {
      banner.textContent = fmt(age >= STALE_BAD ? T.banner_bad : T.banner_warn, Math.floor(age / HOUR));
      banner.className = "scan-banner " + (age >= STALE_BAD ? "bad" : "warn");
      banner.hidden = false;
    } else {
      banner.hidden = true;
    }
  }

  // ------------------------------------------------------------------
  // Network (offline-page.js): when the server is back, fresh lists and
  // the queue at once.
  var net = TongxinPage.net({
    changed: function () { showStatus(); },
    back: function () { whenOnline(); },
    authLost: function () { authLost(); }
  });
  var request = net.request;
  function postJSON(url, body, timeout) {
    return request(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) }, timeout);
  }

  var authWarned = false;
  function authLost() {
    if (authWarned) return;
    authWarned = true;
    var a = $("scan-login");
    if (a) a.hidden = false;
    note(T.auth_lost, "bad");
  }

  // The JWK Set. Keys are kept after they leave the set (the server still
  // verifies with them, and the passes they signed then expire).
  async function refreshKeys() {
    var r = await request(cfg.urls.jwks, { cache: "no-cache" });
    if (!r.ok) throw new Error("jwks " + r.status);
    var body = await r.json();
    var old = load("keys", null);
    save("keys", { fetched_at: Date.now(), keys: TongxinPage.mergeKeys(old && old.keys, body.keys) });
  }

  // The revocation list, from where the last fetch stopped, page by page;
  // with it the ids of revoked keys.
  async function refreshRevocations() {
    var rv = load("revocations", null) || { next: 0, pids: {}, kids: {} };
    for (var page = 0; page < 1000; page++) {
      var r = await request(cfg.urls.revocations + "?since=" + encodeURIComponent(rv.next || 0), { cache: "no-cache" });
      if (!r.ok) throw new Error("revocations " + r.status);
      var body = await r.json();
      (body.items || []).forEach(function (it) {
        if (it && typeof it.pid === "string" && it.pid) rv.pids[it.pid] = it.revoked_at || true;
      });
      (body.revoked_keys || []).forEach(function (kid) {
        if (typeof kid === "string" && kid) rv.kids[kid] = true;
      });
      if (typeof body.next === "number" && body.next > (rv.next || 0)) rv.next = body.next;
      if (!body.more) break;
    }
    rv.fetched_at = Date.now();
    save("revocations", rv);
  }

  // The checkpoint (its area path above all), in case it moved since this
  // copy of the page was made: the page is fetched again, its
  // configuration read, and the fresh copy is what the service worker
  // serves offline from then on.
  async function refreshSite() {
    var r = await request(location.pathname, { cache: "no-store", headers: { Accept: "text/html" } });
    if (!r.ok || r.redirected) return;
    var copy = r.clone();
    var doc = new DOMParser().parseFromString(await r.text(), "text/html");
    var el = doc.getElementById("scan-config");
    if (!el) return;
    var fresh = JSON.parse(el.textContent);
    if (!fresh.checkpoint || String(fresh.checkpoint.id) !== cpID || typeof fresh.checkpoint.area_path !== "string") return;
    saveSite(fresh.checkpoint, fresh.generated_at || Date.now());
    if (window.caches) {
      try {
        await (await caches.open(CACHE)).put(location.pathname, copy);
      } catch (e) { /* the next navigation stores it */ }
    }
  }

  // The zones and exit permits of an estate gate, from the last seq this
  // device holds: the changes since, merged (a whole snapshot replaces).
  async function refreshZones() {
    if (!gate || !cfg.urls.zones || !window.TongxinZone) return;
    var z = zones() || { fetched_at: 0, snap: null };
    var after = z.snap ? z.snap.seq || 0 : 0;
    var r = await request(cfg.urls.zones + "?after=" + encodeURIComponent(after), { cache: "no-cache" });
    if (!r.ok) throw new Error("zones " + r.status);
    var body = await r.json();
    if (!body || typeof body.seq !== "number") throw new Error("zones");
    save("zones", { fetched_at: Date.now(), snap: window.TongxinZone.merge(z.snap, body) });
  }

  var refreshing = null, lastRefresh = 0;
  function refreshAll() {
    if (refreshing) return refreshing;
    refreshing = Promise.allSettled([refreshKeys(), refreshRevocations(), refreshSite(), refreshZones()]).then(function (rs) {
      refreshing = null;
      if (rs[0].status === "fulfilled" && rs[1].status === "fulfilled" && rs[3].status === "fulfilled") lastRefresh = Date.now();
      showStatus();
      return rs;
    });
    return refreshing;
  }

  // ------------------------------------------------------------------
  // The queue of scans made without the server.
  function enqueue(s) {
    var q = queue();
    q.push(s);
    save("queue." + cpID, q);
    showStatus();
  }
  function dequeue(ids) {
    var q = queue().filter(function (s) { return !ids.has(s.client_id); });
    save("queue." + cpID, q);
    markUploaded(ids);
    showStatus();
  }

  var flushing = null;
  function flush() {
    if (flushing) return flushing;
    flushing = (async function () {
      var q = queue();
      while (q.length > 0) {
        var chunk = q.slice(0, BATCH_SIZE);
        var r = await postJSON(cfg.urls.batch, { scans: chunk }, 30000);
        if (r.ok) {
          var res = await r.json().catch(function () { return null; });
          var refused = new Set();
          ((res && res.items) || []).forEach(function (it) { if (it && it.error) refused.add(it.client_id); });
          if (refused.size > 0) markRefused(refused);
          dequeue(new Set(chunk.map(function (s) { return s.client_id; })));
        } else if (r.status === 400 || r.status === 413 || r.status === 422) {
          // The server refuses this chunk as a whole: send its scans one by
          // one, and drop only those it refuses alone, so that one bad
          // scan does not hold the queue forever.
          for (var i = 0; i < chunk.length; i++) {
            var one = await postJSON(cfg.urls.batch, { scans: [chunk[i]] }, 15000);
            if (one.ok || one.status === 400 || one.status === 413 || one.status === 422) {
              dequeue(new Set([chunk[i].client_id]));
            } else {
              throw new Error("batch " + one.status);
            }
          }
        } else {
          throw new Error("batch " + r.status);
        }
        q = queue();
      }
    })().then(function () {
      flushing = null;
    }, function () {
      flushing = null;
    });
    return flushing;
  }

  // ------------------------------------------------------------------
  // Recent scans, newest first.
  function recent() { return load("recent." + cpID, []); }
  function addRecent(v) {
    var list = recent();
    list.unshift({
      client_id: v.client_id, verdict: v.verdict, reason: v.reason, source: v.source, at: v.at,
      who: v.pass ? (v.pass.name || v.pass.plate || "") : v.resident ? v.resident.name || "" : "", uploaded: v.source === "server",
    });
    save("recent." + cpID, list.slice(0, RECENT_MAX));
    showRecent();
  }
  function markUploaded(ids) {
    var list = recent(), changed = false;
    list.forEach(function (e) { if (ids.has(e.client_id) && !e.uploaded) { e.uploaded = true; changed = true; } });
    if (changed) { save("recent." + cpID, list); showRecent(); }
  }
  function markRefused(ids) {
    var list = recent();
    list.forEach(function (e) { if (ids.has(e.client_id)) e.refused = true; });
    save("recent." + cpID, list);
  }
  function showRecent() {
    if (!recentEl) return;
    var list = recent();
    recentEl.textContent = "";
    list.forEach(function (e) {
      var li = document.createElement("li");
      li.className = "scan-rec " + e.verdict;
      var word = document.createElement("strong");
      word.textContent = e.verdict === "allow" ? T.allow : e.verdict === "unverifiable" ? T.unverifiable_word : T.deny;
      var who = document.createElement("span");
      who.textContent = [e.who, e.verdict === "allow" ? "" : reasonName(e.reason)].filter(Boolean).join(" · ");
      var when = document.createElement("span");
      when.className = "muted small";
      when.textContent = timeFmt.format(new Date(e.at)) + " · " + (e.source === "server" ? T.source_server : e.refused ? T.refused : e.uploaded ? T.uploaded : T.pending);
      li.append(word, who, when);
      recentEl.append(li);
    });
    $("scan-recent-box").hidden = list.length === 0;
  }

  // ------------------------------------------------------------------
  // Verdicts.
  function reasonName(r) {
    if (r === "unverifiable") return T.unverifiable;
    return (cfg.reasons && cfg.reasons[r]) || r;
  }

  // passFromClaims shows what a locally verified token says.
  function passFromClaims(c) {
    if (!c) return null;
    return {
      kind: c.k, name: c.n, id4: c.id4, plate: c.pl, enterprise: c.en || c.ent, ent_code: c.en ? c.ent : "",
      valid_from: c.nbf ? c.nbf * 1000 : 0, valid_to: c.exp ? c.exp * 1000 : 0,
    };
  }

  // passFromServer reads the server's masked pass (checkpoint.PassInfo).
  function passFromServer(p) {
    if (!p) return null;
    var t = function (v) { var d = Date.parse(v || ""); return isNaN(d) ? 0 : d; };
    return {
      kind: p.kind, name: p.name, id4: p.id4, plate: p.plate, enterprise: p.ent_name || p.ent, ent_code: p.ent_name ? p.ent : "",
      valid_from: t(p.valid_from), valid_to: t(p.valid_to) };
  }

  var hideTimer = null;
  function showVerdict(v) {
    var allow = v.verdict === "allow", unsure = v.verdict === "unverifiable";
    verdict.className = "scan-verdict " + (allow ? "allow" : unsure ? "unsure" : "deny");
    verdict.setAttribute("data-verdict", v.verdict);
    verdict.setAttribute("data-reason", v.reason);
    verdict.setAttribute("data-source", v.source);
    $("scan-verdict-word").textContent = allow ? T.allow : unsure ? T.unverifiable_word : T.deny;
    // "签名无效（伪造或被篡改）": the reason large, the parenthesis below.
    var rn = allow ? "" : reasonName(v.reason);
    var m = /^(.+?)\s*([（(].*[）)])$/.exec(rn);
    $("scan-verdict-reason").textContent = m ? m[1] : rn;
    $("scan-verdict-reason").hidden = allow;
    $("scan-verdict-detail").textContent = m ? m[2] : "";
    $("scan-verdict-detail").hidden = !m;
    var dl = $("scan-verdict-pass");
    dl.textContent = "";
    var p = v.pass;
    function row(label, value, secondary) {
      if (!value) return;
      var dt = document.createElement("dt"), dd = document.createElement("dd");
      dt.textContent = label;
      dd.textContent = value;
      if (secondary) {
        var sm = document.createElement("small");
        sm.className = "scan-verdict-code";
        sm.textContent = secondary;
        dd.append(" ", sm);
      }
      dl.append(dt, dd);
    }
    var res = v.resident;
    if (res) {
      row(T.resident, res.name + (res.household ? " · " + T.household : ""));
      if (res.level) row(T.zone, (cfg.levels && cfg.levels[res.level]) || res.level);
      if (res.permit) row(T.permit, "#" + res.permit);
    }
    if (p) {
      row(T.holder, p.name);
      row(T.id4, p.id4);
      row(T.plate, p.plate);
      // The enterprise by name (tokens issued since names were added);
      // its credit code small beside it.
      row(T.enterprise, p.enterprise, p.ent_code);
      if (p.valid_from || p.valid_to) row(T.validity, (p.valid_from ? dayFmt.format(new Date(p.valid_from)) : "") + " — " + (p.valid_to ? dayFmt.format(new Date(p.valid_to)) : ""));
    }
    dl.hidden = dl.childElementCount === 0;
    $("scan-verdict-source").textContent = (v.source === "server" ? T.source_server : T.source_local) + " · " + timeFmt.format(new Date(v.at));
    verdict.hidden = false;
    clearTimeout(hideTimer);
    hideTimer = setTimeout(hideVerdict, allow ? SHOW_ALLOW : SHOW_DENY);
    if (navigator.vibrate) { try { navigator.vibrate(allow ? 80 : [120, 80, 120]); } catch (e) { /* not allowed */ } }
  }
  function hideVerdict() {
    clearTimeout(hideTimer);
    verdict.hidden = true;
    focusInput();
  }
  verdict.addEventListener("click", hideVerdict);

  // ------------------------------------------------------------------
  // One scan.
  var busy = Promise.resolve();
  function scan(raw) {
    // One at a time, in the order scanned.
    busy = busy.then(function () { return scanOne(raw); }, function () { return scanOne(raw); });
    return busy;
  }

  // A pass number as typed: digits (full-width too), spaces and hyphens
  // only. A token always has letters and dots, so the two never mix.
  var NUMBER_RE = /^[0-9０-９ \-－\u3000]{1,30}$/;

  // A scan's id: a UUID of version 7 (RFC 9562), its first 48 bits the
  // time in milliseconds, the rest random. The server's log keeps each
  // checkpoint's ids in an index: ids in time order are added at its end,
  // where random ones (version 4) would each change a page somewhere in
  // it: more than twice the loader's work a scan once the log holds a few
  // hundred thousand (docs/benchmarks.md).
  function newClientID(at) {
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    for (var i = 5, t = at; i >= 0; i--, t = Math.floor(t / 256)) b[i] = t % 256;
    b[6] = (b[6] & 0x0f) | 0x70;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = "";
    for (var j = 0; j < 16; j++) h += (b[j] + 0x100).toString(16).slice(1);
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  // scanNumber sends a typed pass number to the server, the only one that
  // can look it up; offline the officer is told to scan the QR code.
  async function scanNumber(typed, at) {
    if (navigator.onLine === false || net.down()) {
      note(T.number_offline, "bad");
      return;
    }
    var s = { client_id: newClientID(at), number: typed, scanned_at: new Date(at).toISOString() };
    try {
      var r = await postJSON(cfg.urls.scan, s, ONLINE_TIMEOUT);
      var body = await r.json().catch(function () { return null; });
      if (r.ok && body && (body.verdict === "allow" || body.verdict === "deny")) {
        note("");
        var shown = { verdict: body.verdict, reason: body.reason, pass: passFromServer(body.pass), source: "server", at: at, client_id: s.client_id };
        showVerdict(shown);
        addRecent(shown);
      } else if (r.status !== 401) {
        note(fmt(T.number_refused, (body && body.detail) || String(r.status)), "bad");
      }
    } catch (e) {
      note(T.number_offline, "bad");
    }
  }

  // decideResident decides a resident code at this estate gate offline:
  // its signature (scan-verify.js), then zone-rule.js over the zones kept,
  // as checkpoint.Service.decideResident. Without the zones the page
  // cannot know (unverifiable); the server decides when the scan arrives.
  async function decideResident(token, at, l) {
    var v = await verifier.verifyResident(token, l);
    if (v.reason !== "ok" && v.reason !== "revoked") return { reason: v.reason };
    var c = v.claims;
    var info = { rid: c.rid, household: c.rid === c.hh, name: c.n, community: c.z, building: c.b };
    if (v.reason !== "ok") return { reason: v.reason, resident: info };
    var z = zones();
    if (!z || !z.snap || !window.TongxinZone) {
      note(T.zones_never, "bad");
      return { reason: "unverifiable", resident: info };
    }
    var d = new window.TongxinZone.Index(z.snap).decide({ community: gate.community, buildings: gate.buildings },
      { id: c.rid, community: c.z, building: c.b }, at);
    if (d.zone) { info.zone = d.zone.id; info.level = d.zone.level; }
    if (d.permit) info.permit = d.permit.id;
    return { reason: d.reason, resident: info };
  }

  async function scanOne(raw) {
    // The server trims and refuses anything above 4096 bytes; sending a
    // trimmed, shortened token changes no verdict and keeps a pasted
    // megabyte out of the queue.
    var token = TP.trimSpace(String(raw)).slice(0, 4097);
    if (token === "") return;
    var at = Date.now();
    if (NUMBER_RE.test(token)) return scanNumber(token, at);
    var s = { client_id: newClientID(at), token: token, scanned_at: new Date(at).toISOString() };
    var shown = null;
    // After a failure the page decides alone at once; the queue's retries
    // find out when the server is back.
    if (navigator.onLine !== false && !net.down()) {
      try {
        var r = await postJSON(cfg.urls.scan, s, ONLINE_TIMEOUT);
        var body = await r.json().catch(function () { return null; });
        if (r.ok && body && (body.verdict === "allow" || body.verdict === "deny")) {
          shown = { verdict: body.verdict, reason: body.reason, pass: passFromServer(body.pass), resident: body.resident || null, source: "server" };
        } else if (!r.ok && r.status !== 401 && body && body.detail) {
          // Refused online (a closed checkpoint …): the page decides, the
          // batch upload logs the scan, and the officer reads why.
          note(fmt(T.server_said, body.detail), "bad");
        }
      } catch (e) {
        // Unreachable: the page decides alone.
      }
    }
    if (!shown) {
      var l = lists();
      if (gate && TP.tokenType(token) === TP.RESIDENT_TYPE) {
        shown = await decideResident(token, at, l);
      } else {
        var res = await verifier.verify(token, at, l, site());
        shown = { reason: res.reason, pass: passFromClaims(res.claims) };
      }
      shown.verdict = shown.reason === "ok" ? "allow" : shown.reason === "unverifiable" ? "unverifiable" : "deny";
      shown.source = "local";
      enqueue(s);
      scheduleFlush(RETRY_EVERY);
    }
    shown.at = at;
    shown.client_id = s.client_id;
    showVerdict(shown);
    addRecent(shown);
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var v = input.value;
    input.value = "";
    scan(v);
  });

  function focusInput() {
    if (camBox && !camBox.hidden) return;
    if (document.activeElement !== input) input.focus({ preventScroll: true });
  }
  // A hardware scanner types wherever the focus is: keys typed outside
  // any field go to the scan field.
  document.addEventListener("keydown", function (ev) {
    var a = document.activeElement;
    if (a === input || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (a && (a.tagName === "INPUT" || a.tagName === "TEXTAREA" || a.tagName === "SELECT" || a.isContentEditable)) return;
    if (ev.key && ev.key.length === 1) focusInput();
    else if (ev.key === "Escape" && !verdict.hidden) hideVerdict();
  });

  // ------------------------------------------------------------------
  // The camera. Where the browser reads QR codes itself (BarcodeDetector)
  // it does; elsewhere (Safari on iPhone, WeChat, Firefox) jsQR, a QR
  // decoder in plain JavaScript served from this server (its URL is the
  // camera button's data-decoder), is loaded the first time the camera
  // opens and kept in the offline cache with the page.
  var stream = null, detector = null, scanning = false;
  var decoderURL = camBtn ? camBtn.getAttribute("data-decoder") || "" : "";
  var photoInput = $("scan-photo");
  var FRAME_MAX = 720; // px: a frame is scaled down to this before jsQR reads it

  // cameraMode is "native", "fallback", "photo" (no live camera — an
  // origin that is not secure, an old web view — but a photo taken by
  // the camera app, read by jsQR) or "" (no decoder).
  var cameraMode = (async function () {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return decoderURL && photoInput ? "photo" : "";
    if ("BarcodeDetector" in window) {
      try {
        var formats = await window.BarcodeDetector.getSupportedFormats();
        if (formats.indexOf("qr_code") >= 0) return "native";
      } catch (e) { /* fall through to jsQR */ }
    }
    return decoderURL ? "fallback" : "";
  })();

  var decoderLoad = null;
  function loadDecoder() {
    if (window.jsQR) return Promise.resolve(window.jsQR);
    if (decoderLoad) return decoderLoad;
    decoderLoad = new Promise(function (resolve, reject) {
      var el = document.createElement("script");
      el.src = decoderURL;
      el.onload = function () { window.jsQR ? resolve(window.jsQR) : reject(new Error("jsQR")); };
      el.onerror = function () { decoderLoad = null; reject(new Error("jsQR")); };
      document.head.append(el);
    });
    return decoderLoad;
  }

  // fallbackDetector reads a video frame with jsQR, as BarcodeDetector's
  // detect() does: a list of {rawValue}.
  function fallbackDetector(jsQR) {
    var canvas = document.createElement("canvas");
    var ctx = canvas.getContext("2d", { willReadFrequently: true });
    return {
      detect: async function (v) {
        var w = v.videoWidth, h = v.videoHeight;
        if (!w || !h) return [];
        var k = Math.min(1, FRAME_MAX / Math.max(w, h));
        canvas.width = Math.round(w * k);
        canvas.height = Math.round(h * k);
        ctx.drawImage(v, 0, 0, canvas.width, canvas.height);
        var img = ctx.getImageData(0, 0, canvas.width, canvas.height);
        var code = jsQR(img.data, img.width, img.height, { inversionAttempts: "dontInvert" });
        return code && code.data ? [{ rawValue: code.data }] : [];
      },
    };
  }

  async function startCamera() {
    try {
      if (!detector) {
        detector = (await cameraMode) === "native"
          ? new window.BarcodeDetector({ formats: ["qr_code"] })
          : fallbackDetector(await loadDecoder());
      }
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
    } catch (e) {
      note(T.camera_failed, "bad");
      return;
    }
    note("");
    video.srcObject = stream;
    camBox.hidden = false;
    await video.play().catch(function () {});
    scanning = true;
    document.documentElement.setAttribute("data-camera", "on");
    var last = "";
    (async function loop() {
      while (scanning) {
        try {
          var codes = await detector.detect(video);
          var c = codes.find(function (x) { return x.rawValue; });
          if (c && c.rawValue !== last) {
            last = c.rawValue;
            stopCamera();
            scan(c.rawValue);
            return;
          }
        } catch (e) { /* a frame that is not ready */ }
        await new Promise(function (res) { setTimeout(res, 150); });
      }
    })();
  }
  function stopCamera() {
    scanning = false;
    if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
    stream = null;
    video.srcObject = null;
    camBox.hidden = true;
    document.documentElement.setAttribute("data-camera", "off");
    focusInput();
  }
  // readPhoto reads a QR code from a photo the camera app took.
  async function readPhoto(file) {
    var url = URL.createObjectURL(file);
    try {
      var jsQR = await loadDecoder();
      var img = new Image();
      await new Promise(function (res, rej) { img.onload = res; img.onerror = rej; img.src = url; });
      var k = Math.min(1, 1600 / Math.max(img.naturalWidth, img.naturalHeight));
      var canvas = document.createElement("canvas");
      canvas.width = Math.max(1, Math.round(img.naturalWidth * k));
      canvas.height = Math.max(1, Math.round(img.naturalHeight * k));
      var ctx = canvas.getContext("2d");
      ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
      var data = ctx.getImageData(0, 0, canvas.width, canvas.height);
      var code = jsQR(data.data, data.width, data.height, { inversionAttempts: "attemptBoth" });
      if (code && code.data) {
        note("");
        scan(code.data);
      } else {
        note(T.photo_no_code, "bad");
      }
    } catch (e) {
      note(T.camera_failed, "bad");
    } finally {
      URL.revokeObjectURL(url);
    }
  }

  cameraMode.then(function (mode) {
    document.documentElement.setAttribute("data-camera-mode", mode || "none");
    if (!mode) return;
    camBtn.hidden = false;
    if (mode === "photo") {
      camBtn.textContent = T.photo;
      camBtn.addEventListener("click", function () { photoInput.value = ""; photoInput.click(); });
      photoInput.addEventListener("change", function () {
        if (photoInput.files && photoInput.files[0]) readPhoto(photoInput.files[0]);
      });
      return;
    }
    camBtn.addEventListener("click", function () { if (scanning) stopCamera(); else startCamera(); });
    $("scan-camera-stop").addEventListener("click", stopCamera);
  });

  // ------------------------------------------------------------------
  // Offline: the service worker, and this page and its files in its cache.
  var assetURLs = function () {
    var urls = [];
    document.querySelectorAll('link[rel="stylesheet"][href^="/static/"], link[rel="icon"][href^="/static/"], script[src^="/static/"], img[src^="/static/"]')
      .forEach(function (el) { urls.push(el.getAttribute("href") || el.getAttribute("src")); });
    return urls.filter(function (u, i) { return urls.indexOf(u) === i; });
  };

  async function precache() {
    if (!window.caches) return false;
    var c = await caches.open(CACHE);
    var assets = assetURLs();
    // The QR decoder this device needs, before it is ever loaded: the
    // camera works offline from the first visit on.
    var mode = await cameraMode;
    if (mode === "fallback" || mode === "photo") assets.push(decoderURL);
    for (var i = 0; i < assets.length; i++) {
      if (!(await c.match(assets[i], { ignoreVary: true }))) await c.add(assets[i]);
    }
    // The page itself: the worker stores it when it installs and on every
    // navigation it answers; should neither have happened, store it here.
    if (!(await c.match(location.pathname, { ignoreVary: true, ignoreSearch: true }))) {
      var r = await fetch(location.pathname, { credentials: "same-origin", cache: "no-store" });
      if (!r.ok || r.redirected) return false;
      await c.put(location.pathname, r);
    }
    // Fingerprinted files of older versions are never asked for again:
    // an older fingerprint of a file this page keeps goes. Other pages'
    // files in the shared cache (the collector's) stay.
    var unprinted = function (path) { return path.replace(/\.[0-9a-f]{8}(\.[a-z0-9]+)$/, "$1"); };
    var keep = new Set(assets.map(function (u) { return new URL(u, location.href).href; }));
    var mine = new Set(assets.map(function (u) { return unprinted(new URL(u, location.href).pathname); }));
    var keys = await c.keys();
    for (var j = 0; j < keys.length; j++) {
      var u = new URL(keys[j].url);
      if (u.pathname.indexOf("/static/") === 0 && !keep.has(u.href) && mine.has(unprinted(u.pathname))) await c.delete(keys[j]);
    }
    return true;
  }

  async function goOffline() {
    if (!("serviceWorker" in navigator)) {
      statusOffline.textContent = T.offline_unsupported;
      return;
    }
    try {
      await navigator.serviceWorker.register(cfg.urls.sw, { scope: location.pathname });
      await navigator.serviceWorker.ready;
      var cached = await precache();
      if (cached) {
        statusOffline.textContent = T.offline_ready;
        statusOffline.className = "scan-pill ok";
        document.documentElement.setAttribute("data-offline-ready", "true");
      }
    } catch (e) {
      // Served from the cache with no network: the worker is there already.
      if (navigator.serviceWorker.controller) {
        statusOffline.textContent = T.offline_ready;
        statusOffline.className = "scan-pill ok";
        document.documentElement.setAttribute("data-offline-ready", "true");
      }
    }
  }

  // ------------------------------------------------------------------
  // Timers: retry queued scans, refresh lists, keep the ages current.
  var flushTimer = null;
  function scheduleFlush(delay) {
    if (flushTimer) return;
    flushTimer = setTimeout(function () {
      flushTimer = null;
      if (queue().length === 0) return;
      flush().then(function () {
        if (queue().length > 0) scheduleFlush(RETRY_EVERY);
      });
    }, delay);
  }

  function whenOnline() {
    refreshAll().then(function () { return flush(); }).then(function () {
      if (queue().length > 0) scheduleFlush(RETRY_EVERY);
    });
  }
  window.addEventListener("online", whenOnline);
  window.addEventListener("offline", showStatus);
  setInterval(function () {
    if (Date.now() - lastRefresh >= REFRESH_EVERY) refreshAll();
    showStatus();
  }, 30000);

  // Start.
  TP.supported().then(function (ok) {
    if (!ok) {
      statusOffline.textContent = T.crypto_unsupported;
      statusOffline.className = "scan-pill bad";
      document.documentElement.setAttribute("data-crypto", "unsupported");
    }
  });
  saveSite(cfg.checkpoint, cfg.generated_at || 0);
  showStatus();
  showRecent();
  focusInput();
  var ready = Promise.allSettled([refreshAll(), goOffline()]).then(function () {
    document.documentElement.setAttribute("data-scan-ready", "true");
    if (queue().length > 0) scheduleFlush(0);
  });

  // For tests and the curious: the verifier with this page's lists.
  window.TongxinScan = {
    ready: ready,
    scan: scan,
    refresh: refreshAll,
    flush: flush,
    queue: queue,
    verify: function (token, atMs) { return verifier.verify(token, atMs || Date.now(), lists(), site()); },
    zones: zones,
  };
})();
