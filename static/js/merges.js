// Merged duplicates: the « +N » group shown on a kept idea, and applying a merge or its undoing to a list of posts.
import { el, formatNumber, t } from "./page.js";

// The ideas merged into `post`, as « +N » that opens on their texts; `action(entry)` may add a button to each.
export function mergedGroup(post, { open = false, action = null } = {}) {
  const merged = post.merged || [];
  if (!merged.length) return null;
  return el("details", { class: "merged", open }, [
    el("summary", { class: "merged__count", title: t("Ideas merged into this one"),
      text: `+${formatNumber(merged.length)}` }),
    el("ul", { class: "merged__list" }, merged.map((entry) => el("li", { class: "merged__item" }, [
      el("span", { class: "merged__text", text: entry.text }),
      action ? action(entry) : null,
    ]))),
  ]);
}

// Apply a `post_merged` or `post_unmerged` broadcast to a Map of posts by id: both posts come whole.
export function applyMerge(posts, change, keep = () => true) {
  for (const post of [change.post, change.into]) if (keep(post)) posts.set(post.id, post);
}
