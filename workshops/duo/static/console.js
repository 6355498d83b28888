// The duo in the console: per duo, its questions ranked live (answered, on the wall, hidden) and the key lessons the
// facilitator writes (one to five points, saved with a revision so two consoles never overwrite each other).
import { questionConsole } from "../../static/js/questions.js";
import { frameworks, isQuestion } from "./common.js";

const MAX_POINTS = 5;

export function mount(ctx) {
  const { session, root, t, el, emit, say } = ctx;
  const { duos } = frameworks(session);
  const panel = questionConsole(ctx, {
    scopes: duos.map((duo) => ({ key: duo.key, label: duo.label, filter: (post) => post.tags.duo === duo.key && isQuestion(post) })),
  });
  const records = new Map(); // duo key → its lessons record ({key, data, rev}) or null

  function editor(duo) {
    const id = `duo-lessons-${duo.key}`;
    const box = el("textarea", { id, rows: 4, class: "duo-lessons__text", "aria-describedby": `${id}-hint` });
    const save = el("button", { type: "submit", class: "button button--small button--primary", text: t("Save the lessons") });
    const state = el("span", { class: "duo-lessons__state", role: "status" });
    const form = el("form", { class: "duo-lessons__form", dataset: { duo: duo.key } }, [
      el("label", { for: id, text: duo.label }),
      el("p", { class: "hint", id: `${id}-hint`, text: t("One lesson per line, up to five.") }),
      box, el("p", { class: "control__row" }, [save, state]),
    ]);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const lessons = box.value.split("\n").map((line) => line.trim()).filter(Boolean);
      if (!lessons.length || lessons.length > MAX_POINTS) { say(t("One lesson per line, up to five.")); return; }
      const record = records.get(duo.key);
      const ack = await emit("duo.lessons", { duo: duo.key, lessons, rev: record ? record.rev : 0 });
      const current = ack.ok ? ack.record : ack.error && ack.error.record;
      if (current) { records.set(duo.key, current); if (!ack.ok) box.value = current.data.lessons.join("\n"); }
      state.textContent = ack.ok ? t("Saved.") : "";
    });
    return form;
  }

  const editors = new Map(duos.map((duo) => [duo.key, editor(duo)]));
  root.classList.add("qa-console-view");
  root.prepend(panel.node, el("section", { class: "panel duo-lessons", "aria-labelledby": "duo-lessons-title" }, [
    el("h2", { class: "panel__title", id: "duo-lessons-title", text: t("Key lessons of each duo") }),
    ...editors.values(),
  ]));

  async function load() {
    const ack = await emit("duo.overview", {}).catch(() => null);
    if (!ack || !ack.ok) return;
    for (const duo of ack.duos || []) {
      records.set(duo.key, duo.lessons || null);
      const box = editors.get(duo.key)?.querySelector("textarea");
      if (box && duo.lessons && !box.value) box.value = duo.lessons.data.lessons.join("\n");
    }
  }
  load();
  return { render: panel.render };
}
