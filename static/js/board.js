// Follow a session's posts as a wall or console does: watch, resync after a disconnect, apply hides and restores.
import { Revisions, Socket } from "./socket.js";

const GAP_RESYNC_MS = 2000;

// The highest number up to which everything has been received. Posts and hides from concurrent workers can
// arrive out of order, so a resync asks from the first gap, never from the highest number seen.
export class Cursor {
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
  constructor(code, { onChange, onSession, onTimer, onStatus, onPhase, onVote, onHarvest, onPlan, onFormatState } = {}) {
    this.code = code;
    this.posts = new Map();
    this.harvest = {};
    this.seq = new Cursor();
    this.rev = new Cursor();
    this.resync = null;
    this.revisions = new Revisions();
    this.onChange = onChange || (() => {});
    this.onSession = onSession || (() => {});
    this.onTimer = onTimer || (() => {});
    this.onStatus = onStatus || (() => {});
    this.onPhase = onPhase || (() => {});
    this.onVote = onVote || (() => {});
    this.onHarvest = onHarvest || (() => {});
    this.onPlan = onPlan || (() => {});
    this.onFormatState = onFormatState || (() => {});
    this.online = false;
    this.waiting = []; // ready() callers, resolved when the board is next synced
    this.socket = new Socket();
    this.socket.on("connect", () => this.watch());
    this.socket.on("disconnect", () => this.status("offline"));
    this.socket.on("reconnecting", () => this.status("offline"));
    this.follow("plan", (state) => this.fresh("plan", state) && this.onPlan(state.plan));
    this.follow("format_state", (state) => this.fresh("state", state) && this.onFormatState(state.state));
    this.follow("post", (post) => this.upsert(post) && this.onChange());
    this.follow("post_restored", (post) => this.upsert(post) && this.onChange());
    this.follow("post_hidden", (info) => this.hide(info) && this.onChange());
    this.follow("post_merged", (change) => this.regroup(change) && this.onChange());
    this.follow("post_unmerged", (change) => this.regroup(change) && this.onChange());
    this.follow("session_state", (state) => this.fresh("open", state) && this.onSession(state));
    this.follow("timer", (timer) => this.fresh("timer", timer) && this.onTimer(timer));
    this.follow("vote_state", (vote) => this.fresh("vote", vote) && this.onVote(vote));
    this.follow("harvest", (entry) => {
      (this.harvest[entry.table] ||= {})[entry.category] = entry.text;
      this.onHarvest(this.harvest);
    });
    this.follow("phase", (state) => {
      if (this.fresh("phase", state)) this.onPhase(state.phase);
      if (this.fresh("open", state)) this.onSession({ code: state.code, is_open: state.is_open });
      if (this.fresh("timer", state)) this.onTimer(state.timer);
    });
  }

  status(state, error) {
    this.online = state === "online";
    if (this.online) for (const resolve of this.waiting.splice(0)) resolve();
    this.onStatus(state, error);
  }

  // Resolve once connected and synced, so that an action clicked while the page is still connecting is sent.
  ready(ms = 5000) {
    if (this.online) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiting.push(resolve);
      setTimeout(() => reject(new Error("offline")), ms);
    });
  }

  // Whether a broadcast's part of the state (`field`) is not older than what the board already shows.
  fresh(field, payload) {
    return this.revisions.fresh(field, payload);
  }

  // Apply this session's broadcasts of `event`.
  follow(event, apply) {
    this.socket.on(event, (payload) => this.mine(payload) && apply(payload));
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

  // Ask for what was missed since the cursors; a long answer comes in pages, each asked from the last one's end
  // with the revision the first page was read at, so that later pages carry only what changed meanwhile.
  watch(since = this.seq.value, rev = this.rev.value) {
    const cursors = { code: this.code, since, rev };
    return this.socket.snapshot("watch", cursors, (ack) => this.synced(ack, rev))
      .catch(() => this.socket.reconnect());
  }

  synced(ack, rev) {
    if (!ack.ok) { this.status("error", ack.error); return undefined; }
    for (const post of ack.posts) this.upsert(post);
    for (const post of ack.changed) post.hidden && !post.text ? this.hide(post) : this.upsert(post);
    if (ack.more) return this.watch(ack.next, Math.max(rev, ack.session.rev));
    this.seq.seen(ack.session.seq, true);
    this.rev.seen(ack.session.rev, true);
    this.revisions.snapshot(ack.session.srev);
    this.onSession(ack.session);
    this.onPhase(ack.session.phase);
    this.onVote(ack.vote);
    this.harvest = ack.harvest;
    this.onPlan(ack.plan);
    if (ack.state !== undefined) this.onFormatState(ack.state);
    this.onHarvest(this.harvest);
    this.onTimer(ack.session.timer);
    this.status("online");
    this.onChange();
    return undefined;
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

  // A merge or its undoing: both posts come whole (the duplicate, and the kept idea with its `merged` list).
  regroup(change) {
    this.upsert(change.post);
    this.upsert(change.into);
    return true;
  }

  sorted({ includeHidden = false } = {}) {
    return [...this.posts.values()].filter((post) => includeHidden || !post.hidden).sort((a, b) => b.seq - a.seq);
  }
}
