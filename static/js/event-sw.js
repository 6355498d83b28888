// The event page's service worker: keeps the page and what it loads, serves them when the network is gone.
// The server puts `const KEEP = [...]` (the page's path, then its CSS and JS) in front of this file.
/* global KEEP */

const PAGE = KEEP[0];
const KEPT = new Set(KEEP);
const CACHE = `rouages-event:${PAGE}`;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(KEEP)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(self.clients.claim());
});

// Network first, so the programme shown is the latest when online; the kept copy only when the network fails.
async function networkFirst(request, key) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.ok && response.type === "basic") await cache.put(key, response.clone());
    return response;
  } catch (error) {
    const kept = await cache.match(key, { ignoreVary: true });
    if (kept) return kept;
    throw error;
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  // Only the event page and its own files: everything else (the restitution, the console, the API) is left
  // to the network, never kept.
  if (url.origin !== self.location.origin || !KEPT.has(url.pathname)) return;
  event.respondWith(networkFirst(request, url.pathname));
});
