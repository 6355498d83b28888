// Follow a session's posts as a wall or console does: watch, resync after a disconnect, apply hides and restores.
import { Socket } from "./socket.js";

const GAP_RESYNC_MS = 2000;

// The highest number up to which everything has been received. Posts and hides from concurrent workers can
// arrive out of order, so a resync asks from the first gap, never from the highest number seen.
class Cursor {
  constructor() {
    this.value = 0;
    this.ahead = new Set();
  }

  // Note `n` as received; with `upTo`, the server says everything up to `n` was sent.
  seen(n, upTo = false) {
    if (n <= this.value) return;
    if (upTo) this.value = n; else this.ahead.add(n);
    for (const done of this.ahead) if (done <= this.value) this.ahead.delete(done);
    while (this.ahead.delete(this.value + 1)) this.value += 1;
  }

  get gap() {
    return this.ahead.size > 0;
  }
}

export class Board {
  constructor(code, { onChange, onSession, onTimer, onStatus, onPhase, onVote, onHarvest, onPlan } = {}) {
    this.code = code;
    this.posts = new Map();
    this.harvest = {};
    this.seq = new Cursor();
    this.rev = new Cursor();
    this.resync = null;
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
    const ack = await this.socket.emit("watch", { code: this.code, since: this.seq.value, rev: this.rev.value });
    if (!ack.ok) { this.onStatus("error", ack.error); return; }
    for (const post of ack.posts) this.upsert(post);
    for (const post of ack.changed) post.hidden && !post.text ? this.hide(post) : this.upsert(post);
    this.seq.seen(ack.session.seq, true);
    this.rev.seen(ack.session.rev, true);
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

  // A gap that a late message does not fill within a while (a worker died, a message was lost): resync.
  received(post) {
    this.seq.seen(post.seq);
    this.rev.seen(post.rev);
    if ((this.seq.gap || this.rev.gap) && this.resync === null) {
      this.resync = setTimeout(() => {
        this.resync = null;
        if ((this.seq.gap || this.rev.gap) && this.socket.connected) this.watch();
      }, GAP_RESYNC_MS);
    }
  }

  upsert(post) {
    this.received(post);
    this.posts.set(post.id, post);
    return true;
  }

  hide(info) {
    this.received(info);
    const post = this.posts.get(info.id);
    if (post) post.hidden = true;
    return true;
  }

  sorted({ includeHidden = false } = {}) {
    return [...this.posts.values()].filter((post) => includeHidden || !post.hidden).sort((a, b) => b.seq - a.seq);
  }
}
