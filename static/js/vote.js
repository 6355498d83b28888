// Dot voting on the phone: spread a budget of dots over the session's ideas, move them until the vote closes.
import { el, t } from "./page.js";

export class PhoneVote {
  constructor(socket, code, node) {
    this.socket = socket;
    this.code = code;
    this.node = node;
    this.list = node.querySelector("#vote-posts");
    this.left = node.querySelector("#vote-left");
    this.status = node.querySelector("#vote-status");
    this.posts = new Map();
    this.dots = {};
    this.vote = { state: "none" };
    this.pending = false;
  }

  // Called after each (re)join: the ideas are fetched anew if a vote runs.
  joined(ack) {
    this.dots = ack.dots || {};
    this.synced = false;
    this.setState(ack.session.vote);
    if (this.pending) this.send();
  }

  // Phones are sent new ideas only while a vote runs: the opening carries the list, and a phone that (re)joins
  // during a vote fetches it, a page at a time.
  async fetch() {
    this.synced = true;
    try {
      let since = 0;
      while (since !== null) {
        since = await this.socket.snapshot("watch", { code: this.code, since }, (watched) => {
          if (!watched.ok) { this.synced = false; return null; }
          this.merge(watched.posts);
          this.vote = watched.vote;
          this.render();
          return watched.more ? watched.next : null;
        });
      }
    } catch {
      this.synced = false; // the connection dropped again: the next join fetches everything anew
    }
  }

  // Merged, not replaced: ideas broadcast while the list was on its way stay.
  merge(posts) {
    for (const post of posts) this.posts.set(post.id, post);
  }

  added(post) {
    this.posts.set(post.id, post);
    this.render();
  }

  removed(id) {
    this.posts.delete(id);
    delete this.dots[String(id)];
    this.render();
  }

  setState({ posts, ...vote }) {
    this.vote = vote;
    if (posts) {
      this.merge(posts);
      this.synced = true;
    }
    if (vote.state === "none") this.synced = false;
    else if (!this.synced) this.fetch();
    this.render();
  }

  used() {
    return Object.values(this.dots).reduce((sum, n) => sum + n, 0);
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

  render() {
    const state = this.vote.state;
    this.node.hidden = state === "none";
    if (state === "none") return;
    this.list.replaceChildren();
    if (state === "revealed") {
      this.left.textContent = t("Results");
      for (const result of this.vote.results || []) {
        this.list.append(el("li", { class: "vote-post" }, [
          el("span", { class: "vote-post__rank", text: `${result.rank}.` }),
          el("p", { class: "vote-post__text", text: result.text }),
          el("span", { class: "vote-post__dots", text: t("%(count)s dots", { count: result.dots }) }),
        ]));
      }
      return;
    }
    const open = state === "open";
    this.left.textContent = open
      ? t("%(count)s dots left", { count: this.vote.budget - this.used() })
      : t("The vote is closed.");
    for (const post of [...this.posts.values()].sort((a, b) => a.seq - b.seq)) {
      const mine = this.dots[String(post.id)] || 0;
      const minus = el("button", { type: "button", class: "button button--small", "aria-label": t("Remove a dot"),
        text: "−", disabled: !open || mine === 0 });
      const plus = el("button", { type: "button", class: "button button--small", "aria-label": t("Add a dot"),
        text: "+", disabled: !open || mine >= this.vote.max_per_post || this.used() >= this.vote.budget });
      minus.addEventListener("click", () => this.change(post.id, -1));
      plus.addEventListener("click", () => this.change(post.id, 1));
      this.list.append(el("li", { class: "vote-post" }, [
        el("p", { class: "vote-post__text", text: post.text }),
        el("span", { class: "vote-post__controls" }, [minus, el("span", { class: "vote-post__mine", text: "●".repeat(mine) || "0" }), plus]),
      ]));
    }
  }
}
