// The fishbowl on a phone: how many of this person's ideas are in the bowl, as the server counted them on joining.

export function mount(ctx) {
  const { t, root } = ctx;
  const line = root.querySelector("#fishbowl-phone");
  line.textContent = t("No ideas yet.");
  return {
    joined(ack) {
      line.textContent = ack.posts.length ? t("%(count)s ideas", { count: ack.posts.length }) : t("No ideas yet.");
    },
  };
}
