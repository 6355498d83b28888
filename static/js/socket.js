// A small Socket.IO v5 client over a native WebSocket (Engine.IO v4, WebSocket transport only).
// It covers what Rouages uses: the default namespace, events, acks, heartbeats and reconnection.

const EIO_OPEN = "0", EIO_CLOSE = "1", EIO_PING = "2", EIO_PONG = "3", EIO_MESSAGE = "4";
const SIO_CONNECT = "0", SIO_EVENT = "2", SIO_ACK = "3", SIO_CONNECT_ERROR = "4";
// How late a ping may be before the connection is said to be lost (the server's own delay, a slow network).
const STALL_MARGIN = 1500;
// When the server says that broadcasts may have been lost, each page asks again within this many ms, at random:
// a room's pages do not all ask in the same instant.
const RESYNC_SPREAD = 2000;

export class Socket {
  constructor({ path = "/socket.io/", ackTimeout = 10000 } = {}) {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    this.url = `${scheme}//${location.host}${path}?EIO=4&transport=websocket`;
    this.ackTimeout = ackTimeout;
    this.handlers = new Map();
    this.acks = new Map();
    this.nextAckId = 0;
    this.connected = false;
    this.attempts = 0;
    this.stopped = false;
    this.heartbeat = null;
    this.stall = null;
    this.stalled = false;
    this.retry = null;
    this.missed = new Set();
    this.resyncing = null;
    // The device itself lost its network: the connection is gone, whatever the socket still believes; and when
    // the network is back, try at once rather than at the end of the back-off.
    window.addEventListener("offline", () => { if (this.ws) this.ws.close(); });
    window.addEventListener("online", () => {
      if (this.connected || this.stopped || this.retry === null) return;
      clearTimeout(this.retry);
      this.retry = null;
      this.open();
    });
  }

  on(event, callback) {
    if (!this.handlers.has(event)) this.handlers.set(event, []);
    this.handlers.get(event).push(callback);
    return this;
  }

  fire(event, ...args) {
    for (const callback of this.handlers.get(event) || []) {
      try { callback(...args); } catch (error) { console.error(error); }
    }
  }

  open() {
    this.stopped = false;
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.onmessage = (message) => this.receive(String(message.data));
    ws.onclose = () => this.lost(ws);
    ws.onerror = () => ws.close();
    return this;
  }

  close() {
    this.stopped = true;
    if (this.ws) this.ws.close();
  }

  receive(data) {
    const type = data[0];
    if (type === EIO_OPEN) {
      const info = JSON.parse(data.slice(1));
      this.pingInterval = info.pingInterval;
      this.pingTimeout = info.pingTimeout;
      this.watchHeartbeat();
      this.ws.send(EIO_MESSAGE + SIO_CONNECT);
    } else if (type === EIO_PING) {
      this.watchHeartbeat();
      this.ws.send(EIO_PONG);
    } else if (type === EIO_CLOSE) {
      this.ws.close();
    } else if (type === EIO_MESSAGE) {
      this.packet(data.slice(1));
    }
  }

  packet(data) {
    const type = data[0];
    const match = /^(\d*)(.*)$/s.exec(data.slice(1));
    const id = match[1] === "" ? null : Number(match[1]);
    const payload = match[2] ? JSON.parse(match[2]) : undefined;
    if (type === SIO_CONNECT) {
      this.connected = true;
      this.attempts = 0;
      this.fire("connect");
    } else if (type === SIO_CONNECT_ERROR) {
      this.fire("connect_error", payload);
      this.ws.close();
    } else if (type === SIO_EVENT && Array.isArray(payload) && payload[0] === "resync") {
      this.resync();
    } else if (type === SIO_EVENT && Array.isArray(payload)) {
      for (const missed of this.missed) missed.push(payload);
      this.fire(payload[0], ...payload.slice(1));
    } else if (type === SIO_ACK && id !== null && this.acks.has(id)) {
      const { resolve, timer } = this.acks.get(id);
      clearTimeout(timer);
      this.acks.delete(id);
      resolve(Array.isArray(payload) ? payload[0] : payload);
    }
  }

  // Resolve with the server's ack; reject when not connected or when no ack comes within `timeout` ms.
  emit(event, data, timeout = this.ackTimeout) {
    return new Promise((resolve, reject) => {
      if (!this.connected) { reject(new Error("offline")); return; }
      const id = this.nextAckId++;
      const timer = setTimeout(() => { this.acks.delete(id); reject(new Error("timeout")); }, timeout);
      this.acks.set(id, { resolve, reject, timer });
      this.ws.send(EIO_MESSAGE + SIO_EVENT + id + JSON.stringify([event, data]));
    });
  }

  // Ask for a snapshot of the state (`join`, `watch`) and `apply` its ack. A broadcast that arrived while the
  // snapshot was being read may be newer than it: each is delivered again after `apply` (they are idempotent).
  async snapshot(event, data, apply, timeout = this.ackTimeout) {
    const missed = [];
    this.missed.add(missed);
    let ack;
    try {
      ack = await this.emit(event, data, timeout);
    } finally {
      this.missed.delete(missed);
    }
    try {
      return apply(ack);
    } finally {
      for (const payload of missed) this.fire(payload[0], ...payload.slice(1));
    }
  }

  // The workers' message queue was lost for a while: broadcasts meant for this page may be missing although its
  // connection held. The page catches up as after a reconnection, asking for what changed since its cursors.
  resync() {
    if (this.resyncing !== null) return;
    this.resyncing = setTimeout(() => {
      this.resyncing = null;
      if (this.connected) this.fire("connect");
    }, Math.random() * RESYNC_SPREAD);
  }

  // Drop the connection and open a new one: after a request that got no answer, a fresh start resyncs.
  reconnect() {
    if (this.ws && this.connected) this.ws.close();
  }

  // A silent server (Wi-Fi gone, laptop asleep) shows up as missing pings: a late ping fires "stalled" at once
  // (and "alive" if pings come back), and the connection is dropped and opened anew when Engine.IO would give up.
  watchHeartbeat() {
    clearTimeout(this.heartbeat);
    clearTimeout(this.stall);
    if (this.stalled) {
      this.stalled = false;
      this.fire("alive");
    }
    const interval = this.pingInterval || 25000, timeout = this.pingTimeout || 20000;
    this.stall = setTimeout(() => { this.stalled = true; this.fire("stalled"); }, interval + STALL_MARGIN);
    this.heartbeat = setTimeout(() => this.ws && this.ws.close(), interval + timeout + 2000);
  }

  lost(ws) {
    if (ws !== this.ws) return;
    clearTimeout(this.heartbeat);
    clearTimeout(this.stall);
    this.stalled = false;
    const wasConnected = this.connected;
    this.connected = false;
    for (const { reject, timer } of this.acks.values()) { clearTimeout(timer); reject(new Error("disconnected")); }
    this.acks.clear();
    if (wasConnected) this.fire("disconnect");
    if (this.stopped) return;
    this.attempts += 1;
    this.fire("reconnecting", this.attempts);
    const delay = Math.min(10000, 500 * 2 ** Math.min(this.attempts, 5)) * (0.75 + Math.random() / 2);
    this.retry = setTimeout(() => {
      this.retry = null;
      if (!this.stopped) this.open();
    }, delay);
  }
}

// State broadcasts (phase, countdown, posting open, vote, plan, format state) carry the session's state revision
// `srev`, and a snapshot's session carries the revision it was read at. A part of the state (`field`) is applied
// only from a message at least as recent as the last one applied to it: a late broadcast, delivered after a
// fresher snapshot or relayed out of order by another worker, is dropped.
export class Revisions {
  constructor() {
    this.floor = 0;
    this.applied = new Map();
  }

  // A snapshot read at revision `srev` holds every part of the state as of then.
  snapshot(srev) {
    if (Number.isInteger(srev) && srev > this.floor) this.floor = srev;
  }

  fresh(field, payload) {
    const srev = payload && payload.srev;
    if (!Number.isInteger(srev)) return true;
    if (srev < Math.max(this.floor, this.applied.get(field) || 0)) return false;
    this.applied.set(field, srev);
    return true;
  }
}
