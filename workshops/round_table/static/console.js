// The round table in the console: the room's questions ranked live (answered, on the wall, hidden, the review
// queue), and the capture of each speaker's closing words with whether they agreed to publication. A quote without
// that agreement is kept for the organisers only and says so: it never reaches the booklet, the web or an export.
import { questionConsole } from "../../static/js/questions.js";

export function mount(ctx) {
  const { session, root, t, el, emit } = ctx;
  const speakers = (session.frameworks.find((framework) => framework.key === "speaker") || { items: [] }).items;
  const nameOf = (key) => speakers.find((speaker) => speaker.key === key)?.label || key;
  const addressed = (post) => post.tags.speaker ? t("For %(name)s", { name: nameOf(post.tags.speaker) }) : null;
  const panel = questionConsole(ctx, { tag: addressed });
  let quotes = [];
  let editing = null; // the quote being edited ({key, rev}), or null for a new one

  const speaker = el("select", { id: "rt-quote-speaker", required: true }, [
    el("option", { value: "", text: t("Choose the speaker") }),
    ...speakers.map((item) => el("option", { value: item.key, text: item.label })),
  ]);
  const text = el("textarea", { id: "rt-quote-text", rows: 3, maxlength: 600, required: true });
  const consent = el("input", { type: "checkbox", id: "rt-quote-consent" });
  const save = el("button", { type: "submit", class: "button button--primary", text: t("Save the quote") });
  const cancel = el("button", { type: "button", class: "button", text: t("Cancel"), hidden: true });
  const form = el("form", { class: "rt-quote-form" }, [
    el("label", { for: "rt-quote-speaker", text: t("Who said it") }), speaker,
    el("label", { for: "rt-quote-text", text: t("Their words") }), text,
    el("p", { class: "rt-quote-form__consent" }, [consent, el("label", { for: "rt-quote-consent", text: t("Agreed to publication") })]),
    el("p", { class: "hint", text: t("Only quotes the speaker agreed to publish reach the booklet and the web page.") }),
    el("p", { class: "control__row" }, [save, cancel]),
  ]);
  const list = el("ol", { class: "rt-quotes" });
  const none = el("p", { class: "hint", text: t("No quote yet.") });
  root.classList.add("qa-console-view");
  root.prepend(panel.node, el("section", { class: "panel rt-quote", "aria-labelledby": "rt-quote-title" }, [
    el("h2", { class: "panel__title", id: "rt-quote-title", text: t("The last word: quotes") }),
    form, none, list,
  ]));

  function reset() {
    editing = null;
    form.reset();
    save.textContent = t("Save the quote");
    cancel.hidden = true;
  }

  function draw() {
    none.hidden = quotes.length > 0;
    list.replaceChildren(...quotes.map((record) => {
      const quote = record.data;
      const edit = el("button", { type: "button", class: "button button--small", text: t("Edit") });
      const remove = el("button", { type: "button", class: "button button--small", text: t("Delete") });
      edit.addEventListener("click", () => {
        editing = { key: record.key, rev: record.rev };
        speaker.value = quote.speaker;
        text.value = quote.text;
        consent.checked = Boolean(quote.consent);
        save.textContent = t("Save the changes");
        cancel.hidden = false;
        text.focus();
      });
      remove.addEventListener("click", async () => {
        const ack = await emit("round_table.quote_delete", { key: record.key, rev: record.rev });
        if (ack.ok) { if (editing && editing.key === record.key) reset(); load(); }
      });
      return el("li", { class: `rt-quotes__item${quote.consent ? "" : " rt-quotes__item--private"}`, dataset: { key: record.key } }, [
        el("blockquote", { class: "rt-quotes__text", text: quote.text }),
        el("p", { class: "rt-quotes__meta" }, [
          el("span", { class: "rt-quotes__who", text: nameOf(quote.speaker) }),
          el("span", { class: quote.consent ? "rt-quotes__state" : "rt-quotes__state rt-quotes__state--private",
            text: quote.consent ? t("Published") : t("Not published") }),
        ]),
        el("p", { class: "control__row" }, [edit, remove]),
      ]);
    }));
  }

  async function load() {
    const ack = await emit("round_table.quotes", {}).catch(() => null);
    if (!ack || !ack.ok) return;
    quotes = ack.quotes || [];
    draw();
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = { speaker: speaker.value, text: text.value, consent: consent.checked,
      ...(editing ? { key: editing.key, rev: editing.rev } : { rev: 0 }) };
    // Nothing can be typed while the quote is on its way: a refusal leaves it in the form, as written.
    for (const field of form.elements) field.disabled = true;
    const ack = await emit("round_table.quote", data);
    for (const field of form.elements) field.disabled = false;
    if (ack.ok) { reset(); load(); }
  });
  cancel.addEventListener("click", reset);
  load();
  return { render: panel.render };
}
