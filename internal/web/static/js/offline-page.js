// What the pages that work offline share — the checkpoint's scan page
// (scan.js) and the collector's page (collect.js): texts with %s and %d,
// JSON in localStorage under a prefix, "how long ago" in the page's
// words, the JWK Set kept across fetches (a key stays after it leaves
// the set: the server still verifies with it), and requests that know
// whether the server can be reached.
//
// Loaded as a file before the page's script (the Content-Security-Policy
// forbids inline scripts); it defines window.TongxinPage and touches
// nothing else.
"use strict";

(function () {
  // fmt fills %s and %d of s with the arguments, in order.
  function fmt(s) {
    var args = Array.prototype.slice.call(arguments, 1), i = 0;
    return String(s || "").replace(/%[sd]/g, function () { return i < args.length ? String(args[i++]) : ""; });
  }

  // store is JSON in localStorage under prefix: load answers def for a
  // key absent or unreadable; save answers false (after calling onFull)
  // when the storage refuses.
  function store(prefix, onFull) {
    return {
      load: function (key, def) {
        try {
          var v = localStorage.getItem(prefix + key);
          return v === null ? def : JSON.parse(v);
        } catch (e) {
          return def;
        }
      },
      save: function (key, v) {
        try {
          localStorage.setItem(prefix + key, JSON.stringify(v));
          return true;
        } catch (e) {
          onFull();
          return false;
        }
      },
    };
  }

  // ago says ms as the page's texts T do: just_now, minutes_ago,
  // hours_ago (under two days), days_ago.
  function ago(ms, T) {
    var m = Math.floor(ms / 60000);
    if (m < 1) return T.just_now;
    if (m < 60) return fmt(T.minutes_ago, m);
    var h = Math.floor(m / 60);
    if (h < 48) return fmt(T.hours_ago, h);
    return fmt(T.days_ago, Math.floor(h / 24));
  }

  // mergeKeys is the keys held (old) with the Ed25519 keys of a fetched
  // JWK Set's keys added or replaced by kid.
  function mergeKeys(old, fetched) {
    var byKid = new Map();
    (old || []).forEach(function (k) { byKid.set(k.kid, k); });
    (fetched || []).forEach(function (k) {
      if (k && k.kty === "OKP" && k.crv === "Ed25519" && typeof k.kid === "string" && typeof k.x === "string") {
        byKid.set(k.kid, { kty: k.kty, crv: k.crv, kid: k.kid, x: k.x });
      }
    });
    return Array.from(byKid.values());
  }

  // net is fetch with a time limit (15 s unless told), the page's cookies
  // and JSON asked for, that knows whether the server can be reached:
  // down() is true once a request failed to reach it (a server that
  // stopped, a dead cell whose radio is still up: navigator.onLine cannot
  // know), until one reaches it again. on.changed() is called when that
  // changes, on.back() (on a later turn) when the server is back, and
  // on.authLost() on a 401.
  function net(on) {
    var isDown = false;
    function request(url, opts, timeout) {
      var ctl = new AbortController();
      var timer = setTimeout(function () { ctl.abort(); }, timeout || 15000);
      opts = Object.assign({ credentials: "same-origin", signal: ctl.signal }, opts || {});
      opts.headers = Object.assign({ Accept: "application/json" }, opts.headers || {});
      return fetch(url, opts).then(function (r) {
        clearTimeout(timer);
        if (isDown) {
          isDown = false;
          on.changed();
          setTimeout(on.back, 0);
        }
        if (r.status === 401) on.authLost();
        return r;
      }, function (e) {
        clearTimeout(timer);
        if (!isDown) { isDown = true; on.changed(); }
        throw e;
      });
    }
    return { request: request, down: function () { return isDown; } };
  }

  window.TongxinPage = { fmt: fmt, store: store, ago: ago, mergeKeys: mergeKeys, net: net };
})();
