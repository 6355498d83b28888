// The duo on a phone: the core's form asks which duo and whether it is a takeaway or a question (the duo on now is
// chosen already, any other can be picked); below it, the chosen duo's questions and takeaways to upvote.
import { questionPhone } from "../../static/js/questions.js";
import { currentDuo, frameworks, DUO, KIND } from "./common.js";

export function mount(ctx) {
  const { session, root, t, form } = ctx;
  const { duos, kinds } = frameworks(session);
  const kindLabel = (post) => kinds.find((kind) => kind.key === post.tags[KIND])?.label || null;
  // The duo whose posts the list shows: the one chosen in the form, else the table's, else the step's.
  let preset = null;
  const chosenDuo = () => form.chosenTags()[DUO] || preset;
  const list = questionPhone(ctx, {
    title: t("Questions and takeaways"),
    filter: (post) => post.tags[DUO] === chosenDuo(),
    tag: kindLabel,
    empty: t("Nothing yet for this duo: ask a question or share what you take away."),
  });
  root.replaceChildren(list.node);
  // The list goes below the form: people write first, then read the room.
  form.element.after(root);

  function pick(key) {
    preset = key;
    const input = key && form.element.querySelector(`input[name="tag-${DUO}"][value="${CSS.escape(key)}"]`);
    if (input) input.checked = true;
    list.draw();
  }

  form.element.addEventListener("change", () => list.draw());
  return {
    phase(phase) {
      const key = currentDuo(session, phase, session.table);
      if (key && duos.some((duo) => duo.key === key)) pick(key);
    },
    joined: (ack) => list.joined(ack),
    posted: (post) => list.posted(post),
    options: () => list.options(),
    identity: () => list.identity(),
  };
}
