// The projector wall: posts appear live, grouped by the session's first framework, with counts.
import { Board } from "./board.js";
import { mergedGroup } from "./merges.js";
import { Countdown, el, formatNumber, phaseLabel, readJSON, t } from "./page.js";

const session = readJSON("rouages-session");
// A wall opened with a table's code shows that table only, grouped by what the table does not fix.
const fixedTags = session.table ? session.table.tags : {};
const grouping = session.frameworks.find((framework) => !(framework.key in fixedTags)) || null;
const atTable = (post) => Object.entries(fixedTags).every(([key, value]) => post.tags[key] === value);
const columns = document.getElementById("columns");
const total = document.getElementById("total");
const status = document.getElementById("connection");
const closed = document.getElementById("closed");
const phaseLine = document.getElementById("phase");
const voteLabel = document.getElementById("vote");
let vote = { state: "none" };
let phase = session.phase;
let harvest = {};
const countdown = new Countdown(document.getElementById("countdown"));

function groups() {
  if (!grouping) return [{ key: null, label: t("Ideas") }];
  return [...grouping.items, { key: "", label: t("Other") }];
}

function card(post) {
  const labels = [];
  for (const framework of session.frameworks.filter((fw) => fw !== grouping && !(fw.key in fixedTags))) {
    const item = framework.items.find((candidate) => candidate.key === post.tags[framework.key]);
    if (item) labels.push(el("span", { class: "tag", text: item.label }));
  }
  const author = [post.author, post.organisation].filter(Boolean).join(" · ");
  return el("li", { class: "card", dataset: { seq: post.seq } }, [
    el("p", { class: "card__text", text: post.text }),
    labels.length || author ? el("p", { class: "card__meta" }, [...labels, author ? el("span", { class: "card__author", text: author }) : null]) : null,
    mergedGroup(post, { open: true }),
  ]);
}

function renderResults() {
  const results = (vote.results || []).filter((result) => atTable(result));
  columns.replaceChildren(el("section", { class: "results", "aria-label": t("Results") }, [
    el("h2", { class: "column__title", text: t("Results") }),
    el("ol", { class: "results__list" }, results.map((result) => el("li", { class: "card results__item" }, [
      el("span", { class: "results__rank", text: formatNumber(result.rank) }),
      el("p", { class: "card__text", text: result.text }),
      el("span", { class: "results__dots", text: t("%(count)s dots", { count: result.dots }) }),
    ]))),
  ]));
}

// During the harvest, each table shows what its host wrote, category by category.
function renderHarvest() {
  const tables = session.tables.filter((table) => !session.table || table.key === session.table.key);
  columns.replaceChildren(...tables.map((table) => el("section", { class: "column", "aria-label": table.name }, [
    el("h2", { class: "column__title" }, [el("span", { text: table.name })]),
    el("dl", { class: "harvest" }, session.harvest_categories.flatMap((category) => [
      el("dt", { class: "harvest__category", text: category.label }),
      el("dd", { class: "harvest__text", text: (harvest[table.key] || {})[category.key] || "…" }),
    ])),
  ])));
}

function render() {
  // During the vote step the step's name already says it: the state line would only repeat « Vote ».
  const voteStep = phase && phase.key === "vote" && vote.state === "open";
  voteLabel.textContent = voteStep ? "" : { open: t("Vote open"), closed: t("The vote is closed.") }[vote.state] || "";
  if (vote.state === "revealed") { renderResults(); return; }
  if (phase && phase.key === "harvest" && session.tables.length) { renderHarvest(); return; }
  const posts = board.sorted().filter(atTable);
  total.textContent = t("%(count)s ideas", { count: posts.length });
  columns.replaceChildren();
  for (const group of groups()) {
    const mine = posts.filter((post) => !grouping || (post.tags[grouping.key] || "") === group.key);
    if (group.key === "" && mine.length === 0) continue;
    columns.append(el("section", { class: "column", "aria-label": group.label }, [
      el("h2", { class: "column__title" }, [el("span", { text: group.label }), el("span", { class: "column__count", text: formatNumber(mine.length) })]),
      el("ol", { class: "column__posts" }, mine.map(card)),
    ]));
  }
}

const board = new Board(session.code, {
  onChange: render,
  onSession: (state) => { closed.hidden = state.is_open; },
  onTimer: (timer) => countdown.set(timer),
  onVote: (state) => { vote = state; render(); },
  onPhase: (current) => {
    phase = current;
    phaseLine.textContent = current && session.phases.length > 1 ? phaseLabel(session, current) : "";
    render();
  },
  onHarvest: (entries) => { harvest = entries; render(); },
  onStatus: (state) => { status.dataset.state = state; status.textContent = state === "online" ? "" : t("Reconnecting…"); },
}).start();

countdown.set(session.timer);
render();
