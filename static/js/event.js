// The event page: « now » and « next » kept right from the device's clock, offline reading, folded parts opened
// when a link points into them.
import { el, readJSON } from "./page.js";

const clock = readJSON("event-clock");
const box = document.getElementById("now");
const body = document.getElementById("now-body");

function minutes(hhmm) {
  const [hours, mins] = hhmm.split(":").map(Number);
  return hours * 60 + mins;
}

// The date and the minute of the day at the venue, whatever time zone the phone is set to.
export function venueTime(date, timeZone) {
  const parts = {};
  const format = new Intl.DateTimeFormat("en-CA", {
    timeZone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  });
  for (const part of format.formatToParts(date)) parts[part.type] = part.value;
  return { day: `${parts.year}-${parts.month}-${parts.day}`, minute: Number(parts.hour) * 60 + Number(parts.minute) };
}

// The same rule as app/services/eventpage.now_and_next: items under way, and the soonest to start, during the event.
export function nowAndNext(items, span, at) {
  if (at.day < span.start || at.day > span.end) return { now: [], next: [] };
  const now = items.filter((i) => i.date === at.day && minutes(i.start) <= at.minute && at.minute < minutes(i.end));
  const later = items.filter((i) => i.date > at.day || (i.date === at.day && minutes(i.start) > at.minute));
  const first = later.reduce((best, i) => (!best || i.date < best.date
    || (i.date === best.date && minutes(i.start) < minutes(best.start)) ? i : best), null);
  return { now, next: first ? later.filter((i) => i.date === first.date && minutes(i.start) === minutes(first.start)) : [] };
}

function fill(template, values) {
  // A function, so that a value holding « $& » is written as it is.
  return Object.entries(values).reduce((text, [name, value]) => text.replaceAll(`%(${name})s`, () => value), template);
}

// The name this phone gave (the phone page and a claimed QR code keep it): the server's page names nobody, so the
// copy kept for offline reading does not either.
function greet() {
  const line = document.getElementById("greeting");
  if (!line) return;
  let name = "";
  try {
    name = (localStorage.getItem(`rouages.name.${line.dataset.slug}`) || "").trim();
  } catch {
    // Storage refused (a private window): no greeting.
  }
  line.textContent = name ? fill(line.dataset.hello, { name }) : "";
  line.hidden = !name;
}

function block(label, items, index, when) {
  return el("div", { class: `now__block now__block--${index}` }, [
    el("h3", { class: "now__label", text: label }),
    el("ul", { class: "now__list" }, items.map((item) => el("li", {}, [
      el("a", { class: "now__title", href: `#${item.anchor}`, text: item.title }),
      " ",
      el("span", { class: "now__meta", text: when(item) + (item.room ? ` · ${item.room}` : "") }),
    ]))),
  ]);
}

export function render(date = new Date()) {
  const at = venueTime(date, clock.timezone);
  const { now, next } = nowAndNext(clock.items, clock.span, at);
  const labels = clock.labels;
  const blocks = [];
  if (now.length) blocks.push(block(labels.now, now, 1, (i) => fill(labels.until, { time: i.end })));
  if (next.length) {
    blocks.push(block(labels.next, next, blocks.length + 1, (i) => (i.date === at.day
      ? fill(labels.at, { time: i.start })
      : fill(labels.on, { day: clock.days[i.date], time: i.start }))));
  }
  // The server wrote the same signature for what it showed: a page still right is left alone (nothing re-read aloud).
  const signature = [now.map((i) => i.anchor).join(","), next.map((i) => i.anchor).join(","), at.day].join("|");
  if (box.dataset.shown !== signature) {
    body.replaceChildren(...blocks);
    box.dataset.shown = signature;
  }
  box.hidden = blocks.length === 0;
  const current = new Set(now.map((i) => i.anchor));
  for (const item of document.querySelectorAll(".agenda__item")) {
    item.classList.toggle("agenda__item--now", current.has(item.id));
  }
}

// Each minute, on the minute; and at once when the phone wakes the page up (timers sleep with the screen).
function schedule() {
  render();
  setTimeout(schedule, 60_000 - (Date.now() % 60_000) + 50);
}

// A link to a guest or a sheet opens its folded part.
function openTarget() {
  let id;
  try {
    id = decodeURIComponent(location.hash.slice(1));
  } catch {
    return; // a malformed address (« #100% »): nothing to open
  }
  const target = id && document.getElementById(id);
  if (!target) return;
  const details = target.matches("details") ? target : target.querySelector("details") || target.closest("details");
  if (details) details.open = true;
}

async function keepForOffline() {
  // Service workers need a secure context (HTTPS, or this machine): on plain HTTP the page still works online.
  if (!("serviceWorker" in navigator) || !clock.worker) return;
  try {
    await navigator.serviceWorker.register(clock.worker.url, { scope: clock.worker.scope });
    await navigator.serviceWorker.ready;
    document.documentElement.dataset.offline = "ready";
  } catch {
    // Offline, or refused by the browser: the page in front of the reader is unaffected.
  }
}

if (box && body && clock) {
  schedule();
  document.addEventListener("visibilitychange", () => { if (!document.hidden) render(); });
}
greet();
// Another tab of this phone joined, changed its name or lost its identity: the greeting follows.
window.addEventListener("storage", greet);
openTarget();
window.addEventListener("hashchange", openTarget);
keepForOffline();
