// Helpers shared by the phone, wall and console pages.

export function readJSON(id) {
  const node = document.getElementById(id);
  return node ? JSON.parse(node.textContent) : null;
}

export const strings = readJSON("rouages-strings") || {};

const language = document.documentElement.lang || "fr";
const plurals = new Intl.PluralRules(language);
const numbers = new Intl.NumberFormat(language);

// Write a number as the page's language does (1 234 in French, 1,234 in English).
export function formatNumber(value) {
  return numbers.format(value);
}

// Translate `key`; a string with forms by number picks the one `values.count` needs; numbers follow the language.
export function t(key, values = {}) {
  let text = strings[key] || key;
  if (typeof text === "object") text = text[plurals.select(values.count)] || text.other;
  for (const [name, value] of Object.entries(values)) {
    text = text.replaceAll(`%(${name})s`, typeof value === "number" ? formatNumber(value) : value);
  }
  return text;
}

// A phase as this page's language names it: the page's own list of phases was translated for it, a broadcast was not.
export function phaseLabel(session, phase) {
  if (!phase) return "";
  const known = session.phases.find((candidate) => candidate.key === phase.key);
  return known ? known.label : phase.label;
}

// Build an element; text always goes through textContent so posts can never inject markup.
export function el(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "text") node.textContent = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of [].concat(children)) if (child) node.append(child);
  return node;
}

// Keep a countdown element in sync with the server's end time, whatever the device's clock says.
export class Countdown {
  constructor(node) {
    this.node = node;
    this.offset = 0;
    this.endsAt = null;
    this.tick = null;
  }

  set(timer) {
    if (!timer) return;
    this.offset = timer.now - Date.now();
    this.endsAt = timer.ends_at;
    this.total = timer.seconds;
    clearInterval(this.tick);
    this.render();
    if (this.endsAt) this.tick = setInterval(() => this.render(), 250);
  }

  render() {
    const left = this.endsAt ? Math.max(0, Math.ceil((this.endsAt - (Date.now() + this.offset)) / 1000)) : null;
    if (left === null) {
      this.node.hidden = true;
      return;
    }
    this.node.hidden = false;
    const minutes = Math.floor(left / 60), seconds = String(left % 60).padStart(2, "0");
    this.node.textContent = `${minutes}:${seconds}`;
    this.node.classList.toggle("countdown--ending", left <= 30);
    this.node.classList.toggle("countdown--over", left === 0);
    this.node.setAttribute("aria-label", t("Time left: %(time)s", { time: `${minutes}:${seconds}` }));
    if (left === 0) clearInterval(this.tick);
  }
}

export function newId() {
  if (crypto.randomUUID) return crypto.randomUUID().replaceAll("-", "");
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}
