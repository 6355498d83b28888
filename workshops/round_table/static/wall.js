// The round table on the wall: the speakers along the top (from the partial), then the spotlighted question large
// and the room's questions most upvoted first, each with whom it is for.
import { followQuestions, questionWall } from "../../static/js/questions.js";

export function mount(ctx) {
  const { session, root, t, el, board } = ctx;
  const speakers = (session.frameworks.find((framework) => framework.key === "speaker") || { items: [] }).items;
  const addressed = (post) => speakers.find((speaker) => speaker.key === post.tags.speaker)?.label || null;
  const people = root.querySelector(".rt-speakers");
  const wall = questionWall(ctx, { tag: (post) => addressed(post) && t("For %(name)s", { name: addressed(post) }) });
  root.classList.add("rt-wall");
  root.replaceChildren(...[people, wall.node].filter(Boolean));
  let last = null;
  const render = (state) => { last = state; wall.render(state); };
  followQuestions(board, () => { if (last) render({ ...last, posts: board.sorted() }); });
  void el;
  return { render };
}
