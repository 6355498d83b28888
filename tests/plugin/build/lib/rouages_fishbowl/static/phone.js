// The fishbowl on a phone: the bowl speaks of one thing at a time (the first item of its first required framework,
// preset in the core's form), and how many of this person's ideas are in it, as the server counted them on joining.

export function mount(ctx) {
  const { t, root, session, form } = ctx;
  const line = root.querySelector("#fishbowl-phone");
  const framework = session.frameworks.find((candidate) => candidate.required);
  if (framework) form.setTags({ [framework.key]: framework.items[0].key });
  line.textContent = t("No ideas yet.");
  return {
    joined(ack) {
      line.textContent = ack.posts.length ? t("%(count)s ideas", { count: ack.posts.length }) : t("No ideas yet.");
    },
  };
}
