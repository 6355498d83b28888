// The console's « Synthèse » panel: the groups of ideas as the booklet prints them, edited before the booklet
// (rename, move, merge, split), the organiser's pending suggestions, and the session's « À retenir » text.
import { el, formatNumber, t } from "./page.js";

const REFRESH_MS = 1500; // ideas arrive in bursts at the end of a round: one read of the groups per burst
const OPTION_CHARS = 70;

function short(text) {
  return text.length > OPTION_CHARS ? `${text.slice(0, OPTION_CHARS - 1)}…` : text;
}

// Mount the panel in `root` (a <details>): it reads the groups only while open, so a live round pays nothing for it.
export function mount({ root, board }) {
  const sectionsNode = root.querySelector("#synthesis-sections");
  const suggestionsNode = root.querySelector("#synthesis-suggestions");
  const status = root.querySelector("#synthesis-status");
  let data = null; // the groups on screen
  let waiting = null; // groups read while the organiser was editing, shown once they are done
  let suggestions = [];
  let timer = null;
  let reading = null;
  let focusAfter = null; // what takes the focus once the groups are drawn again after an edit
  const openGroups = new Set(); // ideas whose group's member list is open
  let uid = 0;

  function say(message, error = false) {
    status.textContent = message;
    status.classList.toggle("synthesis__status--error", error);
  }

  async function call(event, payload) {
    try {
      await board.ready();
      return await board.emit(event, payload);
    } catch {
      return { ok: false, error: { message: t("Not connected: try again in a moment.") } };
    }
  }

  // The organiser is in the middle of something: a title being typed, ideas ticked to split, a list being chosen.
  function editing() {
    if (sectionsNode.querySelector(".synthesis-rename:not([hidden])")) return true;
    if (sectionsNode.querySelector("input[type=checkbox]:checked")) return true;
    const active = document.activeElement;
    return active !== null && sectionsNode.contains(active) && active.matches("input, select, textarea");
  }

  // Read the groups and the suggestions again; draw them now, or once the organiser's edit is over.
  async function refresh({ force = false } = {}) {
    clearTimeout(timer);
    timer = null;
    if (!root.open) return;
    if (reading) { await reading; }
    reading = (async () => {
      const [groups, suggested] = await Promise.all([call("groups", {}), call("group_suggestions", {})]);
      if (!groups.ok) { say(groups.error.message, true); return; }
      if (suggested.ok) { suggestions = suggested.suggestions; drawSuggestions(); }
      if (!force && editing()) {
        waiting = groups;
        say(t("The groups changed: they will be shown when you finish this edit."));
        return;
      }
      draw(groups);
    })();
    try { await reading; } finally { reading = null; }
  }

  function later() {
    if (!root.open) return;
    clearTimeout(timer);
    timer = setTimeout(() => refresh(), REFRESH_MS);
  }

  // Groups read during an edit are drawn as soon as it ends.
  function settle() {
    setTimeout(() => {
      if (waiting && !editing()) {
        const groups = waiting;
        waiting = null;
        say("");
        draw(groups);
      }
    });
  }

  function groupOf(postId) {
    return sectionsNode.querySelector(`[data-members~="${postId}"]`);
  }

  function draw(groups) {
    data = groups;
    waiting = null;
    // A list chosen but not yet applied is kept, when what it chose is still there.
    const chosen = new Map([...sectionsNode.querySelectorAll("select[data-keep]")]
      .filter((select) => select.selectedIndex > 0).map((select) => [select.dataset.keep, select.value]));
    // A redraw the organiser did not ask for leaves the focus on the same control of the same group.
    const active = document.activeElement;
    if (!focusAfter && active && sectionsNode.contains(active) && active.closest("[data-members]")) {
      const post = active.closest("[data-members]").dataset.members.split(" ")[0];
      const role = active.dataset.role || null;
      focusAfter = () => byPost(post, role);
    }
    for (const details of sectionsNode.querySelectorAll(".synthesis-group__members")) {
      const ids = details.closest("[data-members]").dataset.members.split(" ");
      for (const id of ids) if (details.open) openGroups.add(id); else openGroups.delete(id);
    }
    sectionsNode.replaceChildren(...(groups.sections.length ? groups.sections.map(drawSection)
      : [el("p", { class: "hint", text: t("No ideas yet.") })]));
    for (const [key, value] of chosen) {
      const select = sectionsNode.querySelector(`select[data-keep="${key}"]`);
      if (select && [...select.options].some((option) => option.value === value)) select.value = value;
    }
    if (focusAfter) {
      const target = focusAfter();
      focusAfter = null;
      if (target) target.focus();
    }
  }

  function drawSection(section) {
    const id = `synthesis-section-${uid += 1}`;
    return el("section", { class: "synthesis-section", "aria-labelledby": id }, [
      el("h3", { id, class: "synthesis-section__title", text: section.label || t("Ideas") }),
      section.key_phrases.length ? el("p", { class: "synthesis-section__phrases" }, [
        el("span", { class: "synthesis-section__phrases-label", text: t("Key phrases:") }),
        ...section.key_phrases.map((phrase) => el("span", { class: "tag", text: phrase }))]) : null,
      el("ol", { class: "synthesis-groups" }, section.groups.map((group) => drawGroup(group, section))),
    ]);
  }

  function drawGroup(group, section) {
    const others = section.groups.filter((other) => other.id !== group.id);
    const ids = group.members.map((member) => String(member.id));
    const textId = `synthesis-group-${uid += 1}`;
    const item = el("li", { class: "synthesis-group", dataset: { members: ids.join(" "), group: group.id } }, [
      el("p", { class: "synthesis-group__head" }, [
        el("span", { class: "synthesis-group__text", id: textId, tabindex: "-1", text: group.text }),
        group.size > 1 ? el("span", { class: "synthesis-group__size", text: `×${formatNumber(group.size)}`,
          title: t("%(count)s ideas", { count: group.size }) }) : null,
        group.dots ? el("span", { class: "synthesis-group__dots", text: t("%(count)s dots", { count: group.dots }) })
          : null,
        group.title ? el("span", { class: "synthesis-group__titled", text: t("Renamed") }) : null,
      ]),
    ]);
    item.append(el("div", { class: "synthesis-group__tools" }, [...renameTools(group, textId),
      ...(others.length ? mergeTools(group, others, textId) : [])]));
    item.append(memberList(group, others, textId));
    return item;
  }

  function renameTools(group, textId) {
    const fieldId = `synthesis-title-${uid += 1}`;
    const open = el("button", { type: "button", class: "button button--small", "aria-describedby": textId,
      "aria-expanded": "false", dataset: { role: "rename" }, text: t("Rename") });
    const input = el("input", { id: fieldId, type: "text", maxlength: "300", value: group.title || group.text,
      "aria-describedby": `${fieldId}-hint` });
    const form = el("form", { class: "synthesis-rename", hidden: true }, [
      el("label", { for: fieldId, text: t("Title of the group") }), input,
      el("button", { type: "submit", class: "button button--small button--primary", text: t("Save") }),
      el("button", { type: "button", class: "button button--small", dataset: { cancel: "" }, text: t("Cancel") }),
      el("p", { class: "hint", id: `${fieldId}-hint`,
        text: t("Empty: the group shows the text of its main idea again.") }),
    ]);
    const close = () => {
      form.hidden = true;
      open.setAttribute("aria-expanded", "false");
      open.focus();
      settle();
    };
    open.addEventListener("click", () => {
      form.hidden = false;
      open.setAttribute("aria-expanded", "true");
      input.focus();
      input.select();
    });
    form.querySelector("[data-cancel]").addEventListener("click", close);
    form.addEventListener("keydown", (event) => { if (event.key === "Escape") close(); });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const title = input.value.trim() === group.text && !group.title ? "" : input.value;
      await edit("group_rename", { post_id: group.id, title }, () => byPost(group.id, "rename"),
        () => { form.hidden = true; });
    });
    return [open, form];
  }

  function groupChoices(groups) {
    return groups.map((other) => el("option", { value: String(other.id), text: short(other.text) }));
  }

  function mergeTools(group, others, textId) {
    const fieldId = `synthesis-merge-${uid += 1}`;
    const select = el("select", { id: fieldId, dataset: { keep: `merge:${group.id}`, role: "merge" } }, [
      el("option", { value: "", text: t("Choose a group") }), ...groupChoices(others)]);
    const button = el("button", { type: "button", class: "button button--small", "aria-describedby": textId,
      dataset: { role: "merge-button" }, text: t("Merge") });
    button.addEventListener("click", async () => {
      if (!select.value) { say(t("Choose the group to merge with."), true); select.focus(); return; }
      await edit("group_merge", { post_id: group.id, other_id: Number(select.value) },
        () => byPost(group.id, "merge") || byPost(group.id));
    });
    select.addEventListener("blur", settle);
    return [el("label", { for: fieldId, class: "synthesis-group__merge", text: t("Merge with") }), select, button];
  }

  function memberList(group, others, textId) {
    const details = el("details", { class: "synthesis-group__members",
      open: group.members.some((member) => openGroups.has(String(member.id))) }, [
      el("summary", { "aria-describedby": textId, dataset: { role: "members" },
        text: t("%(count)s ideas", { count: group.members.length }) }),
    ]);
    const list = el("ul", { class: "synthesis-members" }, group.members.map((member) => {
      const box = `synthesis-pick-${uid += 1}`;
      const move = `synthesis-move-${uid += 1}`;
      const select = el("select", { id: move, dataset: { keep: `move:${member.id}`, role: `move-${member.id}` } }, [
        el("option", { value: "", text: t("Choose a group") }),
        ...groupChoices(others),
        group.members.length > 1 ? el("option", { value: "alone", text: t("On its own") }) : null]);
      const button = el("button", { type: "button", class: "button button--small", "aria-describedby": `${box}-text`,
        dataset: { role: `move-button-${member.id}` }, text: t("Move") });
      button.addEventListener("click", async () => {
        if (!select.value) { say(t("Choose where to move this idea."), true); select.focus(); return; }
        openGroups.add(String(member.id));
        await edit("group_move", { post_id: member.id, into: select.value === "alone" ? null : Number(select.value) },
          () => byPost(member.id, `move-${member.id}`));
      });
      select.addEventListener("blur", settle);
      const pick = group.members.length > 1 ? el("input", { type: "checkbox", id: box, value: String(member.id) })
        : null;
      if (pick) pick.addEventListener("change", settle);
      return el("li", { class: "synthesis-member" }, [
        el("p", { class: "synthesis-member__text" }, [
          pick,
          el(pick ? "label" : "span", { for: pick ? box : null, id: `${box}-text`, text: member.text }),
          member.merged.length ? el("span", { class: "synthesis-member__merged",
            title: member.merged.join(" · "), text: `+${formatNumber(member.merged.length)}` }) : null,
          member.dots ? el("span", { class: "synthesis-group__dots",
            text: t("%(count)s dots", { count: member.dots }) }) : null,
        ]),
        el("p", { class: "synthesis-member__move" }, [el("label", { for: move, text: t("Move to") }), select, button]),
      ]);
    }));
    details.append(list);
    if (group.members.length > 1) {
      const split = el("button", { type: "button", class: "button button--small", "aria-describedby": textId,
        dataset: { role: "split" }, text: t("Split") });
      split.addEventListener("click", async () => {
        const ids = [...list.querySelectorAll("input[type=checkbox]:checked")].map((box) => Number(box.value));
        if (!ids.length) { say(t("Tick the ideas to take out of this group."), true); return; }
        for (const id of ids) openGroups.add(String(id));
        await edit("group_split", { post_ids: ids }, () => byPost(ids[0]), () => {
          for (const box of list.querySelectorAll("input[type=checkbox]")) box.checked = false;
        });
      });
      details.append(el("p", { class: "control__row" }, [split,
        el("span", { class: "hint", text: t("Tick ideas, then split them into a group of their own.") })]));
    }
    return details;
  }

  // The element of the group now holding `postId` that takes the focus after an edit (its text, by default).
  function byPost(postId, role = null) {
    const group = groupOf(postId);
    if (!group) return null;
    return (role && group.querySelector(`[data-role="${role}"]`)) || group.querySelector(".synthesis-group__text");
  }

  // Send one edit; once acknowledged, read the groups again and put the focus back where the edit's outcome is.
  async function edit(event, payload, focus, done = null) {
    const ack = await call(event, payload);
    if (!ack.ok) { say(ack.error.message, true); return ack; }
    if (done) done();
    focusAfter = focus;
    await refresh({ force: true });
    say(t("Saved."));
    return ack;
  }

  // A redraw keeps the focus on the button in the same place of the list, or on the list's title.
  function drawSuggestions() {
    const buttons = () => [...suggestionsNode.querySelectorAll("button")];
    const focused = buttons().indexOf(document.activeElement);
    suggestionsNode.replaceChildren(...(suggestions.length ? suggestions.map(drawSuggestion)
      : [el("li", { class: "hint", text: t("No suggestion waiting.") })]));
    if (focused < 0) return;
    (buttons()[Math.min(focused, buttons().length - 1)] || root.querySelector("#suggestions-title")).focus();
  }

  function drawSuggestion(suggestion) {
    const textId = `synthesis-pair-${uid += 1}`;
    const answer = (same) => async () => {
      const ack = await call("group_answer", { post_id: suggestion.post.id, other_id: suggestion.other.id, same });
      if (!ack.ok) { say(ack.error.message, true); return; }
      drop(suggestion.post.id, suggestion.other.id);
      say(same ? t("Grouped as one idea.") : t("Kept as two ideas."));
      refresh({ force: true });
    };
    const same = el("button", { type: "button", class: "button button--small button--primary",
      "aria-describedby": textId, text: t("Same idea") });
    const different = el("button", { type: "button", class: "button button--small", "aria-describedby": textId,
      text: t("Different ideas") });
    same.addEventListener("click", answer(true));
    different.addEventListener("click", answer(false));
    return el("li", { class: "synthesis-suggestion" }, [
      el("p", { class: "synthesis-suggestion__pair", id: textId }, [
        el("span", { text: suggestion.post.text }), el("span", { class: "synthesis-suggestion__or", text: "/" }),
        el("span", { text: suggestion.other.text })]),
      el("p", { class: "control__row" }, [same, different]),
    ]);
  }

  function drop(postId, otherId) {
    const pair = (s) => Math.min(s.post.id, s.other.id) === Math.min(postId, otherId)
      && Math.max(s.post.id, s.other.id) === Math.max(postId, otherId);
    if (!suggestions.some(pair)) return;
    suggestions = suggestions.filter((s) => !pair(s));
    drawSuggestions();
  }

  root.querySelector("#suggestions-title").setAttribute("tabindex", "-1");
  board.follow("group_answered", (answer) => { drop(answer.post_id, answer.other_id); later(); });
  root.addEventListener("toggle", () => { if (root.open) refresh(); });
  root.querySelector("#synthesis-refresh").addEventListener("click", async () => {
    say(t("Reading the groups…"));
    await refresh({ force: true });
    if (!status.classList.contains("synthesis__status--error")) say(t("Groups up to date."));
  });
  sectionsNode.addEventListener("focusout", settle);
  retainBox(root.querySelector("#retain-form"));
  // The console calls `changed` on every change of the ideas (posts, hides, merges, votes).
  return { changed: later, refresh };
}

// The « À retenir » text goes through the booklet page's own form and version check, without leaving the console.
function retainBox(form) {
  const status = form.querySelector("#retain-status");
  const shown = form.querySelector("#retain-shown");
  const other = form.querySelector("#retain-other");
  const say = (message, error = false) => {
    status.textContent = message;
    status.classList.toggle("synthesis__status--error", error);
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    say(t("Saving…"));
    try {
      // Not `form.action`: the submit button named « action » shadows it.
      const response = await fetch(form.getAttribute("action"), { method: "POST",
        body: new FormData(form, event.submitter), headers: { Accept: "application/json" } });
      const answer = response.headers.get("Content-Type")?.startsWith("application/json") ? await response.json()
        : null;
      if (!answer) { say(t("Something went wrong on the server. Try again."), true); return; }
      const key = shown.name.slice("shown-".length);
      const stored = answer.texts[key];
      if (answer.ok) {
        shown.value = stored.version;
        other.hidden = true;
        say(t("Text saved."));
      } else {
        say(answer.error.message, true);
        if (answer.error.code === "text_conflict" && stored) {
          // Saving again keeps this page's text: it now knows the version it replaces.
          shown.value = stored.version;
          form.querySelector("#retain-stored").textContent = stored.body || t("(empty)");
          other.hidden = false;
          other.open = true;
        }
      }
    } catch {
      say(t("Not connected: try again in a moment."), true);
    } finally {
      button.disabled = false;
      button.focus(); // a disabled button loses the focus: give it back
    }
  });
}
