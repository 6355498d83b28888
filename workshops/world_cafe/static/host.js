// A table host's page: the table's ideas from every round, live, with duplicates merged in two taps, and the harvest
// saved as it is written.

export function mount(ctx) {
  const { host, root, socket, t, el, mergedGroup, applyMerge } = ctx;
  const list = root.querySelector("#table-posts");
  const count = root.querySelector("#table-count");
  const mergeHint = root.querySelector("#merge-hint");
  const posts = new Map();
  let merging = null;

  const atTable = (post) => Object.entries(host.tags).every(([key, value]) => post.tags[key] === value);

  // Merging a duplicate takes two taps: « Doublon » on the duplicate, then « Garder celle-ci » on the idea to keep.
  async function merge(into) {
    const ack = await socket.emit("host_merge", { token: host.token, post_id: merging, into }).catch(() => null);
    mergeHint.textContent = ack && !ack.ok ? ack.error.message : "";
    merging = null;
    render();
  }

  function actionFor(post) {
    let button;
    if (merging === null) {
      button = el("button", { type: "button", class: "button button--small", text: t("Duplicate") });
      button.addEventListener("click", () => { merging = post.id; render(); });
    } else if (merging === post.id) {
      button = el("button", { type: "button", class: "button button--small", text: t("Cancel") });
      button.addEventListener("click", () => { merging = null; render(); });
    } else {
      button = el("button", { type: "button", class: "button button--small button--primary", text: t("Keep this one") });
      button.addEventListener("click", () => merge(post.id));
    }
    return button;
  }

  // A merge made at this table can be undone here; one an organiser made, only from the console.
  function undoFor(entry) {
    if (entry.table !== host.table) return null;
    const button = el("button", { type: "button", class: "button button--small", text: t("Undo merge") });
    button.addEventListener("click", async () => {
      const ack = await socket.emit("host_unmerge", { token: host.token, post_id: entry.id }).catch(() => null);
      mergeHint.textContent = !ack ? t("Not connected: try again in a moment.") : ack.ok ? "" : ack.error.message;
    });
    return button;
  }

  function render() {
    const shown = [...posts.values()].filter((post) => !post.hidden).sort((a, b) => b.seq - a.seq);
    count.textContent = String(shown.length);
    if (merging !== null) mergeHint.textContent = t("Tap “Keep this one” on the idea that stays.");
    list.replaceChildren(...shown.map((post) => el("li", { class: `mine host-post${merging === post.id ? " host-post--merging" : ""}` }, [
      el("p", { class: "mine__text", text: post.text }),
      el("p", { class: "mine__meta" }, [post.author ? el("span", { text: post.author }) : null, actionFor(post)]),
      mergedGroup(post, { action: undoFor }),
    ])));
  }

  async function save(textarea) {
    const state = root.querySelector(`[data-state-for="${textarea.dataset.category}"]`);
    try {
      const ack = await socket.emit("harvest_save", { token: host.token, category: textarea.dataset.category,
        text: textarea.value });
      state.textContent = ack.ok ? t("Saved") : ack.error.message;
    } catch {
      state.textContent = t("Not connected: try again in a moment.");
    }
  }

  socket.on("post", (post) => { if (post.code === host.code && atTable(post)) { posts.set(post.id, post); render(); } });
  socket.on("post_restored", (post) => { if (posts.has(post.id)) { posts.set(post.id, post); render(); } });
  socket.on("post_hidden", (info) => { if (posts.has(info.id)) { posts.get(info.id).hidden = true; render(); } });
  for (const name of ["post_merged", "post_unmerged"]) {
    socket.on(name, (change) => {
      if (change.code === host.code) { applyMerge(posts, change, atTable); render(); }
    });
  }
  for (const textarea of root.querySelectorAll("[data-category]")) {
    textarea.addEventListener("change", () => save(textarea));
  }

  return {
    joined(ack) {
      posts.clear();
      for (const post of ack.posts) posts.set(post.id, post);
      render();
    },
  };
}
