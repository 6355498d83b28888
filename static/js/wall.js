// The projector wall: posts appear live, grouped by the session's first framework, with counts. Nothing scrolls:
// a column shows its newest posts that fit and says how many more there are; the harvest turns pages by itself.
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
const pager = document.getElementById("pager");
const pageLine = document.getElementById("page");
const progress = document.getElementById("page-progress");
let vote = { state: "none" };
let phase = session.phase;
let harvest = {};
const countdown = new Countdown(document.getElementById("countdown"));

// Board columns side by side up to this many; more wrap onto a second row rather than shrink below legibility.
const MAX_COLUMNS_PER_ROW = 6;
// Harvest pages: as many columns of table boxes as stay readable; the layout keeping fewer pages wins.
const HARVEST_COLUMNS = [4, 5];
// A harvest page stays long enough to read what it shows, within bounds (seconds, characters read per second).
const PAGE_SECONDS = { min: 12, max: 45, perChar: 1 / 18 };

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

function setGrid(node, count) {
  const perRow = count > MAX_COLUMNS_PER_ROW ? Math.ceil(count / 2) : Math.max(count, 1);
  node.style.setProperty("--columns", perRow);
  node.style.setProperty("--rows", Math.ceil(Math.max(count, 1) / perRow));
}

const overflows = (node) => node.scrollHeight > node.clientHeight + 1;

// Keep the first items of each list that fit its height, and say under it how many of its `count` are not shown.
// Markers share one row of the grid: it is reserved for all columns as soon as one needs it, then each list is cut.
// A marker holds a line of text from the start, so that filling it in does not change the height measured.
function fit(lists) {
  const over = lists.some(([list]) => overflows(list));
  columns.classList.toggle("wall__columns--more", over);
  for (const [list, more, count] of lists) {
    const items = [...list.children];
    // Offsets, not client rectangles: a card arriving slides in with a transform that must not count.
    const limit = list.clientHeight;
    const first = items.findIndex((item) => item.offsetTop + item.offsetHeight > limit);
    const shown = first === -1 ? items.length : Math.max(first, 1);
    for (const item of items.slice(shown)) item.remove();
    const hidden = count - shown;
    more.classList.toggle("column__more--none", hidden <= 0);
    more.textContent = hidden > 0 ? t("+ %(count)s more ideas", { count: hidden }) : "+";
  }
}

function renderResults() {
  const results = (vote.results || []).filter((result) => atTable(result));
  const list = el("ol", { class: "results__list" }, results.map((result) => el("li", { class: "card results__item" }, [
    el("span", { class: "results__rank", text: formatNumber(result.rank) }),
    el("p", { class: "card__text", text: result.text }),
    el("span", { class: "results__dots", text: t("%(count)s dots", { count: result.dots }) }),
  ])));
  const more = el("p", { class: "column__more column__more--none", text: "+" });
  setGrid(columns, 1);
  columns.replaceChildren(el("section", { class: "column results", "aria-label": t("Results") }, [
    el("h2", { class: "column__title", text: t("Results") }), list, more,
  ]));
  fit([[list, more, results.length]]);
}

function harvestBox(table) {
  const texts = harvest[table.key] || {};
  return el("section", { class: "harvest-table", "aria-label": table.name, dataset: { table: table.key } }, [
    el("h2", { class: "harvest-table__name", text: table.name }),
    el("dl", { class: "harvest" }, session.harvest_categories.map((category) => {
      // Hosts write one point a line: each line gets a bullet of its own (one the host typed is not doubled).
      const lines = (texts[category.key] || "").split("\n").map((line) => line.replace(/^\s*[-–•*]\s+/, "").trim())
        .filter(Boolean);
      return el("div", { class: "harvest__entry" }, [
        el("dt", { class: "harvest__category", text: category.label }),
        lines.length
          ? el("dd", { class: "harvest__text" }, lines.map((line) => el("span", { class: "harvest__line", text: line })))
          : el("dd", { class: "harvest__text harvest__text--empty", text: "…" }),
      ]);
    })),
  ]);
}

// Lay the table boxes out in order on pages of `count` column slots, each box whole. Boxes stack in a slot while they
// fit; a box too tall for one slot spans as many slots as its text needs, flowing across them. Returns the pages.
function paginate(boxes, count) {
  const pages = [];
  let page = null;
  let lane = null;
  let used = 0; // slots of the current page taken by its lanes
  const newPage = () => {
    page = el("div", { class: "harvest-page" });
    page.style.setProperty("--columns", count);
    columns.replaceChildren(page);
    pages.push(page);
    used = 0;
    lane = null;
  };
  const newLane = () => {
    if (used === count) newPage();
    lane = el("div", { class: "harvest-column" });
    page.append(lane);
    used += 1;
  };
  const widen = (box, span) => {
    lane.style.setProperty("grid-column", `span ${span}`);
    box.style.setProperty("--span", span);
    box.classList.toggle("harvest-table--wide", span > 1);
    used += span - Number(lane.dataset.span || 1);
    lane.dataset.span = span;
  };
  newPage();
  for (const box of boxes) {
    if (!lane || lane.dataset.span) newLane();
    lane.append(box);
    if (!overflows(lane)) continue;
    if (lane.children.length > 1) {
      box.remove();
      newLane();
      lane.append(box);
      if (!overflows(lane)) continue;
    }
    // Too tall for one slot even alone: widen it over the slots left on this page, or start a page for it.
    let span = 2;
    for (; span <= count; span += 1) {
      if (used - Number(lane.dataset.span || 1) + span > count) {
        if (page.children.length === 1) break;
        box.remove();
        lane.remove();
        newPage();
        newLane();
        lane.append(box);
      }
      widen(box, span);
      if (!overflows(lane)) break;
    }
    if (!lane.dataset.span) lane.dataset.span = 1;
    // Taller than a whole page: the wall says that the end is missing rather than cut it silently.
    if (overflows(lane)) {
      box.classList.add("harvest-table--cut");
      box.append(el("p", { class: "harvest-table__cut", text: t("The rest does not fit on the wall.") }));
    }
  }
  return pages.filter((candidate) => candidate.querySelector(".harvest-table"));
}

const harvestPages = { list: [], index: 0, timer: null };

// Show page `index`; `turn` says the page changed, so its clock restarts (a re-render keeps it running).
function showPage(index, turn = true) {
  const { list } = harvestPages;
  harvestPages.index = (index + list.length) % list.length;
  list.forEach((page, n) => { page.hidden = n !== harvestPages.index; });
  pager.hidden = list.length < 2;
  pageLine.textContent = t("Page %(page)s/%(pages)s", { page: harvestPages.index + 1, pages: list.length });
  if (list.length < 2 || turn) {
    clearTimeout(harvestPages.timer);
    harvestPages.timer = null;
  }
  if (list.length < 2 || harvestPages.timer !== null) return;
  const chars = list[harvestPages.index].textContent.length;
  const seconds = Math.min(PAGE_SECONDS.max, Math.max(PAGE_SECONDS.min, chars * PAGE_SECONDS.perChar));
  progress.style.setProperty("--page-seconds", `${seconds}s`);
  progress.classList.remove("wall__progress-bar--running");
  void progress.offsetWidth; // restart the bar's animation from empty
  progress.classList.add("wall__progress-bar--running");
  harvestPages.timer = setTimeout(() => {
    harvestPages.timer = null;
    showPage(harvestPages.index + 1);
  }, seconds * 1000);
}

// During the harvest, each table shows what its host wrote, category by category, on pages that turn by themselves.
function renderHarvest() {
  const tables = session.tables.filter((table) => !session.table || table.key === session.table.key);
  columns.classList.add("wall__columns--harvest");
  setGrid(columns, 1);
  if (tables.length === 1) {
    // A table's own wall: its categories side by side across the screen rather than one line of 120 characters.
    const box = harvestBox(tables[0]);
    box.classList.add("harvest-table--wide");
    box.style.setProperty("--span", Math.max(1, Math.min(3, session.harvest_categories.length)));
    const page = el("div", { class: "harvest-page" }, [el("div", { class: "harvest-column" }, [box])]);
    columns.replaceChildren(page);
    harvestPages.list = [page];
    showPage(0);
    return;
  }
  // Fewest pages first; then fewest tables spread over several slots; then more columns, so that boxes spread out
  // rather than stack up.
  let best = null;
  const wideBoxes = (pages) => pages.reduce((n, page) => n + page.querySelectorAll(".harvest-table--wide").length, 0);
  for (const count of HARVEST_COLUMNS.filter((n, i) => i === 0 || n <= tables.length)) {
    const pages = paginate(tables.map(harvestBox), Math.min(count, Math.max(tables.length, 1)));
    const [length, wide] = [pages.length, wideBoxes(pages)];
    if (!best || length < best.length || (length === best.length && wide <= best.wide)) best = { pages, length, wide };
  }
  best = best.pages;
  columns.replaceChildren(...best);
  // Hosts saving while the wall shows the harvest re-render it: stay on the page, let its clock run.
  const keep = harvestPages.list.length > 0;
  harvestPages.list = best;
  showPage(keep ? Math.min(harvestPages.index, best.length - 1) : 0, !keep);
}

function stopPaging() {
  clearTimeout(harvestPages.timer);
  harvestPages.timer = null;
  harvestPages.list = [];
  pager.hidden = true;
  columns.classList.remove("wall__columns--harvest");
}

function renderBoard() {
  const posts = board.sorted().filter(atTable);
  total.textContent = t("%(count)s ideas", { count: posts.length });
  const shown = [];
  for (const group of groups()) {
    const mine = posts.filter((post) => !grouping || (post.tags[grouping.key] || "") === group.key);
    if (group.key === "" && mine.length === 0) continue;
    shown.push([group, mine]);
  }
  setGrid(columns, shown.length);
  const fits = [];
  columns.replaceChildren(...shown.map(([group, mine]) => {
    const list = el("ol", { class: "column__posts" }, mine.map(card));
    const more = el("p", { class: "column__more column__more--none", text: "+" });
    fits.push([list, more, mine.length]);
    return el("section", { class: "column", "aria-label": group.label }, [
      el("h2", { class: "column__title" }, [
        el("span", { class: "column__label", text: group.label }),
        el("span", { class: "column__count", text: t("%(count)s ideas in all", { count: mine.length }) }),
      ]),
      list, more,
    ]);
  }));
  fit(fits);
}

function render() {
  // During the vote step the step's name already says it: the state line would only repeat « Vote ».
  const voteStep = phase && phase.key === "vote" && vote.state === "open";
  voteLabel.textContent = voteStep ? "" : { open: t("Vote open"), closed: t("The vote is closed.") }[vote.state] || "";
  const harvesting = phase && phase.key === "harvest" && session.tables.length && vote.state !== "revealed";
  document.body.classList.toggle("wall--compact", harvesting || vote.state === "revealed");
  if (harvesting) {
    renderHarvest();
    return;
  }
  stopPaging();
  if (vote.state === "revealed") renderResults(); else renderBoard();
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

// What fits depends on the wall's size (and on what else shares the screen): fit again when it changes.
let refit = null;
new ResizeObserver(() => {
  cancelAnimationFrame(refit);
  refit = requestAnimationFrame(render);
}).observe(columns);

// The facilitator's keyboard turns the harvest pages too.
document.addEventListener("keydown", (event) => {
  if (harvestPages.list.length < 2) return;
  if (["ArrowRight", "PageDown", " "].includes(event.key)) showPage(harvestPages.index + 1);
  else if (["ArrowLeft", "PageUp"].includes(event.key)) showPage(harvestPages.index - 1);
  else return;
  event.preventDefault();
});

countdown.set(session.timer);
render();
