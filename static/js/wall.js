// The projector wall: the header (title, step, countdown, count, how to join, connection), the vote's results, and
// the session's format drawing the rest in its slot. Nothing scrolls: what does not fit is counted or paged.
import { Board } from "./board.js";
import { fit, overflows, setGrid } from "./fit.js";
import { mergedGroup } from "./merges.js";
import { Countdown, el, formatNumber, phaseLabel, readJSON, t } from "./page.js";

const session = readJSON("rouages-session");
// A wall opened with a table's code shows that table only.
const fixedTags = session.table ? session.table.tags : {};
const atTable = (post) => Object.entries(fixedTags).every(([key, value]) => post.tags[key] === value);
const root = document.getElementById("format-view");
const results = document.getElementById("results");
const total = document.getElementById("total");
const status = document.getElementById("connection");
const closed = document.getElementById("closed");
const phaseLine = document.getElementById("phase");
const voteLabel = document.getElementById("vote");
let vote = { state: "none" };
let phase = session.phase;
let harvest = {};
let plan = null;
let formatState = session.state ?? null;
let view = null;
const countdown = new Countdown(document.getElementById("countdown"));

function renderResults() {
  const shown = (vote.results || []).filter((result) => atTable(result));
  const list = el("ol", { class: "results__list" }, shown.map((result) => el("li", { class: "card results__item" }, [
    el("span", { class: "results__rank", text: formatNumber(result.rank) }),
    el("p", { class: "card__text", text: result.text }),
    el("span", { class: "results__dots", text: t("%(count)s dots", { count: result.dots }) }),
  ])));
  const more = el("p", { class: "column__more column__more--none", text: "+" });
  setGrid(results, 1);
  results.replaceChildren(el("section", { class: "column results", "aria-label": t("Results") }, [
    el("h2", { class: "column__title", text: t("Results") }), list, more,
  ]));
  fit(results, [[list, more, shown.length]], (count) => t("+ %(count)s more ideas", { count }));
}

function render() {
  // During the vote step the step's name already says it: the state line would only repeat « Vote ».
  const voteStep = phase && phase.key === "vote" && vote.state === "open";
  voteLabel.textContent = voteStep ? "" : { open: t("Vote open"), closed: t("The vote is closed.") }[vote.state] || "";
  total.textContent = t("%(count)s ideas", { count: board.sorted().filter(atTable).length });
  const revealed = vote.state === "revealed";
  // A format whose module says it draws the revealed results itself ({ results: true }) keeps the wall's body.
  const ownResults = Boolean(view && view.results);
  results.hidden = !revealed || ownResults;
  root.hidden = revealed && !ownResults;
  if (revealed && !ownResults) renderResults();
  // A format's render may answer { compact: true }: what it shows matters more than how to join.
  const drawn = view && view.render ? view.render({ posts: board.sorted().filter(atTable), phase, vote, harvest, plan,
    formatState, results: revealed ? vote.results || [] : null }) : null;
  document.body.classList.toggle("wall--compact", revealed || Boolean(drawn && drawn.compact));
}

const board = new Board(session.code, {
  onChange: render,
  onSession: (state) => { closed.hidden = state.is_open || !session.posts; },
  onTimer: (timer) => countdown.set(timer),
  onVote: (state) => { vote = state; render(); },
  onPhase: (current) => {
    phase = current;
    phaseLine.textContent = current && session.phases.length > 1 ? phaseLabel(session, current) : "";
    render();
  },
  onHarvest: (entries) => { harvest = entries; render(); },
  onPlan: (current) => { plan = current; render(); },
  onFormatState: (state) => { formatState = state; render(); },
  onStatus: (state) => { status.dataset.state = state; status.textContent = state === "online" ? "" : t("Reconnecting…"); },
});

// The format's module draws the wall's body; the core keeps everything around it.
if (root.dataset.script) {
  const module = await import(root.dataset.script);
  view = module.mount({ session, root, t, el, formatNumber, board, table: session.table, countdown,
    fit, overflows, setGrid, mergedGroup, atTable }) || null;
}
board.start();

// What fits depends on the wall's size (and on what else shares the screen): fit again when it changes.
let refit = null;
const resizes = new ResizeObserver(() => {
  cancelAnimationFrame(refit);
  refit = requestAnimationFrame(render);
});
for (const node of [root, results]) resizes.observe(node);

countdown.set(session.timer);
render();
