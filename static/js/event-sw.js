// The event page's service worker: keeps the page and what it loads, serves them when the network is gone.
// The server puts `const KEEP = [...]` (the page's path, then its CSS and JS) and `const VERSION = "..."` (changed
// by each release of these files) in front of this file.
/* global KEEP, VERSION */

const PAGE = KEEP[0];
const KEPT = new Set(KEEP);
const PREFIX = "rouages-event:";
const CACHE = `${PREFIX}${VERSION}:${PAGE}`;

// Whether a cache is one this event's page kept before this version: those of other events are left alone.
function older(name) {
  if (name === CACHE || !name.startsWith(PREFIX)) return false;
  const rest = name.slice(PREFIX.length);
  return rest === PAGE || rest.slice(rest.indexOf(":") + 1) === PAGE;
}

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(KEEP)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((names) => Promise.all(names.filter(older).map((name) => caches.delete(name))))
    .then(() => self.clients.claim()));
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
