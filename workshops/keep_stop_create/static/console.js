// Keep / stop / create in the console: how many ideas each cell of the grid holds, and the totals, as they come.

export function mount(ctx) {
  const { session, root, t, el, formatNumber } = ctx;
  const [topics, columns] = session.frameworks;
  const body = el("tbody");
  const foot = el("tfoot");
  root.prepend(el("section", { class: "panel ksc-counts", "aria-labelledby": "ksc-counts-title" }, [
    el("h2", { class: "panel__title", id: "ksc-counts-title", text: t("Ideas per cell") }),
    el("table", { class: "ksc-counts__table" }, [
      el("thead", {}, el("tr", {}, [
        el("td"),
        ...columns.items.map((column) => el("th", { scope: "col", text: column.label })),
        el("th", { scope: "col", text: t("Total") }),
      ])),
      body, foot,
    ]),
  ]));

  function render(state) {
    const posts = state.posts.filter((post) => !post.hidden);
    const count = (topic, column) => posts.filter((post) => (!topic || post.tags[topics.key] === topic.key)
      && (!column || post.tags[columns.key] === column.key)).length;
    const cell = (value, attrs = {}) => el("td", { ...attrs, class: value ? "ksc-counts__n" : "ksc-counts__n ksc-counts__n--none",
      text: formatNumber(value) });
    body.replaceChildren(...topics.items.map((topic) => el("tr", { dataset: { topic: topic.key } }, [
      el("th", { scope: "row", text: topic.label }),
      ...columns.items.map((column) => cell(count(topic, column), { dataset: { column: column.key } })),
      cell(count(topic, null)),
    ])));
    foot.replaceChildren(el("tr", {}, [
      el("th", { scope: "row", text: t("Total") }),
      ...columns.items.map((column) => cell(count(null, column))),
      cell(posts.length),
    ]));
  }

  return { render };
}
