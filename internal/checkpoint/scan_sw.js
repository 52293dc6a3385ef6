// The service worker of the checkpoint scan page. Served at
// /checkpoints/sw.js (a worker under /static/ could not control pages
// under /checkpoints/) and registered by scan.js with the scan page's own
// path as its scope, so it controls that page and nothing else.
//
//   - the page (a navigation to the scope's path): from the network,
//     stored in the cache on every successful answer; from the cache when
//     the network fails or takes longer than a few seconds;
//   - the static files (/static/…, fingerprinted, never changing under one
//     name): from the cache, else from the network and then stored;
//   - everything else, the API above all, goes to the network untouched:
//     scan.js decides what to do when it fails.
//
// The cache is shared with scan.js, which stores the page and its files
// on the first visit (before this worker controls anything).
"use strict";

var CACHE = "tongxin-scan-v1";
var NAVIGATION_TIMEOUT = 5000;

function scopePath() {
  return new URL(self.registration.scope).pathname;
}

self.addEventListener("install", function (ev) {
  // Best effort: the page stores itself too, and a failure here must not
  // keep the worker from installing.
  ev.waitUntil(caches.open(CACHE).then(function (c) {
    return fetch(scopePath(), { credentials: "same-origin", cache: "no-store" }).then(function (r) {
      if (r.ok && !r.redirected) return c.put(scopePath(), r);
    });
  }).catch(function () {}).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (ev) {
  ev.waitUntil(self.clients.claim());
});

self.addEventListener("fetch", function (ev) {
  var req = ev.request;
  if (req.method !== "GET") return;
  var url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (req.mode === "navigate") {
    if (url.pathname === scopePath()) ev.respondWith(page(req, url.pathname));
    return;
  }
  if (url.pathname.indexOf("/static/") === 0) ev.respondWith(asset(req));
});

// page answers a navigation to the scan page.
function page(req, path) {
  return caches.open(CACHE).then(function (cache) {
    var fromCache = function () { return cache.match(path, { ignoreSearch: true, ignoreVary: true }); };
    var network = fetch(req).then(function (res) {
      if (res.ok && res.type === "basic" && !res.redirected) {
        cache.put(path, res.clone()).catch(function () {});
      }
      return res;
    });
    return new Promise(function (resolve, reject) {
      var settled = false;
      var done = function (r) { if (!settled) { settled = true; resolve(r); } };
      // A slow network: the stored page now, if there is one.
      var timer = setTimeout(function () {
        fromCache().then(function (hit) { if (hit) done(hit); });
      }, NAVIGATION_TIMEOUT);
      network.then(function (res) {
        clearTimeout(timer);
        done(res);
      }, function () {
        clearTimeout(timer);
        fromCache().then(function (hit) {
          done(hit || new Response("离线，且本机没有保存此页面。/ Offline, and this page was never stored here.", {
            status: 503, headers: { "Content-Type": "text/plain; charset=utf-8" },
          }));
        }, reject);
      });
    });
  });
}

// asset answers a static file.
function asset(req) {
  return caches.open(CACHE).then(function (cache) {
    return cache.match(req, { ignoreVary: true }).then(function (hit) {
      if (hit) return hit;
      return fetch(req).then(function (res) {
        if (res.ok && res.type === "basic") cache.put(req, res.clone()).catch(function () {});
        return res;
      });
    });
  });
}
