// The duo on the wall: the duo on now (the step's, or the table's in parallel rooms) with its presenters, its
// spotlighted question large, the questions most upvoted first, and what the room takes away beside them. Between
// duos (welcome, the end, or the session's own wall while duos run in parallel), each duo's top questions side by side.
import { followQuestions, questionWall } from "../../static/js/questions.js";
import { currentDuo, frameworks, isQuestion, isTakeaway } from "./common.js";

export function mount(ctx) {
  const { session, root, t, el, board } = ctx;
  const { duos } = frameworks(session);
  const table = ctx.table || session.table || null;
  // The presenters come from the partial, drawn on the server from the event file; the module moves them.
  const heads = new Map([...root.querySelectorAll("[data-duo-head]")].map((node) => [node.dataset.duoHead, node]));
  const inDuo = (key) => (post) => post.tags.duo === key;
  const lists = new Map(duos.map((duo) => [duo.key, {
    questions: questionWall(ctx, { scope: duo.key, filter: (post) => inDuo(duo.key)(post) && isQuestion(post),
      title: t("Questions") }),
    takeaways: questionWall(ctx, { spotlight: false, filter: (post) => inDuo(duo.key)(post) && isTakeaway(post),
      title: t("What the room takes away"), empty: t("Nothing yet: share what you take away from your phone."),
      more: (count) => t("+ %(count)s more takeaways", { count }), asked: (count) => t("said %(count)s times", { count }) }),
    overview: questionWall(ctx, { scope: duo.key, compact: true, title: duo.label,
      filter: (post) => inDuo(duo.key)(post) && isQuestion(post) }),
  }]));

  root.classList.add("duo-wall");
  const one = el("section", { class: "duo-one" });
  const all = el("div", { class: "duo-all" }, duos.map((duo) => lists.get(duo.key).overview.node));
  all.style.setProperty("--duos", Math.max(duos.length, 1));
  root.replaceChildren(one, all);

  let shownDuo = undefined;
  let last = null;

  function show(key) {
    if (key === shownDuo) return;
    shownDuo = key;
    one.hidden = !key;
    all.hidden = Boolean(key);
    if (!key) return;
    const mine = lists.get(key);
    one.setAttribute("aria-label", duos.find((duo) => duo.key === key)?.label || "");
    one.replaceChildren(heads.get(key) || el("h2", { class: "duo-head__title", text: duos.find((duo) => duo.key === key)?.label || "" }),
      el("div", { class: "duo-one__body" }, [mine.questions.node, mine.takeaways.node]));
  }

  function render(state) {
    last = state;
    const key = currentDuo(session, state.phase, table);
    show(lists.has(key) ? key : null);
    if (shownDuo) {
      const mine = lists.get(shownDuo);
      mine.questions.render(state);
      mine.takeaways.render(state);
    } else {
      for (const duo of duos) lists.get(duo.key).overview.render(state);
    }
  }

  followQuestions(board, () => { if (last) render({ ...last, posts: board.sorted().filter(ctx.atTable) }); });
  return { render };
}
