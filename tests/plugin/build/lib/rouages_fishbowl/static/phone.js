// The fishbowl on a phone: how many ideas reached the bowl since the phone opened.

export function mount(ctx) {
  const { t, root, socket, session } = ctx;
  const line = root.querySelector("#fishbowl-phone");
  let count = 0;
  line.textContent = t("No ideas yet.");
  socket.on("post", (post) => {
    if (post.code !== session.code) return;
    count += 1;
    line.textContent = t("%(count)s ideas", { count });
  });
  return {};
}
