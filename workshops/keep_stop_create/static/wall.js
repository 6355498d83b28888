// Keep / stop / create on the wall: the grid of topics × columns fills live. Nothing scrolls: each cell shows its
// newest ideas that fit and counts the others; a wall opened from a topic's QR code shows that topic's row, large.
// Once the vote is revealed, each cell lists its ideas most dotted first.

export function mount(ctx) {
  const { session, root, t, el, formatNumber } = ctx;
  const [topics, columns] = session.frameworks;
  const table = ctx.table || session.table || null;
  const preset = table ? table.tags[topics.key] : null;
  const rows = preset ? topics.items.filter((item) => item.key === preset) : topics.items;
  const seen = new Set(); // ideas already on screen: only a new one slides in
  let first = true;

  root.classList.add("ksc-wall");
  root.classList.toggle("ksc-wall--topic", Boolean(preset));
  const grid = el("div", { class: "ksc-grid" });
  grid.style.setProperty("--rows", rows.length);
  grid.style.setProperty("--columns", columns.items.length);
  root.replaceChildren(grid);

  const inCell = (post, topic, column) => post.tags[topics.key] === topic.key && post.tags[columns.key] === column.key;

  const dotsLabel = (count) => t("%(num)s dots", { count, num: count });

  function card(post, dots) {
    const id = post.id ?? post.post_id; // a revealed vote's results name the idea post_id
    const isNew = !first && !seen.has(id);
    seen.add(id);
    const merged = (post.merged || []).length;
    return el("li", { class: `ksc-card${isNew ? " ksc-card--new" : ""}`, dataset: { seq: post.seq } }, [
      el("p", { class: "ksc-card__text", text: post.text }),
      merged || dots ? el("p", { class: "ksc-card__meta" }, [
        dots ? el("span", { class: "ksc-card__dots", text: dotsLabel(dots) }) : null,
        merged ? el("span", { class: "ksc-card__merged", text: t("said %(count)s times", { count: merged + 1 }) }) : null,
      ]) : null,
    ]);
  }

  // Keep the first cards of a cell that fit its height whole; the rest are counted in the cell's head.
  function fit(list, more, count) {
    const limit = list.clientHeight;
    const items = [...list.children];
    // Offsets, not client rectangles: a card sliding in has a transform that must not count. Offsets are whole
    // pixels, so a card is kept only if it fits with two pixels to spare.
    const fits = (item) => item.offsetTop + item.offsetHeight <= limit - 2;
    // A cell never shows nothing while it has ideas: its newest is cut to two lines, or one, rather than left out.
    for (const lines of [2, 1]) {
      if (!items.length || fits(items[0])) break;
      items[0].dataset.lines = lines;
    }
    const over = items.findIndex((item) => !fits(item));
    const shown = over === -1 ? items.length : over;
    for (const item of items.slice(shown)) item.remove();
    const hidden = count - shown;
    more.hidden = hidden <= 0;
    more.textContent = `+${formatNumber(Math.max(hidden, 0))}`;
    more.setAttribute("aria-label", t("%(count)s more ideas not shown", { count: Math.max(hidden, 0) }));
  }

  function render(state) {
    const revealed = state.results && state.vote && state.vote.state === "revealed";
    const posts = revealed ? state.results : state.posts;
    const cells = [];
    const heads = [el("div", { class: "ksc-grid__corner" })];
    for (const column of columns.items) {
      const count = state.posts.filter((post) => post.tags[columns.key] === column.key
        && (!preset || post.tags[topics.key] === preset)).length;
      heads.push(el("h2", { class: "ksc-grid__column", dataset: { column: column.key } }, [
        el("span", { class: "ksc-grid__label", text: column.label }),
        el("span", { class: "ksc-grid__count", text: t("%(count)s ideas in all", { count }) }),
      ]));
    }
    const body = [];
    for (const topic of rows) {
      const total = state.posts.filter((post) => post.tags[topics.key] === topic.key).length;
      body.push(el("h2", { class: "ksc-grid__topic", dataset: { topic: topic.key } }, [
        el("span", { class: "ksc-grid__label", text: topic.label }),
        el("span", { class: "ksc-grid__count", text: t("%(count)s ideas in all", { count: total }) }),
      ]));
      for (const column of columns.items) {
        const mine = posts.filter((post) => inCell(post, topic, column));
        const list = el("ol", { class: "ksc-cell__posts" }, mine.map((post) => card(post, revealed ? post.dots : 0)));
        const more = el("span", { class: "ksc-cell__more", hidden: true });
        const label = t("%(topic)s, %(column)s", { topic: topic.label, column: column.label });
        body.push(el("section", { class: `ksc-cell ksc-cell--${columns.items.indexOf(column)}`, "aria-label": label,
          dataset: { topic: topic.key, column: column.key } }, [
          el("p", { class: "ksc-cell__head" }, [
            el("span", { class: "ksc-cell__count", text: revealed
              ? dotsLabel(mine.reduce((sum, post) => sum + post.dots, 0))
              : t("%(count)s ideas in all", { count: mine.length }) }),
            more,
          ]),
          list,
        ]));
        cells.push([list, more, mine.length]);
      }
    }
    grid.classList.toggle("ksc-grid--results", Boolean(revealed));
    grid.replaceChildren(...heads, ...body);
    for (const [list, more, count] of cells) fit(list, more, count);
    first = false;
    last = state;
    measured = cells.map(([list]) => list.clientHeight);
    // The grid keeps its size while its rows settle (a font or stylesheet arriving): fit again if a cell moved.
    cancelAnimationFrame(check);
    check = requestAnimationFrame(() => {
      if (cells.some(([list], n) => list.isConnected && list.clientHeight !== measured[n])) render(last);
    });
  }

  let last = null;
  let measured = [];
  let check = null;
  if (document.fonts) document.fonts.ready.then(() => { if (last) render(last); });
  return { render, results: true };
}
