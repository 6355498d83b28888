// Follow a session's posts as a wall or console does: watch, resync after a disconnect, apply hides and restores.
import { Socket } from "./socket.js";

export class Board {
  constructor(code, { onChange, onSession, onTimer, onStatus, onPhase, onVote, onHarvest, onPlan } = {}) {
    this.code = code;
    this.posts = new Map();
    this.harvest = {};
    // Every post up to `since` has been received; `ahead` holds those received past a gap. Posts from
    // concurrent workers can arrive out of order, so a resync asks from the gap, never from the highest seq.
    this.since = 0;
    this.ahead = new Set();
    this.rev = 0;
    this.onChange = onChange || (() => {});
    this.onSession = onSession || (() => {});
    this.onTimer = onTimer || (() => {});
    this.onStatus = onStatus || (() => {});
    this.onPhase = onPhase || (() => {});
    this.onVote = onVote || (() => {});
    this.onHarvest = onHarvest || (() => {});
    this.onPlan = onPlan || (() => {});
    this.socket = new Socket();
    this.socket.on("plan", (state) => this.mine(state) && this.onPlan(state.plan));
    this.socket.on("connect", () => this.watch());
    this.socket.on("disconnect", () => this.onStatus("offline"));
    this.socket.on("reconnecting", () => this.onStatus("offline"));
    this.socket.on("post", (post) => this.mine(post) && this.upsert(post) && this.onChange());
    this.socket.on("post_restored", (post) => this.mine(post) && this.upsert(post) && this.onChange());
    this.socket.on("post_hidden", (info) => this.mine(info) && this.hide(info) && this.onChange());
    this.socket.on("session_state", (state) => this.mine(state) && this.onSession(state));
    this.socket.on("timer", (timer) => this.mine(timer) && this.onTimer(timer));
    this.socket.on("vote_state", (vote) => this.mine(vote) && this.onVote(vote));
    this.socket.on("harvest", (entry) => {
      if (!this.mine(entry)) return;
      (this.harvest[entry.table] ||= {})[entry.category] = entry.text;
      this.onHarvest(this.harvest);
    });
    this.socket.on("phase", (state) => {
      if (!this.mine(state)) return;
      this.onPhase(state.phase);
      this.onSession({ code: state.code, is_open: state.is_open });
      this.onTimer(state.timer);
    });
  }

  mine(payload) {
    return payload && payload.code === this.code;
  }

  start() {
    this.socket.open();
    return this;
  }

  emit(event, data) {
    return this.socket.emit(event, { code: this.code, ...data });
  }

  async watch() {
    const ack = await this.socket.emit("watch", { code: this.code, since: this.since, rev: this.rev });
    if (!ack.ok) { this.onStatus("error", ack.error); return; }
    for (const post of ack.posts) this.upsert(post);
    for (const post of ack.changed) post.hidden && !post.text ? this.hide(post) : this.upsert(post);
    this.rev = Math.max(this.rev, ack.session.rev);
    this.seen(ack.session.seq, true);
    this.onSession(ack.session);
    this.onPhase(ack.session.phase);
    this.onVote(ack.vote);
    this.harvest = ack.harvest;
    this.onPlan(ack.plan);
    this.onHarvest(this.harvest);
    this.onTimer(ack.session.timer);
    this.onStatus("online");
    this.onChange();
  }

  // Note sequence number `seq` as received; `upTo` when the server says everything before it was sent.
  seen(seq, upTo = false) {
    if (seq <= this.since) return;
    if (upTo) this.since = seq; else this.ahead.add(seq);
    for (const done of this.ahead) if (done <= this.since) this.ahead.delete(done);
    while (this.ahead.delete(this.since + 1)) this.since += 1;
  }

  upsert(post) {
    this.seen(post.seq);
    this.rev = Math.max(this.rev, post.rev);
    this.posts.set(post.id, post);
    return true;
  }

  hide(info) {
    this.seen(info.seq);
    this.rev = Math.max(this.rev, info.rev);
    const post = this.posts.get(info.id);
    if (post) post.hidden = true;
    return true;
  }

  sorted({ includeHidden = false } = {}) {
    return [...this.posts.values()].filter((post) => includeHidden || !post.hidden).sort((a, b) => b.seq - a.seq);
  }
}
