// The board's wall: posts live in columns, one per item of the first framework the wall's table does not fix,
// newest first; a column shows the posts that fit and says how many more there are.

export function mount(ctx) {
  const { session, t, el, fit, setGrid, mergedGroup } = ctx;
  const columns = ctx.root.querySelector(".wall__columns") || ctx.root;
  const fixedTags = ctx.table ? ctx.table.tags : {};
  const grouping = session.frameworks.find((framework) => !(framework.key in fixedTags)) || null;

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
      labels.length || author ? el("p", { class: "card__meta" }, [...labels,
        author ? el("span", { class: "card__author", text: author }) : null]) : null,
      mergedGroup(post, { open: true }),
    ]);
  }

  function render({ posts }) {
    const shown = [];
    for (const group of groups()) {
      const mine = posts.filter((post) => !grouping || (post.tags[grouping.key] || "") === group.key);
      if (group.key === "" && mine.length === 0) continue;
      shown.push([group, mine]);
    }
    setGrid(columns, shown.length);
    const lists = [];
    columns.replaceChildren(...shown.map(([group, mine]) => {
      const list = el("ol", { class: "column__posts" }, mine.map(card));
      const more = el("p", { class: "column__more column__more--none", text: "+" });
      lists.push([list, more, mine.length]);
      return el("section", { class: "column", "aria-label": group.label }, [
        el("h2", { class: "column__title" }, [
          el("span", { class: "column__label", text: group.label }),
          el("span", { class: "column__count", text: t("%(count)s ideas in all", { count: mine.length }) }),
        ]),
        list, more,
      ]);
    }));
    fit(columns, lists, (count) => t("+ %(count)s more ideas", { count }));
  }

  return { render };
}
