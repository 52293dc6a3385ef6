// The collector's phone page (核酸采样): choose the pool size and the
// mode, scan a tube's barcode, then the residents one after another — a
// hardware scanner typing into the field, the camera (BarcodeDetector, or
// jsQR loaded on demand for QR codes), or a typed ID number.
//
// Each resident code is verified here, with or without a network: the
// signature against the JWK Set this page keeps in localStorage (Ed25519
// in WebCrypto; base64 and the key import are scan-verify.js's), the type
// "tongxin-resident", and not a household code (rid == hh). Only then is
// the sample queued: {client_id (this device's id and a counter),
// resident_code or id_number, tube, pool_size, mode, site_id, sampled_at
// (the device's clock at the scan)}. The queue lives in localStorage and
// goes to POST /api/v1/rounds/{id}/samples in batches whenever the server
// answers; per record: created leaves the queue and is counted, repeat
// leaves it and is shown (本轮已采样), an error leaves it for the list of
// problems with the server's message; a failed request keeps everything
// queued. The server stores each client_id once, so a batch sent twice
// (an answer lost on the way) stores nothing new.
//
// The configuration comes from the JSON element #collect-config (the
// Content-Security-Policy forbids inline scripts). The service worker is
// the checkpoint scan page's (served at cfg.urls.sw).
"use strict";

(function () {
  var cfgEl = document.getElementById("collect-config");
  if (!cfgEl || !window.TongxinPass || !window.TongxinPage) return;
  var cfg = JSON.parse(cfgEl.textContent);
  var TP = window.TongxinPass;
  var T = cfg.text || {};
  var roundID = String(cfg.round.id);

  var RETRY_EVERY = 5000;
  var REFRESH_EVERY = 5 * 60 * 1000;
  var BATCH = Math.min(cfg.batch || 500, 1000);
  var RECENT_MAX = 30;
  var CACHE = "tongxin-scan-v1"; // the scan page's worker's cache

  var fmt = TongxinPage.fmt;

  // ------------------------------------------------------------------
  // Storage: the keys and the device id are shared by every round; the
  // queue, the tube, the problems and the recent samples are per round.
  var P = "tongxin.collect.";
  var stored = TongxinPage.store(P, function () { note(T.storage_full, "bad"); });
  var load = stored.load, save = stored.save;
  // keys: {fetched_at, keys: [{kty, crv, kid, x}]}
  // device: "d" + 8 random hex digits; seq: the last counter used
  // queue.<round>: [sample]; tube.<round>: {barcode, pool, n, full}
  // done.<round>: {rid or id: client_id}; stats.<round>: {created, repeat}
  // stored.<round>: {client_id: 1} the samples the server stored
  // problems.<round>, recent.<round>: [{…}]
  function queue() { return load("queue." + roundID, []); }
  // tubes.<round>: {barcode: {pool, n, members}} every tube of this device
  function tube() { return load("tube." + roundID, null); }
  function setTube(t) {
    save("tube." + roundID, t);
    if (t && t.n > 0) {
      var used = load("tubes." + roundID, {});
      used[t.barcode] = { pool: t.pool, n: t.n, members: t.members };
      save("tubes." + roundID, used);
    }
    showTube();
  }
  function stats() { return load("stats." + roundID, { created: 0, repeat: 0 }); }

  function deviceID() {
    var d = load("device", null);
    if (!d) {
      var b = new Uint8Array(4);
      crypto.getRandomValues(b);
      d = "d" + Array.from(b, function (x) { return x.toString(16).padStart(2, "0"); }).join("");
      save("device", d);
    }
    return d;
  }
  // clientID is unique on this device for ever: the device id, the
  // round and a counter that only grows.
  function clientID() {
    var n = (load("seq", 0) || 0) + 1;
    save("seq", n);
    return deviceID() + "-" + roundID + "-" + n;
  }

  // ------------------------------------------------------------------
  // The page's parts.
  var $ = function (id) { return document.getElementById(id); };
  var form = $("collect-form"), input = $("collect-input"), camBtn = $("collect-camera");
  var statusNet = $("collect-net"), statusKeys = $("collect-keys"), statusQueue = $("collect-queue"),
    statusDone = $("collect-done"), statusOffline = $("collect-offline"), banner = $("collect-banner"), noteEl = $("collect-note");
  var siteSel = $("collect-site"), siteLabel = $("collect-site-label");
  var verifier = new TP.Verifier();

  function note(text, level) {
    noteEl.textContent = text || "";
    noteEl.hidden = !text;
    noteEl.className = "scan-note" + (level ? " " + level : "");
    if (text) document.documentElement.setAttribute("data-note", level || "");
  }
  function ago(ms) { return TongxinPage.ago(ms, T); }
  var timeFmt = new Intl.DateTimeFormat(cfg.lang || "zh-CN", { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false, timeZone: "Asia/Shanghai" });

  function showStatus() {
    var online = navigator.onLine !== false && !net.down();
    statusNet.textContent = online ? T.online : T.offline;
    statusNet.className = "scan-pill " + (online ? "ok" : "bad");
    var n = queue().length;
    statusQueue.textContent = fmt(T.queued, n);
    statusQueue.hidden = n === 0;
    var st = stats();
    statusDone.textContent = fmt(T.uploaded, st.created);
    statusDone.hidden = st.created === 0;
    var k = load("keys", null);
    if (!k || !k.keys || k.keys.length === 0) {
      statusKeys.textContent = T.keys_never;
      statusKeys.className = "scan-pill bad";
    } else {
      statusKeys.textContent = fmt(T.keys_age, ago(Date.now() - k.fetched_at));
      statusKeys.className = "scan-pill";
    }
    document.documentElement.setAttribute("data-queue", String(n));
  }

  // ------------------------------------------------------------------
  // The choices: pool size and mode (site with its site, or door), kept
  // for the next visit.
  function checked(name) {
    var el = document.querySelector('input[name="' + name + '"]:checked');
    return el ? el.value : "";
  }
  function choices() {
    var mode = checked("mode") || (cfg.modes || ["door"])[0];
    return { pool: parseInt(checked("pool"), 10) || 10, mode: mode, site: mode === "site" ? parseInt(siteSel.value, 10) || 0 : 0 };
  }
  function restoreChoices() {
    var c = load("choices." + roundID, null);
    if (c) {
      var p = document.querySelector('input[name="pool"][value="' + c.pool + '"]');
      if (p) p.checked = true;
      var m = document.querySelector('input[name="mode"][value="' + c.mode + '"]');
      if (m) m.checked = true;
      if (c.site) siteSel.value = String(c.site);
    }
    // A campaign with one site: that one.
    if (!siteSel.value && (cfg.sites || []).length === 1) siteSel.value = String(cfg.sites[0].id);
    showSite();
  }
  function showSite() {
    var site = choices().mode === "site";
    siteSel.hidden = !site;
    siteLabel.hidden = !site;
  }
  document.querySelectorAll('input[name="pool"], input[name="mode"], #collect-site').forEach(function (el) {
    el.addEventListener("change", function () {
      var c = choices();
      save("choices." + roundID, c);
      showSite();
      // A tube keeps the pool size it was started with.
      var t = tube();
      if (t && !t.full && t.n === 0 && t.pool !== c.pool) { t.pool = c.pool; setTube(t); }
      focusInput();
    });
  });

  // ------------------------------------------------------------------
  // The tube.
  function showTube() {
    var t = tube(), box = $("collect-tube"), label = $("collect-tube-label"), list = $("collect-tube-list");
    list.textContent = "";
    if (!t || t.closed) {
      box.className = "collect-tube";
      label.textContent = t && t.closed ? fmt(T.tube_closed, t.barcode, t.n) + " · " + T.tube_needed : T.tube_needed;
      document.documentElement.setAttribute("data-tube", "");
      return;
    }
    box.className = "collect-tube active" + (t.full ? " full" : "");
    label.textContent = t.full ? fmt(T.tube_full, t.barcode, t.pool) : fmt(T.tube_now, t.barcode, t.n, t.pool);
    (t.members || []).forEach(function (m) {
      var li = document.createElement("li");
      li.textContent = m;
      list.append(li);
    });
    document.documentElement.setAttribute("data-tube", t.barcode + " " + t.n + "/" + t.pool);
  }
  // startTube makes barcode the tube being filled. A tube this device
  // filled before (closed early, or scanned again by mistake) goes on
  // from its count and pool size.
  function startTube(barcode) {
    var old = tube();
    if (old && !old.closed && old.barcode === barcode) { showTube(); return; }
    var used = load("tubes." + roundID, {});
    var c = choices(), prev = used[barcode];
    var t = prev ? { barcode: barcode, pool: prev.pool, n: prev.n, full: prev.n >= prev.pool, members: prev.members || [] }
      : { barcode: barcode, pool: c.pool, n: 0, full: false, members: [] };
    setTube(t);
    var msg = prev ? fmt(t.full ? T.tube_full : T.tube_now, barcode, t.full ? t.pool : t.n, t.pool) : fmt(T.tube_started, barcode, c.pool);
    if (old && !old.closed && old.n > 0 && !old.full) msg = fmt(T.tube_closed, old.barcode, old.n) + "；" + msg;
    note(msg, "ok");
  }
  function closeTube() {
    var t = tube();
    if (!t || t.closed) return;
    if (t.n === 0) { save("tube." + roundID, null); showTube(); return; }
    t.closed = true;
    setTube(t);
    note(fmt(T.tube_closed, t.barcode, t.n), "ok");
  }
  $("collect-next").addEventListener("click", function () { closeTube(); focusInput(); });

  // ------------------------------------------------------------------
  // Network.
  var net = TongxinPage.net({
    changed: function () { showStatus(); },
    back: function () { whenOnline(); },
    authLost: function () { authLost(); }
  });
  var request = net.request;
  var authWarned = false;
  function authLost() {
    if (authWarned) return;
    authWarned = true;
    $("collect-login").hidden = false;
    banner.textContent = T.auth_lost;
    banner.hidden = false;
  }

  // The JWK Set; keys stay after they leave the set (codes signed with
  // them are still valid: a resident code does not expire).
  async function refreshKeys() {
    var r = await request(cfg.urls.jwks, { cache: "no-cache" });
    if (!r.ok) throw new Error("jwks " + r.status);
    var body = await r.json();
    var old = load("keys", null);
    save("keys", { fetched_at: Date.now(), keys: TongxinPage.mergeKeys(old && old.keys, body.keys) });
    showStatus();
  }

  // ------------------------------------------------------------------
  // Resident codes, as passtoken.VerifyResident checks them
  // (scan-verify.js, shared with the estate gates' scan page).
  // verifyResident answers {reason, claims}: reason "ok", "household",
  // "malformed", "unknown_key", "bad_signature" or "unverifiable".
  async function verifyResident(token) {
    var k = load("keys", null);
    var v = await verifier.verifyResident(token, { keys: (k && k.keys) || [] });
    if (v.reason === "ok" && v.claims.rid === v.claims.hh) return { reason: "household", claims: v.claims };
    return v;
  }

  // ID numbers: 17 digits and a check character (GB 11643).
  function idNumber(s) {
    s = s.replace(/[\s\-]/g, "").toUpperCase();
    if (!/^\d{17}[\dX]$/.test(s)) return "";
    var w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], sum = 0;
    for (var i = 0; i < 17; i++) sum += (s.charCodeAt(i) - 48) * w[i];
    return "10X98765432"[sum % 11] === s[17] ? s : "";
  }
  var TUBE_RE = /^[A-Za-z0-9-]{1,40}$/;
  function maskID(id) { return id.slice(0, 3) + "***********" + id.slice(14); }

  // ------------------------------------------------------------------
  // One scan: a tube, a resident code or an ID number.
  // One at a time, in the order scanned; the page's data-scanned counts
  // the scans handled (tests wait for it).
  var busy = Promise.resolve(), scanned = 0;
  function scan(raw) {
    var one = function () {
      return scanOne(raw).finally(function () {
        document.documentElement.setAttribute("data-scanned", String(++scanned));
      });
    };
    busy = busy.then(one, one);
    return busy;
  }

  async function scanOne(raw) {
    var text = TP.trimSpace(String(raw));
    if (text === "") return;
    var t = tube(), open = t && !t.closed;
    var id = idNumber(text);
    if (text.indexOf(".") > 0 && text.length > 40) return scanResident(text, null);
    if (id) {
      if (open) return scanResident(null, id);
      note(T.tube_needed, "bad");
      return;
    }
    // 18 characters of an ID number whose check character is wrong: a
    // typing error, never a tube.
    if (/^\d{17}[\dXx]$/.test(text.replace(/[\s\-]/g, ""))) { note(T.invalid_id, "bad"); return; }
    if (TUBE_RE.test(text)) return startTube(text);
    note(T.invalid_input, "bad");
  }

  function sampleReady() {
    var t = tube();
    if (!t || t.closed) { note(T.tube_needed, "bad"); return null; }
    if (t.full) { note(fmt(T.tube_full, t.barcode, t.pool), "bad"); return null; }
    var c = choices();
    if (c.mode === "site" && !c.site) { note(T.site_needed, "bad"); return null; }
    return { t: t, c: c };
  }

  async function scanResident(code, id) {
    var ready = sampleReady();
    if (!ready) return;
    var who, key;
    if (code) {
      var v = await verifyResident(code);
      if (v.reason === "household") { note(T.household_code, "bad"); return; }
      if (v.reason === "unverifiable") { note(T.crypto_unsupported, "bad"); return; }
      if (v.reason !== "ok") { note(fmt(T.bad_code, (cfg.reasons && cfg.reasons[v.reason]) || v.reason), "bad"); return; }
      var place = (cfg.areas && cfg.areas[v.claims.z]) || v.claims.z;
      who = (v.claims.n || "") + " · " + place;
      key = "r:" + v.claims.rid;
    } else {
      who = maskID(id);
      key = "i:" + id;
    }
    var done = load("done." + roundID, {});
    if (done[key]) { note(T.repeat_here + "：" + who, "bad"); return; }
    // Read again: the tube may have changed while the signature was checked.
    var t = tube();
    if (!t || t.closed || t.full || t.barcode !== ready.t.barcode) { note(T.tube_needed, "bad"); return; }
    var s = { client_id: clientID(), tube: t.barcode, pool_size: t.pool, mode: ready.c.mode, sampled_at: new Date().toISOString() };
    if (ready.c.site) s.site_id = ready.c.site;
    if (code) s.resident_code = code; else s.id_number = id;
    var q = queue();
    q.push(s);
    if (!save("queue." + roundID, q)) return;
    done[key] = s.client_id;
    save("done." + roundID, done);
    t.n++;
    t.members = (t.members || []).concat([who]);
    t.full = t.n >= t.pool;
    setTube(t);
    addRecent({ client_id: s.client_id, who: who, tube: t.barcode, at: Date.now(), state: "pending" });
    note(code ? fmt(T.resident_ok, who) : fmt(T.id_ok, who), "ok");
    if (t.full) note(fmt(T.tube_full, t.barcode, t.pool), "warn");
    if (navigator.vibrate) { try { navigator.vibrate(60); } catch (e) { /* not allowed */ } }
    showStatus();
    scheduleFlush(0);
  }

  // ------------------------------------------------------------------
  // Recent samples and problems.
  function addRecent(e) {
    var list = load("recent." + roundID, []);
    list.unshift(e);
    save("recent." + roundID, list.slice(0, RECENT_MAX));
    showLists();
  }
  function markRecent(byID) {
    var list = load("recent." + roundID, []);
    list.forEach(function (e) { if (byID[e.client_id]) e.state = byID[e.client_id]; });
    save("recent." + roundID, list);
  }
  function showLists() {
    var recent = load("recent." + roundID, []), problems = load("problems." + roundID, []);
    var ol = $("collect-recent");
    ol.textContent = "";
    recent.forEach(function (e) {
      var li = document.createElement("li");
      li.className = "scan-rec " + (e.state === "error" ? "deny" : e.state === "created" ? "allow" : "");
      var who = document.createElement("strong");
      who.textContent = e.who;
      var when = document.createElement("span");
      when.className = "muted small";
      when.textContent = timeFmt.format(new Date(e.at)) + " · " + e.tube + " · " +
        (e.state === "created" ? T.created : e.state === "repeat" ? T.repeat : e.state === "error" ? e.message || "" : T.pending);
      li.append(who, when);
      ol.append(li);
    });
    $("collect-recent-box").hidden = recent.length === 0;
    var pl = $("collect-problems");
    pl.textContent = "";
    problems.forEach(function (e) {
      var li = document.createElement("li");
      li.className = "scan-rec " + (e.status === "repeat" ? "unverifiable" : "deny");
      li.setAttribute("data-code", e.code || e.status);
      li.textContent = fmt(T.problem, e.who || e.tube, e.message);
      pl.append(li);
    });
    $("collect-problems-box").hidden = problems.length === 0;
  }
  $("collect-problems-clear").addEventListener("click", function () { save("problems." + roundID, []); showLists(); focusInput(); });

  // ------------------------------------------------------------------
  // Upload.
  function whoOf(s) {
    var list = load("recent." + roundID, []);
    for (var i = 0; i < list.length; i++) if (list[i].client_id === s.client_id) return list[i].who;
    return s.id_number ? maskID(s.id_number) : "";
  }
  // settle takes the server's answers for chunk out of the queue.
  function settle(chunk, items) {
    // A record stored before under its client id (a batch sent again)
    // answers created again: it is counted once.
    var st = stats(), problems = load("problems." + roundID, []), states = {}, gone = new Set();
    var stored = load("stored." + roundID, {});
    chunk.forEach(function (s, i) {
      var it = items[i];
      if (!it || !it.status) return; // no answer: stays queued
      gone.add(s.client_id);
      states[s.client_id] = it.status;
      if (it.status === "created") {
        if (!stored[s.client_id]) { stored[s.client_id] = 1; st.created++; }
        return;
      }
      var p = { client_id: s.client_id, tube: s.tube, who: (it.sample && it.sample.name) || whoOf(s), status: it.status, at: Date.now() };
      if (it.status === "repeat") {
        st.repeat++;
        p.message = T.repeat;
      } else {
        p.code = it.code;
        p.message = it.message || it.code;
      }
      problems.unshift(p);
    });
    save("stored." + roundID, stored);
    save("stats." + roundID, st);
    save("problems." + roundID, problems.slice(0, 500));
    markRecent(states);
    save("queue." + roundID, queue().filter(function (s) { return !gone.has(s.client_id); }));
    showLists();
    showStatus();
  }
  async function post(chunk) {
    return request(cfg.urls.samples, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(chunk) }, 60000);
  }
  var flushing = null;
  function flush() {
    if (flushing) return flushing;
    flushing = (async function () {
      var q = queue();
      while (q.length > 0) {
        var chunk = q.slice(0, BATCH);
        var r = await post(chunk);
        var body = await r.json().catch(function () { return null; });
        if (r.ok && body && Array.isArray(body.items) && body.items.length === chunk.length) {
          settle(chunk, body.items);
        } else if (r.status === 400 || r.status === 413 || r.status === 422) {
          // Refused as a whole: one by one, so that one bad record does not
          // hold the rest; a record refused alone is a problem.
          for (var i = 0; i < chunk.length; i++) {
            var one = await post([chunk[i]]);
            var b1 = await one.json().catch(function () { return null; });
            if (one.ok && b1 && Array.isArray(b1.items)) settle([chunk[i]], b1.items);
            else if (one.status === 400 || one.status === 413 || one.status === 422) {
              settle([chunk[i]], [{ status: "error", code: (b1 && b1.code) || String(one.status), message: (b1 && b1.detail) || String(one.status) }]);
            } else throw new Error("samples " + one.status);
          }
        } else {
          // 401, 403, 404, 5xx: kept; the note says why.
          if (r.status === 403 || r.status === 404) note(fmt(T.forbidden, (body && body.detail) || r.status), "bad");
          throw new Error("samples " + r.status);
        }
        q = queue();
      }
    })().then(function () { flushing = null; }, function () { flushing = null; });
    return flushing;
  }
  var flushTimer = null;
  function scheduleFlush(delay) {
    if (flushTimer) return;
    flushTimer = setTimeout(function () {
      flushTimer = null;
      if (queue().length === 0) return;
      flush().then(function () { if (queue().length > 0) scheduleFlush(RETRY_EVERY); });
    }, delay);
  }
  function whenOnline() {
    refreshKeys().catch(function () {}).then(function () { return flush(); }).then(function () {
      if (queue().length > 0) scheduleFlush(RETRY_EVERY);
    });
  }
  window.addEventListener("online", whenOnline);
  window.addEventListener("offline", showStatus);

  // ------------------------------------------------------------------
  // Input: the field, and keys typed anywhere (a hardware scanner).
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var v = input.value;
    input.value = "";
    scan(v);
  });
  var camBox = $("collect-camera-box");
  function focusInput() {
    if (!camBox.hidden) return;
    if (document.activeElement !== input) input.focus({ preventScroll: true });
  }
  document.addEventListener("keydown", function (ev) {
    var a = document.activeElement;
    if (a === input || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (a && (a.tagName === "INPUT" && a.type === "text" || a.tagName === "TEXTAREA" || a.tagName === "SELECT" || a.isContentEditable)) return;
    if (ev.key && ev.key.length === 1) focusInput();
  });

  // ------------------------------------------------------------------
  // The camera: QR codes (resident codes) and, where BarcodeDetector
  // reads them, the tubes' linear barcodes.
  var video = $("collect-video"), stream = null, detector = null, scanning = false;
  var decoderURL = camBtn.getAttribute("data-decoder") || "";
  var cameraMode = (async function () {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return "";
    if ("BarcodeDetector" in window) {
      try {
        var f = await window.BarcodeDetector.getSupportedFormats();
        if (f.indexOf("qr_code") >= 0) return "native";
      } catch (e) { /* jsQR */ }
    }
    return decoderURL ? "fallback" : "";
  })();
  function loadDecoder() {
    if (window.jsQR) return Promise.resolve(window.jsQR);
    return new Promise(function (resolve, reject) {
      var el = document.createElement("script");
      el.src = decoderURL;
      el.onload = function () { window.jsQR ? resolve(window.jsQR) : reject(new Error("jsQR")); };
      el.onerror = function () { reject(new Error("jsQR")); };
      document.head.append(el);
    });
  }
  async function makeDetector() {
    if ((await cameraMode) === "native") {
      var f = await window.BarcodeDetector.getSupportedFormats();
      return new window.BarcodeDetector({ formats: ["qr_code", "code_128", "code_39", "ean_13", "itf"].filter(function (x) { return f.indexOf(x) >= 0; }) });
    }
    var jsQR = await loadDecoder(), canvas = document.createElement("canvas"), ctx = canvas.getContext("2d", { willReadFrequently: true });
    return {
      detect: async function (v) {
        if (!v.videoWidth) return [];
        var k = Math.min(1, 720 / Math.max(v.videoWidth, v.videoHeight));
        canvas.width = Math.round(v.videoWidth * k);
        canvas.height = Math.round(v.videoHeight * k);
        ctx.drawImage(v, 0, 0, canvas.width, canvas.height);
        var img = ctx.getImageData(0, 0, canvas.width, canvas.height);
        var code = jsQR(img.data, img.width, img.height, { inversionAttempts: "dontInvert" });
        return code && code.data ? [{ rawValue: code.data }] : [];
      },
    };
  }
  async function startCamera() {
    try {
      if (!detector) detector = await makeDetector();
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
    } catch (e) {
      note(T.camera_failed, "bad");
      return;
    }
    video.srcObject = stream;
    camBox.hidden = false;
    await video.play().catch(function () {});
    scanning = true;
    var last = "";
    // The camera stays open between residents: each new code is scanned once.
    while (scanning) {
      try {
        var codes = await detector.detect(video);
        var c = codes.find(function (x) { return x.rawValue; });
        if (c && c.rawValue !== last) { last = c.rawValue; await scan(c.rawValue); }
      } catch (e) { /* a frame that is not ready */ }
      await new Promise(function (res) { setTimeout(res, 200); });
    }
  }
  function stopCamera() {
    scanning = false;
    if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
    stream = null;
    video.srcObject = null;
    camBox.hidden = true;
    focusInput();
  }
  cameraMode.then(function (mode) {
    document.documentElement.setAttribute("data-camera-mode", mode || "none");
    if (!mode) return;
    camBtn.hidden = false;
    camBtn.addEventListener("click", function () { if (scanning) stopCamera(); else startCamera(); });
    $("collect-camera-stop").addEventListener("click", stopCamera);
  });

  // ------------------------------------------------------------------
  // Offline: the worker, and this page and its files in its cache.
  async function precache() {
    if (!window.caches) return false;
    var c = await caches.open(CACHE);
    var urls = [];
    document.querySelectorAll('link[rel="stylesheet"][href^="/static/"], link[rel="icon"][href^="/static/"], script[src^="/static/"]')
      .forEach(function (el) { urls.push(el.getAttribute("href") || el.getAttribute("src")); });
    if ((await cameraMode) === "fallback") urls.push(decoderURL);
    for (var i = 0; i < urls.length; i++) {
      if (!(await c.match(urls[i], { ignoreVary: true }))) await c.add(urls[i]);
    }
    var r = await fetch(location.pathname, { credentials: "same-origin", cache: "no-store" });
    if (!r.ok || r.redirected) return false;
    await c.put(location.pathname, r);
    return true;
  }
  function offlineReady() {
    statusOffline.textContent = T.offline_ready;
    statusOffline.className = "scan-pill ok";
    document.documentElement.setAttribute("data-offline-ready", "true");
  }
  async function goOffline() {
    if (!("serviceWorker" in navigator)) {
      statusOffline.textContent = T.offline_unsupported;
      return;
    }
    try {
      await navigator.serviceWorker.register(cfg.urls.sw, { scope: location.pathname });
      await navigator.serviceWorker.ready;
      if (await precache()) offlineReady();
    } catch (e) {
      if (navigator.serviceWorker.controller) offlineReady();
    }
  }

  // Start.
  TP.supported().then(function (ok) {
    if (!ok) {
      banner.textContent = T.crypto_unsupported;
      banner.hidden = false;
    }
  });
  if (!cfg.round.open) {
    banner.textContent = T.round_closed;
    banner.hidden = false;
  }
  restoreChoices();
  showTube();
  showLists();
  showStatus();
  focusInput();
  setInterval(function () {
    if (!net.down() && Date.now() - ((load("keys", null) || {}).fetched_at || 0) > REFRESH_EVERY) refreshKeys().catch(function () {});
    showStatus();
  }, 30000);
  var ready = Promise.allSettled([refreshKeys(), goOffline()]).then(function () {
    document.documentElement.setAttribute("data-collect-ready", "true");
    if (queue().length > 0) scheduleFlush(0);
  });

  // For tests and the curious.
  window.TongxinCollect = {
    ready: ready, scan: scan, flush: flush, queue: queue, tube: tube, stats: stats,
    problems: function () { return load("problems." + roundID, []); },
    verify: verifyResident,
  };
})();
