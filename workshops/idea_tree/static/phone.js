// The idea tree on a phone: the branch is picked on a drawn tree (one leaf-shaped choice per branch above a trunk),
// then, once the facilitator opens them, whether the idea is a leaf, a root or a fruit. The core form sends it.

const PART = "part";
let serial = 0;

export function mount(ctx) {
  const { session, root, t, el, form } = ctx;
  const branches = session.frameworks[0];
  const parts = session.frameworks.find((framework) => framework.key === PART);
  const name = `tree-${(serial += 1)}`;
  let branch = null;
  let part = "leaf";
  let flags = session.state || {};

  const choice = (group, item, extra) => el("label", { class: `tree-choice ${extra}` }, [
    el("input", { type: "radio", name: `${name}-${group}`, value: item.key, class: "tree-choice__input" }),
    el("span", { class: "tree-choice__label", text: item.label }),
  ]);

  const crown = el("div", { class: "tree-picker__crown" }, branches.items.map((item) => choice("branch", item, "tree-choice--branch")));
  crown.style.setProperty("--branches", branches.items.length);
  const picker = el("fieldset", { class: "tree-picker" }, [
    el("legend", { class: "tree-picker__legend", text: t("On which branch of the tree?") }),
    crown,
    el("div", { class: "tree-picker__trunk", "aria-hidden": "true" }),
  ]);
  const partChoices = el("fieldset", { class: "tree-parts", hidden: true }, [
    el("legend", { class: "tree-picker__legend", text: t("What is it?") }),
    el("div", { class: "tree-parts__choices" }, parts.items.map((item) => choice("part", item, `tree-choice--${item.key}`))),
  ]);
  root.replaceChildren(picker, partChoices);

  function apply() {
    form.setTags({ [branches.key]: branch, [PART]: part === "leaf" ? null : part });
  }

  function showParts() {
    const open = parts.items.filter((item) => !item.opens_with || flags[item.opens_with]);
    partChoices.hidden = open.length < 2;
    for (const input of partChoices.querySelectorAll("input")) {
      const item = parts.items.find((candidate) => candidate.key === input.value);
      const available = !item.opens_with || flags[item.opens_with];
      input.closest("label").hidden = !available;
      input.disabled = !available;
    }
    if (!open.some((item) => item.key === part)) part = "leaf";
    for (const input of partChoices.querySelectorAll("input")) input.checked = input.value === part;
    apply();
  }

  crown.addEventListener("change", (event) => { branch = event.target.value; apply(); });
  partChoices.addEventListener("change", (event) => { part = event.target.value; apply(); });
  showParts();

  return {
    state(state) { flags = state || {}; showParts(); },
  };
}
