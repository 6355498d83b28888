// The wall's « next round » list: near the end of a round with a rotation plan, who goes to which table next.
// Self-contained: its own connection and its own element, whatever the rest of the wall shows.
import { Socket } from "./socket.js";
import { Countdown, el, readJSON, t } from "./page.js";

const session = readJSON("rouages-session");
const code = session.code;
const panel = document.getElementById("next-tables");
const list = document.getElementById("next-tables-list");
const title = document.getElementById("next-tables-title");
// A countdown kept off screen: the list reads its end and clock offset.
const clock = new Countdown(document.createElement("p"));
let seating = null;
let phase = session.phase;
let notice = 3;

function roundIndex() {
  const round = phase && /^round_(\d+)$/.exec(phase.key);
  return round ? Number(round[1]) - 1 : null;
}

function render() {
  const index = roundIndex();
  const next = seating && index !== null ? seating.rounds[index + 1] : null;
  const left = clock.endsAt ? (clock.endsAt - (Date.now() + clock.offset)) / 1000 : 0;
  const show = Boolean(next) && left <= notice * 60;
  panel.hidden = !show;
  if (!show) return;
  title.textContent = t("Next round");
  list.replaceChildren(...next.map((table) => {
    const names = [...table.people];
    if (table.unnamed) names.push(t("%(count)s people without a name", { count: table.unnamed }));
    return el("li", { class: "next-tables__table" }, [
      el("h3", { class: "next-tables__name", text: table.name }),
      el("p", { class: "next-tables__people", text: names.length ? names.join(", ") : t("Nobody yet") }),
    ]);
  }));
}

async function refresh() {
  const ack = await socket.emit("seating", { code });
  if (!ack.ok) return;
  seating = ack.seating;
  notice = ack.notice_minutes ?? notice;
  render();
}

const socket = new Socket();
socket.on("connect", () => refresh().catch(() => {}));
// Names are read again at each step and countdown change: people type their names after the plan is made.
socket.on("timer", (timer) => {
  if (timer.code !== code) return;
  clock.set(timer);
  refresh().catch(() => render());
});
socket.on("phase", (state) => {
  if (state.code !== code) return;
  phase = state.phase;
  clock.set(state.timer);
  refresh().catch(() => render());
});
socket.on("plan", (state) => { if (state.code === code) refresh().catch(() => {}); });
clock.set(session.timer);
socket.open();
setInterval(render, 5000);
