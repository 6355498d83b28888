// A table host's phone: the table's ideas from every round, live, and the harvest saved as it is written.
import { Socket } from "./socket.js";
import { Countdown, el, readJSON, t } from "./page.js";

const host = readJSON("rouages-host");
const list = document.getElementById("table-posts");
const count = document.getElementById("table-count");
const status = document.getElementById("connection");
const phaseLabel = document.getElementById("phase");
const countdown = new Countdown(document.getElementById("countdown"));
const posts = new Map();

const atTable = (post) => Object.entries(host.tags).every(([key, value]) => post.tags[key] === value);

function render() {
  const shown = [...posts.values()].filter((post) => !post.hidden).sort((a, b) => b.seq - a.seq);
  count.textContent = String(shown.length);
  list.replaceChildren(...shown.map((post) => el("li", { class: "mine" }, [
    el("p", { class: "mine__text", text: post.text }),
    post.author ? el("p", { class: "mine__meta", text: post.author }) : null,
  ])));
}

async function save(textarea) {
  const state = document.querySelector(`[data-state-for="${textarea.dataset.category}"]`);
  try {
    const ack = await socket.emit("harvest_save", { token: host.token, category: textarea.dataset.category,
      text: textarea.value });
    state.textContent = ack.ok ? t("Saved") : ack.error.message;
  } catch {
    state.textContent = t("Not connected: try again in a moment.");
  }
}

const socket = new Socket();
socket.on("connect", async () => {
  const ack = await socket.emit("host_join", { token: host.token });
  if (!ack.ok) { status.textContent = ack.error.message; return; }
  status.textContent = t("Connected");
  posts.clear();
  for (const post of ack.posts) posts.set(post.id, post);
  phaseLabel.textContent = ack.session.phase ? ack.session.phase.label : "";
  countdown.set(ack.session.timer);
  render();
});
socket.on("disconnect", () => { status.textContent = t("Reconnecting…"); });
socket.on("post", (post) => { if (post.code === host.code && atTable(post)) { posts.set(post.id, post); render(); } });
socket.on("post_restored", (post) => { if (posts.has(post.id)) { posts.set(post.id, post); render(); } });
socket.on("post_hidden", (info) => { if (posts.has(info.id)) { posts.get(info.id).hidden = true; render(); } });
socket.on("timer", (timer) => { if (timer.code === host.code) countdown.set(timer); });
socket.on("phase", (state) => {
  if (state.code !== host.code) return;
  phaseLabel.textContent = state.phase.label;
  countdown.set(state.timer);
});
for (const textarea of document.querySelectorAll("[data-category]")) {
  textarea.addEventListener("change", () => save(textarea));
}
socket.open();
