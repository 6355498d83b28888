// A table host's phone: the connection, the step and the countdown; the session's format draws the rest (the world
// café's harvest and the table's ideas) in its slot, under the table's possible duplicates to confirm or reject.
import { Socket } from "./socket.js";
import { applyMerge, mergedGroup } from "./merges.js";
import { Countdown, el, formatNumber, phaseLabel, readJSON, t } from "./page.js";
import { mountSuggestions } from "./suggestions.js";

const host = readJSON("rouages-host");
const status = document.getElementById("connection");
const phaseLine = document.getElementById("phase");
let hostSession = { phases: [] };
const countdown = new Countdown(document.getElementById("countdown"));
const socket = new Socket();
let view = {};
const atTable = (post) => Object.entries(host.tags).every(([key, value]) => post.tags[key] === value);
const suggestions = mountSuggestions({ root: document.getElementById("suggestions"), socket, t, el, code: host.code,
  ask: "host_suggestions", answer: "host_group_answer", identity: { token: host.token }, concerns: atTable });

const root = document.getElementById("format-view");
if (root.dataset.script) {
  const module = await import(root.dataset.script);
  view = module.mount({ session: { code: host.code }, host, root, t, el, formatNumber, socket, countdown,
    mergedGroup, applyMerge }) || {};
}

socket.on("connect", () => socket.snapshot("host_join", { token: host.token }, (ack) => {
  if (!ack.ok) { status.textContent = ack.error.message; return; }
  status.textContent = t("Connected");
  hostSession = ack.session;
  phaseLine.textContent = phaseLabel(hostSession, ack.session.phase);
  countdown.set(ack.session.timer);
  if (view.joined) view.joined(ack);
  suggestions.refresh();
}).catch(() => socket.reconnect()));
socket.on("disconnect", () => { status.textContent = t("Reconnecting…"); });
socket.on("timer", (timer) => { if (timer.code === host.code) countdown.set(timer); });
socket.on("phase", (state) => {
  if (state.code !== host.code) return;
  phaseLine.textContent = phaseLabel(hostSession, state.phase);
  countdown.set(state.timer);
});
socket.open();
