// The facilitator's console for one session: posting, steps, countdown, vote, moderation; the session's format adds
// its own panels in its slot.
import { Board } from "./board.js";
import { mergedGroup } from "./merges.js";
import { Countdown, el, formatNumber, readJSON, t } from "./page.js";

const session = readJSON("rouages-session");
const list = document.getElementById("posts");
const counts = document.getElementById("counts");
const toggle = document.getElementById("toggle-open");
const openState = document.getElementById("open-state");
const feedback = document.getElementById("feedback");
const countdown = new Countdown(document.getElementById("countdown"));
const dialog = document.getElementById("confirm");
const filters = document.getElementById("filters");
const searchBox = document.getElementById("filter-text");
const hiddenFilter = document.getElementById("filter-hidden");
const phaseKeys = session.phases.map((phase) => phase.key);
let isOpen = session.is_open;
let phase = session.phase;
let vote = session.vote;
let harvest = {};
let plan = null;
let formatState = session.state ?? null;
let view = null;
let synthesis = null; // the « Synthèse » panel, for sessions whose ideas the booklet groups
let errorTopic = null; // what the error on screen is about: it goes when that state changes

// An event's topic: the state whose change makes an error about it out of date.
function topicOf(event) {
  if (event.startsWith("vote_")) return "vote";
  if (event.startsWith("timer_")) return "timer";
  if (event.startsWith("post_")) return "posts";
  if (event === "phase_set" || event === "session_open") return "phase";
  return "format"; // the format's own actions (`<slug>.<name>`)
}

function say(message, topic = null) {
  feedback.textContent = message;
  feedback.classList.toggle("feedback--error", topic !== null);
  errorTopic = topic;
}

// The state an error described has changed (a broadcast, another console's action): the error no longer holds.
function changed(topic) {
  if (errorTopic !== null && (errorTopic === topic || topic === "phase" && errorTopic === "vote")) say("");
}

async function act(event, data) {
  try {
    await board.ready();
    const ack = await board.emit(event, data);
    if (!ack.ok) say(ack.error.message, topicOf(event));
    else if (errorTopic !== null) say("");
    return ack;
  } catch {
    say(t("Not connected: try again in a moment."), "connection");
    return { ok: false };
  }
}

// Ask in the page before an action that is easy to regret; resolve true to go ahead.
function confirmed(question, detail = "") {
  document.getElementById("confirm-text").textContent = question;
  document.getElementById("confirm-detail").textContent = detail;
  dialog.returnValue = "";
  dialog.showModal();
  document.getElementById("confirm-cancel").focus();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
  });
}

function labelOf(framework, key) {
  const item = framework.items.find((candidate) => candidate.key === key);
  return item ? item.label : null;
}

// The posts the moderation filters let through.
function filtered(posts) {
  const words = searchBox.value.trim().toLocaleLowerCase().split(/\s+/).filter(Boolean);
  const wanted = [...filters.querySelectorAll("[data-filter-framework]")].filter((select) => select.value)
    .map((select) => [select.dataset.filterFramework, select.value]);
  return posts.filter((post) => {
    if (hiddenFilter.value === "hidden" && !post.hidden) return false;
    if (hiddenFilter.value === "visible" && post.hidden) return false;
    if (wanted.some(([framework, key]) => post.tags[framework] !== key)) return false;
    const text = `${post.text} ${post.author || ""}`.toLocaleLowerCase();
    return words.every((word) => text.includes(word));
  });
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
  const shown = filtered(posts);
  document.getElementById("filter-count").textContent = shown.length === posts.length ? ""
    : t("%(count)s of %(total)s posts shown", { count: shown.length, total: posts.length });
  list.replaceChildren(...shown.map((post) => {
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
  showVote(vote);
  drawView();
}

// The format's panels follow every change of the session.
function drawView() {
  if (view && view.render) view.render({ posts: board.sorted({ includeHidden: true }), phase, vote, harvest, plan,
    formatState, results: vote && vote.state === "revealed" ? vote.results || [] : null });
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
    changed("phase");
  }
  isOpen = value;
  openState.textContent = isOpen ? t("Posting is open") : t("Posting is closed");
  toggle.textContent = isOpen ? t("Close posting") : t("Open posting");
  showVote(vote);
}

function showPhase(current) {
  if ((current && current.key) !== (phase && phase.key)) changed("phase");
  phase = current;
  for (const button of document.querySelectorAll("[data-phase]")) {
    if (phase && button.dataset.phase === phase.key) button.setAttribute("aria-current", "step");
    else button.removeAttribute("aria-current");
  }
  const next = document.getElementById("phase-next");
  if (next) next.disabled = !phase || phase.key === phaseKeys[phaseKeys.length - 1];
  showVote(vote);
}

// Moving to the next step is one click; jumping over steps or going back asks first, saying what will happen.
async function goTo(key) {
  const from = phase ? phaseKeys.indexOf(phase.key) : -1;
  const to = phaseKeys.indexOf(key);
  if (to === from) return;
  if (to !== from + 1) {
    const target = session.phases[to];
    const skipped = session.phases.slice(from + 1, to).map((step) => step.label);
    const question = to < from ? t("Go back to “%(step)s”?", { step: target.label })
      : t("Skip to “%(step)s”?", { step: target.label });
    const effects = [];
    if (skipped.length) effects.push(t("Skipped: %(steps)s.", { steps: skipped.join(", ") }));
    effects.push(target.posting ? t("Posting opens on every phone.") : t("Posting closes on every phone."));
    if (target.minutes) effects.push(t("The countdown restarts at %(n)s min.", { n: target.minutes }));
    if (!await confirmed(question, effects.join(" "))) return;
  }
  act("phase_set", { phase: key });
}

// The vote controls show where a vote fits (see voteFits); elsewhere they warn, and opening asks first.
function showVote(state) {
  if (!state) return;
  if (vote && (state.state !== vote.state || state.voters !== vote.voters)) changed("vote");
  vote = state;
  const labels = { none: t("Not started"), open: t("Vote open: %(count)s voters", { count: vote.voters }),
    closed: t("Vote closed: %(count)s voters", { count: vote.voters }), revealed: t("Results") };
  document.getElementById("vote-state").textContent = labels[vote.state];
  const ideas = board ? board.sorted().length : 0;
  const warning = document.getElementById("vote-warning");
  const form = document.getElementById("vote-form");
  const running = vote.state === "open";
  let message = "";
  if (!ideas) message = t("No idea to vote on yet: the vote can open once ideas are posted.");
  else if (!voteFits() && vote.state === "none") {
    message = t("This step is not a vote: the vote would reach every phone during “%(step)s”.",
      { step: phase ? phase.label : "—" });
  }
  warning.textContent = message;
  warning.hidden = !message;
  form.hidden = !ideas || running;
  document.getElementById("vote-close").hidden = !running;
  document.getElementById("vote-reveal").hidden = vote.state === "none" || vote.state === "revealed";
}

// A format with a vote step votes there, or once posting has happened and is closed; one without votes on its ideas.
function voteFits() {
  if (!board.sorted().length) return false;
  if (!phaseKeys.includes("vote") || (phase && phase.key === "vote")) return true;
  const firstPosting = session.phases.findIndex((step) => step.posting);
  return !isOpen && phase !== null && phaseKeys.indexOf(phase.key) >= firstPosting;
}

async function openVote() {
  if (!voteFits() && !await confirmed(t("Open the vote now?"),
    t("This step is not a vote: the vote would reach every phone during “%(step)s”.",
      { step: phase ? phase.label : "—" }))) return;
  act("vote_open", { budget: Number(document.getElementById("vote-budget").value),
    max_per_post: Number(document.getElementById("vote-max").value) });
}

const board = new Board(session.code, {
  onPhase: (current) => { showPhase(current); drawView(); },
  onVote: (state) => { showVote(state); drawView(); if (synthesis) synthesis.changed(); },
  onPlan: (current) => {
    if (current !== null && current !== plan) changed("format");
    plan = current;
    drawView();
  },
  onHarvest: (entries) => { harvest = entries; drawView(); },
  onFormatState: (state) => { formatState = state; drawView(); },
  onChange: () => { render(); changed("posts"); if (synthesis) synthesis.changed(); },
  onSession: (state) => showOpen(state.is_open),
  onTimer: (timer) => { countdown.set(timer); changed("timer"); },
  onStatus: (state, error) => {
    if (state === "online") { if (errorTopic === "connection") say(""); drawView(); }
    else say(error ? error.message : t("Reconnecting…"), "connection");
  },
});

// The format's module adds its panels (a world café's plan, hosts and harvest) in its slot.
const root = document.getElementById("format-view");
if (root.dataset.script) {
  const module = await import(root.dataset.script);
  view = module.mount({ session, root, t, el, formatNumber, board, emit: act, say: (message) => say(message),
    changed }) || null;
}
const synthesisRoot = document.getElementById("synthesis");
if (synthesisRoot) synthesis = (await import("./synthesis.js")).mount({ root: synthesisRoot, board });
board.start();

toggle.addEventListener("click", () => act("session_open", { open: !isOpen }));
for (const button of document.querySelectorAll("[data-phase]")) {
  button.addEventListener("click", () => goTo(button.dataset.phase));
}
document.getElementById("vote-form").addEventListener("submit", (event) => {
  event.preventDefault();
  openVote();
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
filters.addEventListener("input", render);
filters.addEventListener("reset", () => setTimeout(render));
filters.addEventListener("submit", (event) => event.preventDefault());
showOpen(isOpen);
showPhase(session.phase);
countdown.set(session.timer);
render();
