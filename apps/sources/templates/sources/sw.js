/* Service worker of the grid worker's phone page (象山反走私 · 网格巡查).
   Caches the page's shell so it opens without a connection; never touches API calls,
   which the page itself queues in IndexedDB and syncs exactly once. */
"use strict";
const VERSION = "{{ version }}";
const CACHE = "xs-mobile-" + VERSION;
const SCOPE = "{{ scope }}";
const SHELL = {{ shell_json|safe }};
// Shell files that depend on the user's language (the JavaScript translation catalog):
// network first so a language switch shows at once, the cached copy when offline.
const FRESH = {{ fresh_json|safe }};

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE)
      .then((cache) => cache.addAll(SHELL.map((url) => new Request(url, { credentials: "same-origin", cache: "reload" }))))
      .then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("xs-mobile-") && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim())
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && url.pathname === SCOPE) {
    // the page: network first (fresh data, fresh CSRF cookie), the cached shell when offline
    event.respondWith(
      fetch(request)
        .then((response) => {
          if (response.ok && !response.redirected) {
            const copy = response.clone();
            caches.open(CACHE).then((cache) => cache.put(SCOPE, copy));
          }
          return response;
        })
        .catch(() => caches.match(SCOPE))
    );
    return;
  }
  if (FRESH.includes(url.pathname)) {
    event.respondWith(
      fetch(request)
        .then((response) => {
          if (response.ok) {
            const copy = response.clone();
            caches.open(CACHE).then((cache) => cache.put(url.pathname, copy));
          }
          return response;
        })
        .catch(() => caches.match(url.pathname))
    );
    return;
  }
  if (SHELL.includes(url.pathname)) {
    // static shell files: cache first (the cache name changes whenever one of them does)
    event.respondWith(caches.match(url.pathname).then((hit) => hit || fetch(request)));
  }
});
