// Dot voting on the phone: spread a budget of dots over the session's ideas, move them until the vote closes.
// Hundreds of ideas are grouped by the session's first framework (a world café's table themes), in groups that
// fold, with a filter; the dots left stay on screen however far down the list the person is.
import { Cursor } from "./board.js";
import { mergedGroup } from "./merges.js";
import { el, readJSON, t } from "./page.js";

// Below this many ideas every group starts open; above it they start folded, so the list is a table of contents.
const OPEN_UP_TO = 20;

// Lower case without accents, so « creativite » finds « Créativité ».
function folded(text) {
  return text.normalize("NFD").replace(/\p{Diacritic}/gu, "").toLowerCase();
}

export class PhoneVote {
  constructor(socket, code, node) {
    this.socket = socket;
    this.code = code;
    this.node = node;
    this.list = node.querySelector("#vote-posts");
    this.left = node.querySelector("#vote-left");
    this.status = node.querySelector("#vote-status");
    this.search = node.querySelector("#vote-search");
    this.filters = node.querySelector("#vote-filters");
    this.mineButton = node.querySelector("#vote-mine");
    this.posts = new Map();
    // Up to which post number and revision the list is whole: a phone back from a lost connection asks only for
    // what changed since (usually nothing), not for the whole list again.
    this.seq = new Cursor();
    this.rev = new Cursor();
    this.dots = {};
    this.vote = { state: "none" };
    this.pending = false;
    this.onChange = null;
    this.openGroups = new Map(); // group key → open, as the person left it
    this.onlyMine = false;
    const session = readJSON("rouages-session");
    this.frameworks = session.frameworks;
    this.groupFramework = session.frameworks[0] || null;
    this.tables = session.tables;
    this.search.addEventListener("input", () => this.render());
    this.mineButton.addEventListener("click", () => {
      this.onlyMine = !this.onlyMine;
      this.render();
    });
  }

  // Called after each (re)join: the ideas are fetched anew if a vote runs.
  joined(ack) {
    this.dots = ack.dots || {};
    this.synced = false;
    this.setState(ack.session.vote);
    if (this.pending) this.send();
  }

  // Phones are sent new ideas only while a vote runs: the opening carries the list, and a phone that (re)joins
  // during a vote asks for what changed since its cursors, a page at a time (everything, the first time).
  async fetch() {
    this.synced = true;
    try {
      let since = this.seq.value, rev = this.rev.value;
      while (since !== null) {
        since = await this.socket.snapshot("watch", { code: this.code, since, rev }, (watched) => {
          if (!watched.ok) { this.synced = false; return null; }
          this.merge(watched.posts);
          for (const post of watched.changed || []) post.hidden ? this.removed(post.id, false) : this.merge([post]);
          this.vote = watched.vote;
          this.render();
          if (watched.more) {
            rev = Math.max(rev, watched.session.rev);
            return watched.next;
          }
          this.seq.seen(watched.session.seq, true);
          this.rev.seen(watched.session.rev, true);
          return null;
        });
      }
    } catch {
      this.synced = false; // the connection dropped again: the next join asks again from the cursors
    }
  }

  // Merged, not replaced: ideas broadcast while the list was on its way stay.
  merge(posts) {
    for (const post of posts) this.seen(post).posts.set(post.id, post);
  }

  // Note a post or change as received, for the cursors.
  seen(change) {
    this.seq.seen(change.seq);
    this.rev.seen(change.rev);
    return this;
  }

  added(post) {
    this.merge([post]);
    this.render();
  }

  // A kept idea gained or lost a merged one: redraw it with its « +N » if it is in the list.
  updated(post) {
    if (this.posts.has(post.id)) this.added(post);
  }

  removed(id, render = true) {
    this.posts.delete(id);
    delete this.dots[String(id)];
    if (render) this.render();
  }

  // A hide's broadcast: its revision counts for the cursors too.
  hidden(info) {
    this.seen(info).removed(info.id);
  }

  // The opening of a vote carries the whole list and the cursors it is whole up to.
  setState({ posts, seq, rev, ...vote }) {
    this.vote = vote;
    if (posts) {
      this.posts = new Map();
      this.merge(posts);
      if (Number.isInteger(seq)) this.seq.seen(seq, true);
      if (Number.isInteger(rev)) this.rev.seen(rev, true);
      this.synced = true;
    }
    if (vote.state === "none") this.synced = false;
    else if (!this.synced) this.fetch();
    this.render();
  }

  used() {
    return Object.values(this.dots).reduce((sum, n) => sum + n, 0);
  }

  // What the phone is for while a vote runs or shows its results, said where posting would be; null otherwise.
  purpose() {
    return {
      open: t("Time to vote: you have %(count)s dots to share out.", { count: this.vote.budget }),
      closed: t("The vote is closed: the results will appear here."),
      revealed: t("The results of the vote are below."),
    }[this.vote.state] || null;
  }

  change(id, delta) {
    const key = String(id);
    const next = (this.dots[key] || 0) + delta;
    if (next < 0 || next > this.vote.max_per_post || this.used() + delta > this.vote.budget) return;
    if (next) this.dots[key] = next; else delete this.dots[key];
    this.pending = true;
    this.render();
    this.send();
  }

  // The whole allocation is sent each time, so a resend after a lost ack can never count twice.
  async send() {
    const dots = { ...this.dots };
    try {
      const ack = await this.socket.emit("vote", { code: this.code, dots });
      if (JSON.stringify(dots) !== JSON.stringify(this.dots)) return;
      this.pending = false;
      this.status.textContent = ack.ok ? t("Your dots are saved.") : ack.error.message;
    } catch {
      this.status.textContent = t("Not connected: your dots will be sent when the connection returns.");
    }
  }

  // The groups in the framework's order, each with the tables that share its theme; ideas without one last.
  groups(posts) {
    const fw = this.groupFramework;
    if (!fw) return [{ key: "", label: t("Ideas"), tables: [], posts }];
    const groups = fw.items.map((item) => ({
      key: item.key, label: item.label, posts: [],
      tables: this.tables.filter((table) => table.tags[fw.key] === item.key && table.name !== item.label)
        .map((table) => table.name),
    }));
    const other = { key: "", label: t("Other"), tables: [], posts: [] };
    const byKey = new Map(groups.map((group) => [group.key, group]));
    for (const post of posts) (byKey.get(post.tags[fw.key]) || other).posts.push(post);
    return [...groups, other].filter((group) => group.posts.length);
  }

  tagLabels(post) {
    const labels = [];
    for (const framework of this.frameworks) {
      if (framework === this.groupFramework) continue; // the group's header names it
      const item = framework.items.find((candidate) => candidate.key === post.tags[framework.key]);
      if (item) labels.push(item.label);
    }
    return labels;
  }

  render() {
    const state = this.vote.state;
    this.node.hidden = state === "none";
    if (this.onChange) this.onChange();
    if (state === "none") return;
    // The list is rebuilt: keep the keyboard on the control it was on.
    const focused = this.list.contains(document.activeElement) ? document.activeElement.dataset.focus : null;
    this.list.replaceChildren();
    this.filters.hidden = state === "revealed";
    this.mineButton.hidden = state === "revealed";
    if (state === "revealed") {
      this.left.textContent = t("Results");
      const ranking = el("ol", { class: "vote__results" });
      for (const result of this.vote.results || []) {
        ranking.append(el("li", { class: "vote-post" }, [
          el("span", { class: "vote-post__rank", text: `${result.rank}.` }),
          el("p", { class: "vote-post__text", text: result.text }),
          el("span", { class: "vote-post__dots", text: t("%(count)s dots", { count: result.dots }) }),
        ]));
      }
      this.list.append(ranking);
      return;
    }
    const open = state === "open";
    this.left.textContent = open
      ? t("%(count)s dots left", { count: this.vote.budget - this.used() })
      : t("The vote is closed.");
    const voted = Object.keys(this.dots).filter((id) => this.posts.has(Number(id))).length;
    this.mineButton.textContent = t("My votes (%(count)s)", { count: voted });
    this.mineButton.setAttribute("aria-pressed", String(this.onlyMine));

    const query = folded(this.search.value.trim());
    const all = [...this.posts.values()].sort((a, b) => a.seq - b.seq);
    const filtering = Boolean(query) || this.onlyMine;
    const shown = all.filter((post) => (!this.onlyMine || this.dots[String(post.id)])
      && (!query || folded([post.text, ...this.tagLabels(post)].join(" ")).includes(query)));
    const groups = this.groups(shown);
    for (const group of groups) {
      if (!this.openGroups.has(group.key)) this.openGroups.set(group.key, all.length <= OPEN_UP_TO || groups.length === 1);
      const mine = group.posts.reduce((sum, post) => sum + (this.dots[String(post.id)] || 0), 0);
      const details = el("details", { class: "vote-group", open: filtering || this.openGroups.get(group.key),
        dataset: { group: group.key } }, [
        el("summary", { class: "vote-group__summary", dataset: { focus: `group-${group.key}` } }, [
          el("span", { class: "vote-group__label", text: group.label }),
          el("span", { class: "vote-group__count", text: String(group.posts.length) }),
          mine ? el("span", { class: "vote-group__mine", text: "●".repeat(mine) }) : null,
          group.tables.length ? el("span", { class: "vote-group__tables", text: group.tables.join(" · ") }) : null,
        ]),
        el("ol", { class: "vote-group__posts" }, group.posts.map((post) => this.row(post, open))),
      ]);
      // While a filter is on, the groups open to show what it found; folding is the person's choice otherwise.
      details.addEventListener("toggle", () => { if (!filtering) this.openGroups.set(group.key, details.open); });
      this.list.append(details);
    }
    if (!groups.length) {
      this.list.append(el("p", { class: "hint", text: all.length ? t("No idea matches.") : t("No ideas yet.") }));
    }
    if (focused) this.list.querySelector(`[data-focus="${focused}"]`)?.focus();
  }

  row(post, open) {
    const mine = this.dots[String(post.id)] || 0;
    const minus = el("button", { type: "button", class: "button button--small vote-post__button",
      "aria-label": t("Remove a dot"), text: "−", disabled: !open || mine === 0, dataset: { focus: `minus-${post.id}` } });
    const plus = el("button", { type: "button", class: "button button--small vote-post__button",
      "aria-label": t("Add a dot"), text: "+", dataset: { focus: `plus-${post.id}` },
      disabled: !open || mine >= this.vote.max_per_post || this.used() >= this.vote.budget });
    minus.addEventListener("click", () => this.change(post.id, -1));
    plus.addEventListener("click", () => this.change(post.id, 1));
    const tags = this.tagLabels(post);
    return el("li", { class: "vote-post", dataset: { post: post.id } }, [
      el("p", { class: "vote-post__text", text: post.text }),
      mergedGroup(post),
      el("p", { class: "vote-post__tags" }, tags.map((label) => el("span", { class: "tag", text: label }))),
      el("span", { class: "vote-post__controls" }, [
        minus, el("span", { class: "vote-post__mine", text: "●".repeat(mine) || "0" }), plus]),
    ]);
  }
}
