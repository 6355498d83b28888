// The idea tree on the wall: a crown per branch holding its leaves (and fruits) as cards, roots under the ground,
// the wood drawn in SVG between them. Nothing overlaps: a crown shows the cards that fit, counts the rest and
// turns its pages by itself; a new leaf brings its branch back to the first page, where it appears.

const SVG = "http://www.w3.org/2000/svg";
// A crown with more cards than fit turns its page after this long (seconds).
const PAGE_SECONDS = 12;
const PART = "part";
// No crown holds more cards than this on any wall: more are never built, however many leaves there are.
const MAX_CARDS = 24;

function svg(tag, attrs = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  return node;
}

export function mount(ctx) {
  const { session, root, t, el } = ctx;
  const branchFramework = session.frameworks[0];
  const parts = session.frameworks.find((framework) => framework.key === PART);
  const partLabel = (key) => (parts.items.find((item) => item.key === key) || {}).label || key;
  const pages = new Map(); // branch key (or "roots") -> {offset, newest}
  let latest = { posts: [], formatState: {}, results: null };
  let ranking = false;
  let seen = null; // the highest seq drawn so far (none before the first drawing)

  // The format's own box inside the core's slot: its size is what the crowns share.
  const tree = el("div", { class: "tree" });
  const wood = svg("svg", { class: "tree__wood", "aria-hidden": "true", focusable: "false" });
  const crowns = el("div", { class: "tree__crowns" });
  crowns.style.setProperty("--branches", branchFramework.items.length);
  const trunk = el("div", { class: "tree__trunk" });
  const rootsBand = el("section", { class: "tree__roots", "aria-label": t("Roots") });
  tree.append(wood, crowns, trunk, rootsBand);
  root.replaceChildren(tree);

  const partOf = (post) => post.tags[PART] || "leaf";

  function card(post, dots) {
    const part = partOf(post);
    const merged = (post.merged || []).length;
    // Only what arrived since the last drawing slides in: a redrawn crown does not flash.
    const fresh = seen !== null && post.seq > seen ? " tree-card--new" : "";
    return el("li", { class: `tree-card tree-card--${part}${fresh}`, dataset: { id: post.id, seq: post.seq } }, [
      part === "leaf" ? null : el("span", { class: "tree-card__part", text: partLabel(part) }),
      el("p", { class: "tree-card__text", text: post.text }),
      merged ? el("span", { class: "tree-card__merged", title: t("Ideas merged into this one"),
        text: t("said %(count)s times", { count: merged + 1 }) }) : null,
      dots ? el("span", { class: "tree-card__dots", "aria-label": t("%(count)s dots", { count: dots }) },
        [el("span", { class: "tree-card__dot", "aria-hidden": "true" }), ctx.formatNumber(dots)]) : null,
    ]);
  }

  // Show the cards of `posts` from the page's offset that fit `list`; say how many more and which page this is.
  function fill(key, list, more, posts, dots) {
    const page = pages.get(key) || { offset: 0, newest: 0 };
    const newest = posts.reduce((top, post) => Math.max(top, post.seq), 0);
    if (newest > page.newest) page.offset = 0; // something grew: show it
    page.newest = newest;
    if (page.offset >= posts.length) page.offset = 0;
    list.replaceChildren(...posts.slice(page.offset, page.offset + MAX_CARDS).map((post) => card(post, dots ? dots.get(post.id) || 0 : null)));
    const horizontal = list.classList.contains("tree__root-list");
    // Offsets, not client rectangles: a card arriving slides in with a transform that must not count.
    const end = (item) => (horizontal ? item.offsetLeft + item.offsetWidth : item.offsetTop + item.offsetHeight);
    const cut = () => {
      const items = [...list.children];
      const limit = horizontal ? list.clientWidth : list.clientHeight;
      const first = items.findIndex((item) => end(item) > limit + 1);
      const kept = first === -1 ? items.length : Math.max(first, 1);
      for (const item of items.slice(kept)) item.remove();
      return kept;
    };
    more.hidden = true;
    let shown = cut();
    if (shown < posts.length - page.offset || page.offset > 0) {
      // The marker takes room from the list: show it, then cut again to what still fits.
      const label = (count, index, pages) => `${t("+ %(count)s more ideas", { count })} · ${t("Page %(page)s/%(pages)s",
        { page: index, pages })}`;
      more.hidden = false;
      more.textContent = label(posts.length, 99, 99); // as long as the final text, which needs what fits
      shown = cut();
      const count = Math.ceil(posts.length / shown);
      const index = Math.floor(page.offset / shown) + 1;
      more.textContent = label(posts.length - shown, Math.min(index, count), count);
    }
    page.shown = shown;
    pages.set(key, page);
  }

  function ranked(posts, dots) {
    if (!dots) return posts;
    return [...posts].sort((a, b) => (dots.get(b.id) || 0) - (dots.get(a.id) || 0) || b.seq - a.seq);
  }

  function drawWood() {
    const box = tree.getBoundingClientRect();
    if (!box.width || !box.height) return;
    const at = (node) => {
      const r = node.getBoundingClientRect();
      return { left: r.left - box.left, right: r.right - box.left, top: r.top - box.top, bottom: r.bottom - box.top,
        x: (r.left + r.right) / 2 - box.left, width: r.width };
    };
    wood.setAttribute("viewBox", `0 0 ${box.width} ${box.height}`);
    const parts_ = [];
    const band = at(trunk);
    const cx = box.width / 2;
    const width = Math.max(18, band.bottom * 0.03);
    const ground = band.bottom - 2;
    // The branches fork from the trunk halfway down the band, so that they fan out where the room can see them.
    const top = band.top + (ground - band.top) * 0.5;
    parts_.push(svg("path", { class: "tree__bark", d: `M${cx - width} ${ground} C${cx - width * 0.7} ${(top + ground) / 2} `
      + `${cx - width * 0.5} ${top + 8} ${cx - width * 0.45} ${top} L${cx + width * 0.45} ${top} `
      + `C${cx + width * 0.5} ${top + 8} ${cx + width * 0.7} ${(top + ground) / 2} ${cx + width} ${ground} Z` }));
    for (const crown of crowns.children) {
      const c = at(crown);
      parts_.push(svg("path", { class: "tree__branch", "stroke-width": Math.max(6, width * 0.55),
        d: `M${cx} ${top + 4} C${cx} ${top - (top - c.bottom) * 0.6} ${(cx + c.x) / 2} ${c.bottom} ${c.x} ${c.bottom - 6}` }));
    }
    parts_.push(svg("line", { class: "tree__ground", x1: 0, x2: box.width, y1: ground, y2: ground }));
    const rootCards = [...rootsBand.querySelectorAll(".tree-card")];
    const anchors = rootCards.length ? rootCards.map(at) : (rootsBand.hidden ? [] : [at(rootsBand)]);
    for (const anchor of anchors) {
      parts_.push(svg("path", { class: "tree__root", "stroke-width": Math.max(4, width * 0.3),
        d: `M${cx} ${ground - 2} C${cx} ${ground + 20} ${anchor.x} ${anchor.top - 20} ${anchor.x} ${anchor.top + 2}` }));
    }
    wood.replaceChildren(...parts_);
  }

  // The core calls render on every post: a burst of them is drawn once, at the next frame.
  let pending = null;
  function render(state = {}) {
    latest = { ...latest, ...state };
    if (pending === null) pending = requestAnimationFrame(() => { pending = null; draw(); });
  }

  function draw() {
    const posts = (latest.posts || ctx.board.sorted()).filter((post) => !post.hidden);
    const flags = latest.formatState || {};
    const dots = latest.results ? new Map(latest.results.map((result) => [result.post_id, result.dots])) : null;
    // Revealing the vote (or starting again) reorders every crown: each starts again from its first page.
    if (Boolean(dots) !== ranking) pages.clear();
    ranking = Boolean(dots);
    const byBranch = (key, wanted) => posts.filter((post) => post.tags[branchFramework.key] === key && wanted(partOf(post)));
    const lists = [];
    crowns.replaceChildren(...branchFramework.items.map((branch) => {
      const leaves = ranked(byBranch(branch.key, (part) => part === "leaf"), dots);
      const fruits = ranked(byBranch(branch.key, (part) => part === "fruit"), dots);
      const list = el("ol", { class: "crown__cards" });
      const more = el("p", { class: "crown__more", hidden: true });
      // Fruits lead their crown while it grows; once the vote is revealed, dots alone decide.
      lists.push([branch.key, list, more, dots ? ranked([...fruits, ...leaves], dots) : [...fruits, ...leaves]]);
      return el("section", { class: "crown", "aria-label": branch.label, dataset: { branch: branch.key } }, [
        el("h2", { class: "crown__title" }, [
          el("span", { class: "crown__label", text: branch.label }),
          el("span", { class: "crown__count", text: fruits.length
            ? `${t("%(count)s ideas in all", { count: leaves.length })} · ${t("%(count)s fruits", { count: fruits.length })}`
            : t("%(count)s ideas in all", { count: leaves.length }) }),
        ]),
        list, more,
      ]);
    }));
    const roots = ranked(posts.filter((post) => partOf(post) === "root"), dots);
    rootsBand.hidden = !roots.length && !flags.roots;
    const rootList = el("ol", { class: "tree__root-list" });
    const rootMore = el("p", { class: "crown__more", hidden: true });
    rootsBand.replaceChildren(el("h2", { class: "tree__roots-title" }, [
      el("span", { text: t("Roots") }),
      el("span", { class: "crown__count", text: t("%(count)s roots", { count: roots.length }) }),
    ]), rootList, rootMore);
    trunk.replaceChildren(...[flags.fruits ? el("span", { class: "tree__open tree__open--fruit", text: t("Fruits are open") }) : null,
      flags.roots ? el("span", { class: "tree__open tree__open--root", text: t("Roots are open") }) : null].filter(Boolean));
    // The roots first: their band's height decides how much room the crowns have.
    if (!rootsBand.hidden) fill("roots", rootList, rootMore, roots, dots);
    for (const [key, list, more, mine] of lists) fill(key, list, more, mine, dots);
    drawWood();
    seen = posts.reduce((top, post) => Math.max(top, post.seq), seen ?? 0);
  }

  // Crowns with more cards than fit turn their pages; each keeps its own place.
  // Once the vote is revealed they hold still on their most-dotted cards, which the room is talking about.
  setInterval(() => {
    if (ranking) return;
    let turned = false;
    for (const page of pages.values()) {
      if (!page.shown) continue;
      page.offset += page.shown;
      turned = true;
    }
    if (turned) draw();
  }, PAGE_SECONDS * 1000);
  new ResizeObserver(() => render()).observe(tree);
  // The revealed vote is drawn on the tree itself, each card with its dots: the core keeps this view then.
  return { render, results: true };
}
