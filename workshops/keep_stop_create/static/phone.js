// Keep / stop / create on a phone: the idea's cell is picked on the grid itself, one row of big column buttons per
// topic (only the topic's row when its QR code was scanned). The core's form then takes the text and sends it.

export function mount(ctx) {
  const { session, root, t, el, form } = ctx;
  const [topics, columns] = session.frameworks;
  const preset = session.table ? session.table.tags[topics.key] : null;
  const rows = preset ? topics.items.filter((item) => item.key === preset) : topics.items;
  const chosen = { topic: preset, column: null };
  const summary = el("p", { class: "ksc-pick__chosen", id: "ksc-chosen", "aria-live": "polite" });

  const row = (topic) => el("fieldset", { class: "ksc-pick__row", dataset: { topic: topic.key } }, [
    el("legend", { class: "ksc-pick__topic", text: topic.label }),
    el("div", { class: `ksc-pick__cells ksc-pick__cells--${columns.items.length}` }, columns.items.map((column, n) => {
      const id = `ksc-${topic.key}-${column.key}`;
      return el("div", { class: `ksc-pick__cell ksc-pick__cell--${n}` }, [
        el("input", { type: "radio", name: "ksc-cell", id, value: `${topic.key} ${column.key}`, class: "ksc-pick__input",
          dataset: { topic: topic.key, column: column.key } }),
        el("label", { for: id, class: "ksc-pick__button", text: column.label }),
      ]);
    })),
  ]);
  root.replaceChildren(el("div", { class: `ksc-pick${preset ? " ksc-pick--topic" : ""}` }, [
    el("p", { class: "ksc-pick__lead", text: preset ? t("Your idea, for this topic, is something…") : t("Pick your idea's box in the grid") }),
    ...rows.map(row),
    summary,
  ]));

  function show() {
    const topic = topics.items.find((item) => item.key === chosen.topic);
    const column = columns.items.find((item) => item.key === chosen.column);
    summary.textContent = topic && column ? t("Your idea goes in: %(topic)s › %(column)s", { topic: topic.label, column: column.label })
      : t("Choose a box, then write your idea.");
    // Both are the grid's to choose: the core's own choices stay hidden, and a cell not picked yet is null, so
    // sending without one says what is missing.
    form.setTags({ [topics.key]: chosen.topic, [columns.key]: chosen.column });
  }

  root.addEventListener("change", (event) => {
    const input = event.target.closest(".ksc-pick__input");
    if (!input) return;
    chosen.topic = input.dataset.topic;
    chosen.column = input.dataset.column;
    show();
  });
  show();

  return {
    // Posting closed: the grid stays, to be read, but cannot be picked.
    phase(phase) {
      for (const input of root.querySelectorAll(".ksc-pick__input")) input.disabled = phase ? !phase.posting : false;
    },
  };
}
