// The round table on a phone: the core's form takes the question (and, if the person wants, the speaker it is
// for); below it, the room's questions to upvote, most upvoted first or newest first.
import { questionPhone } from "../../static/js/questions.js";

export function mount(ctx) {
  const { session, root, t, form } = ctx;
  const speakers = (session.frameworks.find((framework) => framework.key === "speaker") || { items: [] }).items;
  const addressed = (post) => speakers.find((speaker) => speaker.key === post.tags.speaker)?.label || null;
  const list = questionPhone(ctx, { title: t("Questions from the room"), tag: (post) => addressed(post) &&
    t("For %(name)s", { name: addressed(post) }) });
  root.replaceChildren(list.node);
  form.element.after(root);
  return {
    joined: (ack) => list.joined(ack),
    posted: (post) => list.posted(post),
    options: () => list.options(),
    identity: () => list.identity(),
  };
}
