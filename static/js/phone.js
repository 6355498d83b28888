// The participant's phone: join, post with an outbox that survives reloads and bad Wi-Fi, follow the countdown.
import { Revisions, Socket } from "./socket.js";
import { Countdown, el, formatNumber, newId, phaseLabel, readJSON, t } from "./page.js";
import { PhoneVote } from "./vote.js";

const session = readJSON("rouages-session");
const code = session.code;
// Opening a table's card states « I am at this table » once per scan: a reload or a reconnection must not state it
// again in a later round (a scan opens a new tab, with its own sessionStorage).
const scanKey = `rouages.scanned.${session.table ? session.table.code : code}`;
let joinCode = session.table && !sessionStorage.getItem(scanKey) ? session.table.code : code;
const storeKey = (name) => `rouages.${name}.${session.event.slug}`;
const outboxKey = `rouages.outbox.${code}`;
const HTTP_FALLBACK_AFTER = 5000;

const form = document.getElementById("post-form");
const textarea = document.getElementById("post-text");
const counter = document.getElementById("post-count");
const formError = document.getElementById("post-error");
const status = document.getElementById("connection");
const closedBanner = document.getElementById("closed");
const list = document.getElementById("my-posts");
const nameInput = document.getElementById("participant-name");
const orgInput = document.getElementById("participant-organisation");
const countdown = new Countdown(document.getElementById("countdown"));
const phaseLine = document.getElementById("phase");
let participant = null;
// Where this person is, as the server's one rule says (sessions.seat_of): posts go to this table.
// Until the server says where the person is, a page opened from a table's card is at that table: an idea written
// before the join's answer (or offline) goes there, with the table's tags.
let seat = session.table ? { ...session.table, source: "card", planned: null, late: false } : null;
// Tags the format presets (and hides) in the form, on top of the seat's table's.
let presetTags = {};
// What the session's format adds to the phone (its module's hooks), once loaded.
let view = {};

let token = localStorage.getItem(storeKey("token")) || cookieToken();
let outbox = JSON.parse(localStorage.getItem(outboxKey) || "[]");
let delivered = new Map();
let joined = false;
let offlineSince = Date.now();
let connection = "offline";
// The opening of posting this phone last saw open: each idea carries it, so the server still stores one that
// reaches it shortly after the facilitator closes posting (see "Closing" in docs/protocol.md).
let opening = null;
const inflight = new Set();

function cookieToken() {
  const match = document.cookie.match(/(?:^|;\s*)rouages_participant=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : null;
}

function keepToken(value) {
  token = value;
  localStorage.setItem(storeKey("token"), value);
  document.cookie = `rouages_participant=${encodeURIComponent(value)}; path=/; max-age=${30 * 86400}; SameSite=Lax`;
}

function saveOutbox() {
  localStorage.setItem(outboxKey, JSON.stringify(outbox));
}

function identity() {
  return { name: nameInput.value.trim() || null, organisation: orgInput.value.trim() || null };
}

function setStatus(state) {
  connection = state;
  showStatus();
}

// The connection's state and, while some are not yet stored, how many ideas wait in the outbox.
function showStatus() {
  const waiting = outbox.filter((entry) => entry.state === "pending").length;
  status.dataset.state = connection;
  if (waiting && connection === "offline") {
    status.textContent = t("Offline: %(count)s ideas waiting to be sent", { count: waiting });
  } else if (waiting) {
    status.textContent = t("Connected: %(count)s ideas waiting to be sent", { count: waiting });
  } else {
    status.textContent = t({ online: "Connected", offline: "Offline: your ideas will be sent when the connection returns",
      http: "Connected (slow mode)" }[connection]);
  }
}

function showPhase(phase) {
  phaseLine.textContent = phase && session.phases.length > 1 ? phaseLabel(session, phase) : "";
  if (view.phase) view.phase(phase);
}

// The seat's table fixes some tags: those choices leave the form (a post through the table's code carries them).
function showTagChoices() {
  const fixed = { ...(seat ? seat.tags : {}), ...presetTags };
  for (const fieldset of form.querySelectorAll("fieldset.tags")) fieldset.hidden = fieldset.dataset.framework in fixed;
}

function setSeat(value) {
  seat = value || null;
  showTagChoices();
  if (view.seat) view.seat(seat);
}

async function refreshSeat(table) {
  if (!(socket.connected && joined)) return;
  const ack = await socket.emit("seat", table ? { code, table } : { code });
  if (ack.ok) setSeat(ack.seat);
}

let postingOpen = session.is_open;

function setOpen(isOpen, stamp) {
  postingOpen = isOpen;
  opening = isOpen ? stamp ?? null : null;
  showClosed();
  form.querySelector("button[type=submit]").disabled = !isOpen;
}

// While posting is closed the banner says what the phone is for now: the vote, when one runs.
function showClosed() {
  closedBanner.hidden = postingOpen || !session.posts;
  closedBanner.textContent = vote.purpose() || t("Posting is closed for this workshop.");
}

function render() {
  list.replaceChildren();
  const items = [...delivered.values()].sort((a, b) => b.seq - a.seq);
  const pending = outbox.filter((entry) => !delivered.has(entry.client_id));
  for (const entry of [...pending].reverse()) {
    list.append(entry.state === "refused" ? refusedCard(entry) : card(entry.text, entry.tags, entry.state));
  }
  for (const post of items) {
    list.append(post.kept ? mergedCard(post) : card(post.text, post.tags, post.held ? "held" : post.hidden ? "hidden" : "sent"));
  }
  document.getElementById("my-posts-empty").hidden = list.children.length > 0;
  showStatus();
}

function tagLabels(tags) {
  const labels = [];
  for (const framework of session.frameworks) {
    const item = framework.items.find((candidate) => candidate.key === tags[framework.key]);
    if (item) labels.push(item.label);
  }
  return labels;
}

function card(text, tags, state) {
  const stateText = { pending: t("Waiting to send…"), sent: t("Sent"), hidden: t("Hidden by the facilitators"),
    held: t("Waiting for approval") }[state];
  return el("li", { class: `mine mine--${state}` }, [
    el("p", { class: "mine__text", text }),
    el("p", { class: "mine__meta" }, [
      ...tagLabels(tags).map((label) => el("span", { class: "tag", text: label })),
      el("span", { class: "mine__state", text: stateText }),
    ]),
  ]);
}

// An idea of mine a host or an organiser grouped with a similar one: say so, and with which.
function mergedCard(post) {
  const node = card(post.text, post.tags, "merged");
  node.querySelector(".mine__state").textContent = t("Grouped");
  node.append(el("p", { class: "mine__kept", text: t("Grouped with a similar idea: “%(text)s”", { text: post.kept.text }) }));
  return node;
}

// A merge or its undoing: my own idea comes whole in `post`; the vote list drops or regains it.
function regroupMine(change, merged) {
  if (change.code !== code) return;
  for (const [clientId, post] of delivered) if (post.id === change.post.id) delivered.set(clientId, change.post);
  if (merged) vote.removed(change.post.id); else vote.added(change.post);
  vote.updated(change.into);
  render();
}

// An idea the server will never store stays on screen with the reason in words, until the person has kept its
// text (copied it) and removes it: nothing leaves the outbox unseen.
function refusedCard(entry) {
  const reason = entry.code === "session_closed"
    ? t("Not saved: this idea reached the server after posting closed.")
    : t("Not saved: %(reason)s", { reason: entry.error || t("Refused") });
  const copy = el("button", { type: "button", class: "button button--small", text: t("Copy the text") });
  const remove = el("button", { type: "button", class: "button button--small", text: t("Remove") });
  const done = el("span", { class: "mine__copied", role: "status" });
  copy.addEventListener("click", async () => {
    done.textContent = await copyText(entry.text) ? t("Copied.") : t("Select the text above to copy it.");
  });
  remove.addEventListener("click", () => {
    outbox = outbox.filter((candidate) => candidate.client_id !== entry.client_id);
    saveOutbox();
    render();
  });
  return el("li", { class: "mine mine--refused" }, [
    el("p", { class: "mine__text", text: entry.text }),
    el("p", { class: "mine__reason", text: `${reason} ${t("Copy it to keep it.")}` }),
    el("p", { class: "mine__meta" }, tagLabels(entry.tags).map((label) => el("span", { class: "tag", text: label }))),
    el("p", { class: "mine__actions" }, [copy, remove, done]),
  ]);
}

// The clipboard API needs a secure page (HTTPS); a room's server on a LAN address is not one: copy the old way.
async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = el("textarea", { class: "copy-source", readonly: true });
    area.value = text;
    document.body.append(area);
    area.select();
    area.setSelectionRange(0, text.length);
    const copied = document.execCommand("copy");
    area.remove();
    return copied;
  }
}

function accept(post) {
  delivered.set(post.client_id, post);
  outbox = outbox.filter((entry) => entry.client_id !== post.client_id);
  saveOutbox();
  if (view.posted) view.posted(post);
}

function refuse(entry, error) {
  entry.state = "refused";
  entry.code = error.code;
  entry.error = error.message;
  saveOutbox();
}

async function http(path, body, via = joinCode) {
  const response = await fetch(`/api/sessions/${via}/${path}`, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    credentials: "same-origin",
  });
  return response.json();
}

// Refusals that say "not now" rather than "never": the idea stays in the outbox and is sent again.
const RETRY = new Set(["not_joined", "internal_error", "too_many_posts", "storage_unavailable"]);

async function sendOne(entry) {
  const via = entry.code || code;
  const payload = { code: via, client_id: entry.client_id, text: entry.text, tags: entry.tags,
    opening: entry.opening ?? null, ...(entry.signed ? { signed: true } : {}) };
  let ack;
  if (socket.connected && joined) {
    ack = await socket.emit("post", payload);
  } else {
    if (!token) {
      const joinAck = await http("join", identity());
      if (!joinAck.ok) throw new Error(joinAck.error.message);
      keepToken(joinAck.participant.token);
    }
    ack = await http("posts", { ...payload, token }, via);
    if (ack.ok) setStatus("http");
  }
  if (ack.ok) accept(ack.post);
  else if (RETRY.has(ack.error.code)) throw new Error(ack.error.message);
  else refuse(entry, ack.error);
}

async function flush() {
  const useHttp = !socket.connected && Date.now() - offlineSince > HTTP_FALLBACK_AFTER;
  if (!(socket.connected && joined) && !useHttp) return;
  for (const entry of outbox.filter((candidate) => candidate.state === "pending")) {
    if (inflight.has(entry.client_id)) continue;
    inflight.add(entry.client_id);
    try {
      await sendOne(entry);
    } catch {
      // Not delivered: the entry stays pending and is sent again with the same id, so it is stored once.
      break;
    } finally {
      inflight.delete(entry.client_id);
    }
  }
  render();
}

function chosenTags() {
  const tags = { ...(seat ? seat.tags : {}), ...presetTags };
  for (const framework of session.frameworks.filter((fw) => !(fw.key in tags))) {
    const checked = form.querySelector(`input[name="tag-${framework.key}"]:checked`);
    if (checked) tags[framework.key] = checked.value;
  }
  return tags;
}

// An optional choice can always be undone: a clear button per group, or tapping (or Space on) the chosen tag again.
function showClearButtons() {
  for (const button of form.querySelectorAll(".tag-clear")) {
    button.hidden = !form.querySelector(`input[name="tag-${button.dataset.framework}"]:checked`);
  }
}

function clearChoice(frameworkKey) {
  for (const input of form.querySelectorAll(`input[name="tag-${frameworkKey}"]`)) input.checked = false;
  showClearButtons();
}

// After sending, the optional choices go back to none, so the next idea is not filed under this one's tags
// without the person choosing it again; a required choice stays, visibly, and a table's tags are not in the form.
function clearOptionalChoices() {
  for (const framework of session.frameworks) if (!framework.required) clearChoice(framework.key);
}

function watchTagChoices() {
  const optional = new Set(session.frameworks.filter((framework) => !framework.required).map((fw) => `tag-${fw.key}`));
  for (const input of form.querySelectorAll(".tag-choice input")) {
    if (!optional.has(input.name)) continue;
    // A click on a radio finds it already checked: what it was before the press says whether to undo it.
    const remember = () => { input.dataset.wasChecked = String(input.checked); };
    input.closest("label").addEventListener("pointerdown", remember);
    input.addEventListener("keydown", (event) => {
      if (event.key !== " " || !input.checked) return;
      event.preventDefault();  // Space on the chosen radio does nothing by default: here it unsets it
      input.checked = false;
      showClearButtons();
    });
    input.addEventListener("click", () => {
      if (input.dataset.wasChecked === "true") input.checked = false;
      delete input.dataset.wasChecked;
      showClearButtons();
    });
    input.addEventListener("change", showClearButtons);
  }
  for (const button of form.querySelectorAll(".tag-clear")) {
    button.addEventListener("click", () => {
      clearChoice(button.dataset.framework);
      // The button hides itself: keep the keyboard in the group it cleared.
      form.querySelector(`input[name="tag-${button.dataset.framework}"]`).focus();
    });
  }
  showClearButtons();
}

// Queue an idea in the outbox (stored once, retried until the server answers); it goes to the table the person is
// at when they write it, through that table's code. `options.signed`: a question signed with the person's name
// (a Q&A's posts are anonymous otherwise), kept with the entry so a resend signs it too.
function queue(text, tags, options = {}) {
  const entry = { client_id: newId(), text, tags, code: seat ? seat.code : code, state: "pending", opening,
    ...(options.signed ? { signed: true } : {}) };
  outbox.push(entry);
  saveOutbox();
  render();
  flush();
  return entry.client_id;
}

function submit(event) {
  event.preventDefault();
  const text = textarea.value.trim();
  const tags = chosenTags();
  const missing = session.frameworks.find((framework) => framework.required && !tags[framework.key]);
  formError.textContent = "";
  if (!text) { formError.textContent = t("Write something before sending."); textarea.focus(); return; }
  if (missing) { formError.textContent = t("Choose one: %(label)s.", { label: missing.label }); return; }
  textarea.value = "";
  clearOptionalChoices();
  updateCounter();
  // The format may add options to what the form sends (a Q&A's « sign with my name »).
  queue(text, tags, view.options ? view.options() : {});
  textarea.focus();
}

function updateCounter() {
  const left = 500 - textarea.value.length;
  counter.textContent = t("%(count)s characters left", { count: left });
  counter.classList.toggle("counter--low", left < 50);
}

// When a whole room comes back at once (the venue's access point rebooted), joins wait their turn on the server
// for longer than a post's ack would: a phone that gave up and connected again would only add to that queue.
const JOIN_TIMEOUT = 30000;

function join() {
  return socket.snapshot("join", { code: joinCode, token, ...identity() }, joinedAs, JOIN_TIMEOUT);
}

function joinedAs(ack) {
  if (!ack.ok) {
    setStatus("offline");
    formError.textContent = ack.error.message;
    // A busy network (too many phones joining at once) is asked again once the wait it names is over.
    if (ack.error.retry_after) setTimeout(() => { if (socket.connected && !joined) join(); }, ack.error.retry_after * 1000);
    return;
  }
  keepToken(ack.participant.token);
  joined = true;
  if (joinCode !== code) sessionStorage.setItem(scanKey, "1");
  joinCode = code;
  participant = ack.participant;
  revisions.snapshot(ack.session.srev);
  seat = ack.seat || null;
  showTagChoices();
  delivered = new Map(ack.posts.map((post) => [post.client_id, post]));
  outbox = outbox.filter((entry) => !delivered.has(entry.client_id));
  saveOutbox();
  setOpen(ack.session.is_open, ack.session.opening);
  showPhase(ack.session.phase);
  countdown.set(ack.session.timer);
  setStatus("online");
  render();
  flush();
  vote.joined(ack);
  if (view.joined) view.joined(ack);
  if (view.state && ack.session.state !== undefined) view.state(ack.session.state);
  if (view.seat) view.seat(seat);
}

const socket = new Socket();
const revisions = new Revisions();
const vote = new PhoneVote(socket, code, document.getElementById("vote"));
vote.onChange = showClosed;
socket.on("connect", () => join().catch(() => { setStatus("offline"); socket.reconnect(); }));
socket.on("disconnect", () => { joined = false; offlineSince = Date.now(); setStatus("offline"); });
socket.on("reconnecting", () => setStatus("offline"));
// Pings stopped coming (Wi-Fi gone, server unreachable): say so now rather than when the socket gives up.
socket.on("stalled", () => setStatus("offline"));
socket.on("alive", () => { if (joined) setStatus("online"); });
socket.on("session_state", (state) => {
  if (state.code === code && revisions.fresh("open", state)) setOpen(state.is_open, state.opening);
});
socket.on("timer", (timer) => { if (timer.code === code && revisions.fresh("timer", timer)) countdown.set(timer); });
socket.on("phase", (state) => {
  if (state.code !== code) return;
  if (revisions.fresh("timer", state)) countdown.set(state.timer);
  if (revisions.fresh("phase", state)) showPhase(state.phase);
  if (revisions.fresh("open", state)) setOpen(state.is_open, state.opening);
  // A new round may seat this person at the plan's table: ask the server, which applies the rule.
  refreshSeat().catch(() => {});
});
socket.on("post", (post) => { if (post.code === code) vote.added(post); });
socket.on("format_state", (state) => {
  if (state.code === code && view.state && revisions.fresh("state", state)) view.state(state.state);
});
// The organisers gave this person's own QR code back: this phone is no longer them and starts again as a new phone.
socket.on("identity_reset", () => {
  for (const name of ["token", "name", "organisation"]) localStorage.removeItem(storeKey(name));
  document.cookie = "rouages_participant=; path=/; max-age=0; SameSite=Lax";
  location.reload();
});
socket.on("vote_state", (state) => { if (state.code === code && revisions.fresh("vote", state)) vote.setState(state); });
socket.on("post_hidden", (info) => {
  if (info.code !== code) return;
  for (const post of delivered.values()) if (post.id === info.id) post.hidden = true;
  vote.hidden(info);
  render();
});
socket.on("post_merged", (change) => regroupMine(change, true));
socket.on("post_unmerged", (change) => regroupMine(change, false));
socket.on("post_restored", (restored) => {
  if (restored.code !== code) return;
  // An approved question was held: it is now visible like any other.
  for (const post of delivered.values()) if (post.id === restored.id) { post.hidden = false; post.held = false; }
  vote.added(restored);
  render();
});

nameInput.value = localStorage.getItem(storeKey("name")) || nameInput.value;
orgInput.value = localStorage.getItem(storeKey("organisation")) || orgInput.value;
for (const input of [nameInput, orgInput]) {
  input.addEventListener("change", () => {
    localStorage.setItem(storeKey(input === nameInput ? "name" : "organisation"), input.value.trim());
    if (input === nameInput && participant) participant.name = input.value.trim() || null;
    if (view.identity) view.identity();
    if (socket.connected) join().catch(() => socket.reconnect());
  });
}
form.addEventListener("submit", submit);
// Ctrl+Enter (Cmd+Enter on a Mac) sends from the text box, as in most messaging apps; plain Enter is a new line.
textarea.addEventListener("keydown", (event) => {
  if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
  event.preventDefault();
  const send = form.querySelector("button[type=submit]");
  if (!send.disabled) form.requestSubmit(send);
});
watchTagChoices();
textarea.addEventListener("input", updateCounter);
// The format's module shapes the rest of the phone: it may preset tags, replace the form, act on its own events.
const root = document.getElementById("format-view");
if (root.dataset.script) {
  const module = await import(root.dataset.script);
  view = module.mount({
    session, root, t, el, formatNumber, socket, countdown,
    form: {
      element: form,
      setTags: (tags) => { presetTags = { ...(tags || {}) }; showTagChoices(); },
      chosenTags,
    },
    post: queue,
    call: async (event, data = {}) => {
      if (!(socket.connected && joined)) return { ok: false, error: { code: "offline", message: t("Not connected: try again in a moment.") } };
      return socket.emit(event, { code, ...data });
    },
    participant: () => participant && { id: participant.id, name: participant.name, organisation: participant.organisation },
    seat: () => seat,
    moveTo: (table) => refreshSeat(table),
  }) || {};
}
setOpen(session.is_open, session.opening);
showPhase(session.phase);
if (view.state && session.state !== undefined) view.state(session.state);
countdown.set(session.timer);
updateCounter();
render();
setStatus("offline");
socket.open();
setInterval(flush, 3000);
