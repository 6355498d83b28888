// The facilitator's console for one session: posting, countdown, moderation.
import { Board } from "./board.js";
import { mergedGroup } from "./merges.js";
import { Countdown, el, readJSON, t } from "./page.js";

const session = readJSON("rouages-session");
const list = document.getElementById("posts");
const counts = document.getElementById("counts");
const toggle = document.getElementById("toggle-open");
const openState = document.getElementById("open-state");
const feedback = document.getElementById("feedback");
const countdown = new Countdown(document.getElementById("countdown"));
let isOpen = session.is_open;

function say(message, isError = false) {
  feedback.textContent = message;
  feedback.classList.toggle("feedback--error", isError);
}

async function act(event, data) {
  try {
    await board.ready();
    const ack = await board.emit(event, data);
    if (!ack.ok) say(ack.error.message, true);
    return ack;
  } catch {
    say(t("Not connected: try again in a moment."), true);
    return { ok: false };
  }
}

function labelOf(framework, key) {
  const item = framework.items.find((candidate) => candidate.key === key);
  return item ? item.label : null;
}

function render() {
  const posts = board.sorted({ includeHidden: true });
  const visible = posts.filter((post) => !post.hidden);
  counts.replaceChildren(el("li", { text: t("%(count)s ideas", { count: visible.length }) }));
  for (const framework of session.frameworks) {
    for (const item of framework.items) {
      const n = visible.filter((post) => post.tags[framework.key] === item.key).length;
      if (n) counts.append(el("li", { text: t("%(label)s: %(count)s", { label: item.label, count: n }) }));
    }
  }
  list.replaceChildren(...posts.map((post) => {
    const button = post.merged_into ? undoMergeButton(post.id) : el("button", { type: "button",
      class: "button button--small", text: post.hidden ? t("Restore") : t("Hide") });
    if (!post.merged_into) {
      button.addEventListener("click", () => act(post.hidden ? "post_restore" : "post_hide", { post_id: post.id }));
    }
    const tags = session.frameworks.map((framework) => labelOf(framework, post.tags[framework.key])).filter(Boolean);
    return el("li", { class: `console-post${post.hidden ? " console-post--hidden" : ""}` }, [
      el("p", { class: "console-post__text", text: post.text }),
      el("p", { class: "console-post__meta" }, [
        el("span", { text: `#${post.seq}` }),
        ...tags.map((label) => el("span", { class: "tag", text: label })),
        post.author ? el("span", { text: post.author }) : null,
        post.hidden ? el("strong", { text: hiddenLabel(post) }) : null,
      ]),
      el("div", { class: "console-post__actions" }, [mergeButton(post), button]),
      mergedGroup(post, { action: (entry) => undoMergeButton(entry.id) }),
    ]);
  }));
}

// Merging takes two clicks, as on a host's page: « Duplicate » on the duplicate, then « Keep this one ».
let merging = null;

function mergeButton(post) {
  if (post.hidden) return null;
  const choosing = merging !== null && merging !== post.id;
  const button = el("button", { type: "button", class: `button button--small${choosing ? " button--primary" : ""}`,
    text: merging === null ? t("Duplicate") : merging === post.id ? t("Cancel") : t("Keep this one") });
  button.addEventListener("click", async () => {
    if (!choosing) {
      merging = merging === null ? post.id : null;
      say(merging === null ? "" : t("Tap “Keep this one” on the idea that stays."));
      render();
      return;
    }
    const duplicate = merging;
    merging = null;
    render();
    const ack = await act("post_merge", { post_id: duplicate, into: post.id });
    if (ack.ok) say("");
  });
  return button;
}

// Organisers may undo any merge, a host's or their own.
function undoMergeButton(postId) {
  const button = el("button", { type: "button", class: "button button--small", text: t("Undo merge") });
  button.addEventListener("click", () => act("post_unmerge", { post_id: postId }));
  return button;
}

function hiddenLabel(post) {
  if (!post.merged_into) return t("Hidden");
  const kept = board.posts.get(post.merged_into);
  return t("Merged into #%(seq)s", { seq: kept ? kept.seq : post.kept ? post.kept.seq : "?" });
}

function showOpen(value) {
  // A round opens posting by itself: a click aimed at « Open posting » as the label flips must not close it.
  if (value !== isOpen) {
    toggle.disabled = true;
    setTimeout(() => { toggle.disabled = false; }, 700);
  }
  isOpen = value;
  openState.textContent = isOpen ? t("Posting is open") : t("Posting is closed");
  toggle.textContent = isOpen ? t("Close posting") : t("Open posting");
}

function showPhase(phase) {
  for (const button of document.querySelectorAll("[data-phase]")) {
    if (phase && button.dataset.phase === phase.key) button.setAttribute("aria-current", "step");
    else button.removeAttribute("aria-current");
  }
  const next = document.getElementById("phase-next");
  if (next) next.disabled = !phase || phase.key === session.phases[session.phases.length - 1].key;
}

// The plan as head counts: how many people each table expects in each round.
function showPlan(plan) {
  const table = document.getElementById("plan-table");
  if (!table || !plan) return;
  const people = Object.values(plan.assignments);
  document.getElementById("plan-state").textContent = t("Plan for %(count)s people", { count: people.length });
  const names = Object.fromEntries(session.tables.map((entry) => [entry.key, entry.name]));
  const rounds = Array.from({ length: plan.rounds }, (_, index) => index);
  table.replaceChildren(
    el("thead", {}, el("tr", {}, [el("th", { scope: "col", text: t("Table") }),
      ...rounds.map((r) => el("th", { scope: "col", text: t("Round %(n)s", { n: r + 1 }) }))])),
    el("tbody", {}, plan.tables.map((key) => el("tr", {}, [el("th", { scope: "row", text: names[key] || key }),
      ...rounds.map((r) => el("td", { text: String(people.filter((route) => route[r] === key).length) }))]))),
  );
  table.hidden = false;
  document.getElementById("plan-print").hidden = false;
}

// Who is at which table now (sessions.seat_of), and who sits elsewhere than the plan says.
async function showSeating() {
  const table = document.getElementById("seating-table");
  if (!table) return;
  const ack = await board.emit("seating", {});
  if (!ack.ok || !ack.seating.tables || ack.seating.round === null) { table.hidden = true; return; }
  const anonymous = t("Someone without a name");
  table.replaceChildren(
    el("caption", { text: t("Who is at which table now") }),
    el("thead", {}, el("tr", {}, [el("th", { scope: "col", text: t("Tables") }), el("th", { scope: "col", text: t("At the table now") }),
      el("th", { scope: "col", text: t("Expected by the plan") }),
      el("th", { scope: "col", text: t("At this table instead of their planned one") })])),
    el("tbody", {}, ack.seating.tables.map((row) => el("tr", { class: row.elsewhere.length ? "seating--wrong" : "" }, [
      el("th", { scope: "row", text: row.name }), el("td", { text: String(row.here) }), el("td", { text: String(row.planned) }),
      el("td", { text: row.elsewhere.map((person) => person.name || anonymous).join(", ") }),
    ]))),
  );
  table.hidden = false;
}

function showVote(vote) {
  const labels = { none: t("Not started"), open: t("Vote open: %(count)s voters", { count: vote.voters }),
    closed: t("Vote closed: %(count)s voters", { count: vote.voters }), revealed: t("Results") };
  document.getElementById("vote-state").textContent = labels[vote.state];
}

const board = new Board(session.code, {
  onPhase: (phase) => { showPhase(phase); showSeating().catch(() => {}); },
  onVote: showVote,
  onPlan: (plan) => { showPlan(plan); showSeating().catch(() => {}); },
  onChange: render,
  onSession: (state) => showOpen(state.is_open),
  onTimer: (timer) => countdown.set(timer),
  onStatus: (state, error) => say(state === "online" ? "" : (error ? error.message : t("Reconnecting…")), state !== "online"),
}).start();

toggle.addEventListener("click", () => act("session_open", { open: !isOpen }));
for (const button of document.querySelectorAll("[data-phase]")) {
  button.addEventListener("click", () => act("phase_set", { phase: button.dataset.phase }));
}
board.socket.on("seating_changed", (info) => { if (info.code === session.code) showSeating().catch(() => {}); });
const planButton = document.getElementById("plan-compute");
if (planButton) {
  planButton.addEventListener("click", async () => {
    const ack = await act(`${session.workshop}.plan`, {});
    if (ack.ok) showPlan(ack.plan);
  });
}
document.getElementById("vote-form").addEventListener("submit", (event) => {
  event.preventDefault();
  act("vote_open", { budget: Number(document.getElementById("vote-budget").value),
    max_per_post: Number(document.getElementById("vote-max").value) });
});
document.getElementById("vote-close").addEventListener("click", () => act("vote_close", {}));
document.getElementById("vote-reveal").addEventListener("click", () => act("vote_reveal", {}));
const nextPhase = document.getElementById("phase-next");
if (nextPhase) nextPhase.addEventListener("click", () => act("phase_set", {}));
for (const button of document.querySelectorAll("[data-minutes]")) {
  button.addEventListener("click", () => act("timer_start", { seconds: Number(button.dataset.minutes) * 60 }));
}
document.getElementById("timer-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const minutes = Number(document.getElementById("timer-minutes").value);
  if (minutes > 0) act("timer_start", { seconds: Math.round(minutes * 60) });
});
document.getElementById("timer-stop").addEventListener("click", () => act("timer_stop", {}));
showOpen(isOpen);
showPhase(session.phase);
countdown.set(session.timer);
render();
