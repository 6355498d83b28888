// The idea tree's console panel: open or close roots and fruits for every phone, and the tree's counts.

// Each switch: its flag in the format state, what its box says, what the console says once it is on or off.
const FLAGS = [
  ["roots", "Phones can send roots", "Roots are open", "Roots are closed"],
  ["fruits", "Phones can send fruits", "Fruits are open", "Fruits are closed"],
];

export function mount(ctx) {
  const { session, root, t, el } = ctx;
  const boxes = {};
  const counts = el("p", { class: "tree-console__counts" });
  const switches = FLAGS.map(([flag, option, opened, closed]) => {
    const box = el("input", { type: "checkbox", class: "tree-console__switch", dataset: { flag } });
    boxes[flag] = box;
    box.addEventListener("change", async () => {
      box.disabled = true;
      // The console says why an action was refused; the box goes back to what is true.
      const ack = await ctx.emit("idea_tree.parts", { [flag]: box.checked });
      box.disabled = false;
      if (!ack.ok) {
        box.checked = !box.checked;
        return;
      }
      ctx.say(t(box.checked ? opened : closed));
    });
    return el("label", { class: "tree-console__option" }, [box, el("span", { text: t(option) })]);
  });
  root.replaceChildren(el("section", { class: "tree-console", "aria-label": t("The tree's parts") }, [
    el("h2", { class: "tree-console__title", text: t("The tree's parts") }),
    el("div", { class: "tree-console__options" }, switches),
    counts,
  ]));

  function render(state = {}) {
    const flags = state.formatState || {};
    for (const [flag] of FLAGS) if (!boxes[flag].disabled) boxes[flag].checked = Boolean(flags[flag]);
    const posts = (state.posts || ctx.board.sorted()).filter((post) => !post.hidden);
    const of = (part) => posts.filter((post) => (post.tags.part || "leaf") === part).length;
    counts.textContent = [t("%(count)s ideas in all", { count: of("leaf") }), t("%(count)s roots", { count: of("root") }),
      t("%(count)s fruits", { count: of("fruit") })].join(" · ");
  }
  render({ formatState: session.state || {} });
  return { render };
}
