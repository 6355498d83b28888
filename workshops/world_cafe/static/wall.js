// The world café's wall: during the rounds, the board's columns; during the harvest, each table's harvest on pages
// that turn by themselves; near the end of a round with a rotation plan, who goes to which table next.
import { mount as mountBoard } from "../board/wall.js";
import { mount as mountNext } from "./wall_next.js";

// Harvest pages: as many columns of table boxes as stay readable; the layout keeping fewer pages wins.
const HARVEST_COLUMNS = [4, 5];
// A harvest page stays long enough to read what it shows, within bounds (seconds, characters read per second).
const PAGE_SECONDS = { min: 12, max: 45, perChar: 1 / 18 };

export function mount(ctx) {
  const { session, t, el, overflows, setGrid } = ctx;
  const columns = ctx.root.querySelector("#columns");
  const pager = ctx.root.querySelector("#pager");
  const pageLine = ctx.root.querySelector("#page");
  const progress = ctx.root.querySelector("#page-progress");
  const board = mountBoard(ctx);
  mountNext(ctx);
  let harvest = {};

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

  // Lay the table boxes out in order on pages of `count` column slots, each box whole. Boxes stack in a slot while
  // they fit; a box too tall for one slot spans as many slots as its text needs, flowing across them.
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

  // During the harvest, each table shows what its host wrote, category by category.
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

  function render(state) {
    harvest = state.harvest || {};
    const harvesting = state.phase && state.phase.key === "harvest" && session.tables.length && !state.results;
    if (harvesting) {
      renderHarvest();
      return { compact: true };
    }
    stopPaging();
    if (!state.results) board.render(state);
    return null;
  }

  // The facilitator's keyboard turns the harvest pages too.
  document.addEventListener("keydown", (event) => {
    if (harvestPages.list.length < 2) return;
    if (["ArrowRight", "PageDown", " "].includes(event.key)) showPage(harvestPages.index + 1);
    else if (["ArrowLeft", "PageUp"].includes(event.key)) showPage(harvestPages.index - 1);
    else return;
    event.preventDefault();
  });

  return { render };
}
